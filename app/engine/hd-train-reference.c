/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One training step of spec/domain-training.md in double precision:
 * forward and backward of the synthesis network and of CLIP's image
 * tower, written from the spec's formulas (see hd-train-reference.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-reference.h"
#include "hd-cpu-reference.h"
#include "hd-error.h"
#include "hd-latent.h"
#include "hd-render-params.h"
#include "hd-train-reference.h"

#define SQRT2 1.4142135623730951

/* ------------------------------------------------------------------------ */
/* Draws (§5)                                                               */

void
hd_train_draws_init (HdTrainDraws *draws,
                     guint32       seed,
                     int           step,
                     int           batch,
                     double        mixing,
                     int           num_ws,
                     int           z_dim)
{
  HdRandomState rs;
  gsize n = (gsize) 2 * batch * z_dim;

  memset (draws, 0, sizeof *draws);
  hd_random_state_init (&rs, (guint32) (((guint64) seed * 1000003u + (guint64) (guint32) step) &
                                        G_GUINT64_CONSTANT (0xffffffff)));
  draws->step = step;
  draws->batch = batch;
  draws->u = hd_random_state_double (&rs);
  draws->mix = draws->u < mixing;
  draws->z = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    draws->z[i] = (float) hd_random_state_gauss (&rs);
  draws->c_src = 1 + (int) floor (hd_random_state_double (&rs) * (num_ws - 1));
  draws->c_trg = 1 + (int) floor (hd_random_state_double (&rs) * (num_ws - 1));
  draws->noise_src = g_new (guint32, batch);
  draws->noise_trg = g_new (guint32, batch);
  for (int b = 0; b < batch; b++)
    draws->noise_src[b] = (guint32) floor (hd_random_state_double (&rs) * 4294967296.0);
  for (int b = 0; b < batch; b++)
    draws->noise_trg[b] = (guint32) floor (hd_random_state_double (&rs) * 4294967296.0);
}

void
hd_train_draws_clear (HdTrainDraws *draws)
{
  g_clear_pointer (&draws->z, g_free);
  g_clear_pointer (&draws->noise_src, g_free);
  g_clear_pointer (&draws->noise_trg, g_free);
}

/* ------------------------------------------------------------------------ */
/* The synthesis network, forward with what the backward needs             */

typedef struct {
  HdGenerator *gen;
  const float *d;          /* NULL: d = 0 */
  double     **x;          /* per conv: its input, c_in x in_res² */
  double     **z;          /* per conv: pre-activation (after noise and bias) */
  double     **y;          /* per conv: output */
  double     **s;          /* per conv: styles */
  double     **dcoef;      /* per conv */
  double     **rgb_s;      /* per block: ToRGB styles / sqrt(c_in) */
  double     **rgb_pre;    /* per block: ToRGB before the clamp */
  double      *img;        /* the output */
} Synth;

static double
clamp_c (const HdGeneratorConfig *config,
         double                   v)
{
  return config->has_conv_clamp ? CLAMP (v, -config->conv_clamp, config->conv_clamp) : v;
}

static gboolean
clamp_passes (const HdGeneratorConfig *config,
              double                   v)
{
  return !config->has_conv_clamp || (v >= -config->conv_clamp && v <= config->conv_clamp);
}

static void
style (const double *w,
       int           w_dim,
       const float  *a_w,
       const float  *a_b,
       int           c_in,
       double       *s)
{
  double gain = 1.0 / sqrt ((double) w_dim);

  for (int i = 0; i < c_in; i++)
    {
      double acc = 0.0;

      for (int j = 0; j < w_dim; j++)
        acc += w[j] * a_w[(gsize) i * w_dim + j] * gain;
      s[i] = acc + a_b[i];
    }
}

/* The 2x skip up-sampling of one plane along one axis as a matrix U
 * (2n x n): out[2m] = 0.25 in[m-1] + 0.75 in[m], out[2m+1] = 0.75 in[m] +
 * 0.25 in[m+1], zero outside. */
static void
upsample (const double *in,
          int           channels,
          int           n,
          double       *out,
          gboolean      transpose)
{
  int big = 2 * n;
  g_autofree double *u = g_new0 (double, (gsize) big * n);
  g_autofree double *tmp = g_new0 (double, (gsize) big * n);

  for (int m = 0; m < n; m++)
    {
      if (m > 0)
        u[(gsize) (2 * m) * n + m - 1] += 0.25;
      u[(gsize) (2 * m) * n + m] += 0.75;
      u[(gsize) (2 * m + 1) * n + m] += 0.75;
      if (m + 1 < n)
        u[(gsize) (2 * m + 1) * n + m + 1] += 0.25;
    }
  for (int c = 0; c < channels; c++)
    {
      if (!transpose)
        {
          /* out = U in Uᵀ: in n x n, out 2n x 2n. */
          const double *src = in + (gsize) c * n * n;
          double *dst = out + (gsize) c * big * big;

          for (int y = 0; y < n; y++)
            for (int X = 0; X < big; X++)
              {
                double acc = 0.0;
                for (int m = 0; m < n; m++)
                  acc += src[(gsize) y * n + m] * u[(gsize) X * n + m];
                tmp[(gsize) y * big + X] = acc;
              }
          for (int Y = 0; Y < big; Y++)
            for (int X = 0; X < big; X++)
              {
                double acc = 0.0;
                for (int m = 0; m < n; m++)
                  acc += u[(gsize) Y * n + m] * tmp[(gsize) m * big + X];
                dst[(gsize) Y * big + X] = acc;
              }
        }
      else
        {
          /* out = Uᵀ in U: in 2n x 2n, out n x n. */
          const double *src = in + (gsize) c * big * big;
          double *dst = out + (gsize) c * n * n;

          for (int Y = 0; Y < big; Y++)
            for (int m = 0; m < n; m++)
              {
                double acc = 0.0;
                for (int X = 0; X < big; X++)
                  acc += src[(gsize) Y * big + X] * u[(gsize) X * n + m];
                tmp[(gsize) Y * n + m] = acc;
              }
          for (int k = 0; k < n; k++)
            for (int m = 0; m < n; m++)
              {
                double acc = 0.0;
                for (int Y = 0; Y < big; Y++)
                  acc += u[(gsize) Y * n + k] * tmp[(gsize) Y * n + m];
                dst[(gsize) k * n + m] = acc;
              }
        }
    }
}

