/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The artist tools of the explorer window: undo and redo, per-layer
 * domain ranges, reopening exported images, sessions and presets, the
 * blend pad, contact sheets and blend animations. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hd-application.h"
#include "hd-domain-row.h"
#include "hd-png.h"
#include "hd-state.h"
#include "hd-blend-weights.h"
#include "hd-sheet.h"
#include "hd-sheet-dialog.h"
#include "hd-animation-dialog.h"

#include "hd-ui-test-util.h"

static HdDomainItem *
domain_item (HdWindow *window,
             guint     position)
{
  GListModel *domains = hd_session_get_domains (hd_window_get_session (window));
  g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, position);

  return item;  /* the list holds a reference */
}

/* Undo and redo: every change a step, a drag one step, Ctrl+Z and
 * Ctrl+Shift+Z as the window's actions. */
static void
test_undo_redo (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  HdHistory *history = hd_window_get_history (window);
  GtkRange *scale_b = hd_window_get_domain_scale (window, 1);
  guint n;

  hd_ui_test_run_for (50);
  hd_history_flush (history);
  /* Opening the generator starts the history. */
  g_assert_false (hd_history_can_undo (history));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL) &&
                  hd_history_can_redo (history));

  gtk_range_set_value (scale_b, 0.5);
  hd_ui_test_run_for (20);
  g_assert_true (hd_history_can_undo (history));
  n = hd_history_get_n_undo (history);

  hd_session_set_seed (session, 7);
  hd_ui_test_run_for (20);
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n + 1);

  /* A drag of the slider is one step. */
  hd_session_set_interactive (session, TRUE);
  for (guint i = 1; i <= 10; i++)
    {
      gtk_range_set_value (scale_b, 0.5 + i * 0.05);
      hd_ui_test_run_for (5);
    }
  hd_session_set_interactive (session, FALSE);
  hd_ui_test_run_for (20);
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n + 2);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), 1.0, 1e-9);

  /* Ranges are parameters too. */
  hd_domain_item_set_range (domain_item (window, 0), 0, 8);
  hd_ui_test_run_for (20);
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n + 3);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpint (hd_domain_item_get_max_res (domain_item (window, 0)), ==, 0);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), 1.0, 1e-9);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  /* The slider follows the undone drag back in one go. */
  g_assert_cmpfloat (gtk_range_get_value (scale_b), ==, 0.5);
  g_assert_cmpuint (hd_session_get_seed (session), ==, 7);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpuint (hd_session_get_seed (session), ==, 0);
  g_assert_true (hd_history_can_redo (history));

  hd_ui_test_wait_for_current (window, 30000);
  hd_ui_test_assert_screen_matches_engine (window);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));
  g_assert_cmpuint (hd_session_get_seed (session), ==, 7);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), 1.0, 1e-9);

  /* A new change after undo drops what could be redone. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  hd_session_set_psi (session, 0.5);
  hd_ui_test_run_for (20);
  g_assert_false (hd_history_can_redo (history));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpfloat (hd_session_get_psi (session), ==, 1.0);
  g_assert_cmpfloat (gtk_range_get_value (scale_b), ==, 0.5);

  /* Removing a domain is undone with its settings. */
  hd_domain_item_set_range (domain_item (window, 1), 16, 0);
  hd_ui_test_run_for (20);
  hd_session_remove_domain (session, domain_item (window, 1));
  hd_ui_test_run_for (20);
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 2);
  g_assert_cmpint (hd_domain_item_get_min_res (domain_item (window, 1)), ==, 16);
  hd_ui_test_run_for (20);
  g_assert_cmpfloat (gtk_range_get_value (hd_window_get_domain_scale (window, 1)), ==, 0.5);

  hd_ui_test_wait_for_current (window, 30000);
  hd_ui_test_assert_screen_matches_engine (window);
  hd_ui_test_close_window (window);
}

