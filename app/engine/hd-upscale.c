/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-upscale.h"

#include <math.h>
#include <string.h>

/* Lanczos-3 taps around the source pixel under an output pixel: the
 * offset of the sample from that pixel is within (-0.5, 0.5), so seven
 * taps cover every x with |x| < 3. */
#define LANCZOS_A 3
#define N_TAPS (2 * LANCZOS_A + 1)

const char *
hd_upscale_filter_to_string (HdUpscaleFilter filter)
{
  switch (filter)
    {
    case HD_UPSCALE_LANCZOS3:
      return "lanczos3";
    case HD_UPSCALE_NEAREST:
    default:
      return "nearest";
    }
}

gboolean
hd_upscale_filter_from_string (const char      *name,
                               HdUpscaleFilter *filter)
{
  g_return_val_if_fail (filter != NULL, FALSE);

  if (name == NULL)
    return FALSE;
  if (g_str_equal (name, "nearest"))
    *filter = HD_UPSCALE_NEAREST;
  else if (g_str_equal (name, "lanczos3") || g_str_equal (name, "lanczos"))
    *filter = HD_UPSCALE_LANCZOS3;
  else
    return FALSE;
  return TRUE;
}

static double
sinc (double x)
{
  if (x == 0.0)
    return 1.0;
  x *= G_PI;
  return sin (x) / x;
}

static double
lanczos (double x)
{
  if (fabs (x) >= LANCZOS_A)
    return 0.0;
  return sinc (x) * sinc (x / LANCZOS_A);
}

/* The weights of the taps -3..3 for each of the SCALE phases of an output
 * pixel, normalized to sum to 1 (so a flat image stays flat). */
static void
lanczos_weights (int    scale,
                 float *weights)
{
  for (int p = 0; p < scale; p++)
    {
      double offset = (p + 0.5) / scale - 0.5;
      double w[N_TAPS], sum = 0.0;

      for (int k = 0; k < N_TAPS; k++)
        {
          w[k] = lanczos (offset - (k - LANCZOS_A));
          sum += w[k];
        }
      for (int k = 0; k < N_TAPS; k++)
        weights[p * N_TAPS + k] = (float) (w[k] / sum);
    }
}

static inline guint8
to_u8 (float v)
{
  if (!(v > 0.0f))
    return 0;
  if (v >= 254.5f)
    return 255;
  return (guint8) floorf (v + 0.5f);
}

static void
upscale_nearest (const guint8 *src,
                 int           channels,
                 int           height,
                 int           width,
                 int           scale,
                 guint8       *dst)
{
  gsize out_row = (gsize) width * scale * channels;

  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * width * channels;
      guint8 *row = dst + (gsize) y * scale * out_row;

      for (int x = 0; x < width; x++)
        for (int r = 0; r < scale; r++)
          memcpy (row + ((gsize) x * scale + r) * channels, s + (gsize) x * channels, channels);
      for (int r = 1; r < scale; r++)
        memcpy (row + r * out_row, row, out_row);
    }
}

static gboolean
upscale_lanczos (const guint8 *src,
                 int           channels,
                 int           height,
                 int           width,
                 int           scale,
                 guint8       *dst)
{
  int out_w = width * scale, out_h = height * scale;
  gsize tmp_row = (gsize) out_w * channels;
  g_autofree float *weights = g_new (float, (gsize) scale * N_TAPS);
  g_autofree float *tmp = g_try_malloc_n ((gsize) height, tmp_row * sizeof (float));

  if (tmp == NULL)
    return FALSE;
  lanczos_weights (scale, weights);

  /* Along the rows, into floats... */
  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * width * channels;
      float *t = tmp + (gsize) y * tmp_row;

      for (int x = 0; x < out_w; x++)
        {
          const float *w = weights + (x % scale) * N_TAPS;
          int q = x / scale;

          for (int c = 0; c < channels; c++)
            {
              float sum = 0.0f;

              for (int k = 0; k < N_TAPS; k++)
                {
                  int i = CLAMP (q + k - LANCZOS_A, 0, width - 1);
                  sum += w[k] * s[(gsize) i * channels + c];
                }
              t[(gsize) x * channels + c] = sum;
            }
        }
    }

  /* ... then down the columns, rounded to bytes. */
  for (int y = 0; y < out_h; y++)
    {
      const float *w = weights + (y % scale) * N_TAPS;
      const float *rows[N_TAPS];
      guint8 *d = dst + (gsize) y * tmp_row;
      int q = y / scale;

      for (int k = 0; k < N_TAPS; k++)
        rows[k] = tmp + (gsize) CLAMP (q + k - LANCZOS_A, 0, height - 1) * tmp_row;
      for (gsize i = 0; i < tmp_row; i++)
        {
          float sum = 0.0f;

          for (int k = 0; k < N_TAPS; k++)
            sum += w[k] * rows[k][i];
          d[i] = to_u8 (sum);
        }
    }
  return TRUE;
}

gboolean
hd_upscale_u8 (const guint8    *src,
               int              channels,
               int              height,
               int              width,
               int              scale,
               HdUpscaleFilter  filter,
               guint8          *dst)
{
  g_return_val_if_fail (src != NULL && dst != NULL, FALSE);
  g_return_val_if_fail (channels > 0 && height > 0 && width > 0, FALSE);
  g_return_val_if_fail (scale >= 1 && scale <= HD_UPSCALE_MAX_SCALE, FALSE);

  if (scale == 1)
    {
      memcpy (dst, src, (gsize) height * width * channels);
      return TRUE;
    }
  if (filter == HD_UPSCALE_LANCZOS3)
    return upscale_lanczos (src, channels, height, width, scale, dst);
  upscale_nearest (src, channels, height, width, scale, dst);
  return TRUE;
}
