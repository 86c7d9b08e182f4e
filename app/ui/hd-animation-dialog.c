/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-AnimationDialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-animation.h"
#include "hd-animation-dialog.h"
#include "hd-export-progress.h"
#include "hd-render-job.h"
#include "hd-renderer.h"
#include "hd-vk.h"

typedef struct
{
  HdState   *state;
  GPtrArray *domains;   /* HdDomain*, one per state domain */
} Keyframe;

struct _HdAnimationDialog
{
  AdwWindow        parent_instance;

  AdwPreferencesPage *page;
  GtkListBox      *key_list;
  GtkSpinButton   *frames_spin;
  AdwActionRow    *frames_row;
  GtkSwitch       *ease_switch;
  GtkSwitch       *loop_switch;
  AdwActionRow    *folder_row;
  GtkRevealer     *progress_revealer;
  GtkProgressBar  *progress_bar;
  GtkLabel        *status_label;

  GWeakRef         session;
  GSettings       *settings;
  HdGenerator     *generator;   /* of the keyframes */
  GPtrArray       *keys;        /* Keyframe* */
  char            *folder;
  char            *frames_dir;
  GCancellable    *cancellable; /* of the export running, or NULL */
  HdExportProgress *progress;   /* of the export running, or NULL */
};

G_DEFINE_FINAL_TYPE (HdAnimationDialog, hd_animation_dialog, ADW_TYPE_WINDOW)

static void
keyframe_free (Keyframe *key)
{
  hd_state_free (key->state);
  g_ptr_array_unref (key->domains);
  g_free (key);
}

/* What the render thread needs: engine objects only. */
typedef struct
{
  HdGenerator  *gen;
  GPtrArray    *keys;       /* Keyframe*, shared with nobody */
  guint         frames;
  gboolean      ease;
  gboolean      loop;
  char         *device;
  char         *dir;
  HdExportProgress *progress;
} AnimTask;

static void
anim_task_free (AnimTask *t)
{
  hd_generator_unref (t->gen);
  g_ptr_array_unref (t->keys);
  g_free (t->device);
  g_free (t->dir);
  if (t->progress != NULL)
    hd_export_progress_unref (t->progress);
  g_free (t);
}

static char *
frame_path (guint    frame,
            gpointer data)
{
  AnimTask *t = data;
  g_autofree char *name = g_strdup_printf ("frame-%05u.png", frame);

  return g_build_filename (t->dir, name, NULL);
}

static char *
progress_label (guint done,
                guint total)
{
  return g_strdup_printf (_("%u of %u frames"), done, total);
}

static void
anim_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  AnimTask *t = task_data;
  g_autoptr(HdAnimation) anim = hd_animation_new (t->gen, t->frames, t->ease, t->loop);
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  GError *error = NULL;

  for (guint i = 0; i < t->keys->len; i++)
    {
      Keyframe *key = g_ptr_array_index (t->keys, i);

      if (!hd_animation_add_key (anim, key->state, key->domains, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  if ((ctx = hd_vk_context_new (t->device, &error)) == NULL ||
      (renderer = hd_renderer_new (ctx, t->gen, &error)) == NULL ||
      !hd_animation_render (anim, renderer, frame_path, t, hd_export_progress_post, t->progress,
                               cancellable, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_export_remove_partial (t->dir, "frame-");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
hd_animation_dialog_show_status (HdAnimationDialog *self,
                                 const char        *text,
                                 gboolean           is_error)
{
  hd_export_show_status (self->status_label, GTK_WIDGET (self->page), text, is_error);
}

static void
hd_animation_dialog_update (HdAnimationDialog *self)
{
  gboolean running = self->cancellable != NULL;
  guint n = self->keys->len;
  guint per = (guint) gtk_spin_button_get_value_as_int (self->frames_spin);
  gboolean loop = gtk_switch_get_active (self->loop_switch);
  guint total = n < 2 ? 0 : loop ? n * per : (n - 1) * per + 1;
  g_autofree char *subtitle = NULL;

  if (total > 0)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u frame in all", "%u frames in all", total), total);
  adw_action_row_set_subtitle (self->frames_row, subtitle != NULL ? subtitle : "");

  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "anim.export", !running && n >= 2);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "anim.cancel", running);
  gtk_revealer_set_reveal_child (self->progress_revealer, running);
}

static void
on_anim_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HdAnimationDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  hd_export_progress_stop (self->progress);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  hd_animation_dialog_update (self);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_animation_dialog_show_status (self, _("Cancelled: nothing was saved"), FALSE);
      else
        {
          g_autofree char *text = g_strdup_printf (_("Could not export the animation: %s"), error->message);
          hd_animation_dialog_show_status (self, text, TRUE);
        }
      g_clear_pointer (&self->frames_dir, g_free);
      return;
    }

  {
    g_autofree char *text = g_strdup_printf (_("Saved the frames in %s"), self->frames_dir);
    hd_animation_dialog_show_status (self, text, FALSE);
  }
}

/* animation-N with the first N that names nothing yet. */
static char *
choose_dir (const char *folder)
{
  for (guint n = 1; ; n++)
    {
      g_autofree char *base = g_strdup_printf ("animation-%u", n);
      g_autofree char *dir = g_build_filename (folder, base, NULL);

      if (!g_file_test (dir, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&dir);
    }
}

static void
hd_animation_dialog_export_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *param)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (widget);
  g_autoptr(GTask) task = NULL;
  AnimTask *t;

  if (self->cancellable != NULL || self->keys->len < 2)
    return;

  g_clear_pointer (&self->frames_dir, g_free);
  self->frames_dir = choose_dir (self->folder);
  if (g_mkdir_with_parents (self->frames_dir, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *text = g_strdup_printf (_("Cannot create the folder “%s”: %s"), self->frames_dir, g_strerror (saved));
      hd_animation_dialog_show_status (self, text, TRUE);
      g_clear_pointer (&self->frames_dir, g_free);
      return;
    }

  t = g_new0 (AnimTask, 1);
  t->gen = hd_generator_ref (self->generator);
  t->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) keyframe_free);
  for (guint i = 0; i < self->keys->len; i++)
    {
      Keyframe *key = g_ptr_array_index (self->keys, i);
      Keyframe *copy = g_new0 (Keyframe, 1);
      g_autofree char *json = hd_state_to_json (key->state);

      copy->state = hd_state_from_json (json, NULL);
      copy->domains = g_ptr_array_ref (key->domains);
      g_ptr_array_add (t->keys, copy);
    }
  t->frames = (guint) gtk_spin_button_get_value_as_int (self->frames_spin);
  t->ease = gtk_switch_get_active (self->ease_switch);
  t->loop = gtk_switch_get_active (self->loop_switch);
  t->device = g_settings_get_string (self->settings, "device");
  t->dir = g_strdup (self->frames_dir);

  self->cancellable = g_cancellable_new ();
  self->progress = hd_export_progress_new (self->progress_bar, progress_label);
  t->progress = hd_export_progress_ref (self->progress);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  hd_animation_dialog_update (self);
  hd_export_scroll_to_end (GTK_WIDGET (self->page));

  task = g_task_new (NULL, self->cancellable, on_anim_done, g_object_ref (self));
  g_task_set_task_data (task, t, (GDestroyNotify) anim_task_free);
  g_task_run_in_thread (task, anim_thread);
}

