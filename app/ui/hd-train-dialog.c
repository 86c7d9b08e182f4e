/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-TrainDialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-clip.h"
#include "hd-demo.h"
#include "hd-dialogs.h"
#include "hd-export-progress.h"
#include "hd-train-dialog.h"
#include "hd-trainer.h"

/* The window's image shows the domain as it trains at most this often:
 * each preview is a render. */
#define PREVIEW_INTERVAL_US (G_USEC_PER_SEC)

/* The longest file name made from a target prompt, in characters. */
#define MAX_NAME_CHARS 60

struct _HdTrainDialog
{
  AdwWindow            parent_instance;

  /* Template widgets */
  AdwPreferencesPage  *page;
  AdwEntryRow         *source_row;
  AdwEntryRow         *target_row;
  AdwPreferencesGroup *clips_group;
  AdwActionRow        *add_clip_row;
  GtkSpinButton       *steps_spin;
  GtkSpinButton       *batch_spin;
  GtkSpinButton       *lr_spin;
  GtkSpinButton       *mixing_spin;
  GtkSpinButton       *seed_spin;
  AdwActionRow        *file_row;
  GtkRevealer         *progress_revealer;
  GtkProgressBar      *progress_bar;
  GtkLabel            *status_label;

  GWeakRef             session;
  GSettings           *settings;
  GPtrArray           *clip_rows;     /* the rows of the CLIP files, in order */
  char                *path;          /* where the domain is saved */
  gboolean             path_chosen;   /* by the user: it no longer follows the target */
  GCancellable        *cancellable;   /* of the run, or NULL */
  struct _TrainProgress *progress;    /* of the run, or NULL */
  HdDomainItem        *result;
  /* A run whose file could not be written: its domain, kept until a file
   * is chosen for it (or another run starts), and its generator. */
  HdDomain            *unsaved;
  char                *unsaved_source;
  HdGenerator         *unsaved_gen;
  gboolean             disposed;
};