/* Per-layer ranges through the check buttons of the domain row. */
static void
test_layer_ranges (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdDomainRow *row = HD_DOMAIN_ROW (hd_window_get_domain_row (window, 0));
  HdDomainItem *item = domain_item (window, 0);
  GtkCheckButton *coarse = hd_domain_row_get_group_check (row, 0);
  GtkCheckButton *middle = hd_domain_row_get_group_check (row, 1);
  GtkCheckButton *fine = hd_domain_row_get_group_check (row, 2);
  g_autofree guint8 *all = NULL;
  g_autofree guint8 *coarse_only = NULL;
  g_autofree guint8 *middle_only = NULL;
  HdRenderFrame *frame;
  int res;

  all = hd_ui_test_frame_pixels (window, &res);
  /* Every layer: every group that exists in a 32-pixel generator. */
  g_assert_true (gtk_check_button_get_active (coarse));
  g_assert_true (gtk_check_button_get_active (middle));
  g_assert_false (gtk_check_button_get_active (fine));
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (fine)));
  g_assert_cmpstr (gtk_menu_button_get_label (hd_domain_row_get_range_button (row)), ==, "All layers");

  /* Coarse only: blocks 4 and 8. */
  gtk_check_button_set_active (middle, FALSE);
  g_assert_cmpint (hd_domain_item_get_min_res (item), ==, 0);
  g_assert_cmpint (hd_domain_item_get_max_res (item), ==, 8);
  g_assert_cmpstr (gtk_menu_button_get_label (hd_domain_row_get_range_button (row)), ==, "4–8");
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpint (g_array_index (frame->job->state->domains, HdStateDomain, 0).max_res, ==, 8);
  hd_ui_test_assert_screen_matches_engine (window);
  coarse_only = hd_ui_test_frame_pixels (window, &res);
  g_assert_true (memcmp (all, coarse_only, (gsize) res * res * 3) != 0);

  /* Middle only: 16 and up (32 is the last block). */
  gtk_check_button_set_active (middle, TRUE);
  gtk_check_button_set_active (coarse, FALSE);
  g_assert_cmpint (hd_domain_item_get_min_res (item), ==, 16);
  g_assert_cmpint (hd_domain_item_get_max_res (item), ==, 0);
  hd_ui_test_wait_for_current (window, 30000);
  hd_ui_test_assert_screen_matches_engine (window);
  middle_only = hd_ui_test_frame_pixels (window, &res);
  g_assert_true (memcmp (middle_only, coarse_only, (gsize) res * res * 3) != 0);
  g_assert_true (memcmp (middle_only, all, (gsize) res * res * 3) != 0);

  /* Unchecking the last group is refused: the row shows the range kept. */
  gtk_check_button_set_active (middle, FALSE);
  g_assert_true (gtk_check_button_get_active (middle));
  g_assert_cmpint (hd_domain_item_get_min_res (item), ==, 16);

  /* A custom range from the item shows in the row. */
  hd_domain_item_set_range (item, 8, 16);
  g_assert_cmpstr (gtk_menu_button_get_label (hd_domain_row_get_range_button (row)), ==, "8–16");
  g_assert_false (gtk_check_button_get_active (coarse));
  g_assert_false (gtk_check_button_get_active (middle));

  /* And back to every layer: the first image again. */
  gtk_widget_activate_action (GTK_WIDGET (row), "row.all-layers", NULL);
  g_assert_cmpint (hd_domain_item_get_min_res (item), ==, 0);
  g_assert_cmpint (hd_domain_item_get_max_res (item), ==, 0);
  hd_ui_test_wait_for_current (window, 30000);
  {
    g_autofree guint8 *again = hd_ui_test_frame_pixels (window, &res);
    g_assert_cmpmem (again, (gsize) res * res * 3, all, (gsize) res * res * 3);
  }

  hd_ui_test_close_window (window);
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static AdwMessageDialog *
find_message_dialog (void)
{
  return (AdwMessageDialog *) hd_ui_test_find_window (ADW_TYPE_MESSAGE_DIALOG);
}

static gboolean
has_message_dialog (gpointer data)
{
  return find_message_dialog () != NULL;
}

