/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The explorer window under a display server: opening files, moving the
 * real sliders, the pixels on screen against the engine and the command
 * line, dropping stale requests, export. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hd-error.h"
#include "hd-png.h"
#include "hd-safetensors.h"

#include "hd-stall-monitor.h"
#include "hd-application.h"
#include "hd-demo.h"
#include "hd-ui-test-util.h"

static void
test_window_empty (void)
{
  HdWindow *window = hd_ui_test_open_window (NULL);

  g_assert_null (hd_session_get_generator (hd_window_get_session (window)));
  g_assert_null (hd_image_view_get_texture (hd_window_get_image_view (window)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (hd_window_get_image_view (window))) &&
                  gtk_widget_get_mapped (GTK_WIDGET (hd_window_get_image_view (window))));

  hd_ui_test_close_window (window);
}

static void
test_window_domain_slider (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  GtkRange *scale_a, *scale_b;
  g_autofree guint8 *before = NULL;
  g_autofree guint8 *after = NULL;
  g_autofree guint8 *cli = NULL;
  g_autofree char *tiny = hd_ui_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_ui_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_ui_test_conformance_path ("tiny-domain-b.safetensors");
  g_autofree char *arg_a = NULL;
  g_autofree char *arg_b = NULL;
  guint updates;
  int res, w, h;

  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 2);
  scale_a = hd_window_get_domain_scale (window, 0);
  scale_b = hd_window_get_domain_scale (window, 1);
  g_assert_nonnull (scale_a);
  g_assert_nonnull (scale_b);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (scale_b)));

  /* A newly opened model shows domain A at 1 and B at 0. */
  g_assert_cmpfloat (gtk_range_get_value (scale_a), ==, 1.0);
  g_assert_cmpfloat (gtk_range_get_value (scale_b), ==, 0.0);
  hd_ui_test_assert_screen_matches_engine (window);
  before = hd_ui_test_frame_pixels (window, &res);

  updates = hd_image_view_get_n_updates (hd_window_get_image_view (window));
  gtk_range_set_value (scale_b, 0.5);
  hd_ui_test_wait_for_current (window, 30000);
  g_assert_cmpuint (hd_image_view_get_n_updates (hd_window_get_image_view (window)), >, updates);

  after = hd_ui_test_frame_pixels (window, &res);
  g_assert_true (memcmp (before, after, (gsize) res * res * 3) != 0);
  hd_ui_test_assert_screen_matches_engine (window);

  /* The same state through the command line gives the same pixels. */
  arg_a = g_strdup_printf ("--domain=%s=1", dom_a);
  arg_b = g_strdup_printf ("--domain=%s=0.5", dom_b);
  {
    const char *args[] = { "--model", tiny, "--seed", "0", arg_a, arg_b, NULL };
    cli = hd_ui_test_run_cli (args, &w, &h);
  }
  if (cli == NULL)
    g_test_message ("HD_RENDER is not set: skipping the comparison with hyperdomain-render");
  else
    {
      g_assert_cmpint (w, ==, res);
      g_assert_cmpint (h, ==, res);
      g_assert_cmpmem (after, (gsize) res * res * 3, cli, (gsize) w * h * 3);
    }

  hd_ui_test_close_window (window);
}

typedef struct
{
  GtkRange *scale;
  guint     i;
  guint     n;
} Drag;

static double
drag_value (guint i)
{
  /* Values with an exact float form, ending on a known one. */
  return -1.0 + (double) ((i * 37) % 97) / 32.0;
}

