/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text encoder and the mapper on the compute layer.
 *
 * The transformer runs on the stages of hd-tower-gpu.c (CLIP's matrices
 * in half precision); the mapper's matrices are float, its BatchNorms
 * folded to a scale and a shift.  The token embedding stays on the host:
 * a prompt needs a few of its 49,408 rows, which the host adds to the
 * positional embedding and uploads.  Activations: one float buffer,
 * regions at fixed offsets; the result d (and e after it) at offset 0,
 * copied back.
 *
 * The dispatches of an encode depend only on the number of rows, so the
 * command buffer of each row count is recorded once and replayed. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-text-gpu.h"
#include "hd-tower-gpu.h"

/* A DummyResBlock: Lin + BN (folded) + act, Lin + BN (folded) + residual + act. */
typedef struct {
  guint32 w0, b0, s1, t1, slope2;
  guint32 w1, b1, s2, t2, slope_out;
} ResBlock;

struct _HdTextGpu {
  HdHypernetwork *hn;
  HdTowerGpu     *tower;

  HdTowerBlock   *layers;
  guint32         lnf_w, lnf_b, text_proj;
  guint32         lin_w, lin_b, bn_s, bn_t, lin_slope;
  ResBlock       *backbone;         /* backbone_depth - 1 */
  ResBlock       *head_blocks;      /* K x (head_depth - 1) */
  guint32        *head_w, *head_b;  /* K */

  /* Regions of the activation buffer (floats). */
  guint32         d_off, e_off, x_off, a_off, h_off, qkv_off, o_off, y_off, mx_off, mt_off, mh_off;
  gsize           n_out;            /* Σ C_k */

  VkCommandBuffer *commands;        /* per row count, lazily */
  double          gpu_ms;
};

/* ------------------------------------------------------------------------ */
/* Packing                                                                  */

typedef struct {
  HdTextGpu     *gpu;
  HdTowerPacker  tower;
} Packer;

#define pack_matrix(p, name, as_is, f32) hd_tower_pack_matrix (&(p)->tower, (name), (as_is), (f32))
#define pack_floats(p, values, n) hd_tower_pack_floats (&(p)->tower, (values), (n))
#define pack_vectorf(p, ...) hd_tower_pack_vector (&(p)->tower, __VA_ARGS__)

static guint32
pack_vector (Packer     *p,
             const char *name)
{
  return pack_vectorf (p, "%s", name);
}

/* BatchNorm PREFIX (eval mode) as v * scale + shift. */
static void
pack_batch_norm (Packer     *p,
                 const char *prefix,
                 guint32    *scale_off,
                 guint32    *shift_off)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", prefix);
  g_autofree char *bn = g_strdup_printf ("%s.bias", prefix);
  g_autofree char *mn = g_strdup_printf ("%s.running_mean", prefix);
  g_autofree char *vn = g_strdup_printf ("%s.running_var", prefix);
  gsize n;
  g_autofree float *w = hd_hypernetwork_get_f32 (p->gpu->hn, wn, &n);
  g_autofree float *b = hd_hypernetwork_get_f32 (p->gpu->hn, bn, NULL);
  g_autofree float *mean = hd_hypernetwork_get_f32 (p->gpu->hn, mn, NULL);
  g_autofree float *var = hd_hypernetwork_get_f32 (p->gpu->hn, vn, NULL);
  g_autofree float *scale = g_new (float, n);
  g_autofree float *shift = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    {
      double s = w[i] / sqrt ((double) var[i] + 1e-5);

      scale[i] = (float) s;
      shift[i] = (float) (b[i] - mean[i] * s);
    }
  *scale_off = pack_floats (p, scale, n);
  *shift_off = pack_floats (p, shift, n);
}

/* The PReLU slope of activation PREFIX, or HD_TEXT_NONE. */
static guint32
pack_slope (Packer     *p,
            const char *prefix)
{
  g_autofree char *name = NULL;

  if (p->gpu->hn->mapper.activation != HD_MAPPER_PRELU)
    return HD_TEXT_NONE;
  name = g_strdup_printf ("%s.weight", prefix);
  return pack_vector (p, name);
}

