// SPDX-License-Identifier: GPL-3.0-or-later
// Modulated 3x3 convolution for CPU Vulkan implementations (lavapipe),
// with the same fused epilogue as conv.comp.
//
// On a CPU a subgroup is one SIMD register and every load whose address
// differs between lanes costs about one scalar load per lane, while moving
// a value between lanes is a register operation.  So here the lanes of a
// subgroup are SG consecutive output channels: each lane loads its own
// weights (all SG lanes' loads are useful), and the input pixels, which
// all lanes share, are loaded once per subgroup, SG neighbouring pixels
// per load, and broadcast from the lane that loaded them.  Each lane
// accumulates a TILE_P x TILE_Q block of pixels for its channel; no
// shared memory, no barriers.  8 x 8 blocks measured fastest on lavapipe
// (AVX2): the spills of 64 accumulators cost less than the loads smaller
// blocks repeat; -DTILE_P=4 -DTILE_Q=4 serves 4 x 4 inputs.
//
// Needs subgroups of exactly SG invocations; the renderer picks this
// variant only when the device guarantees that.
//
// Weights are laid out [group][c_in][9][SG]: the SG lanes' weights for one
// tap are contiguous.  With -DUP the channels are the polyphase virtual
// channels v = 4 o + 2 py + px of conv.comp.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "hd-common.glsl"

#ifndef SG
#define SG 8
#endif
#ifndef TILE_P
#define TILE_P 8     // rows per tile
#endif
#ifndef TILE_Q
#define TILE_Q 8     // columns per tile
#endif
#ifndef NSG
#define NSG 4        // subgroups (channel groups) per workgroup
#endif

// Input columns x0 - 1 .. x0 + Q, loaded SG at a time.
#define IN_COLS (TILE_Q + 2)
#define ROW_LOADS ((IN_COLS + SG - 1) / SG)

layout (local_size_x = SG * NSG) in;

layout (std430, binding = 0) readonly buffer ActIn { float act_in[]; };
layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (std430, binding = 2) readonly buffer Weights { float weights[]; };
layout (std430, binding = 3) readonly buffer Scale { float scale[]; };
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };
layout (std430, binding = 6) readonly buffer Noise { float noise[]; };

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

  // Whole subgroups past the last channel group leave together.
  if (group * SG >= pc.n_virtual)
    return;

  // The input column this lane loads for each row load, clamped into the
  // image, and whether it is inside (zero padding otherwise).
  int col[ROW_LOADS];
  float col_ok[ROW_LOADS];
  [[unroll]] for (int j = 0; j < ROW_LOADS; j++)
    {
      int c = x0 - 1 + j * SG + int (lane);
      col_ok[j] = (c >= 0 && c < in_res) ? 1.0 : 0.0;
      col[j] = clamp (c, 0, in_res - 1);
    }

  float acc[TILE_P][TILE_Q];
  [[unroll]] for (int p = 0; p < TILE_P; p++)
    [[unroll]] for (int q = 0; q < TILE_Q; q++)
      acc[p][q] = 0.0;

  uint w_index = group * pc.c_in * 9 * SG + lane;
  for (uint ci = 0; ci < pc.c_in; ci++, w_index += 9 * SG)
    {
      // s_i (1 + d_i) is folded into this input channel's weights.
      float s = scale[pc.scale_off + ci];
      float w[9];
      [[unroll]] for (int k = 0; k < 9; k++)
        w[k] = weights[w_index + k * SG] * s;

      uint base = ci * plane;
      [[unroll]] for (int r = 0; r < TILE_P + 2; r++)
        {
          int y = y0 - 1 + r;
          float row_ok = (y >= 0 && y < in_res) ? 1.0 : 0.0;
          uint row = base + uint (clamp (y, 0, in_res - 1)) * pc.in_res;
          float loaded[ROW_LOADS];
          [[unroll]] for (int j = 0; j < ROW_LOADS; j++)
            loaded[j] = act_in[row + uint (col[j])] * (col_ok[j] * row_ok);

          // Input column i of the tile feeds output column q = i - kx.
          [[unroll]] for (int i = 0; i < IN_COLS; i++)
            {
              float xv = subgroupBroadcast (loaded[i / SG], uint (i % SG));
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
          val += noise[pc.noise_off + pix] * pc.noise_strength;
        val = lrelu_gain (val + bias);
        if (pc.has_clamp != 0)
          val = clamp (val, -pc.clamp_val, pc.clamp_val);
        act_out[out_base + pix] = val;
      }
}
