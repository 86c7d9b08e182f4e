/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text encoder and the mapper on the compute layer.
 *
 * Weights: every matrix transposed to [K][N] in one half-precision
 * buffer, read as R16_SFLOAT texels (text_gemm.comp); vectors (biases,
 * layer norms, BatchNorms folded to a scale and a shift, PReLU slopes) in
 * one float buffer.  The token embedding stays on the host: a prompt
 * needs a few of its 49,408 rows, which the host adds to the positional
 * embedding and uploads.  Activations: one float buffer, regions at
 * fixed offsets; the result d (and e after it) at offset 0, copied back.
 *
 * The dispatches of an encode depend only on the number of rows, so the
 * command buffer of each row count is recorded once and replayed. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-half.h"
#include "hd-text-gpu.h"
#include "hd-vk-compute.h"
#include "../../shaders/hd-push.h"

#define MEM_WEIGHTS "text weights (half precision)"
#define MEM_PARAMS  "mapper weights, biases, norms"
#define MEM_ACT     "text activations"
#define MEM_READ    "readback"

typedef struct {
  guint32 ln1_w, ln1_b, in_w, in_b, out_w, out_b, ln2_w, ln2_b, fc_w, fc_b, proj_w, proj_b;
} Layer;

/* A DummyResBlock: Lin + BN (folded) + act, Lin + BN (folded) + residual + act. */
typedef struct {
  guint32 w0, b0, s1, t1, slope2;
  guint32 w1, b1, s2, t2, slope_out;
} ResBlock;

struct _HdTextGpu {
  HdHypernetwork *hn;
  HdCompute      *c;
  HdKernel       *norm, *attention;
  gboolean        lanes;            /* text_gemm_lanes: subgroups of 8 */
  HdVkBuffer     *weights, *params, *act, *readback;
  VkDescriptorSet set, texel_set;

  Layer          *layers;
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
  HdTextGpu *gpu;
  GArray    *halves;   /* guint16 */
  GArray    *floats;   /* float */
} Packer;

/* Matrix NAME [N][K] of the file (or [K][N] already, with AS_IS) laid
 * out as text_gemm.comp reads it: [K/4][N][4], four consecutive k of one
 * n together, K padded to fours with zeros; in half precision with the
 * weights, or with F32 in float with the parameters.  The offset is a
 * multiple of 4 (a vec4 texel). */
static guint32
pack_matrix (Packer     *p,
             const char *name,
             gboolean    as_is,
             gboolean    f32)
{
  gsize n_elements;
  g_autofree float *m = hd_hypernetwork_get_f32 (p->gpu->hn, name, &n_elements);
  const HdTensor *t = hd_safetensors_lookup (p->gpu->hn->st, name);
  gsize n = (gsize) (as_is ? t->shape[1] : t->shape[0]);
  gsize k = (gsize) (as_is ? t->shape[0] : t->shape[1]);
  gsize k_padded = (k + 3) / 4 * 4;
  GArray *array = f32 ? p->floats : p->halves;
  guint32 offset = (array->len + 3) / 4 * 4;

  /* g_array_set_size zeroes the new elements (the arrays are cleared). */
  g_array_set_size (array, offset + k_padded * n);
  for (gsize kk = 0; kk < k; kk++)
    for (gsize nn = 0; nn < n; nn++)
      {
        float v = as_is ? m[kk * n + nn] : m[nn * k + kk];
        gsize at = offset + ((kk / 4) * n + nn) * 4 + kk % 4;

        if (f32)
          g_array_index (array, float, at) = v;
        else
          g_array_index (array, guint16, at) = hd_float_to_half (v);
      }
  return offset;
}

static guint32
pack_floats (Packer      *p,
             const float *values,
             gsize        n)
{
  guint32 offset = p->floats->len;

  g_array_append_vals (p->floats, values, n);
  return offset;
}

