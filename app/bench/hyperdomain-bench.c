/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-bench: frame times of the Vulkan renderer.  Prints figures;
 * it asserts nothing (the machines it runs on are shared and noisy).
 * --encode writes a hypernetwork's embeddings and domains for comparison
 * with another implementation. */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-clip-tokenizer.h"
#include "hd-demo.h"
#include "hd-trainer.h"
#include "hd-hypernetwork.h"
#include "hd-latent.h"
#include "hd-renderer.h"
#include "hd-text-gpu.h"
#include "hd-text-reference.h"
#include "hd-vk.h"

typedef struct {
  const char *name;
  int res, channel_base, channel_max, z_dim, w_dim, mapping_layers;
  gboolean clamp;
} Shape;

static const Shape shapes[] = {
  { "tiny", 32, 512, 64, 32, 48, 4, TRUE },
  /* The architecture of the bundled demo model (ARCH in
   * tools/train/train_base.py): 64x64, channels 128 down to 32,
   * z = w = 128, 4 mapping layers, no clamp. */
  { "demo", 64, 2048, 128, 128, 128, 4, FALSE },
  { "256", 256, 16384, 512, 512, 512, 8, FALSE },
  { "1024-config-f", 1024, 32768, 512, 512, 512, 8, FALSE },
};

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  if (values->len == 0)
    return NAN;
  return g_array_index (values, double, values->len / 2);
}

typedef enum {
  MODE_SEED,     /* a new seed every frame: mapping + synthesis */
  MODE_DOMAIN,   /* only a domain weight changes: cached mapping */
  MODE_PREVIEW,  /* the drag preview: a domain change, stopped early */
} Mode;

static const char * const mode_names[] = { "new seed", "domain weight", "drag preview" };

/* --cancellable: frames go through hd_renderer_render_cancellable, split
 * into pieces as the application's render thread renders them, with a
 * check that never cancels. */
/* --kernel, --profile, --force-staging */
static HdRendererOptions renderer_options;
static gboolean use_cancellable;

static gboolean
never_cancel (gpointer data)
{
  return FALSE;
}

static gboolean
render (HdRenderer           *renderer,
        const HdRenderParams *params,
        float                *out,
        GError              **error)
{
  if (use_cancellable)
    return hd_renderer_render_cancellable (renderer, params, never_cancel, NULL, out, error);
  return hd_renderer_render (renderer, params, out, error);
}

static gboolean
bench_mode (HdRenderer  *renderer,
            HdGenerator *gen,
            Mode         mode,
            int          preview_res,
            int          frames,
            GError     **error)
{
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) map = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) syn = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree float *domain = g_new0 (float, gen->domain_dim);
  g_autofree float *direction = g_new (float, gen->domain_dim);
  g_autofree float *out = NULL;
  HdRenderParams params;
  HdRenderStats stats;
  int res;
  double macs, med_wall, med_gpu;

  hd_render_params_init (&params);
  params.domain = domain;
  if (mode == MODE_PREVIEW)
    params.stop_res = preview_res;
  res = hd_render_params_output_res (&params, gen, error);
  if (res < 0)
    return FALSE;
  out = g_new (float, (gsize) gen->config.img_channels * res * res);
  for (int i = 0; i < gen->domain_dim; i++)
    direction[i] = 0.1f * sinf ((float) i);

  /* Two warm-up frames: pipelines, caches, first-touch of memory. */
  for (int f = -2; f < frames; f++)
    {
      if (mode == MODE_SEED)
        params.seed = (guint32) (f + 1000);
      else
        for (int i = 0; i < gen->domain_dim; i++)
          domain[i] = direction[i] * (float) (f + 3) / (float) frames;
      if (!render (renderer, &params, out, error))
        return FALSE;
      if (f < 0)
        continue;
      hd_renderer_get_stats (renderer, &stats);
      g_array_append_val (wall, stats.total_ms);
      g_array_append_val (gpu, stats.gpu_ms);
      g_array_append_val (map, stats.mapping_ms);
      g_array_append_val (syn, stats.synthesis_ms);
    }

  macs = hd_generator_synthesis_macs (gen);
  med_wall = median (wall);
  med_gpu = median (gpu);
  printf ("  %-14s %4dx%-4d  median %9.2f ms/frame  (%6.1f fps)  GPU %9.2f ms  "
          "[mapping %7.2f, synthesis %9.2f]  %u submission%s",
          mode_names[mode], res, res, med_wall, 1000.0 / med_wall, med_gpu,
          median (map), median (syn), stats.n_pieces, stats.n_pieces == 1 ? "" : "s");
  if (mode != MODE_PREVIEW)
    printf ("  %7.1f GFLOP/s", 2.0 * macs / (med_wall * 1e6));
  printf ("\n");
  return TRUE;
}

