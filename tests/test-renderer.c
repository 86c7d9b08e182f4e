/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Vulkan renderer against the CPU reference (hd_cpu_render), on random
 * generators of several shapes, with every render option. */
#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hd-cpu-reference.h"
#include "hd-error.h"
#include "hd-generator.h"
#include "hd-renderer.h"
#include "hd-test-util.h"
#include "hd-vk.h"

#define TOLERANCE 2e-3

static HdVkContext *context;

typedef struct {
  const char *name;
  int         res;
  int         channel_base;
  int         channel_max;
  int         z_dim;
  int         w_dim;
  int         mapping_layers;
  gboolean    conv_clamp;
} Shape;

/* Channel counts per block in the comments. */
static const Shape shape_res8 = { "res8", 8, 128, 32, 16, 24, 2, FALSE };          /* 32 16 */
static const Shape shape_tiny = { "tiny", 32, 512, 64, 32, 48, 4, TRUE };          /* 64 64 32 16 */
static const Shape shape_odd = { "odd", 32, 96, 512, 20, 20, 2, FALSE };           /* 24 12 6 3 */
static const Shape shape_res64 = { "res64", 64, 1024, 48, 40, 40, 3, TRUE };       /* 48 48 48 32 16 */
static const Shape shape_res256 = { "res256", 256, 1024, 64, 24, 32, 2, TRUE };    /* 64 64 64 32 16 8 4 */

static HdGenerator *
shape_generator (const Shape *shape,
                 guint32      seed)
{
  HdGeneratorConfig config = hd_test_config (shape->res, shape->channel_base, shape->channel_max,
                                             shape->z_dim, shape->w_dim, shape->conv_clamp);
  HdGenerator *gen;

  config.mapping_layers = shape->mapping_layers;
  gen = hd_generator_new_random (&config, seed);
  g_assert_nonnull (gen);
  return gen;
}

static float *
random_vector (guint32 seed,
               gsize   n,
               double  scale)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) (g_rand_double_range (rand, -1.0, 1.0) * scale);
  g_rand_free (rand);
  return v;
}

/* The options of the test that runs: its convolution kernel (see
 * add_kernel_tests). */
static HdRendererOptions options;