static GtkWidget *
find_file_chooser (void)
{
  GList *toplevels = gtk_window_list_toplevels ();
  GtkWidget *found = NULL;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (GTK_IS_FILE_CHOOSER (l->data) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (toplevels);
  return found;
}

static gboolean
has_file_chooser (gpointer data)
{
  return find_file_chooser () != NULL;
}

static gboolean
window_current (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_full_frame (window);
  g_autoptr(HdRenderJob) job = hd_session_create_job (hd_window_get_session (window));

  return job != NULL && frame != NULL && !hd_window_is_loading (window) &&
         !hd_render_worker_is_busy (hd_window_get_worker (window)) &&
         hd_window_get_frame (window) == frame && hd_render_job_same_image (job, frame->job);
}

static void
assert_same_screen (HdWindow *a,
                    HdWindow *b)
{
  int ra, rb;
  g_autofree guint8 *pa = hd_ui_test_frame_pixels (a, &ra);
  g_autofree guint8 *pb = hd_ui_test_frame_pixels (b, &rb);

  hd_ui_test_assert_same_rgb (pa, ra, pb, rb);
}

/* An exported PNG reopened in a new window gives the same state and the
 * same pixels, and so does hyperdomain-render --from-png. */
static void
test_reopen_png (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  HdWindow *other;
  HdSession *other_session;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "look.png", NULL);
  g_autofree guint8 *shown = NULL;
  g_autofree guint8 *cli = NULL;
  const char *paths[] = { path, NULL };
  int res, w, h;

  g_assert_no_error (error);
  hd_session_set_seed (session, 5);
  hd_session_set_psi (session, 0.75);
  g_object_set (session, "noise-mode", HD_NOISE_RANDOM, "noise-seed", 3, "cutoff", 5, NULL);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), -0.75);
  hd_domain_item_set_range (domain_item (window, 0), 0, 8);
  hd_domain_item_set_range (domain_item (window, 1), 16, 0);
  hd_ui_test_wait_for_current (window, 30000);
  hd_window_export_to_path (window, path);
  hd_ui_test_wait_until (file_exists, path, 30000, "the exported file");
  hd_ui_test_run_for (100);

  other = hd_ui_test_open_window (NULL);
  other_session = hd_window_get_session (other);
  hd_ui_test_open_paths (other, paths);
  g_assert_nonnull (hd_session_get_generator (other_session));
  g_assert_cmpuint (hd_session_get_seed (other_session), ==, 5);
  g_assert_cmpfloat (hd_session_get_psi (other_session), ==, 0.75);
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (other_session)), ==, 2);
  g_assert_cmpint (hd_domain_item_get_max_res (domain_item (other, 0)), ==, 8);
  g_assert_cmpint (hd_domain_item_get_min_res (domain_item (other, 1)), ==, 16);
  g_assert_cmpfloat (hd_domain_item_get_weight (domain_item (other, 1)), ==, -0.75);
  assert_same_screen (window, other);
  hd_ui_test_assert_screen_matches_engine (other);

  shown = hd_ui_test_frame_pixels (other, &res);
  {
    const char *args[] = { "--from-png", path, NULL };
    cli = hd_ui_test_run_cli (args, &w, &h);
  }
  if (cli == NULL)
    g_test_message ("HD_RENDER is not set: skipping the comparison with hyperdomain-render");
  else
    {
      g_assert_cmpint (w, ==, res);
      g_assert_cmpmem (shown, (gsize) res * res * 3, cli, (gsize) w * h * 3);
    }

  /* A PNG without Hyperdomain metadata is refused with a message. */
  {
    g_autofree char *plain = g_build_filename (dir, "plain.png", NULL);
    g_autoptr(GFile) plain_file = g_file_new_for_path (plain);
    GdkTexture *texture = hd_image_view_get_texture (hd_window_get_image_view (window));
    AdwMessageDialog *dialog;

    g_assert_true (gdk_texture_save_to_png (texture, plain));
    hd_window_open_files (other, &plain_file, 1);
    hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the error");
    dialog = find_message_dialog ();
    g_test_message ("refused: %s", adw_message_dialog_get_body (dialog));
    g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "plain.png"));
    gtk_window_destroy (GTK_WINDOW (dialog));
    g_unlink (plain);
  }

  g_unlink (path);
  g_rmdir (dir);
  hd_ui_test_close_window (other);
  hd_ui_test_close_window (window);
}

/* A state naming a file that is nowhere asks for it: Cancel changes
 * nothing, Locate opens a file chooser; a file that moved next to the
 * state is found without asking. */
