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
  if (transpose)
    {
      /* Uᵀ, n x 2n. */
      g_autofree double *ut = g_new (double, (gsize) big * n);

      for (int r = 0; r < big; r++)
        for (int m = 0; m < n; m++)
          ut[(gsize) m * big + r] = u[(gsize) r * n + m];
      memcpy (u, ut, sizeof (double) * big * n);
    }
  for (int c = 0; c < channels; c++)
    {
      /* out = A in Aᵀ with A = U (2n x n) or Uᵀ (n x 2n). */
      int rows = transpose ? n : big, cols = transpose ? big : n;
      const double *src = in + (gsize) c * cols * cols;
      double *dst = out + (gsize) c * rows * rows;

      for (int y = 0; y < cols; y++)
        for (int X = 0; X < rows; X++)
          {
            double acc = 0.0;
            for (int m = 0; m < cols; m++)
              acc += src[(gsize) y * cols + m] * u[(gsize) X * cols + m];
            tmp[(gsize) y * rows + X] = acc;
          }
      for (int Y = 0; Y < rows; Y++)
        for (int X = 0; X < rows; X++)
          {
            double acc = 0.0;
            for (int m = 0; m < cols; m++)
              acc += u[(gsize) Y * cols + m] * tmp[(gsize) m * rows + X];
            dst[(gsize) Y * rows + X] = acc;
          }
    }
}

/* The 3x3 taps of conv LAYER between the input IN_PLANES (c_in x
 * in_res²) and the output OUT_PLANES (c_out x res²) at stride STRIDE (1: a
 * same-padded correlation, output pixel p reads input p + k - 1; 2: the
 * transposed conv, input pixel s feeds output 2 s + k): with TRANSPOSE
 * false OUT += W · IN, else IN += Wᵀ · OUT. */
static void
taps (const HdConvLayer *layer,
      int                o,
      double            *in_planes,
      int                in_res,
      double            *out_plane,
      int                out_res,
      int                stride,
      gboolean           transpose)
{
  int c_in = layer->c_in;
  gsize in_plane = (gsize) in_res * in_res;

  for (int i = 0; i < c_in; i++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          double wv = layer->weight[((gsize) o * c_in + i) * 9 + ky * 3 + kx];

          for (int sy = 0; sy < in_res; sy++)
            for (int sx = 0; sx < in_res; sx++)
              {
                /* stride 1: output (sy - ky + 1, ...) reads input (sy, ...) */
                int py = stride == 1 ? sy - ky + 1 : 2 * sy + ky;
                int px = stride == 1 ? sx - kx + 1 : 2 * sx + kx;
                double *x = &in_planes[i * in_plane + (gsize) sy * in_res + sx];
                double *y;

                if (py < 0 || py >= out_res || px < 0 || px >= out_res)
                  continue;
                y = &out_plane[(gsize) py * out_res + px];
                if (transpose)
                  *x += wv * *y;
                else
                  *y += wv * *x;
              }
        }
}

static const double k1[4] = { 1, 3, 3, 1 };

/* The [1,3,3,1] FIR (gain 4) from the T_RES² plane T to the RES² plane A
 * (A[p] = Σ T[p + a - 1] k_a k_b / 16), or its transpose. */
static void
fir (double   *t,
     int       t_res,
     double   *a,
     int       res,
     gboolean  transpose)
{
  for (int py = 0; py < res; py++)
    for (int px = 0; px < res; px++)
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
          {
            int ty = py + i - 1, tx = px + j - 1;
            double k = k1[i] * k1[j] / 16.0;

            if (ty < 0 || ty >= t_res || tx < 0 || tx >= t_res)
              continue;
            if (transpose)
              t[(gsize) ty * t_res + tx] += a[(gsize) py * res + px] * k;
            else
              a[(gsize) py * res + px] += t[(gsize) ty * t_res + tx] * k;
          }
}

/* Conv LAYER (3x3 same, or transposed + FIR): with TRANSPOSE false
 * OUT = conv (U) (c_out x res²), else U = convᵀ (OUT) (c_in x in_res²). */
