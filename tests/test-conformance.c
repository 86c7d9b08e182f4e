/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every case of conformance/cases.json through the Vulkan renderer. */
#include <math.h>

#include "hd-renderer.h"
#include "hd-test-util.h"

static void
check_cases (gboolean reverse)
{
  double tol_abs, tol_psnr, worst_abs = 0, worst_psnr = INFINITY;
  g_autoptr(GPtrArray) cases = hd_test_load_conformance_cases (&tol_abs, &tol_psnr);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = hd_vk_context_new (NULL, &error);
  g_autoptr(HdRenderer) renderer = NULL;

  g_assert_no_error (error);
  /* One renderer for every case: all cases share the tiny generator, so
   * this also exercises the cached mapping between cases. */
  renderer = hd_renderer_new (ctx, ((HdTestCase *) g_ptr_array_index (cases, 0))->gen, &error);
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
  g_test_message ("worst over %u cases on %s: max abs %.3g, PSNR %.1f dB", cases->len,
                  hd_vk_context_get_device_info (ctx)->name, worst_abs, worst_psnr);
  g_assert_cmpuint (hd_vk_context_get_validation_messages (ctx), ==, 0);
}

static void
test_conformance_forward (void)
{
  check_cases (FALSE);
}

static void
test_conformance_reverse (void)
{
  check_cases (TRUE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/Conformance/vulkan", test_conformance_forward);
  g_test_add_func ("/Hyperdomain/Conformance/vulkan-reverse-order", test_conformance_reverse);
  return g_test_run ();
}
