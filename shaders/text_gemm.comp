// SPDX-License-Identifier: GPL-3.0-or-later
// One linear layer of the text encoder or the mapper for a few rows:
// Y = epilogue (X · W + bias), W stored transposed ([K][N]) in half
// precision.  An invocation computes output column n for ROWS rows; the
// weights and the inputs are read through texel buffers (set 1), which
// CPU devices fetch as vector gathers, and every weight is read once per
// ROWS rows.  See HdTextGemmPush in hd-push.h for the epilogue.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define HD_PUSH_TEXT_GEMM
#include "hd-push.h"

layout (constant_id = 0) const int ROWS = HD_TEXT_GEMM_ROWS;
// 1: W is float, in the parameter buffer (the mapper, whose weights are
// not exact in half precision); 0: W is half, in the weight buffer.
layout (constant_id = 1) const int W_F32 = 0;

layout (local_size_x = 64) in;

layout (std430, binding = 0) buffer Act { float act[]; };
layout (set = 1, binding = 0) uniform samplerBuffer weights;   // f16
layout (set = 1, binding = 1) uniform samplerBuffer act_t;     // act as texels
layout (set = 1, binding = 2) uniform samplerBuffer params;    // f32

float
param (uint off,
       uint n,
       float none)
{
  return off == HD_TEXT_NONE ? none : texelFetch (params, int (off + n)).x;
}

void
main ()
{
  uint n = gl_GlobalInvocationID.x;
  uint m0 = gl_WorkGroupID.y * ROWS;
  int rows[ROWS];
  float acc[ROWS];

  if (n >= pc.n)
    return;
  [[unroll]] for (int r = 0; r < ROWS; r++)
    {
      // Rows past the last read the last row again (their results are
      // not written).
      rows[r] = int (pc.x_off + min (m0 + uint (r), pc.m - 1) * pc.x_stride);
      acc[r] = 0.0;
    }
  for (uint k = 0; k < pc.k; k++)
    {
      int at = int (pc.w_off + k * pc.n + n);
      float w = W_F32 != 0 ? texelFetch (params, at).x : texelFetch (weights, at).x;
      [[unroll]] for (int r = 0; r < ROWS; r++)
        acc[r] = fma (texelFetch (act_t, rows[r] + int (k)).x, w, acc[r]);
    }

  float bias = param (pc.bias_off, n, 0.0);
  float pre_scale = param (pc.pre_scale_off, n, 1.0);
  float pre_shift = param (pc.pre_shift_off, n, 0.0);
  float post_scale = param (pc.post_scale_off, n, 1.0);
  float post_shift = param (pc.post_shift_off, n, 0.0);
  float slope = pc.act == HD_TEXT_ACT_LRELU ? 0.2 :
                pc.act == HD_TEXT_ACT_PRELU ? texelFetch (params, int (pc.act_param_off)).x : 0.0;

  [[unroll]] for (int r = 0; r < ROWS; r++)
    {
      uint m = m0 + uint (r);
      if (m >= pc.m)
        break;
      uint y = pc.y_off + m * pc.y_stride + n;
      float v = (acc[r] + bias) * pre_scale + pre_shift;
      if (pc.res_off != HD_TEXT_NONE)
        v += act[pc.res_off + m * pc.y_stride + n];
      if (pc.act == HD_TEXT_ACT_QUICKGELU)
        v = v / (1.0 + exp (-1.702 * v));
      else if (pc.act != HD_TEXT_ACT_NONE)
        v = v >= 0.0 ? v : slope * v;
      act[y] = v * post_scale + post_shift;
    }
}