/* --latency: the time from a slider change to its first pixels while an
 * older frame is under way.  A render thread works as the application's
 * (app/ui/hd-render-worker.c, which this program cannot link: it needs
 * GTK): one pending job, a newer one replaces it, and with cancellation
 * on, the frame being rendered is abandoned at its next piece boundary
 * when a job is pending (the worker's check); with it off, the frame runs
 * to its end in one submission, as before cancellation existed. */
typedef struct {
  GMutex       mutex;
  GCond        cond;
  HdRenderer  *renderer;
  gboolean     cancel_on;
  float       *pending;      /* the domain vector of the pending job */
  guint        pending_id;
  gboolean     quit;
  gboolean     busy;         /* a job is being rendered */
  guint        done_id;      /* the last job whose pixels are ready */
  gint64       done_us;
  guint        started_id;   /* the last job taken up */
  gint64       started_us;
  guint        n_abandoned;
  double       abandoned_fraction;  /* of the last abandoned frame */
  GError      *error;
} LatencyWorker;

/* User + system time of this process, every thread (lavapipe's too). */
static double
process_cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
}

static gboolean
latency_newer_pending (gpointer data)
{
  LatencyWorker *w = data;
  gboolean newer;

  g_mutex_lock (&w->mutex);
  newer = w->pending != NULL || w->quit;
  g_mutex_unlock (&w->mutex);
  return newer;
}

static gpointer
latency_thread (gpointer data)
{
  LatencyWorker *w = data;
  HdGenerator *gen = hd_renderer_get_generator (w->renderer);
  g_autofree float *out = g_new (float, (gsize) gen->config.img_channels *
                                        gen->config.img_resolution * gen->config.img_resolution);

  g_mutex_lock (&w->mutex);
  for (;;)
    {
      g_autofree float *domain = NULL;
      g_autoptr(GError) error = NULL;
      HdRenderParams params;
      gboolean cancel_on, ok;
      guint id;

      while (w->pending == NULL && !w->quit)
        g_cond_wait (&w->cond, &w->mutex);
      if (w->quit)
        break;
      domain = g_steal_pointer (&w->pending);
      id = w->pending_id;
      cancel_on = w->cancel_on;
      w->busy = TRUE;
      w->started_id = id;
      w->started_us = g_get_monotonic_time ();
      g_mutex_unlock (&w->mutex);

      hd_render_params_init (&params);
      params.domain = domain;
      if (cancel_on)
        ok = hd_renderer_render_cancellable (w->renderer, &params, latency_newer_pending, w,
                                             out, &error);
      else
        ok = hd_renderer_render (w->renderer, &params, out, &error);

      g_mutex_lock (&w->mutex);
      w->busy = FALSE;
      if (ok)
        {
          w->done_id = id;
          w->done_us = g_get_monotonic_time ();
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          HdRenderStats stats;

          hd_renderer_get_stats (w->renderer, &stats);
          w->n_abandoned++;
          w->abandoned_fraction = stats.done_fraction;
        }
      else if (w->error == NULL)
        w->error = g_steal_pointer (&error);
      g_cond_broadcast (&w->cond);
    }
  g_mutex_unlock (&w->mutex);
  return NULL;
}

static void
latency_submit (LatencyWorker *w,
                const float   *domain,
                int            n,
                guint          id)
{
  g_mutex_lock (&w->mutex);
  g_free (w->pending);
  w->pending = g_memdup2 (domain, sizeof (float) * n);
  w->pending_id = id;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->mutex);
}

/* Waits until job ID's pixels are ready and nothing else is queued or
 * running; the time they were ready, or -1 after an error. */
static gint64
latency_wait (LatencyWorker *w,
              guint          id,
              gint64        *started)
{
  gint64 done;

  g_mutex_lock (&w->mutex);
  while (w->error == NULL && (w->done_id != id || w->busy || w->pending != NULL))
    g_cond_wait (&w->cond, &w->mutex);
  done = w->error == NULL ? w->done_us : -1;
  *started = w->started_us;
  g_mutex_unlock (&w->mutex);
  return done;
}

