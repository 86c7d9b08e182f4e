/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-SeedsDialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-export-progress.h"
#include "hd-png.h"
#include "hd-render-job.h"
#include "hd-renderer.h"
#include "hd-seeds-dialog.h"
#include "hd-state-files.h"
#include "hd-vk.h"

/* As many images as hyperdomain-render writes in one run. */
#define MAX_SEEDS 1000000

struct _HdSeedsDialog
{
  AdwWindow        parent_instance;

  AdwPreferencesPage *page;
  GtkSpinButton   *from_spin;
  GtkSpinButton   *to_spin;
  AdwActionRow    *to_row;
  AdwComboRow     *scale_row;
  AdwComboRow     *filter_row;
  AdwActionRow    *folder_row;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkLabel        *status_label;

  GWeakRef         session;
  GSettings       *settings;
  char            *folder;
  char            *dir;           /* of the last export, or NULL */
  guint            n_saved;       /* by the last export */
  GCancellable    *cancellable;   /* of the export running, or NULL */
  HdExportProgress *progress;     /* of the export running, or NULL */
};

G_DEFINE_FINAL_TYPE (HdSeedsDialog, hd_seeds_dialog, ADW_TYPE_WINDOW)

/* What the render thread needs: engine objects only, so it may be freed
 * on any thread. */
typedef struct
{
  HdState         *state;    /* the window's, its latent replaced by each seed */
  HdGenerator     *gen;
  GPtrArray       *domains;
  guint32          first;
  guint            count;
  int              scale;
  HdUpscaleFilter  filter;
  char            *device;
  char            *dir;
  HdExportProgress *progress;
  guint            n_saved;  /* written by the thread, read when it is over */
} SeedsTask;

static void
seeds_task_free (SeedsTask *t)
{
  hd_state_free (t->state);
  hd_generator_unref (t->gen);
  g_ptr_array_unref (t->domains);
  g_free (t->device);
  g_free (t->dir);
  if (t->progress != NULL)
    hd_export_progress_unref (t->progress);
  g_free (t);
}

char *
hd_seeds_dialog_file_name (guint32 seed)
{
  return g_strdup_printf ("seed-%05u.png", seed);
}

static char *
progress_label (guint done,
                guint total)
{
  return g_strdup_printf (_("%u of %u images"), done, total);
}

static gboolean
is_cancelled (gpointer cancellable)
{
  return g_cancellable_is_cancelled (cancellable);
}

/* Renders and writes one image per seed.  Each PNG is written to a
 * temporary file and renamed (hd_png_write), so stopping at any point
 * leaves only whole images. */