/* The vector named as printf makes it. */
#define pack_vectorf(p, ...) \
  ({ gsize n_; g_autofree float *v_ = hd_hypernetwork_get_f32_printf ((p)->gpu->hn, &n_, __VA_ARGS__); \
     pack_floats ((p), v_, n_); })

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

  gpu->layers = g_new0 (Layer, hn->clip.layers);
  for (int l = 0; l < hn->clip.layers; l++)
    {
      Layer *L = &gpu->layers[l];
      g_autofree char *b = g_strdup_printf ("clip.transformer.resblocks.%d", l);
      g_autofree char *in_w = g_strdup_printf ("%s.attn.in_proj_weight", b);
      g_autofree char *out_w = g_strdup_printf ("%s.attn.out_proj.weight", b);
      g_autofree char *fc_w = g_strdup_printf ("%s.mlp.c_fc.weight", b);
      g_autofree char *proj_w = g_strdup_printf ("%s.mlp.c_proj.weight", b);

      L->ln1_w = pack_vectorf (p, "%s.ln_1.weight", b);
      L->ln1_b = pack_vectorf (p, "%s.ln_1.bias", b);
      L->in_w = pack_matrix (p, in_w, FALSE, FALSE);
      L->in_b = pack_vectorf (p, "%s.attn.in_proj_bias", b);
      L->out_w = pack_matrix (p, out_w, FALSE, FALSE);
      L->out_b = pack_vectorf (p, "%s.attn.out_proj.bias", b);
      L->ln2_w = pack_vectorf (p, "%s.ln_2.weight", b);
      L->ln2_b = pack_vectorf (p, "%s.ln_2.bias", b);
      L->fc_w = pack_matrix (p, fc_w, FALSE, FALSE);
      L->fc_b = pack_vectorf (p, "%s.mlp.c_fc.bias", b);
      L->proj_w = pack_matrix (p, proj_w, FALSE, FALSE);
      L->proj_b = pack_vectorf (p, "%s.mlp.c_proj.bias", b);
    }
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
  HdCompute *c = gpu->c;
  Packer p = {
    .gpu = gpu,
    .halves = g_array_new (FALSE, TRUE, sizeof (guint16)),
    .floats = g_array_new (FALSE, TRUE, sizeof (float)),
  };
  gsize n_act;
  gboolean ok = FALSE;

  pack_all (gpu, &p);
  plan_activations (gpu, &n_act);
  if (p.halves->len > hd_compute_max_texels (c) || n_act > hd_compute_max_texels (c))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: the text model has %u weights, more than this device’s texel buffers "
                     "hold (%zu)"), gpu->hn->path, p.halves->len, hd_compute_max_texels (c));
      goto out;
    }
  gpu->weights = hd_compute_buffer (c, MEM_WEIGHTS, "The text weights",
                                    MAX (p.halves->len, 8) * sizeof (guint16), HD_VK_MEMORY_DEVICE, error);
  if (gpu->weights == NULL ||
      !hd_compute_upload (c, gpu->weights, 0, p.halves->data, p.halves->len * sizeof (guint16), error))
    goto out;
  gpu->params = hd_compute_buffer_upload (c, MEM_PARAMS, "The text biases and norms",
                                          (const float *) p.floats->data, MAX (p.floats->len, 4), error);
  if (gpu->params == NULL)
    goto out;
  gpu->act = hd_compute_buffer (c, MEM_ACT, "The text activations", n_act * sizeof (float),
                                HD_VK_MEMORY_DEVICE, error);
  gpu->readback = gpu->act == NULL ? NULL :
                  hd_compute_buffer (c, MEM_READ, "The text readback",
                                     (gpu->n_out + gpu->hn->clip.embed_dim) * sizeof (float),
                                     HD_VK_MEMORY_READBACK, error);
  ok = gpu->readback != NULL;
out:
  g_array_unref (p.halves);
  g_array_unref (p.floats);
  return ok;
}

static gboolean
create_sets (HdTextGpu  *gpu,
             GError    **error)
{
  const HdVkBuffer *bufs[HD_COMPUTE_BINDINGS] = { gpu->act };
  VkBufferView views[HD_COMPUTE_TEXEL_BINDINGS];

  if ((views[0] = hd_compute_texel_view (gpu->c, gpu->weights, VK_FORMAT_R16_SFLOAT, error)) == NULL ||
      (views[1] = hd_compute_texel_view (gpu->c, gpu->act, VK_FORMAT_R32_SFLOAT, error)) == NULL ||
      (views[2] = hd_compute_texel_view (gpu->c, gpu->params, VK_FORMAT_R32_SFLOAT, error)) == NULL)
    return FALSE;
  if ((views[3] = hd_compute_texel_view (gpu->c, gpu->weights, VK_FORMAT_R16G16B16A16_SFLOAT, error)) == NULL ||
      (views[4] = hd_compute_texel_view (gpu->c, gpu->params, VK_FORMAT_R32G32B32A32_SFLOAT, error)) == NULL)
    return FALSE;
  gpu->set = hd_compute_storage_set (gpu->c, bufs, gpu->act, error);
  if (gpu->set == VK_NULL_HANDLE)
    return FALSE;
  gpu->texel_set = hd_compute_texel_set (gpu->c, views, error);
  return gpu->texel_set != VK_NULL_HANDLE;
}

