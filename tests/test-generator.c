/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-test-util.h"

static void
test_random_layout (void)
{
  HdGeneratorConfig config = hd_test_config (32, 512, 64, 32, 48, TRUE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);
  g_autoptr(HdGenerator) again = hd_generator_new_random (&config, 1);

  g_assert_nonnull (gen);
  g_assert_cmpint (gen->num_ws, ==, 8);
  g_assert_cmpint (gen->n_convs, ==, 7);
  g_assert_cmpint (gen->n_rgbs, ==, 4);
  g_assert_cmpint (gen->domain_dim, ==, 336);
  g_assert_cmpstr (gen->convs[6].name, ==, "synthesis.b32.conv1");
  g_assert_cmpint (gen->convs[6].w_index, ==, 6);
  g_assert_cmpint (gen->rgbs[3].w_index, ==, 7);
  g_assert_cmpfloat (gen->convs[3].weight[5], ==, again->convs[3].weight[5]);
  g_assert_true (gen->convs[3].noise_strength != 0.0f);
  g_assert_true (hd_generator_find_conv (gen, "synthesis.b16.conv0") == &gen->convs[3]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/Generator/random-layout", test_random_layout);
  return g_test_run ();
}
