/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Both towers of a clip file on the compute layer: see hd-clip-gpu.h.
 *
 * The image tower: the host cuts the preprocessed image into patches (one
 * row of 3 p² values each, in conv1's weight order) and uploads them with
 * the token rows' starting values (the positional embedding, plus the
 * class embedding in row 0); the patch embedding is one GEMM that adds
 * into rows 1 .. g².  Then ln_pre, the blocks (full attention), ln_post
 * of row 0, the projection and the unit norm.  The text tower: the token
 * rows from the host (hd_clip_text_embed_tokens), the blocks (causal),
 * ln_final of the last row, the projection and the unit norm.  The result
 * e is at offset 0 of the activations, copied back. */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-gpu.h"
#include "hd-error.h"
#include "hd-tower-gpu.h"

struct _HdClipGpu {
  HdClip         *clip;
  HdTowerGpu     *tower;
  HdTowerBlock   *text_blocks, *vision_blocks;
  guint32         lnf_w, lnf_b, text_proj;
  guint32         conv1, cls, pos, pre_w, pre_b, post_w, post_b, proj;
  float          *tokens0;       /* the image token rows' starting values, host side */
  /* Regions (floats): e at 0. */
  guint32         e_off, y_off, t_off, p_off;
  HdTowerRegions  r;
  VkCommandBuffer *text_commands; /* per row count, lazily */
  VkCommandBuffer image_commands;
  gboolean        image;         /* the image tower too (else the text tower only) */
};

static void
plan (HdClipGpu *gpu,
      gsize     *n_floats)
{
  const HdClipConfig *c = &gpu->clip->config;
  const HdClipVisionConfig *v = &gpu->clip->vision;
  gsize rows = MAX ((gsize) c->context_length, (gsize) v->grid * v->grid + 1);
  gsize w = MAX (c->width, v->width);
  guint32 at = 0;

#define REGION(field, n) G_STMT_START { field = at; at += (guint32) (n); } G_STMT_END
  REGION (gpu->e_off, c->embed_dim);
  REGION (gpu->y_off, c->embed_dim);
  REGION (gpu->t_off, rows * w);
  REGION (gpu->p_off, (gsize) v->grid * v->grid * 3 * v->patch * v->patch);
  REGION (gpu->r.x, rows * w);
  REGION (gpu->r.a, rows * w);
  REGION (gpu->r.h, rows * 4 * w);
  REGION (gpu->r.qkv, rows * 3 * w);
  REGION (gpu->r.o, rows * w);
#undef REGION
  *n_floats = at;
}

static gboolean
upload (HdClipGpu  *gpu,
        GError    **error)
{
  HdClip *clip = gpu->clip;
  const HdClipVisionConfig *v = &clip->vision;
  HdTowerPacker p;
  gsize n_act, W = v->width;
  g_autofree float *cls = NULL;
  gboolean ok;

  hd_tower_packer_init (&p, clip->st);
  gpu->text_blocks = hd_tower_pack_blocks (&p, "", clip->config.layers);
  gpu->lnf_w = hd_tower_pack_vector (&p, "ln_final.weight");
  gpu->lnf_b = hd_tower_pack_vector (&p, "ln_final.bias");
  gpu->text_proj = hd_tower_pack_matrix (&p, "text_projection", TRUE, FALSE);
  if (gpu->image)
    {
      gpu->vision_blocks = hd_tower_pack_blocks (&p, "visual.", v->layers);
      gpu->conv1 = hd_tower_pack_matrix (&p, "visual.conv1.weight", FALSE, FALSE);
      gpu->pre_w = hd_tower_pack_vector (&p, "visual.ln_pre.weight");
      gpu->pre_b = hd_tower_pack_vector (&p, "visual.ln_pre.bias");
      gpu->post_w = hd_tower_pack_vector (&p, "visual.ln_post.weight");
      gpu->post_b = hd_tower_pack_vector (&p, "visual.ln_post.bias");
      gpu->proj = hd_tower_pack_matrix (&p, "visual.proj", TRUE, FALSE);

      gpu->tokens0 = hd_clip_get_f32 (clip->st, NULL, "visual.positional_embedding");
      cls = hd_clip_get_f32 (clip->st, NULL, "visual.class_embedding");
      for (gsize i = 0; i < W; i++)
        gpu->tokens0[i] += cls[i];
    }

  plan (gpu, &n_act);
  ok = hd_tower_gpu_upload (gpu->tower, &p, n_act, clip->config.embed_dim, clip->path, error);
  hd_tower_packer_clear (&p);
  return ok;
}