static const double k1[4] = { 1, 3, 3, 1 };

/* acc = conv(W, u) of conv LAYER (3x3 same, or transposed + FIR). */
static void
conv_forward (const HdConvLayer *layer,
              const double      *u,
              double            *acc)
{
  int c_in = layer->c_in, c_out = layer->c_out, in_res = layer->in_res, res = layer->block_res;
  gsize in_plane = (gsize) in_res * in_res, plane = (gsize) res * res;

  memset (acc, 0, sizeof (double) * c_out * plane);
  if (!layer->up)
    {
      for (int o = 0; o < c_out; o++)
        for (int i = 0; i < c_in; i++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                double wv = layer->weight[((gsize) o * c_in + i) * 9 + ky * 3 + kx];
                for (int py = 0; py < res; py++)
                  {
                    int sy = py + ky - 1;
                    if (sy < 0 || sy >= in_res)
                      continue;
                    for (int px = 0; px < res; px++)
                      {
                        int sx = px + kx - 1;
                        if (sx < 0 || sx >= in_res)
                          continue;
                        acc[o * plane + (gsize) py * res + px] += wv * u[i * in_plane + (gsize) sy * in_res + sx];
                      }
                  }
              }
      return;
    }
  {
    int t_res = 2 * in_res + 1;
    g_autofree double *t = g_new (double, (gsize) t_res * t_res);

    for (int o = 0; o < c_out; o++)
      {
        memset (t, 0, sizeof (double) * t_res * t_res);
        for (int i = 0; i < c_in; i++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                double wv = layer->weight[((gsize) o * c_in + i) * 9 + ky * 3 + kx];
                for (int sy = 0; sy < in_res; sy++)
                  for (int sx = 0; sx < in_res; sx++)
                    t[(gsize) (2 * sy + ky) * t_res + 2 * sx + kx] += wv * u[i * in_plane + (gsize) sy * in_res + sx];
              }
        for (int py = 0; py < res; py++)
          for (int px = 0; px < res; px++)
            {
              double sum = 0.0;
              for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                  {
                    int ty = py + a - 1, tx = px + b - 1;
                    if (ty < 0 || ty >= t_res || tx < 0 || tx >= t_res)
                      continue;
                    sum += t[(gsize) ty * t_res + tx] * k1[a] * k1[b] / 16.0;
                  }
              acc[o * plane + (gsize) py * res + px] = sum;
            }
      }
  }
}

/* g_u = the transpose of conv_forward applied to G (c_out x res²). */
static void
conv_backward (const HdConvLayer *layer,
               const double      *g,
               double            *g_u)
{
  int c_in = layer->c_in, c_out = layer->c_out, in_res = layer->in_res, res = layer->block_res;
  gsize in_plane = (gsize) in_res * in_res, plane = (gsize) res * res;

  memset (g_u, 0, sizeof (double) * c_in * in_plane);
  if (!layer->up)
    {
      for (int o = 0; o < c_out; o++)
        for (int i = 0; i < c_in; i++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                double wv = layer->weight[((gsize) o * c_in + i) * 9 + ky * 3 + kx];
                for (int py = 0; py < res; py++)
                  {
                    int sy = py + ky - 1;
                    if (sy < 0 || sy >= in_res)
                      continue;
                    for (int px = 0; px < res; px++)
                      {
                        int sx = px + kx - 1;
                        if (sx < 0 || sx >= in_res)
                          continue;
                        g_u[i * in_plane + (gsize) sy * in_res + sx] += wv * g[o * plane + (gsize) py * res + px];
                      }
                  }
              }
      return;
    }
  {
    int t_res = 2 * in_res + 1;
    g_autofree double *gt = g_new (double, (gsize) t_res * t_res);

    for (int o = 0; o < c_out; o++)
      {
        memset (gt, 0, sizeof (double) * t_res * t_res);
        for (int py = 0; py < res; py++)
          for (int px = 0; px < res; px++)
            {
              double gv = g[o * plane + (gsize) py * res + px];
              for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                  {
                    int ty = py + a - 1, tx = px + b - 1;
                    if (ty < 0 || ty >= t_res || tx < 0 || tx >= t_res)
                      continue;
                    gt[(gsize) ty * t_res + tx] += gv * k1[a] * k1[b] / 16.0;
                  }
            }
        for (int i = 0; i < c_in; i++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                double wv = layer->weight[((gsize) o * c_in + i) * 9 + ky * 3 + kx];
                for (int sy = 0; sy < in_res; sy++)
                  for (int sx = 0; sx < in_res; sx++)
                    g_u[i * in_plane + (gsize) sy * in_res + sx] += wv * gt[(gsize) (2 * sy + ky) * t_res + 2 * sx + kx];
              }
      }
  }
}

static void
synth_clear (Synth *sy)
{
  HdGenerator *gen = sy->gen;

  for (int c = 0; c < gen->n_convs; c++)
    {
      g_free (sy->x[c]);
      g_free (sy->z[c]);
      g_free (sy->y[c]);
      g_free (sy->s[c]);
      g_free (sy->dcoef[c]);
    }
  for (int b = 0; b < gen->n_blocks; b++)
    {
      g_free (sy->rgb_s[b]);
      g_free (sy->rgb_pre[b]);
    }
  g_free (sy->x);
  g_free (sy->z);
  g_free (sy->y);
  g_free (sy->s);
  g_free (sy->dcoef);
  g_free (sy->rgb_s);
  g_free (sy->rgb_pre);
  g_free (sy->img);
}

