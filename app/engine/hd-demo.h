/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The bundled demo model: a generator and, when there is one, its domain
 * pack.  Looked for, in order:
 *   1. $HYPERDOMAIN_DEMO_MODEL, a generator file (empty: no demo model); its
 *      pack is "domains.safetensors" beside it or "NAME-domains.safetensors"
 *      for "NAME.safetensors";
 *   2. for a program run from its build folder, the source tree's
 *      data/models/emoji64.safetensors and emoji64-domains.safetensors;
 *   3. the installed PKGDATADIR/demo/generator.safetensors and
 *      domains.safetensors.
 * Returns FALSE when none is there.  *DOMAINS is NULL when the generator
 * has no pack. */
gboolean hd_demo_model_find (char **generator,
                             char **domains);

/* The demo's own CLIP (a clip file trained with the demo model, for
 * training domains on it): beside the demo generator found as above,
 * "NAME-clip.safetensors" for "NAME.safetensors", else "clip.safetensors".
 * NULL when there is none. */
char    *hd_demo_clip_find  (void);

/* The demo's hypernetwork (a text encoder and mapper trained for the demo
 * model, so that prompts can be typed at once): beside the demo generator,
 * "NAME-text.safetensors" for "NAME.safetensors", else "text.safetensors".
 * NULL when there is none. */
char    *hd_demo_text_find  (void);

/* The demo's first image, chosen by measurement (tools/train/classify.py
 * start): a seed, the id of the pack's domain shown, its weight and ψ;
 * "NAME-start.json" beside the demo generator, else "start.json". */
typedef struct {
  guint32  seed;
  double   psi;
  char    *domain;   /* the pack's id of the domain at WEIGHT (the others at 0) */
  double   weight;
} HdDemoStart;

/* FALSE when there is none, or (with a warning) when it does not parse. */
gboolean hd_demo_start_find  (HdDemoStart  *start);
gboolean hd_demo_start_parse (const char   *path,
                              HdDemoStart  *start,
                              GError      **error);
void     hd_demo_start_clear (HdDemoStart  *start);

G_END_DECLS
