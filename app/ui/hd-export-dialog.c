/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-ExportDialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-export-dialog.h"
#include "hd-vk.h"

typedef struct
{
  /* From the subclass's template. */
  AdwPreferencesPage *page;
  AdwActionRow       *folder_row;
  GtkRevealer        *progress_revealer;
  GtkProgressBar     *progress_bar;
  GtkLabel           *status_label;

  GWeakRef          session;
  GSettings        *settings;
  char             *folder;
  GCancellable     *cancellable;   /* of the export running, or NULL */
  HdExportProgress *progress;      /* of the export running, or NULL */
} HdExportDialogPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (HdExportDialog, hd_export_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* What the export's thread needs: engine objects only, so it may be freed
 * on any thread. */
typedef struct
{
  HdGenerator      *gen;
  char             *device;
  HdExportProgress *progress;
  HdExportFunc      func;
  gpointer          data;
  GDestroyNotify    data_free;
} ExportTask;

static void
export_task_free (ExportTask *t)
{
  if (t->data_free != NULL)
    t->data_free (t->data);
  hd_generator_unref (t->gen);
  g_free (t->device);
  hd_export_progress_unref (t->progress);
  g_free (t);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportTask *t = task_data;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  GError *error = NULL;

  if ((ctx = hd_vk_context_new (t->device, &error)) == NULL ||
      (renderer = hd_renderer_new (ctx, t->gen, &error)) == NULL ||
      !t->func (renderer, t->gen, t->data, t->progress, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static char *
images_label (guint done,
              guint total)
{
  return g_strdup_printf (_("%u of %u images"), done, total);
}

static gboolean
can_start (HdExportDialog *self)
{
  HdExportDialogClass *klass = HD_EXPORT_DIALOG_GET_CLASS (self);

  return klass->can_start == NULL || klass->can_start (self);
}

void
hd_export_dialog_update_actions (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  HdExportDialogClass *klass = HD_EXPORT_DIALOG_GET_CLASS (self);
  gboolean running = priv->cancellable != NULL;

  g_return_if_fail (HD_IS_EXPORT_DIALOG (self));

  gtk_widget_set_sensitive (GTK_WIDGET (priv->page), !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), klass->export_action, !running && can_start (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), klass->cancel_action, running);
  gtk_revealer_set_reveal_child (priv->progress_revealer, running);
}

static void
on_export_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(HdExportDialog) self = user_data;
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  ExportTask *t = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&priv->cancellable);
  hd_export_progress_stop (priv->progress);
  g_clear_pointer (&priv->progress, hd_export_progress_unref);
  hd_export_dialog_update_actions (self);

  g_task_propagate_boolean (G_TASK (result), &error);
  HD_EXPORT_DIALOG_GET_CLASS (self)->finish (self, t->data, error);
}

void
hd_export_dialog_run (HdExportDialog        *self,
                      HdGenerator           *gen,
                      HdExportFunc           func,
                      gpointer               data,
                      GDestroyNotify         data_free,
                      HdExportProgressLabel  label)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  g_autoptr(GTask) task = NULL;
  ExportTask *t;

  g_return_if_fail (HD_IS_EXPORT_DIALOG (self));
  g_return_if_fail (priv->cancellable == NULL);

  t = g_new0 (ExportTask, 1);
  t->gen = hd_generator_ref (gen);
  t->device = g_settings_get_string (priv->settings, "device");
  t->func = func;
  t->data = data;
  t->data_free = data_free;

  priv->cancellable = g_cancellable_new ();
  priv->progress = hd_export_progress_new (priv->progress_bar, label != NULL ? label : images_label);
  t->progress = hd_export_progress_ref (priv->progress);
  gtk_progress_bar_set_fraction (priv->progress_bar, 0);
  gtk_progress_bar_set_text (priv->progress_bar, _("Starting…"));
  gtk_widget_set_visible (GTK_WIDGET (priv->status_label), FALSE);
  hd_export_dialog_update_actions (self);
  hd_export_scroll_to_end (GTK_WIDGET (priv->page));

  task = g_task_new (NULL, priv->cancellable, on_export_done, g_object_ref (self));
  g_task_set_task_data (task, t, (GDestroyNotify) export_task_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
hd_export_dialog_is_running (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), FALSE);
  return priv->cancellable != NULL;
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (widget);

  if (!hd_export_dialog_is_running (self) && can_start (self))
    HD_EXPORT_DIALOG_GET_CLASS (self)->start (self);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (widget);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  if (priv->cancellable != NULL)
    {
      g_cancellable_cancel (priv->cancellable);
      gtk_progress_bar_set_text (priv->progress_bar, _("Cancelling…"));
    }
}