/* The forward pass with WS (num_ws x w_dim doubles), D and NOISE (the
 * images of every conv in conv order, or NULL for none). */
static void
synth_forward (Synth        *sy,
               HdGenerator  *gen,
               const double *ws,
               const float  *d,
               const float  *noise)
{
  const HdGeneratorConfig *config = &gen->config;
  int w_dim = config->w_dim, ch = config->img_channels, R = config->img_resolution;
  gsize noise_offset = 0;
  int c = 0;

  memset (sy, 0, sizeof *sy);
  sy->gen = gen;
  sy->d = d;
  sy->x = g_new0 (double *, gen->n_convs);
  sy->z = g_new0 (double *, gen->n_convs);
  sy->y = g_new0 (double *, gen->n_convs);
  sy->s = g_new0 (double *, gen->n_convs);
  sy->dcoef = g_new0 (double *, gen->n_convs);
  sy->rgb_s = g_new0 (double *, gen->n_blocks);
  sy->rgb_pre = g_new0 (double *, gen->n_blocks);
  sy->img = g_new0 (double, (gsize) ch * R * R);

  for (int b = 0; b < gen->n_blocks; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      int res = rgb->block_res;
      gsize plane = (gsize) res * res;
      double *act;

      for (int j = 0; j < (b == 0 ? 1 : 2); j++, c++)
        {
          const HdConvLayer *L = &gen->convs[c];
          gsize in_plane = (gsize) L->in_res * L->in_res;
          g_autofree double *u = g_new (double, L->c_in * in_plane);
          g_autofree double *acc = g_new (double, L->c_out * plane);

          sy->x[c] = g_new (double, L->c_in * in_plane);
          if (c == 0)
            for (gsize i = 0; i < L->c_in * in_plane; i++)
              sy->x[c][i] = gen->const_input[i];
          else
            memcpy (sy->x[c], sy->y[c - 1], sizeof (double) * L->c_in * in_plane);
          sy->s[c] = g_new (double, L->c_in);
          style (ws + (gsize) L->w_index * w_dim, w_dim, L->affine_weight, L->affine_bias, L->c_in, sy->s[c]);
          sy->dcoef[c] = g_new (double, L->c_out);
          for (int o = 0; o < L->c_out; o++)
            {
              double sum = 0.0;
              for (int i = 0; i < L->c_in; i++)
                for (int k = 0; k < 9; k++)
                  {
                    double v = L->weight[((gsize) o * L->c_in + i) * 9 + k] * sy->s[c][i];
                    sum += v * v;
                  }
              sy->dcoef[c][o] = 1.0 / sqrt (sum + 1e-8);
            }
          for (int i = 0; i < L->c_in; i++)
            {
              double scale = sy->s[c][i] * (d != NULL ? 1.0 + d[L->domain_offset + i] : 1.0);
              for (gsize p = 0; p < in_plane; p++)
                u[i * in_plane + p] = sy->x[c][i * in_plane + p] * scale;
            }
          conv_forward (L, u, acc);
          sy->z[c] = g_new (double, L->c_out * plane);
          sy->y[c] = g_new (double, L->c_out * plane);
          for (int o = 0; o < L->c_out; o++)
            for (gsize p = 0; p < plane; p++)
              {
                double v = acc[o * plane + p] * sy->dcoef[c][o];
                if (noise != NULL)
                  v += (double) noise[noise_offset + p] * L->noise_strength;
                v += L->bias[o];
                sy->z[c][o * plane + p] = v;
                sy->y[c][o * plane + p] = clamp_c (config, (v >= 0.0 ? v : 0.2 * v) * SQRT2);
              }
          noise_offset += plane;
        }

      act = sy->y[c - 1];
      sy->rgb_s[b] = g_new (double, rgb->c_in);
      style (ws + (gsize) rgb->w_index * w_dim, w_dim, rgb->affine_weight, rgb->affine_bias, rgb->c_in,
             sy->rgb_s[b]);
      for (int i = 0; i < rgb->c_in; i++)
        sy->rgb_s[b][i] /= sqrt ((double) rgb->c_in);
      sy->rgb_pre[b] = g_new (double, (gsize) rgb->c_out * plane);
      {
        g_autofree double *prev = b > 0 ? g_memdup2 (sy->img, sizeof (double) * ch * (res / 2) * (res / 2)) : NULL;

        if (b > 0)
          upsample (prev, ch, res / 2, sy->img, FALSE);
        for (int o = 0; o < rgb->c_out; o++)
          for (gsize p = 0; p < plane; p++)
            {
              double acc = rgb->bias[o];
              for (int i = 0; i < rgb->c_in; i++)
                acc += rgb->weight[(gsize) o * rgb->c_in + i] * sy->rgb_s[b][i] * act[i * plane + p];
              sy->rgb_pre[b][o * plane + p] = acc;
              if (b == 0)
                sy->img[o * plane + p] = clamp_c (config, acc);
              else
                sy->img[o * plane + p] += clamp_c (config, acc);
            }
      }
    }
}

/* ∂L/∂d added into GRAD_D (domain_dim doubles) for the image gradient
 * G_IMG of the pass SY. */
