// SPDX-License-Identifier: GPL-3.0-or-later
// Demodulation for every output channel of every conv in one dispatch:
// dcoef_o = rsqrt(Σ_i wsq[o,i] s_i² + 1e-8), with wsq[o,i] = Σ_k W[o,i,k]²
// precomputed at load (stored [c_in][c_out] per conv).  It depends on the
// styles only: the domain scales inputs after demodulation.
//
// With -DTEXEL (CPU devices) wsq and the styles are read through uniform
// texel buffer views of the same buffers (set 1, bindings 3 and 4), which
// lavapipe runs as vector gathers; see map_fc.comp.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Affine { uint affine[]; };
layout (std430, binding = 1) readonly buffer Wsq { float wsq[]; };
layout (std430, binding = 2) readonly buffer Styles { float styles[]; };
#ifdef TEXEL
layout (set = 1, binding = 3) uniform samplerBuffer wsq_t;
layout (set = 1, binding = 4) uniform samplerBuffer styles_t;
#define WSQ(i) texelFetch (wsq_t, int (i)).x
#define STYLE(i) texelFetch (styles_t, int (i)).x
#else
#define WSQ(i) wsq[i]
#define STYLE(i) styles[i]
#endif
layout (std430, binding = 3) writeonly buffer Dcoef { float dcoef[]; };

#define HD_PUSH_DCOEF
#include "hd-push.h"

void
main ()
{
  uint r = gl_GlobalInvocationID.x;
  if (r >= pc.rows)
    return;

  uint m = pc.meta_off + 4 * r;
  uint base = affine[m], stride = affine[m + 1], c_in = affine[m + 2], s_off = affine[m + 3];
  float acc = 0.0;
  for (uint i = 0; i < c_in; i++)
    {
      float s = STYLE (s_off + i);
      acc += WSQ (base + i * stride) * (s * s);
    }
  dcoef[r] = inversesqrt (acc + 1e-8);
}
