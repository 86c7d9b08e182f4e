/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-SheetDialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-export-progress.h"
#include "hd-render-job.h"
#include "hd-renderer.h"
#include "hd-sheet.h"
#include "hd-sheet-dialog.h"
#include "hd-vk.h"

struct _HdSheetDialog
{
  AdwWindow        parent_instance;

  AdwPreferencesPage *page;
  GtkSpinButton   *first_seed_spin;
  GtkSpinButton   *n_seeds_spin;
  AdwComboRow     *mode_row;
  AdwComboRow     *domain_row;
  GtkWidget       *from_row;
  GtkWidget       *to_row;
  GtkWidget       *steps_row;
  GtkSpinButton   *from_spin;
  GtkSpinButton   *to_spin;
  GtkSpinButton   *steps_spin;
  AdwActionRow    *folder_row;
  GtkSwitch       *cells_switch;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkLabel        *status_label;
  GtkWidget       *export_button;

  GWeakRef         session;
  GSettings       *settings;
  char            *folder;
  char            *sheet_path;
  char            *cells_dir;
  GCancellable    *cancellable;   /* of the export running, or NULL */
  HdExportProgress *progress;     /* of the export running, or NULL */
};

G_DEFINE_FINAL_TYPE (HdSheetDialog, hd_sheet_dialog, ADW_TYPE_WINDOW)

/* What the render thread needs; engine objects only, so it may be freed
 * on any thread. */
typedef struct
{
  HdSheet      *sheet;
  HdState      *base;
  HdGenerator  *gen;
  GPtrArray    *domains;
  char         *device;
  char         *sheet_path;
  char         *cells_dir;
  HdExportProgress *progress;
} SheetTask;

static void
sheet_task_free (SheetTask *t)
{
  hd_sheet_free (t->sheet);
  hd_state_free (t->base);
  hd_generator_unref (t->gen);
  g_ptr_array_unref (t->domains);
  g_free (t->device);
  g_free (t->sheet_path);
  g_free (t->cells_dir);
  if (t->progress != NULL)
    hd_export_progress_unref (t->progress);
  g_free (t);
}

static char *
progress_label (guint done,
                guint total)
{
  return g_strdup_printf (_("%u of %u images"), done, total);
}

static void
sheet_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SheetTask *t = task_data;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  GError *error = NULL;

  if ((ctx = hd_vk_context_new (t->device, &error)) == NULL ||
      (renderer = hd_renderer_new (ctx, t->gen, &error)) == NULL ||
      !hd_sheet_render (t->sheet, t->base, t->gen, t->domains, renderer, t->sheet_path, t->cells_dir,
                        hd_export_progress_post, t->progress, cancellable, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_export_remove_partial (t->cells_dir, "seed");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
hd_sheet_dialog_set_running (HdSheetDialog *self,
                             gboolean       running)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "sheet.export", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "sheet.cancel", running);
  gtk_revealer_set_reveal_child (self->progress_revealer, running);
  if (running)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      hd_export_scroll_to_end (GTK_WIDGET (self->page));
    }
}

static void
hd_sheet_dialog_show_status (HdSheetDialog *self,
                             const char    *text,
                             gboolean       is_error)
{
  hd_export_show_status (self->status_label, GTK_WIDGET (self->page), text, is_error);
}

static void
on_sheet_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(HdSheetDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  hd_export_progress_stop (self->progress);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  hd_sheet_dialog_set_running (self, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_sheet_dialog_show_status (self, _("Cancelled: nothing was saved"), FALSE);
      else
        {
          g_autofree char *text = g_strdup_printf (_("Could not export the contact sheet: %s"), error->message);
          hd_sheet_dialog_show_status (self, text, TRUE);
        }
      g_clear_pointer (&self->sheet_path, g_free);
      g_clear_pointer (&self->cells_dir, g_free);
      return;
    }

  {
    g_autofree char *name = g_path_get_basename (self->sheet_path);
    g_autofree char *text = NULL;

    if (self->cells_dir != NULL)
      {
        g_autofree char *cells = g_path_get_basename (self->cells_dir);
        text = g_strdup_printf (_("Saved “%s” and its images in “%s” to %s"), name, cells, self->folder);
      }
    else
      text = g_strdup_printf (_("Saved “%s” to %s"), name, self->folder);
    hd_sheet_dialog_show_status (self, text, FALSE);
  }
}