static void
synth_backward (Synth        *sy,
                const double *g_img,
                double       *grad_d)
{
  HdGenerator *gen = sy->gen;
  const HdGeneratorConfig *config = &gen->config;
  int ch = config->img_channels, R = config->img_resolution;
  g_autofree double *g_skip = g_memdup2 (g_img, sizeof (double) * ch * R * R);
  g_autofree double *g_act = NULL;   /* gradient of the last conv output so far */
  int c = gen->n_convs - 1;

  for (int b = gen->n_blocks - 1; b >= 0; b--)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      int res = rgb->block_res;
      gsize plane = (gsize) res * res;
      int n_convs = b == 0 ? 1 : 2;
      const HdConvLayer *last = &gen->convs[c];
      g_autofree double *g_y = g_new0 (double, (gsize) last->c_out * plane);

      /* ToRGB: rgb = clamp (Σ_i W s' x + b); img_b = up (img_{b-1}) + rgb. */
      for (int o = 0; o < rgb->c_out; o++)
        for (gsize p = 0; p < plane; p++)
          {
            double gr = g_skip[o * plane + p];
            if (!clamp_passes (config, sy->rgb_pre[b][o * plane + p]))
              continue;
            for (int i = 0; i < rgb->c_in; i++)
              g_y[i * plane + p] += gr * rgb->weight[(gsize) o * rgb->c_in + i] * sy->rgb_s[b][i];
          }
      if (g_act != NULL)
        for (gsize i = 0; i < (gsize) last->c_out * plane; i++)
          g_y[i] += g_act[i];
      if (b > 0)
        {
          g_autofree double *down = g_new (double, (gsize) ch * (res / 2) * (res / 2));
          upsample (g_skip, ch, res / 2, down, TRUE);
          g_free (g_skip);
          g_skip = g_steal_pointer (&down);
        }

      for (int j = 0; j < n_convs; j++, c--)
        {
          const HdConvLayer *L = &gen->convs[c];
          gsize in_plane = (gsize) L->in_res * L->in_res;
          g_autofree double *g_acc = g_new (double, (gsize) L->c_out * plane);
          g_autofree double *g_u = g_new (double, (gsize) L->c_in * in_plane);
          double *g_x = g_new (double, (gsize) L->c_in * in_plane);

          for (int o = 0; o < L->c_out; o++)
            for (gsize p = 0; p < plane; p++)
              {
                double z = sy->z[c][o * plane + p];
                double a = (z >= 0.0 ? z : 0.2 * z) * SQRT2;
                double slope = z > 0.0 ? SQRT2 : 0.2 * SQRT2;
                g_acc[o * plane + p] = clamp_passes (config, a)
                                       ? g_y[o * plane + p] * slope * sy->dcoef[c][o] : 0.0;
              }
          conv_backward (L, g_acc, g_u);
          for (int i = 0; i < L->c_in; i++)
            {
              double dsum = 0.0, dom = sy->d != NULL ? 1.0 + sy->d[L->domain_offset + i] : 1.0;
              for (gsize p = 0; p < in_plane; p++)
                {
                  double gu = g_u[i * in_plane + p];
                  dsum += sy->x[c][i * in_plane + p] * sy->s[c][i] * gu;
                  g_x[i * in_plane + p] = gu * sy->s[c][i] * dom;
                }
              grad_d[L->domain_offset + i] += dsum;
            }
          g_free (g_y);
          g_y = g_x;
        }
      /* g_y is now the gradient of the block's input: the previous
       * block's last conv output. */
      g_free (g_act);
      g_act = g_steal_pointer (&g_y);
    }
}

/* ------------------------------------------------------------------------ */
/* CLIP's image tower, forward with what the backward needs                 */

#define tensorf(st, ...) \
  ({ gsize n_; float *f_ = hd_clip_get_f32 ((st), &n_, __VA_ARGS__); hd_reference_to_doubles (f_, n_); })

typedef struct {
  int     rows, w;
  double *x_in;          /* rows x w */
  double *mean1, *rstd1, *a1;
  double *qkv;           /* rows x 3w */
  double *p;             /* heads x rows x rows */
  double *o;             /* rows x w */
  double *x1;
  double *mean2, *rstd2, *a2;
  double *f;             /* rows x 4w, before QuickGELU */
  double *g;             /* after */
} Block;

static void
block_clear (Block *k)
{
  g_free (k->x_in); g_free (k->mean1); g_free (k->rstd1); g_free (k->a1); g_free (k->qkv);
  g_free (k->p); g_free (k->o); g_free (k->x1); g_free (k->mean2); g_free (k->rstd2);
  g_free (k->a2); g_free (k->f); g_free (k->g);
}

static void
ln_forward (const double *x,
            int           rows,
            int           n,
            const double *gamma,
            const double *beta,
            double       *mean,
            double       *rstd,
            double       *y)
{
  for (int r = 0; r < rows; r++)
    {
      const double *xr = x + (gsize) r * n;
      double m = 0.0, v = 0.0;

      for (int i = 0; i < n; i++)
        m += xr[i];
      m /= n;
      for (int i = 0; i < n; i++)
        v += (xr[i] - m) * (xr[i] - m);
      v /= n;
      mean[r] = m;
      rstd[r] = 1.0 / sqrt (v + 1e-5);
      for (int i = 0; i < n; i++)
        y[(gsize) r * n + i] = (xr[i] - m) * rstd[r] * gamma[i] + beta[i];
    }
}

/* G_X (=, not +=) from G_Y. */
static void
ln_backward (const double *x,
             int           rows,
             int           n,
             const double *gamma,
             const double *mean,
             const double *rstd,
             const double *g_y,
             double       *g_x)
{
  for (int r = 0; r < rows; r++)
    {
      double sum = 0.0, sum_xh = 0.0;

      for (int i = 0; i < n; i++)
        {
          double gh = g_y[(gsize) r * n + i] * gamma[i];
          double xh = (x[(gsize) r * n + i] - mean[r]) * rstd[r];
          sum += gh;
          sum_xh += gh * xh;
        }
      for (int i = 0; i < n; i++)
        {
          double gh = g_y[(gsize) r * n + i] * gamma[i];
          double xh = (x[(gsize) r * n + i] - mean[r]) * rstd[r];
          g_x[(gsize) r * n + i] = rstd[r] * (gh - sum / n - xh * sum_xh / n);
        }
    }
}

/* Y += X · M for X [rows, in], M [in, out] stored [out, in] when
 * TRANSPOSED_M (G · W for a Linear's backward: W [out, in]). */
