/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-state.h"
#include "hd-upscale.h"

G_BEGIN_DECLS

/* The modes of hyperdomain-render that start from saved states:
 * --from-png (re-render an exported image), --contact-sheet, --animate. */

typedef struct {
  const char *from_png;        /* an exported PNG or a state .json */
  GArray     *seeds;           /* guint32, from --seed/--seeds, or NULL */
  const char *output;          /* -o: a file or a pattern with %d */
  gboolean    has_conversion;  /* OUTPUT holds %d */
  const char *device;
  gboolean    other_options;   /* a --model/--z/--w/--psi/... was given too */
  gboolean    contact_sheet;
  const char *sheet_sweep;     /* I:FROM:TO:STEPS or NULL */
  const char *sheet_cells;     /* folder for the cells, or NULL */
  const char * const *animate; /* keyframe files, or NULL */
  int         frames;          /* per segment */
  gboolean    ease;
  gboolean    loop;
  int         scale;           /* --scale: PNGs enlarged this many times */
  HdUpscaleFilter filter;      /* --filter */
} HdCliTools;

int       hd_cli_run_from_state  (const HdCliTools *args,
                                  GError          **error);
/* --animate: frames through the keyframes to the -o pattern. */
int       hd_cli_run_animation   (const HdCliTools *args,
                                  GError          **error);
/* --contact-sheet of STATE (its generator GEN and domains DOMAINS). */
int       hd_cli_run_sheet       (const HdCliTools *args,
                                  HdState          *state,
                                  HdGenerator      *gen,
                                  GPtrArray        *domains,
                                  GError          **error);

/* From hyperdomain-render.c. */
GArray   *parse_seed_list        (const char    *text,
                                  gboolean       allow_list,
                                  const char    *option,
                                  GError       **error);
gboolean  output_pattern_check   (const char    *pattern,
                                  gboolean      *has_conversion,
                                  GError       **error);
char     *output_pattern_expand  (const char    *pattern,
                                  guint32        seed);
gboolean  write_output           (const char    *path,
                                  HdGenerator   *gen,
                                  const float   *img,
                                  int            res,
                                  const HdState *state,
                                  int            scale,
                                  HdUpscaleFilter filter,
                                  GError       **error);

/* Renders PARAMS once, or once per seed of SEEDS (each replacing the
 * latent), on DEVICE, and writes every image with STATE (kept in step) to
 * OUTPUT, a pattern when HAS_CONVERSION, PNGs enlarged SCALE times by
 * FILTER.  Returns the exit status. */
int       render_outputs         (const char     *device,
                                  HdGenerator    *gen,
                                  HdRenderParams *params,
                                  HdState        *state,
                                  GArray         *seeds,
                                  const char     *output,
                                  gboolean        has_conversion,
                                  int             scale,
                                  HdUpscaleFilter filter,
                                  GError        **error);

G_END_DECLS
