// SPDX-License-Identifier: GPL-3.0-or-later
// Mapping input: x = z * rsqrt(mean(z²) + 1e-8), one workgroup.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "hd-common.glsl"

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer Frame { float frame[]; };
layout (std430, binding = 1) buffer Latent { float latent[]; };

#define HD_PUSH_MAP_NORM
#include "hd-push.h"

shared float partial[256];

void
main ()
{
  uint t = gl_LocalInvocationID.x;
  float acc = 0.0;

  for (uint i = t; i < pc.z_dim; i += 256)
    {
      float v = frame[pc.z_off + i];
      acc += v * v;
    }
  partial[t] = acc;
  barrier ();
  for (uint s = 128; s > 0; s >>= 1)
    {
      if (t < s)
        partial[t] += partial[t + s];
      barrier ();
    }

  float norm = inversesqrt (partial[0] / float (pc.z_dim) + 1e-8);
  for (uint i = t; i < pc.z_dim; i += 256)
    latent[pc.out_off + i] = frame[pc.z_off + i] * norm;
}