static void
test_reopen_missing (void)
{
  HdWindow *window = hd_ui_test_open_window (NULL);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *state_path = g_build_filename (dir, "preset.json", NULL);
  g_autofree char *tiny = hd_ui_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_b = hd_ui_test_conformance_path ("tiny-domain-b.safetensors");
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(GFile) file = g_file_new_for_path (state_path);
  g_autofree char *moved = g_build_filename (dir, "lost-domain.safetensors", NULL);
  HdStateDomain d = { 0 };
  AdwMessageDialog *dialog;
  GtkWidget *chooser;

  g_assert_no_error (error);
  state->generator_path = g_strdup (tiny);
  state->seed = 4;
  d.path = g_strdup ("/nonexistent/lost-domain.safetensors");
  d.name = g_strdup ("Lost");
  d.weight = 0.5f;
  d.min_res = 16;
  g_array_append_val (state->domains, d);
  g_assert_true (hd_state_save_file (state, state_path, &error));

  hd_window_open_files (window, &file, 1);
  hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the question");
  dialog = find_message_dialog ();
  g_test_message ("asked: %s — %s", adw_message_dialog_get_heading (dialog), adw_message_dialog_get_body (dialog));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "lost-domain.safetensors"));
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_run_for (100);
  g_assert_null (hd_session_get_generator (session));
  g_assert_false (hd_window_is_loading (window));

  /* Locate opens a file chooser; cancelling it changes nothing either. */
  hd_window_open_files (window, &file, 1);
  hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the question");
  dialog = find_message_dialog ();
  adw_message_dialog_response (dialog, "locate");
  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_wait_until (has_file_chooser, NULL, 10000, "the file chooser");
  chooser = find_file_chooser ();
  g_test_message ("chooser: %s", gtk_window_get_title (GTK_WINDOW (chooser)));
  g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (chooser)), "lost-domain.safetensors"));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  hd_ui_test_run_for (100);
  g_assert_null (hd_session_get_generator (session));
  g_assert_false (hd_window_is_loading (window));

  /* A file that moved next to the state is found without asking. */
  {
    g_autofree char *contents = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (dom_b, &contents, &len, NULL));
    g_assert_true (g_file_set_contents (moved, contents, len, NULL));
  }
  hd_window_open_files (window, &file, 1);
  hd_ui_test_wait_until (window_current, window, 30000, "the restored image");
  g_assert_null (find_message_dialog ());

  g_assert_cmpuint (hd_session_get_seed (session), ==, 4);
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 1);
  g_assert_cmpstr (hd_domain_item_get_domain (domain_item (window, 0))->path, ==, moved);
  g_assert_cmpint (hd_domain_item_get_min_res (domain_item (window, 0)), ==, 16);
  g_assert_cmpfloat (hd_domain_item_get_weight (domain_item (window, 0)), ==, 0.5);
  hd_ui_test_assert_screen_matches_engine (window);

  g_unlink (state_path);
  g_unlink (moved);
  g_rmdir (dir);
  hd_ui_test_close_window (window);
}

/* The session is kept under $XDG_STATE_HOME and restored by a new window;
 * a damaged session file gives a message and an empty window. */
