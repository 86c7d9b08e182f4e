/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Soak: one process renders many frames of the conformance generator with
 * changing seeds, truncation, noise, domain sets and weights, and opens the
 * generator again every so often, as an artist's session of hours does.
 * After a warm-up, neither resident memory, nor the heap in use, nor the
 * device memory may grow.  HD_SOAK_FRAMES sets the number of frames
 * (default 10000). */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-renderer.h"
#include "hd-test-util.h"
#include "hd-vk.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define DEFAULT_FRAMES  10000
/* A new renderer (the generator opened again) every this many frames
 * (HD_SOAK_REOPEN_EVERY overrides it). */
#define REOPEN_EVERY    1000
/* Growth allowed after the warm-up.  Resident memory moves by a few MiB
 * around each new renderer (the driver's compiled pipelines), without
 * trend; the heap in use stays within some 150 KiB.  A leak of 32 bytes a
 * frame exceeds the heap bound over the 8000 frames after warm-up. */
#define MAX_RSS_GROWTH  (4u * 1024u * 1024u)
#define MAX_HEAP_GROWTH (256u * 1024u)

static guint64
resident_bytes (void)
{
  g_autofree char *text = NULL;
  unsigned long size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL));
  g_assert_cmpint (sscanf (text, "%lu %lu", &size, &resident), ==, 2);
  return (guint64) resident * (guint64) sysconf (_SC_PAGESIZE);
}

static guint64
heap_bytes (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
}

typedef struct {
  guint64 rss;
  guint64 heap;
  guint64 device;
  guint64 n_allocations;
} Sample;

static void
take_sample (Sample      *s,
             HdVkContext *ctx)
{
  /* Freed memory held in the allocator's caches is not a leak. */
  malloc_trim (0);
  s->rss = resident_bytes ();
  s->heap = heap_bytes ();
  s->device = hd_vk_context_get_allocated_bytes (ctx, &s->n_allocations);
}

