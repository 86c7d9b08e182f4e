// SPDX-License-Identifier: GPL-3.0-or-later
// The synthesis convs of a training step, forward (train-common.glsl).
//   default: a 3x3 same conv, then the epilogue (store_conv), eight
//            pixels of a row and two output channels per invocation
//            (gl_GlobalInvocationID.y: the pair);
//   -DUP:    the transposed stride-2 conv of an up-sampling layer into T
//            (2 in_res + 1 pixels a side, gradients buffer), 2x2 blocks of
//            T at four neighbouring inputs per invocation;
//   -DFIR:   the [1,3,3,1] filter of T, then the epilogue.
// x: act_in (T: grd_in); out: act_out (T: grd_out); s_off: the conv's
// scales s (1 + d) per render.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

#include "train-common.glsl"

void
main ()
{
  uint p = gl_GlobalInvocationID.x, o = gl_GlobalInvocationID.y, r = pc.sample0 + gl_GlobalInvocationID.z;
#if defined (UP)
  // Invocation (m, n0), 0 ≤ m, n ≤ in_res, makes T (2m + a, 2n + b) for
  // a, b in {0, 1} inside T and n = n0 .. n0 + 3, from the inputs
  // (m - 1 .. m, n0 - 1 .. n0 + 3): input (sy, sx) feeds T (2 sy + ky,
  // 2 sx + kx).
  int in_res = int (pc.in_res), t_res = 2 * in_res + 1, side = in_res + 1, runs = (side + 3) / 4;
  if (p >= uint (side * runs))
    return;
  int m = int (p) / runs, n0 = (int (p) % runs) * 4;
  uint in_plane = pc.in_res * pc.in_res;
  float t00[4], t01[4], t10[4], t11[4];
  int cols[5];
  bool col_ok[5];

  for (int j = 0; j < 5; j++)
    {
      cols[j] = clamp (n0 - 1 + j, 0, in_res - 1);
      col_ok[j] = n0 - 1 + j >= 0 && n0 - 1 + j < in_res;
    }
  for (int q = 0; q < 4; q++)
    {
      t00[q] = 0.0;
      t01[q] = 0.0;
      t10[q] = 0.0;
      t11[q] = 0.0;
    }
  uint row0 = uint (clamp (m - 1, 0, in_res - 1) * in_res), row1 = uint (clamp (m, 0, in_res - 1) * in_res);
  bool ok0 = m >= 1, ok1 = m < in_res;

  for (uint i = 0u; i < pc.c_in; i++)
    {
      uint xb = pc.x_off + r * pc.x_stride + i * in_plane;
      uint wb = pc.w_off + (o * pc.c_in + i) * 9u;
      float sc = SMP (pc.s_off + r * pc.s_stride + i);
      float up[5], dn[5], w[9];

      for (int k = 0; k < 9; k++)
        w[k] = PRM (wb + uint (k)) * sc;
      for (int j = 0; j < 5; j++)
        {
          float a = ACT (xb + row0 + uint (cols[j])), b = ACT (xb + row1 + uint (cols[j]));
          up[j] = ok0 && col_ok[j] ? a : 0.0;   // row m - 1
          dn[j] = ok1 && col_ok[j] ? b : 0.0;   // row m
        }
      // For n = n0 + q: x00 = up[q], x01 = up[q + 1], x10 = dn[q], x11 = dn[q + 1].
      for (int q = 0; q < 4; q++)
        {
          t00[q] += w[0] * dn[q + 1] + w[2] * dn[q] + w[6] * up[q + 1] + w[8] * up[q];
          t01[q] += w[1] * dn[q + 1] + w[7] * up[q + 1];
          t10[q] += w[3] * dn[q + 1] + w[5] * dn[q];
          t11[q] += w[4] * dn[q + 1];
        }
    }
  for (int q = 0; q < 4; q++)
    {
      int n = n0 + q;
      if (n > in_res)
        break;
      uint tb = pc.out_off + r * pc.out_stride + o * uint (t_res * t_res) + uint (2 * m * t_res + 2 * n);
      grd_out[tb] = t00[q];
      if (n < in_res)
        grd_out[tb + 1u] = t01[q];
      if (m < in_res)
        {
          grd_out[tb + uint (t_res)] = t10[q];
          if (n < in_res)
            grd_out[tb + uint (t_res) + 1u] = t11[q];
        }
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
  // TRAIN_PX neighbouring pixels of a row and two channels (2 o, 2 o + 1)
  // per invocation.
  int res = int (pc.res), runs = (res + TRAIN_PX - 1) / TRAIN_PX;
  if (p >= uint (res * runs))
    return;
  int py = int (p) / runs, px0 = (int (p) % runs) * TRAIN_PX;
  uint plane = pc.res * pc.res, o0 = 2u * o, o1 = min (o0 + 1u, pc.c_out - 1u);
  float acc0[TRAIN_PX], acc1[TRAIN_PX];

  for (int q = 0; q < TRAIN_PX; q++)
    {
      acc0[q] = 0.0;
      acc1[q] = 0.0;
    }
  for (uint i = 0u; i < pc.c_in; i++)
    {
      uint xb = pc.x_off + r * pc.x_stride + i * plane;
      uint wb0 = pc.w_off + (o0 * pc.c_in + i) * 9u, wb1 = pc.w_off + (o1 * pc.c_in + i) * 9u;
      float sc = SMP (pc.s_off + r * pc.s_stride + i);
      float w0[9], w1[9];

      for (int k = 0; k < 9; k++)
        {
          w0[k] = PRM (wb0 + uint (k)) * sc;
          w1[k] = PRM (wb1 + uint (k)) * sc;
        }
      CORRELATE_ROW2 (ACT, xb, res, py, px0, w0, w1, acc0, acc1);
    }
  for (int q = 0; q < TRAIN_PX; q++)
    if (px0 + q < res)
      {
        store_conv (r, o0, uint (py * res + px0 + q), acc0[q]);
        if (o0 + 1u < pc.c_out)
          store_conv (r, o1, uint (py * res + px0 + q), acc1[q]);
      }
#endif
}