static gboolean
drag_step (gpointer data)
{
  Drag *drag = data;

  gtk_range_set_value (drag->scale, drag_value (drag->i));
  drag->i++;
  return drag->i < drag->n ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
drag_done (gpointer data)
{
  Drag *drag = data;

  return drag->i >= drag->n;
}

typedef struct { gint64 start; gint64 max; guint n; gint64 layout; gint64 max_layout; } FrameTimes;

static void
on_before_paint (GdkFrameClock *clock, FrameTimes *ft)
{
  ft->start = g_get_monotonic_time ();
}

static void
on_layout (GdkFrameClock *clock, FrameTimes *ft)
{
  ft->layout = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, FrameTimes *ft)
{
  gint64 now = g_get_monotonic_time ();
  if (ft->start)
    {
      ft->max = MAX (ft->max, now - ft->start);
      ft->max_layout = MAX (ft->max_layout, ft->layout - ft->start);
      if (now - ft->start > 16000)
        g_test_message ("frame %.1f ms (layout done at %.1f)", (now - ft->start) / 1000.0, (ft->layout - ft->start) / 1000.0);
    }
  ft->n++;
}

static void
test_window_burst (void)
{
  FrameTimes ft = { 0 };
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  HdRenderWorker *worker = hd_window_get_worker (window);
  GtkRange *scale = hd_window_get_domain_scale (window, 0);
  g_autoptr(HdStallMonitor) monitor = NULL;
  HdRenderFrame *frame;
  guint rendered, submitted;
  double last;
  Drag drag = { scale, 0, 100 };

  /* 100 changes in one go, faster than any render: only the newest
   * request survives. */
  rendered = hd_render_worker_get_n_rendered (worker);
  for (guint i = 0; i < 100; i++)
    gtk_range_set_value (scale, drag_value (i));
  last = drag_value (99);
  hd_ui_test_wait_for_current (window, 30000);

  g_test_message ("burst: 100 changes, %u renders",
                  hd_render_worker_get_n_rendered (worker) - rendered);
  /* How many get through depends on how the two threads are scheduled
   * (a loaded 2-core machine has let 8 through): what must hold is that
   * most of the 100 are dropped, not rendered. */
  g_assert_cmpuint (hd_render_worker_get_n_rendered (worker) - rendered, <=, 25);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpfloat ((float) g_array_index (frame->job->state->domains, HdStateDomain, 0).weight, ==, (float) last);
  hd_ui_test_assert_screen_matches_engine (window);

  /* A drag: 100 changes 1 ms apart while the pointer holds the slider,
   * with the main loop running. */
  {
    GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
    g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), &ft);
    g_signal_connect (clock, "layout", G_CALLBACK (on_layout), &ft);
    g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &ft);
  }
  monitor = hd_stall_monitor_new (NULL);
  rendered = hd_render_worker_get_n_rendered (worker);
  submitted = hd_render_worker_get_n_submitted (worker);
  hd_session_set_interactive (session, TRUE);
  g_timeout_add (1, drag_step, &drag);
  hd_ui_test_wait_until (drag_done, &drag, 30000, "the drag");
  hd_session_set_interactive (session, FALSE);
  hd_ui_test_wait_for_current (window, 30000);

  g_test_message ("drag: 100 changes 1 ms apart, %u requests, %u renders; "
                  "main loop: %" G_GUINT64_FORMAT " iterations, longest %.2f ms, %u over 16 ms",
                  hd_render_worker_get_n_submitted (worker) - submitted,
                  hd_render_worker_get_n_rendered (worker) - rendered,
                  hd_stall_monitor_get_n_iterations (monitor),
                  hd_stall_monitor_get_max_ms (monitor),
                  hd_stall_monitor_count_over (monitor, 16.0));
  g_test_message ("frames %u, longest %.1f ms, layout %.1f", ft.n, ft.max / 1000.0, ft.max_layout / 1000.0);
  g_assert_cmpuint (hd_render_worker_get_n_rendered (worker) - rendered, <, 100);
  frame = hd_window_get_full_frame (window);
  g_assert_false (frame->preview);
  g_assert_cmpfloat ((float) g_array_index (frame->job->state->domains, HdStateDomain, 0).weight, ==, (float) drag_value (99));
  hd_ui_test_assert_screen_matches_engine (window);

  hd_ui_test_close_window (window);
}

