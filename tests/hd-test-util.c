/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <math.h>

#include "hd-test-util.h"

char *
hd_test_conformance_path (const char *name)
{
  const char *dir = g_getenv ("HD_CONFORMANCE_DIR");

  if (dir == NULL)
    dir = "tests/conformance";
  return g_build_filename (dir, name, NULL);
}

void
hd_test_compare (const float *got,
                 const float *expected,
                 gsize        n,
                 double      *max_abs,
                 double      *psnr_db)
{
  double worst = 0.0, sq = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double diff = fabs ((double) got[i] - (double) expected[i]);
      if (!(diff <= worst)) /* NaN counts as the worst */
        worst = isnan (diff) ? INFINITY : diff;
      sq += diff * diff;
    }
  *max_abs = worst;
  if (n == 0 || sq == 0.0)
    *psnr_db = INFINITY;
  else
    *psnr_db = 10.0 * log10 (4.0 / (sq / (double) n));
  if (isnan (*psnr_db))
    *psnr_db = -INFINITY;
}

char *
hd_test_make_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("hyperdomain-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
hd_test_rmdir_recursive (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        hd_test_rmdir_recursive (child);
      else
        g_remove (child);
      g_free (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

HdGeneratorConfig
hd_test_config (int      res,
                int      channel_base,
                int      channel_max,
                int      z_dim,
                int      w_dim,
                gboolean conv_clamp)
{
  HdGeneratorConfig c = {
    .z_dim = z_dim,
    .w_dim = w_dim,
    .c_dim = 0,
    .img_resolution = res,
    .img_channels = 3,
    .mapping_layers = 2,
    .lr_multiplier = 0.01f,
    .channel_base = channel_base,
    .channel_max = channel_max,
    .has_conv_clamp = conv_clamp,
    .conv_clamp = 256.0f,
  };
  return c;
}