G_DEFINE_FINAL_TYPE (HdTrainDialog, hd_train_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_PREVIEW,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* What the training thread shares with the main thread: where its posts
 * go, and whether they still may.  STOPPED is touched on the main thread
 * only. */
typedef struct _TrainProgress
{
  gint          ref_count;
  GWeakRef      dialog;
  HdGenerator  *gen;       /* of the run */
  gboolean      stopped;
} TrainProgress;

static TrainProgress *
train_progress_new (HdTrainDialog *dialog,
                    HdGenerator   *gen)
{
  TrainProgress *progress = g_new0 (TrainProgress, 1);

  progress->ref_count = 1;
  g_weak_ref_init (&progress->dialog, dialog);
  progress->gen = hd_generator_ref (gen);
  return progress;
}

static TrainProgress *
train_progress_ref (TrainProgress *progress)
{
  g_atomic_int_inc (&progress->ref_count);
  return progress;
}

static void
train_progress_unref (TrainProgress *progress)
{
  if (progress == NULL || !g_atomic_int_dec_and_test (&progress->ref_count))
    return;
  g_weak_ref_clear (&progress->dialog);
  hd_generator_unref (progress->gen);
  g_free (progress);
}

/* One run: engine objects and strings only, so it may be freed on any
 * thread. */
typedef struct
{
  HdGenerator     *gen;
  char           **clips;
  char            *source;
  char            *target;
  HdTrainSettings  settings;
  char            *device;          /* Preferences' device for the steps */
  char            *path;
  TrainProgress   *progress;
  HdDomain        *unsaved;         /* trained, but its file could not be written */
  char            *unsaved_source;
} TrainJob;

static void
train_job_free (TrainJob *job)
{
  hd_generator_unref (job->gen);
  g_strfreev (job->clips);
  g_free (job->source);
  g_free (job->target);
  g_free (job->device);
  g_free (job->path);
  train_progress_unref (job->progress);
  g_clear_pointer (&job->unsaved, hd_domain_unref);
  g_free (job->unsaved_source);
  g_free (job);
}

/* What a post from the thread carries: a phase (text on the bar), or a
 * step with its loss and maybe the domain after it. */
typedef struct
{
  TrainProgress *progress;
  char          *phase;
  int            done;
  int            steps;
  int            step;
  int            last;
  double         loss;
  HdDomain      *preview;
} TrainPost;

static void
train_post_free (gpointer data)
{
  TrainPost *post = data;

  train_progress_unref (post->progress);
  g_free (post->phase);
  g_clear_pointer (&post->preview, hd_domain_unref);
  g_free (post);
}

static gboolean
train_post_deliver (gpointer data)
{
  TrainPost *post = data;
  g_autoptr(HdTrainDialog) self = g_weak_ref_get (&post->progress->dialog);

  if (self == NULL || post->progress->stopped || self->disposed)
    return G_SOURCE_REMOVE;

  if (post->phase != NULL)
    {
      gtk_progress_bar_set_text (self->progress_bar, post->phase);
      return G_SOURCE_REMOVE;
    }

  {
    /* Translators: the step of a training run, the last step, and the
     * loss of that step. */
    g_autofree char *text = g_strdup_printf (_("Step %d of %d · loss %.4f"), post->step, post->last,
                                             post->loss);
    gtk_progress_bar_set_text (self->progress_bar, text);
    gtk_progress_bar_set_fraction (self->progress_bar, (double) post->done / MAX (post->steps, 1));
  }
  if (post->preview != NULL)
    {
      g_autofree char *badge = g_strdup_printf (_("Training: step %d of %d"), post->step, post->last);
      g_signal_emit (self, signals[SIGNAL_PREVIEW], 0, post->preview, post->progress->gen, badge);
    }
  return G_SOURCE_REMOVE;
}

/* From the thread: the post goes to the main loop. */
static void
train_post (TrainProgress *progress,
            TrainPost     *post)
{
  post->progress = train_progress_ref (progress);
  g_idle_add_full (G_PRIORITY_DEFAULT, train_post_deliver, post, train_post_free);
}

static void
train_post_phase (TrainProgress *progress,
                  const char    *phase)
{
  TrainPost *post = g_new0 (TrainPost, 1);

  post->phase = g_strdup (phase);
  train_post (progress, post);
}

static gboolean
train_save (HdTrainer   *trainer,
            int          step,
            const char  *path,
            HdDomain   **out,
            GError     **error)
{
  g_autoptr(HdDomain) domain = hd_trainer_make_domain (trainer, step);
  g_autofree char *source = hd_trainer_describe (trainer);
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create the folder “%s”: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  /* Written to a temporary file and renamed: whole or not at all. */
  if (!hd_domain_save (domain, source, path, error))
    return FALSE;
  g_free (domain->path);
  domain->path = g_strdup (path);
  *out = g_steal_pointer (&domain);
  return TRUE;
}

static gboolean
train_run (TrainJob      *job,
           GCancellable  *cancellable,
           HdDomain     **out,
           GError       **error)
{
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(GError) device_error = NULL;
  HdTrainer *trainer;
  gint64 last_preview = 0;
  int step = 0, last;
  gboolean ok = TRUE;

  train_post_phase (job->progress, _("Loading the CLIP files…"));
  for (guint i = 0; job->clips[i] != NULL; i++)
    {
      HdClip *clip;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if ((clip = hd_clip_load (job->clips[i], error)) == NULL)
        return FALSE;
      g_ptr_array_add (clips, clip);
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  /* The steps run on the device that renders the image, beside it (a
   * context of their own); without one, on the CPU's reference. */
  ctx = hd_vk_context_new (job->device, &device_error);
  if (ctx == NULL)
    g_message ("Training on the CPU: %s", device_error->message);
  train_post_phase (job->progress, ctx != NULL ? _("Encoding the prompts…")
                                               : _("No Vulkan device: training on the CPU, slowly…"));
  trainer = hd_trainer_new_on_device (ctx, job->gen, clips, job->source, job->target, &job->settings, NULL,
                                      error);
  if (trainer == NULL)
    return FALSE;
  if (hd_trainer_get_note (trainer) != NULL)
    {
      g_message ("%s", hd_trainer_get_note (trainer));
      train_post_phase (job->progress, _("Training on the CPU: the device cannot hold this generator’s "
                                         "training step…"));
    }
  last = hd_trainer_get_last_step (trainer);

  /* Cancelling is checked between steps, and once more before the file
   * is written: a cancelled run writes nothing. */
  while (hd_trainer_get_steps_done (trainer) < job->settings.steps)
    {
      TrainPost *post;
      double loss = 0.0;
      gint64 now;

      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !hd_trainer_step (trainer, &step, &loss, error))
        {
          ok = FALSE;
          break;
        }
      post = g_new0 (TrainPost, 1);
      post->done = hd_trainer_get_steps_done (trainer);
      post->steps = job->settings.steps;
      post->step = step;
      post->last = last;
      post->loss = loss;
      now = g_get_monotonic_time ();
      /* The last step's domain is the result, not a preview. */
      if (step != last && (last_preview == 0 || now - last_preview >= PREVIEW_INTERVAL_US))
        {
          post->preview = hd_trainer_make_domain (trainer, step);
          last_preview = now;
        }
      train_post (job->progress, post);
    }

  if (ok && !g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      train_post_phase (job->progress, _("Saving…"));
      ok = train_save (trainer, step, job->path, out, error);
      /* Minutes of training are not thrown away for a folder that went
       * read-only: the domain waits for another file. */
      if (!ok)
        {
          job->unsaved = hd_trainer_make_domain (trainer, step);
          job->unsaved_source = hd_trainer_describe (trainer);
        }
    }
  else
    ok = FALSE;
  hd_trainer_free (trainer);
  return ok;
}

static void
train_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  HdDomain *domain = NULL;
  GError *error = NULL;

  if (train_run (task_data, cancellable, &domain, &error))
    g_task_return_pointer (task, domain, (GDestroyNotify) hd_domain_unref);
  else
    g_task_return_error (task, error);
}