static void
test_session_restore (void)
{
  g_autofree char *session_path = hd_application_get_session_path ();
  g_autofree char *tiny = hd_ui_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_ui_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_ui_test_conformance_path ("tiny-domain-b.safetensors");
  const char *paths[] = { tiny, dom_a, dom_b, NULL };
  HdWindow *first, *second, *third, *fourth;
  gboolean restoring = FALSE;
  AdwMessageDialog *dialog;

  g_assert_true (g_str_has_prefix (session_path, g_getenv ("XDG_STATE_HOME")));
  g_unlink (session_path);

  first = hd_application_new_window (NULL, TRUE, &restoring);
  g_assert_false (restoring);
  gtk_window_present (GTK_WINDOW (first));
  hd_ui_test_open_paths (first, paths);
  hd_session_set_seed (hd_window_get_session (first), 9);
  gtk_range_set_value (hd_window_get_domain_scale (first, 1), 0.25);
  hd_domain_item_set_range (domain_item (first, 1), 0, 16);
  hd_ui_test_wait_for_current (first, 30000);
  /* Saved a moment after the change. */
  hd_ui_test_wait_until (file_exists, session_path, 10000, "the session file");
  hd_window_flush_session (first);

  second = hd_application_new_window (NULL, TRUE, &restoring);
  g_assert_true (restoring);
  gtk_window_present (GTK_WINDOW (second));
  hd_ui_test_wait_until (window_current, second, 30000, "the restored session");
  g_assert_cmpuint (hd_session_get_seed (hd_window_get_session (second)), ==, 9);
  g_assert_cmpint (hd_domain_item_get_max_res (domain_item (second, 1)), ==, 16);
  assert_same_screen (first, second);

  /* Files given on the command line: no restore. */
  fourth = hd_application_new_window (NULL, FALSE, &restoring);
  g_assert_false (restoring);
  g_assert_false (hd_window_is_loading (fourth));
  hd_ui_test_close_window (fourth);

  hd_ui_test_close_window (second);
  hd_ui_test_close_window (first);

  /* A damaged session file. */
  g_assert_true (g_file_set_contents (session_path, "{\"version\": 1, \"generator\": ", -1, NULL));
  third = hd_application_new_window (NULL, TRUE, &restoring);
  gtk_window_present (GTK_WINDOW (third));
  hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the message");
  dialog = find_message_dialog ();
  g_test_message ("%s: %s", adw_message_dialog_get_heading (dialog), adw_message_dialog_get_body (dialog));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "session.json"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_run_for (50);
  g_assert_null (hd_session_get_generator (hd_window_get_session (third)));
  g_assert_false (hd_window_is_loading (third));
  hd_ui_test_close_window (third);

  g_unlink (session_path);
}

/* Save preset, change, load preset: the state comes back (and loading it
 * can be undone). */
static void
test_presets (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "warm.json", NULL);
  g_autofree guint8 *before = NULL;
  g_autofree guint8 *after = NULL;
  const char *paths[] = { path, NULL };
  int res;

  g_assert_no_error (error);
  hd_session_set_seed (session, 21);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 0.5);
  hd_domain_item_set_range (domain_item (window, 0), 16, 0);
  hd_ui_test_wait_for_current (window, 30000);
  before = hd_ui_test_frame_pixels (window, &res);
  g_assert_true (hd_window_save_state_file (window, path, &error));
  g_assert_no_error (error);

  hd_session_set_seed (session, 1);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 0.0);
  hd_domain_item_set_range (domain_item (window, 0), 0, 0);
  hd_ui_test_wait_for_current (window, 30000);

  hd_ui_test_open_paths (window, paths);
  g_assert_cmpuint (hd_session_get_seed (session), ==, 21);
  g_assert_cmpfloat (gtk_range_get_value (hd_window_get_domain_scale (window, 1)), ==, 0.5);
  g_assert_cmpint (hd_domain_item_get_min_res (domain_item (window, 0)), ==, 16);
  after = hd_ui_test_frame_pixels (window, &res);
  g_assert_cmpmem (before, (gsize) res * res * 3, after, (gsize) res * res * 3);

  hd_ui_test_run_for (20);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpuint (hd_session_get_seed (session), ==, 1);

  g_unlink (path);
  g_rmdir (dir);
  hd_ui_test_close_window (window);
}

/* The blend pad sets every weight at once, the sliders follow; keys move
 * the puck; a drag is one undo step. */
