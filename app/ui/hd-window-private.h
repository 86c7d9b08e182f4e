/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "hd-blend-pad.h"
#include "hd-history.h"
#include "hd-image-view.h"
#include "hd-latent-panel.h"
#include "hd-render-worker.h"
#include "hd-session.h"
#include "hd-text-encoder.h"
#include "hd-window.h"

G_BEGIN_DECLS

/* For tests: the parts of a window. */

HdSession      *hd_window_get_session       (HdWindow *self);
HdRenderWorker *hd_window_get_worker        (HdWindow *self);
HdHistory      *hd_window_get_history       (HdWindow *self);
HdBlendPad     *hd_window_get_blend_pad     (HdWindow *self);
/* The animation dialog, once win.animation has made it, or NULL. */
GtkWidget      *hd_window_get_animation_dialog (HdWindow *self);
/* The HdDomainRow at POSITION, or NULL. */
GtkWidget      *hd_window_get_domain_row    (HdWindow *self,
                                             guint     position);
HdImageView    *hd_window_get_image_view    (HdWindow *self);
/* The "New Domain from Text" dialog, once win.train-domain has made it,
 * or NULL. */
GtkWidget      *hd_window_get_train_dialog  (HdWindow *self);
/* The "Describe a Domain" entry row and the message under it. */
GtkWidget      *hd_window_get_text_entry    (HdWindow *self);
GtkLabel       *hd_window_get_text_message  (HdWindow *self);
/* The text encoder prompts are typed with (an opened hypernetwork's), or
 * NULL. */
HdTextEncoder  *hd_window_get_text_encoder  (HdWindow *self);
/* TRUE while the original generator is shown (the compare key or button
 * is held). */
gboolean        hd_window_get_comparing     (HdWindow *self);
GtkWidget      *hd_window_get_compare_button (HdWindow *self);
/* TRUE when the window is narrow and the controls are below the image. */
gboolean        hd_window_is_narrow         (HdWindow *self);
HdLatentPanel  *hd_window_get_latent_panel  (HdWindow *self);
/* The weight slider of the domain at POSITION, or NULL. */
GtkRange       *hd_window_get_domain_scale  (HdWindow *self,
                                             guint     position);
/* The frame on screen, and the last full-resolution one. */
HdRenderFrame  *hd_window_get_frame         (HdWindow *self);
HdRenderFrame  *hd_window_get_full_frame    (HdWindow *self);
/* TRUE while files are being opened. */
gboolean        hd_window_is_loading       (HdWindow *self);
/* Exports the current image to PATH without asking (tests). */
void            hd_window_export_to_path    (HdWindow   *self,
                                             const char *path);

/* Writes the current state to PATH (a preset or the session file). */
gboolean        hd_window_save_state_file   (HdWindow    *self,
                                             const char  *path,
                                             GError     **error);
/* Saves a session change still waiting for its timer. */
void            hd_window_flush_session     (HdWindow    *self);

G_END_DECLS