/* The status line */

static void
show_status (HdTrainDialog *self,
             const char    *text,
             gboolean       is_error)
{
  if (text == NULL)
    gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  else
    hd_export_show_status (self->status_label, GTK_WIDGET (self->page), text, is_error);
}

/* Says how the run went, in the status line and to whoever shows it
 * when the dialog is hidden (the window, in a toast). */
static void
show_outcome (HdTrainDialog *self,
              const char    *text,
              gboolean       is_error)
{
  show_status (self, text, is_error);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, text);
}

/* Paths */

/* A file name from the target prompt: its letters and digits, lower
 * case, words joined by '-'. */
static char *
name_from_prompt (const char *prompt)
{
  GString *name = g_string_new (NULL);
  guint n_chars = 0;
  gboolean dash = FALSE;

  for (const char *p = prompt; p != NULL && *p != '\0' && n_chars < MAX_NAME_CHARS; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        break;
      if (g_unichar_isalnum (c))
        {
          if (dash && name->len > 0)
            {
              g_string_append_c (name, '-');
              n_chars++;
            }
          dash = FALSE;
          g_string_append_unichar (name, g_unichar_tolower (c));
          n_chars++;
        }
      else
        dash = TRUE;
    }
  if (name->len == 0)
    g_string_append (name, "domain");
  return g_string_free (name, FALSE);
}

/* Beside the session's domain files (the last one added), else in the
 * export folder. */
static char *
default_folder (HdTrainDialog *self)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);

  if (session != NULL)
    {
      GListModel *model = hd_session_get_domains (session);

      for (guint i = g_list_model_get_n_items (model); i > 0; i--)
        {
          g_autoptr(HdDomainItem) item = g_list_model_get_item (model, i - 1);
          HdDomain *domain = hd_domain_item_get_domain (item);

          if (domain->path != NULL && domain->prompt == NULL)
            return g_path_get_dirname (domain->path);
        }
    }
  return hd_export_default_folder (self->settings);
}

/* FOLDER/NAME.safetensors, or NAME-2, -3, … when that is taken. */
static char *
unused_path (const char *folder,
             const char *name)
{
  for (guint n = 1; ; n++)
    {
      g_autofree char *base = n == 1 ? g_strdup_printf ("%s.safetensors", name)
                                     : g_strdup_printf ("%s-%u.safetensors", name, n);
      g_autofree char *path = g_build_filename (folder, base, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&path);
    }
}

static void
set_path (HdTrainDialog *self,
          const char    *path)
{
  g_free (self->path);
  self->path = g_strdup (path);
  adw_action_row_set_subtitle (self->file_row, path);
}

/* The default file follows the target prompt until one is chosen. */
static void
update_default_path (HdTrainDialog *self)
{
  g_autofree char *folder = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (self->path_chosen)
    return;
  folder = default_folder (self);
  name = name_from_prompt (gtk_editable_get_text (GTK_EDITABLE (self->target_row)));
  path = unused_path (folder, name);
  set_path (self, path);
}

/* Actions */