static guint32
gemm_rows (guint32 m)
{
  return MIN (m, HD_TEXT_GEMM_ROWS);
}

/* The linear-layer kernel for M rows (specialized for exactly M rows a
 * workgroup up to 16, so that no row is computed for nothing), with float
 * weights (F32) or half.  Made on first use; the compute layer keeps
 * them. */
static HdKernel *
gemm_kernel (HdTextGpu  *gpu,
             guint32     m,
             gboolean    f32,
             GError    **error)
{
  guint32 rows = gemm_rows (m);
  HdKernelInfo info = {
    .shader = gpu->lanes ? "text_gemm_lanes" : "text_gemm",
    .n_constants = 2,
    .constants = { rows, f32 ? 1 : 0 },
    .subgroup_size = gpu->lanes ? 8 : 0,
  };

  return hd_compute_kernel (gpu->c, &info, error);
}

static gboolean
create_kernels (HdTextGpu  *gpu,
                GError    **error)
{
  HdKernelInfo norm = { .shader = "text_norm" };
  HdKernelInfo attention = { .shader = "text_attention" };

  gpu->lanes = hd_vk_context_get_device_info (hd_compute_get_context (gpu->c))->type ==
               VK_PHYSICAL_DEVICE_TYPE_CPU &&
               hd_vk_context_supports_subgroup_size (hd_compute_get_context (gpu->c), 8, 8);
  return gemm_kernel (gpu, 1, TRUE, error) != NULL &&
         (gpu->norm = hd_compute_kernel (gpu->c, &norm, error)) != NULL &&
         (gpu->attention = hd_compute_kernel (gpu->c, &attention, error)) != NULL;
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
  gpu->c = hd_compute_new (ctx, NULL, error);
  if (gpu->c == NULL || !create_kernels (gpu, error) || !upload_all (gpu, error) ||
      !create_sets (gpu, error))
    return NULL;
  return g_steal_pointer (&gpu);
}

void
hd_text_gpu_free (HdTextGpu *gpu)
{
  if (gpu == NULL)
    return;
  /* The command buffers go with the compute layer's pool. */
  g_clear_pointer (&gpu->c, hd_compute_free);
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
  HdTextGpu       *gpu;
  VkCommandBuffer  cb;
  GError          *error;    /* the first failure */
} Rec;

/* A linear layer of the text encoder (half-precision weights) or, with
 * F32, of the mapper. */
static void
dispatch_gemm (Rec            *rec,
               HdTextGemmPush  push,
               gboolean        f32,
               const char     *label)
{
  HdKernel *kernel = gemm_kernel (rec->gpu, push.m, f32, rec->error == NULL ? &rec->error : NULL);

  if (kernel == NULL)
    return;
  hd_compute_dispatch (rec->gpu->c, rec->cb, kernel, rec->gpu->set, &push, sizeof push,
                       hd_compute_groups (push.n, 64), hd_compute_groups (push.m, gemm_rows (push.m)), 1,
                       label);
  hd_compute_barrier (rec->cb);
}

/* A GEMM without epilogue options beyond a bias: fill in the rest. */
static HdTextGemmPush
gemm_push (guint32 m,
           guint32 n,
           guint32 k,
           guint32 x_off,
           guint32 y_off,
           guint32 w_off,
           guint32 bias_off)
{
  return (HdTextGemmPush) {
    .m = m, .n = n, .k = k,
    .x_off = x_off, .x_stride = k, .y_off = y_off, .y_stride = n,
    .w_off = w_off, .bias_off = bias_off,
    .pre_scale_off = HD_TEXT_NONE, .pre_shift_off = HD_TEXT_NONE,
    .post_scale_off = HD_TEXT_NONE, .post_shift_off = HD_TEXT_NONE,
    .act = HD_TEXT_ACT_NONE, .act_param_off = 0, .res_off = HD_TEXT_NONE,
  };
}

static void
dispatch_norm (Rec            *rec,
               HdTextNormPush  push)
{
  hd_compute_dispatch (rec->gpu->c, rec->cb, rec->gpu->norm, rec->gpu->set, &push, sizeof push,
                       hd_compute_groups (push.rows, 32), 1, 1, "norm");
  hd_compute_barrier (rec->cb);
}

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

