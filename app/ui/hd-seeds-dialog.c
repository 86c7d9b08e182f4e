/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-SeedsDialog"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-png.h"
#include "hd-seeds-dialog.h"
#include "hd-state-render.h"

/* As many images as hyperdomain-render writes in one run. */
#define MAX_SEEDS 1000000

struct _HdSeedsDialog
{
  HdExportDialog   parent_instance;

  GtkSpinButton   *from_spin;
  GtkSpinButton   *to_spin;
  AdwActionRow    *to_row;
  AdwComboRow     *scale_row;
  AdwComboRow     *filter_row;

  char            *dir;           /* of the last export, or NULL */
  guint            n_saved;       /* by the last export */
};

G_DEFINE_FINAL_TYPE (HdSeedsDialog, hd_seeds_dialog, HD_TYPE_EXPORT_DIALOG)

/* What the render thread needs: engine objects only, so it may be freed
 * on any thread. */
typedef struct
{
  HdState         *state;    /* the window's, its latent replaced by each seed */
  GPtrArray       *domains;
  guint32          first;
  guint            count;
  int              scale;
  HdUpscaleFilter  filter;
  char            *dir;
  guint            n_saved;  /* written by the thread, read when it is over */
} SeedsTask;

static void
seeds_task_free (SeedsTask *t)
{
  hd_state_free (t->state);
  g_ptr_array_unref (t->domains);
  g_free (t->dir);
  g_free (t);
}

char *
hd_seeds_dialog_file_name (guint32 seed)
{
  return g_strdup_printf ("seed-%05u.png", seed);
}

static gboolean
is_cancelled (gpointer cancellable)
{
  return g_cancellable_is_cancelled (cancellable);
}

/* Renders and writes one image per seed.  Each PNG is written to a
 * temporary file and renamed (hd_png_write), so stopping at any point
 * leaves only whole images. */
static gboolean
seeds_export (HdRenderer       *renderer,
              HdGenerator      *gen,
              gpointer          data,
              HdExportProgress *progress,
              GCancellable     *cancellable,
              GError          **error)
{
  SeedsTask *t = data;
  int res = gen->config.img_resolution, channels = gen->config.img_channels;
  g_autofree float *img = g_new (float, (gsize) channels * res * res);

  for (guint i = 0; i < t->count; i++)
    {
      g_auto(HdPreparedRender) prepared = { 0 };
      g_autofree char *name = hd_seeds_dialog_file_name (t->first + i);
      g_autofree char *path = g_build_filename (t->dir, name, NULL);
      g_autofree char *json = NULL;

      hd_state_use_seed (t->state, t->first + i);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !hd_state_prepare (t->state, gen, t->domains, &prepared, error) ||
          !hd_renderer_render_cancellable (renderer, &prepared.params, is_cancelled, cancellable, img, error))
        return FALSE;
      json = hd_state_to_json (t->state);
      if (!hd_png_write_scaled (path, img, channels, res, res, t->scale, t->filter, json, error))
        return FALSE;
      t->n_saved++;
      hd_export_progress_post (i + 1, t->count, progress);
    }
  return TRUE;
}

static void
hd_seeds_dialog_finish (HdExportDialog *export,
                        gpointer        data,
                        const GError   *error)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (export);
  SeedsTask *t = data;
  g_autofree char *text = NULL;

  self->n_saved = t->n_saved;
  if (self->n_saved == 0)
    {
      /* The folder was made for this export: it goes when it is empty. */
      g_rmdir (self->dir);
      g_clear_pointer (&self->dir, g_free);
    }

  if (error != NULL && (self->n_saved == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      hd_export_dialog_show_failure (export, error, _("Could not export the seed range: %s"),
                                     error->message);
      return;
    }
  if (error != NULL)
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "Cancelled: %u image of %u was saved in %s",
                                         "Cancelled: %u images of %u were saved in %s",
                                         self->n_saved),
                            self->n_saved, t->count, self->dir);
  else
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Saved %u image in %s", "Saved %u images in %s",
                                         self->n_saved),
                            self->n_saved, self->dir);
  hd_export_dialog_show_status (export, text, FALSE);
}

static guint
hd_seeds_dialog_get_count (HdSeedsDialog *self)
{
  double from = gtk_spin_button_get_value (self->from_spin);
  double to = gtk_spin_button_get_value (self->to_spin);

  return to >= from ? (guint) (to - from) + 1 : 0;
}