static void
test_window_latent_controls (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  HdLatentPanel *panel = hd_window_get_latent_panel (window);
  HdRenderFrame *frame;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.seed-next", NULL);
  g_assert_cmpuint (hd_session_get_seed (session), ==, 1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.seed-previous", NULL);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.seed-previous", NULL);
  g_assert_cmpuint (hd_session_get_seed (session), ==, G_MAXUINT32);

  hd_session_set_seed (session, 42);
  gtk_range_set_value (hd_latent_panel_get_psi_scale (panel), 0.5);
  g_assert_cmpfloat (hd_session_get_psi (session), ==, 0.5);
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpuint (frame->job->state->seed, ==, 42);
  g_assert_cmpfloat (frame->job->state->psi, ==, 0.5);
  hd_ui_test_assert_screen_matches_engine (window);

  /* Interpolating toward a second seed renders a W latent. */
  gtk_range_set_value (hd_latent_panel_get_mix_scale (panel), 0.25);
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpfloat (frame->job->state->mix, ==, 0.25);

  hd_ui_test_close_window (window);
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static void
test_window_export (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "out.png", NULL);
  g_autofree char *json = NULL;
  g_autofree guint8 *shown = NULL;
  g_autofree guint8 *written = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(HdState) state = NULL;
  int res;

  g_assert_no_error (error);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), -0.75);
  hd_window_export_to_path (window, path);
  hd_ui_test_wait_until (file_exists, path, 30000, "the exported file");
  hd_ui_test_run_for (100);

  shown = hd_ui_test_frame_pixels (window, &res);
  texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  written = hd_ui_test_texture_rgb (texture);
  g_assert_cmpmem (shown, (gsize) res * res * 3, written, (gsize) res * res * 3);

  json = hd_png_read_metadata (path, &error);
  g_assert_no_error (error);
  state = hd_state_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (state->domains->len, ==, 2);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 1).weight, ==, -0.75f);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 0).weight, ==, 1.0f);
  g_assert_true (g_str_has_suffix (state->generator_path, "tiny.safetensors"));

  g_unlink (path);
  g_rmdir (dir);
  hd_ui_test_close_window (window);
}

/* A domain of another generator is refused with a message; what was
 * loaded stays. */
static void
test_window_wrong_domain (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "other.safetensors", NULL);
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  float values[7] = { 0 };
  gint64 shape[1] = { 7 };
  const char *paths[] = { path, NULL };
  GList *toplevels;
  gboolean found_dialog = FALSE;
  guint n_toplevels_before = g_list_model_get_n_items (gtk_window_get_toplevels ());

  g_assert_no_error (error);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", "Other");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_add_f32 (writer, "synthesis.b4.conv1", HD_DTYPE_F32, shape, 1, values);
  hd_safetensors_writer_write (writer, path, &error);
  g_assert_no_error (error);

  hd_ui_test_open_paths (window, paths);
  hd_ui_test_run_for (200);

  g_assert_nonnull (hd_session_get_generator (session));
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (gtk_window_get_toplevels ()), >, n_toplevels_before);
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data))
      {
        const char *body = adw_message_dialog_get_body (l->data);

        g_test_message ("error shown: %s", body);
        g_assert_nonnull (strstr (body, "other.safetensors"));
        /* One file: the heading counts it, the body says first that the
         * domain was made for another generator. */
        g_assert_cmpstr (adw_message_dialog_get_heading (l->data), ==, "Could Not Open a File");
        g_assert_nonnull (strstr (body, "was made for another generator"));
        found_dialog = TRUE;
        gtk_window_destroy (l->data);
      }
  g_list_free (toplevels);
  g_assert_true (found_dialog);

  g_unlink (path);
  g_rmdir (dir);
  hd_ui_test_close_window (window);
}

typedef struct
{
  HdWindow *window;
  guint     updates;
} NextImage;

static gboolean
image_changed (gpointer data)
{
  NextImage *next = data;

  return hd_image_view_get_n_updates (hd_window_get_image_view (next->window)) != next->updates &&
         !hd_render_worker_is_busy (hd_window_get_worker (next->window));
}

/* While a slider is held, previews (the skip image of an earlier block)
 * may stand in; letting go brings the full image. */
