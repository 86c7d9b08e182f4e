/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the renderer's files share: the renderer object, the per-layer
 * GPU state and the interface of a conv family.  Not for use outside
 * hd-renderer*.c and hd-conv*.c. */
#pragma once

#include <string.h>

#include "hd-renderer.h"
#include "hd-vk-compute.h"
#include "../../shaders/hd-push.h"

G_BEGIN_DECLS

/* Memory report kinds (hd_compute_buffer). */
#define MEM_CONV_WEIGHTS "conv weights (re-laid out)"
#define MEM_AFFINE       "affine layers (styles)"
#define MEM_DEMOD_TABLES "demodulation tables"
#define MEM_MAPPING      "mapping network"
#define MEM_MISC         "biases, ToRGB weights, const input"
#define MEM_NOISE        "noise images"
#define MEM_ACTIVATIONS  "activations"
#define MEM_IMAGES       "RGB images (skip path)"
#define MEM_READBACK     "readback"
#define MEM_FRAME        "frame, latents, styles, dcoef, scales"

typedef struct _HdConvFamily HdConvFamily;

/* One conv layer on the device. */
typedef struct {
  const HdConvFamily *family;    /* chosen by hd_conv_choose_family */
  HdKernel        *kernel;
  HdVkBuffer      *weights;      /* see hd_conv_upload_weights */
  VkDescriptorSet  set;
  VkDescriptorSet  texel_set;    /* set 1, or VK_NULL_HANDLE */
  HdConvPush       push;         /* noise_on / noise_off set when recording */
  guint32          noise_base;   /* this conv's image in the noise layout */
  guint32          groups[3];
  guint32          tile_rows;    /* output rows per workgroup along y */

  /* The weight layout (set by the family's prepare): blocks of GROUP
   * output channels, input channels in packs of CI_PACK (zero-padded),
   * and the up conv as polyphase virtual channels or as written. */
  guint32          group;
  guint32          ci_pack;
  gboolean         polyphase;
} HdConvGpu;

typedef struct {
  VkDescriptorSet  set;
  HdTorgbPush      push;
  guint32          groups[3];
  int              img;          /* which image buffer it writes */
} HdRgbGpu;

/* The mapping network, styles and demodulation coefficients. */
typedef struct {
  HdKernel        *norm, *fc, *truncate, *styles, *dcoef;
  VkDescriptorSet  norm_set, fc_set, truncate_set, styles_set, dcoef_set;
  VkDescriptorSet  texel_set;    /* set 1 of the texel variants, or NULL */
  guint32         *weight_off, *bias_off;   /* per mapping layer */
  guint32          w_avg_off;
  guint32          affine_weight_off, affine_bias_off, affine_windex_off, affine_meta_off;
} HdMappingGpu;

/* The recorded submissions of one frame variant. */
typedef struct {
  guint            n_pieces;
  VkCommandBuffer *pieces;
  double          *done;   /* share of the convolution work after each */
  GPtrArray       *profile_labels;
} HdFrameCommands;

struct _HdRenderer {
  HdVkContext          *ctx;
  HdGenerator          *gen;
  HdCompute            *compute;
  HdRendererOptions     options;

  HdMappingGpu          mapping;
  HdConvGpu            *convs;
  HdRgbGpu             *rgbs;
  HdKernel             *scales_kernel, *torgb_kernel;
  VkDescriptorSet       scales_set;

  HdFrameCommands      *commands;          /* lazily recorded variants */
  guint                 n_commands;
  double                min_piece_macs;

  /* Constant data, uploaded once. */
  HdVkBuffer           *mapping_buf;   /* W_l^T g, b_l lr, w_avg */
  HdVkBuffer           *affine_buf;    /* A^T, a, w indices, dcoef rows */
  HdVkBuffer           *wsq_buf;       /* Σ_k W[o,i,k]², per conv [c_in][c_out] */
  HdVkBuffer           *misc_buf;      /* conv biases, ToRGB weights and biases */
  HdVkBuffer           *const_buf;     /* the constant 4x4 input */
  HdVkBuffer           *noise_buf;     /* [noise images of all convs] */

  /* Per-frame data. */
  HdVkBuffer           *frame_buf;     /* host written: header, z, w, d */
  HdVkBuffer           *latent_buf;    /* x ping-pong, ws */
  HdVkBuffer           *styles_buf;
  HdVkBuffer           *dcoef_buf;
  HdVkBuffer           *scale_buf;
  HdVkBuffer           *act[2];
  HdVkBuffer           *img[2];
  HdVkBuffer           *readback;      /* NULL when img is host-readable */
  gsize                 act_floats[2]; /* sizes of act[], see plan_activations */
  int                   band_rows;     /* rows per band of the last conv, or 0 */

  /* Texel views of the activations, the constant input, the scales and
   * the noise, made by the first conv family that reads through them. */
  gboolean              has_texel_views;
  VkBufferView          act_views[2], act4_views[2], const_view, const4_view;
  VkBufferView          scale_view, noise_view;

  /* Offsets in floats. */
  guint32               latent_x[2], latent_ws;
  guint32               frame_z, frame_w, frame_d;
  guint32               frame_style;   /* α[num_ws], then Σ α S [num_ws][w_dim] */
  guint32               style_rows, dcoef_rows;
  guint32               noise_total;

