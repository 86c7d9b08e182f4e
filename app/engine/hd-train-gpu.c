/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A training step with the generator on the device: see hd-train-gpu.h.
 *
 * Every tensor region lives in a buffer of its own, so that no buffer is
 * larger than a device allows in one (lavapipe: 128 MiB): the weights;
 * the per-render values, written by the host before every round (for
 * each conv its scales s (1 + d), demodulation coefficients and noise
 * image, for each block its ToRGB styles); the constant input; the
 * output of every conv of the trainable renders and, per block, their
 * ToRGB values before the clamp and image (kept for the backward pass);
 * the frozen renders' two output planes that take turns and two block
 * buffers; the gradients (two planes that take turns, the up-sampling
 * layers' intermediate T, two skip-path images); and what the host reads
 * and writes (the final images, their gradient, per sample Σ_p x g_u of
 * every input channel).  Each dispatch binds the buffers it reads and
 * writes (train-common.glsl: act_in, act_in2, act_out, grd_in, grd_out).
 *
 * The forward and the backward pass are each one command buffer,
 * recorded once and submitted every round. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-cpu-reference.h"
#include "hd-error.h"
#include "hd-render-params.h"
#include "hd-train-gpu.h"
#include "hd-vk-compute.h"
#include "../../shaders/hd-push.h"

#define MEM_WEIGHTS "training: weights"
#define MEM_RENDER  "training: styles and noise"
#define MEM_ACT     "training: activations"
#define MEM_GRAD    "training: gradients"
#define MEM_HOST    "training: images and sums"

enum {
  K_CONV, K_CONV_UP, K_CONV_FIR, K_BWD, K_BWD_UP, K_BWD_FIR, K_BWD_ACT, K_RGB, K_RGB_BWD, K_RGB_DOWN,
  K_DSUM, N_KERNELS
};

static const char *const kernel_names[N_KERNELS] = {
  "train_conv", "train_conv_up", "train_conv_fir", "train_conv_bwd", "train_conv_bwd_up",
  "train_conv_bwd_fir", "train_conv_bwd_act", "train_rgb", "train_rgb_bwd", "train_rgb_down",
  "train_dsum",
};

/* A planned buffer: its size in floats and, once made, the buffer. */
typedef struct {
  guint64      floats;
  HdVkBuffer  *buf;
} Region;

struct _HdTrainGpu {
  HdGenerator     *gen;
  int              batch;
  int              slots;        /* samples per round: the batch, or fewer where buffers are small */
  HdCompute       *c;
  HdKernel        *k[N_KERNELS];
  gboolean         texel;        /* the kernels read through texel buffers (CPU devices) */
  gboolean         storage_only; /* ... never */
  GHashTable      *views;        /* HdVkBuffer* -> its R32 texel view */
  VkCommandBuffer  forward, backward, adam;
  HdKernel        *adam_kernel;
  GPtrArray       *labels[2];    /* the dispatches of each, when profiling */

  /* Weights: per conv and per block, offsets in PARAMS. */
  guint32 *conv_w, *conv_b, *rgb_w, *rgb_b;
  /* One render's record of per-render values: offsets within it. */
  guint32  rec;
  guint32 *sc, *dc, *noise, *rgb_s;

  Region   params, per_render, input, host;
  /* The trainable renders, [slots][...]: every conv's output; per block
   * [pre | image], each [slots][3 res²]. */
  Region  *y, *blk;
  /* The frozen renders: two output planes and two block buffers, [slots]
   * [the largest layer]. */
  Region   f_y[2], f_blk[2];
  guint32  f_stride;
  /* Gradients, [slots][...]. */
  Region   t, ga, gb, skip[2];
  guint32  t_stride, g_stride;
  /* Host buffer: images [2 slots][3 R²], their gradient [slots][3 R²],
   * sums [slots][domain_dim]. */
  guint32  h_img, h_gimg, h_dsum, h_adam;
  gsize    image;       /* 3 R² */
  /* Per round, host side: the styles of the trainable renders without d,
   * [slots][domain_dim]. */
  double  *styles;
};

void
hd_train_gpu_free (HdTrainGpu *gpu)
{
  if (gpu == NULL)
    return;
  /* Buffers, views, sets and command buffers go with the compute layer. */
  g_clear_pointer (&gpu->c, hd_compute_free);
  g_clear_pointer (&gpu->views, g_hash_table_unref);
  g_clear_pointer (&gpu->labels[0], g_ptr_array_unref);
  g_clear_pointer (&gpu->labels[1], g_ptr_array_unref);
  g_free (gpu->conv_w);
  g_free (gpu->conv_b);
  g_free (gpu->rgb_w);
  g_free (gpu->rgb_b);
  g_free (gpu->sc);
  g_free (gpu->dc);
  g_free (gpu->noise);
  g_free (gpu->rgb_s);
  g_free (gpu->y);
  g_free (gpu->blk);
  g_free (gpu->styles);
  hd_generator_unref (gpu->gen);
  g_free (gpu);
}

/* Adds N floats to a plan at *AT and returns where they start. */
static guint32
take (guint64 *at,
      guint64  n)
{
  guint32 off = (guint32) MIN (*at, G_MAXUINT32);

  *at += n;
  return off;
}

static gboolean
check_plan (HdTrainGpu  *gpu,
            const char  *what,
            guint64      floats,
            GError     **error)
{
  if (floats >= G_MAXUINT32)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s of “%s” at batch %d need more than 16 GiB"),
                   what, gpu->gen->name, gpu->batch);
      return FALSE;
    }
  return hd_compute_check_buffer_size (gpu->c, what, MAX (floats, 1) * sizeof (float), error);
}