static void
seeds_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SeedsTask *t = task_data;
  int res = t->gen->config.img_resolution, channels = t->gen->config.img_channels;
  g_autofree float *img = g_new (float, (gsize) channels * res * res);
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  GError *error = NULL;

  t->state->latent_kind = HD_LATENT_SEED;
  g_clear_pointer (&t->state->latent, g_free);
  t->state->latent_rows = 0;
  t->state->latent_cols = 0;

  if ((ctx = hd_vk_context_new (t->device, &error)) == NULL ||
      (renderer = hd_renderer_new (ctx, t->gen, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < t->count; i++)
    {
      g_autofree float *domain = NULL;
      g_autofree char *name = hd_seeds_dialog_file_name (t->first + i);
      g_autofree char *path = g_build_filename (t->dir, name, NULL);
      g_autofree char *json = NULL;
      HdRenderParams params;

      t->state->seed = t->first + i;
      if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
          !hd_state_to_params (t->state, t->gen, t->domains, &params, &domain, &error) ||
          !hd_renderer_render_cancellable (renderer, &params, is_cancelled, cancellable, img, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      json = hd_state_to_json (t->state);
      if (!hd_png_write_scaled (path, img, channels, res, res, t->scale, t->filter, json, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      t->n_saved++;
      hd_export_progress_post (i + 1, t->count, t->progress);
    }
  g_task_return_boolean (task, TRUE);
}

static void
hd_seeds_dialog_show_status (HdSeedsDialog *self,
                             const char    *text,
                             gboolean       is_error)
{
  hd_export_show_status (self->status_label, GTK_WIDGET (self->page), text, is_error);
}

static void
hd_seeds_dialog_set_running (HdSeedsDialog *self,
                             gboolean       running)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seeds.export", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seeds.cancel", running);
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
on_seeds_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(HdSeedsDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  SeedsTask *t = g_task_get_task_data (G_TASK (result));
  g_autofree char *text = NULL;

  g_clear_object (&self->cancellable);
  hd_export_progress_stop (self->progress);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  hd_seeds_dialog_set_running (self, FALSE);
  self->n_saved = t->n_saved;

  if (self->n_saved == 0)
    {
      /* The folder was made for this export: it goes when it is empty. */
      g_rmdir (self->dir);
      g_clear_pointer (&self->dir, g_free);
    }

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          text = g_strdup_printf (_("Could not export the seed range: %s"), error->message);
          hd_seeds_dialog_show_status (self, text, TRUE);
        }
      else if (self->n_saved == 0)
        hd_seeds_dialog_show_status (self, _("Cancelled: nothing was saved"), FALSE);
      else
        {
          text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Cancelled: %u image of %u was saved in %s",
                                               "Cancelled: %u images of %u were saved in %s",
                                               self->n_saved),
                                  self->n_saved, t->count, self->dir);
          hd_seeds_dialog_show_status (self, text, FALSE);
        }
      return;
    }

  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Saved %u image in %s", "Saved %u images in %s",
                                       self->n_saved),
                          self->n_saved, self->dir);
  hd_seeds_dialog_show_status (self, text, FALSE);
}

/* seeds-N with the first N that names nothing yet: an export never
 * replaces a file. */
static char *
choose_dir (const char *folder)
{
  for (guint n = 1; ; n++)
    {
      g_autofree char *base = g_strdup_printf ("seeds-%u", n);
      g_autofree char *dir = g_build_filename (folder, base, NULL);

      if (!g_file_test (dir, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&dir);
    }
}

static guint
hd_seeds_dialog_get_count (HdSeedsDialog *self)
{
  double from = gtk_spin_button_get_value (self->from_spin);
  double to = gtk_spin_button_get_value (self->to_spin);

  return to >= from ? (guint) (to - from) + 1 : 0;
}

static void
hd_seeds_dialog_export_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  g_autoptr(HdRenderJob) job = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *filter = NULL;
  SeedsTask *t;

  if (self->cancellable != NULL || session == NULL)
    return;
  if ((job = hd_session_create_job (session)) == NULL)
    {
      hd_seeds_dialog_show_status (self, _("Open a generator first"), TRUE);
      return;
    }

  t = g_new0 (SeedsTask, 1);
  t->state = hd_render_job_to_state (job);
  if (t->state == NULL)
    {
      g_free (t);
      return;
    }
  t->gen = hd_generator_ref (job->gen);
  t->domains = g_ptr_array_ref (job->domains);
  t->first = (guint32) gtk_spin_button_get_value (self->from_spin);
  t->count = hd_seeds_dialog_get_count (self);
  t->scale = g_settings_get_int (self->settings, "export-scale");
  filter = g_settings_get_string (self->settings, "export-filter");
  if (!hd_upscale_filter_from_string (filter, &t->filter))
    t->filter = HD_UPSCALE_NEAREST;
  t->device = g_settings_get_string (self->settings, "device");

  g_clear_pointer (&self->dir, g_free);
  self->n_saved = 0;
  self->dir = choose_dir (self->folder);
  if (g_mkdir_with_parents (self->dir, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *text = g_strdup_printf (_("Cannot create the folder “%s”: %s"), self->dir, g_strerror (saved));
      hd_seeds_dialog_show_status (self, text, TRUE);
      g_clear_pointer (&self->dir, g_free);
      seeds_task_free (t);
      return;
    }
  t->dir = g_strdup (self->dir);

  self->cancellable = g_cancellable_new ();
  self->progress = hd_export_progress_new (self->progress_bar, progress_label);
  t->progress = hd_export_progress_ref (self->progress);
  hd_seeds_dialog_set_running (self, TRUE);
  task = g_task_new (NULL, self->cancellable, on_seeds_done, g_object_ref (self));
  g_task_set_task_data (task, t, (GDestroyNotify) seeds_task_free);
  g_task_run_in_thread (task, seeds_thread);
}

static void
hd_seeds_dialog_cancel_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (widget);

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      gtk_progress_bar_set_text (self->progress_bar, _("Cancelling…"));
    }
}