static void
matmul_wt (const double *g,
           int           rows,
           int           out,
           const double *w,
           int           in,
           double       *y)
{
  /* y[r][i] = Σ_o g[r][o] w[o][i] */
  memset (y, 0, sizeof (double) * rows * in);
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++)
      {
        double gv = g[(gsize) r * out + o];
        for (int i = 0; i < in; i++)
          y[(gsize) r * in + i] += gv * w[(gsize) o * in + i];
      }
}

typedef struct {
  double *ln1_w, *ln1_b, *ln2_w, *ln2_b, *in_w, *in_b, *out_w, *out_b, *fc_w, *fc_b, *proj_w, *proj_b;
} BlockWeights;

static void
block_weights (HdSafetensors *st,
               int            l,
               BlockWeights  *bw)
{
  const char *p = "visual.transformer.resblocks";

  bw->ln1_w = tensorf (st, "%s.%d.ln_1.weight", p, l);
  bw->ln1_b = tensorf (st, "%s.%d.ln_1.bias", p, l);
  bw->ln2_w = tensorf (st, "%s.%d.ln_2.weight", p, l);
  bw->ln2_b = tensorf (st, "%s.%d.ln_2.bias", p, l);
  bw->in_w = tensorf (st, "%s.%d.attn.in_proj_weight", p, l);
  bw->in_b = tensorf (st, "%s.%d.attn.in_proj_bias", p, l);
  bw->out_w = tensorf (st, "%s.%d.attn.out_proj.weight", p, l);
  bw->out_b = tensorf (st, "%s.%d.attn.out_proj.bias", p, l);
  bw->fc_w = tensorf (st, "%s.%d.mlp.c_fc.weight", p, l);
  bw->fc_b = tensorf (st, "%s.%d.mlp.c_fc.bias", p, l);
  bw->proj_w = tensorf (st, "%s.%d.mlp.c_proj.weight", p, l);
  bw->proj_b = tensorf (st, "%s.%d.mlp.c_proj.bias", p, l);
}

static void
block_weights_clear (BlockWeights *bw)
{
  g_free (bw->ln1_w); g_free (bw->ln1_b); g_free (bw->ln2_w); g_free (bw->ln2_b);
  g_free (bw->in_w); g_free (bw->in_b); g_free (bw->out_w); g_free (bw->out_b);
  g_free (bw->fc_w); g_free (bw->fc_b); g_free (bw->proj_w); g_free (bw->proj_b);
}

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* X (rows x w) through one non-causal block, in place, recording K. */
static void
block_forward (const BlockWeights *bw,
               int                 w,
               int                 heads,
               double             *x,
               int                 rows,
               Block              *k)
{
  int h = w / heads;
  g_autofree double *att = g_new (double, (gsize) rows * w);
  g_autofree double *m = g_new (double, (gsize) rows * w);

  k->rows = rows;
  k->w = w;
  k->x_in = g_memdup2 (x, sizeof (double) * rows * w);
  k->mean1 = g_new (double, rows);
  k->rstd1 = g_new (double, rows);
  k->a1 = g_new (double, (gsize) rows * w);
  ln_forward (x, rows, w, bw->ln1_w, bw->ln1_b, k->mean1, k->rstd1, k->a1);
  k->qkv = g_new (double, (gsize) rows * 3 * w);
  hd_reference_linear (k->a1, rows, w, bw->in_w, bw->in_b, 3 * w, k->qkv);
  k->p = g_new (double, (gsize) heads * rows * rows);
  k->o = g_new0 (double, (gsize) rows * w);
  for (int j = 0; j < heads; j++)
    for (int i = 0; i < rows; i++)
      {
        double *pr = k->p + ((gsize) j * rows + i) * rows;
        double max = -INFINITY, total = 0.0;

        for (int t = 0; t < rows; t++)
          {
            double dot = 0.0;
            for (int c = 0; c < h; c++)
              dot += k->qkv[(gsize) i * 3 * w + j * h + c] / sqrt ((double) h) *
                     k->qkv[(gsize) t * 3 * w + w + j * h + c];
            pr[t] = dot;
            max = MAX (max, dot);
          }
        for (int t = 0; t < rows; t++)
          {
            pr[t] = exp (pr[t] - max);
            total += pr[t];
          }
        for (int t = 0; t < rows; t++)
          pr[t] /= total;
        for (int c = 0; c < h; c++)
          {
            double sum = 0.0;
            for (int t = 0; t < rows; t++)
              sum += pr[t] * k->qkv[(gsize) t * 3 * w + 2 * w + j * h + c];
            k->o[(gsize) i * w + j * h + c] = sum;
          }
      }
  hd_reference_linear (k->o, rows, w, bw->out_w, bw->out_b, w, att);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += att[i];
  k->x1 = g_memdup2 (x, sizeof (double) * rows * w);
  k->mean2 = g_new (double, rows);
  k->rstd2 = g_new (double, rows);
  k->a2 = g_new (double, (gsize) rows * w);
  ln_forward (x, rows, w, bw->ln2_w, bw->ln2_b, k->mean2, k->rstd2, k->a2);
  k->f = g_new (double, (gsize) rows * 4 * w);
  hd_reference_linear (k->a2, rows, w, bw->fc_w, bw->fc_b, 4 * w, k->f);
  k->g = g_new (double, (gsize) rows * 4 * w);
  for (gsize i = 0; i < (gsize) rows * 4 * w; i++)
    k->g[i] = k->f[i] * sigmoid (1.702 * k->f[i]);
  hd_reference_linear (k->g, rows, 4 * w, bw->proj_w, bw->proj_b, w, m);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += m[i];
}