static HdRenderer *
renderer_new (HdGenerator *gen)
{
  g_autoptr(GError) error = NULL;
  HdRenderer *renderer = hd_renderer_new_with_options (context, gen, &options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (renderer);
  /* The kernel asked for runs every layer it can (rows of whole vec4s
   * for the lanes kernel); the rest fall back to the tiled one. */
  for (int c = 0; c < gen->n_convs && options.conv_kernel != HD_CONV_KERNEL_AUTO; c++)
    {
      HdConvKernel expected = options.conv_kernel;

      if (expected == HD_CONV_KERNEL_LANES && gen->convs[c].in_res % 4 != 0)
        expected = HD_CONV_KERNEL_TILED;
      g_assert_cmpstr (hd_conv_kernel_to_string (hd_renderer_get_conv_kernel (renderer, c)), ==,
                       hd_conv_kernel_to_string (expected));
    }
  return renderer;
}

static float *
render_gpu (HdRenderer           *renderer,
            const HdRenderParams *params,
            gsize                *n_out)
{
  g_autoptr(GError) error = NULL;
  HdGenerator *gen = hd_renderer_get_generator (renderer);
  int res = hd_render_params_output_res (params, gen, &error);
  gsize n;
  float *img;

  g_assert_no_error (error);
  n = (gsize) gen->config.img_channels * res * res;
  img = g_new (float, n);
  g_assert_true (hd_renderer_render (renderer, params, img, &error));
  g_assert_no_error (error);
  if (n_out != NULL)
    *n_out = n;
  return img;
}

/* Renders PARAMS on the GPU and the CPU and asserts they agree. */
static void
compare_render (HdRenderer           *renderer,
                const HdRenderParams *params,
                const char           *what)
{
  g_autoptr(GError) error = NULL;
  HdGenerator *gen = hd_renderer_get_generator (renderer);
  g_autofree float *gpu = NULL, *cpu = NULL;
  HdRenderStats stats;
  double max_abs, psnr;
  gsize n;

  gpu = render_gpu (renderer, params, &n);
  hd_renderer_get_stats (renderer, &stats);
  cpu = g_new (float, n);
  g_assert_true (hd_cpu_render (gen, params, cpu, &error));
  g_assert_no_error (error);

  hd_test_compare (gpu, cpu, n, &max_abs, &psnr);
  g_test_message ("%s: max abs diff %.3g, PSNR %.1f dB; %.1f ms (GPU %.1f: mapping %.1f, "
                  "synthesis %.1f)%s", what, max_abs, psnr, stats.total_ms, stats.gpu_ms,
                  stats.mapping_ms, stats.synthesis_ms, stats.mapping_cached ? ", cached w" : "");
  g_assert_cmpfloat (max_abs, <, TOLERANCE);
}

/* A full sweep of options on one shape. */
static void
check_shape (const Shape *shape,
             gboolean     all_options)
{
  g_autoptr(HdGenerator) gen = shape_generator (shape, 42);
  HdRenderer *renderer = renderer_new (gen);
  g_autofree float *domain = random_vector (7, gen->domain_dim, 0.8);
  g_autofree char *what = NULL;
  HdRenderParams params;

  hd_render_params_init (&params);
  params.seed = 1;
  what = g_strdup_printf ("%s seed 1", shape->name);
  compare_render (renderer, &params, what);

  params.domain = domain;
  g_free (what);
  what = g_strdup_printf ("%s seed 1 + domain", shape->name);
  compare_render (renderer, &params, what);

  if (all_options)
    {
      params.seed = 2;
      params.psi = 0.7f;
      params.cutoff = 3;
      params.noise_mode = HD_NOISE_RANDOM;
      params.noise_seed = 11;
      g_free (what);
      what = g_strdup_printf ("%s psi 0.7 cutoff 3, random noise", shape->name);
      compare_render (renderer, &params, what);

      params.noise_mode = HD_NOISE_NONE;
      params.psi = 0.5f;
      params.cutoff = -1;
      g_free (what);
      what = g_strdup_printf ("%s psi 0.5, no noise", shape->name);
      compare_render (renderer, &params, what);

      params.noise_mode = HD_NOISE_CONST;
      for (int r = 4; r < shape->res; r *= 2)
        {
          params.stop_res = r;
          g_free (what);
          what = g_strdup_printf ("%s preview %d", shape->name, r);
          compare_render (renderer, &params, what);
        }
    }
  hd_renderer_free (renderer);
}

static void
test_res8 (void)
{
  check_shape (&shape_res8, TRUE);
}

static void
test_tiny (void)
{
  check_shape (&shape_tiny, TRUE);
}

static void
test_odd_channels (void)
{
  check_shape (&shape_odd, TRUE);
}

static void
test_res64 (void)
{
  check_shape (&shape_res64, FALSE);
}

/* conv_clamp = 256 is never reached by these weights; a small clamp makes
 * sure the clamps of the convs and of ToRGB are applied where they should. */
static void
test_active_clamp (void)
{
  HdGeneratorConfig config = hd_test_config (32, 256, 32, 16, 16, TRUE);
  g_autoptr(HdGenerator) gen = NULL;
  HdRenderer *renderer;
  HdRenderParams params;

  config.conv_clamp = 0.4f;
  gen = hd_generator_new_random (&config, 19);
  renderer = renderer_new (gen);
  hd_render_params_init (&params);
  params.seed = 8;
  compare_render (renderer, &params, "conv_clamp 0.4");
  hd_renderer_free (renderer);
}

static void
test_res256 (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_res256, 5);
  HdRenderer *renderer = renderer_new (gen);
  g_autofree float *domain = random_vector (8, gen->domain_dim, 0.5);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.seed = 3;
  params.domain = domain;
  params.psi = 0.8f;
  compare_render (renderer, &params, "res256 seed 3 + domain, psi 0.8");
  params.stop_res = 64;
  params.noise_mode = HD_NOISE_RANDOM;
  params.noise_seed = 4;
  compare_render (renderer, &params, "res256 preview 64, random noise");
  hd_renderer_free (renderer);
}

static void
test_latent_kinds (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_tiny, 9);
  HdRenderer *renderer = renderer_new (gen);
  g_autofree float *z = random_vector (21, gen->config.z_dim, 2.0);
  g_autofree float *w = random_vector (22, (gsize) gen->num_ws * gen->config.w_dim, 1.5);
  g_autofree float *domain = random_vector (23, gen->domain_dim, 0.6);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.latent_kind = HD_LATENT_Z;
  params.z = z;
  compare_render (renderer, &params, "z latent");

  /* A W+ latent: a different w for every layer, with truncation. */
  params.latent_kind = HD_LATENT_W;
  params.w = w;
  params.psi = 0.6f;
  params.cutoff = 5;
  params.domain = domain;
  compare_render (renderer, &params, "w+ latent, psi 0.6 cutoff 5");
  hd_renderer_free (renderer);
}

