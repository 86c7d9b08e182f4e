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

/* The weights at (X, Y) (in the disc) with the corners at CX, CY. */
static void
weights_at (guint         n,
            const double *cx,
            const double *cy,
            double        x,
            double        y,
            double       *weights)
{
  double u[HD_BLEND_PAD_MAX_DOMAINS + 1];
  double sum = 0;

  for (guint j = 0; j <= n; j++)
    {
      double px = j > 0 ? cx[j - 1] : 0, py = j > 0 ? cy[j - 1] : 0;
      double d2 = (x - px) * (x - px) + (y - py) * (y - py);

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

static void
corners (guint   n,
         double *cx,
         double *cy)
{
  for (guint i = 0; i < n; i++)
    hd_blend_pad_corner (i, n, &cx[i], &cy[i]);
}

void
hd_blend_pad_weights (guint   n,
                      double  x,
                      double  y,
                      double *weights)
{
  double cx[HD_BLEND_PAD_MAX_DOMAINS] = { 0 }, cy[HD_BLEND_PAD_MAX_DOMAINS] = { 0 };

  g_return_if_fail (n <= HD_BLEND_PAD_MAX_DOMAINS);

  hd_blend_pad_clamp (&x, &y);
  corners (n, cx, cy);
  weights_at (n, cx, cy, x, y, weights);
}

/* Sum of the squared differences between the weights at (X, Y) and
 * TARGET. */
static double
blend_distance (guint         n,
                const double *cx,
                const double *cy,
                double        x,
                double        y,
                const double *target)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];
  double sum = 0;

  hd_blend_pad_clamp (&x, &y);
  weights_at (n, cx, cy, x, y, w);
  for (guint i = 0; i < n; i++)
    sum += (w[i] - target[i]) * (w[i] - target[i]);
  return sum;
}

/* Grid spacing of the first search and the step at which refining stops,
 * in units of the disc's radius. */
#define LOCATE_GRID 24
#define LOCATE_FINEST 1e-10

double
hd_blend_pad_locate (guint         n,
                     const double *weights,
                     double       *x,
                     double       *y)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];
  double cx[HD_BLEND_PAD_MAX_DOMAINS] = { 0 }, cy[HD_BLEND_PAD_MAX_DOMAINS] = { 0 };
  double best_x = 0, best_y = 0, best, step, err = 0;

  g_return_val_if_fail (n <= HD_BLEND_PAD_MAX_DOMAINS, G_MAXDOUBLE);

  corners (n, cx, cy);

  /* The centre and the corners, where the pad puts the puck most. */
  best = blend_distance (n, cx, cy, 0, 0, weights);
  for (guint i = 0; i < n; i++)
    {
      double d = blend_distance (n, cx, cy, cx[i], cy[i], weights);

      if (d < best)
        best = d, best_x = cx[i], best_y = cy[i];
    }

  /* A grid over the disc finds the basin; a pattern search refines it. */
  for (int gy = -LOCATE_GRID; gy <= LOCATE_GRID && best > 0; gy++)
    for (int gx = -LOCATE_GRID; gx <= LOCATE_GRID; gx++)
      {
        double px = (double) gx / LOCATE_GRID, py = (double) gy / LOCATE_GRID, d;

        if (px * px + py * py > 1.0)
          continue;
        d = blend_distance (n, cx, cy, px, py, weights);
        if (d < best)
          best = d, best_x = px, best_y = py;
      }

  for (step = 1.0 / LOCATE_GRID; step > LOCATE_FINEST && best > 0; )
    {
      static const int dirs[8][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 },
                                      { 1, 1 }, { 1, -1 }, { -1, 1 }, { -1, -1 } };
      gboolean moved = FALSE;

      for (guint k = 0; k < G_N_ELEMENTS (dirs); k++)
        {
          double px = best_x + dirs[k][0] * step, py = best_y + dirs[k][1] * step, d;

          hd_blend_pad_clamp (&px, &py);
          d = blend_distance (n, cx, cy, px, py, weights);
          if (d < best)
            {
              best = d, best_x = px, best_y = py;
              moved = TRUE;
            }
        }
      if (!moved)
        step /= 2;
    }

  *x = best_x;
  *y = best_y;
  weights_at (n, cx, cy, best_x, best_y, w);
  for (guint i = 0; i < n; i++)
    err = MAX (err, fabs (w[i] - weights[i]));
  return err;
}
