/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's text and image towers as the specs write them, in double
 * precision; every step is the formula of the spec. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-reference.h"
#include "hd-error.h"

double *
hd_reference_to_doubles (float *f,
                         gsize  n)
{
  double *out = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = f[i];
  g_free (f);
  return out;
}

/* The tensor of ST named as printf makes it, as doubles. */
#define tensorf(st, ...) \
  ({ gsize n_; float *f_ = hd_clip_get_f32 ((st), &n_, __VA_ARGS__); \
     hd_reference_to_doubles (f_, n_); })

void
hd_reference_linear (const double *x,
                     int           rows,
                     int           in,
                     const double *w,
                     const double *b,
                     int           out,
                     double       *y)
{
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++)
      {
        double sum = b != NULL ? b[o] : 0.0;

        for (int i = 0; i < in; i++)
          sum += x[(gsize) r * in + i] * w[(gsize) o * in + i];
        y[(gsize) r * out + o] = sum;
      }
}

/* LN over the N features of each of ROWS rows (biased variance). */
static void
layer_norm (const double *x,
            int           rows,
            int           n,
            const double *weight,
            const double *bias,
            double       *y)
{
  for (int r = 0; r < rows; r++)
    {
      const double *xr = x + (gsize) r * n;
      double mean = 0.0, var = 0.0;

      for (int i = 0; i < n; i++)
        mean += xr[i];
      mean /= n;
      for (int i = 0; i < n; i++)
        var += (xr[i] - mean) * (xr[i] - mean);
      var /= n;
      for (int i = 0; i < n; i++)
        y[(gsize) r * n + i] = (xr[i] - mean) / sqrt (var + 1e-5) * weight[i] + bias[i];
    }
}

/* Residual attention block L of the tower whose blocks are
 * PREFIX"transformer.resblocks.L." on ROWS rows of X (width W, HEADS
 * heads); CAUSAL: row i attends to rows 0..i only (the text tower). */
static void
resblock (HdSafetensors *st,
          const char    *prefix,
          int            l,
          int            w,
          int            heads,
          gboolean       causal,
          double        *x,
          int            rows)
{
  int h = w / heads;
  g_autofree char *p = g_strdup_printf ("%stransformer.resblocks.%d", prefix, l);
  g_autofree double *ln1_w = tensorf (st, "%s.ln_1.weight", p);
  g_autofree double *ln1_b = tensorf (st, "%s.ln_1.bias", p);
  g_autofree double *ln2_w = tensorf (st, "%s.ln_2.weight", p);
  g_autofree double *ln2_b = tensorf (st, "%s.ln_2.bias", p);
  g_autofree double *in_w = tensorf (st, "%s.attn.in_proj_weight", p);
  g_autofree double *in_b = tensorf (st, "%s.attn.in_proj_bias", p);
  g_autofree double *out_w = tensorf (st, "%s.attn.out_proj.weight", p);
  g_autofree double *out_b = tensorf (st, "%s.attn.out_proj.bias", p);
  g_autofree double *fc_w = tensorf (st, "%s.mlp.c_fc.weight", p);
  g_autofree double *fc_b = tensorf (st, "%s.mlp.c_fc.bias", p);
  g_autofree double *proj_w = tensorf (st, "%s.mlp.c_proj.weight", p);
  g_autofree double *proj_b = tensorf (st, "%s.mlp.c_proj.bias", p);
  g_autofree double *a = g_new (double, (gsize) rows * 4 * w);
  g_autofree double *qkv = g_new (double, (gsize) rows * 3 * w);
  g_autofree double *o = g_new (double, (gsize) rows * w);
  g_autofree double *t = g_new (double, (gsize) rows * 4 * w);
  g_autofree double *s = g_new (double, rows);

  layer_norm (x, rows, w, ln1_w, ln1_b, a);
  hd_reference_linear (a, rows, w, in_w, in_b, 3 * w, qkv);
  for (int j = 0; j < heads; j++)
    for (int i = 0; i < rows; i++)
      {
        const double *q = qkv + (gsize) i * 3 * w + j * h;
        int last = causal ? i : rows - 1;
        double max = -INFINITY, total = 0.0;

        for (int k = 0; k <= last; k++)
          {
            const double *kk = qkv + (gsize) k * 3 * w + w + j * h;
            double dot = 0.0;

            for (int c = 0; c < h; c++)
              dot += q[c] / sqrt ((double) h) * kk[c];
            s[k] = dot;
            max = MAX (max, dot);
          }
        for (int k = 0; k <= last; k++)
          {
            s[k] = exp (s[k] - max);
            total += s[k];
          }
        for (int c = 0; c < h; c++)
          {
            double sum = 0.0;

            for (int k = 0; k <= last; k++)
              sum += s[k] / total * qkv[(gsize) k * 3 * w + 2 * w + j * h + c];
            o[(gsize) i * w + j * h + c] = sum;
          }
      }
  hd_reference_linear (o, rows, w, out_w, out_b, w, a);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += a[i];

  layer_norm (x, rows, w, ln2_w, ln2_b, a);
  hd_reference_linear (a, rows, w, fc_w, fc_b, 4 * w, t);
  for (gsize i = 0; i < (gsize) rows * 4 * w; i++)
    t[i] = t[i] / (1.0 + exp (-1.702 * t[i]));   /* QuickGELU */
  hd_reference_linear (t, rows, 4 * w, proj_w, proj_b, w, a);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += a[i];
}

