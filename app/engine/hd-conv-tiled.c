/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The tiled conv family: conv.comp, a tiled implicit GEMM through shared
 * memory (see the shader), for GPUs and any other device.  The up conv
 * runs as one fused polyphase conv (a 3x3 kernel per output parity,
 * 36 multiply-adds per input pixel per (o, i)), which needs no
 * intermediate and keeps a GPU's arithmetic dense. */
#include "hd-renderer-private.h"

static const char *
tiled_device_unsupported (HdRenderer *r)
{
  return NULL;
}

static const char *
tiled_layer_unsupported (HdRenderer *r,
                         int         index)
{
  return NULL;
}

static void
tiled_plan (HdRenderer *r,
            int         index)
{
  HdConvGpu *gpu = &r->convs[index];

  gpu->group = HD_TILED_TILE_CO;
  gpu->ci_pack = 1;
  gpu->polyphase = r->gen->convs[index].up;
}

static gboolean
tiled_prepare (HdRenderer  *r,
               int          index,
               GError     **error)
{
  const HdConvLayer *conv = &r->gen->convs[index];
  HdConvGpu *gpu = &r->convs[index];
  HdKernelInfo info = {
    .shader = conv->up ? "conv_up" : "conv",
    .n_constants = 6,
    .constants = {
      HD_TILED_TILE_CO, HD_TILED_TILE_H, HD_TILED_TILE_W, HD_TILED_CI_CHUNK, HD_TILED_PX_PT,
      HD_TILED_WG_SIZE (HD_TILED_TILE_CO, HD_TILED_TILE_H, HD_TILED_TILE_W, HD_TILED_PX_PT),
    },
  };

  gpu->kernel = hd_compute_kernel (r->compute, &info, error);
  gpu->tile_rows = HD_TILED_TILE_H;
  gpu->groups[0] = hd_compute_groups (conv->in_res, HD_TILED_TILE_W);
  gpu->groups[1] = hd_compute_groups (conv->in_res, HD_TILED_TILE_H);
  gpu->groups[2] = hd_compute_groups (hd_conv_n_virtual (conv, gpu), HD_TILED_TILE_CO);
  return gpu->kernel != NULL;
}

const HdConvFamily hd_conv_tiled = {
  .kernel = HD_CONV_KERNEL_TILED,
  .name = "tiled",
  .device_unsupported = tiled_device_unsupported,
  .layer_unsupported = tiled_layer_unsupported,
  .plan = tiled_plan,
  .prepare = tiled_prepare,
  .bind = NULL,
  .texel_mapping = FALSE,
};