static void
test_blend_pad (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdHistory *history = hd_window_get_history (window);
  HdBlendPad *pad = hd_window_get_blend_pad (window);
  GtkRange *scale_a = hd_window_get_domain_scale (window, 0);
  GtkRange *scale_b = hd_window_get_domain_scale (window, 1);
  double expected[2], x, y;
  guint n;

  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (GTK_WIDGET (pad))) ||
                 gtk_widget_get_mapped (GTK_WIDGET (pad)));
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (pad)));

  /* Key 2: the second domain alone. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pad), "pad.corner", "u", 1));
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_a), 0.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), 1.0, 1e-9);

  /* An arrow key moves the puck toward the centre: both sliders follow. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pad), "pad.move", "(dd)", 0.0, -0.5));
  hd_blend_pad_get_position (pad, &x, &y);
  g_assert_cmpfloat_with_epsilon (y, 0.5, 1e-9);
  hd_blend_pad_weights (2, x, y, expected);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_a), expected[0], 1e-9);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), expected[1], 1e-9);
  g_assert_cmpfloat (expected[1], >, expected[0]);
  g_assert_cmpfloat (expected[0], >, 0.0);
  g_assert_true (hd_blend_pad_is_in_sync (pad));
  hd_ui_test_wait_for_current (window, 30000);
  hd_ui_test_assert_screen_matches_engine (window);

  /* A drag is one step of undo. */
  hd_ui_test_run_for (20);
  n = hd_history_get_n_undo (history);
  hd_session_set_interactive (hd_window_get_session (window), TRUE);
  for (guint i = 0; i <= 10; i++)
    {
      hd_blend_pad_set_position (pad, 0.08 * i, 0.5 - 0.1 * i);
      hd_ui_test_run_for (5);
    }
  hd_session_set_interactive (hd_window_get_session (window), FALSE);
  hd_ui_test_run_for (20);
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n + 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_a), expected[0], 1e-9);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (scale_b), expected[1], 1e-9);

  /* A slider moved by hand: the puck no longer stands for the weights. */
  gtk_range_set_value (scale_a, 1.5);
  g_assert_false (hd_blend_pad_is_in_sync (pad));

  /* Home: the original generator. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pad), "pad.center", NULL));
  g_assert_cmpfloat (gtk_range_get_value (scale_a), ==, 0.0);
  g_assert_cmpfloat (gtk_range_get_value (scale_b), ==, 0.0);
  g_assert_true (hd_blend_pad_is_in_sync (pad));

  hd_ui_test_wait_for_current (window, 30000);
  hd_ui_test_assert_screen_matches_engine (window);
  hd_ui_test_close_window (window);
}

static HdSheetDialog *
find_sheet_dialog (void)
{
  return (HdSheetDialog *) hd_ui_test_find_window (HD_TYPE_SHEET_DIALOG);
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static guint8 *
png_pixels (const char *path,
            int        *width,
            int        *height)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);

  g_assert_no_error (error);
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  return hd_ui_test_texture_rgb (texture);
}

/* The contact-sheet dialog: progress, the same sheet as the command line,
 * cells that reopen to their own pixels, no file replaced, cancel. */
