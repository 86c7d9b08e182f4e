// SPDX-License-Identifier: GPL-3.0-or-later
// ToRGB of one block fused with the skip connection:
// img[c] = upsample2d(img_prev)[c] + clamp(Σ_i Wrgb[c,i] s_i x_i + b_c, ±clamp).
// The styles of ToRGB rows already include the 1/sqrt(C_in) factor.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "hd-common.glsl"

// One row of up to 64 pixels per workgroup: a 2-D grid stays within the
// 65535-workgroup limit of one dimension at any resolution.
layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Act { float act[]; };
layout (std430, binding = 1) readonly buffer ImgPrev { float img_prev[]; };
layout (std430, binding = 2) writeonly buffer ImgOut { float img_out[]; };
layout (std430, binding = 3) readonly buffer Styles { float styles[]; };
layout (std430, binding = 4) readonly buffer Misc { float misc[]; };

#define HD_PUSH_TORGB
#include "hd-push.h"

// upsample2d of the previous (res/2) image at (y, x): separable
// [0.25, 0.75] / [0.75, 0.25] taps with zero borders.
float
upsampled (uint c, uint y, uint x)
{
  int half_res = int (pc.res / 2);
  int my = int (y >> 1), mx = int (x >> 1);
  int y0 = (y & 1u) == 0u ? my - 1 : my;
  int x0 = (x & 1u) == 0u ? mx - 1 : mx;
  float wy[2] = (y & 1u) == 0u ? float[2] (0.25, 0.75) : float[2] (0.75, 0.25);
  float wx[2] = (x & 1u) == 0u ? float[2] (0.25, 0.75) : float[2] (0.75, 0.25);
  uint base = c * uint (half_res * half_res);
  float sum = 0.0;

  for (int a = 0; a < 2; a++)
    {
      int sy = y0 + a;
      if (sy < 0 || sy >= half_res)
        continue;
      float row = 0.0;
      for (int b = 0; b < 2; b++)
        {
          int sx = x0 + b;
          if (sx >= 0 && sx < half_res)
            row += wx[b] * img_prev[base + uint (sy * half_res + sx)];
        }
      sum += wy[a] * row;
    }
  return sum;
}

void
main ()
{
  uint plane = pc.res * pc.res;
  uint x = gl_GlobalInvocationID.x, y = pc.row0 + gl_WorkGroupID.y;
  if (x >= pc.res)
    return;
  uint p = y * pc.res + x;
  uint act_plane = pc.act_rows * pc.res;
  uint act_p = gl_WorkGroupID.y * pc.res + x;

  vec4 acc = vec4 (0.0);
  for (uint i = 0; i < pc.c_in; i++)
    {
      float xs = act[i * act_plane + act_p] * styles[pc.style_off + i];
      for (uint c = 0; c < pc.channels; c++)
        acc[c] += misc[pc.weight_off + c * pc.c_in + i] * xs;
    }

  for (uint c = 0; c < pc.channels; c++)
    {
      float v = acc[c] + misc[pc.bias_off + c];
      if (pc.has_clamp != 0)
        v = clamp (v, -pc.clamp_val, pc.clamp_val);
      if (pc.has_prev != 0)
        v += upsampled (c, y, x);
      img_out[c * plane + p] = v;
    }
}