static void
hd_animation_dialog_cancel_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *param)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (widget);

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      gtk_progress_bar_set_text (self->progress_bar, _("Cancelling…"));
    }
}

static char *
describe_key (const HdState *state,
              GPtrArray     *domains)
{
  GString *text = g_string_new (NULL);
  char psi[G_ASCII_DTOSTR_BUF_SIZE];

  if (state->latent_kind == HD_LATENT_SEED)
    g_string_append_printf (text, _("Seed %u"), state->seed);
  else
    g_string_append (text, _("Latent from a file"));
  g_ascii_formatd (psi, sizeof psi, "%.2f", state->psi);
  g_string_append_printf (text, " · ψ %s", psi);
  for (guint i = 0; i < state->domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);
      HdDomain *domain = g_ptr_array_index (domains, i);
      char weight[G_ASCII_DTOSTR_BUF_SIZE];

      if (sd->weight == 0.0f)
        continue;
      g_ascii_formatd (weight, sizeof weight, "%.2f", sd->weight);
      g_string_append_printf (text, " · %s %s", domain->name != NULL ? domain->name : "", weight);
    }
  return g_string_free (text, FALSE);
}

static void
hd_animation_dialog_rebuild_list (HdAnimationDialog *self);

static void
on_remove_key (GtkButton         *button,
               HdAnimationDialog *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "key-index"));

  if (index < self->keys->len && self->cancellable == NULL)
    {
      g_ptr_array_remove_index (self->keys, index);
      if (self->keys->len == 0)
        g_clear_pointer (&self->generator, hd_generator_unref);
      hd_animation_dialog_rebuild_list (self);
    }
}

static void
hd_animation_dialog_rebuild_list (HdAnimationDialog *self)
{
  GtkListBoxRow *old;

  while ((old = gtk_list_box_get_row_at_index (self->key_list, 0)) != NULL)
    gtk_list_box_remove (self->key_list, GTK_WIDGET (old));

  for (guint i = 0; i < self->keys->len; i++)
    {
      Keyframe *key = g_ptr_array_index (self->keys, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *title = g_strdup_printf (_("Keyframe %u"), i + 1);
      g_autofree char *subtitle = describe_key (key->state, key->domains);
      /* TRANSLATORS: accessible name of a button, read by a screen reader */
      g_autofree char *remove_name = g_strdup_printf (_("Remove keyframe %u"), i + 1);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove Keyframe"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, remove_name,
                                      -1);
      g_object_set_data (G_OBJECT (remove), "key-index", GUINT_TO_POINTER (i));
      g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_key), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (self->key_list, row);
    }
  hd_animation_dialog_update (self);
}

