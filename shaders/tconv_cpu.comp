// SPDX-License-Identifier: GPL-3.0-or-later
// The 2x up-sampling modulated conv for CPU Vulkan implementations
// (lavapipe), as the spec writes it, in one pass: the transposed conv
// (stride 2, no padding, no weight flip)
//   T[o, 2y + ky, 2x + kx] += W[o, i, ky, kx] · s_i (1 + d_i) · x[i, y, x]
// on a (2H + 1)² grid, then the [1,3,3,1] FIR blur
//   y[P, Q] = Σ_{a,b} T[P + a - 1, Q + b - 1] · k_a k_b / 16
// then demodulation, noise, bias, lrelu · sqrt 2 and clamp.  The
// transposed conv is 9 multiply-adds per input pixel per (o, i), a
// quarter of the polyphase form (one 3x3 conv per output parity), which
// is why CPU devices take this route.
//
// The lane layout, the weight layout ([group][c_in / 4][9][SG][4]) and
// the way inputs are read (texel fetches, SG values at a time, then
// shuffled from lane to lane) are those of conv_cpu.comp, which explains
// why.  Each lane owns one output channel, so the part of T its tile
// needs stays in its registers and the blur needs no other lane: the
// tile of input pixels yb .. yb + TILE_P - 1 (columns alike) writes
// outputs 2 yb .. 2 yb + 2 TILE_P - 1, which blur T rows 2 yb - 1 ..
// 2 yb + 2 TILE_P + 1, which come from input rows yb - 1 .. yb + TILE_P.
// T rows outside the grid only ever receive inputs outside the image,
// which are zero.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "hd-common.glsl"

#define HD_PUSH_CONV
#include "hd-push.h"

// Specialization constants (the renderer passes them in this order).
layout (constant_id = 0) const int SG = HD_LANES_SG;
layout (constant_id = 1) const int TILE_P = HD_TCONV_TILE_P;   // input rows per tile
layout (constant_id = 2) const int TILE_Q = HD_TCONV_TILE_Q;   // input columns per tile
layout (constant_id = 3) const int NSG = HD_LANES_NSG;
// constant_id 4: the workgroup size, SG * NSG.

// The input tile: rows yb - 1 .. yb + TILE_P, the same for columns.
#define IN_ROWS (TILE_P + 2)
#define IN_COLS (TILE_Q + 2)
// Read as aligned vec4s, VPR per row: columns xb - 4 .. xb + 4 VPR - 5.
#define VPR ((TILE_Q + 8) / 4)
#define N_SLOTS (IN_ROWS * VPR)
#define N_FETCH ((N_SLOTS + SG - 1) / SG)
// The tile's part of T: rows 2 yb - 1 .. 2 yb + 2 TILE_P + 1.
#define T_P (2 * TILE_P + 3)
#define T_Q (2 * TILE_Q + 3)
// Its outputs.
#define OUT_P (2 * TILE_P)
#define OUT_Q (2 * TILE_Q)

layout (local_size_x_id = 4) in;

layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };
layout (set = 1, binding = 1) uniform samplerBuffer weights;
layout (set = 1, binding = 2) uniform samplerBuffer scales;
layout (set = 1, binding = 3) uniform samplerBuffer noise;
layout (set = 1, binding = 4) uniform samplerBuffer act_in4;   // vec4 texels

// ConvPush of the renderer; n_virtual is c_out here.