/* contact-sheet-N.png (and the folder contact-sheet-N) with the first N
 * that names nothing yet: an export never replaces a file. */
static void
choose_names (const char  *folder,
              char       **sheet_path,
              char       **cells_dir)
{
  for (guint n = 1; ; n++)
    {
      g_autofree char *base = g_strdup_printf ("contact-sheet-%u", n);
      g_autofree char *png = g_strdup_printf ("%s.png", base);
      g_autofree char *path = g_build_filename (folder, png, NULL);
      g_autofree char *dir = g_build_filename (folder, base, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (dir, G_FILE_TEST_EXISTS))
        {
          *sheet_path = g_steal_pointer (&path);
          *cells_dir = g_steal_pointer (&dir);
          return;
        }
    }
}

static void
hd_sheet_dialog_export_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  g_autoptr(HdRenderJob) job = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SheetTask *t;
  guint32 first;
  guint n_seeds;

  if (self->cancellable != NULL || session == NULL || (job = hd_session_create_job (session)) == NULL)
    return;

  t = g_new0 (SheetTask, 1);
  t->base = hd_render_job_to_state (job);
  t->gen = hd_generator_ref (job->gen);
  t->domains = g_ptr_array_ref (job->domains);
  t->sheet = hd_sheet_new (job->domains->len);
  t->device = g_settings_get_string (self->settings, "device");

  first = (guint32) gtk_spin_button_get_value (self->first_seed_spin);
  n_seeds = (guint) gtk_spin_button_get_value_as_int (self->n_seeds_spin);
  for (guint i = 0; i < n_seeds; i++)
    hd_sheet_add_seed (t->sheet, first + i);

  if (adw_combo_row_get_selected (self->mode_row) == 0 || job->domains->len == 0)
    hd_sheet_add_domain_columns (t->sheet, t->base);
  else if (!hd_sheet_add_sweep_columns (t->sheet, t->base, adw_combo_row_get_selected (self->domain_row),
                                        (float) gtk_spin_button_get_value (self->from_spin),
                                        (float) gtk_spin_button_get_value (self->to_spin),
                                        (guint) gtk_spin_button_get_value_as_int (self->steps_spin),
                                        &error))
    {
      hd_sheet_dialog_show_status (self, error->message, TRUE);
      sheet_task_free (t);
      return;
    }

  if (g_mkdir_with_parents (self->folder, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *text = g_strdup_printf (_("Cannot create the folder “%s”: %s"), self->folder, g_strerror (saved));
      hd_sheet_dialog_show_status (self, text, TRUE);
      sheet_task_free (t);
      return;
    }
  g_clear_pointer (&self->sheet_path, g_free);
  g_clear_pointer (&self->cells_dir, g_free);
  choose_names (self->folder, &self->sheet_path, &self->cells_dir);
  if (!gtk_switch_get_active (self->cells_switch))
    g_clear_pointer (&self->cells_dir, g_free);
  t->sheet_path = g_strdup (self->sheet_path);
  t->cells_dir = g_strdup (self->cells_dir);

  self->cancellable = g_cancellable_new ();
  self->progress = hd_export_progress_new (self->progress_bar, progress_label);
  t->progress = hd_export_progress_ref (self->progress);
  hd_sheet_dialog_set_running (self, TRUE);
  task = g_task_new (NULL, self->cancellable, on_sheet_done, g_object_ref (self));
  g_task_set_task_data (task, t, (GDestroyNotify) sheet_task_free);
  g_task_run_in_thread (task, sheet_thread);
}

static void
hd_sheet_dialog_cancel_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (widget);

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      gtk_progress_bar_set_text (self->progress_bar, _("Cancelling…"));
    }
}

static void
on_folder_chosen (GtkNativeDialog *chooser,
                  int              response,
                  HdSheetDialog   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        hd_sheet_dialog_set_folder (self, path);
      else
        hd_sheet_dialog_show_status (self, _("Choose a folder on this computer"), TRUE);
    }
  g_object_unref (chooser);
}

