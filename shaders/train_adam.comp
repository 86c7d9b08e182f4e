// SPDX-License-Identifier: GPL-3.0-or-later
// One Adam step on the domain vector (see HdTrainAdamPush in hd-push.h),
// in float32 with the host's expressions (hd_adam_step): β = (0.9,
// 0.999), ε = 1e-8 outside the root.
#version 450
#extension GL_GOOGLE_include_directive : require
#define HD_PUSH_TRAIN_ADAM
#include "hd-push.h"

layout (local_size_x = 64) in;

layout (std430, binding = 4) buffer Host { float host[]; };

void
main ()
{
  const float beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  uint i = gl_GlobalInvocationID.x;
  uint d = pc.off, m = pc.off + pc.n, v = pc.off + 2 * pc.n, g = pc.off + 3 * pc.n;
  float step = host[pc.off + 4 * pc.n], root_bc2 = host[pc.off + 4 * pc.n + 1];
  // 1 − β as the host's float arithmetic has them (a constant expression
  // here may be folded in higher precision).
  float one_m_beta1 = host[pc.off + 4 * pc.n + 2], one_m_beta2 = host[pc.off + 4 * pc.n + 3];

  if (i >= pc.n)
    return;
  // precise: no fused multiply-adds, the host's roundings.
  float grad = host[g + i];
  precise float mi = host[m + i] * beta1 + one_m_beta1 * grad;
  precise float vi = host[v + i] * beta2 + one_m_beta2 * grad * grad;
  precise float denom = sqrt (vi) / root_bc2 + eps;
  precise float di = host[d + i] - step * mi / denom;
  host[m + i] = mi;
  host[v + i] = vi;
  host[d + i] = di;
}
