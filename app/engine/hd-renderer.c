/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The forward pass of spec/generator-math.md on a Vulkan device.
 *
 * hd_renderer_new re-lays out every weight for the kernels and uploads
 * it once.  A frame then writes only a small host-visible "frame" buffer
 * (psi, cutoff, z or w, the blended domain vector) and, when the noise
 * seed changes, the random noise images.  The dispatch sequence of a
 * frame is recorded once per (mapping mode, preview size, noise mode,
 * whole or in pieces) and replayed.  In pieces
 * (hd_renderer_render_cancellable), a frame can be stopped between two
 * of them; see PIECES_PER_FRAME.
 *
 * One frame:
 *   [mapping: map_norm, map_fc x L, map_truncate | map_truncate of a W]
 *   [styles, dcoef]                 (skipped when w is cached)
 *     -> hd-renderer-mapping.c
 *   scales: s_i (1 + d_i) of every conv input channel
 *   per block: conv (up), conv, torgb + skip (the last block's second
 *   conv and its torgb in bands of rows; see plan_activations)
 *     -> the conv families, hd-conv.c
 *   copy of the block's image to the readback buffer (none where the
 *   host can read the image buffer itself)
 *
 * Everything Vulkan that is not this model's maths (kernels, buffers,
 * descriptor sets, submission, timestamps, teardown) is the compute
 * layer's, hd-vk-compute.c. */
#include "hd-renderer-private.h"

#include <math.h>

#include <gio/gio.h>

#include "hd-error.h"
#include "hd-latent.h"

/* What the noise buffer holds: the generator's constant noise images or
 * random ones of one seed; they take turns in one buffer. */
typedef enum {
  NOISE_CONTENT_UNKNOWN,   /* an upload failed half way */
  NOISE_CONTENT_CONST,
  NOISE_CONTENT_RANDOM,
} NoiseContent;

/* How a frame gets its w. */
typedef enum {
  MAPPING_CACHED,   /* styles and dcoef of the previous frame are valid */
  MAPPING_Z,        /* z (uploaded) -> mapping -> truncation */
  MAPPING_W,        /* w (uploaded) -> truncation */
  N_MAPPING_MODES
} MappingMode;

#define N_NOISE_MODES 3

/* A frame is recorded whole (one submission) or in pieces, with a point
 * between pieces where hd_renderer_render_cancellable may stop it. */
typedef enum {
  SPLIT_NONE,
  SPLIT_PIECES,
  N_SPLIT_MODES
} SplitMode;

/* Pieces of a split frame: a cut falls before a convolution when the
 * piece would otherwise exceed 1/PIECES_PER_FRAME of the frame's
 * convolution work, but no piece is cut smaller than MIN_PIECE_MACS (on
 * lavapipe some 30 ms of work; hd_renderer_set_min_piece_macs), so small
 * models stay one piece and a GPU pays for a few submissions at most.
 * A convolution is never cut (the bands of the last one are separate),
 * so the largest (a 3x3 conv of 9.7 GMAC, 13% of a 1024 config-f frame)
 * are pieces of their own: 256 has 11 pieces, 1024 config-f 12, the demo
 * model one.  Each piece is submitted and waited for before the next:
 * on lavapipe the gap costs nothing measurable (docs/performance.md). */
#define PIECES_PER_FRAME 16
#define MIN_PIECE_MACS   0.4e9

/* Rows of a band of the last conv are a multiple of this (the tile
 * height of every conv kernel). */
#define BAND_ALIGN 8
_Static_assert (BAND_ALIGN % HD_TILED_TILE_H == 0 && BAND_ALIGN % HD_LANES_TILE_P == 0,
                "bands must be whole tiles");

/* Marks of the frame timestamps. */
enum { MARK_START, MARK_MAPPED, MARK_END };

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

static const char * const conv_kernel_names[] = {
  [HD_CONV_KERNEL_AUTO] = "auto",
  [HD_CONV_KERNEL_TILED] = "tiled",
  [HD_CONV_KERNEL_LANES] = "lanes",
};

void
hd_renderer_options_init (HdRendererOptions *options)
{
  *options = (HdRendererOptions) { .conv_kernel = HD_CONV_KERNEL_AUTO };
}

gboolean
hd_conv_kernel_from_string (const char   *str,
                            HdConvKernel *kernel)
{
  for (guint k = 0; k < G_N_ELEMENTS (conv_kernel_names); k++)
    if (g_strcmp0 (str, conv_kernel_names[k]) == 0)
      {
        *kernel = k;
        return TRUE;
      }
  return FALSE;
}

const char *
hd_conv_kernel_to_string (HdConvKernel kernel)
{
  return (guint) kernel < G_N_ELEMENTS (conv_kernel_names) ? conv_kernel_names[kernel] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Constant data                                                            */

/* Puts the generator's constant noise images into the noise buffer
 * (where random noise of a seed may be). */
static gboolean
upload_const_noise (HdRenderer  *r,
                    GError     **error)
{
  HdGenerator *gen = r->gen;
  g_autofree float *noise = NULL;

  if (r->noise_content == NOISE_CONTENT_CONST)
    return TRUE;
  noise = g_try_new (float, MAX (r->noise_total, 1));
  if (noise == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY, "Out of memory preparing the noise");
      return FALSE;
    }
  for (int c = 0; c < gen->n_convs; c++)
    memcpy (noise + r->convs[c].noise_base, gen->convs[c].noise_const,
            sizeof (float) * gen->convs[c].block_res * gen->convs[c].block_res);
  r->noise_content = NOISE_CONTENT_UNKNOWN;
  if (!hd_compute_upload (r->compute, r->noise_buf, 0, noise, (gsize) r->noise_total * sizeof (float), error))
    return FALSE;
  r->noise_content = NOISE_CONTENT_CONST;
  return TRUE;
}

