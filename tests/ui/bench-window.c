/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Figures for the explorer window under a display server: the time from
 * moving a domain slider to the new image on screen, and the longest
 * main-loop iteration while a slider is dragged.  For the conformance
 * "tiny" generator and a random 256x256 one. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hd-safetensors.h"

#include "hd-stall-monitor.h"
#include "hd-ui-test-util.h"

typedef struct
{
  HdImageView *view;
  guint        updates;
  gboolean     want_full;
  HdWindow    *window;
} Wait;

static gboolean
image_updated (gpointer data)
{
  Wait *w = data;
  HdRenderFrame *frame = hd_window_get_frame (w->window);

  if (hd_image_view_get_n_updates (w->view) == w->updates)
    return FALSE;
  if (w->want_full && (frame == NULL || frame->preview ||
                       frame->job->serial != hd_session_get_serial (hd_window_get_session (w->window))))
    return FALSE;
  return TRUE;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
print_stats (const char *what,
             double     *ms,
             guint       n)
{
  qsort (ms, n, sizeof (double), compare_doubles);
  g_print ("%-44s median %7.1f ms   min %7.1f   max %7.1f   (n = %u)\n",
           what, ms[n / 2], ms[0], ms[n - 1], n);
}

/* Moves the slider N times, each time waiting for the image. */
static void
measure_latency (HdWindow   *window,
                 const char *name,
                 guint       n,
                 gboolean    interactive)
{
  HdSession *session = hd_window_get_session (window);
  GtkRange *scale = hd_window_get_domain_scale (window, 0);
  g_autofree double *latency = g_new (double, n);
  g_autofree double *render = g_new (double, n);
  g_autofree char *label = NULL;
  guint n_preview = 0;

  hd_session_set_interactive (session, interactive);
  for (guint i = 0; i < n; i++)
    {
      Wait w = { hd_window_get_image_view (window), 0, !interactive, window };
      gint64 start;
      HdRenderFrame *frame;

      w.updates = hd_image_view_get_n_updates (w.view);
      start = g_get_monotonic_time ();
      gtk_range_set_value (scale, 0.5 + 0.5 * sin (i * 0.7) + (i % 2) * 0.01);
      hd_ui_test_wait_until (image_updated, &w, 120000, "the new image");
      latency[i] = (g_get_monotonic_time () - start) / 1000.0;
      frame = hd_window_get_frame (window);
      render[i] = frame->render_ms;
      n_preview += frame->preview;
    }
  hd_session_set_interactive (session, FALSE);
  hd_ui_test_wait_for_current (window, 120000);

  label = g_strdup_printf ("%s, %s: slider to screen", name, interactive ? "dragging" : "released");
  print_stats (label, latency, n);
  g_free (label);
  label = g_strdup_printf ("%s, %s: render call%s", name, interactive ? "dragging" : "released",
                           n_preview > 0 ? " (previews)" : "");
  print_stats (label, render, n);
}

typedef struct
{
  GtkRange *scale;
  guint     i;
  guint     n;
  gint64    last_us;
  gint64    max_gap_us;
} Drag;

/* Called every 16 ms; a late call is a main loop that was kept waiting
 * (busy, or not given the processor). */
static gboolean
drag_step (gpointer data)
{
  Drag *drag = data;
  gint64 now = g_get_monotonic_time ();

  if (drag->last_us != 0)
    drag->max_gap_us = MAX (drag->max_gap_us, now - drag->last_us);
  drag->last_us = now;

  gtk_range_set_value (drag->scale, -1.0 + 3.0 * drag->i / drag->n);
  drag->i++;
  return drag->i < drag->n ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
drag_done (gpointer data)
{
  Drag *drag = data;

  return drag->i >= drag->n;
}

/* A drag of about one change per display frame, as a pointer gives. */
static void
measure_drag (HdWindow   *window,
              const char *name)
{
  HdSession *session = hd_window_get_session (window);
  HdRenderWorker *worker = hd_window_get_worker (window);
  g_autoptr(HdStallMonitor) monitor = hd_stall_monitor_new (NULL);
  Drag drag = { hd_window_get_domain_scale (window, 0), 0, 120, 0, 0 };
  guint rendered = hd_render_worker_get_n_rendered (worker);
  gint64 start = g_get_monotonic_time ();
  g_autofree char *label = g_strdup_printf ("%s, drag", name);

  hd_session_set_interactive (session, TRUE);
  g_timeout_add (16, drag_step, &drag);
  hd_ui_test_wait_until (drag_done, &drag, 120000, "the drag");
  hd_session_set_interactive (session, FALSE);
  hd_ui_test_wait_for_current (window, 120000);

  g_print ("%-44s %u changes every 16 ms took %.0f ms (longest gap %.1f ms), %u frames rendered; main loop: %" G_GUINT64_FORMAT
           " iterations, longest %.1f ms, %u over 16 ms; main-thread processor time per iteration: longest %.1f ms, %u over 16 ms\n",
           label, drag.n,
           (drag.last_us - start) / 1000.0,
           drag.max_gap_us / 1000.0,
           hd_render_worker_get_n_rendered (worker) - rendered,
           hd_stall_monitor_get_n_iterations (monitor),
           hd_stall_monitor_get_max_ms (monitor),
           hd_stall_monitor_count_over (monitor, 16.0),
           hd_stall_monitor_get_max_cpu_ms (monitor),
           hd_stall_monitor_count_cpu_over (monitor, 16.0));
}

/* A random 256x256 generator (the channel counts of NVIDIA's 256
 * configurations) and a random domain for it, written to DIR. */
static void
write_random_256 (const char *dir,
                  char      **gen_path,
                  char      **domain_path)
{
  HdGeneratorConfig config = {
    .z_dim = 512, .w_dim = 512, .c_dim = 0,
    .img_resolution = 256, .img_channels = 3,
    .mapping_layers = 8, .lr_multiplier = 0.01f,
    .channel_base = 16384, .channel_max = 512,
    .has_conv_clamp = TRUE, .conv_clamp = 256.0f,
  };
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autoptr(GError) error = NULL;
  GRand *rand = g_rand_new_with_seed (2);

  *gen_path = g_build_filename (dir, "random-256.safetensors", NULL);
  *domain_path = g_build_filename (dir, "random-256-domain.safetensors", NULL);
  hd_generator_save (gen, *gen_path, HD_DTYPE_F32, &error);
  g_assert_no_error (error);

  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", "Random");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
  for (int i = 0; i < gen->n_convs; i++)
    {
      const HdConvLayer *conv = &gen->convs[i];
      g_autofree float *values = g_new (float, conv->c_in);
      gint64 shape[1] = { conv->c_in };

      for (int c = 0; c < conv->c_in; c++)
        values[c] = (float) g_rand_double_range (rand, -0.3, 0.3);
      hd_safetensors_writer_add_f32 (writer, conv->name, HD_DTYPE_F32, shape, 1, values);
    }
  hd_safetensors_writer_write (writer, *domain_path, &error);
  g_assert_no_error (error);
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  const char *tiny[] = { "tiny.safetensors", "tiny-domain-a.safetensors", "tiny-domain-b.safetensors", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *gen_path = NULL;
  g_autofree char *domain_path = NULL;
  HdWindow *window;

  hd_ui_test_init (&argc, &argv);

  window = hd_ui_test_open_window (tiny);
  g_print ("device: %s\n", hd_render_worker_get_device_name (hd_window_get_worker (window)));
  measure_latency (window, "tiny 32x32", 40, FALSE);
  measure_drag (window, "tiny 32x32");
  gtk_window_destroy (GTK_WINDOW (window));

  dir = g_dir_make_tmp ("hyperdomain-bench-XXXXXX", &error);
  g_assert_no_error (error);
  write_random_256 (dir, &gen_path, &domain_path);
  window = hd_ui_test_open_window (NULL);
  {
    const char *paths[] = { gen_path, domain_path, NULL };
    hd_ui_test_open_paths (window, paths);
  }
  measure_latency (window, "random 256x256", 8, FALSE);
  measure_latency (window, "random 256x256", 8, TRUE);
  measure_drag (window, "random 256x256");
  gtk_window_destroy (GTK_WINDOW (window));

  g_unlink (gen_path);
  g_unlink (domain_path);
  g_rmdir (dir);
  return 0;
}