static void
on_folder_chosen (GtkWindow  *window,
                  const char *folder)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (window);

  if (folder != NULL)
    hd_export_dialog_set_folder (self, folder);
  else
    hd_export_dialog_show_status (self, _("Choose a folder on this computer"), TRUE);
}

static void
choose_folder_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (widget);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  const char *title = HD_EXPORT_DIALOG_GET_CLASS (self)->folder_title;

  hd_export_choose_folder (GTK_WINDOW (self), _(title), priv->folder, on_folder_chosen);
}

static gboolean
hd_export_dialog_close_request (GtkWindow *window)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (window);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  /* Closing stops the export; the thread ends on its own.  A window that
   * only hides keeps it running. */
  if (priv->cancellable != NULL && !gtk_window_get_hide_on_close (window))
    g_cancellable_cancel (priv->cancellable);
  return GTK_WINDOW_CLASS (hd_export_dialog_parent_class)->close_request (window);
}

static void
hd_export_dialog_constructed (GObject *object)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (object);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  g_autofree char *folder = NULL;

  G_OBJECT_CLASS (hd_export_dialog_parent_class)->constructed (object);

  folder = hd_export_default_folder (priv->settings);
  hd_export_dialog_set_folder (self, folder);
  hd_export_dialog_update_actions (self);
}

static void
hd_export_dialog_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (object);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_take_object (value, g_weak_ref_get (&priv->session));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_export_dialog_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (object);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_weak_ref_set (&priv->session, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_export_dialog_dispose (GObject *object)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (object);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);
  GType template_type = HD_EXPORT_DIALOG_GET_CLASS (self)->template_type;

  if (priv->cancellable != NULL)
    g_cancellable_cancel (priv->cancellable);
  if (template_type != G_TYPE_INVALID)
    gtk_widget_dispose_template (GTK_WIDGET (self), template_type);
  g_clear_object (&priv->settings);

  G_OBJECT_CLASS (hd_export_dialog_parent_class)->dispose (object);
}

static void
hd_export_dialog_finalize (GObject *object)
{
  HdExportDialog *self = HD_EXPORT_DIALOG (object);
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_weak_ref_clear (&priv->session);
  g_clear_object (&priv->cancellable);
  g_clear_pointer (&priv->progress, hd_export_progress_unref);
  g_free (priv->folder);

  G_OBJECT_CLASS (hd_export_dialog_parent_class)->finalize (object);
}

static void
hd_export_dialog_class_init (HdExportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = hd_export_dialog_constructed;
  object_class->get_property = hd_export_dialog_get_property;
  object_class->set_property = hd_export_dialog_set_property;
  object_class->dispose = hd_export_dialog_dispose;
  object_class->finalize = hd_export_dialog_finalize;
  window_class->close_request = hd_export_dialog_close_request;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, HD_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
hd_export_dialog_init (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_weak_ref_init (&priv->session, NULL);
  priv->settings = g_settings_new (APPLICATION_ID);
}

void
hd_export_dialog_class_set_template (HdExportDialogClass *klass,
                                     const char          *resource,
                                     const char          *prefix,
                                     const char          *folder_title)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  g_autofree char *choose_folder = g_strconcat (prefix, ".choose-folder", NULL);

  g_return_if_fail (HD_IS_EXPORT_DIALOG_CLASS (klass));

  klass->template_type = G_TYPE_FROM_CLASS (klass);
  klass->folder_title = folder_title;
  klass->export_action = g_strconcat (prefix, ".export", NULL);
  klass->cancel_action = g_strconcat (prefix, ".cancel", NULL);

  gtk_widget_class_set_template_from_resource (widget_class, resource);
#define BIND_SHARED(name) \
  gtk_widget_class_bind_template_child_full (widget_class, #name, FALSE, G_PRIVATE_OFFSET (HdExportDialog, name))
  BIND_SHARED (page);
  BIND_SHARED (folder_row);
  BIND_SHARED (progress_revealer);
  BIND_SHARED (progress_bar);
  BIND_SHARED (status_label);
#undef BIND_SHARED

  gtk_widget_class_install_action (widget_class, klass->export_action, NULL, export_action);
  gtk_widget_class_install_action (widget_class, klass->cancel_action, NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, choose_folder, NULL, choose_folder_action);
}

HdSession *
hd_export_dialog_dup_session (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), NULL);
  return g_weak_ref_get (&priv->session);
}