static void
hd_sheet_dialog_choose_folder_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GFile) folder = g_file_new_for_path (self->folder);

  chooser = gtk_file_chooser_native_new (_("Contact Sheet Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (g_file_query_exists (folder, NULL))
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_mode_changed (HdSheetDialog *self)
{
  gboolean sweep = adw_combo_row_get_selected (self->mode_row) == 1;

  gtk_widget_set_visible (GTK_WIDGET (self->domain_row), sweep);
  gtk_widget_set_visible (self->from_row, sweep);
  gtk_widget_set_visible (self->to_row, sweep);
  gtk_widget_set_visible (self->steps_row, sweep);
}

static gboolean
hd_sheet_dialog_close_request (GtkWindow *window)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (window);

  /* Closing stops the export; the thread ends on its own. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  return GTK_WINDOW_CLASS (hd_sheet_dialog_parent_class)->close_request (window);
}

static void
hd_sheet_dialog_dispose (GObject *object)
{
  HdSheetDialog *self = (HdSheetDialog *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_SHEET_DIALOG);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hd_sheet_dialog_parent_class)->dispose (object);
}

static void
hd_sheet_dialog_finalize (GObject *object)
{
  HdSheetDialog *self = (HdSheetDialog *)object;

  g_weak_ref_clear (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  g_free (self->folder);
  g_free (self->sheet_path);
  g_free (self->cells_dir);

  G_OBJECT_CLASS (hd_sheet_dialog_parent_class)->finalize (object);
}

static void
hd_sheet_dialog_class_init (HdSheetDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = hd_sheet_dialog_dispose;
  object_class->finalize = hd_sheet_dialog_finalize;
  window_class->close_request = hd_sheet_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-sheet-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, page);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, first_seed_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, n_seeds_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, mode_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, domain_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, from_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, to_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, steps_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, from_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, to_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, steps_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, folder_row);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, cells_switch);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, export_button);

  gtk_widget_class_install_action (widget_class, "sheet.export", NULL, hd_sheet_dialog_export_action);
  gtk_widget_class_install_action (widget_class, "sheet.cancel", NULL, hd_sheet_dialog_cancel_action);
  gtk_widget_class_install_action (widget_class, "sheet.choose-folder", NULL, hd_sheet_dialog_choose_folder_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
hd_sheet_dialog_init (HdSheetDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_weak_ref_init (&self->session, NULL);
  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->mode_row, "notify::selected", G_CALLBACK (on_mode_changed), self, G_CONNECT_SWAPPED);
  on_mode_changed (self);
  hd_sheet_dialog_set_running (self, FALSE);
}

GtkWidget *
hd_sheet_dialog_new (GtkWindow *parent,
                     HdSession *session)
{
  HdSheetDialog *self;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  GListModel *domains;
  g_autofree char *folder = NULL;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_SHEET_DIALOG, "transient-for", parent, NULL);
  g_weak_ref_set (&self->session, session);

  domains = hd_session_get_domains (session);
  for (guint i = 0; i < g_list_model_get_n_items (domains); i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);
      gtk_string_list_append (names, hd_domain_item_get_name (item));
    }
  adw_combo_row_set_model (self->domain_row, G_LIST_MODEL (names));
  /* Without domains a sweep has nothing to sweep. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->mode_row), g_list_model_get_n_items (domains) > 0);
  gtk_spin_button_set_value (self->first_seed_spin, hd_session_get_seed (session));

  folder = hd_export_default_folder (self->settings);
  hd_sheet_dialog_set_folder (self, folder);
  return GTK_WIDGET (self);
}

void
hd_sheet_dialog_set_folder (HdSheetDialog *self,
                            const char    *folder)
{
  g_return_if_fail (HD_IS_SHEET_DIALOG (self));

  g_free (self->folder);
  self->folder = g_strdup (folder);
  adw_action_row_set_subtitle (self->folder_row, folder);
}

gboolean
hd_sheet_dialog_is_running (HdSheetDialog *self)
{
  g_return_val_if_fail (HD_IS_SHEET_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

const char *
hd_sheet_dialog_get_sheet_path (HdSheetDialog *self)
{
  g_return_val_if_fail (HD_IS_SHEET_DIALOG (self), NULL);
  return self->sheet_path;
}

const char *
hd_sheet_dialog_get_cells_dir (HdSheetDialog *self)
{
  g_return_val_if_fail (HD_IS_SHEET_DIALOG (self), NULL);
  return self->cells_dir;
}

GtkWidget *
hd_sheet_dialog_get_part (HdSheetDialog *self,
                          const char    *name)
{
  g_return_val_if_fail (HD_IS_SHEET_DIALOG (self), NULL);
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), HD_TYPE_SHEET_DIALOG, name));
}
