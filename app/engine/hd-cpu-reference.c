/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The forward pass of spec/generator-math.md written as literally as
 * possible: every section is one function, every sum a plain loop with a
 * double accumulator.  This is the oracle the Vulkan renderer is tested
 * against, so clarity wins over speed everywhere. */
#include "config.h"

#include "hd-cpu-reference.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-latent.h"

#define SQRT2 1.4142135623730951

static float
lrelu_gain (double x)
{
  return (float) ((x >= 0.0 ? x : 0.2 * x) * SQRT2);
}

static float
clamp_if (float x, const HdGeneratorConfig *config)
{
  if (!config->has_conv_clamp)
    return x;
  return CLAMP (x, -config->conv_clamp, config->conv_clamp);
}

/* §2: z -> w (one w, before broadcast and truncation). */
static void
map_z_to_w (HdGenerator *gen,
            const float *z,
            float       *w_out)
{
  const HdGeneratorConfig *config = &gen->config;
  int width = MAX (config->z_dim, config->w_dim);
  g_autofree float *x = g_new0 (float, width);
  g_autofree float *y = g_new0 (float, width);
  double sum_sq = 0.0;
  float norm;
  int n = config->z_dim;

  for (int i = 0; i < n; i++)
    sum_sq += (double) z[i] * z[i];
  norm = (float) (1.0 / sqrt ((double) (float) (sum_sq / n) + 1e-8));
  for (int i = 0; i < n; i++)
    x[i] = z[i] * norm;

  for (int l = 0; l < config->mapping_layers; l++)
    {
      const HdMappingLayer *layer = &gen->mapping[l];
      double lr = config->lr_multiplier;
      double gain = lr / sqrt ((double) layer->in_features);

      for (int o = 0; o < layer->out_features; o++)
        {
          double acc = 0.0;
          for (int i = 0; i < layer->in_features; i++)
            acc += (double) x[i] * ((double) layer->weight[(gsize) o * layer->in_features + i] * gain);
          acc += (double) layer->bias[o] * lr;
          y[o] = lrelu_gain (acc);
        }
      memcpy (x, y, sizeof (float) * layer->out_features);
    }
  memcpy (w_out, x, sizeof (float) * config->w_dim);
}

gboolean
hd_cpu_compute_ws (HdGenerator          *gen,
                   const HdRenderParams *params,
                   float                *ws,
                   GError              **error)
{
  int w_dim = gen->config.w_dim;

  switch (params->latent_kind)
    {
    case HD_LATENT_SEED:
    case HD_LATENT_Z:
      {
        g_autofree float *z = g_new (float, gen->config.z_dim);
        if (params->latent_kind == HD_LATENT_SEED)
          hd_randn_f32 (params->seed, z, gen->config.z_dim);
        else
          memcpy (z, params->z, sizeof (float) * gen->config.z_dim);
        map_z_to_w (gen, z, ws);
        for (int k = 1; k < gen->num_ws; k++)
          memcpy (ws + (gsize) k * w_dim, ws, sizeof (float) * w_dim);
      }
      break;
    case HD_LATENT_W:
      memcpy (ws, params->w, sizeof (float) * w_dim * gen->num_ws);
      break;
    default:
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("Unknown latent kind"));
      return FALSE;
    }

  /* Truncation, for k < cutoff (every k without a cutoff).  psi = 1 leaves
   * w untouched, bit for bit, as NVlabs skips the lerp then. */
  for (int k = 0; k < gen->num_ws && params->psi != 1.0f; k++)
    {
      if (params->cutoff >= 0 && k >= params->cutoff)
        continue;
      for (int j = 0; j < w_dim; j++)
        {
          float avg = gen->w_avg[j];
          float *v = &ws[(gsize) k * w_dim + j];
          *v = avg + params->psi * (*v - avg);
        }
    }

  /* Style latents after truncation (§7): w_k = (1 - α_k) w_k + Σ α_j S_j,k,
   * which is S_k exactly for one such domain at weight 1. */
  if (params->style_alpha != NULL && params->style_sum != NULL)
    for (int k = 0; k < gen->num_ws; k++)
      {
        float keep = 1.0f - params->style_alpha[k];

        for (int j = 0; j < w_dim; j++)
          {
            float *v = &ws[(gsize) k * w_dim + j];
            *v = keep * *v + params->style_sum[(gsize) k * w_dim + j];
          }
      }
  return TRUE;
}

void
hd_cpu_compute_style (const float *w,
               int          w_dim,
               const float *affine_weight,
               const float *affine_bias,
               int          c_in,
               double      *s)
{
  double gain = 1.0 / sqrt ((double) w_dim);

  for (int i = 0; i < c_in; i++)
    {
      double acc = 0.0;
      for (int j = 0; j < w_dim; j++)
        acc += (double) w[j] * ((double) affine_weight[(gsize) i * w_dim + j] * gain);
      s[i] = acc + affine_bias[i];
    }
}

/* §4: one modulated convolution, up-sampling or not, with its noise, bias,
 * activation and clamp.  X is [c_in][in_res][in_res]; Y [c_out][res][res]. */
