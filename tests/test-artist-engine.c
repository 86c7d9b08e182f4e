/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine side of the artist tools: blend-pad weights, contact-sheet
 * layout and keyframe interpolation. */
#include <math.h>
#include <string.h>

#include "hd-blend-weights.h"

static double
sum_of (const double *w,
        guint         n)
{
  double s = 0;

  for (guint i = 0; i < n; i++)
    s += w[i];
  return s;
}

static void
test_blend_pad_points (void)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];

  for (guint n = 1; n <= 8; n++)
    {
      /* The centre is the original generator. */
      hd_blend_pad_weights (n, 0, 0, w);
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat (w[i], ==, 0.0);

      /* A corner is its domain alone. */
      for (guint i = 0; i < n; i++)
        {
          double x, y;

          hd_blend_pad_corner (i, n, &x, &y);
          g_assert_cmpfloat_with_epsilon (hypot (x, y), 1.0, 1e-12);
          hd_blend_pad_weights (n, x, y, w);
          for (guint k = 0; k < n; k++)
            g_assert_cmpfloat_with_epsilon (w[k], k == i ? 1.0 : 0.0, 1e-9);
        }
    }

  /* The first corner is at the top (y down). */
  {
    double x, y;

    hd_blend_pad_corner (0, 3, &x, &y);
    g_assert_cmpfloat_with_epsilon (x, 0.0, 1e-12);
    g_assert_cmpfloat_with_epsilon (y, -1.0, 1e-12);
  }
}

static void
test_blend_pad_formula (void)
{
  double w[3];
  double x0, y0, x1, y1, x2, y2;
  double px = 0.2, py = -0.3;
  double u0, u1, u2, u3, s;

  /* Inverse squared distance over the centre and the corners. */
  hd_blend_pad_corner (0, 3, &x0, &y0);
  hd_blend_pad_corner (1, 3, &x1, &y1);
  hd_blend_pad_corner (2, 3, &x2, &y2);
  u0 = 1 / (px * px + py * py);
  u1 = 1 / ((px - x0) * (px - x0) + (py - y0) * (py - y0));
  u2 = 1 / ((px - x1) * (px - x1) + (py - y1) * (py - y1));
  u3 = 1 / ((px - x2) * (px - x2) + (py - y2) * (py - y2));
  s = u0 + u1 + u2 + u3;
  hd_blend_pad_weights (3, px, py, w);
  g_assert_cmpfloat_with_epsilon (w[0], u1 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (w[1], u2 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (w[2], u3 / s, 1e-12);
}

static void
test_blend_pad_properties (void)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS], prev[HD_BLEND_PAD_MAX_DOMAINS];
  guint n = 5;

  /* In [0, 1], summing to at most 1, everywhere in the disc; continuous
   * along a path that passes near every corner. */
  for (int step = 0; step <= 2000; step++)
    {
      double t = step / 2000.0 * 2 * G_PI;
      double r = 0.999 * (0.5 + 0.5 * sin (5 * t));
      double x = r * cos (t - G_PI / 2), y = r * sin (t - G_PI / 2);

      hd_blend_pad_weights (n, x, y, w);
      for (guint i = 0; i < n; i++)
        {
          g_assert_cmpfloat (w[i], >=, 0.0);
          g_assert_cmpfloat (w[i], <=, 1.0);
          if (step > 0)
            g_assert_cmpfloat (fabs (w[i] - prev[i]), <, 0.1);
        }
      g_assert_cmpfloat (sum_of (w, n), <=, 1.0 + 1e-12);
      memcpy (prev, w, sizeof w);
    }

  /* Outside the disc counts as its rim; symmetric corners share evenly. */
  {
    double a[2], b[2];

    hd_blend_pad_weights (2, 5.0, 0.0, a);
    hd_blend_pad_weights (2, 1.0, 0.0, b);
    g_assert_cmpfloat_with_epsilon (a[0], b[0], 1e-12);
    g_assert_cmpfloat_with_epsilon (a[0], a[1], 1e-12);
    hd_blend_pad_weights (2, NAN, 0.0, a);
    g_assert_cmpfloat (a[0], ==, 0.0);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/points", test_blend_pad_points);
  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/formula", test_blend_pad_formula);
  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/properties", test_blend_pad_properties);

  return g_test_run ();
}
