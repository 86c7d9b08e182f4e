// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by every compute shader.  All tensors are float32 in storage
// buffers; offsets in push constants count floats, so one buffer can hold
// many tensors.

#define SQRT2 1.4142135623730951

float
lrelu_gain (float x)
{
  return (x >= 0.0 ? x : 0.2 * x) * float (SQRT2);
}