static HdClipGpu *
clip_gpu_new (HdVkContext  *ctx,
              HdClip       *clip,
              gboolean      image,
              GError      **error)
{
  g_autoptr(HdClipGpu) gpu = g_new0 (HdClipGpu, 1);

  g_return_val_if_fail (ctx != NULL && clip != NULL, NULL);

  gpu->clip = hd_clip_ref (clip);
  gpu->image = image;
  gpu->text_commands = g_new0 (VkCommandBuffer, clip->config.context_length + 1);
  gpu->tower = hd_tower_gpu_new (ctx, error);
  if (gpu->tower == NULL || !upload (gpu, error))
    return NULL;
  return g_steal_pointer (&gpu);
}

HdClipGpu *
hd_clip_gpu_new (HdVkContext  *ctx,
                 HdClip       *clip,
                 GError      **error)
{
  return clip_gpu_new (ctx, clip, TRUE, error);
}

HdClipGpu *
hd_clip_gpu_new_text (HdVkContext  *ctx,
                      HdClip       *clip,
                      GError      **error)
{
  return clip_gpu_new (ctx, clip, FALSE, error);
}

void
hd_clip_gpu_free (HdClipGpu *gpu)
{
  if (gpu == NULL)
    return;
  /* The command buffers go with the compute layer's pool. */
  g_clear_pointer (&gpu->tower, hd_tower_gpu_free);
  g_free (gpu->text_commands);
  g_free (gpu->text_blocks);
  g_free (gpu->vision_blocks);
  g_free (gpu->tokens0);
  hd_clip_unref (gpu->clip);
  g_free (gpu);
}

/* LN (LN_W, LN_B) of the row at X_OFF, projected by PROJ ([w, E]), then
 * normalised into e. */
static void
record_projection (HdClipGpu  *gpu,
                   HdTowerRec *rec,
                   guint32     x_off,
                   guint32     w,
                   guint32     ln_w,
                   guint32     ln_b,
                   guint32     proj)
{
  guint32 embed = (guint32) gpu->clip->config.embed_dim;

  hd_tower_dispatch_norm (rec, (HdTextNormPush) { .rows = 1, .n = w, .x_off = x_off, .y_off = gpu->r.a,
                                                  .stride = w, .weight_off = ln_w, .bias_off = ln_b });
  hd_tower_dispatch_gemm (rec, hd_tower_gemm_push (1, embed, w, gpu->r.a, gpu->y_off, proj, HD_TEXT_NONE),
                          FALSE, "projection");
  hd_tower_dispatch_norm (rec, (HdTextNormPush) { .rows = 1, .n = embed, .x_off = gpu->y_off,
                                                  .y_off = gpu->e_off, .stride = 0, .unit = 1 });
}

static VkCommandBuffer
text_commands (HdClipGpu  *gpu,
               guint32     m,
               GError    **error)
{
  const HdClipConfig *c = &gpu->clip->config;
  HdTowerRec rec;

  if (gpu->text_commands[m] != VK_NULL_HANDLE)
    return gpu->text_commands[m];
  if (!hd_tower_rec_begin (&rec, gpu->tower, "Recording the CLIP text tower", error))
    return VK_NULL_HANDLE;
  hd_tower_record_blocks (&rec, gpu->text_blocks, c->layers, (guint32) c->width, (guint32) c->heads,
                          m, TRUE, &gpu->r);
  record_projection (gpu, &rec, gpu->r.x + (m - 1) * (guint32) c->width, (guint32) c->width,
                     gpu->lnf_w, gpu->lnf_b, gpu->text_proj);
  gpu->text_commands[m] = hd_tower_rec_end (&rec, "Recording the CLIP text tower", error);
  return gpu->text_commands[m];
}

