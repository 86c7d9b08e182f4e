// SPDX-License-Identifier: GPL-3.0-or-later
// The synthesis convs of a training step, forward, keeping z (the value
// before the activation) for the backward pass (train-common.glsl).
//   default: a 3x3 same conv, then the epilogue (store_conv), four
//            pixels of a row per invocation;
//   -DUP:    the transposed stride-2 conv of an up-sampling layer into T
//            (2 in_res + 1 pixels a side, gradients buffer), a 2x2 block
//            of T per invocation;
//   -DFIR:   the [1,3,3,1] filter of T, then the epilogue.
// x: activations; s_off: the conv's scales s (1 + d) per render.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

#include "train-common.glsl"

void
main ()
{
  uint p = gl_GlobalInvocationID.x, o = gl_GlobalInvocationID.y, r = pc.sample0 + gl_GlobalInvocationID.z;
#if defined (UP)
  // Invocation (m, n), 0 ≤ m, n ≤ in_res, makes T (2m + a, 2n + b) for
  // a, b in {0, 1} inside T from the inputs (m - 1 .. m, n - 1 .. n):
  // input (sy, sx) feeds T (2 sy + ky, 2 sx + kx).
  int in_res = int (pc.in_res), t_res = 2 * in_res + 1, side = in_res + 1;
  if (p >= uint (side * side))
    return;
  int m = int (p) / side, n = int (p) % side;
  uint in_plane = pc.in_res * pc.in_res;
  bool ok_m1 = m >= 1, ok_m = m < in_res, ok_n1 = n >= 1, ok_n = n < in_res;
  uint i00 = uint (clamp (m - 1, 0, in_res - 1) * in_res + clamp (n - 1, 0, in_res - 1));
  uint i01 = uint (clamp (m - 1, 0, in_res - 1) * in_res + clamp (n, 0, in_res - 1));
  uint i10 = uint (clamp (m, 0, in_res - 1) * in_res + clamp (n - 1, 0, in_res - 1));
  uint i11 = uint (clamp (m, 0, in_res - 1) * in_res + clamp (n, 0, in_res - 1));
  float t00 = 0.0, t01 = 0.0, t10 = 0.0, t11 = 0.0;

  for (uint i = 0u; i < pc.c_in; i++)
    {
      uint xb = pc.x_off + r * pc.x_stride + i * in_plane;
      uint wb = pc.w_off + (o * pc.c_in + i) * 9u;
      float sc = SMP (pc.s_off + r * pc.s_stride + i);
      float x00 = ok_m1 && ok_n1 ? ACT (xb + i00) : 0.0;
      float x01 = ok_m1 && ok_n ? ACT (xb + i01) : 0.0;
      float x10 = ok_m && ok_n1 ? ACT (xb + i10) : 0.0;
      float x11 = ok_m && ok_n ? ACT (xb + i11) : 0.0;
      float w[9];

      for (int k = 0; k < 9; k++)
        w[k] = PRM (wb + uint (k)) * sc;
      t00 += w[0] * x11 + w[2] * x10 + w[6] * x01 + w[8] * x00;
      t01 += w[1] * x11 + w[7] * x01;
      t10 += w[3] * x11 + w[5] * x10;
      t11 += w[4] * x11;
    }
  uint tb = pc.out_off + r * pc.out_stride + o * uint (t_res * t_res) + uint (2 * m * t_res + 2 * n);
  grd[tb] = t00;
  if (n < in_res)
    grd[tb + 1u] = t01;
  if (m < in_res)
    {
      grd[tb + uint (t_res)] = t10;
      if (n < in_res)
        grd[tb + uint (t_res) + 1u] = t11;
    }
#elif defined (FIR)
  int res = int (pc.res), t_res = int (2u * pc.in_res + 1u);
  if (p >= pc.res * pc.res)
    return;
  int py = int (p) / res, px = int (p) % res;
  uint tb = pc.x_off + r * pc.x_stride + o * uint (t_res * t_res);
  float acc = 0.0;

  for (int a = 0; a < 4; a++)
    {
      int ty = py + a - 1;
      if (ty < 0 || ty >= t_res)
        continue;
      for (int b = 0; b < 4; b++)
        {
          int tx = px + b - 1;
          if (tx >= 0 && tx < t_res)
            acc += GRD (tb + uint (ty * t_res + tx)) * fir_tap (a, b);
        }
    }
  store_conv (r, o, p, acc);
#else
  // Four neighbouring pixels of a row per invocation.
  int res = int (pc.res), quads = (res + 3) / 4;
  if (p >= uint (res * quads))
    return;
  int py = int (p) / quads, px0 = (int (p) % quads) * 4;
  uint plane = pc.res * pc.res;
  float acc[4] = float[4] (0.0, 0.0, 0.0, 0.0);

  for (uint i = 0u; i < pc.c_in; i++)
    {
      uint xb = pc.x_off + r * pc.x_stride + i * plane;
      uint wb = pc.w_off + (o * pc.c_in + i) * 9u;
      float sc = SMP (pc.s_off + r * pc.s_stride + i);
      float w[9];

      for (int k = 0; k < 9; k++)
        w[k] = PRM (wb + uint (k)) * sc;
      CORRELATE_ROW4 (ACT, xb, res, py, px0, w, acc);
    }
  for (int q = 0; q < 4; q++)
    if (px0 + q < res)
      store_conv (r, o, uint (py * res + px0 + q), acc[q]);
#endif
}