static void
test_soak (void)
{
  const char *env = g_getenv ("HD_SOAK_FRAMES");
  const char *reopen_env = g_getenv ("HD_SOAK_REOPEN_EVERY");
  guint n_frames = env != NULL ? (guint) atoi (env) : DEFAULT_FRAMES;
  guint reopen_every = reopen_env != NULL ? (guint) MAX (atoi (reopen_env), 1) : REOPEN_EVERY;
  guint warmup = MIN (2 * reopen_every, n_frames / 5);  /* frames */
  const char *domain_files[] = {
    "tiny-domain-a.safetensors", "tiny-domain-b.safetensors", "tiny-domain-partial.safetensors",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autoptr(HdGenerator) gen = hd_generator_load (model, &error);
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_autoptr(HdRenderer) renderer = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  g_autofree float *img = NULL;
  g_autofree float *d = NULL;
  g_autofree float *w = NULL;
  Sample start = { 0 }, end = { 0 };
  HdRenderStats stats;
  guint64 renderer_bytes = 0;
  gint64 t0 = 0, t1;
  gsize n_pixels;

  g_assert_no_error (error);
  g_assert_cmpuint (n_frames, >=, 10);
  ctx = hd_vk_context_new (NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (domain_files); i++)
    {
      g_autofree char *path = hd_test_conformance_path (domain_files[i]);
      g_autoptr(GPtrArray) loaded = hd_domain_load_all (path, &error);

      g_assert_no_error (error);
      for (guint j = 0; j < loaded->len; j++)
        {
          HdDomain *domain = g_ptr_array_index (loaded, j);

          g_assert_true (hd_domain_check (domain, gen, NULL, &error));
          g_assert_no_error (error);
          g_ptr_array_add (domains, hd_domain_ref (domain));
        }
    }

  n_pixels = (gsize) gen->config.img_channels * gen->config.img_resolution * gen->config.img_resolution;
  img = g_new (float, n_pixels);
  d = g_new0 (float, MAX (gen->domain_dim, 1));
  w = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);

  for (guint frame = 0; frame < n_frames; frame++)
    {
      HdBlendTerm terms[8];
      guint n_terms = 0;
      HdRenderParams params;
      guint32 choice = g_rand_int (rand);

      if (frame % reopen_every == 0 || (frame % REOPEN_EVERY == 0 && frame > 0))
        {
          if (frame > 0)
            {
              Sample s;

              take_sample (&s, ctx);
              g_test_message ("frame %5u: resident %.2f MiB, heap %.2f MiB, device %" G_GUINT64_FORMAT
                              " bytes", frame, s.rss / 1048576.0, s.heap / 1048576.0, s.device);
            }
          if (frame % reopen_every == 0)
            {
              g_clear_pointer (&renderer, hd_renderer_free);
              renderer = hd_renderer_new (ctx, gen, &error);
              g_assert_no_error (error);
            }
          hd_renderer_get_stats (renderer, &stats);
          if (renderer_bytes == 0)
            renderer_bytes = stats.device_bytes;
          g_assert_cmpuint (stats.device_bytes, ==, renderer_bytes);
        }

      /* A random set of domains (each may appear more than once, with a
       * layer range or not), with random weights. */
      for (guint i = 0; i < domains->len && n_terms < G_N_ELEMENTS (terms); i++)
        if (g_rand_boolean (rand))
          {
            terms[n_terms].domain = g_ptr_array_index (domains, i);
            terms[n_terms].weight = (float) g_rand_double_range (rand, -1.5, 1.5);
            terms[n_terms].min_res = 0;
            terms[n_terms].max_res = 0;
            if (g_rand_int_range (rand, 0, 4) == 0)
              {
                terms[n_terms].min_res = 8;
                terms[n_terms].max_res = gen->config.img_resolution;
              }
            n_terms++;
          }

      hd_render_params_init (&params);
      switch (choice % 8)
        {
        case 0:
          /* A given w, as a loaded latent or a mix. */
          params.latent_kind = HD_LATENT_W;
          for (gsize i = 0; i < (gsize) gen->num_ws * gen->config.w_dim; i++)
            w[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
          params.w = w;
          break;
        case 1:
          /* Only the domain changes: the cached w is used. */
          params.seed = 1;
          break;
        default:
          params.seed = g_rand_int (rand);
          break;
        }
      if ((choice >> 3) % 4 == 0)
        params.psi = (float) g_rand_double_range (rand, 0.0, 1.0);
      if ((choice >> 5) % 8 == 0)
        {
          params.noise_mode = HD_NOISE_RANDOM;
          params.noise_seed = g_rand_int (rand);
        }
      if (n_terms > 0)
        {
          hd_domain_blend (gen, terms, n_terms, d);
          params.domain = d;
        }

      if (!hd_renderer_render (renderer, &params, img, &error))
        g_error ("frame %u: %s", frame, error->message);
      if (frame % 997 == 0)
        for (gsize i = 0; i < n_pixels; i++)
          g_assert_true (isfinite (img[i]));
      /* Sampled at the same point of a renderer's life as at the end. */
      if (frame + 1 == warmup)
        {
          take_sample (&start, ctx);
          t0 = g_get_monotonic_time ();
        }
    }
  t1 = g_get_monotonic_time ();
  take_sample (&end, ctx);
  hd_renderer_get_stats (renderer, &stats);

  g_test_message ("soak: %u frames (%u after the warm-up) in %.1f s, %.2f ms per frame",
                  n_frames, n_frames - warmup, (t1 - t0) / 1e6,
                  (t1 - t0) / 1e3 / MAX (n_frames - warmup, 1));
  g_test_message ("resident memory: %.2f MiB after the warm-up, %.2f MiB at the end (%+.1f KiB)",
                  start.rss / 1048576.0, end.rss / 1048576.0,
                  ((double) end.rss - (double) start.rss) / 1024.0);
  g_test_message ("heap in use: %.2f MiB after the warm-up, %.2f MiB at the end (%+.1f KiB)",
                  start.heap / 1048576.0, end.heap / 1048576.0,
                  ((double) end.heap - (double) start.heap) / 1024.0);
  g_test_message ("device memory: %" G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT
                  " allocations after the warm-up, %" G_GUINT64_FORMAT " bytes in %"
                  G_GUINT64_FORMAT " at the end; renderer %" G_GUINT64_FORMAT " bytes",
                  start.device, start.n_allocations, end.device, end.n_allocations,
                  stats.device_bytes);

  /* Device memory is exact: the renderer's buffers, nothing more. */
  g_assert_cmpuint (end.device, ==, start.device);
  g_assert_cmpuint (end.n_allocations, ==, start.n_allocations);
  g_assert_cmpuint (end.device, ==, stats.device_bytes);
#ifdef UNDER_ASAN
  g_test_message ("AddressSanitizer build: its quarantine holds freed memory, "
                  "so resident memory and heap are not compared (LeakSanitizer checks leaks)");
#else
  g_assert_cmpuint (end.heap, <=, start.heap + MAX_HEAP_GROWTH);
  g_assert_cmpuint (end.rss, <=, start.rss + MAX_RSS_GROWTH);
#endif

  g_clear_pointer (&renderer, hd_renderer_free);
  g_assert_cmpuint (hd_vk_context_get_allocated_bytes (ctx, NULL), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/soak/frames", test_soak);

  return g_test_run ();
}