/* Biases, ToRGB weights, the constant input and the constant noise. */
static gboolean
upload_misc (HdRenderer  *r,
             GError     **error)
{
  HdGenerator *gen = r->gen;
  HdCompute *c = r->compute;
  HdPack misc;
  gboolean ok;

  hd_pack_init (&misc);
  r->noise_total = 0;
  for (int k = 0; k < gen->n_convs; k++)
    {
      const HdConvLayer *conv = &gen->convs[k];
      gsize plane = (gsize) conv->block_res * conv->block_res;

      r->convs[k].push.bias_off = hd_pack_append (&misc, conv->bias, conv->c_out);
      r->convs[k].noise_base = r->noise_total;
      r->noise_total += plane;
      r->convs[k].push.noise_strength = conv->noise_strength;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];

      r->rgbs[b].push.weight_off = hd_pack_append (&misc, rgb->weight, (gsize) rgb->c_out * rgb->c_in);
      r->rgbs[b].push.bias_off = hd_pack_append (&misc, rgb->bias, rgb->c_out);
    }
  g_assert (r->noise_total == hd_noise_total_size (gen));

  /* One set of noise images: the constant ones, until a frame asks for
   * random noise (upload_random_noise). */
  ok = (r->misc_buf = hd_compute_buffer_upload (c, MEM_MISC, "Biases and ToRGB weights",
                                                hd_pack_at (&misc, 0), misc.data->len, error)) &&
       (r->noise_buf = hd_compute_buffer (c, MEM_NOISE, "The noise images",
                                          MAX (r->noise_total, 1) * sizeof (float),
                                          HD_VK_MEMORY_DEVICE, error)) &&
       upload_const_noise (r, error) &&
       (r->const_buf = hd_compute_buffer_upload (c, MEM_MISC, "The constant input", gen->const_input,
                                                 (gsize) gen->convs[0].c_in * 16, error));
  g_array_unref (misc.data);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

/* The largest per-buffer sizes known before anything is uploaded, so a
 * generator too large for this device fails at once, with a clear
 * message, instead of after minutes of uploading. */
static gboolean
check_sizes (HdRenderer  *r,
             GError     **error)
{
  HdGenerator *gen = r->gen;
  gsize act = hd_max_activation_floats (gen) * sizeof (float);

  if (!hd_compute_check_buffer_size (r->compute, "The largest layer’s activations", act, error))
    return FALSE;
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      gsize bytes = hd_conv_weight_floats (conv, &r->convs[c]) * sizeof (float);
      g_autofree char *what = g_strdup_printf ("The weights of %s", conv->name);

      if (!hd_compute_check_buffer_size (r->compute, what, bytes, error))
        return FALSE;
    }
  return TRUE;
}

/* The sizes of the two activation buffers.  Conv c writes act[c % 2] and
 * conv c + 1 reads it, so each buffer is as large as the largest output
 * it receives.  The exception is the last conv, which is usually the
 * largest output of all (32 x 1024² floats, 128 MiB, at 1024x1024) but
 * feeds only ToRGB: it runs in bands of rows, each band followed by the
 * ToRGB of its rows, into a buffer sized by the other layers (the output
 * of the previous block, which the up conv of the last block has read by
 * then).  Results are the same: every output pixel is computed as
 * before, only stored at another place. */
static void
plan_activations (HdRenderer *r)
{
  HdGenerator *gen = r->gen;
  int last = gen->n_convs - 1;
  const HdConvLayer *conv = &gen->convs[last];
  gsize row = (gsize) conv->c_out * conv->block_res;
  gsize full = row * conv->block_res;
  gsize *need = r->act_floats;

  need[0] = need[1] = 0;
  for (int c = 0; c < last; c++)
    need[c % 2] = MAX (need[c % 2], (gsize) gen->convs[c].c_out *
                                    gen->convs[c].block_res * gen->convs[c].block_res);

  r->band_rows = 0;
  if (!conv->up && full > need[last % 2] && conv->block_res >= 2 * BAND_ALIGN)
    {
      int rows = (int) MIN (need[last % 2] / row, (gsize) conv->block_res) / BAND_ALIGN * BAND_ALIGN;

      rows = MAX (rows, BAND_ALIGN);
      if (rows < conv->block_res)
        r->band_rows = rows;
    }
  need[last % 2] = MAX (need[last % 2], r->band_rows > 0 ? row * r->band_rows : full);
  need[0] = MAX (need[0], 1);
  need[1] = MAX (need[1], 1);
  g_debug ("Activations: %.1f + %.1f MiB; the last conv in bands of %d rows (0: one piece)",
           need[0] * 4 / 1048576.0, need[1] * 4 / 1048576.0, r->band_rows);
}

