/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's text and image towers as the specs write them, in double
 * precision, forward and (the image tower) backward; every step is the
 * formula of the spec. */
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

/* ------------------------------------------------------------------------ */
/* The transformer block                                                    */

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

/* The weights of block L of the tower whose blocks are
 * PREFIX"transformer.resblocks.L.". */
static void
block_weights (HdSafetensors *st,
               const char    *prefix,
               int            l,
               BlockWeights  *bw)
{
  g_autofree char *p = g_strdup_printf ("%stransformer.resblocks", prefix);

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

/* X (rows x w) through one residual attention block (spec/text-domains.md
 * §3), in place, recording K for block_backward; CAUSAL: row i attends to
 * rows 0..i only (the text tower). */
static void
block_forward (const BlockWeights *bw,
               int                 w,
               int                 heads,
               gboolean            causal,
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
        int last = causal ? i : rows - 1;
        double max = -INFINITY, total = 0.0;

        for (int t = 0; t < rows; t++)
          pr[t] = 0.0;
        for (int t = 0; t <= last; t++)
          {
            double dot = 0.0;
            for (int c = 0; c < h; c++)
              dot += k->qkv[(gsize) i * 3 * w + j * h + c] / sqrt ((double) h) *
                     k->qkv[(gsize) t * 3 * w + w + j * h + c];
            pr[t] = dot;
            max = MAX (max, dot);
          }
        for (int t = 0; t <= last; t++)
          {
            pr[t] = exp (pr[t] - max);
            total += pr[t];
          }
        for (int t = 0; t <= last; t++)
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

/* G (rows x w): the gradient of the block's output in, of its input out
 * (the probabilities K recorded are 0 where a causal row cannot look, so
 * the same code serves both kinds). */
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

/* LN (LN_PREFIX) of the row X, projected by PROJ ([w, embed]) into Y
 * (not normalised). */
static void
ln_project (HdSafetensors *st,
            const double  *x,
            int            w,
            const char    *ln_prefix,
            const char    *proj_name,
            int            embed,
            double        *y)
{
  g_autofree double *ln_w = tensorf (st, "%s.weight", ln_prefix);
  g_autofree double *ln_b = tensorf (st, "%s.bias", ln_prefix);
  g_autofree double *proj = tensorf (st, "%s", proj_name);
  g_autofree double *ln = g_new (double, w);
  double mean, rstd;

  ln_forward (x, 1, w, ln_w, ln_b, &mean, &rstd, ln);
  memset (y, 0, sizeof (double) * embed);
  for (int j = 0; j < embed; j++)
    for (int c = 0; c < w; c++)
      y[j] += ln[c] * proj[(gsize) c * embed + j];
}

/* ------------------------------------------------------------------------ */
/* The text tower                                                           */

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
  g_autofree double *y = g_new (double, c->embed_dim);
  double norm = 0.0;
  guint rows;
  float *x0 = hd_clip_text_embed_tokens (text, ids, n_ids, &rows, error);

  if (x0 == NULL)
    return FALSE;
  x = hd_reference_to_doubles (x0, (gsize) rows * c->width);
  for (int l = 0; l < c->layers; l++)
    {
      BlockWeights bw;
      Block k = { 0 };

      block_weights (text->st, text->prefix, l, &bw);
      block_forward (&bw, c->width, c->heads, TRUE, x, (int) rows, &k);
      block_clear (&k);
      block_weights_clear (&bw);
    }
  /* The row of the first EOT, the last one computed. */
  ln_project (text->st, x + (gsize) (rows - 1) * c->width, c->width, lnf, proj, c->embed_dim, y);
  for (int j = 0; j < c->embed_dim; j++)
    norm += y[j] * y[j];
  norm = sqrt (norm);
  for (int j = 0; j < c->embed_dim; j++)
    e[j] = (float) (y[j] / norm);
  return TRUE;
}

gboolean
hd_clip_reference_encode_func (const guint32  *ids,
                               guint           n_ids,
                               float          *e,
                               gpointer        clip,
                               GError        **error)
{
  return hd_clip_reference_encode_text (&((HdClip *) clip)->text, ids, n_ids, e, error);
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

const double hd_clip_image_mean[3] = { 0.48145466, 0.4578275, 0.40821073 };
const double hd_clip_image_std[3] = { 0.26862954, 0.26130258, 0.27577711 };
#define clip_mean hd_clip_image_mean
#define clip_std hd_clip_image_std

/* §2.1 on one channel C: X (r x r) to Y (n x n) through M (n x r, NULL
 * when r = n); or, with TRANSPOSE, the gradient of Y back to X. */
static void
preprocess_channel (const double *x,
                    int           r,
                    int           n,
                    const double *m,
                    int           c,
                    double       *y,
                    gboolean      transpose)
{
  g_autofree double *tmp = NULL;

  if (m == NULL)
    {
      for (gsize i = 0; i < (gsize) n * n; i++)
        y[i] = transpose ? x[i] / clip_std[c] * 0.5
                         : ((x[i] + 1.0) / 2.0 - clip_mean[c]) / clip_std[c];
      return;
    }
  tmp = g_new (double, (gsize) r * n);
  if (!transpose)
    {
      /* Columns first: tmp[h][q] = Σ_w x[h][w] M[q][w]; y = M tmp. */
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
            y[(gsize) o * n + q] = (sum - clip_mean[c]) / clip_std[c];
          }
      return;
    }
  /* X = 0.5 Mᵀ (Y / σ) M, Y n x n, X r x r: tmp[o][w] = Σ_q y[o][q] M[q][w]. */
  for (int o = 0; o < n; o++)
    for (int w = 0; w < r; w++)
      {
        double sum = 0.0;
        for (int q = 0; q < n; q++)
          sum += x[(gsize) o * n + q] * m[(gsize) q * r + w];
        tmp[(gsize) o * r + w] = sum;
      }
  for (int h = 0; h < r; h++)
    for (int w = 0; w < r; w++)
      {
        double sum = 0.0;
        for (int o = 0; o < n; o++)
          sum += m[(gsize) o * r + h] * tmp[(gsize) o * r + w];
        y[(gsize) h * r + w] = sum / clip_std[c] * 0.5;
      }
}

/* The three channels of X (r x r, or n x n with TRANSPOSE) into Y. */
static void
preprocess_channels (const double *x,
                     int           r,
                     int           n,
                     const double *m,
                     double       *y,
                     gboolean      transpose)
{
  gsize from = (gsize) (transpose ? n : r), to = (gsize) (transpose ? r : n);

  for (int c = 0; c < 3; c++)
    preprocess_channel (x + c * from * from, r, n, m, c, y + c * to * to, transpose);
}

void
hd_clip_preprocess_image (const double *img,
                          int           r,
                          int           n,
                          const double *m,
                          double       *pre)
{
  preprocess_channels (img, r, n, m, pre, FALSE);
}

void
hd_clip_preprocess_grad (const double *g_pre,
                         int           r,
                         int           n,
                         const double *m,
                         double       *g_img)
{
  preprocess_channels (g_pre, r, n, m, g_img, TRUE);
}

void
hd_clip_reference_preprocess (const float *img,
                              int          r,
                              int          n,
                              float       *out)
{
  g_autofree double *m = NULL;
  g_autofree double *x = g_new (double, (gsize) r * r);
  g_autofree double *y = g_new (double, (gsize) n * n);

  if (r != n)
    {
      m = g_new (double, (gsize) n * r);
      hd_clip_resize_matrix (n, r, m);
    }
  for (int c = 0; c < 3; c++)
    {
      for (gsize i = 0; i < (gsize) r * r; i++)
        x[i] = img[(gsize) c * r * r + i];
      preprocess_channel (x, r, n, m, c, y, FALSE);
      for (gsize i = 0; i < (gsize) n * n; i++)
        out[(gsize) c * n * n + i] = (float) y[i];
    }
}

struct _HdClipImageTower {
  HdClip       *clip;
  int           r;
  BlockWeights *blocks;
  double       *conv, *cls, *pos, *pre_w, *pre_b, *post_w, *post_b, *proj;
  double       *m;            /* the n x r resize matrix, or NULL when r = n */
};

HdClipImageTower *
hd_clip_image_tower_new (HdClip *clip,
                         int     r)
{
  HdClipImageTower *t = g_new0 (HdClipImageTower, 1);
  HdSafetensors *st = clip->st;
  int n = clip->vision.resolution;

  t->clip = hd_clip_ref (clip);
  t->r = r;
  t->blocks = g_new0 (BlockWeights, MAX (clip->vision.layers, 1));
  for (int l = 0; l < clip->vision.layers; l++)
    block_weights (st, "visual.", l, &t->blocks[l]);
  t->conv = tensorf (st, "visual.conv1.weight");
  t->cls = tensorf (st, "visual.class_embedding");
  t->pos = tensorf (st, "visual.positional_embedding");
  t->pre_w = tensorf (st, "visual.ln_pre.weight");
  t->pre_b = tensorf (st, "visual.ln_pre.bias");
  t->post_w = tensorf (st, "visual.ln_post.weight");
  t->post_b = tensorf (st, "visual.ln_post.bias");
  t->proj = tensorf (st, "visual.proj");
  if (r != n)
    {
      t->m = g_new (double, (gsize) n * r);
      hd_clip_resize_matrix (n, r, t->m);
    }
  return t;
}

gsize
hd_clip_image_tower_image_size (HdClipImageTower *t)
{
  return (gsize) 3 * t->r * t->r;
}

void
hd_clip_image_tower_free (HdClipImageTower *t)
{
  if (t == NULL)
    return;
  for (int l = 0; l < t->clip->vision.layers; l++)
    block_weights_clear (&t->blocks[l]);
  g_free (t->blocks);
  g_free (t->conv);
  g_free (t->cls);
  g_free (t->pos);
  g_free (t->pre_w);
  g_free (t->pre_b);
  g_free (t->post_w);
  g_free (t->post_b);
  g_free (t->proj);
  g_free (t->m);
  hd_clip_unref (t->clip);
  g_free (t);
}

/* ê of the preprocessed PRE (3 x n x n); with GRAD (may be NULL), which
 * gives the gradient of a loss with respect to ê from ê, the gradient
 * with respect to PRE into G_PRE, from the same forward pass. */
static void
tower_run_pre (HdClipImageTower *t,
               const double     *pre,
               double           *e,
               HdClipImageGradFunc grad,
               gpointer          grad_data,
               double           *g_pre)
{
  const HdClipVisionConfig *v = &t->clip->vision;
  int W = v->width, p = v->patch, g = v->grid, n = v->resolution, rows = g * g + 1, E = v->embed_dim;
  g_autofree double *tok = g_new (double, (gsize) rows * W);
  g_autofree double *x = g_new (double, (gsize) rows * W);
  g_autofree double *pre_mean = g_new (double, rows), *pre_rstd = g_new (double, rows);
  g_autofree Block *blocks = g_new0 (Block, MAX (v->layers, 1));
  g_autofree double *y = g_new (double, E);
  g_autofree double *ln = g_new (double, W);
  double norm = 0.0, post_mean, post_rstd;

  /* Token 0: the class embedding; token 1 + a g + b: patch (a, b). */
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
    block_forward (&t->blocks[l], W, v->heads, FALSE, x, rows, &blocks[l]);
  /* ln_post of the class token, the projection, the unit norm. */
  ln_forward (x, 1, W, t->post_w, t->post_b, &post_mean, &post_rstd, ln);
  memset (y, 0, sizeof (double) * E);
  for (int j = 0; j < E; j++)
    for (int c = 0; c < W; c++)
      y[j] += ln[c] * t->proj[(gsize) c * E + j];
  for (int j = 0; j < E; j++)
    norm += y[j] * y[j];
  norm = sqrt (norm);
  for (int j = 0; j < E; j++)
    e[j] = y[j] / norm;

  if (grad != NULL)
    {
      g_autofree double *g_e = g_new (double, E);
      g_autofree double *g_y = g_new (double, E);
      g_autofree double *g_ln = g_new0 (double, W);
      g_autofree double *g_x = g_new0 (double, (gsize) rows * W);
      g_autofree double *g_tok = g_new (double, (gsize) rows * W);
      double dot = 0.0;

      grad (e, g_e, grad_data);
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
      memset (g_pre, 0, sizeof (double) * 3 * n * n);
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
    }
  for (int l = 0; l < v->layers; l++)
    block_clear (&blocks[l]);
}

void
hd_clip_image_tower_run_grad (HdClipImageTower    *t,
                              const double        *img,
                              double              *e,
                              HdClipImageGradFunc  grad,
                              gpointer             grad_data,
                              double              *g_img)
{
  int r = t->r, n = t->clip->vision.resolution;
  g_autofree double *pre = g_new (double, (gsize) 3 * n * n);
  g_autofree double *g_pre = grad != NULL ? g_new (double, (gsize) 3 * n * n) : NULL;

  hd_clip_preprocess_image (img, r, n, t->m, pre);
  tower_run_pre (t, pre, e, grad, grad_data, g_pre);
  if (grad != NULL)
    hd_clip_preprocess_grad (g_pre, r, n, t->m, g_img);
}

typedef struct {
  const double *g_e;
  int           n;
} GivenGradient;

static void
copy_gradient (const double *e,
               double       *g_e,
               gpointer      data)
{
  const GivenGradient *given = data;

  memcpy (g_e, given->g_e, sizeof (double) * given->n);
}

void
hd_clip_image_tower_run (HdClipImageTower *t,
                         const double     *img,
                         double           *e,
                         const double     *g_e,
                         double           *g_img)
{
  GivenGradient given = { g_e, t->clip->vision.embed_dim };

  hd_clip_image_tower_run_grad (t, img, e, g_e != NULL ? copy_gradient : NULL, &given, g_img);
}

void
hd_clip_reference_encode_image (HdClip      *clip,
                                const float *pre,
                                float       *e)
{
  int n = clip->vision.resolution, E = clip->config.embed_dim;
  HdClipImageTower *t = hd_clip_image_tower_new (clip, n);
  g_autofree double *x = g_new (double, (gsize) 3 * n * n);
  g_autofree double *ed = g_new (double, E);

  for (gsize i = 0; i < (gsize) 3 * n * n; i++)
    x[i] = pre[i];
  tower_run_pre (t, x, ed, NULL, NULL, NULL);
  for (int j = 0; j < E; j++)
    e[j] = (float) ed[j];
  hd_clip_image_tower_free (t);
}