static void
pack_res_block (Packer     *p,
                const char *r,
                ResBlock   *block)
{
  g_autofree char *in0 = g_strdup_printf ("%s.input_block.0", r);
  g_autofree char *in0w = g_strdup_printf ("%s.weight", in0);
  g_autofree char *in0b = g_strdup_printf ("%s.bias", in0);
  g_autofree char *in1 = g_strdup_printf ("%s.input_block.1", r);
  g_autofree char *in2 = g_strdup_printf ("%s.input_block.2", r);
  g_autofree char *s0w = g_strdup_printf ("%s.second_block.0.weight", r);
  g_autofree char *s0b = g_strdup_printf ("%s.second_block.0.bias", r);
  g_autofree char *s1 = g_strdup_printf ("%s.second_block.1", r);
  g_autofree char *out = g_strdup_printf ("%s.out", r);

  block->w0 = pack_matrix (p, in0w, FALSE, TRUE);
  block->b0 = pack_vector (p, in0b);
  pack_batch_norm (p, in1, &block->s1, &block->t1);
  block->slope2 = pack_slope (p, in2);
  block->w1 = pack_matrix (p, s0w, FALSE, TRUE);
  block->b1 = pack_vector (p, s0b);
  pack_batch_norm (p, s1, &block->s2, &block->t2);
  block->slope_out = pack_slope (p, out);
}

static void
pack_all (HdTextGpu *gpu,
          Packer    *p)
{
  HdHypernetwork *hn = gpu->hn;
  int depth = hn->mapper.head_depth;

  gpu->layers = hd_tower_pack_blocks (&p->tower, "clip.", hn->clip.layers);
  gpu->lnf_w = pack_vector (p, "clip.ln_final.weight");
  gpu->lnf_b = pack_vector (p, "clip.ln_final.bias");
  gpu->text_proj = pack_matrix (p, "clip.text_projection", TRUE, FALSE);

  gpu->lin_w = pack_matrix (p, "mapper.backbone.backbone.0.lin.weight", FALSE, TRUE);
  gpu->lin_b = pack_vector (p, "mapper.backbone.backbone.0.lin.bias");
  pack_batch_norm (p, "mapper.backbone.backbone.0.bn", &gpu->bn_s, &gpu->bn_t);
  gpu->lin_slope = pack_slope (p, "mapper.backbone.backbone.0.act");
  gpu->backbone = g_new0 (ResBlock, MAX (hn->mapper.backbone_depth - 1, 1));
  for (int i = 1; i < hn->mapper.backbone_depth; i++)
    {
      g_autofree char *r = g_strdup_printf ("mapper.backbone.backbone.%d", i);
      pack_res_block (p, r, &gpu->backbone[i - 1]);
    }
  gpu->head_blocks = g_new0 (ResBlock, MAX (hn->n_layers * (depth - 1), 1));
  gpu->head_w = g_new0 (guint32, hn->n_layers);
  gpu->head_b = g_new0 (guint32, hn->n_layers);
  for (int k = 0; k < hn->n_layers; k++)
    {
      g_autofree char *w = g_strdup_printf ("mapper.heads.conv_%d.in.%d.weight", k, depth - 1);

      for (int j = 0; j < depth - 1; j++)
        {
          g_autofree char *r = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k, j);
          pack_res_block (p, r, &gpu->head_blocks[k * (depth - 1) + j]);
        }
      gpu->head_w[k] = pack_matrix (p, w, FALSE, TRUE);
      gpu->head_b[k] = pack_vectorf (p, "mapper.heads.conv_%d.in.%d.bias", k, depth - 1);
    }
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

static void
plan_activations (HdTextGpu *gpu,
                  gsize     *n_floats)
{
  HdHypernetwork *hn = gpu->hn;
  guint32 ctx = hn->clip.context_length, w = hn->clip.width;
  guint32 at = 0;

#define REGION(field, n) G_STMT_START { gpu->field = at; at += (guint32) (n); } G_STMT_END
  gpu->n_out = hd_hypernetwork_output_size (hn);
  REGION (d_off, gpu->n_out);
  REGION (e_off, hn->clip.embed_dim);
  REGION (x_off, ctx * w);
  REGION (a_off, ctx * w);
  REGION (h_off, ctx * 4 * w);
  REGION (qkv_off, ctx * 3 * w);
  REGION (o_off, ctx * w);
  REGION (y_off, hn->clip.embed_dim);
  REGION (mx_off, hn->mapper.width);
  REGION (mt_off, hn->mapper.inner_features);
  REGION (mh_off, hn->mapper.width);
#undef REGION
  *n_floats = at;
}

static gboolean
upload_all (HdTextGpu  *gpu,
            GError    **error)
{
  Packer p = { .gpu = gpu };
  gsize n_act;
  gboolean ok;

  hd_tower_packer_init (&p.tower, gpu->hn->st);
  pack_all (gpu, &p);
  plan_activations (gpu, &n_act);
  ok = hd_tower_gpu_upload (gpu->tower, &p.tower, n_act, gpu->n_out + gpu->hn->clip.embed_dim,
                            gpu->hn->path, error);
  hd_tower_packer_clear (&p.tower);
  return ok;
}