static void
test_contact_sheet (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *tiny = hd_ui_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_ui_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_ui_test_conformance_path ("tiny-domain-b.safetensors");
  g_autofree char *arg_a = g_strdup_printf ("--domain=%s=1", dom_a);
  g_autofree char *arg_b = g_strdup_printf ("--domain=%s=0", dom_b);
  g_autofree char *sheet_path = NULL;
  g_autofree char *cells_dir = NULL;
  g_autofree char *cell_path = NULL;
  g_autofree char *cell_name = NULL;
  g_autofree guint8 *sheet = NULL;
  g_autofree guint8 *cli = NULL;
  g_autofree guint8 *cell = NULL;
  g_autofree guint8 *cell_cli = NULL;
  g_autoptr(HdSheet) expected = hd_sheet_new (2);
  HdSheetLayout layout;
  HdSheetDialog *dialog;
  int w, h, cw, ch;

  g_assert_no_error (error);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.contact-sheet", NULL));
  dialog = find_sheet_dialog ();
  g_assert_nonnull (dialog);
  hd_export_dialog_set_folder (HD_EXPORT_DIALOG (dialog), dir);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "first_seed_spin")), 0);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "n_seeds_spin")), 2);
  g_assert_false (gtk_widget_get_visible (hd_ui_test_dialog_part (dialog, "steps_row")));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "sheet.export", NULL));
  g_assert_true (hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (hd_ui_test_dialog_part (dialog, "progress_revealer"))));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 60000, "the contact sheet");
  g_test_message ("%s", gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))));

  sheet_path = g_strdup (hd_sheet_dialog_get_sheet_path (dialog));
  cells_dir = g_strdup (hd_sheet_dialog_get_cells_dir (dialog));
  g_assert_nonnull (sheet_path);
  g_assert_true (g_str_has_suffix (sheet_path, "contact-sheet-1.png"));
  g_assert_cmpuint (count_files (cells_dir), ==, 2 * 3);

  /* The layout: 2 seeds × (original, A at 1, B at 1). */
  hd_sheet_add_seed (expected, 0);
  hd_sheet_add_seed (expected, 1);
  hd_sheet_add_column (expected, "original", (float[]) { 0, 0 });
  hd_sheet_add_column (expected, "domain a 1", (float[]) { 1, 0 });
  hd_sheet_add_column (expected, "domain b 1", (float[]) { 0, 1 });
  hd_sheet_get_layout (expected, 32, &layout);
  sheet = png_pixels (sheet_path, &w, &h);
  g_assert_cmpint (w, ==, layout.width);
  g_assert_cmpint (h, ==, layout.height);

  /* hyperdomain-render writes the same sheet. */
  {
    const char *args[] = { "--model", tiny, arg_a, arg_b, "--contact-sheet", "--seeds", "0-1", NULL };
    int cli_w, cli_h;

    cli = hd_ui_test_run_cli (args, &cli_w, &cli_h);
    if (cli != NULL)
      {
        g_assert_cmpint (cli_w, ==, w);
        g_assert_cmpint (cli_h, ==, h);
        g_assert_cmpmem (sheet, (gsize) w * h * 3, cli, (gsize) cli_w * cli_h * 3);
      }
  }

  /* A cell is the image of its state, and sits in the sheet. */
  cell_name = hd_sheet_cell_name (1, 2);
  cell_path = g_build_filename (cells_dir, cell_name, NULL);
  cell = png_pixels (cell_path, &cw, &ch);
  g_assert_cmpint (cw, ==, 32);
  {
    const char *args[] = { "--from-png", cell_path, NULL };
    int cli_w, cli_h;

    cell_cli = hd_ui_test_run_cli (args, &cli_w, &cli_h);
    if (cell_cli != NULL)
      g_assert_cmpmem (cell, (gsize) cw * ch * 3, cell_cli, (gsize) cli_w * cli_h * 3);
  }
  {
    int x0, y0;

    hd_sheet_cell_origin (&layout, 1, 2, &x0, &y0);
    for (int y = 0; y < layout.cell; y++)
      for (int x = 0; x < layout.cell; x++)
        g_assert_cmpmem (sheet + ((gsize) (y0 + y) * w + x0 + x) * 3, 3,
                         cell + ((gsize) (y / layout.scale) * cw + x / layout.scale) * 3, 3);
  }

  /* Again: a new name, the first sheet stays. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "sheet.export", NULL));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 60000, "the second contact sheet");
  g_assert_true (g_str_has_suffix (hd_sheet_dialog_get_sheet_path (dialog), "contact-sheet-2.png"));
  g_assert_true (g_file_test (sheet_path, G_FILE_TEST_EXISTS));

  /* A long sweep, cancelled: nothing is left of it. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (hd_ui_test_dialog_part (dialog, "mode_row")), 1);
  g_assert_true (gtk_widget_get_visible (hd_ui_test_dialog_part (dialog, "steps_row")));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "n_seeds_spin")), 64);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "steps_spin")), 16);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "sheet.export", NULL));
  hd_ui_test_wait_until (hd_ui_test_export_progressed, dialog, 60000, "progress");
  g_assert_true (hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "sheet.cancel", NULL));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 10000, "the cancelled sheet to stop");
  g_assert_null (hd_sheet_dialog_get_sheet_path (dialog));
  {
    g_autofree char *third = g_build_filename (dir, "contact-sheet-3.png", NULL);
    g_autofree char *third_dir = g_build_filename (dir, "contact-sheet-3", NULL);

    g_assert_false (g_file_test (third, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (third_dir, G_FILE_TEST_EXISTS));
  }
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))), "Cancelled"));

  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

static gboolean
files_equal (const char *a,
             const char *b)
{
  g_autofree char *ca = NULL;
  g_autofree char *cb = NULL;
  gsize la, lb;

  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  return la == lb && memcmp (ca, cb, la) == 0;
}

/* Keyframes from the window's state, frames written by the dialog equal
 * those hyperdomain-render --animate writes from the same keyframes;
 * cancelling leaves nothing. */
