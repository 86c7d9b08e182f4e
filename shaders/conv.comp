// SPDX-License-Identifier: GPL-3.0-or-later
// Modulated 3x3 convolution as a tiled implicit GEMM, with the whole
// epilogue fused: input scale s_i (1 + d_i) while staging inputs,
// demodulation, noise, bias, lrelu · sqrt(2) and clamp on the way out.
//
// A workgroup computes TILE_CO output channels of a TILE_H x TILE_W tile
// of pixels; each invocation a CO_PT x PX_PT register block (CO_PT
// consecutive channels, PX_PT consecutive pixels of a row).  Input
// channels are consumed CI_CHUNK at a time through shared memory: the
// input patch with its one-pixel halo, and the chunk's weights, which the
// renderer lays out at load as [co_block][ci][9][TILE_CO] so the chunk is
// one contiguous run.
//
// With -DUP this is the 2x up-sampling conv (transposed conv + [1,3,3,1]
// FIR) in polyphase form: the renderer precomputes, for each output
// parity (py, px), an equivalent 3x3 kernel over the input, and stores
// "virtual" output channel v = 4 o + 2 py + px.  The tile then works at
// input resolution and the epilogue writes pixel (2m + py, 2n + px) of
// output channel o.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "hd-common.glsl"

#define HD_PUSH_CONV
#include "hd-push.h"

// Specialization constants (the renderer passes them in this order).
layout (constant_id = 0) const int TILE_CO = HD_TILED_TILE_CO;
layout (constant_id = 1) const int TILE_H = HD_TILED_TILE_H;
layout (constant_id = 2) const int TILE_W = HD_TILED_TILE_W;
layout (constant_id = 3) const int CI_CHUNK = HD_TILED_CI_CHUNK;
layout (constant_id = 4) const int PX_PT = HD_TILED_PX_PT;
// constant_id 5: the workgroup size, HD_TILED_WG_SIZE of the above.
#define CO_PT HD_TILED_CO_PT

#define THREADS_CO (TILE_CO / CO_PT)
#define THREADS_X (TILE_W / PX_PT)
#define WG_SIZE (THREADS_CO * THREADS_X * TILE_H)
#define PATCH_H (TILE_H + 2)
#define PATCH_W (TILE_W + 2)
#define PATCH_SIZE (CI_CHUNK * PATCH_H * PATCH_W)
#define WCHUNK_VEC4 (CI_CHUNK * 9 * TILE_CO / 4)

layout (local_size_x_id = 5) in;

layout (std430, binding = 0) readonly buffer ActIn { float act_in[]; };
layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (std430, binding = 2) readonly buffer Weights { vec4 weights[]; };
layout (std430, binding = 3) readonly buffer Scale { float scale[]; };
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };
layout (std430, binding = 6) readonly buffer Noise { float noise[]; };


shared float in_s[PATCH_SIZE];
shared vec4 w_s[WCHUNK_VEC4];

void
store_output (uint v, uint y, uint x, float acc)
{
#ifdef UP
  uint o = v >> 2;
  uint res = 2 * pc.in_res;
  y = 2 * y + ((v >> 1) & 1);
  x = 2 * x + (v & 1);
#else
  uint o = v;
  uint res = pc.in_res;
#endif
  uint p = y * res + x;
  float val = acc * dcoef[pc.dcoef_off + o];

  if (pc.noise_on != 0)
    val += noise[pc.noise_off + p] * pc.noise_strength;
  val = lrelu_gain (val + misc[pc.bias_off + o]);
  if (pc.has_clamp != 0)
    val = clamp (val, -pc.clamp_val, pc.clamp_val);
  act_out[o * pc.out_rows * res + p - pc.out_row0 * res] = val;
}

void
main ()
{
  uint t = gl_LocalInvocationID.x;
  uint tc = t % THREADS_CO;
  uint tpix = t / THREADS_CO;
  uint ly = tpix / THREADS_X;
  uint lx = (tpix % THREADS_X) * PX_PT;
  uint co_block = gl_WorkGroupID.z;
  uint ty0 = pc.out_row0 + gl_WorkGroupID.y * TILE_H;
  uint tx0 = gl_WorkGroupID.x * TILE_W;
  uint in_plane = pc.in_res * pc.in_res;
  vec4 acc[PX_PT];

  [[unroll]] for (uint p = 0; p < PX_PT; p++)
    acc[p] = vec4 (0.0);

  for (uint ci0 = 0; ci0 < pc.c_in; ci0 += CI_CHUNK)
    {
      uint n_ci = min (uint (CI_CHUNK), pc.c_in - ci0);

      // Stage the scaled input patch (zero outside the image: padding).
      for (uint idx = t; idx < PATCH_SIZE; idx += WG_SIZE)
        {
          uint c = idx / (PATCH_H * PATCH_W);
          uint r = idx - c * (PATCH_H * PATCH_W);
          int gy = int (ty0 + r / PATCH_W) - 1;
          int gx = int (tx0 + r % PATCH_W) - 1;
          float v = 0.0;

          if (c < n_ci && gy >= 0 && gy < int (pc.in_res) && gx >= 0 && gx < int (pc.in_res))
            v = act_in[(ci0 + c) * in_plane + uint (gy) * pc.in_res + uint (gx)] *
                scale[pc.scale_off + ci0 + c];
          in_s[idx] = v;
        }

      // Stage this chunk's weights: one contiguous run.
      uint w_base = (co_block * pc.c_in + ci0) * (9 * TILE_CO / 4);
      uint w_valid = n_ci * (9 * TILE_CO / 4);
      for (uint idx = t; idx < WCHUNK_VEC4; idx += WG_SIZE)
        w_s[idx] = idx < w_valid ? weights[w_base + idx] : vec4 (0.0);

      barrier ();

      [[unroll]] for (uint c = 0; c < CI_CHUNK; c++)
        [[unroll]] for (uint ky = 0; ky < 3; ky++)
          {
            float xr[PX_PT + 2];
            uint row = (c * PATCH_H + ly + ky) * PATCH_W + lx;

            [[unroll]] for (uint j = 0; j < PX_PT + 2; j++)
              xr[j] = in_s[row + j];
            [[unroll]] for (uint kx = 0; kx < 3; kx++)
              {
                vec4 w = w_s[(c * 9 + ky * 3 + kx) * (TILE_CO / 4) + tc];
                [[unroll]] for (uint p = 0; p < PX_PT; p++)
                  acc[p] = fma (w, vec4 (xr[p + kx]), acc[p]);
              }
          }

      barrier ();
    }

  uint y = ty0 + ly;
  [[unroll]] for (uint p = 0; p < PX_PT; p++)
    {
      uint x = tx0 + lx + p;
      if (y >= pc.in_res || x >= pc.in_res)
        continue;
      [[unroll]] for (uint c = 0; c < CO_PT; c++)
        {
          uint v = co_block * TILE_CO + tc * CO_PT + c;
          if (v < pc.n_virtual)
            store_output (v, y, x, acc[p][c]);
        }
    }
}