/* The sizes of the buffers for SLOTS samples (2 SLOTS renders) a round. */
static void
plan_round (HdTrainGpu *gpu,
            int         slots)
{
  HdGenerator *gen = gpu->gen;
  guint64 t_max = 1, g_max = 1, f_max = 1, at = 0;

  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *L = &gen->convs[c];
      guint64 out = (guint64) L->c_out * L->block_res * L->block_res;

      gpu->y[c].floats = out * slots;
      if (L->up)
        t_max = MAX (t_max, (guint64) L->c_out * (2 * L->in_res + 1) * (2 * L->in_res + 1));
      g_max = MAX (g_max, out);
      g_max = MAX (g_max, (guint64) L->c_in * L->in_res * L->in_res);
      f_max = MAX (f_max, out);
    }
  for (int b = 0; b < gen->n_blocks; b++)
    gpu->blk[b].floats = (guint64) 2 * slots * 3 * gen->rgbs[b].block_res * gen->rgbs[b].block_res;
  gpu->f_stride = (guint32) MIN (f_max, G_MAXUINT32);
  gpu->f_y[0].floats = gpu->f_y[1].floats = f_max * slots;
  gpu->f_blk[0].floats = gpu->f_blk[1].floats = (guint64) 2 * gpu->image * slots;

  gpu->t_stride = (guint32) MIN (t_max, G_MAXUINT32);
  gpu->t.floats = t_max * slots;
  gpu->g_stride = (guint32) MIN (g_max, G_MAXUINT32);
  gpu->ga.floats = gpu->gb.floats = g_max * slots;
  gpu->skip[0].floats = gpu->skip[1].floats = (guint64) gpu->image * slots;

  gpu->h_img = take (&at, (guint64) gpu->image * 2 * slots);
  gpu->h_gimg = take (&at, (guint64) gpu->image * slots);
  gpu->h_dsum = take (&at, (guint64) gen->domain_dim * slots);
  /* Adam: d, m, v, the gradient, then the step's four scalars. */
  gpu->h_adam = take (&at, (guint64) gen->domain_dim * 4 + 4);
  gpu->host.floats = at;
  gpu->per_render.floats = (guint64) gpu->rec * 2 * slots;
}

/* Calls FUNC on every planned buffer with its kind and name. */
typedef gboolean (*RegionFunc) (HdTrainGpu  *gpu,
                                Region      *region,
                                const char  *kind,
                                const char  *what,
                                GError     **error);

static gboolean
each_region (HdTrainGpu  *gpu,
             RegionFunc   func,
             GError     **error)
{
  HdGenerator *gen = gpu->gen;

  if (!func (gpu, &gpu->per_render, MEM_RENDER, _("The training styles and noise"), error) ||
      !func (gpu, &gpu->host, MEM_HOST, _("The training images and sums"), error))
    return FALSE;
  for (int c = 0; c < gen->n_convs; c++)
    if (!func (gpu, &gpu->y[c], MEM_ACT, _("The training activations"), error))
      return FALSE;
  for (int b = 0; b < gen->n_blocks; b++)
    if (!func (gpu, &gpu->blk[b], MEM_ACT, _("The training activations"), error))
      return FALSE;
  for (int k = 0; k < 2; k++)
    if (!func (gpu, &gpu->f_y[k], MEM_ACT, _("The training activations"), error) ||
        !func (gpu, &gpu->f_blk[k], MEM_ACT, _("The training activations"), error) ||
        !func (gpu, &gpu->skip[k], MEM_GRAD, _("The training gradients"), error))
      return FALSE;
  return func (gpu, &gpu->t, MEM_GRAD, _("The training gradients"), error) &&
         func (gpu, &gpu->ga, MEM_GRAD, _("The training gradients"), error) &&
         func (gpu, &gpu->gb, MEM_GRAD, _("The training gradients"), error);
}

static gboolean
check_region (HdTrainGpu  *gpu,
              Region      *region,
              const char  *kind,
              const char  *what,
              GError     **error)
{
  return check_plan (gpu, what, region->floats, error);
}

static gboolean
make_region (HdTrainGpu  *gpu,
             Region      *region,
             const char  *kind,
             const char  *what,
             GError     **error)
{
  HdVkMemoryUse use = region == &gpu->per_render ? HD_VK_MEMORY_UPLOAD
                      : region == &gpu->host     ? HD_VK_MEMORY_READBACK
                                                 : HD_VK_MEMORY_DEVICE;

  region->buf = hd_compute_buffer (gpu->c, kind, what, MAX (region->floats, 1) * sizeof (float), use, error);
  return region->buf != NULL;
}

/* Whether every region fits a texel buffer (for the _cpu kernels). */
static gboolean
fits_texels (HdTrainGpu  *gpu,
             Region      *region,
             const char  *kind,
             const char  *what,
             GError     **error)
{
  return region->floats <= hd_compute_max_texels (gpu->c);
}

