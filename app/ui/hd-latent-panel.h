/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-session.h"

G_BEGIN_DECLS

/* The latent controls: seed, truncation, noise, blending toward a second
 * seed, and a latent loaded from a file. */

#define HD_TYPE_LATENT_PANEL (hd_latent_panel_get_type ())

G_DECLARE_FINAL_TYPE (HdLatentPanel, hd_latent_panel, HD, LATENT_PANEL, GtkWidget)

GtkWidget *hd_latent_panel_new         (void);
void       hd_latent_panel_set_session (HdLatentPanel *self,
                                        HdSession     *session);
HdSession *hd_latent_panel_get_session (HdLatentPanel *self);
GtkRange  *hd_latent_panel_get_psi_scale (HdLatentPanel *self);
GtkRange  *hd_latent_panel_get_mix_scale (HdLatentPanel *self);

G_END_DECLS
