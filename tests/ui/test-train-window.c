/* SPDX-License-Identifier: GPL-3.0-or-later */
/* "New Domain from Text" in the window: a run of the tiny generator with
 * the training CLIP adds a row at weight 1 whose domain is the one
 * hd_trainer computes for the same settings, saved where asked; undo
 * takes the row away; cancel mid-run leaves no file and no row; a CLIP
 * file that does not load and a prompt too long are said in the dialog. */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hd-clip.h"
#include "hd-demo.h"
#include "hd-png.h"
#include "hd-train-dialog.h"
#include "hd-trainer.h"
#include "hd-ui-test-util.h"

#define SOURCE "Photo"
#define TARGET "3D Render in the Style of Pixar"

static guint
n_domains (HdWindow *window)
{
  return g_list_model_get_n_items (hd_session_get_domains (hd_window_get_session (window)));
}

static gboolean
run_over (gpointer dialog)
{
  return !hd_train_dialog_is_running (dialog);
}

static GtkWidget *
part (HdTrainDialog *dialog,
      const char    *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), HD_TYPE_TRAIN_DIALOG, name));
}

static const char *
status_text (HdTrainDialog *dialog)
{
  GtkWidget *label = part (dialog, "status_label");

  return gtk_widget_get_visible (label) ? gtk_label_get_label (GTK_LABEL (label)) : "";
}

static gboolean
status_is_error (HdTrainDialog *dialog)
{
  GtkWidget *label = part (dialog, "status_label");

  return gtk_widget_get_visible (label) && gtk_widget_has_css_class (label, "error");
}

static void
on_preview (HdTrainDialog *dialog,
            gpointer       domain,
            gpointer       gen,
            const char    *badge,
            guint         *n_previews)
{
  if (domain != NULL)
    (*n_previews)++;
}

/* Opens the dialog of WINDOW and fills it in. */
static HdTrainDialog *
open_dialog (HdWindow   *window,
             const char *clip,
             const char *target,
             int         steps,
             const char *path)
{
  HdTrainDialog *dialog;
  const char *clips[] = { clip, NULL };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL));
  dialog = HD_TRAIN_DIALOG (hd_window_get_train_dialog (window));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));

  hd_train_dialog_set_clips (dialog, clips);
  gtk_editable_set_text (GTK_EDITABLE (part (dialog, "source_row")), SOURCE);
  gtk_editable_set_text (GTK_EDITABLE (part (dialog, "target_row")), target);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part (dialog, "steps_spin")), steps);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part (dialog, "batch_spin")), 2);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part (dialog, "seed_spin")), 7);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part (dialog, "lr_spin")), 0.05);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part (dialog, "mixing_spin")), 0.5);
  if (path != NULL)
    hd_train_dialog_set_path (dialog, path);
  return dialog;
}

/* The domain hd_trainer makes for the dialog's settings, on the device
 * the window trains on (Preferences' "auto"). */
static float *
train_directly (HdGenerator *gen,
                const char  *clip_path)
{
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = hd_vk_context_new ("auto", NULL);
  HdTrainSettings settings;
  HdTrainer *trainer;
  HdClip *clip;
  float *d;
  int step;
  double loss;

  clip = hd_clip_load (clip_path, &error);
  g_assert_no_error (error);
  g_ptr_array_add (clips, clip);
  hd_train_settings_init (&settings);
  settings.steps = 3;
  settings.batch = 2;
  settings.seed = 7;
  settings.lr = 0.05;
  settings.mixing = 0.5;
  trainer = hd_trainer_new_on_device (ctx, gen, clips, SOURCE, TARGET, &settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hd_trainer_is_on_device (trainer));
  while (hd_trainer_step (trainer, &step, &loss, &error))
    ;
  g_assert_no_error (error);
  g_assert_cmpint (hd_trainer_get_steps_done (trainer), ==, 3);
  d = g_memdup2 (hd_trainer_get_d (trainer), sizeof (float) * gen->domain_dim);
  hd_trainer_free (trainer);
  return d;
}

static void
assert_domain_is (HdDomain    *domain,
                  HdGenerator *gen,
                  const float *d)
{
  for (int c = 0; c < gen->n_convs; c++)
    {
      HdDomainLayer *layer = g_hash_table_lookup (domain->layers, gen->convs[c].name);

      g_assert_nonnull (layer);
      g_assert_cmpint (layer->length, ==, gen->convs[c].c_in);
      g_assert_cmpmem (layer->values, sizeof (float) * layer->length,
                       d + gen->convs[c].domain_offset, sizeof (float) * gen->convs[c].c_in);
    }
}