static gboolean
plan_and_upload (HdTrainGpu  *gpu,
                 int          max_slots,
                 GError     **error)
{
  HdGenerator *gen = gpu->gen;
  int R = gen->config.img_resolution;
  guint64 at = 0;
  g_autofree float *weights = NULL;
  const HdConvLayer *first = &gen->convs[0];
  guint64 n_params = 0;
  int slots;

  gpu->image = (gsize) 3 * R * R;
  gpu->conv_w = g_new (guint32, gen->n_convs);
  gpu->conv_b = g_new (guint32, gen->n_convs);
  gpu->rgb_w = g_new (guint32, gen->n_blocks);
  gpu->rgb_b = g_new (guint32, gen->n_blocks);
  gpu->sc = g_new (guint32, gen->n_convs);
  gpu->dc = g_new (guint32, gen->n_convs);
  gpu->noise = g_new (guint32, gen->n_convs);
  gpu->rgb_s = g_new (guint32, gen->n_blocks);
  gpu->y = g_new0 (Region, gen->n_convs);
  gpu->blk = g_new0 (Region, gen->n_blocks);

  /* Weights. */
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *L = &gen->convs[c];

      gpu->conv_w[c] = take (&n_params, (guint64) L->c_out * L->c_in * 9);
      gpu->conv_b[c] = take (&n_params, L->c_out);
    }
  for (int b = 0; b < gen->n_blocks; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];

      gpu->rgb_w[b] = take (&n_params, (guint64) rgb->c_out * rgb->c_in);
      gpu->rgb_b[b] = take (&n_params, rgb->c_out);
    }
  gpu->params.floats = n_params;
  gpu->input.floats = (guint64) first->c_in * first->in_res * first->in_res;
  if (!check_plan (gpu, _("The training weights"), n_params, error))
    return FALSE;

  /* One render's record. */
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *L = &gen->convs[c];

      gpu->sc[c] = take (&at, L->c_in);
      gpu->dc[c] = take (&at, L->c_out);
      gpu->noise[c] = take (&at, (guint64) L->block_res * L->block_res);
    }
  for (int b = 0; b < gen->n_blocks; b++)
    gpu->rgb_s[b] = take (&at, gen->rgbs[b].c_in);
  gpu->rec = (guint32) MIN (at, G_MAXUINT32);

  /* As many samples a round as the buffers hold: the batch, else half
   * of it, and so on down to one; one that does not fit is the error. */
  for (slots = MIN (gpu->batch, max_slots > 0 ? max_slots : gpu->batch);; slots = (slots + 1) / 2)
    {
      g_autoptr(GError) local_error = NULL;

      plan_round (gpu, slots);
      if (each_region (gpu, check_region, &local_error))
        break;
      if (slots == 1)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  gpu->slots = slots;
  if (slots < gpu->batch)
    g_debug ("training “%s”: %d of the batch's %d samples a round", gen->name, slots, gpu->batch);

  weights = g_new (float, MAX (n_params, 1));
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *L = &gen->convs[c];

      memcpy (weights + gpu->conv_w[c], L->weight, sizeof (float) * L->c_out * L->c_in * 9);
      memcpy (weights + gpu->conv_b[c], L->bias, sizeof (float) * L->c_out);
    }
  for (int b = 0; b < gen->n_blocks; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];

      memcpy (weights + gpu->rgb_w[b], rgb->weight, sizeof (float) * rgb->c_out * rgb->c_in);
      memcpy (weights + gpu->rgb_b[b], rgb->bias, sizeof (float) * rgb->c_out);
    }
  gpu->params.buf = hd_compute_buffer_upload (gpu->c, MEM_WEIGHTS, _("The training weights"), weights,
                                              MAX (n_params, 1), error);
  /* The constant input, once: every render reads it (stride 0). */
  if (gpu->params.buf == NULL ||
      (gpu->input.buf = hd_compute_buffer_upload (gpu->c, MEM_ACT, _("The training activations"),
                                                  gen->const_input, gpu->input.floats, error)) == NULL ||
      !each_region (gpu, make_region, error))
    return FALSE;

  /* On a CPU device the inner loops read through texel buffers, where
   * every buffer fits one. */
  gpu->texel = !gpu->storage_only &&
               hd_vk_context_get_device_info (hd_compute_get_context (gpu->c))->type == VK_PHYSICAL_DEVICE_TYPE_CPU &&
               gpu->params.floats <= hd_compute_max_texels (gpu->c) && each_region (gpu, fits_texels, NULL);
  gpu->views = g_hash_table_new (NULL, NULL);
  gpu->styles = g_new0 (double, (gsize) MAX (gen->domain_dim, 1) * slots);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

/* The buffers a dispatch reads and writes (NULL: none). */
typedef struct {
  const Region *act_in, *act_in2, *act_out, *grd_in, *grd_out;
} Binds;

/* A recording: its command buffer and its first failure. */
typedef struct {
  HdTrainGpu      *gpu;
  VkCommandBuffer  cb;
  GError          *error;
} Rec;

static VkBufferView
view_of (Rec              *rec,
         const HdVkBuffer *buf)
{
  HdTrainGpu *gpu = rec->gpu;
  VkBufferView view = g_hash_table_lookup (gpu->views, buf);

  if (view == VK_NULL_HANDLE && rec->error == NULL)
    {
      view = hd_compute_texel_view (gpu->c, buf, VK_FORMAT_R32_SFLOAT, &rec->error);
      if (view != VK_NULL_HANDLE)
        g_hash_table_insert (gpu->views, (gpointer) buf, view);
    }
  return view;
}

static HdVkBuffer *
buf_or (const Region *r,
        HdVkBuffer   *other)
{
  return r != NULL ? r->buf : other;
}

static void
dispatch (Rec               *rec,
          int                kernel,
          const HdTrainPush *push,
          const Binds       *binds,
          guint32            gx,
          guint32            gy,
          guint32            gz)
{
  HdTrainGpu *gpu = rec->gpu;
  HdVkBuffer *filler = gpu->params.buf;
  const HdVkBuffer *bufs[HD_COMPUTE_BINDINGS] = {
    gpu->params.buf, gpu->per_render.buf, buf_or (binds->act_in, filler), buf_or (binds->grd_in, filler),
    gpu->host.buf, buf_or (binds->act_out, filler), buf_or (binds->act_in2, filler),
    buf_or (binds->grd_out, filler),
  };
  VkDescriptorSet set;

  if (rec->error != NULL)
    return;
  set = hd_compute_storage_set (gpu->c, bufs, filler, &rec->error);
  if (set == VK_NULL_HANDLE)
    return;
  if (gpu->texel)
    {
      VkBufferView views[HD_COMPUTE_TEXEL_BINDINGS] = {
        view_of (rec, gpu->params.buf), view_of (rec, bufs[2]), view_of (rec, bufs[3]),
        view_of (rec, gpu->per_render.buf), view_of (rec, bufs[6]),
      };
      VkDescriptorSet texel_set;

      if (rec->error != NULL)
        return;
      texel_set = hd_compute_texel_set (gpu->c, views, &rec->error);
      if (texel_set == VK_NULL_HANDLE)
        return;
      hd_compute_bind_texel_set (gpu->c, rec->cb, texel_set);
    }
  hd_compute_dispatch (gpu->c, rec->cb, gpu->k[kernel], set, push, sizeof *push, gx, gy, gz,
                       kernel_names[kernel]);
}

/* The push of conv C with the fields both passes use. */
static HdTrainPush
conv_push (HdTrainGpu *gpu,
           int         c)
{
  const HdGeneratorConfig *config = &gpu->gen->config;
  const HdConvLayer *L = &gpu->gen->convs[c];
  HdTrainPush p = {
    .w_off = gpu->conv_w[c], .b_off = gpu->conv_b[c], .s_off = gpu->sc[c], .dc_off = gpu->dc[c],
    .n_off = gpu->noise[c], .s_stride = gpu->rec,
    .c_in = (guint32) L->c_in, .c_out = (guint32) L->c_out, .in_res = (guint32) L->in_res,
    .res = (guint32) L->block_res, .noise_strength = L->noise_strength,
    .flags = config->has_conv_clamp ? HD_TRAIN_CLAMP : 0, .clamp = config->conv_clamp,
  };

  return p;
}

