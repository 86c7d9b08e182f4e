// SPDX-License-Identifier: GPL-3.0-or-later
// The transposed half of the 2x up-sampling conv for CPU Vulkan
// implementations (lavapipe): stride 2, no padding, no weight flip,
//   T[o, 2y + ky, 2x + kx] += W[o, i, ky, kx] · s_i (1 + d_i) · x[i, y, x]
// into a (2H + 1)² intermediate; upfir.comp then applies the [1,3,3,1]
// blur and the epilogue.  This is 9 multiply-adds per input pixel per
// (o, i), a quarter of the polyphase form (one 3x3 conv per output
// parity), which is why CPU devices take this route.
//
// The lane layout, the weight layout ([group][c_in / 4][9][SG][4]) and
// the way inputs are read (texel fetches, SG values at a time, then
// shuffled from lane to lane) are those of conv_cpu.comp, which explains
// why.  The tile of input pixels yb .. yb + TILE_P - 1 (and the same for
// columns) owns T rows 2 yb .. 2 yb + 2 TILE_P - 1, which depend on input
// rows yb - 1 .. yb + TILE_P - 1.  The tile also accumulates row (and
// column) 2 yb + 2 TILE_P, which is complete only in the last tile,
// where it is the last row of T: so no extra tiles are needed for it.
//
// The output channels are processed in chunks (group_begin, n_groups, in
// units of SG channels) so that T respects maxStorageBufferRange.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#ifndef SG
#define SG 8
#endif
#ifndef TILE_P
#define TILE_P 4     // input rows per tile
#endif
#ifndef TILE_Q
#define TILE_Q 4     // input columns per tile
#endif
#ifndef NSG
#define NSG 4
#endif

// The input tile: rows yb - 1 .. yb + TILE_P - 1, the same for columns.
#define IN_ROWS (TILE_P + 1)
#define IN_COLS (TILE_Q + 1)
#define N_IN (IN_ROWS * IN_COLS)
#define N_FETCH ((N_IN + SG - 1) / SG)
#define OUT_P (2 * TILE_P + 1)
#define OUT_Q (2 * TILE_Q + 1)

layout (local_size_x = SG * NSG) in;

layout (std430, binding = 1) writeonly buffer TOut { float t_out[]; };
layout (set = 1, binding = 0) uniform samplerBuffer act_in;
layout (set = 1, binding = 1) uniform samplerBuffer weights;
layout (set = 1, binding = 2) uniform samplerBuffer scales;

layout (push_constant) uniform Params {
  uint c_in;
  uint c_out;
  uint in_res;
  uint scale_off;
  uint group_begin;   // first channel group of this chunk
  uint n_groups;      // channel groups in this chunk
} pc;

void
main ()
{
  uint lane = gl_SubgroupInvocationID;
  uint local_group = gl_WorkGroupID.z * NSG + gl_SubgroupID;
  uint group = pc.group_begin + local_group;
  int xb = int (gl_WorkGroupID.x * TILE_Q);
  int yb = int (gl_WorkGroupID.y * TILE_P);
  int in_res = int (pc.in_res);
  uint plane = pc.in_res * pc.in_res;
  uint ci_blocks = (pc.c_in + 3) / 4;
  uint t_res = 2 * pc.in_res + 1;

  if (local_group >= pc.n_groups)
    return;

  // Fetch f gives lane l tile element e = f SG + l (row e / IN_COLS,
  // column e % IN_COLS), clamped into the image and zeroed outside it.
  int offs[N_FETCH];
  float ok[N_FETCH];
  [[unroll]] for (int f = 0; f < N_FETCH; f++)
    {
      int e = f * SG + int (lane);
      int y = yb - 1 + e / IN_COLS, x = xb - 1 + e % IN_COLS;
      ok[f] = (e < N_IN && y >= 0 && y < in_res && x >= 0 && x < in_res) ? 1.0 : 0.0;
      offs[f] = clamp (y, 0, in_res - 1) * in_res + clamp (x, 0, in_res - 1);
    }

  float acc[OUT_P][OUT_Q];
  [[unroll]] for (int p = 0; p < OUT_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      acc[p][q] = 0.0;

  int w_group = int (group * ci_blocks * 9 * SG * 4 + lane * 4);
  for (uint ci = 0; ci < pc.c_in; ci++)
    {
      float s = texelFetch (scales, int (pc.scale_off + ci)).x;
      int w_index = w_group + int ((ci >> 2) * 9 * SG * 4 + (ci & 3));
      float w[9];
      [[unroll]] for (int k = 0; k < 9; k++)
        w[k] = texelFetch (weights, w_index + k * SG * 4).x * s;

      int base = int (ci * plane);
      float loaded[N_FETCH];
      [[unroll]] for (int f = 0; f < N_FETCH; f++)
        loaded[f] = texelFetch (act_in, base + offs[f]).x * ok[f];

      // Input (j, c) of the tile lands on rows 2 j - 2 + ky, columns
      // 2 c - 2 + kx of the tile's part of T.
      [[unroll]] for (int j = 0; j < IN_ROWS; j++)
        [[unroll]] for (int c = 0; c < IN_COLS; c++)
          {
            int e = j * IN_COLS + c;
            float xv = subgroupShuffle (loaded[e / SG], uint (e % SG));
            [[unroll]] for (int ky = 0; ky < 3; ky++)
              {
                int p = 2 * j - 2 + ky;
                if (p < 0 || p >= OUT_P)
                  continue;
                [[unroll]] for (int kx = 0; kx < 3; kx++)
                  {
                    int q = 2 * c - 2 + kx;
                    if (q < 0 || q >= OUT_Q)
                      continue;
                    acc[p][q] = fma (w[ky * 3 + kx], xv, acc[p][q]);
                  }
              }
          }
    }

  uint o = group * SG + lane;
  if (o >= pc.c_out)
    return;
  uint out_base = (o - pc.group_begin * SG) * t_res * t_res;
  bool last_row = yb + TILE_P >= in_res, last_col = xb + TILE_Q >= in_res;
  [[unroll]] for (int p = 0; p < OUT_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      {
        uint ty = uint (2 * yb + p), tx = uint (2 * xb + q);
        // Row 2 TILE_P of a tile is the next tile's first; only the
        // last tile's is T's last row (and the same for columns).
        if ((p == OUT_P - 1 && !last_row) || (q == OUT_Q - 1 && !last_col))
          continue;
        if (ty < t_res && tx < t_res)
          t_out[out_base + ty * t_res + tx] = acc[p][q];
      }
}