static void
test_window_preview (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  NextImage next = { window, 0 };
  HdRenderFrame *frame;

  g_settings_set_string (settings, "preview-policy", "always");
  hd_session_set_interactive (session, TRUE);
  next.updates = hd_image_view_get_n_updates (hd_window_get_image_view (window));
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 1.5);
  hd_ui_test_wait_until (image_changed, &next, 30000, "a preview");

  frame = hd_window_get_frame (window);
  g_assert_true (frame->preview);
  g_assert_cmpint (frame->width, ==, 16);
  g_assert_cmpint (frame->full_res, ==, 32);
  /* Shown at the size of the full image. */
  g_assert_cmpint (gdk_texture_get_width (hd_image_view_get_texture (hd_window_get_image_view (window))), ==, 16);

  hd_session_set_interactive (session, FALSE);
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_frame (window);
  g_assert_false (frame->preview);
  g_assert_cmpint (frame->width, ==, 32);
  hd_ui_test_assert_screen_matches_engine (window);

  g_settings_reset (settings, "preview-policy");
  hd_ui_test_close_window (window);
}

static void
on_worker_frame (HdRenderWorker *worker,
                 HdRenderFrame  *frame,
                 GPtrArray      *frames)
{
  g_ptr_array_add (frames, hd_render_frame_ref (frame));
}

static void
on_worker_failed (HdRenderWorker *worker,
                  const GError   *error,
                  guint64         serial)
{
  g_error ("render failed: %s", error->message);
}

typedef struct
{
  HdRenderWorker *worker;
  GPtrArray      *frames;
  guint           n;
} WorkerWait;

static gboolean
worker_has_frames (gpointer data)
{
  WorkerWait *wait = data;

  return wait->frames->len >= wait->n && !hd_render_worker_is_busy (wait->worker);
}

/* A change while a frame is under way: the render thread abandons that
 * frame at its next piece and renders the newer job at once.  The
 * abandoned frame is never shown, no error comes of it, and the newer
 * frame has the pixels of an uninterrupted render.  The generator is a
 * random one large enough (128x128, 2.8 GMAC) to be split into pieces;
 * the conformance generator is one piece. */
static void
test_window_abandon (void)
{
  HdGeneratorConfig config = {
    .z_dim = 64, .w_dim = 64, .img_resolution = 128, .img_channels = 3,
    .mapping_layers = 2, .lr_multiplier = 0.01f,
    .channel_base = 8192, .channel_max = 256,
  };
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 3);
  g_autoptr(HdRenderWorker) worker = hd_render_worker_new ();
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_render_frame_unref);
  g_autoptr(HdRenderJob) warm = hd_render_job_new (gen, NULL, NULL);
  g_autoptr(HdRenderJob) warm2 = hd_render_job_new (gen, NULL, NULL);
  g_autoptr(HdRenderJob) old = hd_render_job_new (gen, NULL, NULL);
  g_autoptr(HdRenderJob) newer = hd_render_job_new (gen, NULL, NULL);
  g_autofree guint8 *expected = NULL;
  WorkerWait wait = { worker, frames, 1 };
  HdRenderFrame *frame;
  guint dropped, abandoned;
  double frame_ms;
  int res;

  g_signal_connect (worker, "frame-ready", G_CALLBACK (on_worker_frame), frames);
  g_signal_connect (worker, "render-failed", G_CALLBACK (on_worker_failed), NULL);

  /* Two first frames: the device, the renderer, the shaders compiled;
   * then the time of a frame. */
  warm->state->seed = 1;
  hd_render_worker_submit (worker, warm);
  hd_ui_test_wait_until (worker_has_frames, &wait, 60000, "the first frame");
  warm2->state->seed = 4;
  hd_render_worker_submit (worker, warm2);
  wait.n = 2;
  hd_ui_test_wait_until (worker_has_frames, &wait, 60000, "the second frame");
  frame_ms = ((HdRenderFrame *) g_ptr_array_index (frames, 1))->render_ms;
  g_test_message ("a frame takes %.1f ms", frame_ms);

  /* The old job, and the newer one a quarter into its time. */
  dropped = hd_render_worker_get_n_dropped (worker);
  abandoned = hd_render_worker_get_n_abandoned (worker);
  old->state->seed = 2;
  newer->state->seed = 3;
  hd_render_worker_submit (worker, old);
  g_usleep ((gulong) (frame_ms * 250.0));
  hd_render_worker_submit (worker, newer);
  wait.n = 3;
  hd_ui_test_wait_until (worker_has_frames, &wait, 60000, "the newer frame");
  hd_ui_test_run_for (100);

  /* Only the newer frame came, the old one was abandoned (not shown, not
   * an error: on_worker_failed would have failed the test). */
  g_assert_cmpuint (frames->len, ==, 3);
  frame = g_ptr_array_index (frames, 2);
  g_assert_true (frame->job == newer);
  g_assert_cmpuint (hd_render_worker_get_n_dropped (worker) - dropped, ==, 1);
  g_assert_cmpuint (hd_render_worker_get_n_abandoned (worker) - abandoned, ==, 1);
  g_test_message ("slider change to new pixels: %.1f ms",
                  (frame->finished_us - newer->submitted_us) / 1000.0);

  expected = hd_ui_test_render_oracle (newer, &res);
  g_assert_cmpint (frame->width, ==, res);
  g_assert_cmpmem (g_bytes_get_data (frame->rgb, NULL), g_bytes_get_size (frame->rgb),
                   expected, (gsize) res * res * 3);

  g_signal_handlers_disconnect_by_data (worker, frames);
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