static HdTrainPush
rgb_push (HdTrainGpu *gpu,
          int         b)
{
  const HdGeneratorConfig *config = &gpu->gen->config;
  const HdRgbLayer *rgb = &gpu->gen->rgbs[b];
  guint32 plane = (guint32) (rgb->block_res * rgb->block_res);
  HdTrainPush p = {
    .w_off = gpu->rgb_w[b], .b_off = gpu->rgb_b[b], .s_off = gpu->rgb_s[b], .s_stride = gpu->rec,
    .aux_stride = 3 * plane,
    .c_in = (guint32) rgb->c_in, .c_out = (guint32) rgb->c_out, .res = (guint32) rgb->block_res,
    .flags = config->has_conv_clamp ? HD_TRAIN_CLAMP : 0, .clamp = config->conv_clamp,
  };

  return p;
}

/* The invocations along x of a kernel that does 8 pixels of a row each
 * (TRAIN_PX in train-common.glsl), and along y of one that does two
 * channels each. */
static guint32
runs (int res)
{
  return (guint32) (res * ((res + 7) / 8));
}

static guint32
pairs (int channels)
{
  return (guint32) ((channels + 1) / 2);
}

/* A region of the trainable renders, [slots][STRIDE] from OFF, as a
 * kernel indexes it: by render, slots + j for sample j.  The unsigned
 * arithmetic wraps, in C and in the shaders alike, so OFF - slots STRIDE
 * + (slots + j) STRIDE is OFF + j STRIDE. */
static guint32
kept (HdTrainGpu *gpu,
      guint32     off,
      guint32     stride)
{
  return off - (guint32) gpu->slots * stride;
}

/* The forward pass of one branch: the frozen renders (0 .. slots - 1,
 * through the frozen planes) or the trainable ones (slots .. 2 slots - 1,
 * keeping every layer). */
static void
record_branch (Rec      *rec,
               gboolean  trainable)
{
  HdTrainGpu *gpu = rec->gpu;
  HdGenerator *gen = gpu->gen;
  guint32 S = (guint32) gpu->slots;
  int c = 0;

  for (int b = 0; b < gen->n_blocks; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      guint32 plane = (guint32) (rgb->block_res * rgb->block_res);
      gboolean last = b + 1 == gen->n_blocks;
      const Region *blk = trainable ? &gpu->blk[b] : &gpu->f_blk[b % 2];
      const Region *prev_blk = b == 0 ? NULL : trainable ? &gpu->blk[b - 1] : &gpu->f_blk[(b - 1) % 2];
      guint32 img_stride = trainable ? 3 * plane : (guint32) gpu->image;
      HdTrainPush p;
      Binds binds = { 0 };

      for (int j = 0; j < (b == 0 ? 1 : 2); j++, c++)
        {
          const HdConvLayer *L = &gen->convs[c];
          guint32 out = trainable ? (guint32) L->c_out * plane : gpu->f_stride;

          p = conv_push (gpu, c);
          p.sample0 = trainable ? S : 0;
          binds = (Binds) {
            .act_in = c == 0 ? &gpu->input : trainable ? &gpu->y[c - 1] : &gpu->f_y[(c - 1) % 2],
            .act_out = trainable ? &gpu->y[c] : &gpu->f_y[c % 2],
          };
          p.x_stride = c == 0 ? 0 : trainable ? (guint32) (L->c_in * L->in_res * L->in_res) : gpu->f_stride;
          p.x_off = trainable ? kept (gpu, 0, p.x_stride) : 0;
          p.out_stride = out;
          p.out_off = trainable ? kept (gpu, 0, out) : 0;
          if (!L->up)
            dispatch (rec, K_CONV, &p, &binds, hd_compute_groups (runs (L->block_res), 64), pairs (L->c_out), S);
          else
            {
              guint32 side = (guint32) (L->in_res + 1);
              HdTrainPush t = p;
              Binds tb = { .act_in = binds.act_in, .grd_out = &gpu->t };

              t.out_off = trainable ? kept (gpu, 0, gpu->t_stride) : 0;
              t.out_stride = gpu->t_stride;
              dispatch (rec, K_CONV_UP, &t, &tb, hd_compute_groups (side * ((side + 3) / 4), 64), L->c_out, S);
              hd_compute_barrier (rec->cb);
              p.x_off = t.out_off;
              p.x_stride = gpu->t_stride;
              binds.act_in = NULL;
              binds.grd_in = &gpu->t;
              dispatch (rec, K_CONV_FIR, &p, &binds, hd_compute_groups (plane, 64), L->c_out, S);
            }
          hd_compute_barrier (rec->cb);
        }

      /* ToRGB: [pre | image] of the block, each [slots][3 res²] (the frozen
       * block buffers: [slots][3 R²]). */
      p = rgb_push (gpu, b);
      p.sample0 = trainable ? S : 0;
      binds = (Binds) {
        .act_in = trainable ? &gpu->y[c - 1] : &gpu->f_y[(c - 1) % 2],
        .act_in2 = prev_blk, .act_out = blk,
      };
      p.x_stride = trainable ? (guint32) rgb->c_in * plane : gpu->f_stride;
      p.x_off = trainable ? kept (gpu, 0, p.x_stride) : 0;
      p.aux_stride = img_stride;
      p.aux_off = trainable ? kept (gpu, 0, img_stride) : 0;
      if (b > 0)
        {
          guint32 prev_stride = trainable ? 3 * plane / 4 : (guint32) gpu->image;

          p.flags |= HD_TRAIN_ADD;
          p.x2_stride = prev_stride;
          p.x2_off = trainable ? kept (gpu, S * prev_stride, prev_stride) : S * prev_stride;
        }
      if (last)
        {
          p.flags |= HD_TRAIN_TO_OUT;
          p.out_off = gpu->h_img;
          p.out_stride = 3 * plane;
        }
      else
        {
          p.out_stride = img_stride;
          p.out_off = trainable ? kept (gpu, S * img_stride, img_stride) : S * img_stride;
        }
      dispatch (rec, K_RGB, &p, &binds, hd_compute_groups (plane, 64), (guint32) rgb->c_out, S);
      hd_compute_barrier (rec->cb);
    }
}

static void
record_forward (Rec *rec)
{
  record_branch (rec, FALSE);
  record_branch (rec, TRUE);
  hd_compute_record_readback (rec->cb, rec->gpu->host.buf, NULL, 0);
}