/* LN (LN_PREFIX) of the row X, projected by PROJ ([w, embed]) and
 * normalised to unit length, into E. */
static void
project_unit (HdSafetensors *st,
              const double  *x,
              int            w,
              const char    *ln_prefix,
              const char    *proj_name,
              int            embed,
              float         *e)
{
  g_autofree double *ln_w = tensorf (st, "%s.weight", ln_prefix);
  g_autofree double *ln_b = tensorf (st, "%s.bias", ln_prefix);
  g_autofree double *proj = tensorf (st, "%s", proj_name);
  g_autofree double *ln = g_new (double, w);
  g_autofree double *y = g_new0 (double, embed);
  double norm = 0.0;

  layer_norm (x, 1, w, ln_w, ln_b, ln);
  for (int j = 0; j < embed; j++)
    for (int c = 0; c < w; c++)
      y[j] += ln[c] * proj[(gsize) c * embed + j];
  for (int j = 0; j < embed; j++)
    norm += y[j] * y[j];
  norm = sqrt (norm);
  for (int j = 0; j < embed; j++)
    e[j] = (float) (y[j] / norm);
}

gboolean
hd_clip_reference_encode_text (const HdClipText *text,
                               const guint32    *ids,
                               guint             n_ids,
                               float            *e,
                               GError          **error)
{
  const HdClipConfig *c = text->config;
  g_autofree char *lnf = g_strdup_printf ("%sln_final", text->prefix);
  g_autofree char *proj = g_strdup_printf ("%stext_projection", text->prefix);
  g_autofree double *x = NULL;
  guint rows;
  float *x0 = hd_clip_text_embed_tokens (text, ids, n_ids, &rows, error);

  if (x0 == NULL)
    return FALSE;
  x = hd_reference_to_doubles (x0, (gsize) rows * c->width);
  for (int l = 0; l < c->layers; l++)
    resblock (text->st, text->prefix, l, c->width, c->heads, TRUE, x, (int) rows);
  /* The row of the first EOT, the last one computed. */
  project_unit (text->st, x + (gsize) (rows - 1) * c->width, c->width, lnf, proj,
                c->embed_dim, e);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The image tower                                                          */

/* PyTorch's bicubic kernel, A = -0.75. */
static double
cubic (double t)
{
  const double a = -0.75;

  t = fabs (t);
  if (t <= 1.0)
    return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
  if (t < 2.0)
    return ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a;
  return 0.0;
}

void
hd_clip_resize_matrix (int     n,
                       int     r,
                       double *m)
{
  memset (m, 0, sizeof (double) * (gsize) n * r);
  for (int o = 0; o < n; o++)
    {
      double src = (o + 0.5) * r / n - 0.5;
      int i = (int) floor (src);
      double f = src - i;

      for (int k = -1; k <= 2; k++)
        m[(gsize) o * r + CLAMP (i + k, 0, r - 1)] += cubic (f - k);
    }
}

void
hd_clip_reference_preprocess (const float *img,
                              int          r,
                              int          n,
                              float       *out)
{
  static const double mean[3] = { 0.48145466, 0.4578275, 0.40821073 };
  static const double std[3] = { 0.26862954, 0.26130258, 0.27577711 };
  g_autofree double *m = g_new (double, (gsize) n * r);
  g_autofree double *tmp = g_new (double, (gsize) r * n);

  hd_clip_resize_matrix (n, r, m);
  for (int c = 0; c < 3; c++)
    {
      const float *x = img + (gsize) c * r * r;

      if (r == n)
        {
          for (gsize i = 0; i < (gsize) n * n; i++)
            out[(gsize) c * n * n + i] = (float) (((x[i] + 1.0) / 2.0 - mean[c]) / std[c]);
          continue;
        }
      /* Columns first: tmp[h][q] = Σ_w x[h][w] M[q][w]. */
      for (int h = 0; h < r; h++)
        for (int q = 0; q < n; q++)
          {
            double sum = 0.0;

            for (int w = 0; w < r; w++)
              sum += (x[(gsize) h * r + w] + 1.0) / 2.0 * m[(gsize) q * r + w];
            tmp[(gsize) h * n + q] = sum;
          }
      for (int o = 0; o < n; o++)
        for (int q = 0; q < n; q++)
          {
            double sum = 0.0;

            for (int h = 0; h < r; h++)
              sum += m[(gsize) o * r + h] * tmp[(gsize) h * n + q];
            out[((gsize) c * n + o) * n + q] = (float) ((sum - mean[c]) / std[c]);
          }
    }
}

void
hd_clip_reference_encode_image (HdClip      *clip,
                                const float *pre,
                                float       *e)
{
  const HdClipVisionConfig *v = &clip->vision;
  int W = v->width, p = v->patch, g = v->grid, n = v->resolution, rows = g * g + 1;
  g_autofree double *conv = tensorf (clip->st, "visual.conv1.weight");
  g_autofree double *cls = tensorf (clip->st, "visual.class_embedding");
  g_autofree double *pos = tensorf (clip->st, "visual.positional_embedding");
  g_autofree double *pre_w = tensorf (clip->st, "visual.ln_pre.weight");
  g_autofree double *pre_b = tensorf (clip->st, "visual.ln_pre.bias");
  g_autofree double *x = g_new (double, (gsize) rows * W);

  /* Token 0: the class embedding; token 1 + a g + b: patch (a, b). */
  memcpy (x, cls, sizeof (double) * W);
  for (int a = 0; a < g; a++)
    for (int b = 0; b < g; b++)
      for (int o = 0; o < W; o++)
        {
          double sum = 0.0;

          for (int c = 0; c < 3; c++)
            for (int i = 0; i < p; i++)
              for (int j = 0; j < p; j++)
                sum += conv[(((gsize) o * 3 + c) * p + i) * p + j] *
                       pre[((gsize) c * n + a * p + i) * n + b * p + j];
          x[(gsize) (1 + a * g + b) * W + o] = sum;
        }
  for (gsize i = 0; i < (gsize) rows * W; i++)
    x[i] += pos[i];
  layer_norm (x, rows, W, pre_w, pre_b, x);
  for (int l = 0; l < v->layers; l++)
    resblock (clip->st, "visual.", l, W, v->heads, FALSE, x, rows);
  project_unit (clip->st, x, W, "visual.ln_post", "visual.proj", v->embed_dim, e);
}