GSettings *
hd_export_dialog_get_settings (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), NULL);
  return priv->settings;
}

void
hd_export_dialog_set_folder (HdExportDialog *self,
                             const char     *folder)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_if_fail (HD_IS_EXPORT_DIALOG (self));

  g_free (priv->folder);
  priv->folder = g_strdup (folder);
  adw_action_row_set_subtitle (priv->folder_row, folder);
}

const char *
hd_export_dialog_get_folder (HdExportDialog *self)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), NULL);
  return priv->folder;
}

char *
hd_export_dialog_new_path (HdExportDialog *self,
                           const char     *stem,
                           const char     *suffix)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), NULL);

  for (guint n = 1; ; n++)
    {
      g_autofree char *base = g_strdup_printf ("%s-%u", stem, n);
      g_autofree char *path = g_build_filename (priv->folder, base, NULL);
      g_autofree char *with_suffix = suffix != NULL ? g_strconcat (path, suffix, NULL) : NULL;

      if (!g_file_test (path, G_FILE_TEST_EXISTS) &&
          (with_suffix == NULL || !g_file_test (with_suffix, G_FILE_TEST_EXISTS)))
        return g_steal_pointer (&path);
    }
}

gboolean
hd_export_dialog_make_folder (HdExportDialog *self,
                              const char     *dir)
{
  int saved;
  g_autofree char *text = NULL;

  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), FALSE);

  if (g_mkdir_with_parents (dir, 0755) == 0)
    return TRUE;
  saved = errno;
  text = g_strdup_printf (_("Cannot create the folder “%s”: %s"), dir, g_strerror (saved));
  hd_export_dialog_show_status (self, text, TRUE);
  return FALSE;
}

char *
hd_export_dialog_make_new_folder (HdExportDialog *self,
                                  const char     *stem)
{
  g_autofree char *dir = hd_export_dialog_new_path (self, stem, NULL);

  return dir != NULL && hd_export_dialog_make_folder (self, dir) ? g_steal_pointer (&dir) : NULL;
}

void
hd_export_dialog_show_status (HdExportDialog *self,
                              const char     *text,
                              gboolean        is_error)
{
  HdExportDialogPrivate *priv = hd_export_dialog_get_instance_private (self);

  g_return_if_fail (HD_IS_EXPORT_DIALOG (self));

  if (text == NULL)
    gtk_widget_set_visible (GTK_WIDGET (priv->status_label), FALSE);
  else
    hd_export_show_status (priv->status_label, GTK_WIDGET (priv->page), text, is_error);
}

void
hd_export_dialog_show_failure (HdExportDialog *self,
                               const GError   *error,
                               const char     *format,
                               ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      hd_export_dialog_show_status (self, _("Cancelled: nothing was saved"), FALSE);
      return;
    }
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  hd_export_dialog_show_status (self, text, TRUE);
}

GtkWidget *
hd_export_dialog_get_part (HdExportDialog *self,
                           const char     *name)
{
  g_return_val_if_fail (HD_IS_EXPORT_DIALOG (self), NULL);
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self),
                                                    HD_EXPORT_DIALOG_GET_CLASS (self)->template_type, name));
}
