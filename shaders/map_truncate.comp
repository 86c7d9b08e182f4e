// SPDX-License-Identifier: GPL-3.0-or-later
// Broadcast to num_ws and truncation: w_k = w_avg + psi (w_k - w_avg) for
// k < cutoff.  The source is the mapping output (the same w for every k)
// or a W / W+ latent uploaded by the host.  Then the style latents of
// image-driven domains, when the frame has them.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "hd-common.glsl"

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Frame { float frame[]; };
layout (std430, binding = 1) buffer Latent { float latent[]; };
layout (std430, binding = 2) readonly buffer Mapping { float mapping[]; };

#define HD_PUSH_TRUNCATE
#include "hd-push.h"

void
main ()
{
  uint idx = gl_GlobalInvocationID.x;
  if (idx >= pc.w_dim * pc.num_ws)
    return;

  uint k = idx / pc.w_dim;
  uint j = idx - k * pc.w_dim;
  uint src = pc.src_off + k * pc.src_stride + j;
  float w = pc.from_frame != 0 ? frame[src] : latent[src];
  float psi = frame[HD_FRAME_PSI];
  int cutoff = floatBitsToInt (frame[HD_FRAME_CUTOFF]);

  // psi = 1 leaves w untouched, bit for bit (NVlabs skips the lerp then).
  if (psi != 1.0 && (cutoff < 0 || int (k) < cutoff))
    {
      float avg = mapping[pc.avg_off + j];
      w = avg + psi * (w - avg);
    }
  // Style latents after truncation (generator-math §7).
  if (floatBitsToInt (frame[HD_FRAME_STYLE]) != 0)
    {
      precise float keep = 1.0 - frame[pc.style_off + k];
      precise float mixed = keep * w + frame[pc.style_off + pc.num_ws + idx];
      w = mixed;
    }
  latent[pc.ws_off + idx] = w;
}