static gboolean
create_runtime_buffers (HdRenderer  *r,
                        GError     **error)
{
  HdGenerator *gen = r->gen;
  HdCompute *c = r->compute;
  const HdGeneratorConfig *config = &gen->config;
  gsize width = MAX (config->z_dim, config->w_dim);
  gsize ws = (gsize) gen->num_ws * config->w_dim;
  gsize img[2] = { 1, 1 };
  gsize frame;
  gboolean direct;

  for (int l = 0; l < config->mapping_layers; l++)
    width = MAX (width, (gsize) gen->mapping[l].out_features);

  r->frame_z = HD_FRAME_HEADER;
  r->frame_w = r->frame_z + config->z_dim;
  r->frame_d = r->frame_w + ws;
  r->frame_style = r->frame_d + gen->domain_dim;
  frame = r->frame_style + gen->num_ws + ws;

  r->latent_x[0] = 0;
  r->latent_x[1] = width;
  r->latent_ws = 2 * width;

  /* ToRGB of block b writes img[b % 2]. */
  for (int b = 0; b < gen->n_rgbs; b++)
    img[b % 2] = MAX (img[b % 2], (gsize) gen->rgbs[b].c_out *
                                  gen->rgbs[b].block_res * gen->rgbs[b].block_res);

#define BUFFER(dest, kind, what, floats, use) \
  ((dest = hd_compute_buffer (c, kind, what, (floats) * sizeof (float), use, error)) != NULL)
  if (!(BUFFER (r->frame_buf, MEM_FRAME, "The frame parameters", frame, HD_VK_MEMORY_UPLOAD) &&
        BUFFER (r->latent_buf, MEM_FRAME, "The latents", 2 * width + ws, HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->styles_buf, MEM_FRAME, "The styles", r->style_rows, HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->dcoef_buf, MEM_FRAME, "The demodulation coefficients", r->dcoef_rows,
                HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->scale_buf, MEM_FRAME, "The input scales", MAX (gen->domain_dim, 1),
                HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->act[0], MEM_ACTIVATIONS, "The activations", r->act_floats[0], HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->act[1], MEM_ACTIVATIONS, "The activations", r->act_floats[1], HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->img[0], MEM_IMAGES, "The image", img[0], HD_VK_MEMORY_DEVICE) &&
        BUFFER (r->img[1], MEM_IMAGES, "The image", img[1], HD_VK_MEMORY_DEVICE)))
    return FALSE;

  /* Where the images are in host-cached, coherent memory (unified memory,
   * CPU devices), the host reads them there; otherwise through a copy to
   * a readback buffer (force_staging forces that too). */
  direct = !r->options.force_staging;
  for (int i = 0; i < 2; i++)
    if (r->img[i]->mapped == NULL || !(r->img[i]->memory_flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT))
      direct = FALSE;
  if (direct)
    return TRUE;
  return BUFFER (r->readback, MEM_READBACK, "The readback buffer", MAX (img[0], img[1]),
                 HD_VK_MEMORY_READBACK);
#undef BUFFER
}

/* Conv k reads the output of conv k - 1 (the constant for k = 0) and
 * writes act[k % 2]; ToRGB reads its block's last conv output. */
static gboolean
create_layer_sets (HdRenderer  *r,
                   GError     **error)
{
  HdGenerator *gen = r->gen;

  for (int k = 0; k < gen->n_convs; k++)
    {
      HdConvGpu *gpu = &r->convs[k];
      const HdVkBuffer *in = k == 0 ? r->const_buf : r->act[(k - 1) % 2];

      gpu->set = HD_RENDERER_SET (r, error, in, r->act[k % 2], gpu->weights, r->scale_buf,
                                  r->dcoef_buf, r->misc_buf, r->noise_buf);
      if (gpu->set == VK_NULL_HANDLE ||
          (gpu->family->bind != NULL && !gpu->family->bind (r, k, error)))
        return FALSE;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      int last_conv = b == 0 ? 0 : 2 * b;

      r->rgbs[b].set = HD_RENDERER_SET (r, error, r->act[last_conv % 2], r->img[(b + 1) % 2],
                                        r->img[b % 2], r->styles_buf, r->misc_buf);
      if (r->rgbs[b].set == VK_NULL_HANDLE)
        return FALSE;
    }
  r->scales_set = HD_RENDERER_SET (r, error, r->frame_buf, r->styles_buf, r->scale_buf);
  return r->scales_set != VK_NULL_HANDLE;
}

/* Push constants that do not change per frame. */
static void
setup_dispatches (HdRenderer *r)
{
  HdGenerator *gen = r->gen;
  const HdGeneratorConfig *config = &gen->config;

  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      HdConvGpu *gpu = &r->convs[c];

      gpu->push.c_in = conv->c_in;
      gpu->push.n_virtual = hd_conv_n_virtual (conv, gpu);
      gpu->push.in_res = conv->in_res;
      gpu->push.has_clamp = config->has_conv_clamp;
      gpu->push.clamp_val = config->has_conv_clamp ? config->conv_clamp : 0.0f;
      gpu->push.out_row0 = 0;
      gpu->push.out_rows = conv->block_res;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      HdRgbGpu *gpu = &r->rgbs[b];

      gpu->push.c_in = rgb->c_in;
      gpu->push.res = rgb->block_res;
      gpu->push.channels = rgb->c_out;
      gpu->push.has_prev = b > 0;
      gpu->push.has_clamp = config->has_conv_clamp;
      gpu->push.clamp_val = config->has_conv_clamp ? config->conv_clamp : 0.0f;
      gpu->push.row0 = 0;
      gpu->push.act_rows = rgb->block_res;
      gpu->groups[0] = (rgb->block_res + 63) / 64;
      gpu->groups[1] = rgb->block_res;
      gpu->groups[2] = 1;
      gpu->img = b % 2;
    }
}

