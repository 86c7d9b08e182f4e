/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-AnimationDialog"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-animation.h"
#include "hd-animation-dialog.h"

typedef struct
{
  HdState   *state;
  GPtrArray *domains;   /* HdDomain*, one per state domain */
} Keyframe;

struct _HdAnimationDialog
{
  HdExportDialog   parent_instance;

  GtkListBox      *key_list;
  GtkSpinButton   *frames_spin;
  AdwActionRow    *frames_row;
  GtkSwitch       *ease_switch;
  GtkSwitch       *loop_switch;

  HdGenerator     *generator;   /* of the keyframes */
  GPtrArray       *keys;        /* Keyframe* */
  char            *frames_dir;
};

G_DEFINE_FINAL_TYPE (HdAnimationDialog, hd_animation_dialog, HD_TYPE_EXPORT_DIALOG)

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
  GPtrArray    *keys;       /* Keyframe*, shared with nobody */
  guint         frames;
  gboolean      ease;
  gboolean      loop;
  char         *dir;
} AnimTask;

static void
anim_task_free (AnimTask *t)
{
  g_ptr_array_unref (t->keys);
  g_free (t->dir);
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

static gboolean
anim_export (HdRenderer       *renderer,
             HdGenerator      *gen,
             gpointer          data,
             HdExportProgress *progress,
             GCancellable     *cancellable,
             GError          **error)
{
  AnimTask *t = data;
  g_autoptr(HdAnimation) anim = hd_animation_new (gen, t->frames, t->ease, t->loop);

  for (guint i = 0; i < t->keys->len; i++)
    {
      Keyframe *key = g_ptr_array_index (t->keys, i);

      if (!hd_animation_add_key (anim, key->state, key->domains, error))
        return FALSE;
    }

  if (hd_animation_render (anim, renderer, frame_path, t, hd_export_progress_post, progress, cancellable, error))
    return TRUE;
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    hd_export_remove_partial (t->dir, "frame-");
  return FALSE;
}

static void
hd_animation_dialog_update (HdAnimationDialog *self)
{
  guint n = self->keys->len;
  guint per = (guint) gtk_spin_button_get_value_as_int (self->frames_spin);
  gboolean loop = gtk_switch_get_active (self->loop_switch);
  guint total = n < 2 ? 0 : loop ? n * per : (n - 1) * per + 1;
  g_autofree char *subtitle = NULL;

  if (total > 0)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u frame in all", "%u frames in all", total), total);
  adw_action_row_set_subtitle (self->frames_row, subtitle != NULL ? subtitle : "");
  hd_export_dialog_update_actions (HD_EXPORT_DIALOG (self));
}

static gboolean
hd_animation_dialog_can_start (HdExportDialog *export)
{
  return HD_ANIMATION_DIALOG (export)->keys->len >= 2;
}

static void
hd_animation_dialog_finish (HdExportDialog *export,
                            gpointer        data,
                            const GError   *error)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (export);
  g_autofree char *text = NULL;

  if (error != NULL)
    {
      hd_export_dialog_show_failure (export, error, _("Could not export the animation: %s"),
                                     error->message);
      g_clear_pointer (&self->frames_dir, g_free);
      return;
    }
  text = g_strdup_printf (_("Saved the frames in %s"), self->frames_dir);
  hd_export_dialog_show_status (export, text, FALSE);
}

static void
hd_animation_dialog_start (HdExportDialog *export)
{
  HdAnimationDialog *self = HD_ANIMATION_DIALOG (export);
  AnimTask *t;

  /* animation-N with the first N that names nothing yet. */
  g_clear_pointer (&self->frames_dir, g_free);
  if ((self->frames_dir = hd_export_dialog_make_new_folder (export, "animation")) == NULL)
    return;

  t = g_new0 (AnimTask, 1);
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
  t->dir = g_strdup (self->frames_dir);

  hd_export_dialog_run (export, self->generator, anim_export, t, (GDestroyNotify) anim_task_free, progress_label);
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

  if (index < self->keys->len && !hd_export_dialog_is_running (HD_EXPORT_DIALOG (self)))
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
  HdExportDialog *export = HD_EXPORT_DIALOG (widget);
  g_autoptr(HdSession) session = hd_export_dialog_dup_session (export);
  g_autoptr(HdRenderJob) job = NULL;
  Keyframe *key;

  if (session == NULL || (job = hd_session_create_job (session)) == NULL)
    {
      hd_export_dialog_show_status (export, _("Open a generator first"), TRUE);
      return;
    }
  if (self->generator != NULL && self->generator != job->gen)
    {
      hd_export_dialog_show_status (export,
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
  hd_export_dialog_show_status (export, NULL, FALSE);
  hd_animation_dialog_rebuild_list (self);
}

static void
hd_animation_dialog_finalize (GObject *object)
{
  HdAnimationDialog *self = (HdAnimationDialog *)object;

  g_clear_pointer (&self->generator, hd_generator_unref);
  g_ptr_array_unref (self->keys);
  g_free (self->frames_dir);

  G_OBJECT_CLASS (hd_animation_dialog_parent_class)->finalize (object);
}

static void
hd_animation_dialog_class_init (HdAnimationDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  HdExportDialogClass *export_class = HD_EXPORT_DIALOG_CLASS (klass);

  object_class->finalize = hd_animation_dialog_finalize;
  export_class->start = hd_animation_dialog_start;
  export_class->can_start = hd_animation_dialog_can_start;
  export_class->finish = hd_animation_dialog_finish;

  hd_export_dialog_class_set_template (export_class, "/io/github/hyperdomain/Hyperdomain/hd-animation-dialog.ui",
                                       "anim", N_("Animation Folder"));
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, key_list);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, frames_spin);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, frames_row);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, ease_switch);
  gtk_widget_class_bind_template_child (widget_class, HdAnimationDialog, loop_switch);

  gtk_widget_class_install_action (widget_class, "anim.add-key", NULL, hd_animation_dialog_add_key_action);
}

static void
hd_animation_dialog_init (HdAnimationDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) keyframe_free);
  g_signal_connect_object (self->frames_spin, "value-changed", G_CALLBACK (hd_animation_dialog_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->loop_switch, "notify::active", G_CALLBACK (hd_animation_dialog_update), self, G_CONNECT_SWAPPED);
  hd_animation_dialog_update (self);
}

GtkWidget *
hd_animation_dialog_new (GtkWindow *parent,
                         HdSession *session)
{
  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  return g_object_new (HD_TYPE_ANIMATION_DIALOG, "transient-for", parent, "session", session, NULL);
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

const char *
hd_animation_dialog_get_frames_dir (HdAnimationDialog *self)
{
  g_return_val_if_fail (HD_IS_ANIMATION_DIALOG (self), NULL);
  return self->frames_dir;
}
