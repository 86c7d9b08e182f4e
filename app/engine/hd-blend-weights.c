/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "hd-blend-weights.h"

#include <math.h>

/* Closer than this to a point counts as on it (avoids 1/0). */
#define ON_POINT 1e-9

void
hd_blend_pad_corner (guint   i,
                     guint   n,
                     double *x,
                     double *y)
{
  double angle;

  g_return_if_fail (n > 0);

  angle = -G_PI / 2 + 2 * G_PI * (double) i / (double) n;
  *x = cos (angle);
  *y = sin (angle);
}

void
hd_blend_pad_clamp (double *x,
                    double *y)
{
  double r;

  if (!isfinite (*x) || !isfinite (*y))
    {
      *x = 0;
      *y = 0;
      return;
    }
  r = hypot (*x, *y);
  if (r > 1.0)
    {
      *x /= r;
      *y /= r;
    }
}

void
hd_blend_pad_weights (guint   n,
                      double  x,
                      double  y,
                      double *weights)
{
  double u[HD_BLEND_PAD_MAX_DOMAINS + 1];
  double sum = 0;

  g_return_if_fail (n <= HD_BLEND_PAD_MAX_DOMAINS);

  hd_blend_pad_clamp (&x, &y);
  for (guint j = 0; j <= n; j++)
    {
      double px = 0, py = 0, d2;

      if (j > 0)
        hd_blend_pad_corner (j - 1, n, &px, &py);
      d2 = (x - px) * (x - px) + (y - py) * (y - py);
      if (d2 < ON_POINT * ON_POINT)
        {
          /* On a point: all of it. */
          for (guint k = 0; k < n; k++)
            weights[k] = k + 1 == j ? 1.0 : 0.0;
          return;
        }
      u[j] = 1.0 / d2;
      sum += u[j];
    }

  for (guint j = 1; j <= n; j++)
    weights[j - 1] = u[j] / sum;
}
