/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's image tower with its backward pass on the compute layer: see
 * hd-clip-train-gpu.h.
 *
 * Layout: every image's tokens are ROWS = g² + 1 rows of width W (row 0
 * the class token), so a pass over N images is one GEMM of N x ROWS rows
 * per linear layer, and attention runs over N sequences.  The patches
 * come from the host as ROWS rows of 3 p² values a image, row 0 zero, so
 * that the patch embedding adds into all rows of the tokens (which start
 * as the class and positional embeddings).  Kept for the backward, per
 * layer l: its input x_l, q k v, the attention's output o_l, the stream
 * after the attention mid_l and the MLP's value before QuickGELU z_l;
 * and the tokens before ln_pre and the last x.
 *
 * The preprocessing (§2.1) is P = M X Mᵀ per channel (M the resampling
 * matrix, whose rows sum to 1; none when the sizes agree), two GEMMs that
 * read their X by columns, then the patches' rows; its normalisation
 * ((P + 1) / 2 − mean) / std = a P + b is folded into the patch embedding
 * (conv1's weights times a per channel, conv1 · b added to the tokens'
 * starting values).
 *
 * The backward of a linear layer Y = X W is dX = dY Wᵀ: text_gemm with a
 * copy of W packed the other way round.  The residual stream's gradient
 * dx accumulates: each layer norm's backward adds its part into it; at
 * the bottom, the patches' gradient goes back to planes and through the
 * resampling (Mᵀ dP M) to the images. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-reference.h"
#include "hd-clip-train-gpu.h"
#include "hd-error.h"
#include "hd-tower-gpu.h"

/* The transposed copies of a block's matrices. */
typedef struct {
  guint32 in_t, out_t, fc_t, proj_t;
} Transposed;

/* Offsets (floats) of the regions of image 0; image i's are i x the
 * per-image size further. */
typedef struct {
  guint32 read;                  /* forward: ê then y; backward: ∂L/∂images */
  guint32 img, planes, u;        /* the images, P (the images when not resampled), M X */
  guint32 patches, t, x, qkv, o, mid, z, a, h;
  guint32 dx, da, dh, dqkv, dout, stats, gy, dpatches;
} Regions;

struct _HdClipTrainGpu {
  HdClip         *clip;
  HdTowerGpu     *tower;
  HdTowerBlock   *blocks;
  Transposed     *tr;
  gboolean        f32;
  guint32         conv1, conv1_t, pre_w, pre_b, post_w, post_b, proj, proj_t;
  guint32         resize_f, resize_b;  /* Mᵀ and M as text_gemm's W (float) */
  HdKernel       *norm_bwd, *attention_bwd, *patches;
  int             r, n, rows, width, k, embed, layers, heads, max_images;
  float          *resize;        /* M, n x r, or NULL when r = n */
  float          *tokens0;       /* rows x W: class + positional embedding (+ conv1 · b) */
  double         *e_last;        /* ê of each image of the last forward pass */
  double         *y_norm;        /* and ‖y‖ */
  Regions         g;
  VkCommandBuffer *forward;      /* per image count, lazily */
  VkCommandBuffer *backward;     /* per (first, count), lazily */
};

/* Floats a image of each kind of region. */
static gsize
per_image (HdClipTrainGpu *t,
           gsize           widths)
{
  return (gsize) t->rows * t->width * widths;
}

/* Plans the regions for N images; the total (floats). */
static gsize
plan (HdClipTrainGpu *t,
      int             n,
      Regions        *g)
{
  gsize S = per_image (t, 1), L = (gsize) t->layers, at = 0;
  gsize image = (gsize) 3 * t->r * t->r;
  gsize read = MAX ((gsize) 2 * n * t->embed, n * image);

#define REGION(field, count) G_STMT_START { g->field = (guint32) at; at += (count); } G_STMT_END
  REGION (read, read);
  REGION (img, n * image);
  if (t->resize != NULL)
    {
      REGION (planes, (gsize) n * 3 * t->n * t->n);
      REGION (u, (gsize) t->r * t->n);
    }
  else
    g->planes = g->u = g->img;
  REGION (patches, (gsize) n * t->rows * t->k);
  REGION (t, n * S);
  REGION (x, (L + 1) * n * S);
  REGION (qkv, L * n * 3 * S);
  REGION (o, L * n * S);
  REGION (mid, L * n * S);
  REGION (z, L * n * 4 * S);
  REGION (a, n * S);
  REGION (h, n * 4 * S);
  REGION (dx, n * S);
  REGION (da, n * S);
  REGION (dh, n * 4 * S);
  REGION (dqkv, n * 3 * S);
  REGION (dout, n * S);
  REGION (stats, (gsize) n * t->heads * t->rows * 3);
  REGION (gy, (gsize) n * t->embed);
  REGION (dpatches, (gsize) n * t->rows * t->k);
#undef REGION
  return at;
}