static gboolean
file_changed (gpointer data)
{
  GStatBuf st;

  return g_stat (data, &st) == 0 && st.st_size > 0;
}

/* Ctrl+E writes to the export folder; a second export of the same image
 * asks before replacing the file. */
static void
test_window_export_replace (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "tiny-0.png", NULL);
  AdwMessageDialog *dialog;
  GStatBuf before, after;

  g_assert_no_error (error);
  g_settings_set_string (settings, "export-folder", dir);

  gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL);
  hd_ui_test_wait_until (file_exists, path, 30000, "the exported file");
  hd_ui_test_run_for (200);
  g_assert_null (find_message_dialog ());
  g_assert_cmpint (g_stat (path, &before), ==, 0);

  /* Same name again: the window asks, and Cancel keeps the file. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL);
  hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the replace question");
  dialog = find_message_dialog ();
  g_test_message ("asked: %s", adw_message_dialog_get_heading (dialog));
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* And Replace writes it again. */
  g_unlink (path);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.export", NULL);
  hd_ui_test_wait_until (has_message_dialog, NULL, 10000, "the replace question");
  dialog = find_message_dialog ();
  adw_message_dialog_response (dialog, "replace");
  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_wait_until (file_changed, path, 30000, "the replaced file");
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpint (after.st_size, ==, before.st_size);

  g_settings_reset (settings, "export-folder");
  g_unlink (path);
  g_rmdir (dir);
  hd_ui_test_close_window (window);
}

/* The hypernetwork that lies beside the demo generator GENERATOR in this
 * tree ("NAME-text.safetensors" for "NAME.safetensors"), or NULL: found
 * here without hd_demo_text_find, so that a test fails when that finds
 * nothing. */