static void
test_animation (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *k1 = g_build_filename (dir, "k1.json", NULL);
  g_autofree char *k2 = g_build_filename (dir, "k2.json", NULL);
  g_autofree char *pattern = g_build_filename (dir, "cli", "frame-%05d.png", NULL);
  g_autofree char *frames_dir = NULL;
  HdAnimationDialog *dialog;
  const char *render = g_getenv ("HD_RENDER");

  g_assert_no_error (error);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.animation", NULL));
  dialog = HD_ANIMATION_DIALOG (hd_window_get_animation_dialog (window));
  g_assert_nonnull (dialog);
  hd_export_dialog_set_folder (HD_EXPORT_DIALOG (dialog), dir);
  /* One keyframe is not an animation yet. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.add-key", NULL));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.export", NULL) &&
                  hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));

  hd_session_set_seed (session, 3);
  hd_session_set_psi (session, 0.6);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 1.0);
  hd_domain_item_set_range (domain_item (window, 1), 16, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.add-key", NULL));
  g_assert_cmpuint (hd_animation_dialog_get_n_keys (dialog), ==, 2);
  g_assert_cmpuint (hd_animation_dialog_get_key (dialog, 1)->seed, ==, 3);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "frames_spin")), 4);
  gtk_switch_set_active (GTK_SWITCH (hd_ui_test_dialog_part (dialog, "ease_switch")), TRUE);
  gtk_switch_set_active (GTK_SWITCH (hd_ui_test_dialog_part (dialog, "loop_switch")), TRUE);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (hd_ui_test_dialog_part (dialog, "frames_row"))),
                   ==, "8 frames in all");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.export", NULL));
  g_assert_true (hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 60000, "the animation");
  g_test_message ("%s", gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))));
  frames_dir = g_strdup (hd_animation_dialog_get_frames_dir (dialog));
  g_assert_nonnull (frames_dir);
  g_assert_cmpuint (count_files (frames_dir), ==, 8);

  /* The same keyframes through the command line: the same files. */
  g_assert_true (hd_state_save_file (hd_animation_dialog_get_key (dialog, 0), k1, &error));
  g_assert_true (hd_state_save_file (hd_animation_dialog_get_key (dialog, 1), k2, &error));
  if (render != NULL)
    {
      const char *argv[] = { render, "--animate", k1, "--animate", k2, "--frames", "4",
                             "--ease", "--loop", "-o", pattern, NULL };
      int status = 0;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                    NULL, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      for (guint f = 0; f < 8; f++)
        {
          g_autofree char *name = g_strdup_printf ("frame-%05u.png", f);
          g_autofree char *ui = g_build_filename (frames_dir, name, NULL);
          g_autofree char *cli = g_build_filename (dir, "cli", name, NULL);

          g_assert_true (files_equal (ui, cli));
        }
    }

  /* Long, then cancelled: its folder goes. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "frames_spin")), 600);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.export", NULL));
  hd_ui_test_wait_until (hd_ui_test_export_progressed, dialog, 60000, "progress");
  {
    g_autofree char *second = g_strdup (hd_animation_dialog_get_frames_dir (dialog));

    g_assert_true (g_str_has_suffix (second, "animation-2"));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "anim.cancel", NULL));
    hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 20000, "the cancelled animation to stop");
    g_assert_false (g_file_test (second, G_FILE_TEST_EXISTS));
  }
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))), "Cancelled"));
  g_assert_true (g_file_test (frames_dir, G_FILE_TEST_IS_DIR));

  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  /* The session file goes to a folder of this test, never the user's. */
  g_autofree char *state_home = hd_ui_test_private_state_home ();
  int status;

  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Artist/undo-redo", test_undo_redo);
  g_test_add_func ("/Hyperdomain/Artist/layer-ranges", test_layer_ranges);
  g_test_add_func ("/Hyperdomain/Artist/reopen-png", test_reopen_png);
  g_test_add_func ("/Hyperdomain/Artist/reopen-missing", test_reopen_missing);
  g_test_add_func ("/Hyperdomain/Artist/session-restore", test_session_restore);
  g_test_add_func ("/Hyperdomain/Artist/presets", test_presets);
  g_test_add_func ("/Hyperdomain/Artist/blend-pad", test_blend_pad);
  g_test_add_func ("/Hyperdomain/Artist/contact-sheet", test_contact_sheet);
  g_test_add_func ("/Hyperdomain/Artist/animation", test_animation);

  status = g_test_run ();
  hd_ui_test_remove_state_home (state_home);
  return status;
}
