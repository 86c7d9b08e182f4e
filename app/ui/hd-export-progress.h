/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-upscale.h"

G_BEGIN_DECLS

/* What the export dialogs (HdExportDialog) build on: the progress of an
 * export that runs in a thread, shown on a progress bar of the main
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

/* Shows TEXT in LABEL (under PAGE, the dialog's scrolled settings),
 * styled as an error or not, and scrolls PAGE to its end, so that the
 * output rows it ends with stay in view above the line. */
void              hd_export_show_status    (GtkLabel         *label,
                                            GtkWidget        *page,
                                            const char       *text,
                                            gboolean          is_error);

/* Scrolls PAGE (or the scrolled window in it) to its end over the next
 * frames, once the line or progress bar shown under it has shrunk it. */
void              hd_export_scroll_to_end  (GtkWidget        *page);

/* The folder exports go to: the export-folder setting, else Hyperdomain
 * in Pictures (a new string). */
char             *hd_export_default_folder (GSettings        *settings);

/* Asks for a folder with a native chooser modal to PARENT, starting at
 * CURRENT; calls FUNC with the folder chosen, or with NULL when it is not
 * on this computer.  Nothing is called when the chooser is cancelled. */
typedef void (*HdExportFolderFunc) (GtkWindow  *parent,
                                    const char *folder);
void              hd_export_choose_folder  (GtkWindow         *parent,
                                            const char        *title,
                                            const char        *current,
                                            HdExportFolderFunc func);

/* Removes the PNG files whose names start with PREFIX from DIR, then DIR
 * itself if that left it empty: for a folder made for an export that did
 * not finish. */
void              hd_export_remove_partial (const char       *dir,
                                            const char       *prefix);

/* The export scales offered (1x, 2x, 4x, 8x: the export-scale setting),
 * and their labels for a generator of RES pixels ("2× (128 × 128)", or
 * "2×" for RES 0).  The filters' names for people. */
#define HD_EXPORT_N_SCALES 4
int               hd_export_scale_at       (guint             index);
guint             hd_export_scale_index    (int               scale);
char             *hd_export_scale_label    (int               scale,
                                            int               res);
const char       *hd_export_filter_label   (HdUpscaleFilter   filter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdExportProgress, hd_export_progress_unref)

G_END_DECLS