static void
modulated_conv (HdGenerator       *gen,
                const HdConvLayer *layer,
                const float       *w,
                const float       *d,
                const float       *noise,
                const float       *x,
                float             *y)
{
  int c_in = layer->c_in, c_out = layer->c_out;
  int in_res = layer->in_res, res = layer->block_res;
  gsize in_plane = (gsize) in_res * in_res, plane = (gsize) res * res;
  g_autofree double *s = g_new (double, c_in);
  g_autofree double *dcoef = g_new (double, c_out);
  g_autofree double *weff = g_new (double, (gsize) c_out * c_in * 9);
  g_autofree double *acc = g_new0 (double, plane);

  hd_cpu_compute_style (w, gen->config.w_dim, layer->affine_weight, layer->affine_bias, c_in, s);

  /* Demodulation from s alone; then the domain after it (§4.2, §4.3). */
  for (int o = 0; o < c_out; o++)
    {
      double sum = 0.0;
      for (int i = 0; i < c_in; i++)
        for (int k = 0; k < 9; k++)
          {
            double v = layer->weight[((gsize) o * c_in + i) * 9 + k] * s[i];
            sum += v * v;
          }
      dcoef[o] = 1.0 / sqrt (sum + 1e-8);
    }
  for (int o = 0; o < c_out; o++)
    for (int i = 0; i < c_in; i++)
      for (int k = 0; k < 9; k++)
        {
          gsize idx = ((gsize) o * c_in + i) * 9 + k;
          double dom = d != NULL ? 1.0 + d[i] : 1.0;
          weff[idx] = layer->weight[idx] * s[i] * dcoef[o] * dom;
        }

  for (int o = 0; o < c_out; o++)
    {
      memset (acc, 0, sizeof (double) * plane);
      if (!layer->up)
        {
          /* §4.4: correlation with zero padding 1. */
          for (int i = 0; i < c_in; i++)
            for (int py = 0; py < res; py++)
              for (int px = 0; px < res; px++)
                for (int ky = 0; ky < 3; ky++)
                  for (int kx = 0; kx < 3; kx++)
                    {
                      int sy = py + ky - 1, sx = px + kx - 1;
                      if (sy < 0 || sy >= in_res || sx < 0 || sx >= in_res)
                        continue;
                      acc[(gsize) py * res + px] +=
                        weff[((gsize) o * c_in + i) * 9 + ky * 3 + kx] *
                        x[i * in_plane + (gsize) sy * in_res + sx];
                    }
        }
      else
        {
          /* §4.5: transposed conv (stride 2, no flip) to 2H+1, then the
           * [1,3,3,1] FIR with gain 4. */
          int t_res = 2 * in_res + 1;
          g_autofree double *t = g_new0 (double, (gsize) t_res * t_res);
          static const double k1[4] = { 1, 3, 3, 1 };

          for (int i = 0; i < c_in; i++)
            for (int sy = 0; sy < in_res; sy++)
              for (int sx = 0; sx < in_res; sx++)
                for (int ky = 0; ky < 3; ky++)
                  for (int kx = 0; kx < 3; kx++)
                    t[(gsize) (2 * sy + ky) * t_res + (2 * sx + kx)] +=
                      weff[((gsize) o * c_in + i) * 9 + ky * 3 + kx] *
                      x[i * in_plane + (gsize) sy * in_res + sx];

          for (int py = 0; py < res; py++)
            for (int px = 0; px < res; px++)
              for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                  {
                    int ty = py + a - 1, tx = px + b - 1;
                    if (ty < 0 || ty >= t_res || tx < 0 || tx >= t_res)
                      continue;
                    acc[(gsize) py * res + px] +=
                      t[(gsize) ty * t_res + tx] * k1[a] * k1[b] / 16.0;
                  }
        }

      /* §4.6, §4.7: noise, bias, activation, clamp. */
      for (gsize p = 0; p < plane; p++)
        {
          float v = (float) acc[p];
          if (noise != NULL)
            v += noise[p] * layer->noise_strength;
          y[o * plane + p] = clamp_if (lrelu_gain ((double) v + layer->bias[o]), &gen->config);
        }
    }
}

/* §5: ToRGB, linear, with its own clamp. */
static void
to_rgb (HdGenerator      *gen,
        const HdRgbLayer *layer,
        const float      *w,
        const float      *x,
        float            *rgb)
{
  gsize plane = (gsize) layer->block_res * layer->block_res;
  g_autofree double *s = g_new (double, layer->c_in);

  hd_cpu_compute_style (w, gen->config.w_dim, layer->affine_weight, layer->affine_bias, layer->c_in, s);
  for (int i = 0; i < layer->c_in; i++)
    s[i] /= sqrt ((double) layer->c_in);

  for (int o = 0; o < layer->c_out; o++)
    for (gsize p = 0; p < plane; p++)
      {
        double acc = 0.0;
        for (int i = 0; i < layer->c_in; i++)
          acc += layer->weight[(gsize) o * layer->c_in + i] * s[i] * x[i * plane + p];
        rgb[o * plane + p] = clamp_if ((float) (acc + layer->bias[o]), &gen->config);
      }
}