static void
hd_animation_dialog_add_key_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  g_autoptr(HdRenderJob) job = NULL;
  Keyframe *key;

  if (session == NULL || (job = hd_session_create_job (session)) == NULL)
    {
      hd_animation_dialog_show_status (self, _("Open a generator first"), TRUE);
      return;
    }
  if (self->generator != NULL && self->generator != job->gen)
    {
      hd_animation_dialog_show_status (self,
                                       _("The keyframes belong to another generator: remove them before adding states of this one"),
                                       TRUE);
      return;
    }

  key = g_new0 (Keyframe, 1);
  key->state = hd_render_job_to_state (job);
  key->domains = g_ptr_array_ref (job->domains);
  if (key->state == NULL)
    {
      keyframe_free (key);
      return;
    }
  if (self->generator == NULL)
    self->generator = hd_generator_ref (job->gen);
  g_ptr_array_add (self->keys, key);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  hd_animation_dialog_rebuild_list (self);
}

static void
on_folder_chosen (GtkNativeDialog   *chooser,
                  int                response,
                  HdAnimationDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        hd_animation_dialog_set_folder (self, path);
      else
        hd_animation_dialog_show_status (self, _("Choose a folder on this computer"), TRUE);
    }
  g_object_unref (chooser);
}

static void
hd_animation_dialog_choose_folder_action (GtkWidget  *widget,
                                          const char *action_name,
                                          GVariant   *param)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GFile) folder = g_file_new_for_path (self->folder);

  chooser = gtk_file_chooser_native_new (_("Animation Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (g_file_query_exists (folder, NULL))
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
hd_animation_dialog_dispose (GObject *object)
{
  HdAnimationDialog *self = (HdAnimationDialog *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_ANIMATION_DIALOG);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hd_animation_dialog_parent_class)->dispose (object);
}

static void
hd_animation_dialog_finalize (GObject *object)
{
  HdAnimationDialog *self = (HdAnimationDialog *)object;

  g_weak_ref_clear (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, hd_export_progress_unref);
  g_clear_pointer (&self->generator, hd_generator_unref);
  g_ptr_array_unref (self->keys);
  g_free (self->folder);
  g_free (self->frames_dir);

  G_OBJECT_CLASS (hd_animation_dialog_parent_class)->finalize (object);
}

static void
hd_animation_dialog_class_init (HdAnimationDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_animation_dialog_dispose;
  object_class->finalize = hd_animation_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-animation-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, page);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, key_list);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, frames_spin);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, frames_row);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, ease_switch);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, loop_switch);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, folder_row);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, status_label);

  gtk_widget_class_install_action (widget_class, "anim.add-key", NULL, hd_animation_dialog_add_key_action);
  gtk_widget_class_install_action (widget_class, "anim.export", NULL, hd_animation_dialog_export_action);
  gtk_widget_class_install_action (widget_class, "anim.cancel", NULL, hd_animation_dialog_cancel_action);
  gtk_widget_class_install_action (widget_class, "anim.choose-folder", NULL, hd_animation_dialog_choose_folder_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
hd_animation_dialog_init (HdAnimationDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_weak_ref_init (&self->session, NULL);
  self->settings = g_settings_new (APPLICATION_ID);
  self->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) keyframe_free);
  g_signal_connect_object (self->frames_spin, "value-changed", G_CALLBACK (hd_animation_dialog_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->loop_switch, "notify::active", G_CALLBACK (hd_animation_dialog_update), self, G_CONNECT_SWAPPED);
  hd_animation_dialog_update (self);
}

GtkWidget *
hd_animation_dialog_new (GtkWindow *parent,
                         HdSession *session)
{
  HdAnimationDialog *self;
  g_autofree char *folder = NULL;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_ANIMATION_DIALOG, "transient-for", parent, NULL);
  g_weak_ref_set (&self->session, session);

  folder = hd_export_default_folder (self->settings);
  hd_animation_dialog_set_folder (self, folder);
  return GTK_WIDGET (self);
}

void
hd_animation_dialog_set_folder (HdAnimationDialog *self,
                                const char        *folder)
{
  g_return_if_fail (HD_IS_ANIMATION_DIALOG (self));

  g_free (self->folder);
  self->folder = g_strdup (folder);
  adw_action_row_set_subtitle (self->folder_row, folder);
}

guint
hd_animation_dialog_get_n_keys (HdAnimationDialog *self)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), 0);
  return self->keys->len;
}

const HdState *
hd_animation_dialog_get_key (HdAnimationDialog *self,
                             guint              i)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), NULL);
  g_return_val_if_fail (i < self->keys->len, NULL);
  return ((Keyframe *) g_ptr_array_index (self->keys, i))->state;
}

gboolean
hd_animation_dialog_is_running (HdAnimationDialog *self)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

const char *
hd_animation_dialog_get_frames_dir (HdAnimationDialog *self)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), NULL);
  return self->frames_dir;
}

GtkWidget *
hd_animation_dialog_get_part (HdAnimationDialog *self,
                              const char        *name)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), NULL);
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), HD_TYPE_ANIMATION_DIALOG, name));
}
