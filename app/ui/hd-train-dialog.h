/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "hd-domain.h"
#include "hd-session.h"

G_BEGIN_DECLS

/* "New Domain from Text": trains a domain from a source and a target
 * prompt (spec/domain-training.md, app/engine/hd-trainer.h) on a thread of
 * its own, with the CLIP files of the train-clips setting, the steps,
 * batch and seed of the run and the file it is saved to.  The progress bar
 * shows the step and its loss; every second or so "preview" hands the
 * domain as it stands to whoever shows it (the window, on its image).
 * Cancel stops between steps and leaves nothing behind: the file is
 * written, whole, after the last step, then added to the session's
 * domains at weight 1 (one step of the window's history).  What fails
 * (a CLIP file, a prompt too long for a template, a generator without
 * RGB) is said in the dialog.  The window keeps the dialog: closing it
 * only hides it, and the training runs on; "finished" says how a run
 * went (the window toasts it when the dialog is hidden). */

#define HD_TYPE_TRAIN_DIALOG (hd_train_dialog_get_type ())

G_DECLARE_FINAL_TYPE (HdTrainDialog, hd_train_dialog, HD, TRAIN_DIALOG, AdwWindow)

GtkWidget  *hd_train_dialog_new          (GtkWindow     *parent,
                                          HdSession     *session);
gboolean    hd_train_dialog_is_running   (HdTrainDialog *self);
/* The CLIP files (also the train-clips setting). */
void        hd_train_dialog_set_clips    (HdTrainDialog       *self,
                                          const char * const  *paths);
/* The file the domain is saved to (a new default follows the target
 * prompt until one is chosen or set).  After a run whose file could not
 * be written, setting a path saves that run's domain there and adds it. */
void        hd_train_dialog_set_path     (HdTrainDialog *self,
                                          const char    *path);
const char *hd_train_dialog_get_path     (HdTrainDialog *self);
/* The item the last run added to the session, or NULL. */
HdDomainItem *hd_train_dialog_get_result (HdTrainDialog *self);

G_END_DECLS
