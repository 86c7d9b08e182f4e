// SPDX-License-Identifier: GPL-3.0-or-later
// ToRGB and the skip path of a training step (train-common.glsl).
//   default: rgb = W (s ⊙ y) + b (kept at aux), clamped, plus with
//            HD_TRAIN_ADD the previous image (x2, act_in2) up-sampled;
//            into act_out, or buffer 4 with HD_TRAIN_TO_OUT;
//   -DBWD:   the gradient of y (the block's last conv output) from the
//            image's (x; in buffer 4 with HD_TRAIN_TO_OUT), added into
//            out with HD_TRAIN_ADD;
//   -DDOWN:  the skip path, transposed: the previous image's gradient
//            (res / 2 a side) from this image's (x, as -DBWD reads it).
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

#include "train-common.glsl"

float
read_image_gradient (uint i)
{
  return (pc.flags & HD_TRAIN_TO_OUT) != 0u ? host[i] : GRD (i);
}

void
main ()
{
  uint p = gl_GlobalInvocationID.x, c = gl_GlobalInvocationID.y, s = gl_GlobalInvocationID.z;
  uint r = pc.sample0 + s;
  uint plane = pc.res * pc.res;
#if defined (BWD)
  // c: a channel of y.
  if (p >= plane)
    return;
  float g = 0.0;
  for (uint o = 0u; o < pc.c_out; o++)
    if (train_passes (ACT (pc.aux_off + r * pc.aux_stride + o * plane + p)))
      g += PRM (pc.w_off + o * pc.c_in + c) * read_image_gradient (pc.x_off + s * pc.x_stride + o * plane + p);
  g *= SMP (pc.s_off + r * pc.s_stride + c);

  uint oi = pc.out_off + s * pc.out_stride + c * plane + p;
  grd_out[oi] = ((pc.flags & HD_TRAIN_ADD) != 0u ? grd_out[oi] : 0.0) + g;
#elif defined (DOWN)
  int res = int (pc.res), half_res = res / 2;
  if (p >= uint (half_res * half_res))
    return;
  int m = int (p) / half_res, n = int (p) % half_res;
  const float w[4] = float[4] (0.25, 0.75, 0.75, 0.25);
  uint gb = pc.x_off + s * pc.x_stride + c * plane;
  float acc = 0.0;

  // Input row m feeds output rows 2m - 1 .. 2m + 2.
  for (int a = 0; a < 4; a++)
    {
      int y = 2 * m - 1 + a;
      if (y < 0 || y >= res)
        continue;
      for (int b = 0; b < 4; b++)
        {
          int x = 2 * n - 1 + b;
          if (x >= 0 && x < res)
            acc += w[a] * w[b] * read_image_gradient (gb + uint (y * res + x));
        }
    }
  grd_out[pc.out_off + s * pc.out_stride + c * uint (half_res * half_res) + p] = acc;
#else
  // c: an image channel.
  if (p >= plane)
    return;
  float v = PRM (pc.b_off + c);
  for (uint i = 0u; i < pc.c_in; i++)
    v += PRM (pc.w_off + c * pc.c_in + i) * SMP (pc.s_off + r * pc.s_stride + i) *
         ACT (pc.x_off + r * pc.x_stride + i * plane + p);
  act_out[pc.aux_off + r * pc.aux_stride + c * plane + p] = v;

  float img = (pc.flags & HD_TRAIN_CLAMP) != 0u ? clamp (v, -pc.clamp, pc.clamp) : v;
  if ((pc.flags & HD_TRAIN_ADD) != 0u)
    {
      int res = int (pc.res), half_res = res / 2;
      int y = int (p) / res, x = int (p) % res, y0, x0;
      float wy, wx;
      uint pb = pc.x2_off + r * pc.x2_stride + c * uint (half_res * half_res);

      up_taps (y, y0, wy);
      up_taps (x, x0, wx);
      for (int a = 0; a < 2; a++)
        {
          int yy = y0 + a;
          float ky = a == 0 ? wy : 1.0 - wy;
          if (yy < 0 || yy >= half_res)
            continue;
          for (int b = 0; b < 2; b++)
            {
              int xx = x0 + b;
              float kx = b == 0 ? wx : 1.0 - wx;
              if (xx >= 0 && xx < half_res)
                img += ky * kx * ACT2 (pb + uint (yy * half_res + xx));
            }
        }
    }
  uint oi = pc.out_off + r * pc.out_stride + c * plane + p;
  if ((pc.flags & HD_TRAIN_TO_OUT) != 0u)
    host[oi] = img;
  else
    act_out[oi] = img;
#endif
}