static char *
demo_text_beside (const char *generator)
{
  g_autofree char *stem = g_strndup (generator, strlen (generator) - strlen (".safetensors"));
  char *path = g_strconcat (stem, "-text.safetensors", NULL);

  if (g_str_has_suffix (generator, ".safetensors") && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}


static gboolean
entry_is_empty (gpointer data)
{
  return *gtk_editable_get_text (GTK_EDITABLE (data)) == '\0';
}

/* The demo's first start: the generator, its pack and its hypernetwork
 * opened as the application opens them, with the start its measurements
 * chose (data/models/emoji64-start.json): that seed and ψ, that domain at
 * its weight and the others at 0, on screen as the engine renders it.
 * With the demo's hypernetwork (data/models/emoji64-text.safetensors) the
 * "Describe a Domain" row is there at once, and a prompt typed into it
 * becomes a row at full weight that changes the image.  (Only that it
 * changes: the demo's hypernetwork is retrained now and then.) */
static void
test_window_demo_start (void)
{
  g_autofree char *generator = NULL;
  g_autofree char *pack = NULL;
  g_autofree char *text = NULL;
  g_autofree char *found_text = NULL;
  g_autofree guint8 *before = NULL;
  g_autofree guint8 *after = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  HdDemoStart start;
  HdWindow *window;
  HdSession *session;
  GListModel *domains;
  guint n_on = 0;
  int res;

  if (!hd_demo_model_find (&generator, &pack) || pack == NULL || !hd_demo_start_find (&start))
    {
      g_test_skip ("no demo model with a start in this tree");
      return;
    }
  text = demo_text_beside (generator);
  found_text = hd_demo_text_find ();
  g_assert_cmpstr (found_text, ==, text);
  /* A first start: no hypernetwork opened before. */
  g_settings_reset (settings, "last-hypernetwork");
  window = hd_ui_test_open_window (NULL);
  session = hd_window_get_session (window);
  g_assert_true (hd_application_open_demo (window));
  hd_ui_test_wait_for_current (window, 60000);

  g_assert_cmpuint (hd_session_get_seed (session), ==, start.seed);
  domains = hd_session_get_domains (session);
  g_assert_cmpuint (g_list_model_get_n_items (domains), >, 1);
  for (guint i = 0; i < g_list_model_get_n_items (domains); i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);
      gboolean chosen = g_strcmp0 (hd_domain_item_get_domain (item)->id, start.domain) == 0;

      g_assert_null (hd_domain_item_get_domain (item)->prompt);
      g_assert_cmpfloat (hd_domain_item_get_weight (item), ==, chosen ? start.weight : 0.0);
      n_on += chosen;
    }
  g_assert_cmpuint (n_on, ==, 1);
  g_test_message ("the demo starts at seed %u with %s at %g", start.seed, start.domain, start.weight);
  hd_ui_test_assert_screen_matches_engine (window);

  if (text == NULL)
    g_test_message ("no demo hypernetwork in this tree: no prompt typed");
  else
    {
      HdTextEncoder *encoder = hd_window_get_text_encoder (window);
      GtkWidget *entry = hd_window_get_text_entry (window);
      HdUiTestCount count = { window, hd_ui_test_n_domains (window) + 1 };
      guint updates = hd_image_view_get_n_updates (hd_window_get_image_view (window));
      HdRenderFrame *frame;
      const HdStateDomain *typed;

      /* Prompts can be typed at once, with the demo's hypernetwork. */
      g_assert_nonnull (encoder);
      g_assert_cmpstr (hd_text_encoder_get_hypernetwork (encoder)->path, ==, text);
      g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (entry)));
      g_assert_true (gtk_widget_get_mapped (entry));
      g_assert_true (gtk_widget_is_sensitive (entry));
      g_assert_false (gtk_widget_get_visible (GTK_WIDGET (hd_window_get_text_message (window))));

      before = hd_ui_test_frame_pixels (window, &res);
      gtk_editable_set_text (GTK_EDITABLE (entry), "cat");
      hd_ui_test_wait_until (hd_ui_test_has_n_domains, &count, 30000, "the row of “cat”");
      hd_ui_test_wait_for_current (window, 30000);
      g_assert_false (gtk_widget_get_visible (GTK_WIDGET (hd_window_get_text_message (window))));
      g_assert_cmpuint (hd_image_view_get_n_updates (hd_window_get_image_view (window)), >, updates);

      frame = hd_window_get_full_frame (window);
      typed = &g_array_index (frame->job->state->domains, HdStateDomain, frame->job->state->domains->len - 1);
      g_assert_cmpstr (typed->prompt, ==, "cat");
      g_assert_cmpfloat (typed->weight, ==, 1.0);
      g_assert_cmpstr (frame->job->state->hypernetwork_path, ==, text);
      /* The start's seed is kept under the prompt; its domain, untouched
       * since, steps aside so that the image shows the prompt. */
      g_assert_cmpuint (frame->job->state->seed, ==, start.seed);
      for (guint i = 0; i + 1 < frame->job->state->domains->len; i++)
        g_assert_cmpfloat (g_array_index (frame->job->state->domains, HdStateDomain, i).weight, ==, 0.0);
      after = hd_ui_test_frame_pixels (window, &res);
      g_assert_true (memcmp (before, after, (gsize) res * res * 3) != 0);
      hd_ui_test_assert_screen_matches_engine (window);

      /* Only then: with the prompt kept, a blend the user set stays under
       * the next prompt. */
      g_signal_emit_by_name (entry, "entry-activated");
      hd_ui_test_wait_until (entry_is_empty, entry, 30000, "the entry emptied by Enter");
      for (guint i = 0; i < g_list_model_get_n_items (domains); i++)
        {
          g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

          if (g_strcmp0 (hd_domain_item_get_domain (item)->id, start.domain) == 0)
            hd_domain_item_set_weight (item, start.weight);
        }
      count.n = hd_ui_test_n_domains (window) + 1;
      gtk_editable_set_text (GTK_EDITABLE (entry), "pizza");
      hd_ui_test_wait_until (hd_ui_test_has_n_domains, &count, 30000, "the row of “pizza”");
      hd_ui_test_wait_for_current (window, 30000);
      frame = hd_window_get_full_frame (window);
      n_on = 0;
      for (guint i = 0; i < frame->job->state->domains->len; i++)
        {
          const HdStateDomain *sd = &g_array_index (frame->job->state->domains, HdStateDomain, i);

          if (g_strcmp0 (sd->id, start.domain) == 0)
            g_assert_cmpfloat (sd->weight, ==, start.weight);
          n_on += sd->weight != 0.0;
        }
      /* the start's domain, "cat" and "pizza" */
      g_assert_cmpuint (n_on, ==, 3);
    }

  g_settings_reset (settings, "last-hypernetwork");
  hd_demo_start_clear (&start);
  hd_ui_test_close_window (window);
}

