/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "hd-export-dialog.h"

G_BEGIN_DECLS

/* Exports a contact sheet of the session: a row per seed, a column per
 * blend setting (the original and each domain at weight 1, or a weight
 * sweep of one domain), as one labelled PNG and, optionally, each cell as
 * its own PNG with its state.  Renders on a thread of its own with its own
 * renderer; shows progress and can be cancelled. */

#define HD_TYPE_SHEET_DIALOG (hd_sheet_dialog_get_type ())

G_DECLARE_FINAL_TYPE (HdSheetDialog, hd_sheet_dialog, HD, SHEET_DIALOG, HdExportDialog)

GtkWidget  *hd_sheet_dialog_new             (GtkWindow     *parent,
                                             HdSession     *session);
/* The sheet of the last export, or NULL. */
const char *hd_sheet_dialog_get_sheet_path  (HdSheetDialog *self);
const char *hd_sheet_dialog_get_cells_dir   (HdSheetDialog *self);

G_END_DECLS
