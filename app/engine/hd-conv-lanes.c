/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The lanes conv family, for CPU Vulkan devices (lavapipe): conv_cpu.comp
 * treats a subgroup as one SIMD register, one output channel per lane.
 * There a storage-buffer load with a varying address is a loop over the
 * lanes, but a texel fetch is a vector gather and a shuffle between lanes
 * is one instruction: so these kernels read their inner loops' data
 * through texel buffers (descriptor set 1).
 *
 * Kernels, by the layer's shape:
 *   4x4 inputs     conv_cpu with 4x4 tiles (most of an 8x8 tile would
 *                  be padding); the up conv in polyphase form;
 *   up convs       tconv_cpu.comp: the transposed conv (9 multiply-adds
 *                  per input pixel per (o, i), against 36 for the
 *                  polyphase form), the blur and the epilogue in one
 *                  pass, each lane keeping its channel's part of the
 *                  (2H + 1)² intermediate in registers: on a CPU the
 *                  arithmetic is the cost;
 *   the rest       conv_cpu with 8x8 tiles. */
#include "hd-renderer-private.h"

static const char *
lanes_device_unsupported (HdRenderer *r)
{
  if (!hd_vk_context_supports_subgroup_size (r->ctx, HD_LANES_SG, HD_LANES_NSG))
    return "it needs subgroups of exactly 8 invocations";
  return NULL;
}

static const char *
lanes_layer_unsupported (HdRenderer *r,
                         int         index)
{
  HdGenerator *gen = r->gen;
  const HdConvLayer *conv = &gen->convs[index];
  HdConvGpu layout;
  gsize largest;

  /* Rows are read as whole vec4s. */
  if (conv->in_res % 4 != 0)
    return "a resolution that is not a multiple of 4";
  /* The activations, the noise images and the weights are texel buffers. */
  hd_conv_lanes.plan (r, index);
  layout = r->convs[index];
  largest = MAX (hd_max_activation_floats (gen), (gsize) hd_noise_total_size (gen));
  largest = MAX (largest, hd_conv_weight_floats (conv, &layout));
  if (largest > hd_compute_max_texels (r->compute))
    return "a buffer larger than this device's texel buffers";
  return NULL;
}

static void
lanes_plan (HdRenderer *r,
            int         index)
{
  const HdConvLayer *conv = &r->gen->convs[index];
  HdConvGpu *gpu = &r->convs[index];

  gpu->group = HD_LANES_SG;
  gpu->ci_pack = 4;
  gpu->polyphase = conv->up && conv->in_res <= HD_LANES_SMALL;
}

static gboolean
lanes_prepare (HdRenderer  *r,
               int          index,
               GError     **error)
{
  const HdConvLayer *conv = &r->gen->convs[index];
  HdConvGpu *gpu = &r->convs[index];
  gboolean small = conv->in_res <= HD_LANES_SMALL;
  gboolean tconv = conv->up && !small;
  guint32 tile_p = tconv ? HD_TCONV_TILE_P : small ? HD_LANES_SMALL : HD_LANES_TILE_P;
  guint32 tile_q = tconv ? HD_TCONV_TILE_Q : small ? HD_LANES_SMALL : HD_LANES_TILE_Q;
  HdKernelInfo info = {
    .shader = tconv ? "tconv_cpu" : conv->up ? "conv_cpu_up" : "conv_cpu",
    .n_constants = 5,
    .constants = { HD_LANES_SG, tile_p, tile_q, HD_LANES_NSG, HD_LANES_SG * HD_LANES_NSG },
    .subgroup_size = HD_LANES_SG,
  };

  gpu->kernel = hd_compute_kernel (r->compute, &info, error);
  gpu->tile_rows = tile_p;
  gpu->groups[0] = hd_compute_groups (conv->in_res, tile_q);
  gpu->groups[1] = hd_compute_groups (conv->in_res, tile_p);
  gpu->groups[2] = hd_compute_groups (hd_compute_groups (hd_conv_n_virtual (conv, gpu), HD_LANES_SG),
                                      HD_LANES_NSG);
  return gpu->kernel != NULL;
}

/* The views every lanes conv reads: the activations and the constant
 * input (as floats and as vec4s), the input scales and the noise. */
static gboolean
create_shared_views (HdRenderer  *r,
                     GError     **error)
{
  HdCompute *c = r->compute;

  if (r->has_texel_views)
    return TRUE;
  for (int i = 0; i < 2; i++)
    if ((r->act_views[i] = hd_compute_texel_view (c, r->act[i], VK_FORMAT_R32_SFLOAT, error)) == VK_NULL_HANDLE ||
        (r->act4_views[i] = hd_compute_texel_view (c, r->act[i], VK_FORMAT_R32G32B32A32_SFLOAT, error)) == VK_NULL_HANDLE)
      return FALSE;
  if ((r->const_view = hd_compute_texel_view (c, r->const_buf, VK_FORMAT_R32_SFLOAT, error)) == VK_NULL_HANDLE ||
      (r->const4_view = hd_compute_texel_view (c, r->const_buf, VK_FORMAT_R32G32B32A32_SFLOAT, error)) == VK_NULL_HANDLE ||
      (r->scale_view = hd_compute_texel_view (c, r->scale_buf, VK_FORMAT_R32_SFLOAT, error)) == VK_NULL_HANDLE ||
      (r->noise_view = hd_compute_texel_view (c, r->noise_buf, VK_FORMAT_R32_SFLOAT, error)) == VK_NULL_HANDLE)
    return FALSE;
  r->has_texel_views = TRUE;
  return TRUE;
}

/* Set 1 of conv INDEX: its input, weights, the scales, the noise images
 * and its input again as vec4s. */
static gboolean
lanes_bind (HdRenderer  *r,
            int          index,
            GError     **error)
{
  HdConvGpu *gpu = &r->convs[index];
  VkBufferView views[HD_COMPUTE_TEXEL_BINDINGS];

  if (!create_shared_views (r, error))
    return FALSE;
  views[0] = index == 0 ? r->const_view : r->act_views[(index - 1) % 2];
  views[1] = hd_compute_texel_view (r->compute, gpu->weights, VK_FORMAT_R32_SFLOAT, error);
  views[2] = r->scale_view;
  views[3] = r->noise_view;
  views[4] = index == 0 ? r->const4_view : r->act4_views[(index - 1) % 2];
  if (views[1] == VK_NULL_HANDLE)
    return FALSE;
  gpu->texel_set = hd_compute_texel_set (r->compute, views, error);
  return gpu->texel_set != VK_NULL_HANDLE;
}

const HdConvFamily hd_conv_lanes = {
  .kernel = HD_CONV_KERNEL_LANES,
  .name = "lanes",
  .device_unsupported = lanes_device_unsupported,
  .layer_unsupported = lanes_layer_unsupported,
  .plan = lanes_plan,
  .prepare = lanes_prepare,
  .bind = lanes_bind,
  .texel_mapping = TRUE,
};
