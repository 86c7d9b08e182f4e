// SPDX-License-Identifier: GPL-3.0-or-later
// The end of a conv's backward pass in a training step
// (train-common.glsl): for input channel i = the workgroup's x and sample
// s = its z, from g_u, the gradient of the scaled input u = x s (1 + d)
// (at x, gradients):
//   Σ_p x g_u into buffer 4 at b_off + s n + i (the host multiplies by s
//   and adds the samples: ∂L/∂d_i), with x the conv's input at aux;
//   g_x = g_u s (1 + d) in place of g_u at out (the previous layer's
//   output gradient).
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

#include "train-common.glsl"

shared float partial[64];

void
main ()
{
  uint i = gl_WorkGroupID.x, s = gl_WorkGroupID.z, r = pc.sample0 + s, lid = gl_LocalInvocationID.x;
  uint plane = pc.in_res * pc.in_res;
  float scale = SMP (pc.s_off + r * pc.s_stride + i);
  float sum = 0.0;

  for (uint q = lid; q < plane; q += 64u)
    {
      float gu = GRD (pc.x_off + s * pc.x_stride + i * plane + q);
      sum += ACT (pc.aux_off + r * pc.aux_stride + i * plane + q) * gu;
      grd_out[pc.out_off + s * pc.out_stride + i * plane + q] = gu * scale;
    }
  partial[lid] = sum;
  barrier ();
  for (uint half_n = 32u; half_n > 0u; half_n >>= 1)
    {
      if (lid < half_n)
        partial[lid] += partial[lid + half_n];
      barrier ();
    }
  if (lid == 0u)
    host[pc.b_off + s * pc.n + i] = partial[0];
}
