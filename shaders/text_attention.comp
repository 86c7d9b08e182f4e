// SPDX-License-Identifier: GPL-3.0-or-later
// Multi-head self-attention: for head j and row i,
// o = softmax ((q_i / sqrt (h)) · k_t for t <= last) · v, last = i when
// causal (the text tower), the last row otherwise (the image tower).  One
// invocation per (row, head) of a sequence (workgroup row y: sequence
// y, one image of several); rows are few (77 text tokens, 50 image
// tokens of ViT-B/32, 197 of ViT-B/16).  q, k and v are read through the
// activations' texel view (a gather on CPU devices, where a storage
// buffer read at a per-lane address is a loop over the lanes); the output
// is summed in registers, CHUNK values of the head at a time.
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TEXT_ATTENTION
#include "hd-push.h"

#define CHUNK 64u

layout (local_size_x = 32) in;

layout (std430, binding = 0) buffer Act { float act[]; };
layout (set = 1, binding = 1) uniform samplerBuffer act_t;

float
A (uint at)
{
  return texelFetch (act_t, int (at)).x;
}

void
main ()
{
  uint i = gl_GlobalInvocationID.x % pc.rows;
  uint j = gl_GlobalInvocationID.x / pc.rows;
  uint h = pc.width / pc.heads;
  uint stride = 3 * pc.width;
  uint qkv_off = pc.qkv_off + gl_WorkGroupID.y * pc.rows * stride;
  uint out_off = pc.out_off + gl_WorkGroupID.y * pc.rows * pc.width;
  uint q = qkv_off + i * stride + j * h;
  float scale = 1.0 / sqrt (float (h));
  float m = -1.0 / 0.0, total = 0.0;
  float acc[CHUNK];

  if (j >= pc.heads)
    return;
  uint last = pc.causal != 0 ? i : pc.rows - 1;
  // Pass 1: the largest score; then the output, a chunk of the head at a
  // time (the first chunk's pass also sums the softmax's denominator).
  for (uint t = 0; t <= last; t++)
    {
      uint k = qkv_off + t * stride + pc.width + j * h;
      float s = 0.0;
      for (uint c = 0; c < h; c++)
        s += A (q + c) * scale * A (k + c);
      m = max (m, s);
    }
  uint o = out_off + i * pc.width + j * h;
  for (uint c0 = 0; c0 < h; c0 += CHUNK)
    {
      uint n = min (CHUNK, h - c0);
      for (uint c = 0; c < CHUNK; c++)
        acc[c] = 0.0;
      for (uint t = 0; t <= last; t++)
        {
          uint k = qkv_off + t * stride + pc.width + j * h;
          uint v = qkv_off + t * stride + 2 * pc.width + j * h + c0;
          float s = 0.0;
          for (uint c = 0; c < h; c++)
            s += A (q + c) * scale * A (k + c);
          float p = exp (s - m);
          if (c0 == 0)
            total += p;
          for (uint c = 0; c < n; c++)
            acc[c] += p * A (v + c);
        }
      for (uint c = 0; c < n; c++)
        act[o + c0 + c] = acc[c] / total;
    }
}
