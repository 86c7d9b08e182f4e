/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's transformer stages on the compute layer: see hd-tower-gpu.h. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-model.h"
#include "hd-error.h"
#include "hd-half.h"
#include "hd-tower-gpu.h"

#define MEM_WEIGHTS "CLIP weights (half precision)"
#define MEM_PARAMS  "CLIP biases, norms and float weights"
#define MEM_ACT     "CLIP activations"
#define MEM_READ    "readback"

struct _HdTowerGpu {
  HdCompute      *c;
  HdKernel       *norm, *attention;
  gboolean        lanes;            /* text_gemm_lanes: subgroups of 8 */
  HdVkBuffer     *weights, *params, *act, *readback;
  gsize           n_read;
  VkDescriptorSet set, texel_set;
  /* A second set of weights (hd_tower_gpu_upload_full), or none. */
  HdVkBuffer     *weights2, *params2;
  VkDescriptorSet texel_set2;
};

/* ------------------------------------------------------------------------ */
/* Packing                                                                  */

void
hd_tower_packer_init (HdTowerPacker *p,
                      HdSafetensors *st)
{
  p->st = st;
  p->halves = g_array_new (FALSE, TRUE, sizeof (guint16));
  p->floats = g_array_new (FALSE, TRUE, sizeof (float));
  p->f32 = FALSE;
}

void
hd_tower_packer_clear (HdTowerPacker *p)
{
  g_clear_pointer (&p->halves, g_array_unref);
  g_clear_pointer (&p->floats, g_array_unref);
}

/* [K/4][N][4]: four consecutive k of one n together, K padded to fours
 * with zeros.  The offset is a multiple of 4 (a vec4 texel). */
