/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-session.h"

G_BEGIN_DECLS

/* The blend pad: the session's domains on the corners of a polygon, the
 * original generator in the centre; the puck sets every domain weight at
 * once (inverse-distance weights, app/engine/hd-blend-weights.h).  Drag it
 * (one undo step; a press alone changes nothing), click a point, or use
 * the arrow keys (Shift: finer), Home for the centre and 1–9 for a
 * corner. */

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
/* The centre of the puck, in the widget's coordinates. */
void       hd_blend_pad_get_puck_point (HdBlendPad *self,
                                        double     *px,
                                        double     *py);
/* Whether the puck stands for the session's weights (property
 * "in-sync"): after any change of them it moves to where they are, and is
 * out of sync only when no point of the pad gives them. */
gboolean   hd_blend_pad_is_in_sync   (HdBlendPad *self);

G_END_DECLS
