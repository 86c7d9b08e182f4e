/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-render-params.h"

G_BEGIN_DECLS

/* A complete, self-contained description of one image: what the exported
 * PNG carries (spec/formats.md §5) and what reopening it restores. */

typedef struct {
  char  *path;       /* absolute path of the domain or pack file */
  char  *id;         /* pack id or NULL */
  char  *name;
  float  weight;
  int    min_res;    /* per-layer range, 0..0 = every layer */
  int    max_res;
} HdStateDomain;

typedef struct {
  char          *generator_path;  /* absolute */
  char          *generator_name;
  HdLatentKind   latent_kind;
  guint32        seed;
  float         *latent;          /* z (z_dim) or w (num_ws x w_dim); NULL for a seed */
  guint          latent_rows;     /* 1 for z; num_ws for w */
  guint          latent_cols;
  float          psi;
  int            cutoff;          /* < 0: none */
  HdNoiseMode    noise_mode;
  guint32        noise_seed;
  GArray        *domains;         /* HdStateDomain */
} HdState;

HdState  *hd_state_new           (void);
void      hd_state_free          (HdState     *state);
void      hd_state_add_domain    (HdState     *state,
                                  HdDomain    *domain,
                                  float        weight,
                                  int          min_res,
                                  int          max_res);
/* JSON text (one object, keys stable) for the PNG iTXt chunk. */
char     *hd_state_to_json       (const HdState *state);
HdState  *hd_state_from_json     (const char    *json,
                                  GError       **error);

/* State files (session, presets): the same JSON, written atomically. */
#define HD_STATE_FILE_MAX_SIZE (64u * 1024u * 1024u)
gboolean  hd_state_save_file     (const HdState *state,
                                  const char    *path,
                                  GError       **error);
HdState  *hd_state_load_file     (const char    *path,
                                  GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdState, hd_state_free)

G_END_DECLS
