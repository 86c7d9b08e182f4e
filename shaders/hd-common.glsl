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

// Layout of the per-frame header at the start of the frame buffer (the
// renderer writes it from the host before every submission).
#define FRAME_PSI    0
#define FRAME_CUTOFF 1   // int bits; < 0 truncates every w
