/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The mapping stage of the renderer: z -> mapping network -> truncation
 * (or an uploaded w -> truncation), then the styles of every layer and
 * the demodulation coefficients of every conv, all for the whole frame
 * and cached between frames by the renderer.
 *
 * On CPU devices (when a conv family reads through texel buffers) the
 * mapping, styles and dcoef kernels read their large operands through
 * texel buffers too (the _cpu variants, set 1; see map_fc.comp). */
#include "hd-renderer-private.h"

#include <math.h>

/* The mapping network: W^T · lr / sqrt(in) ([in][out], so neighbouring
 * invocations read neighbouring floats), b · lr, then w_avg. */
static gboolean
upload_mapping_network (HdRenderer  *r,
                        GError     **error)
{
  HdGenerator *gen = r->gen;
  HdMappingGpu *m = &r->mapping;
  int layers = gen->config.mapping_layers;
  double lr = gen->config.lr_multiplier;
  HdPack pack;

  hd_pack_init (&pack);
  m->weight_off = g_new0 (guint32, layers);
  m->bias_off = g_new0 (guint32, layers);
  for (int l = 0; l < layers; l++)
    {
      const HdMappingLayer *layer = &gen->mapping[l];
      double gain = lr / sqrt ((double) layer->in_features);
      float *w;

      m->weight_off[l] = hd_pack_reserve (&pack, (gsize) layer->in_features * layer->out_features);
      w = hd_pack_at (&pack, m->weight_off[l]);
      for (int o = 0; o < layer->out_features; o++)
        for (int i = 0; i < layer->in_features; i++)
          w[(gsize) i * layer->out_features + o] =
            (float) (layer->weight[(gsize) o * layer->in_features + i] * gain);
      m->bias_off[l] = hd_pack_reserve (&pack, layer->out_features);
      for (int o = 0; o < layer->out_features; o++)
        hd_pack_at (&pack, m->bias_off[l])[o] = (float) (layer->bias[o] * lr);
    }
  m->w_avg_off = hd_pack_append (&pack, gen->w_avg, gen->config.w_dim);

  r->mapping_buf = hd_compute_buffer_upload (r->compute, MEM_MAPPING, "The mapping network",
                                             hd_pack_at (&pack, 0), pack.data->len, error);
  g_array_unref (pack.data);
  return r->mapping_buf != NULL;
}

/* Σ_k W[o,i,k]² in double, stored [c_in][c_out] per conv (offsets in
 * WSQ_OFF). */
static void
pack_demodulation_tables (HdGenerator *gen,
                          HdPack      *wsq,
                          guint32     *wsq_off)
{
  hd_pack_init (wsq);
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      float *dst;

      wsq_off[c] = hd_pack_reserve (wsq, (gsize) conv->c_in * conv->c_out);
      dst = hd_pack_at (wsq, wsq_off[c]);
      for (int o = 0; o < conv->c_out; o++)
        for (int i = 0; i < conv->c_in; i++)
          {
            const float *w = conv->weight + ((gsize) o * conv->c_in + i) * 9;
            double sum = 0.0;
            for (int k = 0; k < 9; k++)
              sum += (double) w[k] * w[k];
            dst[(gsize) i * conv->c_out + o] = (float) sum;
          }
    }
}

/* Affine layers of every conv and ToRGB (styles), and the demodulation
 * tables.  Style rows: the convs' inputs in conv order (so row j of a
 * conv's styles is entry j of the flat domain vector), then ToRGB. */
