// SPDX-License-Identifier: GPL-3.0-or-later
// The backward of text_attention without the causal mask (the image
// tower): for head j with P_it = softmax_t (s_it), s_it = q_i · k_t / √h,
// o_i = Σ_t P_it v_t and the gradient do_i of o_i,
//   D_i = do_i · o_i,  dS_it = P_it (do_i · v_t − D_i),
//   dq_i = Σ_t dS_it k_t / √h,  dk_t = Σ_i dS_it q_i / √h,
//   dv_t = Σ_i P_it do_i.
// Pass 0, one invocation per (row i, head): the softmax's max and sum and
// D_i into stats, then dq_i.  Pass 1, one invocation per (row t, head):
// dk_t and dv_t, with P_it from the stats.  Workgroup row y: sequence y.
// Reads go through the activations' texel view, sums stay in registers
// (CHUNK values of the head at a time), as in text_attention.
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TOWER_ATTENTION_BWD
#include "hd-push.h"

#define CHUNK 64u

layout (local_size_x = 32) in;

layout (std430, binding = 0) buffer Act { float act[]; };
layout (set = 1, binding = 1) uniform samplerBuffer act_t;

uint h;
uint qkv, o, dout, dqkv, stats;
float scale;

float
A (uint at)
{
  return texelFetch (act_t, int (at)).x;
}

// Row t's q (part 0), k (1) or v (2) of head j.
uint
at (uint t,
    uint part,
    uint j)
{
  return t * 3 * pc.width + part * pc.width + j * h;
}

float
dot_rows (uint a,
          uint b)
{
  float s = 0.0;
  for (uint c = 0; c < h; c++)
    s += A (a + c) * A (b + c);
  return s;
}

void
main ()
{
  uint i = gl_GlobalInvocationID.x % pc.rows;
  uint j = gl_GlobalInvocationID.x / pc.rows;
  uint seq = gl_WorkGroupID.y;
  float acc[CHUNK], acc2[CHUNK];

  if (j >= pc.heads)
    return;
  h = pc.width / pc.heads;
  scale = 1.0 / sqrt (float (h));
  qkv = pc.qkv_off + seq * pc.rows * 3 * pc.width;
  dqkv = pc.dqkv_off + seq * pc.rows * 3 * pc.width;
  o = pc.o_off + seq * pc.rows * pc.width;
  dout = pc.do_off + seq * pc.rows * pc.width;
  stats = pc.stats_off + (seq * pc.heads * pc.rows + j * pc.rows) * 3;

  if (pc.pass == 0)
    {
      float m = -1.0 / 0.0, l = 0.0;
      uint q = qkv + at (i, 0, j), dq = dqkv + at (i, 0, j);
      uint doi = dout + i * pc.width + j * h;

      for (uint t = 0; t < pc.rows; t++)
        m = max (m, dot_rows (q, qkv + at (t, 1, j)) * scale);
      for (uint t = 0; t < pc.rows; t++)
        l += exp (dot_rows (q, qkv + at (t, 1, j)) * scale - m);
      float d = dot_rows (doi, o + i * pc.width + j * h);
      act[stats + i * 3] = m;
      act[stats + i * 3 + 1] = l;
      act[stats + i * 3 + 2] = d;
      for (uint c0 = 0; c0 < h; c0 += CHUNK)
        {
          uint n = min (CHUNK, h - c0);
          for (uint c = 0; c < CHUNK; c++)
            acc[c] = 0.0;
          for (uint t = 0; t < pc.rows; t++)
            {
              uint k = qkv + at (t, 1, j);
              float p = exp (dot_rows (q, k) * scale - m) / l;
              float ds = p * (dot_rows (doi, qkv + at (t, 2, j)) - d) * scale;
              for (uint c = 0; c < n; c++)
                acc[c] += ds * A (k + c0 + c);
            }
          for (uint c = 0; c < n; c++)
            act[dq + c0 + c] = acc[c];
        }
      return;
    }

  // Pass 1: i is the key row t here.
  uint t = i;
  uint k = qkv + at (t, 1, j), v = qkv + at (t, 2, j);
  uint dk = dqkv + at (t, 1, j), dv = dqkv + at (t, 2, j);

  for (uint c0 = 0; c0 < h; c0 += CHUNK)
    {
      uint n = min (CHUNK, h - c0);
      for (uint c = 0; c < CHUNK; c++)
        {
          acc[c] = 0.0;
          acc2[c] = 0.0;
        }
      for (uint r = 0; r < pc.rows; r++)
        {
          uint q = qkv + at (r, 0, j), dor = dout + r * pc.width + j * h;
          float m = A (stats + r * 3), l = A (stats + r * 3 + 1), d = A (stats + r * 3 + 2);
          float p = exp (dot_rows (q, k) * scale - m) / l;
          float ds = p * (dot_rows (dor, v) - d) * scale;
          for (uint c = 0; c < n; c++)
            {
              acc[c] += ds * A (q + c0 + c);
              acc2[c] += p * A (dor + c0 + c);
            }
        }
      for (uint c = 0; c < n; c++)
        {
          act[dk + c0 + c] = acc[c];
          act[dv + c0 + c] = acc2[c];
        }
    }
}
