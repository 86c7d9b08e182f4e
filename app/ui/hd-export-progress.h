/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What the export dialogs (contact sheet, animation) share: the progress of
 * an export that runs in a thread, shown on a progress bar of the main
 * thread; the status line under it; and the removal of what an export that
 * did not finish had written. */

typedef struct _HdExportProgress HdExportProgress;

/* The text on the bar for DONE of TOTAL (a new string). */
typedef char *(*HdExportProgressLabel) (guint done,
                                        guint total);

/* On the main thread. */
HdExportProgress *hd_export_progress_new   (GtkProgressBar        *bar,
                                            HdExportProgressLabel  label);
HdExportProgress *hd_export_progress_ref   (HdExportProgress *progress);
void              hd_export_progress_unref (HdExportProgress *progress);
/* From any thread (the engine's progress callbacks): shows DONE of TOTAL
 * on the bar, from the main context, unless stopped by then. */
void              hd_export_progress_post  (guint             done,
                                            guint             total,
                                            gpointer          progress);
/* On the main thread, when the export ended: later posts are dropped. */
void              hd_export_progress_stop  (HdExportProgress *progress);

/* Shows TEXT in LABEL, styled as an error or not. */
void              hd_export_show_status    (GtkLabel         *label,
                                            const char       *text,
                                            gboolean          is_error);

/* Removes the PNG files whose names start with PREFIX from DIR, then DIR
 * itself if that left it empty: for a folder made for an export that did
 * not finish. */
void              hd_export_remove_partial (const char       *dir,
                                            const char       *prefix);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdExportProgress, hd_export_progress_unref)

G_END_DECLS
