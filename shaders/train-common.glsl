// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the training kernels (train_*.comp, hd-train-gpu.c): the
// buffers, the push block and the pieces of the synthesis layer that the
// forward and backward passes both need.  Plain loops, one invocation per
// output value: the shapes are those of the reference
// (hd-train-reference.c), so the two can be read side by side.
#extension GL_GOOGLE_include_directive : require

#include "hd-common.glsl"

// Every tensor region lives in a buffer of its own (a layer's output, a
// block's ToRGB values and image, a gradient plane), so that no buffer
// exceeds what a device allows in one; a dispatch binds those it reads
// and writes.
layout (std430, binding = 0) readonly buffer Params { float prm[]; };
layout (std430, binding = 1) readonly buffer PerRender { float smp[]; };
layout (std430, binding = 2) readonly buffer ActIn { float act_in[]; };
layout (std430, binding = 3) readonly buffer GradIn { float grd_in[]; };
layout (std430, binding = 4) buffer Host { float host[]; };
layout (std430, binding = 5) writeonly buffer ActOut { float act_out[]; };
layout (std430, binding = 6) readonly buffer ActIn2 { float act_in2[]; };
layout (std430, binding = 7) buffer GradOut { float grd_out[]; };

#define HD_PUSH_TRAIN
#include "hd-push.h"

// What the inner loops read: the weights, the activations (ACT2: the
// second input) and the gradients.  With -DTEXEL (the variants for CPU devices) through uniform
// texel buffers, which lavapipe fetches as one vector gather where a
// storage-buffer load at a per-lane address is a loop over the lanes
// (see conv_cpu.comp); otherwise from the storage buffers.  The
// per-render values likewise.
#ifdef TEXEL
layout (set = 1, binding = 0) uniform samplerBuffer prm_t;
layout (set = 1, binding = 1) uniform samplerBuffer act_t;
layout (set = 1, binding = 2) uniform samplerBuffer grd_t;
layout (set = 1, binding = 3) uniform samplerBuffer smp_t;
layout (set = 1, binding = 4) uniform samplerBuffer act2_t;
#define PRM(i) texelFetch (prm_t, int (i)).x
#define SMP(i) texelFetch (smp_t, int (i)).x
#define ACT2(i) texelFetch (act2_t, int (i)).x
#define ACT(i) texelFetch (act_t, int (i)).x
#define GRD(i) texelFetch (grd_t, int (i)).x
#else
#define PRM(i) prm[i]
#define SMP(i) smp[i]
#define ACT(i) act_in[i]
#define ACT2(i) act_in2[i]
#define GRD(i) grd_in[i]
#endif

// The [1,3,3,1] ⊗ [1,3,3,1] / 16 filter of the up-sampling convs.
float
fir_tap (int a,
         int b)
{
  const float k[4] = float[4] (1.0, 3.0, 3.0, 1.0);
  return k[a] * k[b] / 16.0;
}

// lrelu · √2 and the clamp, as the forward pass applies them.
float
train_activate (float z)
{
  float y = lrelu_gain (z);
  return (pc.flags & HD_TRAIN_CLAMP) != 0u ? clamp (y, -pc.clamp, pc.clamp) : y;
}

// Whether the clamp let V through (its gradient passes).
bool
train_passes (float v)
{
  return (pc.flags & HD_TRAIN_CLAMP) == 0u || (v >= -pc.clamp && v <= pc.clamp);
}

// A 3x3 same correlation of TRAIN_PX neighbouring pixels of a row for two
// channels at once: ACC0[q] += Σ_k W0[k] IN (base + (py + ky - 1) res +
// px0 + q + kx - 1), and ACC1 with W1, zero outside the image.  Each
// input row is fetched once for all of them (TRAIN_PX + 2 values for
// 6 TRAIN_PX products), which is what costs on a CPU device.
#define TRAIN_PX 8
#define CORRELATE_ROW2(READ, base, res, py, px0, w0, w1, acc0, acc1)         \
  for (int ky_ = 0; ky_ < 3; ky_++)                                          \
    {                                                                        \
      int yy_ = (py) + ky_ - 1;                                              \
      if (yy_ < 0 || yy_ >= (res))                                           \
        continue;                                                            \
      float row_[TRAIN_PX + 2];                                              \
      for (int j_ = 0; j_ < TRAIN_PX + 2; j_++)                              \
        {                                                                    \
          int xx_ = (px0) - 1 + j_;                                          \
          float v_ = READ ((base) + uint (yy_ * (res) + clamp (xx_, 0, (res) - 1))); \
          row_[j_] = xx_ >= 0 && xx_ < (res) ? v_ : 0.0;                     \
        }                                                                    \
      for (int q_ = 0; q_ < TRAIN_PX; q_++)                                  \
        {                                                                    \
          acc0[q_] += w0[ky_ * 3] * row_[q_] + w0[ky_ * 3 + 1] * row_[q_ + 1] + \
                      w0[ky_ * 3 + 2] * row_[q_ + 2];                        \
          acc1[q_] += w1[ky_ * 3] * row_[q_] + w1[ky_ * 3 + 1] * row_[q_ + 1] + \
                      w1[ky_ * 3 + 2] * row_[q_ + 2];                        \
        }                                                                    \
    }

// The conv's epilogue for render R, channel O, pixel P: demodulation,
// noise, bias and the activation.  Only the output is kept: the backward
// pass reads the activation's slope and the clamp's mask off it (y > 0
// exactly where z > 0; |y| < clamp exactly where the clamp let it
// through, but for the measure-zero z that lands on the bound).
void
store_conv (uint  r,
            uint  o,
            uint  p,
            float acc)
{
  uint plane = pc.res * pc.res;
  float z = acc * SMP (pc.dc_off + r * pc.s_stride + o) +
            SMP (pc.n_off + r * pc.s_stride + p) * pc.noise_strength + PRM (pc.b_off + o);

  act_out[pc.out_off + r * pc.out_stride + o * plane + p] = train_activate (z);
}

// The skip path's 2x up-sampling along one axis: output Y reads input
// rows TAP0 (weight W0) and TAP0 + 1 (weight 1 - W0): 0.25 / 0.75 for even
// Y from rows Y/2 - 1 and Y/2, 0.75 / 0.25 for odd Y from (Y-1)/2 and
// (Y+1)/2.
void
up_taps (int     y,
         out int tap0,
         out float w0)
{
  if ((y & 1) == 0)
    {
      tap0 = y / 2 - 1;
      w0 = 0.25;
    }
  else
    {
      tap0 = (y - 1) / 2;
      w0 = 0.75;
    }
}