/* Layer L's region of kind BASE (WIDTHS x rows x W a image), from image I. */
static guint32
layer_at (HdClipTrainGpu *t,
          guint32         base,
          int             l,
          gsize           widths,
          int             i)
{
  return base + (guint32) (((gsize) l * t->max_images + i) * per_image (t, widths));
}

static gboolean
upload (HdClipTrainGpu  *t,
        int              max_images,
        GError         **error)
{
  HdClip *clip = t->clip;
  HdCompute *c = hd_tower_gpu_get_compute (t->tower);
  HdTowerPacker p, pt;   /* the forward pass's weights; the transposed copies */
  g_autofree float *cls = NULL;
  g_autofree double *beta = NULL;
  gsize n_act = 0, limit = hd_compute_max_texels (c);
  gboolean ok;

  hd_tower_packer_init (&p, clip->st);
  hd_tower_packer_init (&pt, clip->st);
  p.f32 = t->f32;
  t->blocks = hd_tower_pack_blocks (&p, "visual.", t->layers);
  t->tr = g_new0 (Transposed, MAX (t->layers, 1));
  for (int l = 0; l < t->layers; l++)
    {
      g_autofree char *b = g_strdup_printf ("visual.transformer.resblocks.%d", l);
      g_autofree char *in_w = g_strconcat (b, ".attn.in_proj_weight", NULL);
      g_autofree char *out_w = g_strconcat (b, ".attn.out_proj.weight", NULL);
      g_autofree char *fc_w = g_strconcat (b, ".mlp.c_fc.weight", NULL);
      g_autofree char *proj_w = g_strconcat (b, ".mlp.c_proj.weight", NULL);

      t->tr[l].in_t = hd_tower_pack_matrix (&pt, in_w, TRUE, t->f32);
      t->tr[l].out_t = hd_tower_pack_matrix (&pt, out_w, TRUE, t->f32);
      t->tr[l].fc_t = hd_tower_pack_matrix (&pt, fc_w, TRUE, t->f32);
      t->tr[l].proj_t = hd_tower_pack_matrix (&pt, proj_w, TRUE, t->f32);
    }
  /* conv1 with the normalisation's a folded in (in float: it is no
   * longer the file's half-precision values). */
  {
    int pp = t->k / 3;
    g_autofree float *conv1 = hd_clip_get_f32 (clip->st, NULL, "visual.conv1.weight");

    beta = g_new0 (double, t->width);
    for (int o = 0; o < t->width; o++)
      for (int ch = 0; ch < 3; ch++)
        for (int j = 0; j < pp; j++)
          {
            float *w = &conv1[((gsize) o * 3 + ch) * pp + j];
            double std = hd_clip_image_std[ch];

            beta[o] += *w * (0.5 - hd_clip_image_mean[ch]) / std;
            *w = (float) (*w * 0.5 / std);
          }
    t->conv1 = hd_tower_pack_array (&p, conv1, t->width, t->k, FALSE, TRUE);
    t->conv1_t = hd_tower_pack_array (&pt, conv1, t->width, t->k, TRUE, TRUE);
  }
  if (t->resize != NULL)
    {
      t->resize_f = hd_tower_pack_array (&p, t->resize, t->n, t->r, FALSE, TRUE);
      t->resize_b = hd_tower_pack_array (&pt, t->resize, t->n, t->r, TRUE, TRUE);
    }
  t->pre_w = hd_tower_pack_vector (&p, "visual.ln_pre.weight");
  t->pre_b = hd_tower_pack_vector (&p, "visual.ln_pre.bias");
  t->post_w = hd_tower_pack_vector (&p, "visual.ln_post.weight");
  t->post_b = hd_tower_pack_vector (&p, "visual.ln_post.bias");
  t->proj = hd_tower_pack_matrix (&p, "visual.proj", TRUE, t->f32);
  t->proj_t = hd_tower_pack_matrix (&pt, "visual.proj", FALSE, t->f32);

  t->tokens0 = hd_clip_get_f32 (clip->st, NULL, "visual.positional_embedding");
  cls = hd_clip_get_f32 (clip->st, NULL, "visual.class_embedding");
  for (int i = 0; i < t->width; i++)
    t->tokens0[i] += cls[i];
  for (int r = 1; r < t->rows; r++)
    for (int i = 0; i < t->width; i++)
      t->tokens0[(gsize) r * t->width + i] += (float) beta[i];

  /* As many images as one buffer (and one texel view of it) holds. */
  limit = MIN (limit, hd_vk_context_get_limits (hd_compute_get_context (c))->maxStorageBufferRange /
                      sizeof (float));
  for (t->max_images = MAX (max_images, 1); t->max_images > 0; t->max_images--)
    if ((n_act = plan (t, t->max_images, &t->g)) <= limit)
      break;
  if (t->max_images == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: one image’s activations for training (%zu MiB) do not fit this device’s "
                     "largest buffer"), clip->path, plan (t, 1, &t->g) * sizeof (float) >> 20);
      hd_tower_packer_clear (&p);
      hd_tower_packer_clear (&pt);
      return FALSE;
    }
  ok = hd_tower_gpu_upload_full (t->tower, &p, &pt, n_act, t->g.img - t->g.read, clip->path, error);
  hd_tower_packer_clear (&p);
  hd_tower_packer_clear (&pt);
  /* The class token's row of the patches stays zero. */
  if (ok)
    {
      g_autofree float *zeros = g_new0 (float, (gsize) t->max_images * t->rows * t->k);

      ok = hd_compute_upload (hd_tower_gpu_get_compute (t->tower), hd_tower_gpu_get_activations (t->tower),
                              t->g.patches * sizeof (float), zeros,
                              sizeof (float) * t->max_images * t->rows * t->k, error);
    }
  t->forward = g_new0 (VkCommandBuffer, t->max_images + 1);
  t->backward = g_new0 (VkCommandBuffer, (gsize) (t->max_images + 1) * (t->max_images + 1));
  t->y_norm = g_new0 (double, t->max_images);
  t->e_last = g_new0 (double, (gsize) t->max_images * t->embed);
  return ok;
}