guint32
hd_tower_pack_array (HdTowerPacker *p,
                     const float   *m,
                     gsize          rows,
                     gsize          cols,
                     gboolean       as_is,
                     gboolean       f32)
{
  gsize n = as_is ? cols : rows;
  gsize k = as_is ? rows : cols;
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

guint32
hd_tower_pack_matrix (HdTowerPacker *p,
                      const char    *name,
                      gboolean       as_is,
                      gboolean       f32)
{
  gsize n_elements;
  g_autofree float *m = hd_clip_get_f32 (p->st, &n_elements, "%s", name);
  const HdTensor *t = hd_safetensors_lookup (p->st, name);
  gsize rows = (gsize) t->shape[0];

  return hd_tower_pack_array (p, m, rows, n_elements / MAX (rows, 1), as_is, f32);
}

guint32
hd_tower_pack_floats (HdTowerPacker *p,
                      const float   *values,
                      gsize          n)
{
  guint32 offset = p->floats->len;

  g_array_append_vals (p->floats, values, n);
  return offset;
}

guint32
hd_tower_pack_vector (HdTowerPacker *p,
                      const char    *format,
                      ...)
{
  g_autofree char *name = NULL;
  g_autofree float *v = NULL;
  va_list args;
  gsize n;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  v = hd_clip_get_f32 (p->st, &n, "%s", name);
  return hd_tower_pack_floats (p, v, n);
}

HdTowerBlock *
hd_tower_pack_blocks (HdTowerPacker *p,
                      const char    *prefix,
                      int            layers)
{
  HdTowerBlock *blocks = g_new0 (HdTowerBlock, MAX (layers, 1));

  for (int l = 0; l < layers; l++)
    {
      HdTowerBlock *L = &blocks[l];
      g_autofree char *b = g_strdup_printf ("%stransformer.resblocks.%d", prefix, l);
      g_autofree char *in_w = g_strdup_printf ("%s.attn.in_proj_weight", b);
      g_autofree char *out_w = g_strdup_printf ("%s.attn.out_proj.weight", b);
      g_autofree char *fc_w = g_strdup_printf ("%s.mlp.c_fc.weight", b);
      g_autofree char *proj_w = g_strdup_printf ("%s.mlp.c_proj.weight", b);

      L->ln1_w = hd_tower_pack_vector (p, "%s.ln_1.weight", b);
      L->ln1_b = hd_tower_pack_vector (p, "%s.ln_1.bias", b);
      L->in_w = hd_tower_pack_matrix (p, in_w, FALSE, p->f32);
      L->in_b = hd_tower_pack_vector (p, "%s.attn.in_proj_bias", b);
      L->out_w = hd_tower_pack_matrix (p, out_w, FALSE, p->f32);
      L->out_b = hd_tower_pack_vector (p, "%s.attn.out_proj.bias", b);
      L->ln2_w = hd_tower_pack_vector (p, "%s.ln_2.weight", b);
      L->ln2_b = hd_tower_pack_vector (p, "%s.ln_2.bias", b);
      L->fc_w = hd_tower_pack_matrix (p, fc_w, FALSE, p->f32);
      L->fc_b = hd_tower_pack_vector (p, "%s.mlp.c_fc.bias", b);
      L->proj_w = hd_tower_pack_matrix (p, proj_w, FALSE, p->f32);
      L->proj_b = hd_tower_pack_vector (p, "%s.mlp.c_proj.bias", b);
    }
  return blocks;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

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
gemm_kernel (HdTowerGpu  *gpu,
             guint32      m,
             gboolean     f32,
             GError     **error)
{
  HdKernelInfo info = {
    .shader = gpu->lanes ? "text_gemm_lanes" : "text_gemm",
    .n_constants = 2,
    .constants = { gemm_rows (m), f32 ? 1 : 0 },
    .subgroup_size = gpu->lanes ? 8 : 0,
  };

  return hd_compute_kernel (gpu->c, &info, error);
}

HdTowerGpu *
hd_tower_gpu_new (HdVkContext  *ctx,
                  GError      **error)
{
  g_autoptr(HdTowerGpu) gpu = g_new0 (HdTowerGpu, 1);
  HdKernelInfo norm = { .shader = "text_norm" };
  HdKernelInfo attention = { .shader = "text_attention" };

  gpu->c = hd_compute_new (ctx, NULL, error);
  if (gpu->c == NULL)
    return NULL;
  gpu->lanes = hd_vk_context_get_device_info (ctx)->type == VK_PHYSICAL_DEVICE_TYPE_CPU &&
               hd_vk_context_supports_subgroup_size (ctx, 8, 8);
  if (gemm_kernel (gpu, 1, TRUE, error) == NULL ||
      (gpu->norm = hd_compute_kernel (gpu->c, &norm, error)) == NULL ||
      (gpu->attention = hd_compute_kernel (gpu->c, &attention, error)) == NULL)
    return NULL;
  return g_steal_pointer (&gpu);
}

void
hd_tower_gpu_free (HdTowerGpu *gpu)
{
  if (gpu == NULL)
    return;
  /* Buffers, sets and command buffers go with the compute layer. */
  g_clear_pointer (&gpu->c, hd_compute_free);
  g_free (gpu);
}

HdCompute *
hd_tower_gpu_get_compute (HdTowerGpu *gpu)
{
  return gpu->c;
}

HdVkBuffer *
hd_tower_gpu_get_activations (HdTowerGpu *gpu)
{
  return gpu->act;
}

const float *
hd_tower_gpu_get_readback (HdTowerGpu *gpu)
{
  return gpu->readback->mapped;
}

/* The texel set of WEIGHTS and PARAMS (with the activations). */
static VkDescriptorSet
texel_set (HdTowerGpu   *gpu,
           HdVkBuffer   *weights,
           HdVkBuffer   *params,
           GError      **error)
{
  VkBufferView views[HD_COMPUTE_TEXEL_BINDINGS];

  if ((views[0] = hd_compute_texel_view (gpu->c, weights, VK_FORMAT_R16_SFLOAT, error)) == NULL ||
      (views[1] = hd_compute_texel_view (gpu->c, gpu->act, VK_FORMAT_R32_SFLOAT, error)) == NULL ||
      (views[2] = hd_compute_texel_view (gpu->c, params, VK_FORMAT_R32_SFLOAT, error)) == NULL ||
      (views[3] = hd_compute_texel_view (gpu->c, weights, VK_FORMAT_R16G16B16A16_SFLOAT, error)) == NULL ||
      (views[4] = hd_compute_texel_view (gpu->c, params, VK_FORMAT_R32G32B32A32_SFLOAT, error)) == NULL)
    return VK_NULL_HANDLE;
  return hd_compute_texel_set (gpu->c, views, error);
}

/* The weights (half) and floats P packed, as texel-only buffers. */
static gboolean
upload_weights (HdTowerGpu     *gpu,
                HdTowerPacker  *p,
                HdVkBuffer    **weights,
                HdVkBuffer    **params,
                const char     *what,
                GError        **error)
{
  HdCompute *c = gpu->c;

  if (p->halves->len > hd_compute_max_texels (c) || p->floats->len > hd_compute_max_texels (c))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: the model has %u weights, more than this device’s texel buffers "
                     "hold (%zu)"), what, MAX (p->halves->len, p->floats->len), hd_compute_max_texels (c));
      return FALSE;
    }
  /* At least one vec4 texel each (zeros: the arrays are cleared). */
  g_array_set_size (p->halves, MAX (p->halves->len, 8));
  g_array_set_size (p->floats, MAX (p->floats->len, 4));
  *weights = hd_compute_texel_buffer_upload (c, MEM_WEIGHTS, "The CLIP weights", p->halves->data,
                                             p->halves->len * sizeof (guint16), error);
  if (*weights == NULL)
    return FALSE;
  *params = hd_compute_texel_buffer_upload (c, MEM_PARAMS, "The CLIP biases and norms", p->floats->data,
                                            p->floats->len * sizeof (float), error);
  return *params != NULL;
}