static gboolean
has_text (AdwEntryRow *row)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static void
update_actions (HdTrainDialog *self)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  gboolean running = self->cancellable != NULL;
  gboolean ready = session != NULL && hd_session_get_generator (session) != NULL &&
                   has_text (self->source_row) && has_text (self->target_row) &&
                   self->clip_rows->len > 0 && self->path != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->page), !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start", !running && ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.cancel", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.choose-file", !running);
  gtk_revealer_set_reveal_child (self->progress_revealer, running);
}

static void add_result (HdTrainDialog *self,
                        HdDomain      *domain,
                        HdGenerator   *gen,
                        const char    *name);

static void
clear_unsaved (HdTrainDialog *self)
{
  g_clear_pointer (&self->unsaved, hd_domain_unref);
  g_clear_pointer (&self->unsaved_source, g_free);
  g_clear_pointer (&self->unsaved_gen, hd_generator_unref);
}

static void
on_train_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(HdTrainDialog) self = user_data;
  TrainJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(HdDomain) domain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_path_get_basename (job->path);
  g_autofree char *text = NULL;

  domain = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->disposed)
    return;

  job->progress->stopped = TRUE;
  g_clear_pointer (&self->progress, train_progress_unref);
  g_clear_object (&self->cancellable);
  update_actions (self);
  g_signal_emit (self, signals[SIGNAL_PREVIEW], 0, NULL, NULL, NULL);

  if (domain == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_outcome (self, _("Cancelled: nothing was saved"), FALSE);
      else if (job->unsaved != NULL)
        {
          clear_unsaved (self);
          self->unsaved = hd_domain_ref (job->unsaved);
          self->unsaved_source = g_strdup (job->unsaved_source);
          self->unsaved_gen = hd_generator_ref (job->gen);
          text = g_strdup_printf (_("The domain is trained but could not be saved: %s. Choose another "
                                    "file to keep it."), error->message);
          show_outcome (self, text, TRUE);
        }
      else
        {
          text = g_strdup_printf (_("Could not train the domain: %s"), error->message);
          show_outcome (self, text, TRUE);
        }
      return;
    }

  add_result (self, domain, job->gen, name);
}

/* DOMAIN, saved as NAME, trained on GEN, becomes a row at weight 1. */
static void
add_result (HdTrainDialog *self,
            HdDomain      *domain,
            HdGenerator   *gen,
            const char    *name)
{
  g_autoptr(HdSession) session = NULL;
  g_autoptr(GPtrArray) domains = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GListModel *model;

  /* The row goes on showing where the domain was saved; the next run
   * takes a free name again (update_default_path), beside it. */
  self->path_chosen = FALSE;

  session = g_weak_ref_get (&self->session);
  if (session == NULL || hd_session_get_generator (session) != gen)
    {
      text = g_strdup_printf (_("Saved “%s”; another generator is open now, so it was not added"), name);
      show_outcome (self, text, FALSE);
      return;
    }

  domains = g_ptr_array_new ();
  g_ptr_array_add (domains, domain);
  model = hd_session_get_domains (session);
  if (!hd_session_add_domains (session, domains, NULL, &error))
    {
      text = g_strdup_printf (_("Saved “%s”, but could not add it: %s"), name, error->message);
      show_outcome (self, text, TRUE);
      return;
    }
  g_clear_object (&self->result);
  self->result = g_list_model_get_item (model, g_list_model_get_n_items (model) - 1);
  /* At full weight, as the preview showed it; the same main-loop
   * iteration as the addition, so one step of the history. */
  hd_domain_item_set_weight (self->result, 1.0);

  text = g_strdup_printf (_("Saved “%s” and added it to the domains"), name);
  show_outcome (self, text, FALSE);
}

/* The domain of a run whose file could not be written, to the file now
 * chosen; then a row, as after a run. */
static void
save_unsaved (HdTrainDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDomain) domain = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autofree char *name = g_path_get_basename (self->path);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;

      g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create the folder “%s”: %s"), dir, g_strerror (saved));
    }
  if (error != NULL || !hd_domain_save (self->unsaved, self->unsaved_source, self->path, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The domain is trained but could not be saved: %s. "
                                                 "Choose another file to keep it."), error->message);
      show_outcome (self, text, TRUE);
      return;
    }
  domain = hd_domain_ref (self->unsaved);
  gen = hd_generator_ref (self->unsaved_gen);
  g_free (domain->path);
  domain->path = g_strdup (self->path);
  clear_unsaved (self);
  add_result (self, domain, gen, name);
}