static gboolean
upload_styles (HdRenderer  *r,
               GError     **error)
{
  HdGenerator *gen = r->gen;
  HdMappingGpu *m = &r->mapping;
  int w_dim = gen->config.w_dim;
  double affine_gain = 1.0 / sqrt ((double) w_dim);
  guint32 rows = 0, dcoef_rows = 0, row, drow;
  guint32 *rgb_row = g_new0 (guint32, gen->n_rgbs);
  guint32 *wsq_off = g_new0 (guint32, gen->n_convs);
  HdPack affine, wsq;

  for (int c = 0; c < gen->n_convs; c++)
    {
      g_assert ((guint32) gen->convs[c].domain_offset == rows);
      r->convs[c].push.scale_off = rows;
      r->convs[c].push.dcoef_off = dcoef_rows;
      rows += gen->convs[c].c_in;
      dcoef_rows += gen->convs[c].c_out;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      rgb_row[b] = rows;
      rows += gen->rgbs[b].c_in;
    }
  r->style_rows = rows;
  r->dcoef_rows = dcoef_rows;

  hd_pack_init (&affine);
  m->affine_weight_off = hd_pack_reserve (&affine, (gsize) w_dim * rows);
  m->affine_bias_off = hd_pack_reserve (&affine, rows);
  m->affine_windex_off = hd_pack_reserve (&affine, rows);
  m->affine_meta_off = hd_pack_reserve (&affine, (gsize) 4 * dcoef_rows);

  row = 0;
  for (int k = 0; k < gen->n_convs + gen->n_rgbs; k++)
    {
      gboolean is_conv = k < gen->n_convs;
      const HdConvLayer *conv = is_conv ? &gen->convs[k] : NULL;
      const HdRgbLayer *rgb = is_conv ? NULL : &gen->rgbs[k - gen->n_convs];
      int c_in = is_conv ? conv->c_in : rgb->c_in;
      const float *a_w = is_conv ? conv->affine_weight : rgb->affine_weight;
      const float *a_b = is_conv ? conv->affine_bias : rgb->affine_bias;
      /* ToRGB folds its 1/sqrt(C_in) weight gain into the style. */
      double extra = is_conv ? 1.0 : 1.0 / sqrt ((double) c_in);
      guint32 w_index = is_conv ? conv->w_index : rgb->w_index;
      float *weights = hd_pack_at (&affine, m->affine_weight_off);

      for (int i = 0; i < c_in; i++, row++)
        {
          for (int j = 0; j < w_dim; j++)
            weights[(gsize) j * rows + row] =
              (float) (a_w[(gsize) i * w_dim + j] * affine_gain * extra);
          hd_pack_at (&affine, m->affine_bias_off)[row] = (float) (a_b[i] * extra);
          hd_pack_set_uint (&affine, m->affine_windex_off + row, w_index);
        }
    }

  pack_demodulation_tables (gen, &wsq, wsq_off);
  drow = 0;
  for (int c = 0; c < gen->n_convs; c++)
    for (int o = 0; o < gen->convs[c].c_out; o++, drow++)
      {
        guint32 meta = m->affine_meta_off + 4 * drow;
        hd_pack_set_uint (&affine, meta + 0, wsq_off[c] + o);
        hd_pack_set_uint (&affine, meta + 1, gen->convs[c].c_out);
        hd_pack_set_uint (&affine, meta + 2, gen->convs[c].c_in);
        hd_pack_set_uint (&affine, meta + 3, r->convs[c].push.scale_off);
      }

  for (int b = 0; b < gen->n_rgbs; b++)
    r->rgbs[b].push.style_off = rgb_row[b];

  r->affine_buf = hd_compute_buffer_upload (r->compute, MEM_AFFINE, "The affine layers",
                                            hd_pack_at (&affine, 0), affine.data->len, error);
  if (r->affine_buf != NULL)
    {
      if (wsq.data->len == 0)
        hd_pack_reserve (&wsq, 1);
      r->wsq_buf = hd_compute_buffer_upload (r->compute, MEM_DEMOD_TABLES, "The demodulation tables",
                                             hd_pack_at (&wsq, 0), wsq.data->len, error);
    }
  g_array_unref (affine.data);
  g_array_unref (wsq.data);
  g_free (rgb_row);
  g_free (wsq_off);
  return r->wsq_buf != NULL;
}

gboolean
hd_mapping_upload (HdRenderer  *r,
                   GError     **error)
{
  return upload_mapping_network (r, error) && upload_styles (r, error);
}

/* Set 1 of map_fc, styles and dcoef read through texels: the mapping,
 * latent, affine, wsq and styles buffers.  Left out (the storage-buffer
 * kernels run instead) when a buffer is larger than a texel buffer may
 * be on this device. */
static gboolean
create_texel_set (HdRenderer  *r,
                  GError     **error)
{
  const HdVkBuffer *bufs[HD_COMPUTE_TEXEL_BINDINGS] = {
    r->mapping_buf, r->latent_buf, r->affine_buf, r->wsq_buf, r->styles_buf,
  };
  VkBufferView views[HD_COMPUTE_TEXEL_BINDINGS];
  gsize limit = hd_compute_max_texels (r->compute);

  for (guint b = 0; b < HD_COMPUTE_TEXEL_BINDINGS; b++)
    if (bufs[b]->size / sizeof (float) > limit)
      {
        g_debug ("Mapping and styles read through storage buffers: a buffer of %" G_GSIZE_FORMAT
                 " floats exceeds the texel buffer limit of %" G_GSIZE_FORMAT,
                 (gsize) (bufs[b]->size / sizeof (float)), limit);
        return TRUE;
      }
  for (guint b = 0; b < HD_COMPUTE_TEXEL_BINDINGS; b++)
    if ((views[b] = hd_compute_texel_view (r->compute, bufs[b], VK_FORMAT_R32_SFLOAT, error)) == VK_NULL_HANDLE)
      return FALSE;
  r->mapping.texel_set = hd_compute_texel_set (r->compute, views, error);
  return r->mapping.texel_set != VK_NULL_HANDLE;
}

static HdKernel *
mapping_kernel (HdRenderer  *r,
                const char  *shader,
                GError     **error)
{
  HdKernelInfo info = { .shader = shader };

  return hd_compute_kernel (r->compute, &info, error);
}

