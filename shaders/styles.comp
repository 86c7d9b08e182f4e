// SPDX-License-Identifier: GPL-3.0-or-later
// Every style of every layer in one dispatch: s = w_k · Aᵀ + a, where the
// affine weights are pre-scaled at load by 1/sqrt(w_dim) (and ToRGB rows
// also by 1/sqrt(C_in)).  The table is stored transposed, [w_dim][rows],
// so neighbouring rows are neighbouring floats; a per-row table says which
// w_k feeds the row.
//
// With -DTEXEL (CPU devices) the affine weights and the latents are read
// through uniform texel buffer views of the same buffers (set 1, bindings
// 2 and 1), which lavapipe runs as vector gathers; see map_fc.comp.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Affine { uint affine[]; };
layout (std430, binding = 1) readonly buffer Latent { float latent[]; };
#ifdef TEXEL
layout (set = 1, binding = 1) uniform samplerBuffer latent_t;
layout (set = 1, binding = 2) uniform samplerBuffer affine_t;
#define LATENT(i) texelFetch (latent_t, int (i)).x
#define AFFINE_F(i) texelFetch (affine_t, int (i)).x
#else
#define LATENT(i) latent[i]
#define AFFINE_F(i) uintBitsToFloat (affine[i])
#endif
layout (std430, binding = 2) writeonly buffer Styles { float styles[]; };

#define HD_PUSH_STYLES
#include "hd-push.h"

void
main ()
{
  uint r = gl_GlobalInvocationID.x;
  if (r >= pc.rows)
    return;

  uint w_base = pc.ws_off + affine[pc.windex_off + r] * pc.w_dim;
  float acc = 0.0;
  for (uint j = 0; j < pc.w_dim; j++)
    acc += LATENT (w_base + j) * AFFINE_F (pc.weight_off + j * pc.rows + r);
  styles[r] = acc + uintBitsToFloat (affine[pc.bias_off + r]);
}