/* G (rows x w): the gradient of the block's output in, of its input out. */
static void
block_backward (const BlockWeights *bw,
                int                 heads,
                const Block        *k,
                double             *g)
{
  int rows = k->rows, w = k->w, h = w / heads;
  g_autofree double *g_g = g_new (double, (gsize) rows * 4 * w);
  g_autofree double *g_a2 = g_new (double, (gsize) rows * w);
  g_autofree double *g_x1 = g_new (double, (gsize) rows * w);
  g_autofree double *g_o = g_new (double, (gsize) rows * w);
  g_autofree double *g_qkv = g_new0 (double, (gsize) rows * 3 * w);
  g_autofree double *g_a1 = g_new (double, (gsize) rows * w);
  g_autofree double *g_p = g_new (double, rows);

  /* m = g · Wpᵀ + b; g = QuickGELU (f); f = a2 · Wfcᵀ + b. */
  matmul_wt (g, rows, w, bw->proj_w, 4 * w, g_g);
  for (gsize i = 0; i < (gsize) rows * 4 * w; i++)
    {
      double f = k->f[i], sg = sigmoid (1.702 * f);
      g_g[i] *= sg + 1.702 * f * sg * (1.0 - sg);
    }
  matmul_wt (g_g, rows, 4 * w, bw->fc_w, w, g_a2);
  ln_backward (k->x1, rows, w, bw->ln2_w, k->mean2, k->rstd2, g_a2, g_x1);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    g_x1[i] += g[i];

  /* att = o · Woᵀ + b. */
  matmul_wt (g_x1, rows, w, bw->out_w, w, g_o);
  for (int j = 0; j < heads; j++)
    for (int i = 0; i < rows; i++)
      {
        const double *pr = k->p + ((gsize) j * rows + i) * rows;
        double dot = 0.0;

        /* o_i = Σ_t p_t v_t */
        for (int t = 0; t < rows; t++)
          {
            double gp = 0.0;
            for (int c = 0; c < h; c++)
              {
                gp += g_o[(gsize) i * w + j * h + c] * k->qkv[(gsize) t * 3 * w + 2 * w + j * h + c];
                g_qkv[(gsize) t * 3 * w + 2 * w + j * h + c] += pr[t] * g_o[(gsize) i * w + j * h + c];
              }
            g_p[t] = gp;
            dot += gp * pr[t];
          }
        for (int t = 0; t < rows; t++)
          {
            double gs = pr[t] * (g_p[t] - dot) / sqrt ((double) h);
            for (int c = 0; c < h; c++)
              {
                g_qkv[(gsize) i * 3 * w + j * h + c] += gs * k->qkv[(gsize) t * 3 * w + w + j * h + c];
                g_qkv[(gsize) t * 3 * w + w + j * h + c] += gs * k->qkv[(gsize) i * 3 * w + j * h + c];
              }
          }
      }
  matmul_wt (g_qkv, rows, 3 * w, bw->in_w, w, g_a1);
  ln_backward (k->x_in, rows, w, bw->ln1_w, k->mean1, k->rstd1, g_a1, g);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    g[i] += g_x1[i];
}

typedef struct {
  HdClip       *clip;
  BlockWeights *blocks;
  double *conv, *cls, *pos, *pre_w, *pre_b, *post_w, *post_b, *proj;
  double *m;             /* the n x R resize matrix, or NULL when R = n */
} Tower;

static void
tower_init (Tower  *t,
            HdClip *clip,
            int     r)
{
  HdSafetensors *st = clip->st;
  int n = clip->vision.resolution;

  t->clip = clip;
  t->blocks = g_new0 (BlockWeights, MAX (clip->vision.layers, 1));
  for (int l = 0; l < clip->vision.layers; l++)
    block_weights (st, l, &t->blocks[l]);
  t->conv = tensorf (st, "visual.conv1.weight");
  t->cls = tensorf (st, "visual.class_embedding");
  t->pos = tensorf (st, "visual.positional_embedding");
  t->pre_w = tensorf (st, "visual.ln_pre.weight");
  t->pre_b = tensorf (st, "visual.ln_pre.bias");
  t->post_w = tensorf (st, "visual.ln_post.weight");
  t->post_b = tensorf (st, "visual.ln_post.bias");
  t->proj = tensorf (st, "visual.proj");
  t->m = NULL;
  if (r != n)
    {
      t->m = g_new (double, (gsize) n * r);
      hd_clip_resize_matrix (n, r, t->m);
    }
}

static void
tower_clear (Tower *t)
{
  for (int l = 0; l < t->clip->vision.layers; l++)
    block_weights_clear (&t->blocks[l]);
  g_free (t->blocks);
  g_free (t->conv); g_free (t->cls); g_free (t->pos); g_free (t->pre_w); g_free (t->pre_b);
  g_free (t->post_w); g_free (t->post_b); g_free (t->proj); g_free (t->m);
}

static const double clip_mean[3] = { 0.48145466, 0.4578275, 0.40821073 };
static const double clip_std[3] = { 0.26862954, 0.26130258, 0.27577711 };

/* ê of IMG (3 x r x r doubles); with G_E (the loss gradient of ê), the
 * gradient of IMG into G_IMG. */