static void
on_folder_chosen (GtkWindow  *window,
                  const char *folder)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (window);

  if (folder != NULL)
    hd_seeds_dialog_set_folder (self, folder);
  else
    hd_seeds_dialog_show_status (self, _("Choose a folder on this computer"), TRUE);
}

static void
hd_seeds_dialog_choose_folder_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (widget);

  hd_export_choose_folder (GTK_WINDOW (self), _("Seed Range Folder"), self->folder, on_folder_chosen);
}

static void
hd_seeds_dialog_update_count (HdSeedsDialog *self)
{
  guint count = hd_seeds_dialog_get_count (self);
  g_autofree char *subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u image", "%u images", count),
                                               count);

  adw_action_row_set_subtitle (self->to_row, subtitle);
}

/* The range runs upward and holds at most MAX_SEEDS seeds: moving one end
 * past the other takes it along. */
static void
on_from_changed (HdSeedsDialog *self)
{
  double from = gtk_spin_button_get_value (self->from_spin);
  double to = gtk_spin_button_get_value (self->to_spin);

  if (to < from)
    gtk_spin_button_set_value (self->to_spin, from);
  else if (to - from >= MAX_SEEDS)
    gtk_spin_button_set_value (self->to_spin, from + MAX_SEEDS - 1);
  hd_seeds_dialog_update_count (self);
}

static void
on_to_changed (HdSeedsDialog *self)
{
  double from = gtk_spin_button_get_value (self->from_spin);
  double to = gtk_spin_button_get_value (self->to_spin);

  if (to < from)
    gtk_spin_button_set_value (self->from_spin, to);
  else if (to - from >= MAX_SEEDS)
    gtk_spin_button_set_value (self->from_spin, to - MAX_SEEDS + 1);
  hd_seeds_dialog_update_count (self);
}

/* The combo rows show the export-scale and export-filter settings. */
static gboolean
scale_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  data)
{
  g_value_set_uint (value, hd_export_scale_index (g_variant_get_int32 (variant)));
  return TRUE;
}

static GVariant *
scale_set_mapping (const GValue       *value,
                   const GVariantType *type,
                   gpointer            data)
{
  return g_variant_new_int32 (hd_export_scale_at (g_value_get_uint (value)));
}

static gboolean
filter_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  data)
{
  HdUpscaleFilter filter = HD_UPSCALE_NEAREST;

  hd_upscale_filter_from_string (g_variant_get_string (variant, NULL), &filter);
  g_value_set_uint (value, filter == HD_UPSCALE_LANCZOS3 ? 1 : 0);
  return TRUE;
}

static GVariant *
filter_set_mapping (const GValue       *value,
                    const GVariantType *type,
                    gpointer            data)
{
  HdUpscaleFilter filter = g_value_get_uint (value) == 1 ? HD_UPSCALE_LANCZOS3 : HD_UPSCALE_NEAREST;

  return g_variant_new_string (hd_upscale_filter_to_string (filter));
}

