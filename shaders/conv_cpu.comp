// SPDX-License-Identifier: GPL-3.0-or-later
// Modulated 3x3 convolution for CPU Vulkan implementations (lavapipe),
// with the same fused epilogue as conv.comp.
//
// On lavapipe a subgroup is one SIMD register.  A storage-buffer load
// whose address is not a compile-time uniform runs as a loop over the
// lanes, with a branch and a variable-index vector insert per lane and
// component: tens of cycles per float, far more than the arithmetic it
// feeds.  A texel fetch from a uniform texel buffer is a vector gather,
// and moving a value between lanes (subgroupBroadcast with a constant
// lane) is a register operation.  So every value of the inner loop comes
// from a texel buffer (set 1: input, weights, scales; the noise of the
// epilogue too), once per subgroup:
//
//  - The lanes of a subgroup are SG consecutive output channels.  Each
//    lane accumulates a TILE_P x TILE_Q block of pixels for its channel
//    (accumulators beyond the register file spill to the stack, which is
//    cheap next to any buffer access).
//  - Weights are laid out [group][c_in / 4][9][SG][4] (the CPU layout the
//    renderer uploads; tconv_cpu.comp shares it).
//  - The (TILE_P + 2) x (TILE_Q + 2) input tile of an input channel is
//    fetched SG values at a time, one per lane, and every value is then
//    broadcast from the lane that holds it.
//
// Needs subgroups of exactly SG invocations; the renderer picks this
// variant only when the device guarantees that.  With -DUP the channels
// are the polyphase virtual channels v = 4 o + 2 py + px of conv.comp.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "hd-common.glsl"

#ifndef SG
#define SG 8
#endif
#ifndef TILE_P
#define TILE_P 8
#endif
#ifndef TILE_Q
#define TILE_Q 8     // columns per tile
#endif
#ifndef NSG
#define NSG 4        // subgroups (channel groups) per workgroup
#endif

// The input tile: rows y0 - 1 .. y0 + TILE_P, columns x0 - 1 .. x0 + TILE_Q.
#define IN_ROWS (TILE_P + 2)
#define IN_COLS (TILE_Q + 2)
#define N_IN (IN_ROWS * IN_COLS)
#define N_FETCH ((N_IN + SG - 1) / SG)

layout (local_size_x = SG * NSG) in;

layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (set = 1, binding = 0) uniform samplerBuffer act_in;
layout (set = 1, binding = 1) uniform samplerBuffer weights;
layout (set = 1, binding = 2) uniform samplerBuffer scales;
layout (set = 1, binding = 3) uniform samplerBuffer noise;
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };

layout (push_constant) uniform Params {
  uint c_in;
  uint n_virtual;
  uint in_res;
  uint scale_off;
  uint dcoef_off;
  uint bias_off;
  uint noise_off;
  uint noise_on;
  float noise_strength;
  uint has_clamp;
  float clamp_val;
} pc;

void
main ()
{
  uint lane = gl_SubgroupInvocationID;
  uint group = gl_WorkGroupID.z * NSG + gl_SubgroupID;
  int x0 = int (gl_WorkGroupID.x * TILE_Q);
  int y0 = int (gl_WorkGroupID.y * TILE_P);
  int in_res = int (pc.in_res);
  uint plane = pc.in_res * pc.in_res;
  uint ci_blocks = (pc.c_in + 3) / 4;

  // Whole subgroups past the last channel group leave together.
  if (group * SG >= pc.n_virtual)
    return;

  // Fetch f gives lane l tile element e = f SG + l (row e / IN_COLS,
  // column e % IN_COLS), clamped into the image and zeroed outside it.
  int offs[N_FETCH];
  float ok[N_FETCH];
  [[unroll]] for (int f = 0; f < N_FETCH; f++)
    {
      int e = f * SG + int (lane);
      int y = y0 - 1 + e / IN_COLS, x = x0 - 1 + e % IN_COLS;
      ok[f] = (e < N_IN && y >= 0 && y < in_res && x >= 0 && x < in_res) ? 1.0 : 0.0;
      offs[f] = clamp (y, 0, in_res - 1) * in_res + clamp (x, 0, in_res - 1);
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

      int base = int (ci * plane);
      float loaded[N_FETCH];
      [[unroll]] for (int f = 0; f < N_FETCH; f++)
        loaded[f] = texelFetch (act_in, base + offs[f]).x * ok[f];

      // Input (r, i) of the tile feeds output (r - ky, i - kx).
      [[unroll]] for (int r = 0; r < IN_ROWS; r++)
        [[unroll]] for (int i = 0; i < IN_COLS; i++)
          {
            int e = r * IN_COLS + i;
            float xv = subgroupShuffle (loaded[e / SG], uint (e % SG));
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
  uint out_base = o * res * res;

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