static gboolean
bench_latency (HdVkContext *ctx,
               HdGenerator *gen,
               const char  *name,
               int          rounds,
               double       at,
               GError     **error)
{
  g_autoptr(HdRenderer) renderer = NULL;
  g_autoptr(GArray) lat_off = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) lat_on = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) wait_off = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) wait_on = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) frame = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) frame_whole = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) frame_split = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_whole = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_split = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree float *domain = g_new0 (float, gen->domain_dim);
  g_autofree float *out = NULL;
  LatencyWorker w = { 0 };
  GThread *thread;
  HdRenderParams params;
  HdRenderStats stats;
  double frame_ms, whole_ms, split_ms;
  guint id = 0, split_pieces = 0;
  gboolean ok = TRUE;

  renderer = hd_renderer_new_with_options (ctx, gen, &renderer_options, error);
  if (renderer == NULL)
    return FALSE;
  out = g_new (float, (gsize) gen->config.img_channels * gen->config.img_resolution *
                      gen->config.img_resolution);

  /* Warm-up (one frame each way), then the time of a frame that changes
   * only a domain weight, in one submission and in pieces, alternating
   * (frame by frame, so that the load of a shared machine falls on both
   * alike): what splitting costs a frame that is not cancelled. */
  hd_render_params_init (&params);
  params.domain = domain;
  for (int f = 0; f < 2 + 2 * MAX (rounds, 3); f++)
    {
      gboolean split = f % 2 == 1;

      double cpu_ms = process_cpu_ms ();

      for (int i = 0; i < gen->domain_dim; i++)
        domain[i] = 0.05f * sinf ((float) i) * (float) (f + 1);
      if (!(split ? hd_renderer_render_cancellable (renderer, &params, never_cancel, NULL,
                                                    out, error)
                  : hd_renderer_render (renderer, &params, out, error)))
        return FALSE;
      cpu_ms = process_cpu_ms () - cpu_ms;
      hd_renderer_get_stats (renderer, &stats);
      if (split)
        split_pieces = stats.n_pieces;
      if (f >= 2)
        {
          g_array_append_val (frame, stats.total_ms);
          g_array_append_val (split ? frame_split : frame_whole, stats.total_ms);
          g_array_append_val (split ? cpu_split : cpu_whole, cpu_ms);
        }
    }
  frame_ms = median (frame);
  whole_ms = median (frame_whole);  /* sorts: [0] is the minimum */
  split_ms = median (frame_split);
  printf ("%s: %dx%d, domain-weight frame, medians of %u alternating: one submission %.1f ms, "
          "%u pieces %.1f ms (minima %.1f / %.1f)\n",
          name, gen->config.img_resolution, gen->config.img_resolution, frame_whole->len,
          whole_ms, split_pieces, split_ms,
          g_array_index (frame_whole, double, 0), g_array_index (frame_split, double, 0));
  printf ("  process CPU time per frame (all threads), medians: one submission %.1f ms, "
          "%u pieces %.1f ms\n", median (cpu_whole), split_pieces, median (cpu_split));
  printf ("  B submitted %.0f%% into A's expected time (%.1f ms)\n", at * 100.0, at * frame_ms);

  g_mutex_init (&w.mutex);
  g_cond_init (&w.cond);
  w.renderer = renderer;
  thread = g_thread_new ("bench-render", latency_thread, &w);

  for (int round = 0; round < rounds && ok; round++)
    for (int k = 0; k < 2 && ok; k++)
      {
        /* Interleaved, and the order alternates between rounds. */
        gboolean cancel_on = (round + k) % 2 == 1;
        guint abandoned_before;
        gint64 t_b, t_start, t_done;
        double ms, wait_ms;

        g_mutex_lock (&w.mutex);
        w.cancel_on = cancel_on;
        abandoned_before = w.n_abandoned;
        g_mutex_unlock (&w.mutex);

        /* State A, then state B, a different domain weight, while A is
         * under way.  Each round's A and B differ from the last frame, so
         * neither is the same image twice. */
        for (int i = 0; i < gen->domain_dim; i++)
          domain[i] = 0.04f * sinf ((float) i) * (float) (round * 4 + k * 2 + 1);
        latency_submit (&w, domain, gen->domain_dim, ++id);
        g_usleep ((gulong) (at * frame_ms * 1000.0));
        for (int i = 0; i < gen->domain_dim; i++)
          domain[i] = 0.04f * sinf ((float) i) * (float) (round * 4 + k * 2 + 2);
        t_b = g_get_monotonic_time ();
        latency_submit (&w, domain, gen->domain_dim, ++id);
        t_done = latency_wait (&w, id, &t_start);
        if (t_done < 0)
          {
            ok = FALSE;
            break;
          }
        ms = (t_done - t_b) / 1000.0;
        wait_ms = (t_start - t_b) / 1000.0;
        g_array_append_val (cancel_on ? lat_on : lat_off, ms);
        g_array_append_val (cancel_on ? wait_on : wait_off, wait_ms);
        g_mutex_lock (&w.mutex);
        printf ("  round %d, cancellation %-3s  slider change -> new pixels %9.1f ms  "
                "(waiting for A %8.1f, B's frame %8.1f; A %s)\n",
                round + 1, cancel_on ? "on" : "off", ms, wait_ms, ms - wait_ms,
                w.n_abandoned > abandoned_before ? "abandoned" : "finished");
        if (w.n_abandoned > abandoned_before)
          printf ("    A was abandoned after %.0f%% of its convolution work\n",
                  w.abandoned_fraction * 100.0);
        g_mutex_unlock (&w.mutex);
        fflush (stdout);
      }

  g_mutex_lock (&w.mutex);
  w.quit = TRUE;
  g_cond_broadcast (&w.cond);
  g_mutex_unlock (&w.mutex);
  g_thread_join (thread);
  if (w.error != NULL)
    {
      g_propagate_error (error, w.error);
      ok = FALSE;
    }
  g_free (w.pending);
  g_mutex_clear (&w.mutex);
  g_cond_clear (&w.cond);
  if (!ok)
    return FALSE;

  printf ("  median of %d rounds: cancellation off %.1f ms (waiting for A %.1f), "
          "on %.1f ms (waiting for A %.1f)  (frame %.1f ms)\n",
          rounds, median (lat_off), median (wait_off), median (lat_on), median (wait_on),
          frame_ms);
  return TRUE;
}