static VkCommandBuffer
image_commands (HdClipGpu  *gpu,
                GError    **error)
{
  const HdClipVisionConfig *v = &gpu->clip->vision;
  guint32 W = (guint32) v->width, patches = (guint32) (v->grid * v->grid), rows = patches + 1;
  guint32 k = (guint32) (3 * v->patch * v->patch);
  HdTextGemmPush embed = hd_tower_gemm_push (patches, W, k, gpu->p_off, gpu->t_off + W, gpu->conv1,
                                             HD_TEXT_NONE);
  HdTowerRec rec;

  if (gpu->image_commands != VK_NULL_HANDLE)
    return gpu->image_commands;
  if (!hd_tower_rec_begin (&rec, gpu->tower, "Recording the CLIP image tower", error))
    return VK_NULL_HANDLE;
  embed.res_off = gpu->t_off + W;
  hd_tower_dispatch_gemm (&rec, embed, FALSE, "patches");
  hd_tower_dispatch_norm (&rec, (HdTextNormPush) { .rows = rows, .n = W, .x_off = gpu->t_off,
                                                   .y_off = gpu->r.x, .stride = W,
                                                   .weight_off = gpu->pre_w, .bias_off = gpu->pre_b });
  hd_tower_record_blocks (&rec, gpu->vision_blocks, v->layers, W, (guint32) v->heads, rows, FALSE,
                          &gpu->r);
  record_projection (gpu, &rec, gpu->r.x, W, gpu->post_w, gpu->post_b, gpu->proj);
  gpu->image_commands = hd_tower_rec_end (&rec, "Recording the CLIP image tower", error);
  return gpu->image_commands;
}

static gboolean
run (HdClipGpu        *gpu,
     VkCommandBuffer   cb,
     float            *e,
     GError          **error)
{
  HdCompute *c = hd_tower_gpu_get_compute (gpu->tower);

  if (cb == VK_NULL_HANDLE || !hd_compute_submit (c, cb, error))
    return FALSE;
  memcpy (e, hd_tower_gpu_get_readback (gpu->tower), sizeof (float) * gpu->clip->config.embed_dim);
  return TRUE;
}

gboolean
hd_clip_gpu_encode_image (HdClipGpu    *gpu,
                          const float  *pre,
                          float        *e,
                          GError      **error)
{
  const HdClipVisionConfig *v = &gpu->clip->vision;
  HdCompute *c = hd_tower_gpu_get_compute (gpu->tower);
  HdVkBuffer *act = hd_tower_gpu_get_activations (gpu->tower);
  int p = v->patch, g = v->grid, n = v->resolution, k = 3 * p * p;
  g_autofree float *patches = NULL;
  VkCommandBuffer cb;

  g_return_val_if_fail (gpu->image, FALSE);
  patches = g_new (float, (gsize) g * g * k);
  cb = image_commands (gpu, error);

  /* Patch (a, b) as one row, in conv1's [c][i][j] order. */
  for (int a = 0; a < g; a++)
    for (int b = 0; b < g; b++)
      for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < p; i++)
          memcpy (patches + (gsize) (a * g + b) * k + (ch * p + i) * p,
                  pre + ((gsize) ch * n + a * p + i) * n + b * p, sizeof (float) * p);
  return cb != VK_NULL_HANDLE &&
         hd_compute_upload (c, act, gpu->p_off * sizeof (float), patches,
                            sizeof (float) * g * g * k, error) &&
         hd_compute_upload (c, act, gpu->t_off * sizeof (float), gpu->tokens0,
                            sizeof (float) * (g * g + 1) * v->width, error) &&
         run (gpu, cb, e, error);
}

gboolean
hd_clip_gpu_encode_text (HdClipGpu      *gpu,
                         const guint32  *ids,
                         guint           n_ids,
                         float          *e,
                         GError        **error)
{
  HdCompute *c = hd_tower_gpu_get_compute (gpu->tower);
  guint rows;
  g_autofree float *x = hd_clip_text_embed_tokens (&gpu->clip->text, ids, n_ids, &rows, error);
  VkCommandBuffer cb;

  if (x == NULL)
    return FALSE;
  cb = text_commands (gpu, rows, error);
  return cb != VK_NULL_HANDLE &&
         hd_compute_upload (c, hd_tower_gpu_get_activations (gpu->tower), gpu->r.x * sizeof (float), x,
                            sizeof (float) * rows * gpu->clip->config.width, error) &&
         run (gpu, cb, e, error);
}

gboolean
hd_clip_gpu_encode_func (const guint32  *ids,
                         guint           n_ids,
                         float          *e,
                         gpointer        gpu,
                         GError        **error)
{
  return hd_clip_gpu_encode_text (gpu, ids, n_ids, e, error);
}

guint64
hd_clip_gpu_get_device_bytes (HdClipGpu *gpu)
{
  return hd_compute_get_device_bytes (hd_tower_gpu_get_compute (gpu->tower));
}