static void
record_backward (Rec *rec)
{
  HdTrainGpu *gpu = rec->gpu;
  HdGenerator *gen = gpu->gen;
  guint32 B = (guint32) gpu->slots;
  const Region *skip = NULL;   /* NULL: the host's image gradient */
  int c = gen->n_convs - 1, turn = 0;

  for (int b = gen->n_blocks - 1; b >= 0; b--)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      guint32 res = (guint32) rgb->block_res, plane = res * res;
      gboolean last = b + 1 == gen->n_blocks;
      HdTrainPush p = rgb_push (gpu, b);
      Binds binds = { .act_in = &gpu->blk[b], .grd_in = skip, .grd_out = &gpu->ga };

      /* ToRGB into g_y of the block's last conv (adding to the gradient
       * that came down through the block above), and the skip path. */
      p.x_off = last ? gpu->h_gimg : 0;
      p.x_stride = 3 * plane;
      p.aux_off = kept (gpu, 0, 3 * plane);
      p.out_off = 0;
      p.out_stride = gpu->g_stride;
      p.sample0 = B;
      p.flags |= (last ? HD_TRAIN_TO_OUT : HD_TRAIN_ADD);
      dispatch (rec, K_RGB_BWD, &p, &binds, hd_compute_groups (plane, 64), (guint32) rgb->c_in, B);
      if (b > 0)
        {
          Binds down = { .grd_in = skip, .grd_out = &gpu->skip[turn] };

          p.out_off = 0;
          p.out_stride = 3 * plane / 4;
          dispatch (rec, K_RGB_DOWN, &p, &down, hd_compute_groups (plane / 4, 64), 3, B);
          skip = &gpu->skip[turn];
          turn ^= 1;
        }
      hd_compute_barrier (rec->cb);

      for (int j = 0; j < (b == 0 ? 1 : 2); j++, c--)
        {
          const HdConvLayer *L = &gen->convs[c];

          p = conv_push (gpu, c);
          p.sample0 = B;
          /* g_y (ga) to the gradient of the conv's sum (gb), with the
           * conv's output y. */
          binds = (Binds) { .act_in = &gpu->y[c], .grd_in = &gpu->ga, .grd_out = &gpu->gb };
          p.x_off = 0;
          p.x_stride = gpu->g_stride;
          p.aux_stride = (guint32) L->c_out * plane;
          p.aux_off = kept (gpu, 0, p.aux_stride);
          p.out_off = 0;
          p.out_stride = gpu->g_stride;
          dispatch (rec, K_BWD_ACT, &p, &binds, hd_compute_groups (plane, 64), L->c_out, B);
          hd_compute_barrier (rec->cb);
          /* To the scaled input's gradient g_u (ga). */
          if (!L->up)
            {
              binds = (Binds) { .grd_in = &gpu->gb, .grd_out = &gpu->ga };
              dispatch (rec, K_BWD, &p, &binds, hd_compute_groups (runs (L->block_res), 64), pairs (L->c_in), B);
            }
          else
            {
              guint32 t_res = (guint32) (2 * L->in_res + 1);

              binds = (Binds) { .grd_in = &gpu->gb, .grd_out = &gpu->t };
              p.out_stride = gpu->t_stride;
              dispatch (rec, K_BWD_FIR, &p, &binds, hd_compute_groups (t_res * t_res, 64), L->c_out, B);
              hd_compute_barrier (rec->cb);
              binds = (Binds) { .grd_in = &gpu->t, .grd_out = &gpu->ga };
              p.x_stride = gpu->t_stride;
              p.out_stride = gpu->g_stride;
              dispatch (rec, K_BWD_UP, &p, &binds,
                        hd_compute_groups ((guint32) (L->in_res * ((L->in_res + 3) / 4)), 64), pairs (L->c_in), B);
            }
          hd_compute_barrier (rec->cb);
          /* Σ x g_u per channel, and g_x in place. */
          binds = (Binds) {
            .act_in = c == 0 ? &gpu->input : &gpu->y[c - 1], .grd_in = &gpu->ga, .grd_out = &gpu->ga,
          };
          p.x_off = 0;
          p.x_stride = gpu->g_stride;
          p.out_off = 0;
          p.out_stride = gpu->g_stride;
          p.aux_stride = c == 0 ? 0 : (guint32) (L->c_in * L->in_res * L->in_res);
          p.aux_off = kept (gpu, 0, p.aux_stride);
          p.b_off = gpu->h_dsum + (guint32) L->domain_offset;
          p.n = (guint32) gen->domain_dim;
          dispatch (rec, K_DSUM, &p, &binds, (guint32) L->c_in, 1, B);
          hd_compute_barrier (rec->cb);
        }
    }
  hd_compute_record_readback (rec->cb, gpu->host.buf, NULL, 0);
}

static VkCommandBuffer
record (HdTrainGpu  *gpu,
        gboolean     backward,
        GError     **error)
{
  Rec rec = { .gpu = gpu };

  rec.cb = hd_compute_begin (gpu->c, 0, backward ? _("Recording the training backward pass")
                                                 : _("Recording the training forward pass"),
                             error);
  if (rec.cb == VK_NULL_HANDLE)
    return VK_NULL_HANDLE;
  if (hd_compute_profiling (gpu->c))
    {
      gpu->labels[backward] = g_ptr_array_new ();
      hd_compute_profile_begin (gpu->c, rec.cb, gpu->labels[backward]);
    }
  if (backward)
    record_backward (&rec);
  else
    record_forward (&rec);
  if (hd_compute_profiling (gpu->c))
    hd_compute_profile_end (gpu->c);
  if (rec.error == NULL && vkEndCommandBuffer (rec.cb) != VK_SUCCESS)
    g_set_error (&rec.error, HD_ERROR, HD_ERROR_DEVICE, _("Could not record the training commands"));
  if (rec.error != NULL)
    {
      g_propagate_error (error, rec.error);
      hd_compute_free_commands (gpu->c, 1, &rec.cb);
      return VK_NULL_HANDLE;
    }
  return rec.cb;
}

HdTrainGpu *
hd_train_gpu_new (HdVkContext  *ctx,
                  HdGenerator  *gen,
                  int           batch,
                  GError      **error)
{
  return hd_train_gpu_new_full (ctx, gen, batch, NULL, error);
}