gboolean
hd_tower_gpu_upload (HdTowerGpu     *gpu,
                     HdTowerPacker  *p,
                     gsize           n_act,
                     gsize           n_read,
                     const char     *what,
                     GError        **error)
{
  return hd_tower_gpu_upload_full (gpu, p, NULL, n_act, n_read, what, error);
}

gboolean
hd_tower_gpu_upload_full (HdTowerGpu     *gpu,
                          HdTowerPacker  *p,
                          HdTowerPacker  *p2,
                          gsize           n_act,
                          gsize           n_read,
                          const char     *what,
                          GError        **error)
{
  HdCompute *c = gpu->c;
  const HdVkBuffer *bufs[HD_COMPUTE_BINDINGS] = { NULL };

  if (n_act > hd_compute_max_texels (c))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: the model has %u weights, more than this device’s texel buffers "
                     "hold (%zu)"), what, (guint) n_act, hd_compute_max_texels (c));
      return FALSE;
    }
  if (!upload_weights (gpu, p, &gpu->weights, &gpu->params, what, error) ||
      (p2 != NULL && !upload_weights (gpu, p2, &gpu->weights2, &gpu->params2, what, error)))
    return FALSE;
  gpu->act = hd_compute_buffer (c, MEM_ACT, "The CLIP activations", MAX (n_act, 4) * sizeof (float),
                                HD_VK_MEMORY_DEVICE, error);
  if (gpu->act == NULL)
    return FALSE;
  gpu->n_read = n_read;
  gpu->readback = hd_compute_buffer (c, MEM_READ, "The CLIP readback", MAX (n_read, 4) * sizeof (float),
                                     HD_VK_MEMORY_READBACK, error);
  if (gpu->readback == NULL)
    return FALSE;
  bufs[0] = gpu->act;
  gpu->set = hd_compute_storage_set (c, bufs, gpu->act, error);
  if (gpu->set == VK_NULL_HANDLE ||
      (gpu->texel_set = texel_set (gpu, gpu->weights, gpu->params, error)) == VK_NULL_HANDLE)
    return FALSE;
  if (p2 != NULL &&
      (gpu->texel_set2 = texel_set (gpu, gpu->weights2, gpu->params2, error)) == VK_NULL_HANDLE)
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

gboolean
hd_tower_rec_begin (HdTowerRec  *rec,
                    HdTowerGpu  *gpu,
                    const char  *what,
                    GError     **error)
{
  memset (rec, 0, sizeof *rec);
  rec->gpu = gpu;
  rec->cb = hd_compute_begin (gpu->c, 0, what, error);
  if (rec->cb == VK_NULL_HANDLE)
    return FALSE;
  hd_compute_reset_marks (gpu->c, rec->cb);
  hd_compute_timestamp (gpu->c, rec->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0);
  hd_compute_bind_texel_set (gpu->c, rec->cb, gpu->texel_set);
  rec->weights = 0;
  return TRUE;
}

VkCommandBuffer
hd_tower_rec_end (HdTowerRec  *rec,
                  const char  *what,
                  GError     **error)
{
  HdTowerGpu *gpu = rec->gpu;

  hd_compute_record_readback (rec->cb, gpu->act, gpu->readback, gpu->n_read * sizeof (float));
  hd_compute_timestamp (gpu->c, rec->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 2);
  if (!hd_vk_check (vkEndCommandBuffer (rec->cb), what, error) || rec->error != NULL)
    {
      if (rec->error != NULL)
        g_propagate_error (error, g_steal_pointer (&rec->error));
      hd_compute_free_commands (gpu->c, 1, &rec->cb);
      return VK_NULL_HANDLE;
    }
  return rec->cb;
}

