// SPDX-License-Identifier: GPL-3.0-or-later
// The synthesis convs of a training step, backward (train-common.glsl);
// sample s = gl_GlobalInvocationID.z of the gradients is render
// sample0 + s of the forward pass.
//   -DACT_BWD:   the activation, the clamp and the demodulation: from the
//            gradient of the output (x) and z (aux) to that of the conv's
//            sum;
//   default: a 3x3 same conv, transposed: from the sum's gradient (x) to
//            that of the scaled input, four pixels of a row per invocation;
//   -DFIR_T: the up-sampling layer's filter, transposed, into T;
//   -DUP:    the stride-2 transposed conv, transposed: from T (x) to the
//            scaled input's gradient.
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
  float z = ACT (pc.aux_off + r * pc.aux_stride + c * plane + p);
  float slope = z > 0.0 ? float (SQRT2) : 0.2 * float (SQRT2);
  float g = GRD (pc.x_off + s * pc.x_stride + c * plane + p) * slope * SMP (pc.dc_off + r * pc.s_stride + c);

  grd[pc.out_off + s * pc.out_stride + c * plane + p] = train_passes (lrelu_gain (z)) ? g : 0.0;
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
  grd[pc.out_off + s * pc.out_stride + c * uint (t_res * t_res) + p] = acc;
#elif defined (UP)
  // c: an input channel; p: an input pixel, which fed T (2 sy + ky, 2 sx + kx).
  int in_res = int (pc.in_res), t_res = 2 * in_res + 1;
  if (p >= pc.in_res * pc.in_res)
    return;
  int sy = int (p) / in_res, sx = int (p) % in_res;
  uint t_plane = uint (t_res * t_res);
  float acc = 0.0;

  for (uint o = 0u; o < pc.c_out; o++)
    {
      uint tb = pc.x_off + s * pc.x_stride + o * t_plane + uint ((2 * sy) * t_res + 2 * sx);
      uint wb = pc.w_off + (o * pc.c_in + c) * 9u;

      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
          acc += PRM (wb + uint (ky * 3 + kx)) * GRD (tb + uint (ky * t_res + kx));
    }
  grd[pc.out_off + s * pc.out_stride + c * pc.in_res * pc.in_res + p] = acc;
#else
  // c: an input channel; four neighbouring input pixels of a row per
  // invocation.  Input q was read by output q - k + 1: a correlation with
  // the kernel flipped, k' = 8 - k.
  int res = int (pc.res), quads = (res + 3) / 4;
  uint plane = pc.res * pc.res;
  if (p >= uint (res * quads))
    return;
  int qy = int (p) / quads, qx0 = (int (p) % quads) * 4;
  float acc[4] = float[4] (0.0, 0.0, 0.0, 0.0);

  for (uint o = 0u; o < pc.c_out; o++)
    {
      uint gb = pc.x_off + s * pc.x_stride + o * plane;
      uint wb = pc.w_off + (o * pc.c_in + c) * 9u;
      float w[9];

      for (int k = 0; k < 9; k++)
        w[k] = PRM (wb + uint (8 - k));
      CORRELATE_ROW4 (GRD, gb, res, qy, qx0, w, acc);
    }
  for (int q = 0; q < 4; q++)
    if (qx0 + q < res)
      grd[pc.out_off + s * pc.out_stride + c * plane + uint (qy * res + qx0 + q)] = acc[q];
#endif
}
