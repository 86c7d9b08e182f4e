/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "hd-session.h"

G_BEGIN_DECLS

/* Undo and redo of a session's parameters.  Every change is one step,
 * except that the changes made while the session is interactive (a slider
 * or the blend pad held) and the changes of one main-loop iteration make a
 * single step.  Opening another generator starts a new history. */

#define HD_TYPE_HISTORY (hd_history_get_type ())

G_DECLARE_FINAL_TYPE (HdHistory, hd_history, HD, HISTORY, GObject)

HdHistory *hd_history_new       (HdSession *session);
gboolean   hd_history_can_undo  (HdHistory *self);
gboolean   hd_history_can_redo  (HdHistory *self);
gboolean   hd_history_undo      (HdHistory *self);
gboolean   hd_history_redo      (HdHistory *self);
/* Records a change still waiting for the end of the main-loop iteration. */
void       hd_history_flush     (HdHistory *self);
guint      hd_history_get_n_undo (HdHistory *self);

G_END_DECLS
