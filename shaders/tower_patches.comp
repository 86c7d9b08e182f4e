// SPDX-License-Identifier: GPL-3.0-or-later
// Image planes to the rows of a ViT's patches and back (see
// HdTowerPatchesPush in hd-push.h): one invocation per value of the
// planes, a copy either way.
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TOWER_PATCHES
#include "hd-push.h"

layout (local_size_x = 64) in;

layout (std430, binding = 0) buffer Act { float act[]; };

void
main ()
{
  uint n = pc.grid * pc.patch_size;
  uint at = gl_GlobalInvocationID.x;

  if (at >= pc.images * 3 * n * n)
    return;
  uint x = at % n, y = (at / n) % n, c = (at / (n * n)) % 3, i = at / (3 * n * n);
  uint a = y / pc.patch_size, b = x / pc.patch_size, rows = pc.grid * pc.grid + 1, k = 3 * pc.patch_size * pc.patch_size;
  uint row = pc.rows_off + (i * rows + 1 + a * pc.grid + b) * k +
             (c * pc.patch_size + y % pc.patch_size) * pc.patch_size + x % pc.patch_size;
  uint plane = pc.planes_off + at;

  if (pc.pass == 0)
    act[row] = act[plane];
  else
    act[plane] = act[row];
}