static void
start_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  g_autoptr(GTask) task = NULL;
  g_autofree char *dir = NULL;
  HdGenerator *gen;
  TrainJob *job;

  if (self->cancellable != NULL || session == NULL)
    return;
  gen = hd_session_get_generator (session);
  if (gen == NULL)
    {
      show_status (self, _("Open a generator first"), TRUE);
      return;
    }
  if (gen->config.img_channels != 3)
    {
      g_autofree char *text = g_strdup_printf (_("CLIP needs RGB images; the generator “%s” makes %d channels"),
                                               gen->name, gen->config.img_channels);
      show_status (self, text, TRUE);
      return;
    }
  /* A default name taken meanwhile gives way to the next free one. */
  if (!self->path_chosen)
    update_default_path (self);
  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *text = g_strdup_printf (_("Cannot create the folder “%s”: %s"), dir, g_strerror (saved));

      show_status (self, text, TRUE);
      return;
    }

  job = g_new0 (TrainJob, 1);
  job->gen = hd_generator_ref (gen);
  job->clips = g_settings_get_strv (self->settings, "train-clips");
  job->device = g_settings_get_string (self->settings, "device");
  job->source = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->source_row)));
  job->target = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->target_row)));
  hd_train_settings_init (&job->settings);
  job->settings.steps = gtk_spin_button_get_value_as_int (self->steps_spin);
  job->settings.batch = gtk_spin_button_get_value_as_int (self->batch_spin);
  job->settings.lr = gtk_spin_button_get_value (self->lr_spin);
  job->settings.mixing = gtk_spin_button_get_value (self->mixing_spin);
  job->settings.seed = (guint32) gtk_spin_button_get_value (self->seed_spin);
  job->path = g_strdup (self->path);
  self->progress = train_progress_new (self, gen);
  job->progress = train_progress_ref (self->progress);

  g_clear_object (&self->result);
  clear_unsaved (self);
  self->cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
  show_status (self, NULL, FALSE);
  update_actions (self);

  task = g_task_new (NULL, self->cancellable, on_train_done, g_object_ref (self));
  /* A run that wrote its file is over, even when Cancel came too late:
   * its domain is added. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, job, (GDestroyNotify) train_job_free);
  g_task_run_in_thread (task, train_thread);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (widget);

  if (self->cancellable == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  gtk_progress_bar_set_text (self->progress_bar, _("Cancelling…"));
}

/* CLIP files */

static void
rebuild_clip_rows (HdTrainDialog *self)
{
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "train-clips");

  for (guint i = 0; i < self->clip_rows->len; i++)
    adw_preferences_group_remove (self->clips_group, g_ptr_array_index (self->clip_rows, i));
  g_ptr_array_set_size (self->clip_rows, 0);
  /* The add row stays last. */
  adw_preferences_group_remove (self->clips_group, GTK_WIDGET (self->add_clip_row));

  for (guint i = 0; paths[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *name = g_filename_display_basename (paths[i]);
      g_autofree char *dir = g_path_get_dirname (paths[i]);
      g_autofree char *dir_name = g_filename_display_name (dir);
      g_autofree char *label = g_strdup_printf (_("Remove “%s”"), name);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), dir_name);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "train.remove-clip");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (remove), g_variant_new_string (paths[i]));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (self->clips_group, row);
      g_ptr_array_add (self->clip_rows, row);
    }
  adw_preferences_group_add (self->clips_group, GTK_WIDGET (self->add_clip_row));
}

static void
on_clips_changed (HdTrainDialog *self)
{
  rebuild_clip_rows (self);
  update_actions (self);
}

static void
add_clips (HdTrainDialog *self,
           GPtrArray     *paths)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "train-clips");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) all = NULL;

  g_strv_builder_addv (builder, (const char **) old);
  for (guint i = 0; i < paths->len; i++)
    if (!g_strv_contains ((const char * const *) old, g_ptr_array_index (paths, i)))
      g_strv_builder_add (builder, g_ptr_array_index (paths, i));
  all = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "train-clips", (const char * const *) all);
}

