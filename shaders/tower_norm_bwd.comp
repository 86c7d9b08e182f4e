// SPDX-License-Identifier: GPL-3.0-or-later
// The backward of text_norm's layer norm (biased variance, eps 1e-5): with
// x̂ = (x − μ) / σ and g = dy ⊙ weight over the n features of a row,
// dx = (g − mean (g) − x̂ mean (g ⊙ x̂)) / σ.  One invocation per row, as
// in the forward.
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TOWER_NORM_BWD
#include "hd-push.h"

layout (local_size_x = 32) in;

layout (std430, binding = 0) buffer Act { float act[]; };
layout (set = 1, binding = 2) uniform samplerBuffer params;

void
main ()
{
  uint r = gl_GlobalInvocationID.x;
  uint x = pc.x_off + r * pc.x_stride;
  uint dy = pc.dy_off + r * pc.dy_stride;
  uint dx = pc.dx_off + r * pc.dx_stride;
  float mean = 0.0, var = 0.0, mg = 0.0, mgx = 0.0;

  if (r >= pc.rows)
    return;
  for (uint i = 0; i < pc.n; i++)
    mean += act[x + i];
  mean /= float (pc.n);
  for (uint i = 0; i < pc.n; i++)
    var += (act[x + i] - mean) * (act[x + i] - mean);
  float inv = 1.0 / sqrt (var / float (pc.n) + 1e-5);
  for (uint i = 0; i < pc.n; i++)
    {
      float g = act[dy + i] * texelFetch (params, int (pc.weight_off + i)).x;
      mg += g;
      mgx += g * (act[x + i] - mean) * inv;
    }
  mg /= float (pc.n);
  mgx /= float (pc.n);
  // dy may be dx itself (a residual stream's gradient): each element is
  // read before it is written.
  for (uint i = 0; i < pc.n; i++)
    {
      float g = act[dy + i] * texelFetch (params, int (pc.weight_off + i)).x;
      float v = (g - mg - (act[x + i] - mean) * inv * mgx) * inv;
      act[dx + i] = pc.add != 0 ? act[dx + i] + v : v;
    }
}
