/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-render-params.h"

G_BEGIN_DECLS

/* The one description of an image: everything that decides its pixels
 * for a generator.  The session builds it, a render job holds it, the
 * exported PNG carries it as JSON (spec/formats.md §5), session and
 * preset files are that JSON, and hd_state_prepare () (hd-state-render.h)
 * is its one conversion to what the renderer needs.  Numbers a person
 * sets (psi, weights, mix) are kept as set, in double; the conversion
 * rounds them to float as the renderer computes. */

/* A domain of the blend: a file (PATH, ID) or a text prompt (PROMPT,
 * encoded by the state's hypernetwork; PATH and ID are NULL). */
typedef struct {
  char  *path;       /* absolute path of the domain or pack file */
  char  *id;         /* pack id or NULL */
  char  *name;       /* for a prompt, the prompt */
  double weight;
  int    min_res;    /* per-layer range, 0..0 = every layer */
  int    max_res;
  char  *prompt;     /* a text domain's prompt, or NULL */
} HdStateDomain;

typedef struct {
  char          *generator_path;  /* absolute */
  char          *generator_name;
  HdLatentKind   latent_kind;
  guint32        seed;
  float         *latent;          /* z (z_dim) or w (num_ws x w_dim); NULL for a seed */
  guint          latent_rows;     /* 1 for z; num_ws for w */
  guint          latent_cols;
  /* The w of the latent lerped toward the w of MIX_SEED by MIX (0: no
   * mix), before truncation.  Files do not carry it: they carry a mixed
   * latent as the W latent it gives (hd_state_flatten), which every
   * reader renders the same, so a state read from a file has MIX 0. */
  guint32        mix_seed;
  double         mix;
  double         psi;
  int            cutoff;          /* < 0: none */
  HdNoiseMode    noise_mode;
  guint32        noise_seed;
  GArray        *domains;         /* HdStateDomain */
  /* The hypernetwork of the text domains (spec/text-domains.md §7), or
   * NULL when there are none. */
  char          *hypernetwork_path;  /* absolute, as opened */
  char          *hypernetwork_name;
} HdState;

HdState  *hd_state_new           (void);
HdState  *hd_state_copy          (const HdState *state);
void      hd_state_free          (HdState     *state);
/* TRUE when A and B hold the same values, field by field (the latent's
 * numbers, the domains' paths, ids, names, weights and ranges). */
gboolean  hd_state_equal         (const HdState *a,
                                  const HdState *b);
/* Adds DOMAIN: a file, or a text domain (its prompt, and its
 * hypernetwork, which all text domains of a state share). */
void      hd_state_add_domain    (HdState     *state,
                                  HdDomain    *domain,
                                  double       weight,
                                  int          min_res,
                                  int          max_res);
/* Replaces the latent of STATE by SEED (no z or w numbers, no mix). */
void      hd_state_use_seed      (HdState     *state,
                                  guint32      seed);
/* Replaces the latent of STATE by a copy of ROWS x COLS floats of KIND
 * (HD_LATENT_Z: one row; HD_LATENT_W: num_ws rows). */
void      hd_state_set_latent    (HdState      *state,
                                  HdLatentKind  kind,
                                  const float  *latent,
                                  guint         rows,
                                  guint         cols);

/* JSON text (one object, keys stable) for the PNG iTXt chunk and state
 * files.  STATE must not be mixed: hd_state_flatten () it first. */
char     *hd_state_to_json       (const HdState *state);
HdState  *hd_state_from_json     (const char    *json,
                                  GError       **error);
/* hd_state_from_json () of the text of the file PATH: a state file, or
 * the metadata of a PNG when IS_PNG; an error names the file. */
HdState  *hd_state_from_json_of  (const char    *json,
                                  const char    *path,
                                  gboolean       is_png,
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
