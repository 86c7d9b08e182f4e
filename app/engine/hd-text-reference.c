/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text encoder and the mapper, as spec/text-domains.md §3–§4 write
 * them, in double precision; every step is the formula of the spec. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-clip-reference.h"
#include "hd-text-reference.h"

/* The tensor named as printf makes it, as doubles. */
#define tensorf(hn, ...) \
  ({ gsize n_; float *f_ = hd_hypernetwork_get_f32_printf ((hn), &n_, __VA_ARGS__); hd_reference_to_doubles (f_, n_); })

gboolean
hd_text_reference_encode (HdHypernetwork  *hn,
                          const guint32   *ids,
                          guint            n_ids,
                          float           *e,
                          GError         **error)
{
  return hd_clip_reference_encode_text (&hn->text, ids, n_ids, e, error);
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

  hd_reference_linear (x, 1, in, w, b, out, y);
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
