/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The modulated 3x3 convolutions: which family runs each layer (decided
 * here and nowhere else), and what the families share: the layout of
 * the weights on the device.
 *
 * Families (one file each):
 *   hd-conv-tiled.c  conv.comp, a tiled implicit GEMM through shared
 *                    memory: GPUs, and any device;
 *   hd-conv-lanes.c  conv_cpu.comp and tconv_cpu.comp, a subgroup as one
 *                    SIMD register: CPU devices such as lavapipe.
 * Same results; the tests run both on one device. */
#include "hd-renderer-private.h"

#include "hd-error.h"

static const HdConvFamily *
family_of_kernel (HdConvKernel kernel)
{
  switch (kernel)
    {
    case HD_CONV_KERNEL_TILED:
      return &hd_conv_tiled;
    case HD_CONV_KERNEL_LANES:
      return &hd_conv_lanes;
    case HD_CONV_KERNEL_AUTO:
    default:
      return NULL;
    }
}

/* The family of every conv: the one the options ask for, else the lanes
 * kernels on a CPU device that has what they need, else the tiled
 * kernel; a layer the chosen family cannot run (its shape, or a buffer
 * larger than this device's texel buffers) falls back to the tiled
 * kernel, which runs anything. */
gboolean
hd_conv_choose_family (HdRenderer  *r,
                       GError     **error)
{
  const HdConvFamily *wanted = family_of_kernel (r->options.conv_kernel);
  const char *why;

  if (wanted == NULL)
    {
      gboolean is_cpu = hd_vk_context_get_device_info (r->ctx)->type == VK_PHYSICAL_DEVICE_TYPE_CPU;

      wanted = is_cpu && hd_conv_lanes.device_unsupported (r) == NULL ? &hd_conv_lanes : &hd_conv_tiled;
    }
  else if ((why = wanted->device_unsupported (r)) != NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   "The %s convolution kernel cannot run on this device: %s", wanted->name, why);
      return FALSE;
    }

  for (int c = 0; c < r->gen->n_convs; c++)
    {
      HdConvGpu *gpu = &r->convs[c];

      gpu->family = wanted;
      if ((why = wanted->layer_unsupported (r, c)) != NULL)
        {
          g_debug ("%s runs on the %s kernel: the %s kernel cannot (%s)",
                   r->gen->convs[c].name, hd_conv_tiled.name, wanted->name, why);
          gpu->family = &hd_conv_tiled;
        }
      gpu->family->plan (r, c);
    }
  g_debug ("Convolution kernel: %s", wanted->name);
  return TRUE;
}

gsize
hd_max_activation_floats (HdGenerator *gen)
{
  gsize largest = (gsize) gen->convs[0].c_in * 16;

  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      largest = MAX (largest, (gsize) conv->c_in * conv->in_res * conv->in_res);
      largest = MAX (largest, (gsize) conv->c_out * conv->block_res * conv->block_res);
    }
  return largest;
}

gsize
hd_conv_weight_floats (const HdConvLayer *conv,
                       const HdConvGpu   *gpu)
{
  gsize blocks = (hd_conv_n_virtual (conv, gpu) + gpu->group - 1) / gpu->group;

  return blocks * gpu->group * hd_conv_padded_c_in (gpu, conv->c_in) * 9;
}

/* The per-axis weights of the up-sampling conv in polyphase form: output
 * pixel 2m + parity takes input m + t (t = -1, 0, 1) through kernel tap
 * ky with weight Σ_a k_a / 4 over the FIR taps a with
 * parity + a - 1 - ky = 2 t (k = [1, 3, 3, 1]). */
static void
polyphase_axis_table (double table[2][3][3])
{
  static const double fir[4] = { 1, 3, 3, 1 };

  memset (table, 0, sizeof (double) * 2 * 3 * 3);
  for (int parity = 0; parity < 2; parity++)
    for (int a = 0; a < 4; a++)
      for (int ky = 0; ky < 3; ky++)
        {
          int twice_t = parity + a - 1 - ky;
          if (twice_t % 2 != 0 || twice_t < -2 || twice_t > 2)
            continue;
          table[parity][twice_t / 2 + 1][ky] += fir[a] / 4.0;
        }
}

/* One conv's weights as its family reads them, over virtual output
 * channels (c_out of them, or 4 c_out for the polyphase up conv:
 * v = 4 o + 2 py + px), zero-padded to whole blocks of GROUP:
 * [block][c_in / pack][9][group][pack], so with a pack of 1
 * [block][c_in][9][group] (conv.comp) and with 4 one vec4 per lane and
 * tap holding four input channels (the lanes kernels). */
gboolean
hd_conv_upload_weights (HdRenderer  *r,
                        int          index,
                        GError     **error)
{
  const HdConvLayer *conv = &r->gen->convs[index];
  HdConvGpu *gpu = &r->convs[index];
  int c_in = conv->c_in;
  int c_in_padded = hd_conv_padded_c_in (gpu, c_in);
  int n_virtual = (int) hd_conv_n_virtual (conv, gpu);
  int group = (int) gpu->group, pack = (int) gpu->ci_pack;
  gsize n = hd_conv_weight_floats (conv, gpu);
  float *dst = g_try_new0 (float, n);
  double table[2][3][3];
  g_autofree char *what = NULL;

  if (dst == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   "Out of memory preparing the weights of %s", conv->name);
      return FALSE;
    }
  polyphase_axis_table (table);

  for (int v = 0; v < n_virtual; v++)
    {
      int o = gpu->polyphase ? v / 4 : v;
      int py = (v / 2) % 2, px = v % 2;
      gsize block_base = (gsize) (v / group) * c_in_padded * 9 * group;
      int lane = v % group;

      for (int i = 0; i < c_in; i++)
        {
          const float *w = conv->weight + ((gsize) o * c_in + i) * 9;
          float *out = dst + block_base + ((gsize) (i / pack) * 9 * group + lane) * pack + i % pack;
          int tap_stride = pack * group;

          for (int ty = 0; ty < 3; ty++)
            for (int tx = 0; tx < 3; tx++)
              {
                double value = 0.0;

                if (!gpu->polyphase)
                  value = w[ty * 3 + tx];
                else
                  for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                      value += table[py][ty][ky] * table[px][tx][kx] * w[ky * 3 + kx];
                out[(ty * 3 + tx) * tap_stride] = (float) value;
              }
        }
    }

  what = g_strdup_printf ("The weights of %s", conv->name);
  gpu->weights = hd_compute_buffer_upload (r->compute, MEM_CONV_WEIGHTS, what, dst, n, error);
  g_free (dst);
  return gpu->weights != NULL;
}