static void
test_mapping_cache (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_tiny, 13);
  HdRenderer *renderer = renderer_new (gen);
  HdRenderer *fresh;
  g_autofree float *domain_a = random_vector (31, gen->domain_dim, 0.7);
  g_autofree float *domain_b = random_vector (32, gen->domain_dim, 0.7);
  g_autofree float *img = NULL, *img_fresh = NULL;
  HdRenderParams params;
  HdRenderStats stats;
  gsize n;

  hd_render_params_init (&params);
  params.seed = 100;
  params.domain = domain_a;
  g_free (render_gpu (renderer, &params, NULL));
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  g_assert_cmpuint (stats.device_bytes, >, 0);

  /* Only the domain changes: the cached w is reused ... */
  params.domain = domain_b;
  img = render_gpu (renderer, &params, &n);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_true (stats.mapping_cached);
  g_assert_cmpfloat (stats.mapping_ms, ==, 0.0);

  /* ... and gives exactly what a fresh renderer computes. */
  fresh = renderer_new (gen);
  img_fresh = render_gpu (fresh, &params, NULL);
  g_assert_cmpmem (img, n * sizeof (float), img_fresh, n * sizeof (float));
  hd_renderer_free (fresh);
  compare_render (renderer, &params, "cached w, new domain");

  /* Noise and previews do not touch w either. */
  params.noise_mode = HD_NOISE_RANDOM;
  params.noise_seed = 3;
  params.stop_res = 16;
  compare_render (renderer, &params, "cached w, random noise, preview 16");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_true (stats.mapping_cached);

  /* A new seed, psi or cutoff maps again. */
  params.stop_res = 0;
  params.seed = 101;
  compare_render (renderer, &params, "new seed");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  params.psi = 0.5f;
  compare_render (renderer, &params, "new psi");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  params.cutoff = 2;
  compare_render (renderer, &params, "new cutoff");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  params.domain = NULL;
  compare_render (renderer, &params, "same w, no domain");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_true (stats.mapping_cached);
  if (stats.gpu_ms > 0.0)
    g_assert_cmpfloat (stats.synthesis_ms, >, 0.0);

  hd_renderer_free (renderer);
}

/* Style latents (generator-math §7): the GPU against the CPU reference;
 * one image-driven domain at weight 1 is exactly the W+ latent with the
 * reference's rows in place of the sample's truncated ones; weight 0 is
 * the sample itself; a change of their weights maps again, a change of
 * the domain vector alone does not. */
