// SPDX-License-Identifier: GPL-3.0-or-later
// The second half of the 2x up-sampling conv after tconv_cpu.comp: the
// [1,3,3,1] FIR blur of the transposed conv's (2H + 1)² output T, then
// the epilogue.  Demodulation is linear, so it is applied here, once per
// output pixel; noise, bias, lrelu · sqrt(2) and clamp must follow the
// blur.
//   y[P, Q] = Σ_{a,b} T[P + a - 1, Q + b - 1] · k_a k_b / 16
// One invocation per output pixel, the pixels of a channel numbered flat
// so small layers do not leave most of each workgroup idle; z is the
// channel within the chunk.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "hd-common.glsl"

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer TIn { float t_in[]; };
layout (std430, binding = 1) writeonly buffer ActOut { float act_out[]; };
layout (std430, binding = 4) readonly buffer Dcoef { float dcoef[]; };
layout (std430, binding = 5) readonly buffer Misc { float misc[]; };
layout (std430, binding = 6) readonly buffer Noise { float noise[]; };

layout (push_constant) uniform Params {
  uint o_begin;         // first output channel of this chunk
  uint res;             // output resolution 2H
  uint dcoef_off;
  uint bias_off;
  uint noise_off;
  uint noise_on;
  float noise_strength;
  uint has_clamp;
  float clamp_val;
} pc;

void
main ()
{
  const float k[4] = float[4] (0.25, 0.75, 0.75, 0.25);
  int res = int (pc.res);
  int t_res = res + 1;
  uint index = gl_GlobalInvocationID.x;
  uint local_o = gl_WorkGroupID.z;
  uint o = pc.o_begin + local_o;

  if (index >= pc.res * pc.res)
    return;
  int py = int (index / pc.res);
  int qx = int (index % pc.res);

  uint base = local_o * uint (t_res * t_res);
  float sum = 0.0;
  [[unroll]] for (int a = 0; a < 4; a++)
    {
      int ty = py + a - 1;
      if (ty < 0 || ty >= t_res)
        continue;
      uint row = base + uint (ty * t_res);
      float rsum = 0.0;
      [[unroll]] for (int b = 0; b < 4; b++)
        {
          int tx = qx + b - 1;
          if (tx >= 0 && tx < t_res)
            rsum += k[b] * t_in[row + uint (tx)];
        }
      sum += k[a] * rsum;
    }

  uint pix = uint (py * res + qx);
  float val = sum * dcoef[pc.dcoef_off + o];
  if (pc.noise_on != 0)
    val += noise[pc.noise_off + pix] * pc.noise_strength;
  val = lrelu_gain (val + misc[pc.bias_off + o]);
  if (pc.has_clamp != 0)
    val = clamp (val, -pc.clamp_val, pc.clamp_val);
  act_out[o * pc.res * pc.res + pix] = val;
}
