/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-session.h"

G_BEGIN_DECLS

/* The blend pad: the session's domains on the corners of a polygon, the
 * original generator in the centre; the puck sets every domain weight at
 * once (inverse-distance weights, app/engine/hd-blend-pad.h).  Drag it
 * (one undo step), or use the arrow keys (Shift: finer), Home for the
 * centre and 1–9 for a corner. */

#define HD_TYPE_BLEND_PAD (hd_blend_pad_get_type ())

G_DECLARE_FINAL_TYPE (HdBlendPad, hd_blend_pad, HD, BLEND_PAD, GtkWidget)

GtkWidget *hd_blend_pad_new          (void);
void       hd_blend_pad_set_session  (HdBlendPad *self,
                                      HdSession  *session);
/* Moves the puck to (X, Y) in the unit disc and sets the weights. */
void       hd_blend_pad_set_position (HdBlendPad *self,
                                      double      x,
                                      double      y);
void       hd_blend_pad_get_position (HdBlendPad *self,
                                      double     *x,
                                      double     *y);
/* FALSE when the weights were changed elsewhere since the puck set them. */
gboolean   hd_blend_pad_is_in_sync   (HdBlendPad *self);

G_END_DECLS