static void
conv_apply (const HdConvLayer *layer,
            double            *u,
            double            *out,
            gboolean           transpose)
{
  int c_out = layer->c_out, in_res = layer->in_res, res = layer->block_res;
  int t_res = 2 * in_res + 1;
  gsize plane = (gsize) res * res;
  g_autofree double *t = layer->up ? g_new (double, (gsize) t_res * t_res) : NULL;

  if (transpose)
    memset (u, 0, sizeof (double) * layer->c_in * in_res * in_res);
  else
    memset (out, 0, sizeof (double) * c_out * plane);
  for (int o = 0; o < c_out; o++)
    {
      if (!layer->up)
        {
          taps (layer, o, u, in_res, out + o * plane, res, 1, transpose);
          continue;
        }
      memset (t, 0, sizeof (double) * t_res * t_res);
      if (transpose)
        {
          fir (t, t_res, out + o * plane, res, TRUE);
          taps (layer, o, u, in_res, t, t_res, 2, TRUE);
        }
      else
        {
          taps (layer, o, u, in_res, t, t_res, 2, FALSE);
          fir (t, t_res, out + o * plane, res, FALSE);
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

void
hd_train_conv_dcoef (const HdConvLayer *layer,
                     const double      *s,
                     double            *dcoef)
{
  for (int o = 0; o < layer->c_out; o++)
    {
      double sum = 0.0;

      for (int i = 0; i < layer->c_in; i++)
        for (int k = 0; k < 9; k++)
          {
            double v = layer->weight[((gsize) o * layer->c_in + i) * 9 + k] * s[i];
            sum += v * v;
          }
      dcoef[o] = 1.0 / sqrt (sum + 1e-8);
    }
}

/* The forward pass with WS (num_ws x w_dim floats), D and NOISE (the
 * images of every conv in conv order, or NULL for none). */
static void
synth_forward (Synth        *sy,
               HdGenerator  *gen,
               const float  *ws,
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
          hd_cpu_compute_style (ws + (gsize) L->w_index * w_dim, w_dim, L->affine_weight, L->affine_bias, L->c_in, sy->s[c]);
          sy->dcoef[c] = g_new (double, L->c_out);
          hd_train_conv_dcoef (L, sy->s[c], sy->dcoef[c]);
          for (int i = 0; i < L->c_in; i++)
            {
              double scale = sy->s[c][i] * (d != NULL ? 1.0 + d[L->domain_offset + i] : 1.0);
              for (gsize p = 0; p < in_plane; p++)
                u[i * in_plane + p] = sy->x[c][i * in_plane + p] * scale;
            }
          conv_apply (L, u, acc, FALSE);
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
      hd_cpu_compute_style (ws + (gsize) rgb->w_index * w_dim, w_dim, rgb->affine_weight, rgb->affine_bias, rgb->c_in,
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
          conv_apply (L, g_u, g_acc, TRUE);
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
/* The step                                                                 */

float *
hd_train_sample_ws (HdGenerator        *gen,
                    const HdTrainDraws *draws,
                    int                 b,
                    gboolean            trainable)
{
  int crossover = trainable ? draws->c_trg : draws->c_src;
  int w_dim = gen->config.w_dim, z_dim = gen->config.z_dim;
  g_autofree float *w1 = g_new (float, (gsize) gen->num_ws * w_dim);
  g_autofree float *w2 = g_new (float, (gsize) gen->num_ws * w_dim);
  float *ws = g_new (float, (gsize) gen->num_ws * w_dim);
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
  g_autofree float *ws = hd_train_sample_ws (gen, draws, b, trainable);
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

double
hd_train_direction_loss (const float  *t,
                         const double *e_src,
                         const double *e_trg,
                         int           E,
                         int           batch,
                         double       *g_e)
{
  double t_norm = 0.0, dd = 0.0, dot = 0.0, cosv;

  for (int j = 0; j < E; j++)
    t_norm += (double) t[j] * t[j];
  t_norm = MAX (sqrt (t_norm), 1e-8);
  for (int j = 0; j < E; j++)
    {
      double delta = e_trg[j] - e_src[j];
      dd += delta * delta;
      dot += delta * t[j];
    }
  dd = sqrt (dd);
  cosv = dot / (MAX (dd, 1e-8) * t_norm);
  for (int j = 0; j < E; j++)
    {
      double yh = t[j] / t_norm, delta = e_trg[j] - e_src[j];
      double dcos = dd > 1e-8 ? (yh - cosv * delta / dd) / dd : yh / 1e-8;
      g_e[j] = -dcos / batch;
    }
  return (1.0 - cosv) / batch;
}

/* The direction loss inside the trainable image's pass. */
typedef struct {
  const float  *t;
  const double *e_src;
  int           E;
  int           batch;
  double        loss;
} DirectionLoss;

static void
direction_loss (const double *e_trg,
                double       *g_e,
                gpointer      data)
{
  DirectionLoss *dl = data;

  dl->loss = hd_train_direction_loss (dl->t, dl->e_src, e_trg, dl->E, dl->batch, g_e);
}

void
hd_train_clip_loss (HdClipImageTower  **towers,
                    const HdTrainClip  *clips,
                    guint               n_clips,
                    int                 batch,
                    const double       *src_img,
                    const double       *trg_img,
                    double             *loss,
                    double             *g_img)
{
  g_autofree double *g_v = NULL;

  for (guint v = 0; v < n_clips; v++)
    {
      int E = clips[v].clip->config.embed_dim;
      gsize n_img;
      g_autofree double *e_src = NULL;
      g_autofree double *e_trg = NULL;
      DirectionLoss dl = { clips[v].direction, NULL, E, batch, 0.0 };

      if (clips[v].device != NULL)
        continue;
      n_img = hd_clip_image_tower_image_size (towers[v]);
      if (g_v == NULL)
        g_v = g_new (double, n_img);
      e_src = g_new (double, E);
      e_trg = g_new (double, E);
      dl.e_src = e_src;
      hd_clip_image_tower_run (towers[v], src_img, e_src, NULL, NULL);
      hd_clip_image_tower_run_grad (towers[v], trg_img, e_trg, direction_loss, &dl, g_v);
      loss[v] = dl.loss;
      for (gsize i = 0; i < n_img; i++)
        g_img[i] += g_v[i];
    }
}

/* One sample of a step: its two renders, its share of every CLIP's loss
 * and its gradient, computed on a thread of their own. */
typedef struct {
  HdGenerator        *gen;
  const HdTrainClip  *clips;
  guint               n_clips;
  HdClipImageTower  **towers;
  const HdTrainDraws *draws;
  const float        *d;
  int                 b;
  double             *loss;     /* n_clips */
  double             *grad;     /* domain_dim */
  HdTrainTimes        times;
} Sample;

double
hd_train_ms_since (gint64 *start)
{
  gint64 now = g_get_monotonic_time ();
  double ms = (now - *start) / 1000.0;

  *start = now;
  return ms;
}

HdClipImageTower **
hd_train_towers_new (const HdTrainClip *clips,
                     guint              n_clips,
                     int                r)
{
  HdClipImageTower **towers = g_new0 (HdClipImageTower *, MAX (n_clips, 1));

  for (guint v = 0; v < n_clips; v++)
    if (clips[v].device == NULL)
      towers[v] = clips[v].tower != NULL ? clips[v].tower : hd_clip_image_tower_new (clips[v].clip, r);
  return towers;
}

void
hd_train_towers_free (HdClipImageTower **towers,
                      const HdTrainClip *clips,
                      guint              n_clips)
{
  for (guint v = 0; v < n_clips; v++)
    if (clips[v].tower == NULL)
      hd_clip_image_tower_free (towers[v]);
  g_free (towers);
}

double
hd_train_add_losses (const double *losses,
                     int           batch,
                     guint         n_clips,
                     double       *loss_per_clip)
{
  double total = 0.0;

  for (guint v = 0; v < n_clips; v++)
    {
      double lv = 0.0;

      for (int b = 0; b < batch; b++)
        lv += losses[(gsize) b * n_clips + v];
      if (loss_per_clip != NULL)
        loss_per_clip[v] = lv;
      total += lv;
    }
  return total;
}

static void
run_sample (gpointer data,
            gpointer unused)
{
  Sample *job = data;
  HdGenerator *gen = job->gen;
  int B = job->draws->batch, R = gen->config.img_resolution;
  g_autofree double *g_img = g_new0 (double, (gsize) 3 * R * R);
  gint64 start = g_get_monotonic_time ();
  Synth src, trg;

  render_sample (&src, gen, job->draws, job->b, FALSE, NULL);
  render_sample (&trg, gen, job->draws, job->b, TRUE, job->d);
  job->times.generator_forward += hd_train_ms_since (&start);
  hd_train_clip_loss (job->towers, job->clips, job->n_clips, B, src.img, trg.img, job->loss, g_img);
  job->times.clip += hd_train_ms_since (&start);
  synth_backward (&trg, g_img, job->grad);
  job->times.generator_backward += hd_train_ms_since (&start);
  synth_clear (&src);
  synth_clear (&trg);
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
  return hd_train_reference_step_timed (gen, clips, n_clips, draws, d, loss, loss_per_clip, grad,
                                        NULL, error);
}

gboolean
hd_train_reference_step_timed (HdGenerator          *gen,
                               const HdTrainClip    *device_clips,
                               guint                 n_clips,
                               const HdTrainDraws   *draws,
                               const float          *d,
                               double               *loss,
                               double               *loss_per_clip,
                               float                *grad,
                               HdTrainTimes         *times,
                               GError              **error)
{
  gint64 start = g_get_monotonic_time ();
  int B = draws->batch, R = gen->config.img_resolution;
  HdClipImageTower **towers;
  g_autofree Sample *jobs = g_new0 (Sample, B);
  g_autofree double *losses = g_new0 (double, (gsize) MAX (n_clips, 1) * B);
  GThreadPool *pool;
  /* Every CLIP on the host, whatever device tower it has. */
  g_autofree HdTrainClip *clips = g_memdup2 (device_clips, sizeof (HdTrainClip) * MAX (n_clips, 1));

  for (guint v = 0; v < n_clips; v++)
    clips[v].device = NULL;
  if (gen->config.img_channels != 3)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("CLIP needs RGB images; the generator makes %d channels"), gen->config.img_channels);
      return FALSE;
    }
  towers = hd_train_towers_new (clips, n_clips, R);

  /* The samples on every core; their losses and gradients are added in
   * sample order, so the result does not depend on the threads. */
  pool = g_thread_pool_new (run_sample, NULL, MIN (B, (int) g_get_num_processors ()), FALSE, NULL);
  for (int b = 0; b < B; b++)
    {
      jobs[b] = (Sample) {
        .gen = gen, .clips = clips, .n_clips = n_clips, .towers = towers, .draws = draws, .d = d,
        .b = b, .loss = losses + (gsize) b * n_clips, .grad = g_new0 (double, gen->domain_dim),
      };
      g_thread_pool_push (pool, &jobs[b], NULL);
    }
  g_thread_pool_free (pool, FALSE, TRUE);

  for (int i = 0; i < gen->domain_dim; i++)
    {
      double sum = 0.0;

      for (int b = 0; b < B; b++)
        sum += jobs[b].grad[i];
      grad[i] = (float) sum;
    }
  for (int b = 0; b < B; b++)
    {
      if (times != NULL)
        {
          times->generator_forward += jobs[b].times.generator_forward;
          times->clip += jobs[b].times.clip;
          times->generator_backward += jobs[b].times.generator_backward;
        }
      g_free (jobs[b].grad);
    }
  hd_train_towers_free (towers, clips, n_clips);
  *loss = hd_train_add_losses (losses, B, n_clips, loss_per_clip);
  if (times != NULL)
    times->wall += hd_train_ms_since (&start);
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
hd_adam_next (HdAdam *adam,
              float  *step,
              float  *root_bc2)
{
  const float beta1 = HD_ADAM_BETA1, beta2 = HD_ADAM_BETA2;

  adam->t++;
  *step = (float) adam->lr / (1.0f - powf (beta1, (float) adam->t));
  *root_bc2 = sqrtf (1.0f - powf (beta2, (float) adam->t));
}

void
hd_adam_step (HdAdam      *adam,
              float       *d,
              const float *grad)
{
  const float beta1 = HD_ADAM_BETA1, beta2 = HD_ADAM_BETA2, eps = HD_ADAM_EPS;
  float step, root_bc2;

  hd_adam_next (adam, &step, &root_bc2);
  for (gsize i = 0; i < adam->n; i++)
    {
      float denom;

      adam->m[i] = adam->m[i] * beta1 + (1.0f - beta1) * grad[i];
      adam->v[i] = adam->v[i] * beta2 + (1.0f - beta2) * grad[i] * grad[i];
      denom = sqrtf (adam->v[i]) / root_bc2 + eps;
      d[i] -= step * adam->m[i] / denom;
    }
}

void
hd_adam_clear (HdAdam *adam)
{
  g_clear_pointer (&adam->m, g_free);
  g_clear_pointer (&adam->v, g_free);
}