static void
hd_seeds_dialog_start (HdExportDialog *export)
{
  HdSeedsDialog *self = HD_SEEDS_DIALOG (export);
  g_autoptr(HdSession) session = hd_export_dialog_dup_session (export);
  GSettings *settings = hd_export_dialog_get_settings (export);
  g_autoptr(HdRenderJob) job = NULL;
  g_autofree char *filter = NULL;
  SeedsTask *t;

  if (session == NULL)
    return;
  if ((job = hd_session_create_job (session)) == NULL)
    {
      hd_export_dialog_show_status (export, _("Open a generator first"), TRUE);
      return;
    }

  t = g_new0 (SeedsTask, 1);
  t->state = hd_render_job_to_state (job);
  if (t->state == NULL)
    {
      g_free (t);
      return;
    }
  t->domains = g_ptr_array_ref (job->domains);
  t->first = (guint32) gtk_spin_button_get_value (self->from_spin);
  t->count = hd_seeds_dialog_get_count (self);
  t->scale = g_settings_get_int (settings, "export-scale");
  filter = g_settings_get_string (settings, "export-filter");
  if (!hd_upscale_filter_from_string (filter, &t->filter))
    t->filter = HD_UPSCALE_NEAREST;

  /* seeds-N with the first N that names nothing yet: an export never
   * replaces a file. */
  g_clear_pointer (&self->dir, g_free);
  self->n_saved = 0;
  if ((self->dir = hd_export_dialog_make_new_folder (export, "seeds")) == NULL)
    {
      seeds_task_free (t);
      return;
    }
  t->dir = g_strdup (self->dir);

  hd_export_dialog_run (export, job->gen, seeds_export, t, (GDestroyNotify) seeds_task_free, NULL);
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

static void
hd_seeds_dialog_finalize (GObject *object)
{
  HdSeedsDialog *self = (HdSeedsDialog *)object;

  g_free (self->dir);

  G_OBJECT_CLASS (hd_seeds_dialog_parent_class)->finalize (object);
}

static void
hd_seeds_dialog_class_init (HdSeedsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  HdExportDialogClass *export_class = HD_EXPORT_DIALOG_CLASS (klass);

  object_class->finalize = hd_seeds_dialog_finalize;
  export_class->start = hd_seeds_dialog_start;
  export_class->finish = hd_seeds_dialog_finish;

  hd_export_dialog_class_set_template (export_class, "/io/github/hyperdomain/Hyperdomain/hd-seeds-dialog.ui",
                                       "seeds", N_("Seed Range Folder"));
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, from_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, to_spin);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, to_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, scale_row);
  gtk_widget_class_bind_template_child (widget_class, HdSeedsDialog, filter_row);
}

static void
hd_seeds_dialog_init (HdSeedsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->from_spin, "value-changed", G_CALLBACK (on_from_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->to_spin, "value-changed", G_CALLBACK (on_to_changed), self, G_CONNECT_SWAPPED);
  g_settings_bind_with_mapping (hd_export_dialog_get_settings (HD_EXPORT_DIALOG (self)), "export-filter",
                                self->filter_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, filter_get_mapping, filter_set_mapping, NULL, NULL);
}

GtkWidget *
hd_seeds_dialog_new (GtkWindow *parent,
                     HdSession *session)
{
  HdSeedsDialog *self;
  g_autoptr(GtkStringList) scales = gtk_string_list_new (NULL);
  HdGenerator *gen;
  guint32 seed;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_SEEDS_DIALOG, "transient-for", parent, "session", session, NULL);

  gen = hd_session_get_generator (session);
  for (guint i = 0; i < HD_EXPORT_N_SCALES; i++)
    {
      g_autofree char *label = hd_export_scale_label (hd_export_scale_at (i),
                                                      gen != NULL ? gen->config.img_resolution : 0);
      gtk_string_list_append (scales, label);
    }
  adw_combo_row_set_model (self->scale_row, G_LIST_MODEL (scales));
  g_settings_bind_with_mapping (hd_export_dialog_get_settings (HD_EXPORT_DIALOG (self)), "export-scale",
                                self->scale_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, scale_get_mapping, scale_set_mapping, NULL, NULL);

  /* From the window's seed, ten seeds. */
  seed = hd_session_get_seed (session);
  gtk_spin_button_set_value (self->from_spin, seed);
  gtk_spin_button_set_value (self->to_spin, MIN ((guint64) seed + 9, G_MAXUINT32));
  hd_seeds_dialog_update_count (self);
  return GTK_WIDGET (self);
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