static void
test_style_latents (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_tiny, 17);
  HdRenderer *renderer = renderer_new (gen);
  int w_dim = gen->config.w_dim, num_ws = gen->num_ws, from = 5;
  gsize n_ws = (gsize) num_ws * w_dim;
  g_autofree float *style = random_vector (41, n_ws, 1.2);
  g_autofree float *alpha = g_new0 (float, num_ws);
  g_autofree float *sum = g_new0 (float, n_ws);
  g_autofree float *ws = g_new (float, n_ws);
  g_autofree float *domain = random_vector (42, gen->domain_dim, 0.5);
  g_autofree float *mixed = NULL, *replaced = NULL, *plain = NULL, *zero = NULL;
  g_autoptr(GError) error = NULL;
  HdRenderParams params, w_params;
  HdRenderStats stats;
  gsize n;

  hd_render_params_init (&params);
  params.seed = 3;
  params.psi = 0.7f;
  params.domain = domain;
  for (int k = from; k < num_ws; k++)
    {
      alpha[k] = 1.0f;
      memcpy (sum + (gsize) k * w_dim, style + (gsize) k * w_dim, sizeof (float) * w_dim);
    }
  params.style_alpha = alpha;
  params.style_sum = sum;
  mixed = render_gpu (renderer, &params, &n);
  compare_render (renderer, &params, "style latents at weight 1");

  /* The official inference: truncate every layer, then replace. */
  w_params = params;
  w_params.style_alpha = w_params.style_sum = NULL;
  g_assert_true (hd_cpu_compute_ws (gen, &w_params, ws, &error));
  g_assert_no_error (error);
  memcpy (ws + (gsize) from * w_dim, style + (gsize) from * w_dim,
          sizeof (float) * (num_ws - from) * w_dim);
  w_params.latent_kind = HD_LATENT_W;
  w_params.w = ws;
  w_params.psi = 1.0f;
  replaced = render_gpu (renderer, &w_params, NULL);
  g_assert_cmpmem (mixed, n * sizeof (float), replaced, n * sizeof (float));

  /* Weight 0: the sample itself. */
  for (int k = 0; k < num_ws; k++)
    alpha[k] = 0.0f;
  memset (sum, 0, sizeof (float) * n_ws);
  zero = render_gpu (renderer, &params, NULL);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  params.style_alpha = params.style_sum = NULL;
  plain = render_gpu (renderer, &params, NULL);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);
  g_assert_cmpmem (zero, n * sizeof (float), plain, n * sizeof (float));

  /* Two domains, partly negative, over a W+ latent with a cutoff. */
  for (int k = from - 2; k < num_ws; k++)
    {
      alpha[k] = k >= from ? 0.4f : -0.3f;
      for (int j = 0; j < w_dim; j++)
        sum[(gsize) k * w_dim + j] = alpha[k] * style[(gsize) k * w_dim + j] +
                                     (k >= from ? 0.2f * style[(gsize) (num_ws - 1 - k) * w_dim + j] : 0.0f);
      if (k >= from)
        alpha[k] += 0.2f;
    }
  params.style_alpha = alpha;
  params.style_sum = sum;
  params.latent_kind = HD_LATENT_W;
  params.w = random_vector (43, n_ws, 1.0);
  params.cutoff = 4;
  compare_render (renderer, &params, "two style domains, W+ latent, cutoff 4");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);

  /* A new domain vector with the same style latents reuses the mapping. */
  params.domain = NULL;
  compare_render (renderer, &params, "same style latents, no domain vector");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_true (stats.mapping_cached);
  alpha[num_ws - 1] += 0.125f;
  compare_render (renderer, &params, "one style weight changed");
  hd_renderer_get_stats (renderer, &stats);
  g_assert_false (stats.mapping_cached);

  /* Weights without latents are refused. */
  params.style_sum = NULL;
  g_assert_false (hd_renderer_render (renderer, &params, mixed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_free ((float *) params.w);
  hd_renderer_free (renderer);
}

/* Cancels the frame at the CANCEL_AT-th check (0: before any piece). */
typedef struct {
  guint calls;
  guint cancel_at;
} CancelAt;

static gboolean
cancel_at (gpointer data)
{
  CancelAt *c = data;

  return c->calls++ == c->cancel_at;
}

/* Renders PARAMS, cancelled at check K: the cancelled error, OUT
 * untouched, K pieces done. */
static void
render_cancelled (HdRenderer           *renderer,
                  const HdRenderParams *params,
                  guint                 k)
{
  g_autoptr(GError) error = NULL;
  HdGenerator *gen = hd_renderer_get_generator (renderer);
  int res = hd_render_params_output_res (params, gen, NULL);
  gsize n = (gsize) gen->config.img_channels * res * res;
  g_autofree float *img = g_new (float, n);
  CancelAt cancel = { 0, k };
  HdRenderStats stats;

  for (gsize i = 0; i < n; i++)
    img[i] = -1234.5f;
  g_assert_false (hd_renderer_render_cancellable (renderer, params, cancel_at, &cancel, img,
                                                  &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (cancel.calls, ==, k + 1);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (img[i], ==, -1234.5f);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_cmpuint (stats.pieces_done, ==, k);
  g_assert_cmpfloat (stats.done_fraction, <, 1.0);
  if (k > 0)
    g_assert_cmpfloat (stats.done_fraction, >, 0.0);
}

/* A frame uncancelled (split or not) against the uninterrupted render of
 * a fresh renderer, bit for bit. */
static void
assert_same_render (HdRenderer           *renderer,
                    const HdRenderParams *params,
                    const float          *expected,
                    gsize                 n)
{
  g_autoptr(GError) error = NULL;
  g_autofree float *img = g_new (float, n);
  CancelAt never = { 0, G_MAXUINT };

  g_assert_true (hd_renderer_render_cancellable (renderer, params, cancel_at, &never, img,
                                                 &error));
  g_assert_no_error (error);
  g_assert_cmpmem (img, n * sizeof (float), expected, n * sizeof (float));
}

/* A frame stopped between any two of its pieces leaves the renderer as
 * good as new: the next frame, of the same or other parameters, gives
 * exactly the pixels of an uninterrupted render. */
static void
test_cancel (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_tiny, 21);
  HdRenderer *renderer = renderer_new (gen);
  HdRenderer *fresh = renderer_new (gen);
  g_autofree float *domain_a = random_vector (41, gen->domain_dim, 0.7);
  g_autofree float *domain_b = random_vector (42, gen->domain_dim, 0.7);
  g_autofree float *ref_a = NULL, *ref_b = NULL, *ref_c = NULL, *ref_d = NULL;
  g_autofree float *ref_preview = NULL;
  HdRenderParams a, b, c, d, preview;
  HdRenderStats stats;
  guint n_pieces;
  gsize n, n_preview;

  /* a: seed 5 domain a; b: the same w, domain b; c: a new seed and
   * random noise; d: another seed (its mapping is what a cancelled frame
   * may leave cached); preview: b stopped at 16x16. */
  hd_render_params_init (&a);
  a.seed = 5;
  a.domain = domain_a;
  b = a;
  b.domain = domain_b;
  c = a;
  c.seed = 6;
  c.noise_mode = HD_NOISE_RANDOM;
  c.noise_seed = 9;
  d = a;
  d.seed = 7;
  preview = b;
  preview.stop_res = 16;

  ref_a = render_gpu (fresh, &a, &n);
  ref_b = render_gpu (fresh, &b, NULL);
  ref_c = render_gpu (fresh, &c, NULL);
  ref_d = render_gpu (fresh, &d, NULL);
  ref_preview = render_gpu (fresh, &preview, &n_preview);
  hd_renderer_free (fresh);

  /* Cut before every convolution: tiny has 7, the last in 2 bands. */
  hd_renderer_set_min_piece_macs (renderer, 0.0);
  assert_same_render (renderer, &a, ref_a, n);
  hd_renderer_get_stats (renderer, &stats);
  n_pieces = stats.n_pieces;
  g_test_message ("tiny: %u pieces", n_pieces);
  g_assert_cmpuint (n_pieces, >=, 4);
  g_assert_cmpuint (stats.pieces_done, ==, n_pieces);
  g_assert_cmpfloat (stats.done_fraction, ==, 1.0);
  /* Without a check, and unsplit, the same pixels. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree float *img = g_new (float, n);

    g_assert_true (hd_renderer_render_cancellable (renderer, &b, NULL, NULL, img, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (img, n * sizeof (float), ref_b, n * sizeof (float));
    g_free (render_gpu (renderer, &a, NULL));
    hd_renderer_get_stats (renderer, &stats);
    g_assert_cmpuint (stats.n_pieces, ==, 1);
  }

  for (guint k = 0; k < n_pieces; k++)
    {
      /* Cached w, new domain: cancelled, then the same and others. */
      render_cancelled (renderer, &b, k);
      assert_same_render (renderer, &b, ref_b, n);
      render_cancelled (renderer, &a, k);
      assert_same_render (renderer, &b, ref_b, n);

      /* A new seed and noise cancelled: the mapping may have run, or not. */
      render_cancelled (renderer, &c, k);
      assert_same_render (renderer, &a, ref_a, n);
      render_cancelled (renderer, &c, k);
      assert_same_render (renderer, &c, ref_c, n);

      /* Once the first piece ran, its w is kept and used. */
      render_cancelled (renderer, &d, k);
      assert_same_render (renderer, &d, ref_d, n);
      hd_renderer_get_stats (renderer, &stats);
      g_assert_true (stats.mapping_cached == (k > 0));

      /* A preview cancelled and then rendered, and a full frame after it. */
      if (k < 3)
        {
          render_cancelled (renderer, &preview, k);
          assert_same_render (renderer, &preview, ref_preview, n_preview);
          render_cancelled (renderer, &preview, k);
          assert_same_render (renderer, &a, ref_a, n);
        }
    }

  /* Back to the default: tiny is one piece, and still cancellable
   * before it. */
  hd_renderer_set_min_piece_macs (renderer, 4e8);
  render_cancelled (renderer, &b, 0);
  assert_same_render (renderer, &b, ref_b, n);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_cmpuint (stats.n_pieces, ==, 1);

  hd_renderer_free (renderer);
}

static void
test_f16_weights (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = shape_generator (&shape_res64, 17);
  g_autoptr(HdGenerator) loaded = NULL;
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "f16.safetensors", NULL);
  g_autofree float *domain = NULL;
  HdRenderer *renderer;
  HdRenderParams params;

  if (!hd_generator_save (gen, path, HD_DTYPE_F16, &error))
    {
      g_test_skip_printf ("hd_generator_save does not work yet: %s", error->message);
      hd_test_rmdir_recursive (dir);
      return;
    }
  loaded = hd_generator_load (path, &error);
  if (loaded == NULL)
    {
      g_test_skip_printf ("hd_generator_load does not work yet: %s", error->message);
      hd_test_rmdir_recursive (dir);
      return;
    }

  renderer = renderer_new (loaded);
  domain = random_vector (41, loaded->domain_dim, 0.5);
  hd_render_params_init (&params);
  params.seed = 77;
  params.domain = domain;
  params.noise_mode = HD_NOISE_RANDOM;
  compare_render (renderer, &params, "F16 file");
  hd_renderer_free (renderer);
  hd_test_rmdir_recursive (dir);
}