static gboolean
dir_is_empty (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

static void
test_train_result (void)
{
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  g_autofree char *tmp = g_dir_make_tmp ("hd-train-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "domains", "pixar.safetensors", NULL);
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdSession *session = hd_window_get_session (window);
  HdGenerator *gen = hd_session_get_generator (session);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_auto(GStrv) remembered = NULL;
  g_autofree float *d = NULL;
  g_autoptr(GPtrArray) saved = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *default_name = NULL;
  HdTrainDialog *dialog;
  HdDomainItem *item;
  HdRenderFrame *frame;
  guint n_previews = 0;

  dialog = open_dialog (window, clip, TARGET, 3, NULL);
  /* The default file is named after the target. */
  default_name = g_path_get_basename (hd_train_dialog_get_path (dialog));
  g_assert_cmpstr (default_name, ==, "3d-render-in-the-style-of-pixar.safetensors");
  hd_train_dialog_set_path (dialog, out);
  /* The CLIP files are remembered. */
  remembered = g_settings_get_strv (settings, "train-clips");
  g_assert_cmpuint (g_strv_length (remembered), ==, 1);
  g_assert_cmpstr (remembered[0], ==, clip);

  g_signal_connect (dialog, "preview", G_CALLBACK (on_preview), &n_previews);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  g_assert_true (hd_train_dialog_is_running (dialog));
  /* Closing the dialog only hides it: the run goes on (the window says
   * how it went in a toast), and the menu shows the same dialog again. */
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  g_assert_true (hd_train_dialog_is_running (dialog));
  hd_ui_test_wait_until (run_over, dialog, 120000, "the training run");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL));
  g_assert_true (hd_window_get_train_dialog (window) == GTK_WIDGET (dialog));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  g_test_message ("status: %s", status_text (dialog));
  g_assert_false (status_is_error (dialog));
  g_assert_cmpuint (n_previews, >=, 1);

  /* A row at weight 1, named by the target, the file where asked. */
  g_assert_cmpuint (n_domains (window), ==, 1);
  item = hd_train_dialog_get_result (dialog);
  g_assert_nonnull (item);
  g_assert_cmpfloat (hd_domain_item_get_weight (item), ==, 1.0);
  g_assert_cmpstr (hd_domain_item_get_name (item), ==, TARGET);
  g_assert_cmpstr (hd_domain_item_get_domain (item)->path, ==, out);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));

  /* The values of hd_trainer for the same settings, in the row and in
   * the file. */
  d = train_directly (gen, clip);
  assert_domain_is (hd_domain_item_get_domain (item), gen, d);
  saved = hd_domain_load_all (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (saved->len, ==, 1);
  assert_domain_is (g_ptr_array_index (saved, 0), gen, d);
  g_assert_cmpstr (((HdDomain *) g_ptr_array_index (saved, 0))->description, ==,
                   "trained: " SOURCE " -> " TARGET ", 3 steps");

  /* The image is the session's: the row, no domain in training. */
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpuint (frame->job->state->domains->len, ==, 1);
  hd_ui_test_assert_screen_matches_engine (window);

  /* The next file is beside the session's domains, and a new one. */
  g_assert_cmpstr (hd_train_dialog_get_path (dialog), ==, out);
  gtk_editable_set_text (GTK_EDITABLE (part (dialog, "target_row")), "Pixar!");
  {
    g_autofree char *next = g_build_filename (tmp, "domains", "pixar-2.safetensors", NULL);

    g_assert_cmpstr (hd_train_dialog_get_path (dialog), ==, next);
  }

  /* One step of the history: undo takes the row away, redo brings it. */
  hd_history_flush (hd_window_get_history (window));
  g_assert_true (hd_history_undo (hd_window_get_history (window)));
  g_assert_cmpuint (n_domains (window), ==, 0);
  g_assert_true (hd_history_redo (hd_window_get_history (window)));
  g_assert_cmpuint (n_domains (window), ==, 1);
  g_assert_true (hd_history_undo (hd_window_get_history (window)));
  g_assert_cmpuint (n_domains (window), ==, 0);

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (tmp);
}

static gboolean
has_progressed (gpointer dialog)
{
  GtkWidget *bar = part (dialog, "progress_bar");

  return !hd_train_dialog_is_running (dialog) ||
         gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (bar)) > 0.0;
}

