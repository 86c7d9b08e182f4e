/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "hd-export-progress.h"
#include "hd-renderer.h"
#include "hd-session.h"

G_BEGIN_DECLS

/* What the export dialogs (contact sheet, blend animation, seed range)
 * share.  Each subclass has a template of its own in which the shared
 * widgets have the same ids: page (the settings), folder_row,
 * progress_revealer, progress_bar (over a Cancel button) and status_label
 * (under the page).  The base holds the session (weakly) and the
 * settings, the output folder (the export-folder setting at first,
 * PREFIX.choose-folder changes it), and one export at a time: PREFIX.export
 * calls the class's start, which starts it with hd_export_dialog_run on a
 * thread of its own with its own renderer; its progress shows on the bar;
 * PREFIX.cancel cancels it, and so does closing the window, unless the
 * window only hides (hide-on-close: the export runs on and shows again with
 * the window); when it is over the class's finish says how it went. */

#define HD_TYPE_EXPORT_DIALOG (hd_export_dialog_get_type ())

G_DECLARE_DERIVABLE_TYPE (HdExportDialog, hd_export_dialog, HD, EXPORT_DIALOG, AdwWindow)

struct _HdExportDialogClass
{
  AdwWindowClass parent_class;

  /* PREFIX.export, when no export runs and one can start: reads the
   * settings and starts one with hd_export_dialog_run, or says why not. */
  void     (*start)     (HdExportDialog *self);
  /* Whether an export can start now (PREFIX.export is enabled); NULL:
   * always.  Call hd_export_dialog_update_actions when it changes. */
  gboolean (*can_start) (HdExportDialog *self);
  /* On the main thread, when the export started with DATA is over: ERROR
   * is NULL when it finished, else why not (G_IO_ERROR_CANCELLED when it
   * was cancelled).  The dialog no longer shows it running. */
  void     (*finish)    (HdExportDialog *self,
                         gpointer        data,
                         const GError   *error);

  /*< private >*/
  GType       template_type;
  const char *folder_title;
  char       *export_action;
  char       *cancel_action;
};

/* For the class_init of a subclass: its template (RESOURCE), with the
 * shared widgets bound to the base; the actions PREFIX.export,
 * PREFIX.cancel and PREFIX.choose-folder, the folder chooser titled
 * FOLDER_TITLE (a string marked with N_, translated when shown). */
void        hd_export_dialog_class_set_template (HdExportDialogClass *klass,
                                                 const char          *resource,
                                                 const char          *prefix,
                                                 const char          *folder_title);

/* The export on its thread: renders with RENDERER (of GEN, on the device
 * chosen in the settings), posts its progress with
 * hd_export_progress_post (…, PROGRESS) and stops with
 * G_IO_ERROR_CANCELLED when CANCELLABLE is cancelled.  DATA is what
 * hd_export_dialog_run was given. */
typedef gboolean (*HdExportFunc) (HdRenderer       *renderer,
                                  HdGenerator      *gen,
                                  gpointer          data,
                                  HdExportProgress *progress,
                                  GCancellable     *cancellable,
                                  GError          **error);

/* Starts FUNC on a thread of its own with a renderer of GEN; DATA (engine
 * objects only) is freed with DATA_FREE, on any thread, after the class's
 * finish.  LABEL is the text on the progress bar, NULL for "3 of 10
 * images". */
void        hd_export_dialog_run             (HdExportDialog        *self,
                                              HdGenerator           *gen,
                                              HdExportFunc           func,
                                              gpointer               data,
                                              GDestroyNotify         data_free,
                                              HdExportProgressLabel  label);
gboolean    hd_export_dialog_is_running      (HdExportDialog *self);
/* Updates what depends on whether an export runs or can start: the
 * page's sensitivity, the actions, the progress bar's revealer. */
void        hd_export_dialog_update_actions  (HdExportDialog *self);

/* The session (a new reference), or NULL when it is gone. */
HdSession  *hd_export_dialog_dup_session     (HdExportDialog *self);
GSettings  *hd_export_dialog_get_settings    (HdExportDialog *self);

void        hd_export_dialog_set_folder      (HdExportDialog *self,
                                              const char     *folder);
const char *hd_export_dialog_get_folder      (HdExportDialog *self);
/* FOLDER/STEM-N with the first N (1, 2, …) for which neither it nor, when
 * SUFFIX is not NULL, it with SUFFIX names anything yet: an export never
 * replaces a file (a new string). */
char       *hd_export_dialog_new_path        (HdExportDialog *self,
                                              const char     *stem,
                                              const char     *suffix);
/* Makes DIR and its parents; when that fails, says so and returns FALSE. */
gboolean    hd_export_dialog_make_folder     (HdExportDialog *self,
                                              const char     *dir);
/* Makes the folder FOLDER/STEM-N (hd_export_dialog_new_path) and returns
 * its path (a new string); NULL, having said why, when it cannot. */
char       *hd_export_dialog_make_new_folder (HdExportDialog *self,
                                              const char     *stem);

/* Shows TEXT in the status line, styled as an error or not; NULL hides
 * the line. */
void        hd_export_dialog_show_status     (HdExportDialog *self,
                                              const char     *text,
                                              gboolean        is_error);
/* Says why an export did not finish: that it was cancelled and saved
 * nothing, or else FORMAT (with ERROR's message among its arguments), as
 * an error. */
void        hd_export_dialog_show_failure    (HdExportDialog *self,
                                              const GError   *error,
                                              const char     *format,
                                              ...) G_GNUC_PRINTF (3, 4);

/* For tests: the template's widget NAME. */
GtkWidget  *hd_export_dialog_get_part        (HdExportDialog *self,
                                              const char     *name);

G_END_DECLS