/* Device memory that the host can map is written directly; the staging
 * path that discrete GPUs take must give the same images. */
static void
test_staging_upload (void)
{
  g_autoptr(HdGenerator) gen = shape_generator (&shape_tiny, 23);
  g_autofree float *domain = random_vector (51, gen->domain_dim, 0.5);
  HdRenderer *renderer;
  HdRenderParams params;

  options.force_staging = TRUE;
  renderer = renderer_new (gen);
  options.force_staging = FALSE;
  hd_render_params_init (&params);
  params.domain = domain;
  params.noise_mode = HD_NOISE_RANDOM;
  compare_render (renderer, &params, "uploads through a staging buffer");
  params.noise_seed = 1;
  compare_render (renderer, &params, "new random noise through a staging buffer");
  hd_renderer_free (renderer);
}

/* Activations beyond maxStorageBufferRange: a clear error, up front. */
static void
test_too_large (void)
{
  g_autoptr(GError) error = NULL;
  HdGeneratorConfig config = hd_test_config (1024, 65536, 64, 8, 8, FALSE);
  g_autoptr(HdGenerator) gen = NULL;
  guint32 limit = 0;
  HdRenderer *renderer;
  gsize needed;

  config.mapping_layers = 1;
  gen = hd_generator_new_random (&config, 1);
  needed = (gsize) 64 * 1024 * 1024 * sizeof (float);
  limit = hd_vk_context_get_limits (context)->maxStorageBufferRange;
  if (needed <= limit)
    {
      g_test_skip ("this device allows storage buffers of 256 MiB");
      return;
    }
  renderer = hd_renderer_new (context, gen, &error);
  g_assert_null (renderer);
  g_assert_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "MiB"));
}

