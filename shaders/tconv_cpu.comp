// SPDX-License-Identifier: GPL-3.0-or-later
// The transposed half of the 2x up-sampling conv for CPU Vulkan
// implementations (lavapipe): stride 2, no padding, no weight flip,
//   T[o, 2y + ky, 2x + kx] += W[o, i, ky, kx] · s_i (1 + d_i) · x[i, y, x]
// into a (2H + 1)² intermediate; upfir.comp then applies the [1,3,3,1]
// blur and the epilogue.  This is 9 multiply-adds per input pixel per
// (o, i), a quarter of the polyphase form (one 3x3 conv per output
// parity), which is why CPU devices take this route.
//
// The lane layout is that of conv_cpu.comp: the lanes of a subgroup are SG
// consecutive output channels with their own weights, input pixels are
// loaded once per subgroup and broadcast.  Each lane gathers a 2 TILE_P x
// 2 TILE_Q block of T, which depends on the (TILE_P + 1) x (TILE_Q + 1)
// input pixels y0 - 1 .. y0 + TILE_P - 1 (and the same for columns).
//
// The output channels are processed in chunks (group_begin, n_groups, in
// units of SG channels) so that T respects maxStorageBufferRange.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require

#ifndef SG
#define SG 8
#endif
#ifndef TILE_P
#define TILE_P 4     // input rows per tile: 2 TILE_P rows of T
#endif
#ifndef TILE_Q
#define TILE_Q 4
#endif
#ifndef NSG
#define NSG 4
#endif

#define IN_ROWS (TILE_P + 1)
#define IN_COLS (TILE_Q + 1)
#define ROW_LOADS ((IN_COLS + SG - 1) / SG)
#define OUT_P (2 * TILE_P)
#define OUT_Q (2 * TILE_Q)

#ifndef CI_UNROLL
#define CI_UNROLL 2
#endif

// Adds input channels ci .. ci + U - 1 to acc (a macro over the locals of
// main, so that U can size arrays).  s_i (1 + d_i) is folded
// into each input channel's weights; input (j, c) of the tile lands on T
// rows 2 j - 2 + ky, columns 2 c - 2 + kx.
#define ACCUMULATE(U) \
  { \
    float w[U][9]; \
    [[unroll]] for (int u = 0; u < U; u++) \
      { \
        float s = scale[pc.scale_off + ci + uint (u)]; \
        [[unroll]] for (int k = 0; k < 9; k++) \
          w[u][k] = weights[w_index + uint (u * 9 + k) * SG] * s; \
      } \
    [[unroll]] for (int j = 0; j < IN_ROWS; j++) \
      { \
        int y = yb - 1 + j; \
        float row_ok = (y >= 0 && y < in_res) ? 1.0 : 0.0; \
        uint row = uint (clamp (y, 0, in_res - 1)) * pc.in_res; \
        float loaded[U][ROW_LOADS]; \
        [[unroll]] for (int u = 0; u < U; u++) \
          [[unroll]] for (int l = 0; l < ROW_LOADS; l++) \
            loaded[u][l] = act_in[(ci + uint (u)) * plane + row + uint (col[l])] * \
                           (col_ok[l] * row_ok); \
        [[unroll]] for (int c = 0; c < IN_COLS; c++) \
          [[unroll]] for (int u = 0; u < U; u++) \
            { \
              float xv = subgroupBroadcast (loaded[u][c / SG], uint (c % SG)); \
              [[unroll]] for (int ky = 0; ky < 3; ky++) \
                { \
                  int p = 2 * j - 2 + ky; \
                  if (p < 0 || p >= OUT_P) \
                    continue; \
                  [[unroll]] for (int kx = 0; kx < 3; kx++) \
                    { \
                      int q = 2 * c - 2 + kx; \
                      if (q < 0 || q >= OUT_Q) \
                        continue; \
                      acc[p][q] = fma (w[u][ky * 3 + kx], xv, acc[p][q]); \
                    } \
                } \
            } \
      } \
  }

layout (local_size_x = SG * NSG) in;

layout (std430, binding = 0) readonly buffer ActIn { float act_in[]; };
layout (std430, binding = 1) writeonly buffer TOut { float t_out[]; };
layout (std430, binding = 2) readonly buffer Weights { float weights[]; };
layout (std430, binding = 3) readonly buffer Scale { float scale[]; };

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
  uint t_res = 2 * pc.in_res + 1;

  if (local_group >= pc.n_groups)
    return;

  int col[ROW_LOADS];
  float col_ok[ROW_LOADS];
  [[unroll]] for (int j = 0; j < ROW_LOADS; j++)
    {
      int c = xb - 1 + j * SG + int (lane);
      col_ok[j] = (c >= 0 && c < in_res) ? 1.0 : 0.0;
      col[j] = clamp (c, 0, in_res - 1);
    }

  float acc[OUT_P][OUT_Q];
  [[unroll]] for (int p = 0; p < OUT_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      acc[p][q] = 0.0;

  // CI_UNROLL input channels per pass over the accumulators: with only
  // 2.25 multiply-adds per accumulator per input channel, the spilled
  // accumulators' loads and stores would otherwise cost as much as the
  // arithmetic.
  uint ci = 0;
  uint w_index = group * pc.c_in * 9 * SG + lane;
  for (; ci + CI_UNROLL <= pc.c_in; ci += CI_UNROLL, w_index += CI_UNROLL * 9 * SG)
    ACCUMULATE (CI_UNROLL);
  for (; ci < pc.c_in; ci++, w_index += 9 * SG)
    ACCUMULATE (1);

  uint o = group * SG + lane;
  if (o >= pc.c_out)
    return;
  uint out_base = (o - pc.group_begin * SG) * t_res * t_res;
  [[unroll]] for (int p = 0; p < OUT_P; p++)
    [[unroll]] for (int q = 0; q < OUT_Q; q++)
      {
        uint ty = uint (2 * yb + p), tx = uint (2 * xb + q);
        if (ty < t_res && tx < t_res)
          t_out[out_base + ty * t_res + tx] = acc[p][q];
      }
}