static gboolean
bench_generator (HdVkContext *ctx,
                 HdGenerator *gen,
                 const char  *name,
                 int          frames,
                 GError     **error)
{
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;
  HdRenderStats stats;
  gint64 t0 = g_get_monotonic_time ();
  int preview = MAX (4, gen->config.img_resolution / 4);
  guint64 before = hd_vk_context_get_allocated_bytes (ctx, NULL);

  /* The peak counts every device allocation of the context (staging
   * buffers of the upload included) from here on. */
  hd_vk_context_reset_peak_allocated_bytes (ctx);
  renderer = hd_renderer_new_with_options (ctx, gen, &renderer_options, error);
  if (renderer == NULL)
    return FALSE;
  hd_renderer_get_stats (renderer, &stats);
  printf ("%s: %dx%d, %.2f GMAC per frame, %d domain channels; load + upload %.0f ms, "
          "device memory %.1f MiB\n",
          name, gen->config.img_resolution, gen->config.img_resolution,
          hd_generator_synthesis_macs (gen) / 1e9, gen->domain_dim,
          (g_get_monotonic_time () - t0) / 1000.0, stats.device_bytes / 1048576.0);
  for (Mode m = MODE_SEED; m <= MODE_PREVIEW; m++)
    if (!bench_mode (renderer, gen, m, preview, frames, error))
      return FALSE;
  hd_renderer_get_stats (renderer, &stats);
  report = hd_renderer_get_memory_report (renderer);
  printf ("  device memory after rendering: %.1f MiB held by the renderer, "
          "%.1f MiB allocated on the device; peak %.1f MiB\n",
          stats.device_bytes / 1048576.0,
          (hd_vk_context_get_allocated_bytes (ctx, NULL) - before) / 1048576.0,
          (hd_vk_context_get_peak_allocated_bytes (ctx) - before) / 1048576.0);
  lines = g_strsplit (report, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      printf ("    %s\n", lines[i]);
  return TRUE;
}

/* --text: a prompt through the CLIP text tower and the mapper on the
 * device, with random weights of ViT-B/32's text tower and the published
 * HyperDomainNet text mapper (17 heads, a 1024 config-f generator). */
static gboolean
bench_text (HdVkContext  *ctx,
            int           frames,
            int           n_tokens,
            GError      **error)
{
  HdClipConfig clip = {
    .context_length = 77, .vocab_size = 49408, .width = 512, .heads = 8, .layers = 12, .embed_dim = 512,
  };
  HdMapperConfig mapper = {
    .activation = HD_MAPPER_RELU, .input_dimension = 512, .width = 512,
    .backbone_depth = 4, .head_depth = 2, .inner_features = 512,
  };
  g_autoptr(HdHypernetwork) hn = NULL;
  g_autoptr(HdTextGpu) gpu = NULL;
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree guint32 *ids = g_new (guint32, MAX (n_tokens, 2));
  g_autofree float *d = NULL;
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;
  guint64 before = hd_vk_context_get_allocated_bytes (ctx, NULL);
  gint64 t0 = g_get_monotonic_time ();
  double first_ms = 0.0;

  n_tokens = CLAMP (n_tokens, 2, clip.context_length);
  hn = hd_hypernetwork_new_random (&clip, &mapper, 1024, 32768, 512, 1, error);
  if (hn == NULL)
    return FALSE;
  hd_vk_context_reset_peak_allocated_bytes (ctx);
  t0 = g_get_monotonic_time ();
  gpu = hd_text_gpu_new (ctx, hn, error);
  if (gpu == NULL)
    return FALSE;
  printf ("text: ViT-B/32 text tower (random) + HyperDomainNet mapper, %zu outputs; load + upload %.0f ms, "
          "device memory %.1f MiB (peak %.1f MiB)\n",
          hd_hypernetwork_output_size (hn), (g_get_monotonic_time () - t0) / 1000.0,
          hd_text_gpu_get_device_bytes (gpu) / 1048576.0,
          (hd_vk_context_get_peak_allocated_bytes (ctx) - before) / 1048576.0);
  d = g_new (float, hd_hypernetwork_output_size (hn));
  ids[0] = clip.vocab_size - 2;
  ids[n_tokens - 1] = clip.vocab_size - 1;
  for (int f = -1; f < frames; f++)
    {
      gint64 start = g_get_monotonic_time ();
      double ms, g;

      for (int i = 1; i < n_tokens - 1; i++)
        ids[i] = (guint32) (1000 + 37 * i + 101 * (f + 1)) % 49000;
      if (!hd_text_gpu_encode (gpu, ids, n_tokens, d, NULL, error))
        return FALSE;
      ms = (g_get_monotonic_time () - start) / 1000.0;
      g = hd_text_gpu_get_gpu_ms (gpu);
      if (f < 0)
        {
          first_ms = ms;
          continue;
        }
      g_array_append_val (wall, ms);
      g_array_append_val (gpu_ms, g);
    }
  printf ("  prompt of %d tokens: first %.1f ms (records the commands); then median %.2f ms, "
          "GPU %.2f ms, over %d prompts\n", n_tokens, first_ms, median (wall), median (gpu_ms), frames);
  report = hd_text_gpu_get_memory_report (gpu);
  lines = g_strsplit (report, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      printf ("    %s\n", lines[i]);
  return TRUE;
}

/* --encode: each prompt of a hypernetwork file through the tokenizer, then
 * the text tower and the mapper both on the device and with the CPU
 * reference; writes DIR/N-ids.npy (the token row as floats), N-gpu-e.npy,
 * N-gpu-d.npy, N-ref-e.npy and N-ref-d.npy for prompt N (0, 1, ...), for
 * comparison with another implementation (tools/check-vit-b32.py). */
static gboolean
encode_prompts (HdVkContext  *ctx,
                const char   *path,
                char        **prompts,
                const char   *dir,
                GError      **error)
{
  g_autoptr(HdHypernetwork) hn = NULL;
  g_autoptr(HdClipTokenizer) tokenizer = NULL;
  g_autoptr(HdTextGpu) gpu = NULL;
  gsize n_out;
  gint64 t0 = g_get_monotonic_time ();

  hn = hd_hypernetwork_load (path, error);
  if (hn == NULL)
    return FALSE;
  tokenizer = hd_clip_tokenizer_new (hn->merges, hn->merges_len, (guint) hn->clip.vocab_size,
                                     (guint) hn->clip.context_length, error);
  if (tokenizer == NULL)
    return FALSE;
  printf ("encode: %s loaded in %.0f ms\n", path, (g_get_monotonic_time () - t0) / 1000.0);
  t0 = g_get_monotonic_time ();
  gpu = hd_text_gpu_new (ctx, hn, error);
  if (gpu == NULL)
    return FALSE;
  printf ("encode: uploaded to the device in %.0f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  n_out = hd_hypernetwork_output_size (hn);
  for (guint i = 0; prompts != NULL && prompts[i] != NULL; i++)
    {
      g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autofree float *ids_f = NULL;
      g_autofree float *e_gpu = g_new (float, hn->clip.embed_dim);
      g_autofree float *d_gpu = g_new (float, n_out);
      g_autofree float *e_ref = g_new (float, hn->clip.embed_dim);
      g_autofree float *d_ref = g_new (float, n_out);
      gint64 n_ids, e_dim = hn->clip.embed_dim, d_dim = (gint64) n_out;
      double gpu_ms, ref_ms;
      struct { const char *what; const gint64 *shape; const float *data; } out[5];

      if (!hd_clip_tokenizer_encode (tokenizer, prompts[i], ids, error))
        return FALSE;
      n_ids = ids->len;
      ids_f = g_new (float, ids->len);
      for (guint t = 0; t < ids->len; t++)
        ids_f[t] = (float) g_array_index (ids, guint32, t);
      t0 = g_get_monotonic_time ();
      if (!hd_text_gpu_encode (gpu, (const guint32 *) ids->data, ids->len, d_gpu, e_gpu, error))
        return FALSE;
      gpu_ms = (g_get_monotonic_time () - t0) / 1000.0;
      t0 = g_get_monotonic_time ();
      if (!hd_text_reference_encode (hn, (const guint32 *) ids->data, ids->len, e_ref, error))
        return FALSE;
      hd_text_reference_map (hn, e_ref, d_ref);
      ref_ms = (g_get_monotonic_time () - t0) / 1000.0;
      printf ("encode: prompt %u, %u tokens: device %.1f ms, CPU reference %.1f ms\n",
              i, ids->len, gpu_ms, ref_ms);
      out[0].what = "ids", out[0].shape = &n_ids, out[0].data = ids_f;
      out[1].what = "gpu-e", out[1].shape = &e_dim, out[1].data = e_gpu;
      out[2].what = "gpu-d", out[2].shape = &d_dim, out[2].data = d_gpu;
      out[3].what = "ref-e", out[3].shape = &e_dim, out[3].data = e_ref;
      out[4].what = "ref-d", out[4].shape = &d_dim, out[4].data = d_ref;
      for (guint k = 0; k < G_N_ELEMENTS (out); k++)
        {
          g_autofree char *file = g_strdup_printf ("%u-%s.npy", i, out[k].what);
          g_autofree char *npy = g_build_filename (dir, file, NULL);

          if (!hd_npy_write_f32 (npy, out[k].shape, 1, out[k].data, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Training steps on GEN with the clip files CLIPS: the median step and
 * where its time goes (hd_trainer_get_times). */
static gboolean
bench_train (HdVkContext  *ctx,
             HdGenerator  *gen,
             char        **clip_paths,
             int           steps,
             int           batch,
             gboolean      profile,
             gboolean      host_clip,
             GError      **error)
{
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GArray) walls = g_array_new (FALSE, FALSE, sizeof (double));
  HdTrainSettings settings;
  HdTrainTimes before = { 0 }, t;
  HdTrainer *trainer;
  gint64 start;
  double loss;
  int step;

  for (int i = 0; clip_paths[i] != NULL; i++)
    {
      /* random:vit-b32, random:vit-b16: OpenAI's shapes with random weights. */
      HdClip *clip = g_str_has_prefix (clip_paths[i], "random:")
                     ? hd_clip_new_random (clip_paths[i] + strlen ("random:"), (guint32) i + 1, error)
                     : hd_clip_load (clip_paths[i], error);

      if (clip == NULL)
        return FALSE;
      g_ptr_array_add (clips, clip);
    }
  hd_train_settings_init (&settings);
  settings.steps = steps;
  settings.batch = batch;
  settings.profile = profile;
  settings.host_clip = host_clip;
  start = g_get_monotonic_time ();
  trainer = hd_trainer_new_on_device (ctx, gen, clips, "photo", "3D render in the style of Pixar",
                                      &settings, NULL, error);
  if (trainer == NULL)
    return FALSE;
  printf ("train: %s, batch %d, %u CLIP(s): text directions and setup %.0f ms (%s)\n",
          gen->name, batch, clips->len, (g_get_monotonic_time () - start) / 1000.0,
          !hd_trainer_is_on_device (trainer) ? "CPU reference"
          : hd_trainer_is_clip_on_device (trainer) ? "generator and CLIP on the device"
          : "generator on the device, CLIP on the host");
  if (hd_trainer_get_note (trainer) != NULL)
    printf ("train: %s\n", hd_trainer_get_note (trainer));
  while (hd_trainer_get_steps_done (trainer) < steps)
    {
      double wall;

      if (!hd_trainer_step (trainer, &step, &loss, error))
        {
          hd_trainer_free (trainer);
          return FALSE;
        }
      hd_trainer_get_times (trainer, &t);
      wall = t.wall - before.wall;
      g_array_append_val (walls, wall);
      printf ("  step %d: %.0f ms (generator forward %.0f, CLIP forward and backward %.0f, "
              "generator backward %.0f, Adam %.2f%s) loss %.6f\n",
              step, wall, t.generator_forward - before.generator_forward, t.clip - before.clip,
              t.generator_backward - before.generator_backward, t.adam - before.adam,
              hd_trainer_is_clip_on_device (trainer) ? ""
              : hd_trainer_is_on_device (trainer) ? "; CLIP's work summed over the samples"
              : "; work summed over the samples",
              loss);
      before = t;
    }
  g_array_sort (walls, compare_doubles);
  printf ("train: median step %.0f ms: 300 steps in %.1f min (%s, %u threads)\n",
          g_array_index (walls, double, walls->len / 2),
          300 * g_array_index (walls, double, walls->len / 2) / 60000.0,
          !hd_trainer_is_on_device (trainer) ? "CPU reference"
          : hd_trainer_is_clip_on_device (trainer) ? "generator and CLIP on the device"
          : "generator on the device, CLIP on the host",
          g_get_num_processors ());
  hd_trainer_free (trainer);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_auto(GStrv) models = NULL;
  g_autofree char *device = NULL;
  g_autofree char *only = NULL;
  g_autofree char *save_dir = NULL;
  g_autofree char *kernel = NULL;
  int frames = 10;
  int rounds = 3;
  double latency_at = 0.2;
  gboolean latency = FALSE;
  gboolean text = FALSE;
  int text_tokens = 10;
  g_autofree char *encode = NULL;
  g_auto(GStrv) prompts = NULL;
  g_autofree char *encode_dir = NULL;
  g_auto(GStrv) train_clips = NULL;
  int train_steps = 5, train_batch = 4;
  gboolean train_reference = FALSE, train_host_clip = FALSE;
  GOptionEntry entries[] = {
    { "train", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &train_clips, "Instead of frame times: training steps on the first --model (default: the demo model) with this clip file (random:vit-b32 or random:vit-b16: one of OpenAI's shapes with random weights); may repeat", "CLIP.safetensors" },
    { "train-steps", 0, 0, G_OPTION_ARG_INT, &train_steps, "--train: steps (default 5)", "N" },
    { "train-batch", 0, 0, G_OPTION_ARG_INT, &train_batch, "--train: batch (default 4)", "B" },
    { "train-reference", 0, 0, G_OPTION_ARG_NONE, &train_reference, "--train: run the steps (and text directions) on the CPU reference instead of the device", NULL },
    { "train-host-clip", 0, 0, G_OPTION_ARG_NONE, &train_host_clip, "--train: the generator on the device, CLIP's image tower on the host (to compare)", NULL },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Vulkan device: auto, cpu or an index", "DEVICE" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames timed per case after two warm-up frames (default 10)", "N" },
    { "shape", 0, 0, G_OPTION_ARG_STRING, &only, "Only the random shapes whose name contains TEXT (tiny, demo, 256, 1024-config-f; \"none\" for none)", "TEXT" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &models, "Also time this generator file; may repeat", "GEN.safetensors" },
    { "save-generators", 0, 0, G_OPTION_ARG_FILENAME, &save_dir, "Write the random generators to DIR (for tools/bench/compare.sh)", "DIR" },
    { "cancellable", 0, 0, G_OPTION_ARG_NONE, &use_cancellable, "Render through hd_renderer_render_cancellable, in pieces, as the application does", NULL },
    { "latency", 0, 0, G_OPTION_ARG_NONE, &latency, "Instead of frame times: slider change to new pixels while an older frame is under way, with cancellation off and on", NULL },
    { "kernel", 0, 0, G_OPTION_ARG_STRING, &kernel, "Convolution kernels: auto (default), tiled or lanes", "KERNEL" },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &renderer_options.profile, "Log the GPU time of every dispatch of every frame", NULL },
    { "force-staging", 0, 0, G_OPTION_ARG_NONE, &renderer_options.force_staging, "Upload and read back through staging buffers even where device memory is host-visible", NULL },
    { "text", 0, 0, G_OPTION_ARG_NONE, &text, "Instead of frame times: encoding a prompt with a ViT-B/32-sized text tower and the published mapper (random weights)", NULL },
    { "text-tokens", 0, 0, G_OPTION_ARG_INT, &text_tokens, "--text: tokens of the prompt, SOT and EOT included (default 10)", "N" },
    { "encode", 0, 0, G_OPTION_ARG_FILENAME, &encode, "Instead of timing: write the embedding and the domain of each --prompt through this hypernetwork, on the device and with the CPU reference, as .npy files to --encode-dir", "HN.safetensors" },
    { "prompt", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &prompts, "--encode: a prompt (UTF-8 whatever the locale); may repeat", "TEXT" },
    { "encode-dir", 0, 0, G_OPTION_ARG_FILENAME, &encode_dir, "--encode: where the .npy files go (default .)", "DIR" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "--latency: interleaved rounds (default 3)", "N" },
    { "latency-at", 0, 0, G_OPTION_ARG_DOUBLE, &latency_at, "--latency: submit the change this far into the older frame's expected time (default 0.2)", "FRACTION" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("— time the renderer");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("hyperdomain-bench: %s\n", error->message);
      return 2;
    }
  if (kernel != NULL && !hd_conv_kernel_from_string (kernel, &renderer_options.conv_kernel))
    {
      g_printerr ("hyperdomain-bench: --kernel %s: use auto, tiled or lanes\n", kernel);
      return 2;
    }
  frames = CLAMP (frames, 1, 100000);
  rounds = CLAMP (rounds, 1, 1000);
  latency_at = CLAMP (latency_at, 0.0, 10.0);

  ctx = hd_vk_context_new (device, &error);
  if (ctx == NULL)
    {
      g_printerr ("hyperdomain-bench: %s\n", error->message);
      return 1;
    }
  printf ("device: %s (%s)\n", hd_vk_context_get_device_info (ctx)->name,
          hd_vk_context_get_device_info (ctx)->type_name);

  if (encode != NULL)
    {
      if (!encode_prompts (ctx, encode, prompts, encode_dir != NULL ? encode_dir : ".", &error))
        {
          g_printerr ("hyperdomain-bench: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  if (train_clips != NULL)
    {
      g_autofree char *demo = NULL;
      g_autoptr(HdGenerator) gen = NULL;

      if (models == NULL && !hd_demo_model_find (&demo, NULL))
        {
          g_printerr ("hyperdomain-bench: --train needs --model (there is no demo model)\n");
          return 2;
        }
      gen = hd_generator_load (models != NULL ? models[0] : demo, &error);
      if (gen == NULL ||
          !bench_train (train_reference ? NULL : ctx, gen, train_clips, CLAMP (train_steps, 1, 100000), CLAMP (train_batch, 1, 64),
                        renderer_options.profile, train_host_clip, &error))
        {
          g_printerr ("hyperdomain-bench: train: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  if (text)
    {
      if (!bench_text (ctx, frames, text_tokens, &error))
        {
          g_printerr ("hyperdomain-bench: text: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const Shape *sh = &shapes[s];
      HdGeneratorConfig config = {
        .z_dim = sh->z_dim, .w_dim = sh->w_dim, .img_resolution = sh->res,
        .img_channels = 3, .mapping_layers = sh->mapping_layers, .lr_multiplier = 0.01f,
        .channel_base = sh->channel_base, .channel_max = sh->channel_max,
        .has_conv_clamp = sh->clamp, .conv_clamp = 256.0f,
      };
      g_autoptr(HdGenerator) gen = NULL;

      if (only != NULL && strstr (sh->name, only) == NULL)
        continue;
      gen = hd_generator_new_random (&config, 1);
      if (save_dir != NULL)
        {
          g_autofree char *file = g_strdup_printf ("random-%s.safetensors", sh->name);
          g_autofree char *path = g_build_filename (save_dir, file, NULL);
          g_mkdir_with_parents (save_dir, 0777);
          if (!hd_generator_save (gen, path, HD_DTYPE_F32, &error))
            {
              g_printerr ("hyperdomain-bench: %s\n", error->message);
              return 1;
            }
        }
      if (!(latency ? bench_latency (ctx, gen, sh->name, rounds, latency_at, &error)
                    : bench_generator (ctx, gen, sh->name, frames, &error)))
        {
          g_printerr ("hyperdomain-bench: %s: %s\n", sh->name, error->message);
          return 1;
        }
    }

  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    {
      g_autoptr(HdGenerator) gen = hd_generator_load (models[i], &error);
      if (gen == NULL ||
          !(latency ? bench_latency (ctx, gen, models[i], rounds, latency_at, &error)
                    : bench_generator (ctx, gen, models[i], frames, &error)))
        {
          g_printerr ("hyperdomain-bench: %s\n", error->message);
          return 1;
        }
    }
  return 0;
}