/* §6: separable 2x upsampling with zero borders. */
static void
upsample_image (const float *in,
                int          channels,
                int          res,
                float       *out)
{
  int out_res = res * 2;
  g_autofree double *rows = g_new (double, (gsize) res * out_res);

  for (int c = 0; c < channels; c++)
    {
      const float *src = in + (gsize) c * res * res;
      float *dst = out + (gsize) c * out_res * out_res;

      for (int y = 0; y < res; y++)
        for (int m = 0; m < res; m++)
          {
            double left = m > 0 ? src[y * res + m - 1] : 0.0;
            double mid = src[y * res + m];
            double right = m + 1 < res ? src[y * res + m + 1] : 0.0;
            rows[(gsize) y * out_res + 2 * m] = 0.25 * left + 0.75 * mid;
            rows[(gsize) y * out_res + 2 * m + 1] = 0.75 * mid + 0.25 * right;
          }
      for (int x = 0; x < out_res; x++)
        for (int m = 0; m < res; m++)
          {
            double up = m > 0 ? rows[(gsize) (m - 1) * out_res + x] : 0.0;
            double mid = rows[(gsize) m * out_res + x];
            double down = m + 1 < res ? rows[(gsize) (m + 1) * out_res + x] : 0.0;
            dst[(gsize) (2 * m) * out_res + x] = (float) (0.25 * up + 0.75 * mid);
            dst[(gsize) (2 * m + 1) * out_res + x] = (float) (0.75 * mid + 0.25 * down);
          }
    }
}

gboolean
hd_cpu_render (HdGenerator          *gen,
               const HdRenderParams *params,
               float                *out,
               GError              **error)
{
  const HdGeneratorConfig *config = &gen->config;
  int out_res = hd_render_params_output_res (params, gen, error);
  int channels = config->img_channels;
  int max_ch = 0, conv_index = 0;
  gsize max_act;
  g_autofree float *ws = NULL;
  g_autofree float *act_a = NULL, *act_b = NULL;
  g_autofree float *img = NULL, *img_up = NULL, *rgb = NULL;
  g_autofree float *noise_all = NULL;
  gsize noise_offset = 0;
  const float *noise_base;

  if (out_res < 0)
    return FALSE;

  ws = g_new (float, (gsize) gen->num_ws * config->w_dim);
  if (!hd_cpu_compute_ws (gen, params, ws, error))
    return FALSE;

  for (int i = 0; i < gen->n_convs; i++)
    max_ch = MAX (max_ch, MAX (gen->convs[i].c_in, gen->convs[i].c_out));
  max_act = (gsize) max_ch * config->img_resolution * config->img_resolution;
  act_a = g_new0 (float, max_act);
  act_b = g_new0 (float, max_act);
  img = g_new0 (float, (gsize) channels * out_res * out_res);
  img_up = g_new0 (float, (gsize) channels * out_res * out_res);
  rgb = g_new0 (float, (gsize) channels * out_res * out_res);

  if (params->noise_mode == HD_NOISE_RANDOM)
    {
      noise_all = g_new (float, hd_noise_total_size (gen));
      hd_noise_generate (gen, params->noise_seed, noise_all);
    }
  noise_base = noise_all;

  memcpy (act_a, gen->const_input, sizeof (float) * gen->convs[0].c_in * 16);

  for (int b = 0; b < gen->n_blocks; b++)
    {
      const HdRgbLayer *rgb_layer = &gen->rgbs[b];
      int res = rgb_layer->block_res;
      gsize plane = (gsize) res * res;

      /* b4 has one conv, every later block two (conv0 up, conv1). */
      for (int j = 0; j < (b == 0 ? 1 : 2); j++, conv_index++)
        {
          const HdConvLayer *layer = &gen->convs[conv_index];
          const float *noise = NULL;
          float *tmp;

          if (params->noise_mode == HD_NOISE_CONST)
            noise = layer->noise_const;
          else if (params->noise_mode == HD_NOISE_RANDOM)
            noise = noise_base + noise_offset;
          noise_offset += plane;

          modulated_conv (gen, layer, ws + (gsize) layer->w_index * config->w_dim,
                          params->domain != NULL ? params->domain + layer->domain_offset : NULL,
                          noise, act_a, act_b);
          tmp = act_a;
          act_a = act_b;
          act_b = tmp;
        }

      to_rgb (gen, rgb_layer, ws + (gsize) rgb_layer->w_index * config->w_dim, act_a, rgb);
      if (b == 0)
        memcpy (img, rgb, sizeof (float) * channels * plane);
      else
        {
          upsample_image (img, channels, res / 2, img_up);
          for (gsize p = 0; p < channels * plane; p++)
            img[p] = img_up[p] + rgb[p];
        }
      if (res == out_res)
        break;
    }

  memcpy (out, img, sizeof (float) * channels * out_res * out_res);
  return TRUE;
}
