// SPDX-License-Identifier: GPL-3.0-or-later
// Modulated 3x3 convolution for CPU Vulkan implementations (lavapipe),
// with the same fused epilogue as conv.comp.
//
// On lavapipe a subgroup is one SIMD register, and what an operation
// costs there decides the design (Mesa 22.3, measured on AVX2):
//  - a storage-buffer load or store whose address is not a compile-time
//    uniform runs as a loop over the lanes, with branches and a
//    variable-index vector insert per lane and component: tens of cycles
//    per float;
//  - subgroupBroadcast is also a loop over the lanes (it looks for the
//    first active one); subgroupShuffle with constant lanes is one
//    permute instruction;
//  - a texel fetch from a uniform texel buffer is a vector gather.
// So the inner loop reads only texel buffers (set 1: the input as vec4
// texels, weights, scales; the epilogue reads the noise there too) and
// moves values between lanes only with subgroupShuffle:
//
//  - The lanes of a subgroup are SG consecutive output channels.  Each
//    lane accumulates a TILE_P x TILE_Q block of pixels for its channel
//    (accumulators beyond the register file spill to the stack, which is
//    cheap next to any buffer access).
//  - Weights are laid out [group][c_in / 4][9][SG][4] (the CPU layout the
//    renderer uploads; tconv_cpu.comp shares it); a lane fetches its own.
//  - The (TILE_P + 2) x (TILE_Q + 2) input tile of an input channel is
//    fetched as aligned vec4s, one per lane, SG at a time, and every value
//    is shuffled to all lanes from the lane that holds it.
//
// Needs subgroups of exactly SG invocations and rows that are whole vec4s
// (in_res % 4 == 0); the renderer picks this variant only when that holds.
// With -DUP the channels are the polyphase virtual channels
// v = 4 o + 2 py + px of conv.comp.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "hd-common.glsl"

#define HD_PUSH_CONV
#include "hd-push.h"

// Specialization constants (the renderer passes them in this order).
layout (constant_id = 0) const int SG = HD_LANES_SG;
layout (constant_id = 1) const int TILE_P = HD_LANES_TILE_P;
layout (constant_id = 2) const int TILE_Q = HD_LANES_TILE_Q;   // columns per tile
layout (constant_id = 3) const int NSG = HD_LANES_NSG;   // subgroups (channel groups) per workgroup
// constant_id 4: the workgroup size, SG * NSG.

// The input tile: rows y0 - 1 .. y0 + TILE_P, columns x0 - 1 .. x0 + TILE_Q.
#define IN_ROWS (TILE_P + 2)
#define IN_COLS (TILE_Q + 2)
// Read as aligned vec4s, VPR per row: columns x0 - 4 .. x0 + 4 VPR - 5.
#define VPR ((TILE_Q + 8) / 4)
#define N_SLOTS (IN_ROWS * VPR)
#define N_FETCH ((N_SLOTS + SG - 1) / SG)

layout (local_size_x_id = 4) in;

layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (set = 1, binding = 1) uniform samplerBuffer weights;
layout (set = 1, binding = 2) uniform samplerBuffer scales;
layout (set = 1, binding = 3) uniform samplerBuffer noise;
layout (set = 1, binding = 4) uniform samplerBuffer act_in4;   // vec4 texels
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };


void
main ()
{
  uint lane = gl_SubgroupInvocationID;
  uint group = gl_WorkGroupID.z * NSG + gl_SubgroupID;
  int x0 = int (gl_WorkGroupID.x * TILE_Q);
  int y0 = int (pc.out_row0 + gl_WorkGroupID.y * TILE_P);
  int in_res = int (pc.in_res);
  uint plane = pc.in_res * pc.in_res;
  uint ci_blocks = (pc.c_in + 3) / 4;

  // Whole subgroups past the last channel group leave together.
  if (group * SG >= pc.n_virtual)
    return;

  // Fetch f gives lane l the vec4 of slot e = f SG + l: tile row
  // e / VPR, columns x0 - 4 + 4 (e % VPR) + 0..3, clamped into the image
  // and zeroed outside it (rows are whole vec4s: in_res % 4 == 0).
  int offs[N_FETCH];
  float ok[N_FETCH];
  [[unroll]] for (int f = 0; f < N_FETCH; f++)
    {
      int e = f * SG + int (lane);
      int y = y0 - 1 + e / VPR, x = x0 - 4 + 4 * (e % VPR);
      ok[f] = (e < N_SLOTS && y >= 0 && y < in_res && x >= 0 && x < in_res) ? 1.0 : 0.0;
      offs[f] = (clamp (y, 0, in_res - 1) * in_res + clamp (x, 0, in_res - 4)) / 4;
    }

  float acc[TILE_P][TILE_Q];
  [[unroll]] for (int p = 0; p < TILE_P; p++)
    [[unroll]] for (int q = 0; q < TILE_Q; q++)
      acc[p][q] = 0.0;

  int w_group = int (group * ci_blocks * 9 * SG * 4 + lane * 4);
  for (uint ci = 0; ci < pc.c_in; ci++)
    {
      // s_i (1 + d_i) is folded into this input channel's weights.
      float s = texelFetch (scales, int (pc.scale_off + ci)).x;
      int w_index = w_group + int ((ci >> 2) * 9 * SG * 4 + (ci & 3));
      float w[9];
      [[unroll]] for (int k = 0; k < 9; k++)
        w[k] = texelFetch (weights, w_index + k * SG * 4).x * s;

      int base = int (ci * plane / 4);
      vec4 loaded[N_FETCH];
      [[unroll]] for (int f = 0; f < N_FETCH; f++)
        loaded[f] = texelFetch (act_in4, base + offs[f]) * ok[f];

      // Input (r, i) of the tile feeds output (r - ky, i - kx).
      [[unroll]] for (int r = 0; r < IN_ROWS; r++)
        [[unroll]] for (int i = 0; i < IN_COLS; i++)
          {
            // Column x0 - 1 + i: component (i + 3) % 4 of slot
            // r VPR + (i + 3) / 4.
            int e = r * VPR + (i + 3) / 4;
            float xv = subgroupShuffle (loaded[e / SG][(i + 3) % 4], uint (e % SG));
            [[unroll]] for (int ky = 0; ky < 3; ky++)
              {
                int p = r - ky;
                if (p < 0 || p >= TILE_P)
                  continue;
                [[unroll]] for (int kx = 0; kx < 3; kx++)
                  {
                    int q = i - kx;
                    if (q < 0 || q >= TILE_Q)
                      continue;
                    acc[p][q] = fma (w[ky * 3 + kx], xv, acc[p][q]);
                  }
              }
          }
    }

  uint v = group * SG + lane;
  if (v >= pc.n_virtual)
    return;
#ifdef UP
  uint o = v >> 2;
  uint res = 2 * pc.in_res;
  uint py = (v >> 1) & 1, px = v & 1;
#else
  uint o = v;
  uint res = pc.in_res;
  uint py = 0, px = 0;
#endif
  float dc = dcoef[pc.dcoef_off + o];
  float bias = misc[pc.bias_off + o];
  uint out_base = o * pc.out_rows * res - pc.out_row0 * res;

  [[unroll]] for (int p = 0; p < TILE_P; p++)
    [[unroll]] for (int q = 0; q < TILE_Q; q++)
      {
        int y = y0 + p, x = x0 + q;
        if (y >= in_res || x >= in_res)
          continue;
#ifdef UP
        uint pix = uint (2 * y + int (py)) * res + uint (2 * x + int (px));
#else
        uint pix = uint (y) * res + uint (x);
#endif
        float val = acc[p][q] * dc;
        if (pc.noise_on != 0)
          val += texelFetch (noise, int (pc.noise_off + pix)).x * pc.noise_strength;
        val = lrelu_gain (val + bias);
        if (pc.has_clamp != 0)
          val = clamp (val, -pc.clamp_val, pc.clamp_val);
        act_out[out_base + pix] = val;
      }
}
