/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-SheetDialog"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-sheet.h"
#include "hd-sheet-dialog.h"

struct _HdSheetDialog
{
  HdExportDialog   parent_instance;

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
  GtkSwitch       *cells_switch;
  GtkWidget       *export_button;

  char            *sheet_path;
  char            *cells_dir;
};

G_DEFINE_FINAL_TYPE (HdSheetDialog, hd_sheet_dialog, HD_TYPE_EXPORT_DIALOG)

/* What the render thread needs; engine objects only, so it may be freed
 * on any thread. */
typedef struct
{
  HdSheet      *sheet;
  HdState      *base;
  GPtrArray    *domains;
  char         *sheet_path;
  char         *cells_dir;
} SheetTask;

static void
sheet_task_free (SheetTask *t)
{
  hd_sheet_free (t->sheet);
  hd_state_free (t->base);
  g_ptr_array_unref (t->domains);
  g_free (t->sheet_path);
  g_free (t->cells_dir);
  g_free (t);
}

static gboolean
sheet_export (HdRenderer       *renderer,
              HdGenerator      *gen,
              gpointer          data,
              HdExportProgress *progress,
              GCancellable     *cancellable,
              GError          **error)
{
  SheetTask *t = data;

  if (hd_sheet_render (t->sheet, t->base, gen, t->domains, renderer, t->sheet_path, t->cells_dir,
                       hd_export_progress_post, progress, cancellable, error))
    return TRUE;
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    hd_export_remove_partial (t->cells_dir, "seed");
  return FALSE;
}

static void
hd_sheet_dialog_finish (HdExportDialog *export,
                        gpointer        data,
                        const GError   *error)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (export);
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;

  if (error != NULL)
    {
      hd_export_dialog_show_failure (export, error, _("Could not export the contact sheet: %s"),
                                     error->message);
      g_clear_pointer (&self->sheet_path, g_free);
      g_clear_pointer (&self->cells_dir, g_free);
      return;
    }

  name = g_path_get_basename (self->sheet_path);
  if (self->cells_dir != NULL)
    {
      g_autofree char *cells = g_path_get_basename (self->cells_dir);
      text = g_strdup_printf (_("Saved “%s” and its images in “%s” to %s"), name, cells,
                              hd_export_dialog_get_folder (export));
    }
  else
    text = g_strdup_printf (_("Saved “%s” to %s"), name, hd_export_dialog_get_folder (export));
  hd_export_dialog_show_status (export, text, FALSE);
}

static void
hd_sheet_dialog_start (HdExportDialog *export)
{
  HdSheetDialog *self = HD_SHEET_DIALOG (export);
  g_autoptr(HdSession) session = hd_export_dialog_dup_session (export);
  g_autoptr(HdRenderJob) job = NULL;
  g_autoptr(GError) error = NULL;
  SheetTask *t;
  guint32 first;
  guint n_seeds;

  if (session == NULL || (job = hd_session_create_job (session)) == NULL)
    return;

  t = g_new0 (SheetTask, 1);
  t->base = hd_render_job_to_state (job);
  t->domains = g_ptr_array_ref (job->domains);
  t->sheet = hd_sheet_new (job->domains->len);

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
      hd_export_dialog_show_status (export, error->message, TRUE);
      sheet_task_free (t);
      return;
    }

  if (!hd_export_dialog_make_folder (export, hd_export_dialog_get_folder (export)))
    {
      sheet_task_free (t);
      return;
    }
  /* contact-sheet-N.png and the folder contact-sheet-N, with the first N
   * that names neither yet. */
  g_clear_pointer (&self->sheet_path, g_free);
  g_clear_pointer (&self->cells_dir, g_free);
  self->cells_dir = hd_export_dialog_new_path (export, "contact-sheet", ".png");
  self->sheet_path = g_strconcat (self->cells_dir, ".png", NULL);
  if (!gtk_switch_get_active (self->cells_switch))
    g_clear_pointer (&self->cells_dir, g_free);
  t->sheet_path = g_strdup (self->sheet_path);
  t->cells_dir = g_strdup (self->cells_dir);

  hd_export_dialog_run (export, job->gen, sheet_export, t, (GDestroyNotify) sheet_task_free, NULL);
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

static void
hd_sheet_dialog_finalize (GObject *object)
{
  HdSheetDialog *self = (HdSheetDialog *)object;

  g_free (self->sheet_path);
  g_free (self->cells_dir);

  G_OBJECT_CLASS (hd_sheet_dialog_parent_class)->finalize (object);
}

static void
hd_sheet_dialog_class_init (HdSheetDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  HdExportDialogClass *export_class = HD_EXPORT_DIALOG_CLASS (klass);

  object_class->finalize = hd_sheet_dialog_finalize;
  export_class->start = hd_sheet_dialog_start;
  export_class->finish = hd_sheet_dialog_finish;

  hd_export_dialog_class_set_template (export_class, "/io/github/hyperdomain/Hyperdomain/hd-sheet-dialog.ui",
                                       "sheet", N_("Contact Sheet Folder"));
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
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, cells_switch);
  gtk_widget_class_bind_template_child (widget_class, HdSheetDialog, export_button);
}

static void
hd_sheet_dialog_init (HdSheetDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->mode_row, "notify::selected", G_CALLBACK (on_mode_changed), self, G_CONNECT_SWAPPED);
  on_mode_changed (self);
}

GtkWidget *
hd_sheet_dialog_new (GtkWindow *parent,
                     HdSession *session)
{
  HdSheetDialog *self;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  GListModel *domains;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_SHEET_DIALOG, "transient-for", parent, "session", session, NULL);

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
  return GTK_WIDGET (self);
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