/* Whether the mapping kernels should read through texel buffers: when a
 * conv family that does runs any layer. */
static gboolean
uses_texel_mapping (HdRenderer *r)
{
  for (int c = 0; c < r->gen->n_convs; c++)
    if (r->convs[c].family->texel_mapping)
      return TRUE;
  return FALSE;
}

static gboolean
create_kernels (HdRenderer  *r,
                GError     **error)
{
  HdKernelInfo scales = { .shader = "scales" }, torgb = { .shader = "torgb" };

  for (int c = 0; c < r->gen->n_convs; c++)
    if (!r->convs[c].family->prepare (r, c, error))
      return FALSE;
  return (r->scales_kernel = hd_compute_kernel (r->compute, &scales, error)) != NULL &&
         (r->torgb_kernel = hd_compute_kernel (r->compute, &torgb, error)) != NULL;
}

HdRenderer *
hd_renderer_new (HdVkContext  *ctx,
                 HdGenerator  *gen,
                 GError      **error)
{
  return hd_renderer_new_with_options (ctx, gen, NULL, error);
}

HdRenderer *
hd_renderer_new_with_options (HdVkContext              *ctx,
                              HdGenerator              *gen,
                              const HdRendererOptions  *options,
                              GError                  **error)
{
  HdRenderer *r;
  HdComputeOptions compute_options = { 0 };

  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (gen != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  r = g_new0 (HdRenderer, 1);
  r->ctx = hd_vk_context_ref (ctx);
  r->gen = hd_generator_ref (gen);
  if (options != NULL)
    r->options = *options;
  else
    hd_renderer_options_init (&r->options);
  r->convs = g_new0 (HdConvGpu, gen->n_convs);
  r->rgbs = g_new0 (HdRgbGpu, gen->n_rgbs);
  r->cache_latent = g_new0 (float, MAX ((gsize) gen->config.z_dim,
                                        (gsize) gen->num_ws * gen->config.w_dim));
  r->cache_style_mix = g_new0 (float, (gsize) gen->num_ws * (1 + gen->config.w_dim));
  r->min_piece_macs = MIN_PIECE_MACS;
  r->n_commands = N_SPLIT_MODES * N_MAPPING_MODES * gen->n_blocks * N_NOISE_MODES;
  r->commands = g_new0 (HdFrameCommands, r->n_commands);

  compute_options.profile = r->options.profile;
  compute_options.force_staging = r->options.force_staging;
  r->compute = hd_compute_new (ctx, &compute_options, error);
  if (r->compute == NULL ||
      !hd_conv_choose_family (r, error) ||
      !check_sizes (r, error) ||
      !hd_mapping_upload (r, error) ||
      !upload_misc (r, error))
    goto fail;
  for (int c = 0; c < gen->n_convs; c++)
    if (!hd_conv_upload_weights (r, c, error))
      goto fail;
  plan_activations (r);
  setup_dispatches (r);
  if (!create_kernels (r, error) ||
      !create_runtime_buffers (r, error) ||
      !hd_mapping_prepare (r, uses_texel_mapping (r), error) ||
      !create_layer_sets (r, error))
    goto fail;
  r->stats.device_bytes = hd_compute_get_device_bytes (r->compute);
  return r;

fail:
  hd_renderer_free (r);
  return NULL;
}

static void
frame_commands_clear (HdRenderer      *r,
                      HdFrameCommands *fc)
{
  hd_compute_free_commands (r->compute, fc->n_pieces, fc->pieces);
  g_clear_pointer (&fc->pieces, g_free);
  g_clear_pointer (&fc->done, g_free);
  g_clear_pointer (&fc->profile_labels, g_ptr_array_unref);
  fc->n_pieces = 0;
}

void
hd_renderer_free (HdRenderer *r)
{
  if (r == NULL)
    return;

  /* Waits for the device, then releases every handle (the command
   * buffers with their pool). */
  hd_compute_free (r->compute);
  for (guint i = 0; i < r->n_commands; i++)
    {
      g_free (r->commands[i].pieces);
      g_free (r->commands[i].done);
      g_clear_pointer (&r->commands[i].profile_labels, g_ptr_array_unref);
    }
  hd_mapping_free (r);
  g_free (r->commands);
  g_free (r->convs);
  g_free (r->rgbs);
  g_free (r->cache_latent);
  g_free (r->cache_style_mix);
  hd_generator_unref (r->gen);
  hd_vk_context_unref (r->ctx);
  g_free (r);
}

HdGenerator *
hd_renderer_get_generator (HdRenderer *renderer)
{
  g_return_val_if_fail (renderer != NULL, NULL);

  return renderer->gen;
}

HdConvKernel
hd_renderer_get_conv_kernel (HdRenderer *renderer,
                             int         conv_index)
{
  g_return_val_if_fail (renderer != NULL, HD_CONV_KERNEL_AUTO);
  g_return_val_if_fail (conv_index >= 0 && conv_index < renderer->gen->n_convs, HD_CONV_KERNEL_AUTO);

  return renderer->convs[conv_index].family->kernel;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

/* Records one frame variant into one command buffer or, when split, into
 * pieces; see PIECES_PER_FRAME. */
typedef struct {
  HdRenderer      *r;
  VkCommandBuffer  cb;          /* the piece being recorded */
  GArray          *pieces;      /* VkCommandBuffer, ended */
  GArray          *done;        /* double: work done after each piece */
  gboolean         split;
  double           total;       /* convolution work of the frame */
  double           recorded;    /* ... recorded so far */
  double           piece;       /* ... in the current piece */
  double           target;      /* of a piece */
  GError          *error;       /* the first failure */
} Recorder;

/* A new command buffer in the recording state, or VK_NULL_HANDLE with
 * REC->error set. */
static VkCommandBuffer
recorder_new_piece (Recorder *rec)
{
  return hd_compute_begin (rec->r->compute, 0, "Recording commands",
                           rec->error == NULL ? &rec->error : NULL);
}

/* Ends the current piece; it joins the others (to be freed with them
 * even when ending it failed). */
static void
recorder_end_piece (Recorder *rec)
{
  double done = rec->total > 0.0 ? MIN (rec->recorded / rec->total, 1.0) : 1.0;

  g_array_append_val (rec->pieces, rec->cb);
  g_array_append_val (rec->done, done);
  hd_vk_check (vkEndCommandBuffer (rec->cb), "Recording commands",
               rec->error == NULL ? &rec->error : NULL);
  rec->cb = VK_NULL_HANDLE;
}

/* Accounts for a unit of work (a convolution, or a band of one, with the
 * ToRGB that follows it) about to be recorded; in a split frame, starts
 * a new piece first when this one would grow beyond the target.  The
 * barrier recorded after the previous unit orders it before this one
 * across the submissions too (barriers act in submission order). */
static VkCommandBuffer
recorder_unit (Recorder *rec,
               double    macs)
{
  if (rec->split && rec->error == NULL && rec->piece > 0.0 && rec->piece + macs > rec->target)
    {
      /* On a failure the current piece stays the one recorded into, and
       * the whole frame is thrown away at the end. */
      VkCommandBuffer next = recorder_new_piece (rec);

      if (next != VK_NULL_HANDLE)
        {
          recorder_end_piece (rec);
          rec->cb = next;
          rec->piece = 0.0;
        }
    }
  rec->piece += macs;
  rec->recorded += macs;
  return rec->cb;
}

/* The multiply-adds of a convolution, as hd_generator_synthesis_macs
 * counts them: the measure of work that pieces are cut by. */
static double
conv_macs (const HdConvLayer *conv)
{
  return (double) conv->c_out * conv->c_in * 9.0 * conv->in_res * conv->in_res;
}

static double
synthesis_macs (HdGenerator *gen,
                int          stop_block)
{
  double macs = 0.0;

  for (int c = 0; c < gen->n_convs && gen->convs[c].block_res <= (4 << stop_block); c++)
    macs += conv_macs (&gen->convs[c]);
  return macs;
}

/* Conv INDEX with PUSH, over ROWS output rows (all of them, or a band). */
static void
record_conv (HdRenderer       *r,
             VkCommandBuffer   cb,
             int               index,
             const HdConvPush *push,
             guint32           rows)
{
  HdConvGpu *gpu = &r->convs[index];

  if (gpu->texel_set != VK_NULL_HANDLE)
    hd_compute_bind_texel_set (r->compute, cb, gpu->texel_set);
  hd_compute_dispatch (r->compute, cb, gpu->kernel, gpu->set, push, sizeof *push,
                       gpu->groups[0], hd_compute_groups (rows, gpu->tile_rows), gpu->groups[2],
                       r->gen->convs[index].name + strlen ("synthesis."));
  hd_compute_barrier (cb);
}

static void
record_torgb (HdRenderer        *r,
              VkCommandBuffer    cb,
              int                block,
              const HdTorgbPush *push,
              guint32            rows)
{
  HdRgbGpu *rgb = &r->rgbs[block];

  hd_compute_dispatch (r->compute, cb, r->torgb_kernel, rgb->set, push, sizeof *push,
                       rgb->groups[0], rows, rgb->groups[2],
                       r->gen->rgbs[block].name + strlen ("synthesis."));
}

static void
record_synthesis (HdRenderer      *r,
                  Recorder        *rec,
                  int              stop_block,
                  HdNoiseMode      noise_mode)
{
  HdGenerator *gen = r->gen;
  VkCommandBuffer cb = rec->cb;
  HdScalesPush scales = {
    .n = gen->domain_dim,
    .domain_off = r->frame_d,
  };
  int conv = 0;

  hd_compute_dispatch (r->compute, cb, r->scales_kernel, r->scales_set, &scales, sizeof scales,
                       hd_compute_groups (gen->domain_dim, 64), 1, 1, "all convs");
  hd_compute_barrier (cb);

  for (int b = 0; b <= stop_block; b++)
    {
      HdRgbGpu *rgb = &r->rgbs[b];
      int n_convs = b == 0 ? 1 : 2;
      /* The last conv of the generator runs in bands (plan_activations). */
      gboolean banded = r->band_rows > 0 && b == gen->n_blocks - 1;

      for (int j = 0; j < n_convs; j++, conv++)
        {
          HdConvPush push = r->convs[conv].push;

          push.noise_on = noise_mode != HD_NOISE_NONE;
          push.noise_off = r->convs[conv].noise_base;
          if (!banded || j < n_convs - 1)
            {
              cb = recorder_unit (rec, conv_macs (&gen->convs[conv]));
              record_conv (r, cb, conv, &push, gen->convs[conv].in_res);
              continue;
            }

          /* Band by band: the conv's rows row0 .. row0 + rows - 1 into
           * the start of its buffer, then the ToRGB of those rows. */
          for (guint32 row0 = 0; row0 < push.out_rows; row0 += r->band_rows)
            {
              guint32 rows = MIN ((guint32) r->band_rows, push.out_rows - row0);
              HdConvPush band = push;
              HdTorgbPush rgb_band = rgb->push;

              g_assert (conv == gen->n_convs - 1);
              cb = recorder_unit (rec, conv_macs (&gen->convs[conv]) * rows / push.out_rows);
              band.out_row0 = row0;
              band.out_rows = r->band_rows;
              record_conv (r, cb, conv, &band, rows);
              rgb_band.row0 = row0;
              rgb_band.act_rows = r->band_rows;
              record_torgb (r, cb, b, &rgb_band, rows);
              /* The next band overwrites what this ToRGB reads. */
              hd_compute_barrier (cb);
            }
        }
      if (banded)
        continue;
      /* No barrier after ToRGB: the next conv does not touch the images,
       * and the next ToRGB comes after that conv's barrier. */
      record_torgb (r, cb, b, &rgb->push, rgb->groups[1]);
    }
}

static HdFrameCommands *
get_commands (HdRenderer   *r,
              SplitMode     split,
              MappingMode   mode,
              int           stop_block,
              HdNoiseMode   noise_mode,
              GError      **error)
{
  guint index = (((guint) split * N_MAPPING_MODES + mode) * r->gen->n_blocks + stop_block) *
                N_NOISE_MODES + noise_mode;
  HdCompute *c = r->compute;
  HdFrameCommands *fc;
  Recorder rec = { .r = r, .split = split == SPLIT_PIECES };
  VkCommandBuffer cb;

  g_assert (index < r->n_commands);
  fc = &r->commands[index];
  if (fc->n_pieces > 0)
    return fc;

  rec.total = synthesis_macs (r->gen, stop_block);
  rec.target = MAX (rec.total / PIECES_PER_FRAME, r->min_piece_macs);
  rec.cb = recorder_new_piece (&rec);
  if (rec.cb == VK_NULL_HANDLE)
    {
      g_propagate_error (error, rec.error);
      return NULL;
    }
  rec.pieces = g_array_new (FALSE, FALSE, sizeof (VkCommandBuffer));
  rec.done = g_array_new (FALSE, FALSE, sizeof (double));
  cb = rec.cb;

  hd_compute_reset_marks (c, cb);
  hd_compute_timestamp (c, cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, MARK_START);
  if (hd_compute_profiling (c))
    {
      fc->profile_labels = g_ptr_array_new_with_free_func (g_free);
      hd_compute_profile_begin (c, cb, fc->profile_labels);
    }
  if (mode != MAPPING_CACHED)
    hd_mapping_record (r, cb, mode == MAPPING_Z);
  hd_compute_timestamp (c, cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, MARK_MAPPED);
  record_synthesis (r, &rec, stop_block, noise_mode);
  cb = rec.cb;
  hd_compute_record_readback (cb, r->img[r->rgbs[stop_block].img], r->readback,
                              (VkDeviceSize) r->gen->rgbs[stop_block].c_out *
                              r->gen->rgbs[stop_block].block_res * r->gen->rgbs[stop_block].block_res *
                              sizeof (float));
  hd_compute_timestamp (c, cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, MARK_END);
  hd_compute_profile_end (c);
  recorder_end_piece (&rec);

  fc->n_pieces = rec.pieces->len;
  fc->pieces = (VkCommandBuffer *) g_array_free (rec.pieces, FALSE);
  fc->done = (double *) g_array_free (rec.done, FALSE);
  if (rec.error != NULL)
    {
      frame_commands_clear (r, fc);
      g_propagate_error (error, rec.error);
      return NULL;
    }
  return fc;
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */

static gboolean
mapping_is_cached (HdRenderer           *r,
                   const HdRenderParams *params)
{
  HdGenerator *gen = r->gen;
  int cutoff = params->cutoff < 0 ? -1 : params->cutoff;

  gboolean style = params->style_alpha != NULL;
  gsize num_ws = gen->num_ws, ws = num_ws * gen->config.w_dim;

  if (!r->cache_valid || r->cache_kind != params->latent_kind ||
      memcmp (&r->cache_psi, &params->psi, sizeof (float)) != 0 ||
      r->cache_cutoff != cutoff || r->cache_style != style)
    return FALSE;
  if (style &&
      (memcmp (r->cache_style_mix, params->style_alpha, sizeof (float) * num_ws) != 0 ||
       memcmp (r->cache_style_mix + num_ws, params->style_sum, sizeof (float) * ws) != 0))
    return FALSE;
  switch (params->latent_kind)
    {
    case HD_LATENT_SEED:
      return r->cache_seed == params->seed;
    case HD_LATENT_Z:
      return memcmp (r->cache_latent, params->z, sizeof (float) * gen->config.z_dim) == 0;
    case HD_LATENT_W:
      return memcmp (r->cache_latent, params->w,
                     sizeof (float) * gen->num_ws * gen->config.w_dim) == 0;
    default:
      return FALSE;
    }
}

static void
remember_mapping (HdRenderer           *r,
                  const HdRenderParams *params)
{
  HdGenerator *gen = r->gen;

  r->cache_valid = TRUE;
  r->cache_kind = params->latent_kind;
  r->cache_seed = params->seed;
  r->cache_psi = params->psi;
  r->cache_cutoff = params->cutoff < 0 ? -1 : params->cutoff;
  r->cache_style = params->style_alpha != NULL;
  if (r->cache_style)
    {
      memcpy (r->cache_style_mix, params->style_alpha, sizeof (float) * gen->num_ws);
      memcpy (r->cache_style_mix + gen->num_ws, params->style_sum,
              sizeof (float) * gen->num_ws * gen->config.w_dim);
    }
  if (params->latent_kind == HD_LATENT_Z)
    memcpy (r->cache_latent, params->z, sizeof (float) * gen->config.z_dim);
  else if (params->latent_kind == HD_LATENT_W)
    memcpy (r->cache_latent, params->w, sizeof (float) * gen->num_ws * gen->config.w_dim);
}

/* Writes what this frame's shaders read from the frame buffer. */
static void
write_frame (HdRenderer           *r,
             const HdRenderParams *params,
             MappingMode           mode)
{
  HdGenerator *gen = r->gen;
  float *frame = r->frame_buf->mapped;
  gint32 cutoff = params->cutoff < 0 ? -1 : params->cutoff;
  gint32 style = params->style_alpha != NULL && params->style_sum != NULL;

  frame[HD_FRAME_PSI] = params->psi;
  memcpy (&frame[HD_FRAME_CUTOFF], &cutoff, sizeof cutoff);
  memcpy (&frame[HD_FRAME_STYLE], &style, sizeof style);
  if (style && mode != MAPPING_CACHED)
    {
      memcpy (frame + r->frame_style, params->style_alpha, sizeof (float) * gen->num_ws);
      memcpy (frame + r->frame_style + gen->num_ws, params->style_sum,
              sizeof (float) * gen->num_ws * gen->config.w_dim);
    }
  if (mode == MAPPING_Z)
    {
      if (params->latent_kind == HD_LATENT_SEED)
        hd_randn_f32 (params->seed, frame + r->frame_z, gen->config.z_dim);
      else
        memcpy (frame + r->frame_z, params->z, sizeof (float) * gen->config.z_dim);
    }
  else if (mode == MAPPING_W)
    memcpy (frame + r->frame_w, params->w, sizeof (float) * gen->num_ws * gen->config.w_dim);
  if (params->domain != NULL)
    memcpy (frame + r->frame_d, params->domain, sizeof (float) * gen->domain_dim);
  else
    memset (frame + r->frame_d, 0, sizeof (float) * gen->domain_dim);
}

static gboolean
upload_random_noise (HdRenderer  *r,
                     guint32      seed,
                     GError     **error)
{
  g_autofree float *noise = NULL;

  if (r->noise_content == NOISE_CONTENT_RANDOM && r->noise_seed == seed)
    return TRUE;
  noise = g_try_new (float, MAX (r->noise_total, 1));
  if (noise == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY, "Out of memory making noise");
      return FALSE;
    }
  hd_noise_generate (r->gen, seed, noise);
  r->noise_content = NOISE_CONTENT_UNKNOWN;
  if (!hd_compute_upload (r->compute, r->noise_buf, 0, noise, (gsize) r->noise_total * sizeof (float), error))
    return FALSE;
  r->noise_content = NOISE_CONTENT_RANDOM;
  r->noise_seed = seed;
  return TRUE;
}

static int
block_of_resolution (int res)
{
  int block = 0;

  while ((4 << block) < res)
    block++;
  return block;
}

static void
read_timestamps (HdRenderer *r,
                 MappingMode mode)
{
  double ms[HD_COMPUTE_TIMESTAMPS];

  r->stats.gpu_ms = r->stats.mapping_ms = r->stats.synthesis_ms = 0.0;
  if (!hd_compute_read_marks (r->compute, ms))
    return;
  r->stats.gpu_ms = ms[MARK_END];
  if (mode != MAPPING_CACHED)
    r->stats.mapping_ms = ms[MARK_MAPPED];
  r->stats.synthesis_ms = ms[MARK_END] - ms[MARK_MAPPED];
}

/* FALSE with ERROR when PARAMS cannot be rendered as they are. */
static gboolean
check_params (const HdRenderParams  *params,
              GError               **error)
{
  if ((params->style_alpha == NULL) != (params->style_sum == NULL))
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           "The render parameters give style weights without style latents, or the reverse");
      return FALSE;
    }
  if ((params->latent_kind == HD_LATENT_Z && params->z == NULL) ||
      (params->latent_kind == HD_LATENT_W && params->w == NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   "The render parameters ask for a %s latent but give none",
                   params->latent_kind == HD_LATENT_Z ? "z" : "w");
      return FALSE;
    }
  if ((guint) params->latent_kind > HD_LATENT_W)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, "Unknown latent kind %d",
                   (int) params->latent_kind);
      return FALSE;
    }
  if ((guint) params->noise_mode >= N_NOISE_MODES)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, "Unknown noise mode %d",
                   (int) params->noise_mode);
      return FALSE;
    }
  return TRUE;
}

