/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every case of conformance/cases.json through the Vulkan renderer. */
#include <math.h>

#include "hd-renderer.h"
#include "hd-test-util.h"

static void
check_cases (HdConvKernel kernel,
             gboolean     reverse)
{
  HdRendererOptions options;
  double tol_abs, tol_psnr, worst_abs = 0, worst_psnr = INFINITY;
  g_autoptr(GPtrArray) cases = hd_test_load_conformance_cases (&tol_abs, &tol_psnr);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = hd_vk_context_new (NULL, &error);
  g_autoptr(HdRenderer) renderer = NULL;

  g_assert_no_error (error);
  if (kernel == HD_CONV_KERNEL_LANES && !hd_vk_context_supports_subgroup_size (ctx, 8, 4))
    {
      g_test_skip ("the device cannot run the lanes convolution kernel");
      return;
    }
  hd_renderer_options_init (&options);
  options.conv_kernel = kernel;
  /* One renderer for every case: all cases share the tiny generator, so
   * this also exercises the cached mapping between cases. */
  renderer = hd_renderer_new_with_options (ctx, ((HdTestCase *) g_ptr_array_index (cases, 0))->gen,
                                           &options, &error);
  g_assert_no_error (error);

  for (guint k = 0; k < cases->len; k++)
    {
      HdTestCase *tc = g_ptr_array_index (cases, reverse ? cases->len - 1 - k : k);
      g_autofree float *out = g_new (float, tc->expected->n_elements);
      double max_abs, psnr;

      hd_renderer_render (renderer, &tc->params, out, &error);
      g_assert_no_error (error);
      hd_test_compare (out, tc->expected->data, tc->expected->n_elements, &max_abs, &psnr);
      g_test_message ("%-28s max abs %.3g  PSNR %.1f dB", tc->name, max_abs, psnr);
      g_assert_cmpfloat (max_abs, <=, tol_abs);
      g_assert_cmpfloat (psnr, >=, tol_psnr);
      worst_abs = MAX (worst_abs, max_abs);
      worst_psnr = MIN (worst_psnr, psnr);
    }
  g_test_message ("worst over %u cases, %s kernel on %s: max abs %.3g, PSNR %.1f dB", cases->len,
                  hd_conv_kernel_to_string (kernel), hd_vk_context_get_device_info (ctx)->name,
                  worst_abs, worst_psnr);
  g_assert_cmpuint (hd_vk_context_get_validation_messages (ctx), ==, 0);
}

typedef struct {
  HdConvKernel kernel;
  gboolean     reverse;
} ConformanceRun;

static void
run_conformance (gconstpointer data)
{
  const ConformanceRun *run = data;

  check_cases (run->kernel, run->reverse);
}

int
main (int    argc,
      char **argv)
{
  static const ConformanceRun runs[] = {
    { HD_CONV_KERNEL_AUTO, FALSE },
    { HD_CONV_KERNEL_AUTO, TRUE },
    { HD_CONV_KERNEL_TILED, FALSE },
    { HD_CONV_KERNEL_LANES, FALSE },
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Hyperdomain/Conformance/vulkan%s%s%s",
                                               runs[i].kernel == HD_CONV_KERNEL_AUTO ? "" : "-",
                                               runs[i].kernel == HD_CONV_KERNEL_AUTO ? "" :
                                               hd_conv_kernel_to_string (runs[i].kernel),
                                               runs[i].reverse ? "-reverse-order" : "");
      g_test_add_data_func (path, &runs[i], run_conformance);
    }
  return g_test_run ();
}