void
hd_tower_rec_use_weights (HdTowerRec *rec,
                          int         which)
{
  HdTowerGpu *gpu = rec->gpu;

  g_return_if_fail (which == 0 || gpu->texel_set2 != VK_NULL_HANDLE);
  if (rec->weights == which)
    return;
  hd_compute_bind_texel_set (gpu->c, rec->cb, which == 0 ? gpu->texel_set : gpu->texel_set2);
  rec->weights = which;
}

HdTextGemmPush
hd_tower_gemm_push (guint32 m,
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
    .act = HD_TEXT_ACT_NONE, .act_param_off = 0, .res_off = HD_TEXT_NONE, .aux_off = HD_TEXT_NONE,
    .x_kstride = 1,
  };
}

void
hd_tower_dispatch_gemm (HdTowerRec     *rec,
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

void
hd_tower_dispatch (HdTowerRec *rec,
                   HdKernel   *kernel,
                   const void *push,
                   gsize       push_size,
                   guint32     groups_x,
                   guint32     groups_y,
                   const char *label)
{
  hd_compute_dispatch (rec->gpu->c, rec->cb, kernel, rec->gpu->set, push, push_size,
                       groups_x, groups_y, 1, label);
  hd_compute_barrier (rec->cb);
}

void
hd_tower_dispatch_norm (HdTowerRec     *rec,
                        HdTextNormPush  push)
{
  hd_tower_dispatch (rec, rec->gpu->norm, &push, sizeof push, hd_compute_groups (push.rows, 32), 1, "norm");
}

void
hd_tower_dispatch_attention (HdTowerRec          *rec,
                             HdTextAttentionPush  push,
                             guint32              sequences)
{
  hd_tower_dispatch (rec, rec->gpu->attention, &push, sizeof push,
                     hd_compute_groups ((gsize) push.rows * push.heads, 32), sequences, "attention");
}

void
hd_tower_record_blocks (HdTowerRec           *rec,
                        const HdTowerBlock   *blocks,
                        int                   layers,
                        guint32               w,
                        guint32               heads,
                        guint32               m,
                        gboolean              causal,
                        const HdTowerRegions *r)
{
  for (int l = 0; l < layers; l++)
    {
      const HdTowerBlock *L = &blocks[l];
      HdTextAttentionPush attention = {
        .rows = m, .width = w, .heads = heads, .qkv_off = r->qkv, .out_off = r->o,
        .causal = causal ? 1 : 0,
      };
      HdTextGemmPush out = hd_tower_gemm_push (m, w, w, r->o, r->x, L->out_w, L->out_b);
      HdTextGemmPush fc = hd_tower_gemm_push (m, 4 * w, w, r->a, r->h, L->fc_w, L->fc_b);
      HdTextGemmPush proj = hd_tower_gemm_push (m, w, 4 * w, r->h, r->x, L->proj_w, L->proj_b);

      hd_tower_dispatch_norm (rec, (HdTextNormPush) { .rows = m, .n = w, .x_off = r->x, .y_off = r->a,
                                                      .stride = w, .weight_off = L->ln1_w,
                                                      .bias_off = L->ln1_b });
      hd_tower_dispatch_gemm (rec, hd_tower_gemm_push (m, 3 * w, w, r->a, r->qkv, L->in_w, L->in_b),
                              FALSE, "attention");
      hd_tower_dispatch_attention (rec, attention, 1);
      out.res_off = r->x;
      hd_tower_dispatch_gemm (rec, out, FALSE, "attention");
      hd_tower_dispatch_norm (rec, (HdTextNormPush) { .rows = m, .n = w, .x_off = r->x, .y_off = r->a,
                                                      .stride = w, .weight_off = L->ln2_w,
                                                      .bias_off = L->ln2_b });
      fc.act = HD_TEXT_ACT_QUICKGELU;
      hd_tower_dispatch_gemm (rec, fc, FALSE, "mlp");
      proj.res_off = r->x;
      hd_tower_dispatch_gemm (rec, proj, FALSE, "mlp");
    }
}