/* Adam on the host-visible buffer: one dispatch. */
static VkCommandBuffer
record_adam (HdTrainGpu  *gpu,
             GError     **error)
{
  HdKernelInfo info = { .shader = "train_adam" };
  const HdVkBuffer *bufs[HD_COMPUTE_BINDINGS] = { NULL };
  HdTrainAdamPush push = { .n = (guint32) gpu->gen->domain_dim, .off = gpu->h_adam };
  VkDescriptorSet set;
  VkCommandBuffer cb;

  bufs[4] = gpu->host.buf;
  if ((gpu->adam_kernel = hd_compute_kernel (gpu->c, &info, error)) == NULL ||
      (set = hd_compute_storage_set (gpu->c, bufs, gpu->host.buf, error)) == VK_NULL_HANDLE ||
      (cb = hd_compute_begin (gpu->c, 0, "Recording Adam", error)) == VK_NULL_HANDLE)
    return VK_NULL_HANDLE;
  hd_compute_dispatch (gpu->c, cb, gpu->adam_kernel, set, &push, sizeof push,
                       hd_compute_groups (push.n, 64), 1, 1, "adam");
  hd_compute_record_readback (cb, gpu->host.buf, NULL, 0);
  if (!hd_vk_check (vkEndCommandBuffer (cb), "Recording Adam", error))
    {
      hd_compute_free_commands (gpu->c, 1, &cb);
      return VK_NULL_HANDLE;
    }
  return cb;
}

HdTrainGpu *
hd_train_gpu_new_full (HdVkContext              *ctx,
                       HdGenerator              *gen,
                       int                       batch,
                       const HdTrainGpuOptions  *options,
                       GError                  **error)
{
  HdTrainGpuOptions defaults = { 0 };
  g_autoptr(HdTrainGpu) gpu = g_new0 (HdTrainGpu, 1);

  g_return_val_if_fail (ctx != NULL && gen != NULL && batch >= 1, NULL);

  gpu->gen = hd_generator_ref (gen);
  gpu->batch = batch;
  if (gen->config.img_channels != 3)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("CLIP needs RGB images; the generator “%s” makes %d channels"),
                   gen->name, gen->config.img_channels);
      return NULL;
    }
  if (options == NULL)
    options = &defaults;
  gpu->storage_only = options->storage_only;
  gpu->c = hd_compute_new (ctx, &options->compute, error);
  if (gpu->c == NULL)
    return NULL;
  if (!plan_and_upload (gpu, options->max_round, error))
    return NULL;
  for (int k = 0; k < N_KERNELS; k++)
    {
      g_autofree char *name = g_strconcat (kernel_names[k], gpu->texel ? "_cpu" : "", NULL);
      HdKernelInfo info = { .shader = name };

      if ((gpu->k[k] = hd_compute_kernel (gpu->c, &info, error)) == NULL)
        return NULL;
    }
  if ((gpu->forward = record (gpu, FALSE, error)) == VK_NULL_HANDLE ||
      (gpu->backward = record (gpu, TRUE, error)) == VK_NULL_HANDLE ||
      (gpu->adam = record_adam (gpu, error)) == VK_NULL_HANDLE)
    return NULL;
  return g_steal_pointer (&gpu);
}

/* ------------------------------------------------------------------------ */
/* A step                                                                   */

/* One render's values (see write_renders), on a thread of its own. */
typedef struct {
  HdTrainGpu         *gpu;
  const HdTrainDraws *draws;
  const float        *d;
  int                 first, n, r;
  gsize               max_c;
} RenderJob;

static void
write_render (gpointer data,
              gpointer unused)
{
  const RenderJob *job = data;
  HdTrainGpu *gpu = job->gpu;
  HdGenerator *gen = gpu->gen;
  int S = gpu->slots, w_dim = gen->config.w_dim, r = job->r;
  int j = r % S, b = job->first + MIN (j, job->n - 1);
  gboolean trainable = r >= S;
  g_autofree float *ws = hd_train_sample_ws (gen, job->draws, b, trainable);
  g_autofree float *noise = g_new (float, MAX (hd_noise_total_size (gen), 1));
  g_autofree double *s = g_new (double, job->max_c);
  g_autofree double *dcoef = g_new (double, job->max_c);
  float *rec = (float *) gpu->per_render.buf->mapped + (gsize) r * gpu->rec;
  const float *d = job->d;
  gsize noise_at = 0;

  hd_noise_generate (gen, trainable ? job->draws->noise_trg[b] : job->draws->noise_src[b], noise);
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *L = &gen->convs[c];
      gsize plane = (gsize) L->block_res * L->block_res;

      hd_cpu_compute_style (ws + (gsize) L->w_index * w_dim, w_dim, L->affine_weight, L->affine_bias,
                            L->c_in, s);
      hd_train_conv_dcoef (L, s, dcoef);
      for (int i = 0; i < L->c_in; i++)
        {
          double dom = trainable && d != NULL ? 1.0 + d[L->domain_offset + i] : 1.0;

          rec[gpu->sc[c] + i] = (float) (s[i] * dom);
          if (trainable)
            gpu->styles[(gsize) j * gen->domain_dim + L->domain_offset + i] = s[i];
        }
      for (int o = 0; o < L->c_out; o++)
        rec[gpu->dc[c] + o] = (float) dcoef[o];
      memcpy (rec + gpu->noise[c], noise + noise_at, sizeof (float) * plane);
      noise_at += plane;
    }
  for (int k = 0; k < gen->n_blocks; k++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[k];

      hd_cpu_compute_style (ws + (gsize) rgb->w_index * w_dim, w_dim, rgb->affine_weight,
                            rgb->affine_bias, rgb->c_in, s);
      for (int i = 0; i < rgb->c_in; i++)
        rec[gpu->rgb_s[k] + i] = (float) (s[i] / sqrt ((double) rgb->c_in));
    }
}

/* The per-render values of the round of samples FIRST .. FIRST + N - 1
 * of DRAWS at D (may be NULL): slot j holds sample FIRST + j, its frozen
 * render at j and its trainable one at slots + j; the slots past N repeat
 * the round's last sample (their results are not read).  The renders on
 * every core (mapping, styles, demodulation and noise are the host's
 * share of a step: for a 1024 generator, tens of millions of products
 * and 2.8 M normal draws a render). */