static void
test_bad_params (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = shape_generator (&shape_res8, 1);
  HdRenderer *renderer = renderer_new (gen);
  HdRenderParams params;
  float img[3 * 8 * 8];

  hd_render_params_init (&params);
  params.stop_res = 6;
  g_assert_false (hd_renderer_render (renderer, &params, img, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_clear_error (&error);

  params.stop_res = 0;
  params.latent_kind = HD_LATENT_W;
  g_assert_false (hd_renderer_render (renderer, &params, img, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  hd_renderer_free (renderer);
}

/* Benchmarks (run with -m perf): median ms per frame. */
static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
benchmark_shape (const HdGeneratorConfig *config,
                 const char              *name,
                 int                      frames)
{
  g_autoptr(HdGenerator) gen = hd_generator_new_random (config, 1);
  HdRenderer *renderer = renderer_new (gen);
  g_autofree float *domain = random_vector (5, gen->domain_dim, 0.5);
  g_autofree double *full = g_new (double, frames);
  g_autofree double *domain_only = g_new (double, frames);
  g_autofree double *gpu = g_new (double, frames);
  HdRenderParams params;
  HdRenderStats stats;

  hd_render_params_init (&params);
  params.domain = domain;
  g_free (render_gpu (renderer, &params, NULL)); /* warm-up: records commands */
  for (int f = 0; f < frames; f++)
    {
      params.seed = f + 1;
      g_free (render_gpu (renderer, &params, NULL));
      hd_renderer_get_stats (renderer, &stats);
      full[f] = stats.total_ms;
      gpu[f] = stats.gpu_ms;
      domain[0] += 0.01f;
      g_free (render_gpu (renderer, &params, NULL));
      hd_renderer_get_stats (renderer, &stats);
      domain_only[f] = stats.total_ms;
    }
  qsort (full, frames, sizeof (double), compare_doubles);
  qsort (domain_only, frames, sizeof (double), compare_doubles);
  qsort (gpu, frames, sizeof (double), compare_doubles);
  g_test_message ("%s: median %.2f ms per frame (GPU %.2f ms), %.2f ms when only the "
                  "domain changes; %.1f GMAC/s; %.1f MiB on the device", name,
                  full[frames / 2], gpu[frames / 2], domain_only[frames / 2],
                  hd_generator_synthesis_macs (gen) / (domain_only[frames / 2] * 1e6),
                  stats.device_bytes / 1048576.0);
  g_test_minimized_result (full[frames / 2], "%s ms per frame", name);
  hd_renderer_free (renderer);
}

static void
test_perf (void)
{
  HdGeneratorConfig tiny = hd_test_config (32, 512, 64, 32, 48, TRUE);
  HdGeneratorConfig big = hd_test_config (256, 16384, 512, 512, 512, TRUE);

  if (!g_test_perf ())
    {
      g_test_skip ("benchmarks run with -m perf");
      return;
    }
  tiny.mapping_layers = 4;
  big.mapping_layers = 8;
  benchmark_shape (&tiny, "tiny (32x32, 64 ch max)", 21);
  benchmark_shape (&big, "256x256, 512 ch max", 5);
}

/* Every correctness test runs once per convolution kernel: the tiled
 * shared-memory one (GPUs) and the lanes-as-channels one (CPU devices). */
typedef struct {
  HdConvKernel kernel;
  GTestFunc    func;
} KernelCase;

static void
run_with_kernel (gconstpointer data)
{
  const KernelCase *kc = data;

  if (kc->kernel == HD_CONV_KERNEL_LANES &&
      !hd_vk_context_supports_subgroup_size (context, 8, 4))
    {
      g_test_skip ("the device cannot run the lanes convolution kernel");
      return;
    }
  hd_renderer_options_init (&options);
  options.conv_kernel = kc->kernel;
  kc->func ();
  hd_renderer_options_init (&options);
}

static void
add_kernel_tests (const char *name,
                  GTestFunc   func)
{
  static const HdConvKernel kernels[] = { HD_CONV_KERNEL_TILED, HD_CONV_KERNEL_LANES };

  for (guint k = 0; k < G_N_ELEMENTS (kernels); k++)
    {
      KernelCase *kc = g_new0 (KernelCase, 1);
      g_autofree char *path = g_strdup_printf ("/Hyperdomain/Vulkan/render/%s/%s",
                                               hd_conv_kernel_to_string (kernels[k]), name);
      kc->kernel = kernels[k];
      kc->func = func;
      g_test_add_data_func_full (path, kc, run_with_kernel, g_free);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  context = hd_vk_context_new (NULL, &error);
  g_assert_no_error (error);

  add_kernel_tests ("res8", test_res8);
  add_kernel_tests ("tiny", test_tiny);
  add_kernel_tests ("odd-channels", test_odd_channels);
  add_kernel_tests ("res64", test_res64);
  add_kernel_tests ("active-clamp", test_active_clamp);
  add_kernel_tests ("res256", test_res256);
  add_kernel_tests ("latent-kinds", test_latent_kinds);
  add_kernel_tests ("mapping-cache", test_mapping_cache);
  add_kernel_tests ("style-latents", test_style_latents);
  add_kernel_tests ("cancel", test_cancel);
  add_kernel_tests ("f16-weights", test_f16_weights);
  add_kernel_tests ("staging-upload", test_staging_upload);
  g_test_add_func ("/Hyperdomain/Vulkan/render/too-large", test_too_large);
  g_test_add_func ("/Hyperdomain/Vulkan/render/bad-params", test_bad_params);
  g_test_add_func ("/Hyperdomain/Vulkan/render/perf", test_perf);

  status = g_test_run ();
  g_assert_cmpuint (hd_vk_context_get_validation_messages (context), ==, 0);
  hd_vk_context_unref (context);
  return status;
}