static void
record_transformer (Rec     *rec,
                    guint32  m)
{
  HdTextGpu *gpu = rec->gpu;
  guint32 w = gpu->hn->clip.width;

  for (int l = 0; l < gpu->hn->clip.layers; l++)
    {
      const Layer *L = &gpu->layers[l];
      HdTextAttentionPush attention = {
        .rows = m, .width = w, .heads = gpu->hn->clip.heads,
        .qkv_off = gpu->qkv_off, .out_off = gpu->o_off,
      };
      HdTextGemmPush out = gemm_push (m, w, w, gpu->o_off, gpu->x_off, L->out_w, L->out_b);
      HdTextGemmPush fc = gemm_push (m, 4 * w, w, gpu->a_off, gpu->h_off, L->fc_w, L->fc_b);
      HdTextGemmPush proj = gemm_push (m, w, 4 * w, gpu->h_off, gpu->x_off, L->proj_w, L->proj_b);

      dispatch_norm (rec, (HdTextNormPush) { .rows = m, .n = w, .x_off = gpu->x_off, .y_off = gpu->a_off,
                                             .stride = w, .weight_off = L->ln1_w, .bias_off = L->ln1_b });
      dispatch_gemm (rec, gemm_push (m, 3 * w, w, gpu->a_off, gpu->qkv_off, L->in_w, L->in_b), FALSE,
                     "attention");
      hd_compute_dispatch (gpu->c, rec->cb, gpu->attention, gpu->set, &attention, sizeof attention,
                           hd_compute_groups ((gsize) m * attention.heads, 32), 1, 1, "attention");
      hd_compute_barrier (rec->cb);
      out.res_off = gpu->x_off;
      dispatch_gemm (rec, out, FALSE, "attention");
      dispatch_norm (rec, (HdTextNormPush) { .rows = m, .n = w, .x_off = gpu->x_off, .y_off = gpu->a_off,
                                             .stride = w, .weight_off = L->ln2_w, .bias_off = L->ln2_b });
      fc.act = HD_TEXT_ACT_QUICKGELU;
      dispatch_gemm (rec, fc, FALSE, "mlp");
      proj.res_off = gpu->x_off;
      dispatch_gemm (rec, proj, FALSE, "mlp");
    }
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
  Rec rec = { .gpu = gpu };

  if (gpu->commands[m] != VK_NULL_HANDLE)
    return gpu->commands[m];
  rec.cb = hd_compute_begin (gpu->c, 0, "Recording the text encoder", error);
  if (rec.cb == VK_NULL_HANDLE)
    return VK_NULL_HANDLE;
  hd_compute_reset_marks (gpu->c, rec.cb);
  hd_compute_timestamp (gpu->c, rec.cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0);
  hd_compute_bind_texel_set (gpu->c, rec.cb, gpu->texel_set);
  record_transformer (&rec, m);
  hd_compute_timestamp (gpu->c, rec.cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 1);
  record_head (&rec, m);
  hd_compute_record_readback (rec.cb, gpu->act, gpu->readback,
                              (gpu->n_out + gpu->hn->clip.embed_dim) * sizeof (float));
  hd_compute_timestamp (gpu->c, rec.cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 2);
  if (!hd_vk_check (vkEndCommandBuffer (rec.cb), "Recording the text encoder", error) ||
      rec.error != NULL)
    {
      if (rec.error != NULL)
        g_propagate_error (error, rec.error);
      hd_compute_free_commands (gpu->c, 1, &rec.cb);
      return VK_NULL_HANDLE;
    }
  gpu->commands[m] = rec.cb;
  return rec.cb;
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
      !hd_compute_upload (gpu->c, gpu->act, gpu->x_off * sizeof (float), x, (gsize) rows * w * sizeof (float),
                          error) ||
      !hd_compute_submit (gpu->c, cb, error))
    return FALSE;

  out = gpu->readback->mapped;
  memcpy (d, out, gpu->n_out * sizeof (float));
  if (e != NULL)
    memcpy (e, out + gpu->n_out, hn->clip.embed_dim * sizeof (float));
  gpu->gpu_ms = hd_compute_read_marks (gpu->c, ms) ? ms[2] : 0.0;
  return TRUE;
}

guint64
hd_text_gpu_get_device_bytes (HdTextGpu *gpu)
{
  return hd_compute_get_device_bytes (gpu->c);
}

double
hd_text_gpu_get_gpu_ms (HdTextGpu *gpu)
{
  return gpu->gpu_ms;
}

char *
hd_text_gpu_get_memory_report (HdTextGpu *gpu)
{
  return hd_compute_get_memory_report (gpu->c);
}
