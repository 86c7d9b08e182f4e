/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "hd-export-dialog.h"

G_BEGIN_DECLS

/* Blend animations: keyframes taken from the session's state, exported as
 * numbered PNG frames (app/engine/hd-animation.h) on a thread of its own,
 * with progress and cancel.  The dialog keeps its keyframes while its
 * window lives (closing only hides it). */

#define HD_TYPE_ANIMATION_DIALOG (hd_animation_dialog_get_type ())

G_DECLARE_FINAL_TYPE (HdAnimationDialog, hd_animation_dialog, HD, ANIMATION_DIALOG, HdExportDialog)

GtkWidget     *hd_animation_dialog_new          (GtkWindow         *parent,
                                                 HdSession         *session);
guint          hd_animation_dialog_get_n_keys   (HdAnimationDialog *self);
/* The state of keyframe I. */
const HdState *hd_animation_dialog_get_key      (HdAnimationDialog *self,
                                                 guint              i);
/* The folder of the frames of the last export, or NULL. */
const char    *hd_animation_dialog_get_frames_dir (HdAnimationDialog *self);

G_END_DECLS
