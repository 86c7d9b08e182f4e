/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text encoder and the mapper, as spec/text-domains.md §3–§4 write
 * them, in double precision; every step is the formula of the spec. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-text-reference.h"

/* A tensor of the file as doubles (a new array). */
/* F (N floats, freed) as doubles. */
static double *
to_doubles (float *f,
            gsize  n)
{
  double *out = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = f[i];
  g_free (f);
  return out;
}

/* The tensor named as printf makes it, as doubles. */
#define tensorf(hn, ...) \
  ({ gsize n_; float *f_ = hd_hypernetwork_get_f32_printf ((hn), &n_, __VA_ARGS__); to_doubles (f_, n_); })

static double *
tensor (HdHypernetwork *hn,
        const char     *name)
{
  return tensorf (hn, "%s", name);
}

/* Y[r] = X[r] · Wᵀ + b for ROWS rows: X [rows, in], W [out, in]. */
static void
linear (const double *x,
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

/* One residual attention block on ROWS rows of X (width W). */
static void
resblock (HdHypernetwork *hn,
          int             l,
          double         *x,
          int             rows)
{
  int w = hn->clip.width, heads = hn->clip.heads, h = w / heads;
  const char *p = "clip.transformer.resblocks";
  g_autofree double *ln1_w = tensorf (hn, "%s.%d.ln_1.weight", p, l);
  g_autofree double *ln1_b = tensorf (hn, "%s.%d.ln_1.bias", p, l);
  g_autofree double *ln2_w = tensorf (hn, "%s.%d.ln_2.weight", p, l);
  g_autofree double *ln2_b = tensorf (hn, "%s.%d.ln_2.bias", p, l);
  g_autofree double *in_w = tensorf (hn, "%s.%d.attn.in_proj_weight", p, l);
  g_autofree double *in_b = tensorf (hn, "%s.%d.attn.in_proj_bias", p, l);
  g_autofree double *out_w = tensorf (hn, "%s.%d.attn.out_proj.weight", p, l);
  g_autofree double *out_b = tensorf (hn, "%s.%d.attn.out_proj.bias", p, l);
  g_autofree double *fc_w = tensorf (hn, "%s.%d.mlp.c_fc.weight", p, l);
  g_autofree double *fc_b = tensorf (hn, "%s.%d.mlp.c_fc.bias", p, l);
  g_autofree double *proj_w = tensorf (hn, "%s.%d.mlp.c_proj.weight", p, l);
  g_autofree double *proj_b = tensorf (hn, "%s.%d.mlp.c_proj.bias", p, l);
  g_autofree double *a = g_new (double, (gsize) rows * 4 * w);
  g_autofree double *qkv = g_new (double, (gsize) rows * 3 * w);
  g_autofree double *o = g_new (double, (gsize) rows * w);
  g_autofree double *t = g_new (double, (gsize) rows * 4 * w);
  g_autofree double *s = g_new (double, rows);

  layer_norm (x, rows, w, ln1_w, ln1_b, a);
  linear (a, rows, w, in_w, in_b, 3 * w, qkv);
  for (int j = 0; j < heads; j++)
    for (int i = 0; i < rows; i++)
      {
        const double *q = qkv + (gsize) i * 3 * w + j * h;
        double max = -INFINITY, total = 0.0;

        /* Causal: row i sees rows 0..i. */
        for (int k = 0; k <= i; k++)
          {
            const double *kk = qkv + (gsize) k * 3 * w + w + j * h;
            double dot = 0.0;

            for (int c = 0; c < h; c++)
              dot += q[c] / sqrt ((double) h) * kk[c];
            s[k] = dot;
            max = MAX (max, dot);
          }
        for (int k = 0; k <= i; k++)
          {
            s[k] = exp (s[k] - max);
            total += s[k];
          }
        for (int c = 0; c < h; c++)
          {
            double sum = 0.0;

            for (int k = 0; k <= i; k++)
              sum += s[k] / total * qkv[(gsize) k * 3 * w + 2 * w + j * h + c];
            o[(gsize) i * w + j * h + c] = sum;
          }
      }
  linear (o, rows, w, out_w, out_b, w, a);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += a[i];

  layer_norm (x, rows, w, ln2_w, ln2_b, a);
  linear (a, rows, w, fc_w, fc_b, 4 * w, t);
  for (gsize i = 0; i < (gsize) rows * 4 * w; i++)
    t[i] = t[i] / (1.0 + exp (-1.702 * t[i]));   /* QuickGELU */
  linear (t, rows, 4 * w, proj_w, proj_b, w, a);
  for (gsize i = 0; i < (gsize) rows * w; i++)
    x[i] += a[i];
}

gboolean
hd_text_reference_encode (HdHypernetwork  *hn,
                          const guint32   *ids,
                          guint            n_ids,
                          float           *e,
                          GError         **error)
{
  int w = hn->clip.width, embed = hn->clip.embed_dim;
  g_autofree double *lnf_w = tensor (hn, "clip.ln_final.weight");
  g_autofree double *lnf_b = tensor (hn, "clip.ln_final.bias");
  g_autofree double *proj = tensor (hn, "clip.text_projection");
  g_autofree double *ln = g_new (double, w);
  g_autofree double *yv = g_new0 (double, embed);
  g_autofree double *x = NULL;
  double norm = 0.0;
  guint rows;
  float *x0 = hd_hypernetwork_embed_tokens (hn, ids, n_ids, &rows, error);

  if (x0 == NULL)
    return FALSE;
  x = to_doubles (x0, (gsize) rows * w);
  for (int l = 0; l < hn->clip.layers; l++)
    resblock (hn, l, x, (int) rows);

  layer_norm (x + (gsize) (rows - 1) * w, 1, w, lnf_w, lnf_b, ln);
  for (int j = 0; j < embed; j++)
    for (int c = 0; c < w; c++)
      yv[j] += ln[c] * proj[(gsize) c * embed + j];
  for (int j = 0; j < embed; j++)
    norm += yv[j] * yv[j];
  norm = sqrt (norm);
  for (int j = 0; j < embed; j++)
    e[j] = (float) (yv[j] / norm);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The mapper                                                               */

static void
activate (HdHypernetwork *hn,
          const char     *act_prefix,
          double         *x,
          int             n)
{
  double slope = 0.0;

  switch (hn->mapper.activation)
    {
    case HD_MAPPER_RELU:
      break;
    case HD_MAPPER_LRELU:
      slope = 0.2;
      break;
    case HD_MAPPER_PRELU:
      {
        g_autofree double *a = tensorf (hn, "%s.weight", act_prefix);
        slope = a[0];
      }
      break;
    case HD_MAPPER_ID:
    default:
      return;
    }
  for (int i = 0; i < n; i++)
    x[i] = x[i] >= 0.0 ? x[i] : slope * x[i];
}

static void
batch_norm (HdHypernetwork *hn,
            const char     *prefix,
            double         *x,
            int             n)
{
  g_autofree double *w = tensorf (hn, "%s.weight", prefix);
  g_autofree double *b = tensorf (hn, "%s.bias", prefix);
  g_autofree double *mean = tensorf (hn, "%s.running_mean", prefix);
  g_autofree double *var = tensorf (hn, "%s.running_var", prefix);

  for (int i = 0; i < n; i++)
    x[i] = (x[i] - mean[i]) / sqrt (var[i] + 1e-5) * w[i] + b[i];
}

static void
lin (HdHypernetwork *hn,
     const char     *prefix,
     const double   *x,
     int             in,
     int             out,
     double         *y)
{
  g_autofree double *w = tensorf (hn, "%s.weight", prefix);
  g_autofree double *b = tensorf (hn, "%s.bias", prefix);

  linear (x, 1, in, w, b, out, y);
}

/* DummyResBlock R on X (mapper width). */
static void
res_block (HdHypernetwork *hn,
           const char     *r,
           double         *x)
{
  int width = hn->mapper.width, inner = hn->mapper.inner_features;
  g_autofree double *t = g_new (double, inner);
  g_autofree double *u = g_new (double, width);
  g_autofree char *p0 = g_strdup_printf ("%s.input_block.0", r);
  g_autofree char *p1 = g_strdup_printf ("%s.input_block.1", r);
  g_autofree char *p2 = g_strdup_printf ("%s.input_block.2", r);
  g_autofree char *s0 = g_strdup_printf ("%s.second_block.0", r);
  g_autofree char *s1 = g_strdup_printf ("%s.second_block.1", r);
  g_autofree char *out = g_strdup_printf ("%s.out", r);

  lin (hn, p0, x, width, inner, t);
  batch_norm (hn, p1, t, inner);
  activate (hn, p2, t, inner);
  lin (hn, s0, t, inner, width, u);
  batch_norm (hn, s1, u, width);
  for (int i = 0; i < width; i++)
    x[i] += u[i];
  activate (hn, out, x, width);
}

void
hd_text_reference_map (HdHypernetwork *hn,
                       const float    *e,
                       float          *d)
{
  int width = hn->mapper.width, in = hn->mapper.input_dimension;
  g_autofree double *x0 = g_new (double, in);
  g_autofree double *x = g_new (double, width);
  g_autofree double *t = g_new (double, width);
  gsize offset = 0;

  for (int i = 0; i < in; i++)
    x0[i] = e[i];
  /* BNLinAct: BN (act (Lin (x))). */
  lin (hn, "mapper.backbone.backbone.0.lin", x0, in, width, x);
  activate (hn, "mapper.backbone.backbone.0.act", x, width);
  batch_norm (hn, "mapper.backbone.backbone.0.bn", x, width);
  for (int i = 1; i < hn->mapper.backbone_depth; i++)
    {
      g_autofree char *r = g_strdup_printf ("mapper.backbone.backbone.%d", i);
      res_block (hn, r, x);
    }
  for (int k = 0; k < hn->n_layers; k++)
    {
      g_autofree char *last = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k, hn->mapper.head_depth - 1);
      g_autofree double *dk = g_new (double, hn->layer_c_in[k]);

      memcpy (t, x, sizeof (double) * width);
      for (int j = 0; j < hn->mapper.head_depth - 1; j++)
        {
          g_autofree char *r = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k, j);
          res_block (hn, r, t);
        }
      lin (hn, last, t, width, hn->layer_c_in[k], dk);
      for (int c = 0; c < hn->layer_c_in[k]; c++)
        d[offset + c] = (float) dk[c];
      offset += (gsize) hn->layer_c_in[k];
    }
}