HdTextGpu *
hd_text_gpu_new (HdVkContext     *ctx,
                 HdHypernetwork  *hn,
                 GError         **error)
{
  g_autoptr(HdTextGpu) gpu = g_new0 (HdTextGpu, 1);
  g_return_val_if_fail (ctx != NULL && hn != NULL, NULL);

  gpu->hn = hd_hypernetwork_ref (hn);
  gpu->commands = g_new0 (VkCommandBuffer, hn->clip.context_length + 1);
  gpu->tower = hd_tower_gpu_new (ctx, error);
  if (gpu->tower == NULL || !upload_all (gpu, error))
    return NULL;
  return g_steal_pointer (&gpu);
}

void
hd_text_gpu_free (HdTextGpu *gpu)
{
  if (gpu == NULL)
    return;
  /* The command buffers go with the compute layer's pool. */
  g_clear_pointer (&gpu->tower, hd_tower_gpu_free);
  g_free (gpu->commands);
  g_free (gpu->layers);
  g_free (gpu->backbone);
  g_free (gpu->head_blocks);
  g_free (gpu->head_w);
  g_free (gpu->head_b);
  hd_hypernetwork_unref (gpu->hn);
  g_free (gpu);
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

typedef struct {
  HdTowerRec  tower;
  HdTextGpu  *gpu;
} Rec;

#define dispatch_gemm(rec, ...) hd_tower_dispatch_gemm (&(rec)->tower, __VA_ARGS__)
#define dispatch_norm(rec, ...) hd_tower_dispatch_norm (&(rec)->tower, __VA_ARGS__)
#define gemm_push hd_tower_gemm_push

static guint32
mapper_act (HdTextGpu *gpu)
{
  static const guint32 acts[] = {
    [HD_MAPPER_RELU] = HD_TEXT_ACT_RELU,
    [HD_MAPPER_LRELU] = HD_TEXT_ACT_LRELU,
    [HD_MAPPER_PRELU] = HD_TEXT_ACT_PRELU,
    [HD_MAPPER_ID] = HD_TEXT_ACT_NONE,
  };
  return acts[gpu->hn->mapper.activation];
}

/* x <- act (BN (Lin (BN-act (Lin (X)))) + RES), into Y. */
static void
record_res_block (Rec            *rec,
                  const ResBlock *b,
                  guint32         x_off,
                  guint32         y_off,
                  guint32         res_off)
{
  HdTextGpu *gpu = rec->gpu;
  guint32 width = gpu->hn->mapper.width, inner = gpu->hn->mapper.inner_features;
  HdTextGemmPush first = gemm_push (1, inner, width, x_off, gpu->mt_off, b->w0, b->b0);
  HdTextGemmPush second = gemm_push (1, width, inner, gpu->mt_off, y_off, b->w1, b->b1);

  first.pre_scale_off = b->s1;
  first.pre_shift_off = b->t1;
  first.act = mapper_act (gpu);
  first.act_param_off = b->slope2;
  dispatch_gemm (rec, first, TRUE, "mapper");
  second.pre_scale_off = b->s2;
  second.pre_shift_off = b->t2;
  second.res_off = res_off;
  second.act = mapper_act (gpu);
  second.act_param_off = b->slope_out;
  dispatch_gemm (rec, second, TRUE, "mapper");
}

/* Row M - 1 (the first EOT) -> e, then the mapper -> d. */
static void
record_head (Rec     *rec,
             guint32  m)
{
  HdTextGpu *gpu = rec->gpu;
  HdHypernetwork *hn = gpu->hn;
  guint32 w = hn->clip.width, width = hn->mapper.width;
  int depth = hn->mapper.head_depth;
  HdTextGemmPush lin = gemm_push (1, width, hn->mapper.input_dimension, gpu->e_off, gpu->mx_off,
                                  gpu->lin_w, gpu->lin_b);
  guint32 d_at = gpu->d_off;

  dispatch_norm (rec, (HdTextNormPush) { .rows = 1, .n = w, .x_off = gpu->x_off + (m - 1) * w,
                                         .y_off = gpu->a_off, .stride = w,
                                         .weight_off = gpu->lnf_w, .bias_off = gpu->lnf_b });
  dispatch_gemm (rec, gemm_push (1, hn->clip.embed_dim, w, gpu->a_off, gpu->y_off, gpu->text_proj,
                                 HD_TEXT_NONE), FALSE, "projection");
  dispatch_norm (rec, (HdTextNormPush) { .rows = 1, .n = hn->clip.embed_dim, .x_off = gpu->y_off,
                                         .y_off = gpu->e_off, .stride = 0, .unit = 1 });

  /* BNLinAct: BN (act (Lin (e))). */
  lin.act = mapper_act (gpu);
  lin.act_param_off = gpu->lin_slope;
  lin.post_scale_off = gpu->bn_s;
  lin.post_shift_off = gpu->bn_t;
  dispatch_gemm (rec, lin, TRUE, "mapper");
  for (int i = 1; i < hn->mapper.backbone_depth; i++)
    record_res_block (rec, &gpu->backbone[i - 1], gpu->mx_off, gpu->mx_off, gpu->mx_off);
  for (int k = 0; k < hn->n_layers; k++)
    {
      guint32 in = gpu->mx_off;

      for (int j = 0; j < depth - 1; j++)
        {
          record_res_block (rec, &gpu->head_blocks[k * (depth - 1) + j], in, gpu->mh_off, in);
          in = gpu->mh_off;
        }
      dispatch_gemm (rec, gemm_push (1, (guint32) hn->layer_c_in[k], width, in, d_at, gpu->head_w[k],
                                     gpu->head_b[k]), TRUE, "mapper head");
      d_at += (guint32) hn->layer_c_in[k];
    }
}

static VkCommandBuffer
get_commands (HdTextGpu  *gpu,
              guint32     m,
              GError    **error)
{
  HdHypernetwork *hn = gpu->hn;
  HdTowerRegions regions = {
    .x = gpu->x_off, .a = gpu->a_off, .h = gpu->h_off, .qkv = gpu->qkv_off, .o = gpu->o_off,
  };
  Rec rec = { .gpu = gpu };

  if (gpu->commands[m] != VK_NULL_HANDLE)
    return gpu->commands[m];
  if (!hd_tower_rec_begin (&rec.tower, gpu->tower, "Recording the text encoder", error))
    return VK_NULL_HANDLE;
  hd_tower_record_blocks (&rec.tower, gpu->layers, hn->clip.layers, (guint32) hn->clip.width,
                          (guint32) hn->clip.heads, m, TRUE, &regions);
  hd_compute_timestamp (hd_tower_gpu_get_compute (gpu->tower), rec.tower.cb,
                        VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 1);
  record_head (&rec, m);
  gpu->commands[m] = hd_tower_rec_end (&rec.tower, "Recording the text encoder", error);
  return gpu->commands[m];
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */

gboolean
hd_text_gpu_encode (HdTextGpu      *gpu,
                    const guint32  *ids,
                    guint           n_ids,
                    float          *d,
                    float          *e,
                    GError        **error)
{
  HdHypernetwork *hn = gpu->hn;
  HdCompute *c = hd_tower_gpu_get_compute (gpu->tower);
  guint w = (guint) hn->clip.width, rows;
  g_autofree float *x = NULL;
  double ms[HD_COMPUTE_TIMESTAMPS];
  VkCommandBuffer cb;
  const float *out;

  x = hd_hypernetwork_embed_tokens (hn, ids, n_ids, &rows, error);
  if (x == NULL)
    return FALSE;
  cb = get_commands (gpu, rows, error);
  if (cb == VK_NULL_HANDLE ||
      !hd_compute_upload (c, hd_tower_gpu_get_activations (gpu->tower), gpu->x_off * sizeof (float), x,
                          (gsize) rows * w * sizeof (float), error) ||
      !hd_compute_submit (c, cb, error))
    return FALSE;

  out = hd_tower_gpu_get_readback (gpu->tower);
  memcpy (d, out, gpu->n_out * sizeof (float));
  if (e != NULL)
    memcpy (e, out + gpu->n_out, hn->clip.embed_dim * sizeof (float));
  gpu->gpu_ms = hd_compute_read_marks (c, ms) ? ms[2] : 0.0;
  return TRUE;
}

guint64
hd_text_gpu_get_device_bytes (HdTextGpu *gpu)
{
  return hd_compute_get_device_bytes (hd_tower_gpu_get_compute (gpu->tower));
}

double
hd_text_gpu_get_gpu_ms (HdTextGpu *gpu)
{
  return gpu->gpu_ms;
}

char *
hd_text_gpu_get_memory_report (HdTextGpu *gpu)
{
  return hd_compute_get_memory_report (hd_tower_gpu_get_compute (gpu->tower));
}