static void
on_clips_chosen (GtkNativeDialog *chooser,
                 int              response,
                 HdTrainDialog   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);
          char *path = g_file_get_path (file);

          if (path != NULL)
            g_ptr_array_add (paths, path);
        }
      if (paths->len < g_list_model_get_n_items (files))
        show_status (self, _("Choose files on this computer"), TRUE);
      add_clips (self, paths);
    }
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
add_clips_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (widget);
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "train-clips");
  g_autofree char *folder = paths[0] != NULL ? g_path_get_dirname (paths[g_strv_length (paths) - 1]) : NULL;
  GtkFileChooserNative *chooser;

  chooser = hd_file_chooser_new (GTK_WINDOW (self), _("Add CLIP Files"), GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Add"), folder);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  hd_file_chooser_add_filter (chooser, _("CLIP Files (.safetensors)"), "*.safetensors");
  hd_file_chooser_add_filter (chooser, _("All Files"), "*");
  g_signal_connect (chooser, "response", G_CALLBACK (on_clips_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
remove_clip_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (widget);
  const char *path = g_variant_get_string (param, NULL);
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "train-clips");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) rest = NULL;

  for (guint i = 0; old[i] != NULL; i++)
    if (!g_str_equal (old[i], path))
      g_strv_builder_add (builder, old[i]);
  rest = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "train-clips", (const char * const *) rest);
  /* The focus was on the row that went: the add row takes it. */
  gtk_widget_grab_focus (GTK_WIDGET (self->add_clip_row));
}

/* The output file */

static void
on_file_chosen (GtkNativeDialog *chooser,
                int              response,
                HdTrainDialog   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path == NULL)
        show_status (self, _("Choose a folder on this computer"), TRUE);
      else
        {
          g_autofree char *full = g_str_has_suffix (path, ".safetensors")
                                  ? g_strdup (path) : g_strconcat (path, ".safetensors", NULL);

          hd_train_dialog_set_path (self, full);
        }
    }
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
choose_file_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (widget);
  g_autofree char *folder = self->path != NULL ? g_path_get_dirname (self->path) : NULL;
  g_autofree char *name = self->path != NULL ? g_path_get_basename (self->path) : NULL;
  GtkFileChooserNative *chooser;

  chooser = hd_file_chooser_new (GTK_WINDOW (self), _("Save Domain As"), GTK_FILE_CHOOSER_ACTION_SAVE,
                                 _("_Save"), folder);
  if (name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  hd_file_chooser_add_filter (chooser, _("Domains (.safetensors)"), "*.safetensors");
  g_signal_connect (chooser, "response", G_CALLBACK (on_file_chosen), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Changes */

static void
on_target_changed (HdTrainDialog *self)
{
  if (self->cancellable == NULL)
    update_default_path (self);
  update_actions (self);
}

/* With no CLIP files chosen yet and the demo model open, the demo's own
 * CLIP is the one to train with: it goes into the list (and so is
 * remembered), where the user may remove it like any other. */
static void
offer_demo_clip (HdTrainDialog *self)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "train-clips");
  g_autofree char *demo = NULL;
  g_autofree char *demo_clip = NULL;
  HdGenerator *gen;

  if (session == NULL || paths[0] != NULL || (gen = hd_session_get_generator (session)) == NULL ||
      gen->path == NULL || !hd_demo_model_find (&demo, NULL) || (demo_clip = hd_demo_clip_find ()) == NULL)
    return;
  {
    g_autoptr(GFile) a = g_file_new_for_path (gen->path);
    g_autoptr(GFile) b = g_file_new_for_path (demo);
    const char *const clips[] = { demo_clip, NULL };

    if (g_file_equal (a, b))
      g_settings_set_strv (self->settings, "train-clips", clips);
  }
}

static void
on_session_notify (HdTrainDialog *self)
{
  offer_demo_clip (self);
  update_actions (self);
}

/* GObject */

static void
hd_train_dialog_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_take_object (value, g_weak_ref_get (&self->session));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_train_dialog_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_weak_ref_set (&self->session, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_train_dialog_constructed (GObject *object)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (object);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);

  G_OBJECT_CLASS (hd_train_dialog_parent_class)->constructed (object);

  if (session != NULL)
    g_signal_connect_object (session, "notify::has-generator", G_CALLBACK (on_session_notify), self,
                             G_CONNECT_SWAPPED);
  offer_demo_clip (self);
  update_default_path (self);
  update_actions (self);
}