void
main ()
{
  const float k[4] = float[4] (0.25, 0.75, 0.75, 0.25);
  uint lane = gl_SubgroupInvocationID;
  uint group = gl_WorkGroupID.z * NSG + gl_SubgroupID;
  int xb = int (gl_WorkGroupID.x * TILE_Q);
  int yb = int (gl_WorkGroupID.y * TILE_P);
  int in_res = int (pc.in_res);
  uint plane = pc.in_res * pc.in_res;
  uint ci_blocks = (pc.c_in + 3) / 4;

  // Whole subgroups past the last channel group leave together.
  if (group * SG >= pc.n_virtual)
    return;

  // Fetch f gives lane l the vec4 of slot e = f SG + l: tile row
  // e / VPR, columns xb - 4 + 4 (e % VPR) + 0..3, clamped into the image
  // and zeroed outside it (rows are whole vec4s: in_res % 4 == 0).
  int offs[N_FETCH];
  float ok[N_FETCH];
  [[unroll]] for (int f = 0; f < N_FETCH; f++)
    {
      int e = f * SG + int (lane);
      int y = yb - 1 + e / VPR, x = xb - 4 + 4 * (e % VPR);
      ok[f] = (e < N_SLOTS && y >= 0 && y < in_res && x >= 0 && x < in_res) ? 1.0 : 0.0;
      offs[f] = (clamp (y, 0, in_res - 1) * in_res + clamp (x, 0, in_res - 4)) / 4;
    }

  float t[T_P][T_Q];
  [[unroll]] for (int p = 0; p < T_P; p++)
    [[unroll]] for (int q = 0; q < T_Q; q++)
      t[p][q] = 0.0;

  int w_group = int (group * ci_blocks * 9 * SG * 4 + lane * 4);
  for (uint ci = 0; ci < pc.c_in; ci++)
    {
      // s_i (1 + d_i) is folded into this input channel's weights.
      float s = texelFetch (scales, int (pc.scale_off + ci)).x;
      int w_index = w_group + int ((ci >> 2) * 9 * SG * 4 + (ci & 3));
      float w[9];
      [[unroll]] for (int kk = 0; kk < 9; kk++)
        w[kk] = texelFetch (weights, w_index + kk * SG * 4).x * s;

      int base = int (ci * plane / 4);
      vec4 loaded[N_FETCH];
      [[unroll]] for (int f = 0; f < N_FETCH; f++)
        loaded[f] = texelFetch (act_in4, base + offs[f]) * ok[f];

      // Input (j, c) of the tile is input pixel (yb - 1 + j, xb - 1 + c);
      // it lands on T rows 2 (yb - 1 + j) + ky, tile rows 2 j - 1 + ky.
      [[unroll]] for (int j = 0; j < IN_ROWS; j++)
        [[unroll]] for (int c = 0; c < IN_COLS; c++)
          {
            // Column xb - 1 + c: component (c + 3) % 4 of slot
            // j VPR + (c + 3) / 4.
            int e = j * VPR + (c + 3) / 4;
            float xv = subgroupShuffle (loaded[e / SG][(c + 3) % 4], uint (e % SG));
            [[unroll]] for (int ky = 0; ky < 3; ky++)
              {
                int p = 2 * j - 1 + ky;
                if (p < 0 || p >= T_P)
                  continue;
                [[unroll]] for (int kx = 0; kx < 3; kx++)
                  {
                    int q = 2 * c - 1 + kx;
                    if (q < 0 || q >= T_Q)
                      continue;
                    t[p][q] = fma (w[ky * 3 + kx], xv, t[p][q]);
                  }
              }
          }
    }

  uint o = group * SG + lane;
  if (o >= pc.n_virtual)
    return;

  // The blur, columns then rows: output (P, Q) of the tile reads tile
  // rows P .. P + 3 of T and columns Q .. Q + 3.
  float h[T_P][OUT_Q];
  [[unroll]] for (int p = 0; p < T_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      h[p][q] = k[0] * t[p][q] + k[1] * t[p][q + 1] + k[2] * t[p][q + 2] + k[3] * t[p][q + 3];

  uint res = 2 * pc.in_res;
  float dc = dcoef[pc.dcoef_off + o];
  float bias = misc[pc.bias_off + o];
  uint out_base = o * res * res;
  [[unroll]] for (int p = 0; p < OUT_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      {
        int y = 2 * yb + p, x = 2 * xb + q;
        if (y >= int (res) || x >= int (res))
          continue;
        uint pix = uint (y) * res + uint (x);
        float val = (k[0] * h[p][q] + k[1] * h[p + 1][q] + k[2] * h[p + 2][q] +
                     k[3] * h[p + 3][q]) * dc;
        if (pc.noise_on != 0)
          val += texelFetch (noise, int (pc.noise_off + pix)).x * pc.noise_strength;
        val = lrelu_gain (val + bias);
        if (pc.has_clamp != 0)
          val = clamp (val, -pc.clamp_val, pc.clamp_val);
        act_out[out_base + pix] = val;
      }
}