static gboolean
render_frame (HdRenderer           *r,
              const HdRenderParams *params,
              SplitMode             split,
              HdRenderCancelFunc    cancel,
              gpointer              cancel_data,
              float                *out,
              GError              **error)
{
  HdGenerator *gen;
  gint64 start = g_get_monotonic_time ();
  MappingMode mode;
  HdFrameCommands *fc;
  int out_res, stop_block;
  const HdVkBuffer *result;

  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (params != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gen = r->gen;
  out_res = hd_render_params_output_res (params, gen, error);
  if (out_res < 0 || !check_params (params, error))
    return FALSE;
  stop_block = block_of_resolution (out_res);

  if (mapping_is_cached (r, params))
    mode = MAPPING_CACHED;
  else
    mode = params->latent_kind == HD_LATENT_W ? MAPPING_W : MAPPING_Z;

  if (params->noise_mode == HD_NOISE_RANDOM &&
      !upload_random_noise (r, params->noise_seed, error))
    return FALSE;
  if (params->noise_mode == HD_NOISE_CONST && !upload_const_noise (r, error))
    return FALSE;

  fc = get_commands (r, split, mode, stop_block, params->noise_mode, error);
  if (fc == NULL)
    return FALSE;

  r->stats = (HdRenderStats) {
    .device_bytes = hd_compute_get_device_bytes (r->compute),
    .n_pieces = fc->n_pieces,
  };
  write_frame (r, params, mode);
  for (guint p = 0; p < fc->n_pieces; p++)
    {
      if (cancel != NULL && cancel (cancel_data))
        {
          /* Whatever the pieces that ran wrote, the next frame writes
           * again before it reads it, except the styles and dcoef, which
           * the mapping cache accounts for. */
          r->stats.total_ms = (g_get_monotonic_time () - start) / 1000.0;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "The frame was cancelled after %u of its %u parts", p, fc->n_pieces);
          return FALSE;
        }
      /* Until the first piece finishes, the styles on the device are
       * undefined; that piece computes them all. */
      if (p == 0 && mode != MAPPING_CACHED)
        r->cache_valid = FALSE;
      if (!hd_compute_submit (r->compute, fc->pieces[p], error))
        return FALSE;
      if (p == 0 && mode != MAPPING_CACHED)
        remember_mapping (r, params);
      r->stats.pieces_done = p + 1;
      r->stats.done_fraction = fc->done[p];
    }
  if (!hd_vk_check (hd_vk_context_count_frame (r->ctx), "Rendering a frame", error))
    return FALSE;

  result = r->readback != NULL ? r->readback : r->img[r->rgbs[stop_block].img];
  memcpy (out, result->mapped, sizeof (float) * gen->config.img_channels * out_res * out_res);

  read_timestamps (r, mode);
  hd_compute_profile_print (r->compute, fc->profile_labels);
  r->stats.mapping_cached = mode == MAPPING_CACHED;
  r->stats.device_bytes = hd_compute_get_device_bytes (r->compute);
  r->stats.total_ms = (g_get_monotonic_time () - start) / 1000.0;
  return TRUE;
}