static gboolean
preview_on_screen (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_frame (window);

  return frame != NULL && !frame->preview && frame->job->domains->len == n_domains (window) + 1 &&
         frame->job->state->seed == hd_session_get_seed (hd_window_get_session (window));
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

static void
test_train_cancel (void)
{
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  g_autofree char *tmp = g_dir_make_tmp ("hd-train-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "cancelled.safetensors", NULL);
  g_autofree char *png = g_build_filename (tmp, "meanwhile.png", NULL);
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdTrainDialog *dialog;

  dialog = open_dialog (window, clip, TARGET, 200, out);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  hd_ui_test_wait_until (has_progressed, dialog, 120000, "the first step");
  g_assert_true (hd_train_dialog_is_running (dialog));
  /* The image shows the domain in training at weight 1, though the
   * session has no row; live rendering goes on meanwhile. */
  hd_ui_test_wait_until (preview_on_screen, window, 60000, "the domain in training on screen");
  {
    HdRenderFrame *frame = hd_window_get_frame (window);

    g_assert_cmpfloat (g_array_index (frame->job->state->domains, HdStateDomain, 0).weight, ==, 1.0);
  }
  hd_session_step_seed (hd_window_get_session (window), 1);
  hd_ui_test_wait_until (preview_on_screen, window, 60000, "the next seed with the domain in training");
  g_assert_cmpuint (hd_window_get_frame (window)->job->state->seed, ==, 1);
  /* An export meanwhile takes the session's own image. */
  hd_window_export_to_path (window, png);
  hd_ui_test_wait_until (file_exists, png, 60000, "the export");
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *json = hd_png_read_metadata (png, &error);
    g_autoptr(HdState) state = NULL;

    g_assert_no_error (error);
    state = hd_state_from_json (json, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (state->domains->len, ==, 0);
  }
  g_unlink (png);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.cancel", NULL));
  hd_ui_test_wait_until (run_over, dialog, 60000, "the cancelled run to end");
  g_test_message ("status: %s", status_text (dialog));
  g_assert_nonnull (strstr (status_text (dialog), "Cancelled"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_true (dir_is_empty (tmp));
  g_assert_cmpuint (n_domains (window), ==, 0);
  g_assert_null (hd_train_dialog_get_result (dialog));
  /* The image is the session's own again. */
  hd_ui_test_wait_for_current (window, 30000);
  g_assert_cmpuint (hd_window_get_full_frame (window)->job->state->domains->len, ==, 0);
  g_assert_cmpuint (hd_window_get_full_frame (window)->job->state->seed, ==, 1);

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (tmp);
}

static void
test_train_errors (void)
{
  g_autofree char *not_clip = hd_ui_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  g_autofree char *tmp = g_dir_make_tmp ("hd-train-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "error.safetensors", NULL);
  g_autofree char *long_target = NULL;
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdTrainDialog *dialog;

  /* A file that is no CLIP: said in the dialog, naming it. */
  dialog = open_dialog (window, not_clip, TARGET, 3, out);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  hd_ui_test_wait_until (run_over, dialog, 60000, "the failed run");
  g_test_message ("status: %s", status_text (dialog));
  g_assert_true (status_is_error (dialog));
  g_assert_nonnull (strstr (status_text (dialog), "tiny-domain-a.safetensors"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (n_domains (window), ==, 0);

  /* A prompt too long for a template. */
  long_target = g_strnfill (400, 'a');
  for (int i = 1; i < 400; i += 2)
    long_target[i] = ' ';
  dialog = open_dialog (window, clip, long_target, 3, out);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  hd_ui_test_wait_until (run_over, dialog, 60000, "the failed run");
  g_test_message ("status: %s", status_text (dialog));
  g_assert_true (status_is_error (dialog));
  g_assert_nonnull (strstr (status_text (dialog), "token"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (n_domains (window), ==, 0);

  /* Nothing to train without both prompts. */
  gtk_editable_set_text (GTK_EDITABLE (part (dialog, "target_row")), "");
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL) &&
                  hd_train_dialog_is_running (dialog));

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (tmp);
}

/* The folder goes away during the run (a regular file takes its name):
 * the trained domain is kept, and saved to the next file chosen, which
 * adds the row. */
static void
test_train_unwritable (void)
{
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  g_autofree char *tmp = g_dir_make_tmp ("hd-train-XXXXXX", NULL);
  g_autofree char *folder = g_build_filename (tmp, "gone", NULL);
  g_autofree char *out = g_build_filename (folder, "domain.safetensors", NULL);
  g_autofree char *again = g_build_filename (tmp, "kept.safetensors", NULL);
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdGenerator *gen = hd_session_get_generator (hd_window_get_session (window));
  g_autofree float *expected = train_directly (gen, clip);
  g_autoptr(GPtrArray) loaded = NULL;
  g_autoptr(GError) error = NULL;
  HdTrainDialog *dialog;
  HdDomainItem *item;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  dialog = open_dialog (window, clip, TARGET, 3, out);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  g_assert_true (hd_train_dialog_is_running (dialog));
  g_assert_cmpint (g_rmdir (folder), ==, 0);
  g_assert_true (g_file_set_contents (folder, "not a folder", -1, NULL));
  hd_ui_test_wait_until (run_over, dialog, 120000, "the run");
  g_test_message ("status: %s", status_text (dialog));
  g_assert_true (status_is_error (dialog));
  g_assert_nonnull (strstr (status_text (dialog), "trained but could not be saved"));
  g_assert_cmpuint (n_domains (window), ==, 0);

  /* Another file: saved there and added, the run's very values. */
  hd_train_dialog_set_path (dialog, again);
  g_test_message ("status: %s", status_text (dialog));
  g_assert_false (status_is_error (dialog));
  g_assert_true (g_file_test (again, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (n_domains (window), ==, 1);
  item = hd_train_dialog_get_result (dialog);
  g_assert_nonnull (item);
  assert_domain_is (hd_domain_item_get_domain (item), gen, expected);
  loaded = hd_domain_load_all (again, &error);
  g_assert_no_error (error);
  assert_domain_is (g_ptr_array_index (loaded, 0), gen, expected);

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (tmp);
}

typedef struct {
  HdWindow    *window;
  HdGenerator *first;
} GeneratorWait;

static gboolean
generator_changed (gpointer data)
{
  GeneratorWait *w = data;
  HdGenerator *gen = hd_session_get_generator (hd_window_get_session (w->window));

  return gen != NULL && gen != w->first;
}

/* Another generator opened during a run: the preview goes, the run still
 * saves its file, and no row is added to the other generator's list. */
static void
test_train_other_generator (void)
{
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  g_autofree char *tmp = g_dir_make_tmp ("hd-train-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "domain.safetensors", NULL);
  g_autofree char *other_path = g_build_filename (tmp, "other.safetensors", NULL);
  HdGeneratorConfig config = { .z_dim = 8, .w_dim = 8, .img_resolution = 16, .img_channels = 3,
                               .mapping_layers = 2, .lr_multiplier = 0.01f, .channel_base = 64,
                               .channel_max = 16 };
  g_autoptr(HdGenerator) other = hd_generator_new_random (&config, 5);
  g_autoptr(GFile) file = g_file_new_for_path (other_path);
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdGenerator *first = hd_session_get_generator (hd_window_get_session (window));
  g_autoptr(GError) error = NULL;
  GeneratorWait wait;
  HdTrainDialog *dialog;

  g_assert_true (hd_generator_save (other, other_path, HD_DTYPE_F32, &error));
  g_assert_no_error (error);
  wait.window = window;
  wait.first = first;
  dialog = open_dialog (window, clip, TARGET, 40, out);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "train.start", NULL));
  g_assert_true (hd_train_dialog_is_running (dialog));
  hd_window_open_files (window, &file, 1);
  hd_ui_test_wait_until (generator_changed, &wait, 60000, "the other generator");
  g_assert_true (hd_train_dialog_is_running (dialog));
  hd_ui_test_wait_until (run_over, dialog, 300000, "the run");
  g_test_message ("status: %s", status_text (dialog));
  g_assert_true (hd_session_get_generator (hd_window_get_session (window)) != first);
  g_assert_nonnull (strstr (status_text (dialog), "another generator is open now"));
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (n_domains (window), ==, 0);
  g_assert_null (hd_train_dialog_get_result (dialog));

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (tmp);
}

/* With the demo model open and no CLIP chosen yet, the dialog offers the
 * demo's own CLIP; with another generator, nothing. */
static void
test_train_demo_clip (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *demo = NULL;
  g_autofree char *demo_clip = hd_demo_clip_find ();
  g_auto(GStrv) offered = NULL;
  HdWindow *window;
  const char *none[] = { NULL };

  if (demo_clip == NULL || !hd_demo_model_find (&demo, NULL))
    {
      g_test_skip ("no demo model and CLIP in this tree");
      return;
    }
  g_settings_set_strv (settings, "train-clips", none);
  window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL));
  offered = g_settings_get_strv (settings, "train-clips");
  g_assert_cmpuint (g_strv_length (offered), ==, 0);
  gtk_window_destroy (GTK_WINDOW (hd_window_get_train_dialog (window)));
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_pointer (&offered, g_strfreev);

  window = hd_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  hd_ui_test_open_paths (window, (const char *[]) { demo, NULL });
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL));
  offered = g_settings_get_strv (settings, "train-clips");
  g_assert_cmpuint (g_strv_length (offered), ==, 1);
  g_assert_cmpstr (offered[0], ==, demo_clip);
  gtk_window_destroy (GTK_WINDOW (hd_window_get_train_dialog (window)));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Window/train-result", test_train_result);
  g_test_add_func ("/Hyperdomain/Window/train-cancel", test_train_cancel);
  g_test_add_func ("/Hyperdomain/Window/train-errors", test_train_errors);
  g_test_add_func ("/Hyperdomain/Window/train-unwritable", test_train_unwritable);
  g_test_add_func ("/Hyperdomain/Window/train-other-generator", test_train_other_generator);
  g_test_add_func ("/Hyperdomain/Window/train-demo-clip", test_train_demo_clip);

  return g_test_run ();
}
