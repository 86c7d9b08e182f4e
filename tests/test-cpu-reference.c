/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The CPU reference against the conformance fixtures, and properties of
 * the forward pass that hold for any generator. */
#include <math.h>
#include <string.h>

#include "hd-cpu-reference.h"
#include "hd-error.h"
#include "hd-test-util.h"

static void
test_conformance (void)
{
  double tol_abs, tol_psnr, worst_abs = 0, worst_psnr = INFINITY;
  g_autoptr(GPtrArray) cases = hd_test_load_conformance_cases (&tol_abs, &tol_psnr);

  for (guint i = 0; i < cases->len; i++)
    {
      HdTestCase *tc = g_ptr_array_index (cases, i);
      g_autoptr(GError) error = NULL;
      g_autofree float *out = g_new (float, tc->expected->n_elements);

      g_assert_cmpuint (tc->expected->n_elements, ==,
                        (gsize) 3 * tc->gen->config.img_resolution * tc->gen->config.img_resolution);
      hd_cpu_render (tc->gen, &tc->params, out, &error);
      g_assert_no_error (error);
      hd_test_check_case (tc, out, tol_abs, tol_psnr, &worst_abs, &worst_psnr);
    }
  g_test_message ("worst over %u cases: max abs %.3g, PSNR %.1f dB", cases->len, worst_abs, worst_psnr);
}

/* psi = 0 puts every truncated w on w_avg; a cutoff spares the rest. */
static void
test_truncation (void)
{
  HdGeneratorConfig config = hd_test_config (16, 256, 32, 12, 20, TRUE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 3);
  g_autoptr(GError) error = NULL;
  g_autofree float *ws = g_new (float, gen->num_ws * gen->config.w_dim);
  g_autofree float *ws_full = g_new (float, gen->num_ws * gen->config.w_dim);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.seed = 11;
  hd_cpu_compute_ws (gen, &params, ws_full, &error);
  g_assert_no_error (error);
  params.psi = 0.0f;
  params.cutoff = 2;
  hd_cpu_compute_ws (gen, &params, ws, &error);
  g_assert_no_error (error);
  for (int k = 0; k < gen->num_ws; k++)
    for (int j = 0; j < gen->config.w_dim; j++)
      {
        float got = ws[k * gen->config.w_dim + j];
        if (k < 2)
          g_assert_cmpfloat (got, ==, gen->w_avg[j]);
        else
          g_assert_cmpfloat (got, ==, ws_full[k * gen->config.w_dim + j]);
      }
}

/* A zero domain vector is the original generator; the preview is the
 * skip image of an earlier block, so it is what a smaller output gives. */
static void
test_domain_zero_and_preview (void)
{
  HdGeneratorConfig config = hd_test_config (16, 256, 32, 12, 20, FALSE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 5);
  g_autoptr(GError) error = NULL;
  gsize n = 3 * 16 * 16;
  g_autofree float *a = g_new (float, n);
  g_autofree float *b = g_new (float, n);
  g_autofree float *zero = g_new0 (float, gen->domain_dim);
  g_autofree float *preview = g_new (float, 3 * 8 * 8);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.seed = 2;
  hd_cpu_render (gen, &params, a, &error);
  g_assert_no_error (error);
  params.domain = zero;
  hd_cpu_render (gen, &params, b, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (a, n * sizeof (float), b, n * sizeof (float));

  params.stop_res = 8;
  hd_cpu_render (gen, &params, preview, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < 3 * 8 * 8; i++)
    g_assert_true (isfinite (preview[i]));

  params.stop_res = 12;
  g_assert_false (hd_cpu_render (gen, &params, preview, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "12×12"));
}

/* Noise: none differs from const, random depends on its seed only. */
static void
test_noise_modes (void)
{
  HdGeneratorConfig config = hd_test_config (8, 128, 16, 8, 8, TRUE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 9);
  g_autoptr(GError) error = NULL;
  gsize n = 3 * 8 * 8;
  g_autofree float *c = g_new (float, n);
  g_autofree float *none = g_new (float, n);
  g_autofree float *r1 = g_new (float, n);
  g_autofree float *r1b = g_new (float, n);
  g_autofree float *r2 = g_new (float, n);
  HdRenderParams params;

  hd_render_params_init (&params);
  hd_cpu_render (gen, &params, c, &error);
  params.noise_mode = HD_NOISE_NONE;
  hd_cpu_render (gen, &params, none, &error);
  params.noise_mode = HD_NOISE_RANDOM;
  params.noise_seed = 1;
  hd_cpu_render (gen, &params, r1, &error);
  hd_cpu_render (gen, &params, r1b, &error);
  params.noise_seed = 2;
  hd_cpu_render (gen, &params, r2, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (c, none, n * sizeof (float)) != 0);
  g_assert_true (memcmp (r1, r2, n * sizeof (float)) != 0);
  g_assert_cmpmem (r1, n * sizeof (float), r1b, n * sizeof (float));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/CpuReference/conformance", test_conformance);
  g_test_add_func ("/Hyperdomain/CpuReference/truncation", test_truncation);
  g_test_add_func ("/Hyperdomain/CpuReference/domain-zero-and-preview", test_domain_zero_and_preview);
  g_test_add_func ("/Hyperdomain/CpuReference/noise-modes", test_noise_modes);
  return g_test_run ();
}
