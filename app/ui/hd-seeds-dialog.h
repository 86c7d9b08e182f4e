/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "hd-export-dialog.h"

G_BEGIN_DECLS

/* Exports the images of a range of seeds with the rest of the session's
 * state (psi, cutoff, noise, domains with weights and layer ranges), one
 * numbered PNG per seed, each with its own state, at the export scale, in
 * a new folder.  Renders on a thread of its own with its own renderer;
 * shows progress and can be cancelled, which keeps the images finished by
 * then (each is written whole or not at all). */

#define HD_TYPE_SEEDS_DIALOG (hd_seeds_dialog_get_type ())

G_DECLARE_FINAL_TYPE (HdSeedsDialog, hd_seeds_dialog, HD, SEEDS_DIALOG, HdExportDialog)

GtkWidget  *hd_seeds_dialog_new         (GtkWindow     *parent,
                                         HdSession     *session);
/* The folder of the last export, or NULL when it saved nothing. */
const char *hd_seeds_dialog_get_dir     (HdSeedsDialog *self);
/* How many images the last export wrote. */
guint       hd_seeds_dialog_get_n_saved (HdSeedsDialog *self);
/* The file name of SEED's image in the folder (a new string). */
char       *hd_seeds_dialog_file_name   (guint32        seed);

G_END_DECLS
