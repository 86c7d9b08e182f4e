// SPDX-License-Identifier: GPL-3.0-or-later
// Input-channel scales of every conv for this frame: s_i (1 + d_i).  Runs
// every frame, so a domain change costs this and the synthesis only.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Frame { float frame[]; };
layout (std430, binding = 1) readonly buffer Styles { float styles[]; };
layout (std430, binding = 2) writeonly buffer Scale { float scale[]; };

#define HD_PUSH_SCALES
#include "hd-push.h"

void
main ()
{
  uint i = gl_GlobalInvocationID.x;
  if (i < pc.n)
    scale[i] = styles[i] * (1.0 + frame[pc.domain_off + i]);
}