static void
hd_train_dialog_dispose (GObject *object)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (object);
  /* The template's pointer is cleared with the template: the reference
   * taken in init is dropped after it. */
  GtkWidget *add_clip_row = GTK_WIDGET (self->add_clip_row);

  self->disposed = TRUE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->progress != NULL)
    self->progress->stopped = TRUE;
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  if (self->clip_rows != NULL)
    g_ptr_array_set_size (self->clip_rows, 0);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_TRAIN_DIALOG);
  self->add_clip_row = NULL;
  g_clear_object (&add_clip_row);
  g_clear_object (&self->settings);
  g_clear_object (&self->result);
  clear_unsaved (self);

  G_OBJECT_CLASS (hd_train_dialog_parent_class)->dispose (object);
}

static void
hd_train_dialog_finalize (GObject *object)
{
  HdTrainDialog *self = HD_TRAIN_DIALOG (object);

  g_weak_ref_clear (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, train_progress_unref);
  g_clear_pointer (&self->clip_rows, g_ptr_array_unref);
  g_free (self->path);

  G_OBJECT_CLASS (hd_train_dialog_parent_class)->finalize (object);
}

static void
hd_train_dialog_class_init (HdTrainDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hd_train_dialog_get_property;
  object_class->set_property = hd_train_dialog_set_property;
  object_class->constructed = hd_train_dialog_constructed;
  object_class->dispose = hd_train_dialog_dispose;
  object_class->finalize = hd_train_dialog_finalize;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, HD_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* ::preview (domain, generator, badge): the domain as it trains (an
   * HdDomain*, borrowed) for the generator of the run (an HdGenerator*,
   * borrowed), to show on the image with BADGE; NULLs when the run is
   * over. */
  signals[SIGNAL_PREVIEW] =
    g_signal_new ("preview", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_POINTER, G_TYPE_STRING);
  /* ::finished (text): a run is over; TEXT says how it went. */
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-train-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, page);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, source_row);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, target_row);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, clips_group);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, add_clip_row);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, steps_spin);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, batch_spin);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, lr_spin);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, mixing_spin);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, file_row);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HdTrainDialog, status_label);

  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "train.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "train.add-clips", NULL, add_clips_action);
  gtk_widget_class_install_action (widget_class, "train.remove-clip", "s", remove_clip_action);
  gtk_widget_class_install_action (widget_class, "train.choose-file", NULL, choose_file_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
hd_train_dialog_init (HdTrainDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_weak_ref_init (&self->session, NULL);
  self->settings = g_settings_new (APPLICATION_ID);
  self->clip_rows = g_ptr_array_new ();
  /* Taken out and put back as the last row whenever the files change. */
  g_object_ref (self->add_clip_row);

  g_signal_connect_object (self->source_row, "changed", G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->target_row, "changed", G_CALLBACK (on_target_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::train-clips", G_CALLBACK (on_clips_changed), self,
                           G_CONNECT_SWAPPED);
  rebuild_clip_rows (self);
}

GtkWidget *
hd_train_dialog_new (GtkWindow *parent,
                     HdSession *session)
{
  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  return g_object_new (HD_TYPE_TRAIN_DIALOG, "transient-for", parent, "session", session, NULL);
}

gboolean
hd_train_dialog_is_running (HdTrainDialog *self)
{
  g_return_val_if_fail (HD_IS_TRAIN_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

void
hd_train_dialog_set_clips (HdTrainDialog       *self,
                           const char * const  *paths)
{
  g_return_if_fail (HD_IS_TRAIN_DIALOG (self));
  g_settings_set_strv (self->settings, "train-clips", paths);
}

void
hd_train_dialog_set_path (HdTrainDialog *self,
                          const char    *path)
{
  g_return_if_fail (HD_IS_TRAIN_DIALOG (self));
  g_return_if_fail (path != NULL);

  self->path_chosen = TRUE;
  set_path (self, path);
  update_actions (self);
  if (self->unsaved != NULL && self->cancellable == NULL)
    save_unsaved (self);
}

const char *
hd_train_dialog_get_path (HdTrainDialog *self)
{
  g_return_val_if_fail (HD_IS_TRAIN_DIALOG (self), NULL);
  return self->path;
}

HdDomainItem *
hd_train_dialog_get_result (HdTrainDialog *self)
{
  g_return_val_if_fail (HD_IS_TRAIN_DIALOG (self), NULL);
  return self->result;
}