static void
tower_run (Tower        *t,
           const double *img,
           int           r,
           double       *e,
           const double *g_e,
           double       *g_img)
{
  const HdClipVisionConfig *v = &t->clip->vision;
  int W = v->width, p = v->patch, g = v->grid, n = v->resolution, rows = g * g + 1, E = v->embed_dim;
  g_autofree double *pre = g_new (double, (gsize) 3 * n * n);
  g_autofree double *tok = g_new (double, (gsize) rows * W);
  g_autofree double *x = g_new (double, (gsize) rows * W);
  g_autofree double *pre_mean = g_new (double, rows), *pre_rstd = g_new (double, rows);
  g_autofree Block *blocks = g_new0 (Block, MAX (v->layers, 1));
  double post_mean, post_rstd, norm = 0.0;
  g_autofree double *ln = g_new (double, W);
  g_autofree double *y = g_new0 (double, E);

  /* §2.1 */
  for (int c = 0; c < 3; c++)
    {
      const double *src = img + (gsize) c * r * r;
      double *dst = pre + (gsize) c * n * n;

      if (t->m == NULL)
        for (gsize i = 0; i < (gsize) n * n; i++)
          dst[i] = ((src[i] + 1.0) / 2.0 - clip_mean[c]) / clip_std[c];
      else
        for (int o = 0; o < n; o++)
          for (int q = 0; q < n; q++)
            {
              double sum = 0.0;
              for (int hh = 0; hh < r; hh++)
                {
                  double row = 0.0;
                  for (int ww = 0; ww < r; ww++)
                    row += (src[(gsize) hh * r + ww] + 1.0) / 2.0 * t->m[(gsize) q * r + ww];
                  sum += t->m[(gsize) o * r + hh] * row;
                }
              dst[(gsize) o * n + q] = (sum - clip_mean[c]) / clip_std[c];
            }
    }

  /* §2.2 */
  memcpy (tok, t->cls, sizeof (double) * W);
  for (int a = 0; a < g; a++)
    for (int b = 0; b < g; b++)
      for (int o = 0; o < W; o++)
        {
          double sum = 0.0;
          for (int c = 0; c < 3; c++)
            for (int i = 0; i < p; i++)
              for (int j = 0; j < p; j++)
                sum += t->conv[(((gsize) o * 3 + c) * p + i) * p + j] *
                       pre[((gsize) c * n + a * p + i) * n + b * p + j];
          tok[(gsize) (1 + a * g + b) * W + o] = sum;
        }
  for (gsize i = 0; i < (gsize) rows * W; i++)
    tok[i] += t->pos[i];
  ln_forward (tok, rows, W, t->pre_w, t->pre_b, pre_mean, pre_rstd, x);
  for (int l = 0; l < v->layers; l++)
    block_forward (&t->blocks[l], W, v->heads, x, rows, &blocks[l]);
  ln_forward (x, 1, W, t->post_w, t->post_b, &post_mean, &post_rstd, ln);
  for (int j = 0; j < E; j++)
    for (int c = 0; c < W; c++)
      y[j] += ln[c] * t->proj[(gsize) c * E + j];
  for (int j = 0; j < E; j++)
    norm += y[j] * y[j];
  norm = sqrt (norm);
  for (int j = 0; j < E; j++)
    e[j] = y[j] / norm;

  if (g_e != NULL)
    {
      g_autofree double *g_y = g_new (double, E);
      g_autofree double *g_ln = g_new0 (double, W);
      g_autofree double *g_x = g_new0 (double, (gsize) rows * W);
      g_autofree double *g_tok = g_new (double, (gsize) rows * W);
      g_autofree double *g_pre = g_new0 (double, (gsize) 3 * n * n);
      double dot = 0.0;

      for (int j = 0; j < E; j++)
        dot += e[j] * g_e[j];
      for (int j = 0; j < E; j++)
        g_y[j] = (g_e[j] - e[j] * dot) / norm;
      for (int c = 0; c < W; c++)
        for (int j = 0; j < E; j++)
          g_ln[c] += t->proj[(gsize) c * E + j] * g_y[j];
      ln_backward (x, 1, W, t->post_w, &post_mean, &post_rstd, g_ln, g_x);
      for (int l = v->layers - 1; l >= 0; l--)
        block_backward (&t->blocks[l], v->heads, &blocks[l], g_x);
      ln_backward (tok, rows, W, t->pre_w, pre_mean, pre_rstd, g_x, g_tok);
      for (int a = 0; a < g; a++)
        for (int b = 0; b < g; b++)
          for (int o = 0; o < W; o++)
            {
              double gt = g_tok[(gsize) (1 + a * g + b) * W + o];
              for (int c = 0; c < 3; c++)
                for (int i = 0; i < p; i++)
                  for (int j = 0; j < p; j++)
                    g_pre[((gsize) c * n + a * p + i) * n + b * p + j] +=
                      t->conv[(((gsize) o * 3 + c) * p + i) * p + j] * gt;
            }
      for (int c = 0; c < 3; c++)
        {
          const double *gp = g_pre + (gsize) c * n * n;
          double *gi = g_img + (gsize) c * r * r;

          if (t->m == NULL)
            for (gsize i = 0; i < (gsize) n * n; i++)
              gi[i] = gp[i] / clip_std[c] * 0.5;
          else
            for (int hh = 0; hh < r; hh++)
              for (int ww = 0; ww < r; ww++)
                {
                  double sum = 0.0;
                  for (int o = 0; o < n; o++)
                    {
                      double row = 0.0;
                      for (int q = 0; q < n; q++)
                        row += gp[(gsize) o * n + q] * t->m[(gsize) q * r + ww];
                      sum += t->m[(gsize) o * r + hh] * row;
                    }
                  gi[(gsize) hh * r + ww] = sum / clip_std[c] * 0.5;
                }
        }
    }
  for (int l = 0; l < v->layers; l++)
    block_clear (&blocks[l]);
}

/* ------------------------------------------------------------------------ */
/* The step                                                                 */

/* The w of every layer of sample B (doubles, num_ws x w_dim). */
static double *
sample_ws (HdGenerator        *gen,
           const HdTrainDraws *draws,
           int                 b,
           int                 crossover)
{
  int w_dim = gen->config.w_dim, z_dim = gen->config.z_dim;
  g_autofree float *w1 = g_new (float, (gsize) gen->num_ws * w_dim);
  g_autofree float *w2 = g_new (float, (gsize) gen->num_ws * w_dim);
  double *ws = g_new (double, (gsize) gen->num_ws * w_dim);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.latent_kind = HD_LATENT_Z;
  params.z = draws->z + (gsize) b * z_dim;
  hd_cpu_compute_ws (gen, &params, w1, NULL);
  params.z = draws->z + ((gsize) draws->batch + b) * z_dim;
  hd_cpu_compute_ws (gen, &params, w2, NULL);
  for (int k = 0; k < gen->num_ws; k++)
    for (int j = 0; j < w_dim; j++)
      ws[(gsize) k * w_dim + j] = (draws->mix && k >= crossover ? w2 : w1)[(gsize) k * w_dim + j];
  return ws;
}