gboolean
hd_renderer_render (HdRenderer           *r,
                    const HdRenderParams *params,
                    float                *out,
                    GError              **error)
{
  return render_frame (r, params, SPLIT_NONE, NULL, NULL, out, error);
}

gboolean
hd_renderer_render_cancellable (HdRenderer           *r,
                                const HdRenderParams *params,
                                HdRenderCancelFunc    cancel,
                                gpointer              cancel_data,
                                float                *out,
                                GError              **error)
{
  return render_frame (r, params, SPLIT_PIECES, cancel, cancel_data, out, error);
}

void
hd_renderer_set_min_piece_macs (HdRenderer *r,
                                double      macs)
{
  guint per_split;

  g_return_if_fail (r != NULL);

  macs = MAX (macs, 0.0);
  if (macs == r->min_piece_macs)
    return;
  r->min_piece_macs = macs;
  /* The split variants are cut anew when next used. */
  per_split = r->n_commands / N_SPLIT_MODES;
  for (guint i = 0; i < per_split; i++)
    frame_commands_clear (r, &r->commands[SPLIT_PIECES * per_split + i]);
}

void
hd_renderer_get_stats (HdRenderer    *r,
                       HdRenderStats *stats)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (stats != NULL);

  *stats = r->stats;
}

char *
hd_renderer_get_memory_report (HdRenderer *r)
{
  g_return_val_if_fail (r != NULL, NULL);

  return hd_compute_get_memory_report (r->compute);
}
