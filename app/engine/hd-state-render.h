/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-state.h"

G_BEGIN_DECLS

/* The one conversion from a state to what the renderer needs, used by the
 * application's render jobs, its export dialogs and the command line
 * alike, so that they cannot render one state two ways. */

/* The render parameters of a state plus the buffers they point to. */
typedef struct {
  HdRenderParams params;
  float         *domain;  /* the blended d (gen->domain_dim floats), or NULL */
  float         *ws;      /* the mixed latent (num_ws x w_dim floats), or NULL */
  float         *style_alpha;  /* the domains' style latents blended, or NULL */
  float         *style_sum;
} HdPreparedRender;

/* Fills PREPARED for rendering STATE with GEN and DOMAINS (the loaded
 * HdDomain* of STATE's domains, in order): checks the latent's shape, the
 * cutoff and the domains, blends the domains and, when the latent is
 * mixed with a second seed, computes both w on the CPU and lerps them.
 * The parameters point into STATE and PREPARED, which must outlive the
 * render; stop_res is 0 (the full image).  Clear PREPARED afterwards,
 * also after a failure. */
gboolean  hd_state_prepare           (const HdState    *state,
                                      HdGenerator      *gen,
                                      GPtrArray        *domains,
                                      HdPreparedRender *prepared,
                                      GError          **error);
void      hd_prepared_render_clear   (HdPreparedRender *prepared);

/* STATE as files carry it (spec/formats.md §5): a latent mixed toward a
 * second seed becomes the W latent it gives, which renders to the same
 * pixels in every reader.  A copy of STATE when it is not mixed. */
HdState  *hd_state_flatten           (const HdState    *state,
                                      HdGenerator      *gen,
                                      GError          **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdPreparedRender, hd_prepared_render_clear)

G_END_DECLS
