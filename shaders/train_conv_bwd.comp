// SPDX-License-Identifier: GPL-3.0-or-later
// The synthesis convs of a training step, backward (train-common.glsl);
// sample s = gl_GlobalInvocationID.z of the gradients is render
// sample0 + s of the forward pass.
//   -DACT_BWD: the activation, the clamp and the demodulation: from the
//            gradient of the output (x) and the output itself (aux) to
//            that of the conv's sum;
//   default: a 3x3 same conv, transposed: from the sum's gradient (x) to
//            that of the scaled input, eight pixels of a row and two
//            channels per invocation (gl_GlobalInvocationID.y: the pair);
//   -DFIR_T: the up-sampling layer's filter, transposed, into T;
//   -DUP:    the stride-2 transposed conv, transposed: from T (x) to the
//            scaled input's gradient, four input pixels of a row and two
//            channels per invocation.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

#include "train-common.glsl"

void
main ()
{
  uint p = gl_GlobalInvocationID.x, c = gl_GlobalInvocationID.y, s = gl_GlobalInvocationID.z;
  uint r = pc.sample0 + s;
#if defined (ACT_BWD)
  uint plane = pc.res * pc.res;
  if (p >= plane)
    return;
  // y, the conv's output (act_in at aux), gives the slope and the mask.
  float y = ACT (pc.aux_off + r * pc.aux_stride + c * plane + p);
  float slope = y > 0.0 ? float (SQRT2) : 0.2 * float (SQRT2);
  bool passes = (pc.flags & HD_TRAIN_CLAMP) == 0u || (y > -pc.clamp && y < pc.clamp);
  float g = GRD (pc.x_off + s * pc.x_stride + c * plane + p) * slope * SMP (pc.dc_off + r * pc.s_stride + c);

  grd_out[pc.out_off + s * pc.out_stride + c * plane + p] = passes ? g : 0.0;
#elif defined (FIR_T)
  int res = int (pc.res), t_res = int (2u * pc.in_res + 1u);
  if (p >= uint (t_res * t_res))
    return;
  int ty = int (p) / t_res, tx = int (p) % t_res;
  uint gb = pc.x_off + s * pc.x_stride + c * pc.res * pc.res;
  float acc = 0.0;

  for (int a = 0; a < 4; a++)
    {
      int py = ty - a + 1;
      if (py < 0 || py >= res)
        continue;
      for (int b = 0; b < 4; b++)
        {
          int px = tx - b + 1;
          if (px >= 0 && px < res)
            acc += GRD (gb + uint (py * res + px)) * fir_tap (a, b);
        }
    }
  grd_out[pc.out_off + s * pc.out_stride + c * uint (t_res * t_res) + p] = acc;
#elif defined (UP)
  // Input channels 2 c and 2 c + 1 at four neighbouring input pixels of a
  // row per invocation; input (sy, sx) fed T (2 sy + ky, 2 sx + kx).
  int in_res = int (pc.in_res), t_res = 2 * in_res + 1, runs = (in_res + 3) / 4;
  uint c0 = 2u * c, c1 = min (c0 + 1u, pc.c_in - 1u);
  if (p >= uint (in_res * runs))
    return;
  int sy = int (p) / runs, sx0 = (int (p) % runs) * 4;
  uint t_plane = uint (t_res * t_res);
  float acc0[4] = float[4] (0.0, 0.0, 0.0, 0.0), acc1[4] = float[4] (0.0, 0.0, 0.0, 0.0);

  for (uint o = 0u; o < pc.c_out; o++)
    {
      uint tb = pc.x_off + s * pc.x_stride + o * t_plane + uint (2 * sy * t_res);
      uint wb0 = pc.w_off + (o * pc.c_in + c0) * 9u, wb1 = pc.w_off + (o * pc.c_in + c1) * 9u;
      float w0[9], w1[9];

      for (int k = 0; k < 9; k++)
        {
          w0[k] = PRM (wb0 + uint (k));
          w1[k] = PRM (wb1 + uint (k));
        }
      for (int ky = 0; ky < 3; ky++)
        {
          float row[9];
          for (int j = 0; j < 9; j++)
            row[j] = GRD (tb + uint (ky * t_res + min (2 * sx0 + j, t_res - 1)));
          for (int q = 0; q < 4; q++)
            {
              acc0[q] += w0[ky * 3] * row[2 * q] + w0[ky * 3 + 1] * row[2 * q + 1] + w0[ky * 3 + 2] * row[2 * q + 2];
              acc1[q] += w1[ky * 3] * row[2 * q] + w1[ky * 3 + 1] * row[2 * q + 1] + w1[ky * 3 + 2] * row[2 * q + 2];
            }
        }
    }
  uint in_plane = pc.in_res * pc.in_res;
  for (int q = 0; q < 4; q++)
    if (sx0 + q < in_res)
      {
        uint at = pc.out_off + s * pc.out_stride + uint (sy * in_res + sx0 + q);
        grd_out[at + c0 * in_plane] = acc0[q];
        if (c0 + 1u < pc.c_in)
          grd_out[at + c1 * in_plane] = acc1[q];
      }
#else
  // Input channels 2 c and 2 c + 1, TRAIN_PX neighbouring input pixels of
  // a row per invocation.  Input q was read by output q - k + 1: a
  // correlation with the kernel flipped, k' = 8 - k.
  int res = int (pc.res), runs = (res + TRAIN_PX - 1) / TRAIN_PX;
  uint plane = pc.res * pc.res, c0 = 2u * c, c1 = min (c0 + 1u, pc.c_in - 1u);
  if (p >= uint (res * runs))
    return;
  int qy = int (p) / runs, qx0 = (int (p) % runs) * TRAIN_PX;
  float acc0[TRAIN_PX], acc1[TRAIN_PX];

  for (int q = 0; q < TRAIN_PX; q++)
    {
      acc0[q] = 0.0;
      acc1[q] = 0.0;
    }
  for (uint o = 0u; o < pc.c_out; o++)
    {
      uint gb = pc.x_off + s * pc.x_stride + o * plane;
      uint wb0 = pc.w_off + (o * pc.c_in + c0) * 9u, wb1 = pc.w_off + (o * pc.c_in + c1) * 9u;
      float w0[9], w1[9];

      for (int k = 0; k < 9; k++)
        {
          w0[k] = PRM (wb0 + uint (8 - k));
          w1[k] = PRM (wb1 + uint (8 - k));
        }
      CORRELATE_ROW2 (GRD, gb, res, qy, qx0, w0, w1, acc0, acc1);
    }
  for (int q = 0; q < TRAIN_PX; q++)
    if (qx0 + q < res)
      {
        uint at = pc.out_off + s * pc.out_stride + uint (qy * res + qx0 + q);
        grd_out[at + c0 * plane] = acc0[q];
        if (c0 + 1u < pc.c_in)
          grd_out[at + c1 * plane] = acc1[q];
      }
#endif
}