gboolean
hd_mapping_prepare (HdRenderer  *r,
                    gboolean     texel,
                    GError     **error)
{
  HdMappingGpu *m = &r->mapping;

  if (texel && !create_texel_set (r, error))
    return FALSE;
  texel = m->texel_set != VK_NULL_HANDLE;
  if ((m->norm = mapping_kernel (r, "map_norm", error)) == NULL ||
      (m->fc = mapping_kernel (r, texel ? "map_fc_cpu" : "map_fc", error)) == NULL ||
      (m->truncate = mapping_kernel (r, "map_truncate", error)) == NULL ||
      (m->styles = mapping_kernel (r, texel ? "styles_cpu" : "styles", error)) == NULL ||
      (m->dcoef = mapping_kernel (r, texel ? "dcoef_cpu" : "dcoef", error)) == NULL)
    return FALSE;

  return (m->norm_set = HD_RENDERER_SET (r, error, r->frame_buf, r->latent_buf)) &&
         (m->fc_set = HD_RENDERER_SET (r, error, r->mapping_buf, r->latent_buf)) &&
         (m->truncate_set = HD_RENDERER_SET (r, error, r->frame_buf, r->latent_buf, r->mapping_buf)) &&
         (m->styles_set = HD_RENDERER_SET (r, error, r->affine_buf, r->latent_buf, r->styles_buf)) &&
         (m->dcoef_set = HD_RENDERER_SET (r, error, r->affine_buf, r->wsq_buf, r->styles_buf,
                                          r->dcoef_buf));
}

void
hd_mapping_record (HdRenderer      *r,
                   VkCommandBuffer  cb,
                   gboolean         from_z)
{
  HdGenerator *gen = r->gen;
  const HdGeneratorConfig *config = &gen->config;
  HdMappingGpu *m = &r->mapping;
  HdCompute *c = r->compute;
  HdTruncatePush truncate = {
    .w_dim = config->w_dim,
    .num_ws = gen->num_ws,
    .avg_off = m->w_avg_off,
    .ws_off = r->latent_ws,
    .style_off = r->frame_style,
  };
  HdStylesPush styles = {
    .rows = r->style_rows,
    .w_dim = config->w_dim,
    .weight_off = m->affine_weight_off,
    .bias_off = m->affine_bias_off,
    .windex_off = m->affine_windex_off,
    .ws_off = r->latent_ws,
  };
  HdDcoefPush dcoef = {
    .rows = r->dcoef_rows,
    .meta_off = m->affine_meta_off,
  };

  if (m->texel_set != VK_NULL_HANDLE)
    hd_compute_bind_texel_set (c, cb, m->texel_set);
  if (from_z)
    {
      HdMapNormPush norm = {
        .z_dim = config->z_dim,
        .z_off = r->frame_z,
        .out_off = r->latent_x[0],
      };
      int cur = 0;

      hd_compute_dispatch (c, cb, m->norm, m->norm_set, &norm, sizeof norm, 1, 1, 1, "mapping");
      hd_compute_barrier (cb);
      for (int l = 0; l < config->mapping_layers; l++)
        {
          HdMapFcPush fc = {
            .in_features = gen->mapping[l].in_features,
            .out_features = gen->mapping[l].out_features,
            .weight_off = m->weight_off[l],
            .bias_off = m->bias_off[l],
            .in_off = r->latent_x[cur],
            .out_off = r->latent_x[1 - cur],
          };
          hd_compute_dispatch (c, cb, m->fc, m->fc_set, &fc, sizeof fc,
                               hd_compute_groups (fc.out_features, 64), 1, 1, "mapping");
          hd_compute_barrier (cb);
          cur = 1 - cur;
        }
      truncate.from_frame = 0;
      truncate.src_off = r->latent_x[cur];
      truncate.src_stride = 0;
    }
  else
    {
      truncate.from_frame = 1;
      truncate.src_off = r->frame_w;
      truncate.src_stride = config->w_dim;
    }
  hd_compute_dispatch (c, cb, m->truncate, m->truncate_set, &truncate, sizeof truncate,
                       hd_compute_groups ((gsize) gen->num_ws * config->w_dim, 64), 1, 1, "mapping");
  hd_compute_barrier (cb);
  hd_compute_dispatch (c, cb, m->styles, m->styles_set, &styles, sizeof styles,
                       hd_compute_groups (r->style_rows, 64), 1, 1, "all layers");
  hd_compute_barrier (cb);
  hd_compute_dispatch (c, cb, m->dcoef, m->dcoef_set, &dcoef, sizeof dcoef,
                       hd_compute_groups (r->dcoef_rows, 64), 1, 1, "all convs");
  hd_compute_barrier (cb);
}

void
hd_mapping_free (HdRenderer *r)
{
  g_clear_pointer (&r->mapping.weight_off, g_free);
  g_clear_pointer (&r->mapping.bias_off, g_free);
}
