/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The artist tools of the explorer window: undo and redo, per-layer
 * domain ranges, reopening exported images, sessions and presets, the
 * blend pad, contact sheets and blend animations. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hd-domain-row.h"
#include "hd-png.h"
#include "hd-state.h"

#include "hd-ui-test-util.h"

static const char *tiny_files[] = {
  "tiny.safetensors", "tiny-domain-a.safetensors", "tiny-domain-b.safetensors", NULL
};

static guint8 *
frame_pixels (HdWindow *window,
              int      *res)
{
  GdkTexture *texture = hd_image_view_get_texture (hd_window_get_image_view (window));

  g_assert_nonnull (texture);
  *res = gdk_texture_get_width (texture);
  return hd_ui_test_texture_rgb (texture);
}

static void
assert_screen_matches_engine (HdWindow *window)
{
  g_autoptr(HdRenderJob) job = hd_session_create_job (hd_window_get_session (window));
  g_autofree guint8 *shown = NULL;
  g_autofree guint8 *expected = NULL;
  int res, expected_res;

  shown = frame_pixels (window, &res);
  expected = hd_ui_test_render_oracle (job, &expected_res);
  g_assert_cmpint (res, ==, expected_res);
  g_assert_cmpmem (shown, (gsize) res * res * 3, expected, (gsize) res * res * 3);
}

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
  HdWindow *window = hd_ui_test_open_window (tiny_files);
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
  assert_screen_matches_engine (window);

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
  assert_screen_matches_engine (window);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Per-layer ranges through the check buttons of the domain row. */
static void
test_layer_ranges (void)
{
  HdWindow *window = hd_ui_test_open_window (tiny_files);
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

  all = frame_pixels (window, &res);
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
  g_assert_cmpint (g_array_index (frame->job->ranges, int, 1), ==, 8);
  assert_screen_matches_engine (window);
  coarse_only = frame_pixels (window, &res);
  g_assert_true (memcmp (all, coarse_only, (gsize) res * res * 3) != 0);

  /* Middle only: 16 and up (32 is the last block). */
  gtk_check_button_set_active (middle, TRUE);
  gtk_check_button_set_active (coarse, FALSE);
  g_assert_cmpint (hd_domain_item_get_min_res (item), ==, 16);
  g_assert_cmpint (hd_domain_item_get_max_res (item), ==, 0);
  hd_ui_test_wait_for_current (window, 30000);
  assert_screen_matches_engine (window);
  middle_only = frame_pixels (window, &res);
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
    g_autofree guint8 *again = frame_pixels (window, &res);
    g_assert_cmpmem (again, (gsize) res * res * 3, all, (gsize) res * res * 3);
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Artist/undo-redo", test_undo_redo);
  g_test_add_func ("/Hyperdomain/Artist/layer-ranges", test_layer_ranges);

  return g_test_run ();
}