HdClipTrainGpu *
hd_clip_train_gpu_new (HdVkContext  *ctx,
                       HdClip       *clip,
                       int           r,
                       int           max_images,
                       GError      **error)
{
  g_autoptr(HdClipTrainGpu) t = g_new0 (HdClipTrainGpu, 1);
  const HdClipVisionConfig *v = &clip->vision;
  const HdTensor *conv1 = hd_safetensors_lookup (clip->st, "visual.conv1.weight");
  HdKernelInfo norm_bwd = { .shader = "tower_norm_bwd" };
  HdKernelInfo attention_bwd = { .shader = "tower_attention_bwd" };
  HdKernelInfo patches = { .shader = "tower_patches" };
  HdCompute *c;

  g_return_val_if_fail (ctx != NULL && clip != NULL && r > 0, NULL);

  t->clip = hd_clip_ref (clip);
  t->r = r;
  t->n = v->resolution;
  t->rows = v->grid * v->grid + 1;
  t->width = v->width;
  t->k = 3 * v->patch * v->patch;
  t->embed = clip->config.embed_dim;
  t->layers = v->layers;
  t->heads = v->heads;
  /* Half precision only where the file has no more. */
  t->f32 = conv1 == NULL || conv1->dtype != HD_DTYPE_F16;
  if (r != t->n)
    {
      g_autofree double *m = g_new (double, (gsize) t->n * r);

      hd_clip_resize_matrix (t->n, r, m);
      t->resize = g_new (float, (gsize) t->n * r);
      for (gsize i = 0; i < (gsize) t->n * r; i++)
        t->resize[i] = (float) m[i];
    }
  t->tower = hd_tower_gpu_new (ctx, error);
  if (t->tower == NULL)
    return NULL;
  c = hd_tower_gpu_get_compute (t->tower);
  if ((t->norm_bwd = hd_compute_kernel (c, &norm_bwd, error)) == NULL ||
      (t->attention_bwd = hd_compute_kernel (c, &attention_bwd, error)) == NULL ||
      (t->patches = hd_compute_kernel (c, &patches, error)) == NULL ||
      !upload (t, max_images, error))
    return NULL;
  return g_steal_pointer (&t);
}