static gboolean
hd_seeds_dialog_close_request (GtkWindow *window)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (window);

  /* Closing stops the export; the thread ends on its own. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  return GTK_WINDOW_CLASS (hd_seeds_dialog_parent_class)->close_request (window);
}

static void
hd_seeds_dialog_dispose (GObject *object)
{
  HdSeedsDialog *self = (HdSeedsDialog *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_SEEDS_DIALOG);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hd_seeds_dialog_parent_class)->dispose (object);
}

static void
hd_seeds_dialog_finalize (GObject *object)
{
  HdSeedsDialog *self = (HdSeedsDialog *)object;

  g_weak_ref_clear (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  g_free (self->folder);
  g_free (self->dir);

  G_OBJECT_CLASS (hd_seeds_dialog_parent_class)->finalize (object);
}

static void
hd_seeds_dialog_class_init (HdSeedsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = hd_seeds_dialog_dispose;
  object_class->finalize = hd_seeds_dialog_finalize;
  window_class->close_request = hd_seeds_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-seeds-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, page);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, from_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, to_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, to_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, scale_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, filter_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, folder_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, status_label);

  gtk_widget_class_install_action (widget_class, "seeds.export", NULL, hd_seeds_dialog_export_action);
  gtk_widget_class_install_action (widget_class, "seeds.cancel", NULL, hd_seeds_dialog_cancel_action);
  gtk_widget_class_install_action (widget_class, "seeds.choose-folder", NULL, hd_seeds_dialog_choose_folder_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
hd_seeds_dialog_init (HdSeedsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_weak_ref_init (&self->session, NULL);
  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect_object (self->from_spin, "value-changed", G_CALLBACK (on_from_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->to_spin, "value-changed", G_CALLBACK (on_to_changed), self, G_CONNECT_SWAPPED);
  g_settings_bind_with_mapping (self->settings, "export-filter", self->filter_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, filter_get_mapping, filter_set_mapping, NULL, NULL);
  hd_seeds_dialog_set_running (self, FALSE);
}

GtkWidget *
hd_seeds_dialog_new (GtkWindow *parent,
                     HdSession *session)
{
  HdSeedsDialog *self;
  g_autoptr(GtkStringList) scales = gtk_string_list_new (NULL);
  HdGenerator *gen;
  g_autofree char *folder = NULL;
  guint32 seed;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_SEEDS_DIALOG, "transient-for", parent, NULL);
  g_weak_ref_set (&self->session, session);

  gen = hd_session_get_generator (session);
  for (guint i = 0; i < HD_EXPORT_N_SCALES; i++)
    {
      g_autofree char *label = hd_export_scale_label (hd_export_scale_at (i),
                                                      gen != NULL ? gen->config.img_resolution : 0);
      gtk_string_list_append (scales, label);
    }
  adw_combo_row_set_model (self->scale_row, G_LIST_MODEL (scales));
  g_settings_bind_with_mapping (self->settings, "export-scale", self->scale_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, scale_get_mapping, scale_set_mapping, NULL, NULL);

  /* From the window's seed, ten seeds. */
  seed = hd_session_get_seed (session);
  gtk_spin_button_set_value (self->from_spin, seed);
  gtk_spin_button_set_value (self->to_spin, MIN ((guint64) seed + 9, G_MAXUINT32));
  hd_seeds_dialog_update_count (self);

  folder = hd_export_default_folder (self->settings);
  hd_seeds_dialog_set_folder (self, folder);
  return GTK_WIDGET (self);
}

void
hd_seeds_dialog_set_folder (HdSeedsDialog *self,
                            const char    *folder)
{
  g_return_if_fail (HD_IS_SEEDS_DIALOG (self));

  g_free (self->folder);
  self->folder = g_strdup (folder);
  adw_action_row_set_subtitle (self->folder_row, folder);
}

gboolean
hd_seeds_dialog_is_running (HdSeedsDialog *self)
{
  g_return_val_if_fail (HD_IS_SEEDS_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

const char *
hd_seeds_dialog_get_dir (HdSeedsDialog *self)
{
  g_return_val_if_fail (HD_IS_SEEDS_DIALOG (self), NULL);
  return self->dir;
}

guint
hd_seeds_dialog_get_n_saved (HdSeedsDialog *self)
{
  g_return_val_if_fail (HD_IS_SEEDS_DIALOG (self), 0);
  return self->n_saved;
}

GtkWidget *
hd_seeds_dialog_get_part (HdSeedsDialog *self,
                          const char    *name)
{
  g_return_val_if_fail (HD_IS_SEEDS_DIALOG (self), NULL);
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), HD_TYPE_SEEDS_DIALOG, name));
}