static void
write_renders (HdTrainGpu         *gpu,
               const HdTrainDraws *draws,
               const float        *d,
               int                 first,
               int                 n)
{
  HdGenerator *gen = gpu->gen;
  int renders = 2 * gpu->slots;
  g_autofree RenderJob *jobs = g_new0 (RenderJob, renders);
  GThreadPool *pool = g_thread_pool_new (write_render, NULL, MIN (renders, (int) g_get_num_processors ()),
                                         FALSE, NULL);
  gsize max_c = 1;

  for (int c = 0; c < gen->n_convs; c++)
    max_c = MAX (max_c, (gsize) MAX (gen->convs[c].c_in, gen->convs[c].c_out));
  for (int b = 0; b < gen->n_blocks; b++)
    max_c = MAX (max_c, (gsize) gen->rgbs[b].c_in);
  for (int r = 0; r < renders; r++)
    {
      jobs[r] = (RenderJob) { .gpu = gpu, .draws = draws, .d = d, .first = first, .n = n, .r = r,
                              .max_c = max_c };
      g_thread_pool_push (pool, &jobs[r], NULL);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
}

/* The forward pass of the round FIRST .. FIRST + N - 1; its images in
 * IMAGES (the frozen ones at [b], the trainable ones at [batch + b], 3 R²
 * doubles each) when not NULL. */
static gboolean
forward_round (HdTrainGpu         *gpu,
               const HdTrainDraws *draws,
               const float        *d,
               int                 first,
               int                 n,
               double             *images,
               GError            **error)
{
  const float *host = gpu->host.buf->mapped;
  gsize n_img = gpu->image;

  write_renders (gpu, draws, d, first, n);
  /* A round counts as a frame of the device (for the injected faults of
   * hd-vk-fault.c); a lost device fails the submission. */
  hd_vk_context_count_frame (hd_compute_get_context (gpu->c));
  if (!hd_compute_submit (gpu->c, gpu->forward, error))
    return FALSE;
  hd_compute_profile_print (gpu->c, gpu->labels[0]);
  if (images != NULL)
    for (int j = 0; j < n; j++)
      for (gsize i = 0; i < n_img; i++)
        {
          images[(first + j) * n_img + i] = host[gpu->h_img + j * n_img + i];
          images[(gpu->batch + first + j) * n_img + i] = host[gpu->h_img + (gpu->slots + j) * n_img + i];
        }
  return TRUE;
}

/* The backward pass of the round FIRST .. FIRST + N - 1 just rendered,
 * for the trainable images' gradient G_IMG (the batch's, 3 R² each);
 * every sample's ∂L/∂d added into GRAD (domain_dim doubles) in sample
 * order. */
static gboolean
backward_round (HdTrainGpu    *gpu,
                const double  *g_img,
                int            first,
                int            n,
                double        *grad,
                GError       **error)
{
  HdGenerator *gen = gpu->gen;
  float *host = gpu->host.buf->mapped;
  gsize n_img = gpu->image;

  for (int j = 0; j < gpu->slots; j++)
    for (gsize i = 0; i < n_img; i++)
      host[gpu->h_gimg + j * n_img + i] = j < n ? (float) g_img[(first + j) * n_img + i] : 0.0f;
  if (!hd_compute_submit (gpu->c, gpu->backward, error))
    return FALSE;
  hd_compute_profile_print (gpu->c, gpu->labels[1]);
  /* ∂L/∂d_i = Σ_b s_b,i Σ_p x g_u. */
  for (int j = 0; j < n; j++)
    for (int i = 0; i < gen->domain_dim; i++)
      grad[i] += (double) host[gpu->h_dsum + (gsize) j * gen->domain_dim + i] *
                 gpu->styles[(gsize) j * gen->domain_dim + i];
  return TRUE;
}

gboolean
hd_train_gpu_render (HdTrainGpu         *gpu,
                     const HdTrainDraws *draws,
                     const float        *d,
                     float              *images,
                     GError            **error)
{
  gsize n = gpu->image * 2 * gpu->batch;
  g_autofree double *all = g_new (double, n);

  g_return_val_if_fail (draws->batch == gpu->batch, FALSE);

  for (int first = 0; first < gpu->batch; first += gpu->slots)
    if (!forward_round (gpu, draws, d, first, MIN (gpu->slots, gpu->batch - first), all, error))
      return FALSE;
  for (gsize i = 0; i < n; i++)
    images[i] = (float) all[i];
  return TRUE;
}

gboolean
hd_train_gpu_adam_step (HdTrainGpu   *gpu,
                        HdAdam       *adam,
                        float        *d,
                        const float  *grad,
                        GError      **error)
{
  float *host = gpu->host.buf->mapped;
  gsize n = (gsize) gpu->gen->domain_dim;
  float step, root_bc2;

  g_return_val_if_fail (adam->n == n, FALSE);

  hd_adam_next (adam, &step, &root_bc2);
  memcpy (host + gpu->h_adam, d, sizeof (float) * n);
  memcpy (host + gpu->h_adam + n, adam->m, sizeof (float) * n);
  memcpy (host + gpu->h_adam + 2 * n, adam->v, sizeof (float) * n);
  memcpy (host + gpu->h_adam + 3 * n, grad, sizeof (float) * n);
  host[gpu->h_adam + 4 * n] = step;
  host[gpu->h_adam + 4 * n + 1] = root_bc2;
  host[gpu->h_adam + 4 * n + 2] = 1.0f - HD_ADAM_BETA1;
  host[gpu->h_adam + 4 * n + 3] = 1.0f - HD_ADAM_BETA2;
  if (!hd_compute_submit (gpu->c, gpu->adam, error))
    {
      adam->t--;
      return FALSE;
    }
  memcpy (d, host + gpu->h_adam, sizeof (float) * n);
  memcpy (adam->m, host + gpu->h_adam + n, sizeof (float) * n);
  memcpy (adam->v, host + gpu->h_adam + 2 * n, sizeof (float) * n);
  return TRUE;
}

int
hd_train_gpu_get_samples_per_round (HdTrainGpu *gpu)
{
  return gpu->slots;
}

/* The loss of CLIP CLIP (number V of N_CLIPS) on its device tower for
 * samples FIRST .. FIRST + N - 1 of IMAGES (the batch's frozen images,
 * then its trainable ones): into LOSSES ([batch][n_clips]), and its
 * gradient with respect to the trainable images added to G_IMG
 * ([batch][3 R²]).  As many samples a pass as the tower holds pairs of
 * images, or one image a pass. */
static gboolean
device_clip_loss (const HdTrainClip  *clip,
                  guint               v,
                  guint               n_clips,
                  int                 batch,
                  int                 first,
                  int                 n,
                  gsize               n_img,
                  const double       *images,
                  double             *losses,
                  double             *g_img,
                  GError            **error)
{
  HdClipTrainGpu *t = clip->device;
  int E = clip->clip->config.embed_dim, most = hd_clip_train_gpu_get_max_images (t);
  int k = MAX (most / 2, 1);
  g_autofree double *pair = g_new (double, n_img * 2 * k);
  g_autofree double *e = g_new (double, (gsize) 2 * k * E);
  g_autofree double *g_e = g_new (double, (gsize) k * E);
  g_autofree double *g = g_new (double, n_img * k);

  for (int b0 = first; b0 < first + n; b0 += k)
    {
      int m = MIN (k, first + n - b0), trg;
      const double *src_img = images + b0 * n_img, *trg_img = images + (batch + b0) * n_img;

      if (most >= 2 * m)
        {
          memcpy (pair, src_img, sizeof (double) * m * n_img);
          memcpy (pair + m * n_img, trg_img, sizeof (double) * m * n_img);
          if (!hd_clip_train_gpu_forward (t, 2 * m, pair, e, error))
            return FALSE;
          trg = m;
        }
      else if (!hd_clip_train_gpu_forward (t, 1, src_img, e, error) ||
               !hd_clip_train_gpu_forward (t, 1, trg_img, e + E, error))
        return FALSE;
      else
        trg = 0;
      for (int j = 0; j < m; j++)
        losses[(gsize) (b0 + j) * n_clips + v] =
          hd_train_direction_loss (clip->direction, e + j * E, e + (m + j) * E, E, batch, g_e + j * E);
      if (!hd_clip_train_gpu_backward (t, trg, m, g_e, g, error))
        return FALSE;
      for (gsize i = 0; i < m * n_img; i++)
        g_img[b0 * n_img + i] += g[i];
    }
  return TRUE;
}

/* CLIP's part of one sample on the host (the CLIPs without a device
 * tower), on a thread of its own. */
typedef struct {
  HdClipImageTower **towers;
  const HdTrainClip *clips;
  guint              n_clips;
  int                batch;
  const double      *src, *trg;
  double            *loss;     /* n_clips */
  double            *g_img;
} ClipJob;

static void
run_clip_job (gpointer data,
              gpointer unused)
{
  ClipJob *job = data;

  hd_train_clip_loss (job->towers, job->clips, job->n_clips, job->batch, job->src, job->trg, job->loss,
                      job->g_img);
}

gboolean
hd_train_gpu_step (HdTrainGpu         *gpu,
                   const HdTrainClip  *clips,
                   guint               n_clips,
                   const HdTrainDraws *draws,
                   const float        *d,
                   double             *loss,
                   double             *loss_per_clip,
                   float              *grad,
                   HdTrainTimes       *times,
                   GError            **error)
{
  HdGenerator *gen = gpu->gen;
  int B = gpu->batch, R = gen->config.img_resolution;
  gsize n_img = gpu->image;
  gint64 start = g_get_monotonic_time (), step_start = start;
  g_autofree double *images = g_new (double, n_img * 2 * B);
  g_autofree double *g_img = g_new0 (double, n_img * B);
  g_autofree double *losses = g_new0 (double, (gsize) MAX (n_clips, 1) * B);
  g_autofree double *sum = g_new0 (double, MAX (gen->domain_dim, 1));
  g_autofree ClipJob *jobs = g_new0 (ClipJob, B);
  HdClipImageTower **towers;
  guint host_clips = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (draws->batch == B, FALSE);

  for (guint v = 0; v < n_clips; v++)
    host_clips += clips[v].device == NULL;
  towers = hd_train_towers_new (clips, n_clips, R);
  /* Round by round (one, unless the device's buffers are small): the
   * generator forward, CLIP's loss and gradient of each sample on the
   * host, the generator backward. */
  for (int first = 0; ok && first < B; first += gpu->slots)
    {
      int n = MIN (gpu->slots, B - first);
      GThreadPool *pool;

      if (!forward_round (gpu, draws, d, first, n, images, error))
        {
          ok = FALSE;
          break;
        }
      if (times != NULL)
        times->generator_forward += hd_train_ms_since (&start);
      if (host_clips > 0)
        {
          pool = g_thread_pool_new (run_clip_job, NULL, MIN (n, (int) g_get_num_processors ()), FALSE, NULL);
          for (int b = first; b < first + n; b++)
            {
              jobs[b] = (ClipJob) {
                .towers = towers, .clips = clips, .n_clips = n_clips, .batch = B,
                .src = images + b * n_img, .trg = images + (B + b) * n_img,
                .loss = losses + (gsize) b * n_clips, .g_img = g_img + b * n_img,
              };
              g_thread_pool_push (pool, &jobs[b], NULL);
            }
          g_thread_pool_free (pool, FALSE, TRUE);
        }
      for (guint v = 0; ok && v < n_clips; v++)
        if (clips[v].device != NULL)
          ok = device_clip_loss (&clips[v], v, n_clips, B, first, n, n_img, images, losses, g_img, error);
      if (times != NULL)
        times->clip += hd_train_ms_since (&start);
      if (!ok)
        break;
      ok = backward_round (gpu, g_img, first, n, sum, error);
      if (times != NULL)
        times->generator_backward += hd_train_ms_since (&start);
    }
  hd_train_towers_free (towers, clips, n_clips);
  if (!ok)
    return FALSE;
  for (int i = 0; i < gen->domain_dim; i++)
    grad[i] = (float) sum[i];
  if (times != NULL)
    times->wall += hd_train_ms_since (&step_start);
  *loss = hd_train_add_losses (losses, B, n_clips, loss_per_clip);
  return TRUE;
}

char *
hd_train_gpu_get_memory_report (HdTrainGpu *gpu)
{
  return hd_compute_get_memory_report (gpu->c);
}
