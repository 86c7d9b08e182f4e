// SPDX-License-Identifier: GPL-3.0-or-later
// One linear layer of the text encoder or the mapper for a few rows:
// Y = epilogue (X · W + bias), W stored transposed ([K][N]) in half
// precision; X's rows may be columns (x_kstride, x_stride 1).  An invocation computes output column n for ROWS rows; the
// weights and the inputs are read through texel buffers (set 1), which
// CPU devices fetch as vector gathers, and every weight is read once per
// ROWS rows.  See HdTextGemmPush in hd-push.h for the epilogue.
//
// With -DLANES (subgroups of exactly 8, CPU devices): the 8 lanes of a
// subgroup are 8 consecutive n; each lane fetches a different one of 8
// consecutive inputs of a row, and every input reaches every lane by
// subgroupShuffle with a constant lane (one permute), instead of each
// lane fetching the same input (a gather per input).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef LANES
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
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
// The same weights as vec4s: the renderer lays W out as [K/4][N][4], four
// consecutive k of one n in one texel, so one fetch brings four.
layout (set = 1, binding = 3) uniform samplerBuffer weights4;  // f16 x 4
layout (set = 1, binding = 4) uniform samplerBuffer params4;   // f32 x 4

float
param (uint off,
       uint n,
       float none)
{
  return off == HD_TEXT_NONE ? none : texelFetch (params, int (off + n)).x;
}

// W[k4 * 4 .. k4 * 4 + 3][n] (zero past K: the layout pads K to fours).
vec4
weight4 (uint k4,
         uint n)
{
  int at = int (pc.w_off / 4 + k4 * pc.n + n);
  return W_F32 != 0 ? texelFetch (params4, at) : texelFetch (weights4, at);
}

void
main ()
{
  uint n = gl_GlobalInvocationID.x;
  uint m0 = gl_WorkGroupID.y * ROWS;
  int rows[ROWS];
  float acc[ROWS];

#ifdef LANES
  // Every lane takes part in the shuffles: lanes past the last column
  // compute column N - 1 again and write nothing.
  uint nw = min (n, pc.n - 1);
#else
  uint nw = n;
  if (n >= pc.n)
    return;
#endif
  [[unroll]] for (int r = 0; r < ROWS; r++)
    {
      // Rows past the last read the last row again (their results are
      // not written).
      rows[r] = int (pc.x_off + min (m0 + uint (r), pc.m - 1) * pc.x_stride);
      acc[r] = 0.0;
    }
#ifdef LANES
  uint lane = gl_SubgroupInvocationID;
  uint k4s = (pc.k + 3) / 4;
  for (uint k0 = 0; k0 < pc.k; k0 += 8)
    {
      float x[ROWS];
      [[unroll]] for (int r = 0; r < ROWS; r++)
        x[r] = texelFetch (act_t, rows[r] + int (min (k0 + lane, pc.k - 1) * pc.x_kstride)).x;
      vec4 w[2];
      w[0] = weight4 (k0 / 4, nw);
      w[1] = k0 / 4 + 1 < k4s ? weight4 (k0 / 4 + 1, nw) : vec4 (0.0);
      [[unroll]] for (uint j = 0; j < 8; j++)
        [[unroll]] for (int r = 0; r < ROWS; r++)
          acc[r] = fma (subgroupShuffle (x[r], j), w[j / 4][j % 4], acc[r]);
    }
  if (n >= pc.n)
    return;
#else
  for (uint k4 = 0; k4 < (pc.k + 3) / 4; k4++)
    {
      vec4 w = weight4 (k4, nw);
      [[unroll]] for (uint j = 0; j < 4; j++)
        {
          int k = int (min (k4 * 4 + j, pc.k - 1) * pc.x_kstride);
          [[unroll]] for (int r = 0; r < ROWS; r++)
            acc[r] = fma (texelFetch (act_t, rows[r] + k).x, w[j], acc[r]);
        }
    }
#endif

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
      uint aux = pc.aux_off + m * pc.y_stride + n;
      float v = (acc[r] + bias) * pre_scale + pre_shift;
      if (pc.res_off != HD_TEXT_NONE)
        v += act[pc.res_off + m * pc.y_stride + n];
      if (pc.aux_off != HD_TEXT_NONE && pc.act != HD_TEXT_ACT_QUICKGELU_BWD)
        act[aux] = v;
      if (pc.act == HD_TEXT_ACT_QUICKGELU)
        v = v / (1.0 + exp (-1.702 * v));
      else if (pc.act == HD_TEXT_ACT_QUICKGELU_BWD)
        {
          // d/dz z σ(1.702 z) = σ + 1.702 z σ (1 − σ)
          float z = act[aux];
          float s = 1.0 / (1.0 + exp (-1.702 * z));
          v *= s + 1.702 * z * s * (1.0 - s);
        }
      else if (pc.act != HD_TEXT_ACT_NONE)
        v = v >= 0.0 ? v : slope * v;
      act[y] = v * post_scale + post_shift;
    }
}