  /* The mapping cache: what produced the styles now on the device. */
  gboolean              cache_valid;
  HdLatentKind          cache_kind;
  guint32               cache_seed;
  float                *cache_latent;  /* z or w */
  float                 cache_psi;
  int                   cache_cutoff;
  gboolean              cache_style;   /* style latents were mixed in, ... */
  float                *cache_style_mix; /* ... these (frame_style's layout) */

  int                   noise_content; /* what noise_buf holds now */
  guint32               noise_seed;

  HdRenderStats         stats;
};

/* A conv family: one way of running the modulated 3x3 convolutions,
 * with its kernels and weight layout (hd-conv-tiled.c, hd-conv-lanes.c).
 * hd_conv_choose_family picks one per layer from the options, the device
 * and the layer's shape. */
struct _HdConvFamily {
  const char  *name;
  HdConvKernel kernel;
  /* NULL when the family can run on the renderer's device, else why not. */
  const char *(*device_unsupported) (HdRenderer *r);
  /* NULL when it can run conv INDEX, else why not. */
  const char *(*layer_unsupported)  (HdRenderer *r,
                                     int         index);
  /* Sets the weight layout of conv INDEX (before its weights are
   * uploaded); then, with the weights on the device, its kernel,
   * workgroups and tile height. */
  void        (*plan)               (HdRenderer *r,
                                     int         index);
  gboolean    (*prepare)            (HdRenderer *r,
                                     int         index,
                                     GError    **error);
  /* Resources that need the activation buffers (texel sets); may be NULL. */
  gboolean    (*bind)               (HdRenderer *r,
                                     int         index,
                                     GError    **error);
  /* Whether the mapping and styles kernels should read through texel
   * buffers when a layer uses this family. */
  gboolean    texel_mapping;
};

extern const HdConvFamily hd_conv_tiled;
extern const HdConvFamily hd_conv_lanes;

/* hd-conv.c: the choice of family, and what families share. */
gboolean     hd_conv_choose_family   (HdRenderer  *r,
                                      GError     **error);
gsize        hd_conv_weight_floats   (const HdConvLayer *conv,
                                      const HdConvGpu   *gpu);
gboolean     hd_conv_upload_weights  (HdRenderer  *r,
                                      int          index,
                                      GError     **error);
gsize        hd_max_activation_floats (HdGenerator *gen);
/* The input channels as the weights are laid out (padded to CI_PACK). */
static inline int
hd_conv_padded_c_in (const HdConvGpu *gpu,
                     int              c_in)
{
  return (c_in + (int) gpu->ci_pack - 1) / (int) gpu->ci_pack * (int) gpu->ci_pack;
}
/* Virtual output channels: 4 c_out for a polyphase up conv. */
static inline guint32
hd_conv_n_virtual (const HdConvLayer *conv,
                   const HdConvGpu   *gpu)
{
  return gpu->polyphase ? 4 * (guint32) conv->c_out : (guint32) conv->c_out;
}

/* hd-renderer-mapping.c: the mapping network, styles, demodulation. */
gboolean     hd_mapping_upload       (HdRenderer  *r,
                                      GError     **error);
gboolean     hd_mapping_prepare      (HdRenderer  *r,
                                      gboolean     texel,
                                      GError     **error);
void         hd_mapping_record       (HdRenderer      *r,
                                      VkCommandBuffer  cb,
                                      gboolean         from_z);
void         hd_mapping_free         (HdRenderer  *r);

/* A growing float array that hands out offsets (host-side packing of
 * the tensors that share one device buffer). */
typedef struct {
  GArray *data;
} HdPack;

static inline void
hd_pack_init (HdPack *pack)
{
  pack->data = g_array_new (FALSE, TRUE, sizeof (float));
}

static inline guint32
hd_pack_reserve (HdPack *pack,
                 gsize   n)
{
  guint32 offset = pack->data->len;

  g_array_set_size (pack->data, pack->data->len + n);
  return offset;
}

static inline float *
hd_pack_at (HdPack  *pack,
            guint32  offset)
{
  return &g_array_index (pack->data, float, offset);
}

static inline guint32
hd_pack_append (HdPack      *pack,
                const float *values,
                gsize        n)
{
  guint32 offset = hd_pack_reserve (pack, n);

  if (n > 0)
    memcpy (hd_pack_at (pack, offset), values, n * sizeof (float));
  return offset;
}

static inline void
hd_pack_set_uint (HdPack  *pack,
                  guint32  offset,
                  guint32  value)
{
  memcpy (hd_pack_at (pack, offset), &value, sizeof value);
}

/* A storage set of up to HD_COMPUTE_BINDINGS buffers (the frame buffer
 * fills the rest), or VK_NULL_HANDLE with ERROR. */
#define HD_RENDERER_SET(r, error, ...) \
  hd_compute_storage_set ((r)->compute, (const HdVkBuffer *const[HD_COMPUTE_BINDINGS]) { __VA_ARGS__ }, \
                          (r)->frame_buf, error)

G_END_DECLS
