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

G_END_DECLS
