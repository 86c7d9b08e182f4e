// SPDX-License-Identifier: GPL-3.0-or-later
// One mapping layer: y = lrelu(x · Wᵀ + b) · sqrt(2), with the gain
// (lr / sqrt(in)) and the bias multiplier (lr) folded in at load.  The
// weights are stored transposed, [in][out], so neighbouring invocations
// (neighbouring outputs) read neighbouring floats.
//
// With -DTEXEL (CPU devices) the weights and the input are read through
// uniform texel buffer views of the same buffers (set 1, bindings 0 and
// 1; the output goes to another part of the latent buffer): on lavapipe that is
// a vector gather, where a storage-buffer load whose address differs
// between lanes runs as a loop over the lanes (see conv_cpu.comp).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "hd-common.glsl"

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Mapping { float mapping[]; };
layout (std430, binding = 1) buffer Latent { float latent[]; };
#ifdef TEXEL
layout (set = 1, binding = 0) uniform samplerBuffer mapping_t;
layout (set = 1, binding = 1) uniform samplerBuffer latent_t;
#define WEIGHT(i) texelFetch (mapping_t, int (i)).x
#define INPUT(i) texelFetch (latent_t, int (i)).x
#else
#define WEIGHT(i) mapping[i]
#define INPUT(i) latent[i]
#endif

#define HD_PUSH_MAP_FC
#include "hd-push.h"

void
main ()
{
  uint o = gl_GlobalInvocationID.x;
  float acc = 0.0;

  if (o >= pc.out_features)
    return;
  for (uint i = 0; i < pc.in_features; i++)
    acc += INPUT (pc.in_off + i) * WEIGHT (pc.weight_off + i * pc.out_features + o);
  latent[pc.out_off + o] = lrelu_gain (acc + mapping[pc.bias_off + o]);
}
