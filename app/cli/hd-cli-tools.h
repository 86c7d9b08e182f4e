/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-state.h"
#include "hd-upscale.h"

G_BEGIN_DECLS

/* What hyperdomain-render does once its command line is read: parsing
 * seeds and output patterns, rendering a state to files, and the modes
 * that start from saved states (--from-png, --contact-sheet, --animate).
 * hyperdomain-render.c (options, main) sits on top and builds a state;
 * everything here renders through hd_state_prepare (), as the
 * application does. */

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

#define HD_CLI_MAX_OUTPUTS 1000000

/* TEXT as a number from 0 to 2^32 - 1. */
gboolean  hd_cli_parse_uint32       (const char    *text,
                                     guint32       *out);
/* "S", "A-B" (inclusive) or, when ALLOW_LIST (--seeds), "1,5,9"; OPTION
 * names the option in errors. */
GArray   *hd_cli_parse_seeds        (const char    *text,
                                     gboolean       allow_list,
                                     const char    *option,
                                     GError       **error);
/* Whether PATTERN is a valid output pattern; *HAS_CONVERSION tells
 * whether it holds its one %d. */
gboolean  hd_cli_output_pattern_check  (const char *pattern,
                                        gboolean   *has_conversion,
                                        GError    **error);
char     *hd_cli_output_pattern_expand (const char *pattern,
                                        guint32     number);
/* Whether S ends in SUFFIX, ignoring ASCII case. */
gboolean  hd_cli_has_suffix         (const char    *s,
                                     const char    *suffix);

/* Renders STATE (of GEN, DOMAINS the loaded domains of its own) once, or
 * once per seed of ARGS->seeds (each replacing its latent), and writes
 * every image with its state to ARGS->output.  Returns the exit status. */
int       hd_cli_render_state       (const HdCliTools *args,
                                     HdState          *state,
                                     HdGenerator      *gen,
                                     GPtrArray        *domains,
                                     GError          **error);
/* --from-png: the state of ARGS->from_png, rendered or as a sheet. */
int       hd_cli_run_from_state     (const HdCliTools *args,
                                     GError          **error);
/* --animate: frames through the keyframes to the -o pattern. */
int       hd_cli_run_animation      (const HdCliTools *args,
                                     GError          **error);
/* --contact-sheet of STATE (its generator GEN and domains DOMAINS). */
int       hd_cli_run_sheet          (const HdCliTools *args,
                                     HdState          *state,
                                     HdGenerator      *gen,
                                     GPtrArray        *domains,
                                     GError          **error);

G_END_DECLS