static void
render_sample (Synth              *sy,
               HdGenerator        *gen,
               const HdTrainDraws *draws,
               int                 b,
               gboolean            trainable,
               const float        *d)
{
  g_autofree double *ws = sample_ws (gen, draws, b, trainable ? draws->c_trg : draws->c_src);
  g_autofree float *noise = g_new (float, MAX (hd_noise_total_size (gen), 1));

  hd_noise_generate (gen, trainable ? draws->noise_trg[b] : draws->noise_src[b], noise);
  synth_forward (sy, gen, ws, trainable ? d : NULL, noise);
}

void
hd_train_reference_render (HdGenerator        *gen,
                           const HdTrainDraws *draws,
                           int                 b,
                           gboolean            trainable,
                           const float        *d,
                           float              *img)
{
  Synth sy;
  int R = gen->config.img_resolution;

  render_sample (&sy, gen, draws, b, trainable, d);
  for (gsize i = 0; i < (gsize) gen->config.img_channels * R * R; i++)
    img[i] = (float) sy.img[i];
  synth_clear (&sy);
}

gboolean
hd_train_reference_step (HdGenerator          *gen,
                         const HdTrainClip    *clips,
                         guint                 n_clips,
                         const HdTrainDraws   *draws,
                         const float          *d,
                         double               *loss,
                         double               *loss_per_clip,
                         float                *grad,
                         GError              **error)
{
  int B = draws->batch, R = gen->config.img_resolution, ch = gen->config.img_channels;
  gsize n_img = (gsize) ch * R * R;
  g_autofree double *grad_d = g_new0 (double, gen->domain_dim);
  Synth *src = g_new0 (Synth, B), *trg = g_new0 (Synth, B);
  double total = 0.0;

  if (ch != 3)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("CLIP needs RGB images; the generator makes %d channels"), ch);
      g_free (src);
      g_free (trg);
      return FALSE;
    }
  for (int b = 0; b < B; b++)
    {
      render_sample (&src[b], gen, draws, b, FALSE, NULL);
      render_sample (&trg[b], gen, draws, b, TRUE, d);
    }

  for (guint v = 0; v < n_clips; v++)
    {
      HdClip *clip = clips[v].clip;
      int E = clip->config.embed_dim;
      g_autofree double *e_src = g_new (double, E);
      g_autofree double *e_trg = g_new (double, E);
      g_autofree double *g_e = g_new (double, E);
      g_autofree double *g_img = g_new (double, n_img);
      double t_norm = 0.0, lv = 0.0;
      Tower tower;

      for (int j = 0; j < E; j++)
        t_norm += (double) clips[v].direction[j] * clips[v].direction[j];
      t_norm = MAX (sqrt (t_norm), 1e-8);
      tower_init (&tower, clip, R);
      for (int b = 0; b < B; b++)
        {
          double dd = 0.0, dot = 0.0, cosv;

          tower_run (&tower, src[b].img, R, e_src, NULL, NULL);
          tower_run (&tower, trg[b].img, R, e_trg, NULL, NULL);
          /* Δ = ê_trg − ê_src; ℓ = (1/B) Σ (1 − cos (Δ, t)). */
          for (int j = 0; j < E; j++)
            {
              double delta = e_trg[j] - e_src[j];
              dd += delta * delta;
              dot += delta * clips[v].direction[j];
            }
          dd = sqrt (dd);
          cosv = dot / (MAX (dd, 1e-8) * t_norm);
          lv += (1.0 - cosv) / B;
          for (int j = 0; j < E; j++)
            {
              double yh = clips[v].direction[j] / t_norm;
              double delta = e_trg[j] - e_src[j];
              double dcos = dd > 1e-8 ? (yh - cosv * delta / dd) / dd : yh / 1e-8;
              g_e[j] = -dcos / B;
            }
          tower_run (&tower, trg[b].img, R, e_trg, g_e, g_img);
          synth_backward (&trg[b], g_img, grad_d);
        }
      tower_clear (&tower);
      if (loss_per_clip != NULL)
        loss_per_clip[v] = lv;
      total += lv;
    }

  for (int b = 0; b < B; b++)
    {
      synth_clear (&src[b]);
      synth_clear (&trg[b]);
    }
  g_free (src);
  g_free (trg);
  for (int i = 0; i < gen->domain_dim; i++)
    grad[i] = (float) grad_d[i];
  *loss = total;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Adam (§6)                                                                */

void
hd_adam_init (HdAdam *adam,
              gsize   n,
              double  lr)
{
  adam->n = n;
  adam->t = 0;
  adam->lr = lr;
  adam->m = g_new0 (float, MAX (n, 1));
  adam->v = g_new0 (float, MAX (n, 1));
}

void
hd_adam_step (HdAdam      *adam,
              float       *d,
              const float *grad)
{
  const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float bc1, bc2, step;

  adam->t++;
  bc1 = 1.0f - powf (beta1, (float) adam->t);
  bc2 = 1.0f - powf (beta2, (float) adam->t);
  step = (float) adam->lr / bc1;
  for (gsize i = 0; i < adam->n; i++)
    {
      float denom;

      adam->m[i] = adam->m[i] * beta1 + (1.0f - beta1) * grad[i];
      adam->v[i] = adam->v[i] * beta2 + (1.0f - beta2) * grad[i] * grad[i];
      denom = sqrtf (adam->v[i]) / sqrtf (bc2) + eps;
      d[i] -= step * adam->m[i] / denom;
    }
}

void
hd_adam_clear (HdAdam *adam)
{
  g_clear_pointer (&adam->m, g_free);
  g_clear_pointer (&adam->v, g_free);
}
