// SPDX-License-Identifier: GPL-3.0-or-later
// Layer norm of each of a few rows (biased variance, eps 1e-5), or with
// unit = 1 the division of one row by its L2 norm.  One invocation per
// row: rows are few and short (77 x 512 at most).
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TEXT_NORM
#include "hd-push.h"

layout (local_size_x = 32) in;

layout (std430, binding = 0) buffer Act { float act[]; };
layout (set = 1, binding = 2) uniform samplerBuffer params;

void
main ()
{
  uint r = gl_GlobalInvocationID.x;
  uint x = pc.x_off + r * pc.stride, y = pc.y_off + r * pc.stride;
  float mean = 0.0, var = 0.0;

  if (r >= pc.rows)
    return;
  if (pc.unit != 0)
    {
      float sum = 0.0;
      for (uint i = 0; i < pc.n; i++)
        sum += act[x + i] * act[x + i];
      float inv = 1.0 / sqrt (sum);
      for (uint i = 0; i < pc.n; i++)
        act[y + i] = act[x + i] * inv;
      return;
    }
  for (uint i = 0; i < pc.n; i++)
    mean += act[x + i];
  mean /= float (pc.n);
  for (uint i = 0; i < pc.n; i++)
    var += (act[x + i] - mean) * (act[x + i] - mean);
  float inv = 1.0 / sqrt (var / float (pc.n) + 1e-5);
  for (uint i = 0; i < pc.n; i++)
    act[y + i] = (act[x + i] - mean) * inv * texelFetch (params, int (pc.weight_off + i)).x +
                 texelFetch (params, int (pc.bias_off + i)).x;
}