void
hd_clip_train_gpu_free (HdClipTrainGpu *t)
{
  if (t == NULL)
    return;
  /* Command buffers go with the compute layer's pool. */
  g_clear_pointer (&t->tower, hd_tower_gpu_free);
  g_free (t->forward);
  g_free (t->backward);
  g_free (t->blocks);
  g_free (t->tr);
  g_free (t->resize);
  g_free (t->tokens0);
  g_free (t->y_norm);
  g_free (t->e_last);
  hd_clip_unref (t->clip);
  g_free (t);
}

int
hd_clip_train_gpu_get_max_images (HdClipTrainGpu *t)
{
  return t->max_images;
}

guint64
hd_clip_train_gpu_get_device_bytes (HdClipTrainGpu *t)
{
  return hd_compute_get_device_bytes (hd_tower_gpu_get_compute (t->tower));
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

static void
gemm (HdClipTrainGpu *t,
      HdTowerRec     *rec,
      HdTextGemmPush  push,
      const char     *label)
{
  hd_tower_dispatch_gemm (rec, push, t->f32, label);
}

/* A GEMM with a transposed copy (the second set of weights). */
static void
gemm_t (HdTowerRec     *rec,
        HdTextGemmPush  push,
        gboolean        f32,
        const char     *label)
{
  hd_tower_rec_use_weights (rec, 1);
  hd_tower_dispatch_gemm (rec, push, f32, label);
  hd_tower_rec_use_weights (rec, 0);
}

static void
norm (HdTowerRec *rec,
      guint32     rows,
      guint32     n,
      guint32     x,
      guint32     y,
      guint32     stride,
      guint32     w,
      guint32     b)
{
  hd_tower_dispatch_norm (rec, (HdTextNormPush) { .rows = rows, .n = n, .x_off = x, .y_off = y,
                                                  .stride = stride, .weight_off = w, .bias_off = b });
}

static void
norm_bwd (HdClipTrainGpu     *t,
          HdTowerRec         *rec,
          HdTowerNormBwdPush  push)
{
  hd_tower_dispatch (rec, t->norm_bwd, &push, sizeof push, hd_compute_groups (push.rows, 32), 1,
                     "norm backward");
}

/* Y (m x cols) = X W for the resampling: X read by columns (X[i][k] at
 * x + i + k x_kstride), W float. */
static void
resample_gemm (HdTowerRec *rec,
               guint32     m,
               guint32     cols,
               guint32     k,
               guint32     x,
               guint32     x_kstride,
               guint32     y,
               guint32     w)
{
  HdTextGemmPush push = hd_tower_gemm_push (m, cols, k, x, y, w, HD_TEXT_NONE);

  push.x_stride = 1;
  push.x_kstride = x_kstride;
  hd_tower_dispatch_gemm (rec, push, TRUE, "resampling");
}

static void
patches (HdClipTrainGpu *t,
         HdTowerRec     *rec,
         int             n,
         guint32         planes,
         guint32         rows,
         guint32         pass)
{
  const HdClipVisionConfig *v = &t->clip->vision;
  HdTowerPatchesPush push = {
    .images = (guint32) n, .grid = (guint32) v->grid, .patch_size = (guint32) v->patch,
    .planes_off = planes, .rows_off = rows, .pass = pass,
  };

  hd_tower_dispatch (rec, t->patches, &push, sizeof push,
                     hd_compute_groups ((gsize) n * 3 * t->n * t->n, 64), 1, "patches");
}

static VkCommandBuffer
forward_commands (HdClipTrainGpu  *t,
                  int              n,
                  GError         **error)
{
  const Regions *g = &t->g;
  guint32 W = (guint32) t->width, m = (guint32) (n * t->rows), S = W * (guint32) t->rows;
  HdTextGemmPush embed = hd_tower_gemm_push (m, W, (guint32) t->k, g->patches, g->t, t->conv1,
                                             HD_TEXT_NONE);
  HdTextGemmPush proj;
  HdTowerRec rec;

  if (t->forward[n] != VK_NULL_HANDLE)
    return t->forward[n];
  if (!hd_tower_rec_begin (&rec, t->tower, "Recording CLIP’s image tower for training", error))
    return VK_NULL_HANDLE;
  /* P = M X Mᵀ: (X Mᵀ by columns of X) = (M X)ᵀ, then M X Mᵀ from it by
   * columns. */
  for (int i = 0; t->resize != NULL && i < 3 * n; i++)
    {
      guint32 R = (guint32) t->r, N = (guint32) t->n;

      resample_gemm (&rec, R, N, R, g->img + i * R * R, R, g->u, t->resize_f);
      resample_gemm (&rec, N, N, R, g->u, N, g->planes + i * N * N, t->resize_f);
    }
  patches (t, &rec, n, g->planes, g->patches, 0);
  embed.res_off = g->t;
  hd_tower_dispatch_gemm (&rec, embed, TRUE, "patches");
  norm (&rec, m, W, g->t, g->x, W, t->pre_w, t->pre_b);
  for (int l = 0; l < t->layers; l++)
    {
      const HdTowerBlock *L = &t->blocks[l];
      guint32 x = layer_at (t, g->x, l, 1, 0), x_next = layer_at (t, g->x, l + 1, 1, 0);
      guint32 qkv = layer_at (t, g->qkv, l, 3, 0), o = layer_at (t, g->o, l, 1, 0);
      guint32 mid = layer_at (t, g->mid, l, 1, 0), z = layer_at (t, g->z, l, 4, 0);
      HdTextGemmPush out = hd_tower_gemm_push (m, W, W, o, mid, L->out_w, L->out_b);
      HdTextGemmPush fc = hd_tower_gemm_push (m, 4 * W, W, g->a, g->h, L->fc_w, L->fc_b);
      HdTextGemmPush pj = hd_tower_gemm_push (m, W, 4 * W, g->h, x_next, L->proj_w, L->proj_b);

      norm (&rec, m, W, x, g->a, W, L->ln1_w, L->ln1_b);
      gemm (t, &rec, hd_tower_gemm_push (m, 3 * W, W, g->a, qkv, L->in_w, L->in_b), "attention");
      hd_tower_dispatch_attention (&rec, (HdTextAttentionPush) {
                                     .rows = (guint32) t->rows, .width = W, .heads = (guint32) t->heads,
                                     .qkv_off = qkv, .out_off = o, .causal = 0,
                                   }, (guint32) n);
      out.res_off = x;
      gemm (t, &rec, out, "attention");
      norm (&rec, m, W, mid, g->a, W, L->ln2_w, L->ln2_b);
      fc.act = HD_TEXT_ACT_QUICKGELU;
      fc.aux_off = z;
      gemm (t, &rec, fc, "mlp");
      pj.res_off = mid;
      gemm (t, &rec, pj, "mlp");
    }
  /* ln_post of each image's class token, the projection into y (after ê
   * in the read region), ê = y / ‖y‖. */
  norm (&rec, (guint32) n, W, layer_at (t, g->x, t->layers, 1, 0), g->a, S, t->post_w, t->post_b);
  proj = hd_tower_gemm_push ((guint32) n, (guint32) t->embed, W, g->a, g->read + (guint32) (n * t->embed),
                             t->proj, HD_TEXT_NONE);
  proj.x_stride = S;
  gemm (t, &rec, proj, "projection");
  hd_tower_dispatch_norm (&rec, (HdTextNormPush) { .rows = (guint32) n, .n = (guint32) t->embed,
                                                   .x_off = g->read + (guint32) (n * t->embed),
                                                   .y_off = g->read, .stride = (guint32) t->embed,
                                                   .unit = 1 });
  t->forward[n] = hd_tower_rec_end (&rec, "Recording CLIP’s image tower for training", error);
  return t->forward[n];
}

static VkCommandBuffer
backward_commands (HdClipTrainGpu  *t,
                   int              first,
                   int              n,
                   GError         **error)
{
  const Regions *g = &t->g;
  VkCommandBuffer *slot = &t->backward[first * (t->max_images + 1) + n];
  guint32 W = (guint32) t->width, m = (guint32) (n * t->rows), S = W * (guint32) t->rows;
  guint32 f = (guint32) first;
  HdVkBuffer *act = hd_tower_gpu_get_activations (t->tower);
  HdTowerRec rec;

  if (*slot != VK_NULL_HANDLE)
    return *slot;
  if (!hd_tower_rec_begin (&rec, t->tower, "Recording CLIP’s image tower backward", error))
    return VK_NULL_HANDLE;

  /* ln_post and the projection: into the class tokens' rows of dx. */
  vkCmdFillBuffer (rec.cb, act->buffer, (VkDeviceSize) g->dx * sizeof (float),
                   (VkDeviceSize) m * W * sizeof (float), 0);
  hd_compute_barrier (rec.cb);
  gemm_t (&rec, hd_tower_gemm_push ((guint32) n, W, (guint32) t->embed, g->gy, g->da, t->proj_t,
                                       HD_TEXT_NONE), t->f32, "projection backward");
  norm_bwd (t, &rec, (HdTowerNormBwdPush) {
              .rows = (guint32) n, .n = W, .x_off = layer_at (t, g->x, t->layers, 1, first),
              .x_stride = S, .dy_off = g->da, .dy_stride = W, .dx_off = g->dx, .dx_stride = S,
              .weight_off = t->post_w, .add = 0 });

  for (int l = t->layers - 1; l >= 0; l--)
    {
      const HdTowerBlock *L = &t->blocks[l];
      const Transposed *T = &t->tr[l];
      HdTextGemmPush dh = hd_tower_gemm_push (m, 4 * W, W, g->dx, g->dh, T->proj_t, HD_TEXT_NONE);
      HdTowerAttentionBwdPush attention = {
        .rows = (guint32) t->rows, .width = W, .heads = (guint32) t->heads,
        .qkv_off = layer_at (t, g->qkv, l, 3, first), .o_off = layer_at (t, g->o, l, 1, first),
        .do_off = g->dout, .dqkv_off = g->dqkv, .stats_off = g->stats,
      };
      guint32 groups = hd_compute_groups ((gsize) t->rows * t->heads, 32);

      /* The MLP: dz = (dx projᵀ) ⊙ QuickGELU′ (z), then through fc and ln_2. */
      dh.act = HD_TEXT_ACT_QUICKGELU_BWD;
      dh.aux_off = layer_at (t, g->z, l, 4, first);
      gemm_t (&rec, dh, t->f32, "mlp backward");
      gemm_t (&rec, hd_tower_gemm_push (m, W, 4 * W, g->dh, g->da, T->fc_t, HD_TEXT_NONE), t->f32,
              "mlp backward");
      norm_bwd (t, &rec, (HdTowerNormBwdPush) {
                  .rows = m, .n = W, .x_off = layer_at (t, g->mid, l, 1, first), .x_stride = W,
                  .dy_off = g->da, .dy_stride = W, .dx_off = g->dx, .dx_stride = W,
                  .weight_off = L->ln2_w, .add = 1 });
      /* The attention: through out_proj, the softmax, in_proj and ln_1. */
      gemm_t (&rec, hd_tower_gemm_push (m, W, W, g->dx, g->dout, T->out_t, HD_TEXT_NONE), t->f32,
              "attention backward");
      attention.pass = 0;
      hd_tower_dispatch (&rec, t->attention_bwd, &attention, sizeof attention, groups, (guint32) n,
                         "attention backward");
      attention.pass = 1;
      hd_tower_dispatch (&rec, t->attention_bwd, &attention, sizeof attention, groups, (guint32) n,
                         "attention backward");
      gemm_t (&rec, hd_tower_gemm_push (m, W, 3 * W, g->dqkv, g->da, T->in_t, HD_TEXT_NONE), t->f32,
              "attention backward");
      norm_bwd (t, &rec, (HdTowerNormBwdPush) {
                  .rows = m, .n = W, .x_off = layer_at (t, g->x, l, 1, first), .x_stride = W,
                  .dy_off = g->da, .dy_stride = W, .dx_off = g->dx, .dx_stride = W,
                  .weight_off = L->ln1_w, .add = 1 });
    }
  /* ln_pre, then the patch embedding: ∂L/∂patches into the read region. */
  norm_bwd (t, &rec, (HdTowerNormBwdPush) {
              .rows = m, .n = W, .x_off = g->t + f * S, .x_stride = W, .dy_off = g->dx, .dy_stride = W,
              .dx_off = g->da, .dx_stride = W, .weight_off = t->pre_w, .add = 0 });
  gemm_t (&rec, hd_tower_gemm_push (m, (guint32) t->k, W, g->da, g->dpatches, t->conv1_t, HD_TEXT_NONE),
          TRUE, "patches backward");
  /* Back to planes, and through the resampling: Mᵀ dP M, (dPᵀ M by
   * columns of dP) = (Mᵀ dP)ᵀ, then Mᵀ dP M from it by columns. */
  patches (t, &rec, n, t->resize != NULL ? g->planes : g->read, g->dpatches, 1);
  hd_tower_rec_use_weights (&rec, 1);
  for (int i = 0; t->resize != NULL && i < 3 * n; i++)
    {
      guint32 R = (guint32) t->r, N = (guint32) t->n;

      resample_gemm (&rec, N, R, N, g->planes + i * N * N, N, g->u, t->resize_b);
      resample_gemm (&rec, R, R, N, g->u, R, g->read + i * R * R, t->resize_b);
    }
  hd_tower_rec_use_weights (&rec, 0);
  *slot = hd_tower_rec_end (&rec, "Recording CLIP’s image tower backward", error);
  return *slot;
}

/* ------------------------------------------------------------------------ */
/* Passes                                                                   */

gboolean
hd_clip_train_gpu_forward (HdClipTrainGpu  *t,
                           int              n,
                           const double    *img,
                           double          *e,
                           GError         **error)
{
  HdTowerGpu *tower = t->tower;
  HdCompute *c = hd_tower_gpu_get_compute (tower);
  HdVkBuffer *act = hd_tower_gpu_get_activations (tower);
  gsize image = (gsize) 3 * t->r * t->r, S = per_image (t, 1);
  g_autofree float *images = g_new (float, n * image);
  g_autofree float *tokens = g_new (float, (gsize) n * S);
  VkCommandBuffer cb;
  const float *read;

  g_return_val_if_fail (n >= 1 && n <= t->max_images, FALSE);

  cb = forward_commands (t, n, error);
  if (cb == VK_NULL_HANDLE)
    return FALSE;
  for (gsize i = 0; i < n * image; i++)
    images[i] = (float) img[i];
  for (int i = 0; i < n; i++)
    memcpy (tokens + i * S, t->tokens0, sizeof (float) * S);
  if (!hd_compute_upload (c, act, t->g.img * sizeof (float), images, sizeof (float) * n * image, error) ||
      !hd_compute_upload (c, act, t->g.t * sizeof (float), tokens, sizeof (float) * n * S, error) ||
      !hd_compute_submit (c, cb, error))
    return FALSE;
  read = hd_tower_gpu_get_readback (tower);
  for (int i = 0; i < n; i++)
    {
      double sum = 0.0;

      for (int j = 0; j < t->embed; j++)
        {
          double y = read[(gsize) (n + i) * t->embed + j];

          sum += y * y;
          t->e_last[(gsize) i * t->embed + j] = read[(gsize) i * t->embed + j];
        }
      t->y_norm[i] = sqrt (sum);
    }
  memcpy (e, t->e_last, sizeof (double) * n * t->embed);
  return TRUE;
}

gboolean
hd_clip_train_gpu_backward (HdClipTrainGpu  *t,
                            int              first,
                            int              n,
                            const double    *g_e,
                            double          *g_img,
                            GError         **error)
{
  HdTowerGpu *tower = t->tower;
  HdCompute *c = hd_tower_gpu_get_compute (tower);
  int E = t->embed;
  gsize image = (gsize) 3 * t->r * t->r;
  g_autofree float *gy = g_new (float, (gsize) n * E);
  VkCommandBuffer cb;
  const float *read;

  g_return_val_if_fail (first >= 0 && n >= 1 && first + n <= t->max_images, FALSE);

  cb = backward_commands (t, first, n, error);
  if (cb == VK_NULL_HANDLE)
    return FALSE;
  /* y = ‖y‖ ê: ∂L/∂y = (∂L/∂ê − ê (ê · ∂L/∂ê)) / ‖y‖. */
  for (int i = 0; i < n; i++)
    {
      const double *e = t->e_last + (gsize) (first + i) * E;
      const double *ge = g_e + (gsize) i * E;
      double dot = 0.0;

      for (int j = 0; j < E; j++)
        dot += e[j] * ge[j];
      for (int j = 0; j < E; j++)
        gy[(gsize) i * E + j] = (float) ((ge[j] - e[j] * dot) / t->y_norm[first + i]);
    }
  if (!hd_compute_upload (c, hd_tower_gpu_get_activations (tower), t->g.gy * sizeof (float), gy,
                          sizeof (float) * n * E, error) ||
      !hd_compute_submit (c, cb, error))
    return FALSE;
  read = hd_tower_gpu_get_readback (tower);
  for (gsize i = 0; i < n * image; i++)
    g_img[i] = read[i];
  return TRUE;
}
