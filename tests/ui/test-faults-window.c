/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GPU faults in a running window, injected by meson through
 * HYPERDOMAIN_FAULT=oom-at-load,device-lost-after=4 (hd-vk.h): loading the
 * generator runs out of device memory, and the device is lost a few frames
 * later.  Each time the window keeps its state, says what happened in a
 * toast, and shows the frame of the current state from a new device.
 * A fault the worker cannot get over is shown once, as an error. */
#include "config.h"

#include <adwaita.h>
#include <stdlib.h>
#include <string.h>

#include "hd-error.h"
#include "hd-vk.h"

#include "hd-ui-test-util.h"

/* Whether a label under WIDGET shows text containing TEXT. */
static gboolean
shows_text (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
      strstr (gtk_label_get_label (GTK_LABEL (widget)), text) != NULL)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_text (child, text))
      return TRUE;
  return FALSE;
}

typedef struct {
  HdWindow   *window;
  const char *text;
} Shown;

static gboolean
text_is_shown (gpointer data)
{
  Shown *shown = data;

  return shows_text (GTK_WIDGET (shown->window), shown->text);
}

/* No other window (an error dialog) is open. */
static void
assert_no_dialog (HdWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* owned by GTK */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (item != G_OBJECT (window) && gtk_widget_get_visible (GTK_WIDGET (item)))
        g_error ("a window of type %s is open", G_OBJECT_TYPE_NAME (item));
    }
}

static void
test_window_device_faults (void)
{
  HdWindow *window;
  HdRenderWorker *worker;
  HdImageView *view;
  Shown oom_toast, reset_toast;
  const double weights[] = { 0.25, -0.75 };
  guint32 seed = 100;
  guint updates;

  if (!g_str_has_prefix (g_getenv ("HYPERDOMAIN_FAULT") ? g_getenv ("HYPERDOMAIN_FAULT") : "",
                         "oom-at-load,device-lost-after="))
    {
      g_test_skip ("needs HYPERDOMAIN_FAULT=oom-at-load,device-lost-after=N (set by meson)");
      return;
    }

  /* Loading runs out of device memory: the worker starts over on a new
   * device and the first frame arrives all the same. */
  window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  worker = hd_window_get_worker (window);
  view = hd_window_get_image_view (window);
  hd_ui_test_wait_for_current (window, 60000);
  g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 1);
  g_assert_cmpuint (hd_render_worker_get_n_recovered (worker), ==, 1);
  oom_toast = (Shown) { window, "ran out of memory" };
  hd_ui_test_wait_until (text_is_shown, &oom_toast, 10000, "the out-of-memory toast");
  g_assert_nonnull (hd_image_view_get_texture (view));
  assert_no_dialog (window);

  /* A state of the artist's own. */
  hd_session_set_weights (hd_window_get_session (window), weights, G_N_ELEMENTS (weights));
  hd_session_set_psi (hd_window_get_session (window), 0.5);
  hd_ui_test_wait_for_current (window, 60000);

  /* New seeds until the device is lost under one of them. */
  while (hd_render_worker_get_n_recovered (worker) < 2)
    {
      g_assert_cmpuint (seed, <, 110);
      updates = hd_image_view_get_n_updates (view);
      hd_session_set_seed (hd_window_get_session (window), ++seed);
      hd_ui_test_wait_for_current (window, 60000);
      g_assert_cmpuint (hd_image_view_get_n_updates (view), >, updates);
    }
  g_test_message ("the device was lost rendering seed %u and recovered", seed);
  g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 2);
  reset_toast = (Shown) { window, "GPU was reset" };
  hd_ui_test_wait_until (text_is_shown, &reset_toast, 10000, "the device-reset toast");
  assert_no_dialog (window);

  /* The state is as the artist left it, and the frame on screen is its
   * image (from the new device). */
  g_assert_cmpuint (hd_session_get_seed (hd_window_get_session (window)), ==, seed);
  g_assert_cmpfloat (hd_session_get_psi (hd_window_get_session (window)), ==, 0.5);
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (hd_window_get_session (window))), ==, 2);
  g_assert_cmpfloat (gtk_range_get_value (hd_window_get_domain_scale (window, 0)), ==, 0.25);
  g_assert_cmpfloat (gtk_range_get_value (hd_window_get_domain_scale (window, 1)), ==, -0.75);
  g_assert_cmpuint (hd_window_get_full_frame (window)->job->state->seed, ==, seed);
  hd_ui_test_assert_screen_matches_engine (window);

  /* And it goes on rendering. */
  updates = hd_image_view_get_n_updates (view);
  hd_session_set_seed (hd_window_get_session (window), seed + 1);
  hd_ui_test_wait_for_current (window, 60000);
  g_assert_cmpuint (hd_image_view_get_n_updates (view), >, updates);
  hd_ui_test_assert_screen_matches_engine (window);
  g_assert_cmpuint (hd_render_worker_get_n_recovered (worker), ==, 2);

  if (g_getenv ("HD_FAULT_SCREENSHOT") != NULL)
    {
      hd_session_set_seed (hd_window_get_session (window), seed);
      hd_ui_test_wait_for_current (window, 60000);
      hd_ui_test_run_for (atoi (g_getenv ("HD_FAULT_SCREENSHOT")));
    }

  hd_ui_test_close_window (window);
}

static guint
count_render_errors (void)
{
  GList *toplevels = gtk_window_list_toplevels ();
  guint n = 0;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data) &&
        g_strcmp0 (adw_message_dialog_get_heading (l->data), "Cannot Render") == 0)
      n++;
  g_list_free (toplevels);
  return n;
}

static void
close_message_dialogs (void)
{
  GList *toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data))
      gtk_window_destroy (l->data);
  g_list_free (toplevels);
}

static gboolean
render_error_is_shown (gpointer data)
{
  return count_render_errors () > 0;
}

/* A fault the worker could not get over (its new device was lost too):
 * the window says so once and leaves recovery to the worker, submitting
 * nothing of its own. */
static void
test_window_persistent_fault (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdRenderWorker *worker = hd_window_get_worker (window);
  g_autoptr(GError) lost = g_error_new_literal (HD_ERROR, HD_ERROR_DEVICE_LOST,
                                                "Vulkan: VK_ERROR_DEVICE_LOST");
  Shown restarted = { window, "rendering restarted" };
  guint submitted;

  hd_ui_test_wait_for_current (window, 60000);
  submitted = hd_render_worker_get_n_submitted (worker);

  /* What the worker emits when the frame failed on the new device too,
   * for that frame and the next. */
  g_signal_emit_by_name (worker, "render-failed", lost, (guint64) 1000);
  hd_ui_test_wait_until (render_error_is_shown, NULL, 10000, "the Cannot Render dialog");
  g_signal_emit_by_name (worker, "render-failed", lost, (guint64) 1001);
  hd_ui_test_run_for (500);

  g_assert_cmpuint (count_render_errors (), ==, 1);
  g_assert_cmpuint (hd_render_worker_get_n_submitted (worker), ==, submitted);
  g_assert_false (text_is_shown (&restarted));

  /* The state is still there to render, from a device that works. */
  hd_session_set_seed (hd_window_get_session (window),
                       hd_session_get_seed (hd_window_get_session (window)) + 1);
  hd_ui_test_wait_for_current (window, 60000);
  g_assert_cmpuint (hd_render_worker_get_n_submitted (worker), >, submitted);

  close_message_dialogs ();
  hd_ui_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Window/device-faults", test_window_device_faults);
  g_test_add_func ("/Hyperdomain/Window/persistent-fault", test_window_persistent_fault);

  return g_test_run ();
}
