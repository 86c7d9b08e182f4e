/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-safetensors.h"
#include "hd-vk-compute.h"
#include "../../shaders/hd-push.h"

G_BEGIN_DECLS

/* The transformer stages of CLIP's towers on the compute layer, shared by
 * the text encoder of a hypernetwork (hd-text-gpu.c) and the image tower
 * of a clip file (hd-clip-gpu.c): one set of shaders (text_gemm,
 * text_norm, text_attention) and one way of laying out their weights.
 *
 * Weights: every large matrix transposed to [K][N] in one half-precision
 * buffer, read as R16_SFLOAT texels; vectors (biases, layer norms, small
 * float matrices) in one float buffer.  Activations: one float buffer,
 * regions at offsets the user plans. */

typedef struct _HdTowerGpu HdTowerGpu;

/* The offsets of one residual block's weights (see hd_tower_pack_blocks). */
typedef struct {
  guint32 ln1_w, ln1_b, in_w, in_b, out_w, out_b, ln2_w, ln2_b, fc_w, fc_b, proj_w, proj_b;
} HdTowerBlock;

/* The regions a block works in (floats into the activations). */
typedef struct {
  guint32 x;      /* the residual stream, rows x width */
  guint32 a;      /* a layer norm's output, rows x width */
  guint32 h;      /* the MLP's hidden layer, rows x 4 width */
  guint32 qkv;    /* rows x 3 width */
  guint32 o;      /* the attention's output, rows x width */
} HdTowerRegions;

/* The weights of a tower while they are being packed; the tensors come
 * from ST. */
typedef struct {
  HdSafetensors *st;
  GArray        *halves;   /* guint16 */
  GArray        *floats;   /* float */
  gboolean       f32;      /* hd_tower_pack_blocks's matrices in float (else half) */
} HdTowerPacker;

void     hd_tower_packer_init    (HdTowerPacker *p,
                                  HdSafetensors *st);
void     hd_tower_packer_clear   (HdTowerPacker *p);
/* Matrix NAME [N][K] of the file (or [K][N] already, with AS_IS; a
 * tensor of more than 2 dimensions counts as [N][rest]) laid out as
 * text_gemm reads it, in half precision or, with F32, in float. */
guint32  hd_tower_pack_matrix    (HdTowerPacker *p,
                                  const char    *name,
                                  gboolean       as_is,
                                  gboolean       f32);
/* The same for M, ROWS x COLS floats. */
guint32  hd_tower_pack_array     (HdTowerPacker *p,
                                  const float   *m,
                                  gsize          rows,
                                  gsize          cols,
                                  gboolean       as_is,
                                  gboolean       f32);
guint32  hd_tower_pack_floats    (HdTowerPacker *p,
                                  const float   *values,
                                  gsize          n);
/* The vector named as printf makes it. */
guint32  hd_tower_pack_vector    (HdTowerPacker *p,
                                  const char    *format,
                                  ...) G_GNUC_PRINTF (2, 3);
/* Blocks PREFIX"transformer.resblocks.0 .. LAYERS-1" (a new array). */
HdTowerBlock *hd_tower_pack_blocks (HdTowerPacker *p,
                                    const char    *prefix,
                                    int            layers);

/* The compute layer and kernels on CTX. */
HdTowerGpu *hd_tower_gpu_new       (HdVkContext    *ctx,
                                    GError        **error);
void        hd_tower_gpu_free      (HdTowerGpu     *gpu);
HdCompute  *hd_tower_gpu_get_compute (HdTowerGpu   *gpu);
/* Uploads what P packed, makes an activation buffer of N_ACT floats and
 * a readback buffer of N_READ floats; WHAT names the model in messages. */
gboolean    hd_tower_gpu_upload    (HdTowerGpu     *gpu,
                                    HdTowerPacker  *p,
                                    gsize           n_act,
                                    gsize           n_read,
                                    const char     *what,
                                    GError        **error);
/* The same with a second set of weights P2 (may be NULL), which the
 * kernels read after hd_tower_rec_use_weights (rec, 1): each set may be
 * as large as a texel buffer allows. */
gboolean    hd_tower_gpu_upload_full (HdTowerGpu   *gpu,
                                      HdTowerPacker *p,
                                      HdTowerPacker *p2,
                                      gsize          n_act,
                                      gsize          n_read,
                                      const char    *what,
                                      GError       **error);
HdVkBuffer *hd_tower_gpu_get_activations (HdTowerGpu *gpu);
/* The readback buffer's mapped floats. */
const float *hd_tower_gpu_get_readback   (HdTowerGpu *gpu);

/* Recording: a command buffer and the first failure. */
typedef struct {
  HdTowerGpu      *gpu;
  VkCommandBuffer  cb;
  GError          *error;
  int              weights;   /* the set of weights bound: 0, or 1 (the second) */
} HdTowerRec;

/* Begins recording (timestamp 0 at the top), binds the sets. */
gboolean hd_tower_rec_begin      (HdTowerRec     *rec,
                                  HdTowerGpu     *gpu,
                                  const char     *what,
                                  GError        **error);
/* Copies the first N_READ floats of the activations to the readback
 * buffer, timestamp 2, and ends: the command buffer, or NULL. */
VkCommandBuffer hd_tower_rec_end (HdTowerRec     *rec,
                                  const char     *what,
                                  GError        **error);
/* Binds weight set WHICH (0, or 1: the second of hd_tower_gpu_upload_full)
 * for the dispatches that follow. */
void     hd_tower_rec_use_weights (HdTowerRec    *rec,
                                   int            which);
/* A GEMM push with only a bias as epilogue. */
HdTextGemmPush hd_tower_gemm_push (guint32 m,
                                   guint32 n,
                                   guint32 k,
                                   guint32 x_off,
                                   guint32 y_off,
                                   guint32 w_off,
                                   guint32 bias_off);
/* A linear layer: half-precision weights, or float ones with F32. */
void     hd_tower_dispatch_gemm  (HdTowerRec     *rec,
                                  HdTextGemmPush  push,
                                  gboolean        f32,
                                  const char     *label);
void     hd_tower_dispatch_norm  (HdTowerRec     *rec,
                                  HdTextNormPush  push);
/* Attention over SEQUENCES sequences of PUSH.rows rows each, one after
 * the other in qkv and out. */
void     hd_tower_dispatch_attention (HdTowerRec          *rec,
                                      HdTextAttentionPush  push,
                                      guint32              sequences);
/* KERNEL (made on hd_tower_gpu_get_compute's layer, reading the tower's
 * buffers) with PUSH over GROUPS_X x GROUPS_Y workgroups, then a
 * barrier. */
void     hd_tower_dispatch       (HdTowerRec     *rec,
                                  HdKernel       *kernel,
                                  const void     *push,
                                  gsize           push_size,
                                  guint32         groups_x,
                                  guint32         groups_y,
                                  const char     *label);
/* The LAYERS blocks on M rows of R.x (width W, HEADS heads); CAUSAL: row
 * i attends to rows 0..i only. */
void     hd_tower_record_blocks  (HdTowerRec          *rec,
                                  const HdTowerBlock  *blocks,
                                  int                  layers,
                                  guint32              w,
                                  guint32              heads,
                                  guint32              m,
                                  gboolean             causal,
                                  const HdTowerRegions *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTowerGpu, hd_tower_gpu_free)

G_END_DECLS