/* A later start without the last session (restore-session off) reopens
 * the hypernetwork opened last (the demo's, since the first start) while
 * the demo opens: the demo still starts at its first image. */
static void
test_window_demo_start_reopened (void)
{
  g_autofree char *generator = NULL;
  g_autofree char *pack = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  HdDemoStart start;
  HdWindow *window;
  HdSession *session;

  if (!hd_demo_model_find (&generator, &pack) || pack == NULL || !hd_demo_start_find (&start) ||
      (text = hd_demo_text_find ()) == NULL)
    {
      g_test_skip ("no demo model with a start and a hypernetwork in this tree");
      return;
    }
  g_settings_set_string (settings, "last-hypernetwork", text);
  window = hd_ui_test_open_window (NULL);
  session = hd_window_get_session (window);
  g_assert_true (hd_application_open_demo (window));
  hd_ui_test_wait_for_current (window, 60000);

  g_assert_cmpuint (hd_session_get_seed (session), ==, start.seed);
  for (guint i = 0; i < hd_ui_test_n_domains (window); i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (hd_session_get_domains (session), i);
      gboolean chosen = g_strcmp0 (hd_domain_item_get_domain (item)->id, start.domain) == 0;

      g_assert_cmpfloat (hd_domain_item_get_weight (item), ==, chosen ? start.weight : 0.0);
    }
  g_assert_nonnull (hd_window_get_text_encoder (window));
  g_settings_reset (settings, "last-hypernetwork");
  hd_demo_start_clear (&start);
  hd_ui_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Window/empty", test_window_empty);
  g_test_add_func ("/Hyperdomain/Window/domain-slider", test_window_domain_slider);
  g_test_add_func ("/Hyperdomain/Window/burst", test_window_burst);
  g_test_add_func ("/Hyperdomain/Window/latent-controls", test_window_latent_controls);
  g_test_add_func ("/Hyperdomain/Window/preview", test_window_preview);
  g_test_add_func ("/Hyperdomain/Window/abandon", test_window_abandon);
  g_test_add_func ("/Hyperdomain/Window/export", test_window_export);
  g_test_add_func ("/Hyperdomain/Window/export-replace", test_window_export_replace);
  g_test_add_func ("/Hyperdomain/Window/wrong-domain", test_window_wrong_domain);
  g_test_add_func ("/Hyperdomain/Window/demo-start", test_window_demo_start);
  g_test_add_func ("/Hyperdomain/Window/demo-start-reopened", test_window_demo_start_reopened);

  return g_test_run ();
}
