/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The forward pass of spec/generator-math.md on a Vulkan device.
 *
 * hd_renderer_new re-lays out every weight for the shaders and uploads it
 * once.  A frame then writes only a small host-visible "frame" buffer (psi,
 * cutoff, z or w, the blended domain vector) and, when the noise seed
 * changes, the random noise images.  The dispatch sequence of a frame is
 * recorded once per (mapping mode, preview size, noise mode, whole or in
 * pieces) and replayed.  In pieces (hd_renderer_render_cancellable), a
 * frame can be stopped between two of them; see PIECES_PER_FRAME.
 *
 * One frame:
 *   [mapping: map_norm, map_fc x L, map_truncate | map_truncate of a W]
 *   [styles, dcoef]                 (skipped when w is cached)
 *   scales: s_i (1 + d_i) of every conv input channel
 *   per block: conv (up), conv, torgb + skip (the last block's second
 *   conv and its torgb in bands of rows; see plan_activations)
 *   copy of the block's image to the readback buffer (none where the
 *   host can read the image buffer itself)
 *
 * Two implementations of the convolutions, same results: conv.comp, a
 * tiled implicit GEMM through shared memory (GPUs), and conv_cpu.comp,
 * which treats a subgroup as one SIMD register (CPU devices such as
 * lavapipe, where a storage-buffer load with a varying address is a loop
 * over the lanes but a texel fetch is a vector gather and a shuffle
 * between lanes is one instruction: so the CPU kernels read their inner
 * loops' data through texel buffers, descriptor set 1).
 *
 * The up-sampling conv: GPUs run it as one fused polyphase conv (a 3x3
 * kernel per output parity, 36 multiply-adds per input pixel per (o, i)),
 * which needs no intermediate and keeps the GPU's arithmetic dense.  On a
 * CPU the arithmetic is the cost, so there it runs as written in the
 * spec: tconv_cpu.comp, the transposed conv (9 multiply-adds), the blur
 * and the epilogue in one pass, each lane keeping its channel's part of
 * the (2H + 1)² intermediate in registers.
 *
 * Environment variables for development:
 *   HYPERDOMAIN_CONV_KERNEL=tiled|cpu   force one convolution kernel
 *   HYPERDOMAIN_PROFILE=1               log the GPU time of every dispatch
 *   HYPERDOMAIN_FORCE_STAGING=1         upload through staging buffers even
 *                                       where device memory is mappable
 */
#include "hd-renderer.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "hd-error.h"
#include "hd-latent.h"

/* Must match the defaults in shaders/conv.comp ... */
#define CONV_TILE_CO 64
#define CONV_TILE_H  8
#define CONV_TILE_W  8
/* ... and in shaders/conv_cpu.comp. */
#define CPU_SG       8
#define CPU_TILE_P   8
#define CPU_TILE_Q   8
#define CPU_NSG      4
#define CPU_SMALL_TILE 4  /* conv_cpu_small: TILE_P = TILE_Q */
/* ... and in shaders/tconv_cpu.comp (input pixels per tile). */
#define TCONV_TILE_P 4
#define TCONV_TILE_Q 8

/* Which convolution shaders run: conv.comp (tiled through shared memory,
 * for GPUs) or conv_cpu.comp (lanes as channels, for CPU devices). */
typedef enum {
  CONV_KERNEL_TILED,
  CONV_KERNEL_CPU,
} ConvKernel;

#define N_BINDINGS       8
/* Set 1 of the CPU conv kernels: uniform texel buffers (R32_SFLOAT) of
 * the input activations, the weights, the input scales and the noise,
 * and the input activations again as R32G32B32A32_SFLOAT.  On lavapipe
 * a texel fetch is a vector gather, while a storage-buffer load with a
 * non-constant address is a loop over the lanes; see conv_cpu.comp. */
#define N_TEXEL_BINDINGS 5
#define PUSH_BYTES       128
#define FRAME_HEADER     4      /* floats; see shaders/hd-common.glsl */
#define FRAME_PSI        0
#define FRAME_CUTOFF     1
#define N_TIMESTAMPS     3
#define MAX_PROFILED     256    /* dispatches timed per frame */

typedef enum {
  PIPE_MAP_NORM,
  PIPE_MAP_FC,
  PIPE_MAP_TRUNCATE,
  PIPE_STYLES,
  PIPE_DCOEF,
  PIPE_SCALES,
  PIPE_TORGB,
  PIPE_CONV,
  PIPE_CONV_UP,
  PIPE_CONV_SMALL,      /* conv_cpu with 4x4 tiles, for 4x4 inputs */
  PIPE_CONV_SMALL_UP,
  PIPE_TCONV,           /* CPU up conv: transposed conv, blur, epilogue */
  PIPE_MAP_FC_CPU,      /* map_fc, styles and dcoef reading through texel */
  PIPE_STYLES_CPU,      /* buffers (set 1, map_texel_set) */
  PIPE_DCOEF_CPU,
  N_PIPES
} PipelineId;

static const char * const pipeline_shaders[N_PIPES] = {
  [PIPE_MAP_NORM] = "map_norm",
  [PIPE_MAP_FC] = "map_fc",
  [PIPE_MAP_TRUNCATE] = "map_truncate",
  [PIPE_STYLES] = "styles",
  [PIPE_DCOEF] = "dcoef",
  [PIPE_SCALES] = "scales",
  [PIPE_TORGB] = "torgb",
  [PIPE_CONV] = "conv",
  [PIPE_CONV_UP] = "conv_up",
  [PIPE_CONV_SMALL] = "conv_cpu_small",
  [PIPE_CONV_SMALL_UP] = "conv_cpu_small_up",
  [PIPE_TCONV] = "tconv_cpu",
  [PIPE_MAP_FC_CPU] = "map_fc_cpu",
  [PIPE_STYLES_CPU] = "styles_cpu",
  [PIPE_DCOEF_CPU] = "dcoef_cpu",
};

/* Push constant blocks, field for field as the shaders declare them. */
typedef struct {
  guint32 z_dim, z_off, out_off;
} MapNormPush;

typedef struct {
  guint32 in_features, out_features, weight_off, bias_off, in_off, out_off;
} MapFcPush;

typedef struct {
  guint32 w_dim, num_ws, from_frame, src_off, src_stride, avg_off, ws_off;
} TruncatePush;

typedef struct {
  guint32 rows, w_dim, weight_off, bias_off, windex_off, ws_off;
} StylesPush;

typedef struct {
  guint32 rows, meta_off;
} DcoefPush;

typedef struct {
  guint32 n, domain_off;
} ScalesPush;

typedef struct {
  guint32 c_in, res, channels, style_off, weight_off, bias_off, has_prev, has_clamp;
  float   clamp_val;
  guint32 row0, act_rows;    /* rows row0 .. of the image; act holds act_rows */
} TorgbPush;

typedef struct {
  guint32 c_in, n_virtual, in_res, scale_off, dcoef_off, bias_off, noise_off, noise_on;
  float   noise_strength;
  guint32 has_clamp;
  float   clamp_val;
  /* The output buffer holds out_rows rows of each channel, from output row
   * out_row0 (0 and the output resolution except in bands; see
   * plan_activations).  tconv_cpu.comp declares neither. */
  guint32 out_row0, out_rows;
} ConvPush;

_Static_assert (sizeof (MapNormPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (MapFcPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (TruncatePush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (StylesPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (DcoefPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (ScalesPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (TorgbPush) <= PUSH_BYTES, "push constants too large");
_Static_assert (sizeof (ConvPush) <= PUSH_BYTES, "push constants too large");

/* What each device buffer holds, for hd_renderer_get_memory_report. */
typedef enum {
  MEM_CONV_WEIGHTS,
  MEM_AFFINE,
  MEM_DEMOD_TABLES,
  MEM_MAPPING,
  MEM_MISC,
  MEM_NOISE,
  MEM_ACTIVATIONS,
  MEM_IMAGES,
  MEM_READBACK,
  MEM_FRAME,
  N_MEMORY_KINDS
} MemoryKind;

static const char * const memory_kind_names[N_MEMORY_KINDS] = {
  [MEM_CONV_WEIGHTS] = "conv weights (re-laid out)",
  [MEM_AFFINE] = "affine layers (styles)",
  [MEM_DEMOD_TABLES] = "demodulation tables",
  [MEM_MAPPING] = "mapping network",
  [MEM_MISC] = "biases, ToRGB weights, const input",
  [MEM_NOISE] = "noise images",
  [MEM_ACTIVATIONS] = "activations",
  [MEM_IMAGES] = "RGB images (skip path)",
  [MEM_READBACK] = "readback",
  [MEM_FRAME] = "frame, latents, styles, dcoef, scales",
};

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

/* The recorded submissions of one frame variant. */
typedef struct {
  guint            n_pieces;
  VkCommandBuffer *pieces;
  double          *done;   /* share of the convolution work after each */
} FrameCommands;

typedef struct {
  HdVkBuffer      weights;     /* see upload_conv_weights */
  VkDescriptorSet set;
  ConvPush        push;        /* noise_on / noise_off set when recording */
  guint32         noise_base;  /* this conv's image in the noise layout */
  PipelineId      pipe;
  guint32         groups[3];

  /* The CPU up conv (tconv = TRUE): tconv_cpu.comp, the transposed
   * conv, blur and epilogue in one pass, with the conv's push constants
   * (n_virtual = c_out). */
  gboolean        tconv;

  /* CPU kernels: set 1 (input, weights, scales, noise as texel buffers). */
  VkBufferView    weight_view;
  VkDescriptorSet texel_set;
} ConvGpu;

typedef struct {
  VkDescriptorSet set;
  TorgbPush       push;
  guint32         groups[3];
  int             img;         /* which image buffer it writes */
} RgbGpu;

struct _HdRenderer {
  HdVkContext          *ctx;
  HdGenerator          *gen;
  VkDevice              device;
  gboolean              force_staging;     /* HYPERDOMAIN_FORCE_STAGING=1 */
  ConvKernel            conv_kernel;
  guint32               conv_group;        /* output channels per weight block */

  VkDescriptorSetLayout set_layout;
  VkDescriptorSetLayout texel_layout;      /* set 1 of the CPU conv kernels */
  VkPipelineLayout      pipeline_layout;
  VkPipeline            pipelines[N_PIPES];
  const char           *pipeline_names[N_PIPES];  /* the shader each runs */
  VkDescriptorPool      descriptor_pool;
  VkCommandPool         command_pool;
  FrameCommands        *commands;          /* lazily recorded variants */
  double                min_piece_macs;    /* see MIN_PIECE_MACS */
  guint                 n_commands;
  VkFence               fence;
  VkQueryPool           query_pool;        /* or VK_NULL_HANDLE */
  double                timestamp_period;  /* ns per tick */
  guint64               timestamp_mask;

  /* HYPERDOMAIN_PROFILE=1: a timestamp after every dispatch, printed per
   * frame; the labels of each recorded variant say what ran. */
  gboolean              profile;
  VkQueryPool           profile_pool;
  GPtrArray           **profile_labels;    /* per variant */
  GPtrArray            *recording_labels;  /* while recording */
  guint                 frame_variant;

  /* Constant data, uploaded once. */
  HdVkBuffer            mapping_buf;   /* W_l^T g, b_l lr, w_avg */
  HdVkBuffer            affine_buf;    /* A^T, a, w indices, dcoef rows */
  HdVkBuffer            wsq_buf;       /* Σ_k W[o,i,k]², per conv [c_in][c_out] */
  HdVkBuffer            misc_buf;      /* conv biases, ToRGB weights and biases */
  HdVkBuffer            const_buf;     /* the constant 4x4 input */
  HdVkBuffer            noise_buf;     /* [noise_const of all convs | random noise] */
  ConvGpu              *convs;
  RgbGpu               *rgbs;

  /* Per-frame data. */
  HdVkBuffer            frame_buf;     /* host written: header, z, w, d */
  HdVkBuffer            latent_buf;    /* x ping-pong, ws */
  HdVkBuffer            styles_buf;
  HdVkBuffer            dcoef_buf;
  HdVkBuffer            scale_buf;
  HdVkBuffer            act[2];
  HdVkBuffer            img[2];
  HdVkBuffer            readback;      /* unused when img is host-readable */
  gboolean              direct_readback;  /* read the image from img itself */
  gsize                 act_floats[2]; /* sizes of act[], see plan_activations */
  int                   band_rows;     /* rows per band of the last conv, or 0 */
  VkBufferView          act_views[2], const_view, scale_view, noise_view;  /* CPU kernels */
  VkBufferView          act4_views[2], const4_view;  /* the same as vec4 texels */
  /* Set 1 of map_fc, styles and dcoef on the CPU kernels: the mapping,
   * latent, affine, wsq and styles buffers as texels (see map_fc.comp). */
  VkBufferView          map_views[N_TEXEL_BINDINGS];
  VkDescriptorSet       map_texel_set;

  VkDescriptorSet       norm_set, fc_set, truncate_set, styles_set, dcoef_set, scales_set;

  /* Offsets in floats. */
  guint32              *map_weight_off, *map_bias_off;
  guint32               w_avg_off;
  guint32               latent_x[2], latent_ws;
  guint32               frame_z, frame_w, frame_d;
  guint32               style_rows, dcoef_rows;
  guint32               affine_weight_off, affine_bias_off, affine_windex_off, affine_meta_off;
  guint32               noise_total;

  /* The mapping cache: what produced the styles now on the device. */
  gboolean              cache_valid;
  HdLatentKind          cache_kind;
  guint32               cache_seed;
  float                *cache_latent;  /* z or w */
  float                 cache_psi;
  int                   cache_cutoff;

  NoiseContent          noise_content; /* what noise_buf holds now */
  guint32               noise_seed;

  guint64               device_bytes;
  guint64               kind_bytes[N_MEMORY_KINDS];
  guint                 kind_count[N_MEMORY_KINDS];
  HdRenderStats         stats;
};

/* ------------------------------------------------------------------------ */
/* Host-side packing                                                        */

/* A growing float array that hands out offsets. */
typedef struct {
  GArray *data;
} Pack;

static void
pack_init (Pack *pack)
{
  pack->data = g_array_new (FALSE, TRUE, sizeof (float));
}

static guint32
pack_reserve (Pack  *pack,
              gsize  n)
{
  guint32 offset = pack->data->len;

  g_array_set_size (pack->data, pack->data->len + n);
  return offset;
}

static float *
pack_at (Pack    *pack,
         guint32  offset)
{
  return &g_array_index (pack->data, float, offset);
}

static guint32
pack_append (Pack        *pack,
             const float *values,
             gsize        n)
{
  guint32 offset = pack_reserve (pack, n);

  if (n > 0)
    memcpy (pack_at (pack, offset), values, n * sizeof (float));
  return offset;
}

static void
pack_set_uint (Pack    *pack,
               guint32  offset,
               guint32  value)
{
  memcpy (pack_at (pack, offset), &value, sizeof value);
}

/* ------------------------------------------------------------------------ */
/* Device helpers                                                           */

static guint32
groups_for (gsize   n,
            guint32 local)
{
  return (guint32) ((n + local - 1) / local);
}

/* The convolution shaders for this device.  HYPERDOMAIN_CONV_KERNEL=tiled
 * or =cpu overrides the choice (tests run both on one device). */
static gboolean
choose_conv_kernel (HdRenderer  *r,
                    GError     **error)
{
  const char *env = g_getenv ("HYPERDOMAIN_CONV_KERNEL");
  gboolean cpu_ok = hd_vk_context_supports_subgroup_size (r->ctx, CPU_SG, CPU_NSG);
  gboolean is_cpu = hd_vk_context_get_device_info (r->ctx)->type == VK_PHYSICAL_DEVICE_TYPE_CPU;

  if (env == NULL || env[0] == '\0' || g_strcmp0 (env, "auto") == 0)
    r->conv_kernel = is_cpu && cpu_ok ? CONV_KERNEL_CPU : CONV_KERNEL_TILED;
  else if (g_strcmp0 (env, "tiled") == 0)
    r->conv_kernel = CONV_KERNEL_TILED;
  else if (g_strcmp0 (env, "cpu") == 0 && cpu_ok)
    r->conv_kernel = CONV_KERNEL_CPU;
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   "HYPERDOMAIN_CONV_KERNEL=%s: use auto, tiled or cpu (cpu needs "
                   "subgroups of exactly %d invocations)", env, CPU_SG);
      return FALSE;
    }
  r->conv_group = r->conv_kernel == CONV_KERNEL_CPU ? CPU_SG : CONV_TILE_CO;
  g_debug ("Convolution kernel: %s", r->conv_kernel == CONV_KERNEL_CPU ? "cpu" : "tiled");
  return TRUE;
}

static gboolean
check_buffer_range (HdRenderer  *r,
                    const char  *what,
                    gsize        bytes,
                    GError     **error)
{
  guint32 limit = hd_vk_context_get_limits (r->ctx)->maxStorageBufferRange;

  if (bytes <= limit)
    return TRUE;
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               "%s needs a buffer of %.1f MiB, more than this Vulkan device "
               "allows in one storage buffer (%.1f MiB)",
               what, bytes / 1048576.0, limit / 1048576.0);
  return FALSE;
}

static gboolean
create_buffer (HdRenderer     *r,
               HdVkBuffer     *buf,
               MemoryKind      kind,
               const char     *what,
               gsize           bytes,
               HdVkMemoryUse   use,
               GError        **error)
{
  if (!check_buffer_range (r, what, bytes, error))
    return FALSE;
  if (!hd_vk_buffer_init (r->ctx, buf, bytes, use, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  r->device_bytes += buf->allocated;
  r->kind_bytes[kind] += buf->allocated;
  r->kind_count[kind]++;
  return TRUE;
}

static void
destroy_buffer (HdRenderer *r,
                HdVkBuffer *buf,
                MemoryKind  kind)
{
  r->device_bytes -= MIN (r->device_bytes, buf->allocated);
  r->kind_bytes[kind] -= MIN (r->kind_bytes[kind], buf->allocated);
  if (buf->memory != VK_NULL_HANDLE && r->kind_count[kind] > 0)
    r->kind_count[kind]--;
  hd_vk_buffer_clear (r->ctx, buf);
}

/* Submits CB and waits for it. */
static gboolean
submit_and_wait (HdRenderer       *r,
                 VkCommandBuffer   cb,
                 GError          **error)
{
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &cb,
  };
  VkResult result;

  /* A lost device takes no more work (one lost by an injected fault too). */
  if (!hd_vk_check (hd_vk_context_get_fault (r->ctx), "Submitting work to the device", error))
    return FALSE;
  result = vkQueueSubmit (hd_vk_context_get_queue (r->ctx), 1, &submit, r->fence);
  if (!hd_vk_check (result, "Submitting work to the device", error))
    return FALSE;
  result = vkWaitForFences (r->device, 1, &r->fence, VK_TRUE, UINT64_MAX);
  /* Reset even after a failure, so the next submission starts clean. */
  vkResetFences (r->device, 1, &r->fence);
  return hd_vk_check (result, "Waiting for the device", error);
}

/* Staging buffers hold at most this much, so an upload adds little to
 * the peak of device memory (4 MiB; 64 KiB with
 * HYPERDOMAIN_FORCE_STAGING=1, so that tests see several pieces). */
#define UPLOAD_CHUNK        (4u << 20)
#define UPLOAD_CHUNK_FORCED (64u << 10)

/* Copies BYTES of DATA to DST at OFFSET: directly when the memory is
 * mapped (unified memory), else through a staging buffer, piece by
 * piece. */
/* A new command buffer of the renderer's pool in the recording state, or
 * VK_NULL_HANDLE with ERROR set (WHAT says what it was for). */
static VkCommandBuffer
begin_command_buffer (HdRenderer                *r,
                      VkCommandBufferUsageFlags  flags,
                      const char                *what,
                      GError                   **error)
{
  VkCommandBufferAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = r->command_pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = flags,
  };
  VkCommandBuffer cb = VK_NULL_HANDLE;

  if (!hd_vk_check (vkAllocateCommandBuffers (r->device, &alloc, &cb),
                    "Allocating a command buffer", error))
    return VK_NULL_HANDLE;
  if (!hd_vk_check (vkBeginCommandBuffer (cb, &begin), what, error))
    {
      vkFreeCommandBuffers (r->device, r->command_pool, 1, &cb);
      return VK_NULL_HANDLE;
    }
  return cb;
}

static gboolean
upload (HdRenderer  *r,
        HdVkBuffer  *dst,
        gsize        offset,
        const void  *data,
        gsize        bytes,
        GError     **error)
{
  HdVkBuffer staging;
  gsize chunk = MIN (bytes, r->force_staging ? UPLOAD_CHUNK_FORCED : UPLOAD_CHUNK);
  gboolean ok = TRUE;

  if (bytes == 0)
    return TRUE;
  if (dst->mapped != NULL && !r->force_staging)
    {
      memcpy ((char *) dst->mapped + offset, data, bytes);
      return TRUE;
    }

  if (!hd_vk_buffer_init (r->ctx, &staging, chunk, HD_VK_MEMORY_UPLOAD, error))
    return FALSE;
  for (gsize done = 0; ok && done < bytes; done += chunk)
    {
      VkCommandBuffer cb;
      VkBufferCopy region = {
        .srcOffset = 0,
        .dstOffset = offset + done,
        .size = MIN (chunk, bytes - done),
      };

      memcpy (staging.mapped, (const char *) data + done, region.size);
      cb = begin_command_buffer (r, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT, "Recording an upload", error);
      ok = cb != VK_NULL_HANDLE;
      if (ok)
        {
          vkCmdCopyBuffer (cb, staging.buffer, dst->buffer, 1, &region);
          ok = hd_vk_check (vkEndCommandBuffer (cb), "Recording an upload", error);
        }
      if (ok)
        ok = submit_and_wait (r, cb, error);
      if (cb != VK_NULL_HANDLE)
        vkFreeCommandBuffers (r->device, r->command_pool, 1, &cb);
    }
  hd_vk_buffer_clear (r->ctx, &staging);
  return ok;
}

static gboolean
create_and_upload (HdRenderer  *r,
                   HdVkBuffer  *buf,
                   MemoryKind   kind,
                   const char  *what,
                   const float *data,
                   gsize        n_floats,
                   GError     **error)
{
  return create_buffer (r, buf, kind, what, n_floats * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
         upload (r, buf, 0, data, n_floats * sizeof (float), error);
}

static VkDescriptorSet
allocate_set (HdRenderer        *r,
              const HdVkBuffer  *buffers[N_BINDINGS],
              GError           **error)
{
  VkDescriptorSetAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = r->descriptor_pool,
    .descriptorSetCount = 1,
    .pSetLayouts = &r->set_layout,
  };
  VkDescriptorBufferInfo infos[N_BINDINGS];
  VkWriteDescriptorSet writes[N_BINDINGS];
  VkDescriptorSet set = VK_NULL_HANDLE;

  if (!hd_vk_check (vkAllocateDescriptorSets (r->device, &alloc, &set),
                    "Allocating a descriptor set", error))
    return VK_NULL_HANDLE;

  for (guint b = 0; b < N_BINDINGS; b++)
    {
      /* Every binding gets a valid buffer; the frame buffer fills the
       * ones a shader does not use. */
      const HdVkBuffer *buf = buffers[b] != NULL ? buffers[b] : &r->frame_buf;

      infos[b] = (VkDescriptorBufferInfo) {
        .buffer = buf->buffer,
        .offset = 0,
        .range = VK_WHOLE_SIZE,
      };
      writes[b] = (VkWriteDescriptorSet) {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = set,
        .dstBinding = b,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &infos[b],
      };
    }
  vkUpdateDescriptorSets (r->device, N_BINDINGS, writes, 0, NULL);
  return set;
}

/* ------------------------------------------------------------------------ */
/* Pipelines                                                                */

static gboolean
create_pipeline (HdRenderer  *r,
                 PipelineId   p,
                 GError     **error)
{
  gboolean small = p == PIPE_CONV_SMALL || p == PIPE_CONV_SMALL_UP;
  gboolean cpu_only = small || p == PIPE_TCONV || p == PIPE_MAP_FC_CPU ||
                      p == PIPE_STYLES_CPU || p == PIPE_DCOEF_CPU;
  gboolean cpu_conv = r->conv_kernel == CONV_KERNEL_CPU &&
                      (p == PIPE_CONV || p == PIPE_CONV_UP || small || p == PIPE_TCONV);
  const char *name = !cpu_conv || small || p == PIPE_TCONV ? pipeline_shaders[p] :
                     p == PIPE_CONV ? "conv_cpu" : "conv_cpu_up";
  VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT subgroup_size = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT,
    .requiredSubgroupSize = CPU_SG,
  };
  VkComputePipelineCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .pName = "main",
    },
    .layout = r->pipeline_layout,
  };
  VkResult result;

  /* The small-tile convolutions and the split up conv exist for the CPU
   * kernel only. */
  if (cpu_only && r->conv_kernel != CONV_KERNEL_CPU)
    return TRUE;

  r->pipeline_names[p] = name;
  info.stage.module = hd_vk_create_shader_module (r->ctx, name, error);
  if (info.stage.module == VK_NULL_HANDLE)
    return FALSE;
  if (cpu_conv)
    {
      /* The shader maps work to gl_SubgroupInvocationID and broadcasts
       * between lanes: it needs full subgroups of exactly CPU_SG. */
      info.stage.pNext = &subgroup_size;
      info.stage.flags = VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT_EXT;
    }
  result = vkCreateComputePipelines (r->device, VK_NULL_HANDLE, 1, &info, NULL, &r->pipelines[p]);
  vkDestroyShaderModule (r->device, info.stage.module, NULL);
  if (!hd_vk_check (result, "Creating a compute pipeline", error))
    {
      r->pipelines[p] = VK_NULL_HANDLE;
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_pipelines (HdRenderer  *r,
                  GError     **error)
{
  VkDescriptorSetLayoutBinding bindings[N_BINDINGS];
  VkDescriptorSetLayoutCreateInfo set_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = N_BINDINGS,
    .pBindings = bindings,
  };
  VkPushConstantRange push = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .offset = 0,
    .size = PUSH_BYTES,
  };
  VkDescriptorSetLayoutBinding texel_bindings[N_TEXEL_BINDINGS];
  VkDescriptorSetLayoutCreateInfo texel_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = N_TEXEL_BINDINGS,
    .pBindings = texel_bindings,
  };
  VkDescriptorSetLayout set_layouts[2];
  VkPipelineLayoutCreateInfo layout_info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 2,
    .pSetLayouts = set_layouts,
    .pushConstantRangeCount = 1,
    .pPushConstantRanges = &push,
  };

  /* One layout for every shader (eight storage buffers and 128 bytes of
   * push constants) keeps descriptor handling uniform; shaders declare
   * only the bindings they use. */
  for (guint b = 0; b < N_BINDINGS; b++)
    bindings[b] = (VkDescriptorSetLayoutBinding) {
      .binding = b,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  if (!hd_vk_check (vkCreateDescriptorSetLayout (r->device, &set_info, NULL, &r->set_layout),
                    "Creating a descriptor set layout", error))
    return FALSE;
  /* Set 1, used by the CPU conv kernels only (other shaders leave it
   * unbound). */
  for (guint b = 0; b < N_TEXEL_BINDINGS; b++)
    texel_bindings[b] = (VkDescriptorSetLayoutBinding) {
      .binding = b,
      .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  if (!hd_vk_check (vkCreateDescriptorSetLayout (r->device, &texel_info, NULL, &r->texel_layout),
                    "Creating a descriptor set layout", error))
    return FALSE;
  set_layouts[0] = r->set_layout;
  set_layouts[1] = r->texel_layout;
  if (!hd_vk_check (vkCreatePipelineLayout (r->device, &layout_info, NULL, &r->pipeline_layout),
                    "Creating a pipeline layout", error))
    return FALSE;

  for (guint p = 0; p < N_PIPES; p++)
    if (!create_pipeline (r, p, error))
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Weights                                                                  */

/* The mapping network: W^T · lr / sqrt(in) ([in][out], so neighbouring
 * invocations read neighbouring floats), b · lr, then w_avg. */
static gboolean
upload_mapping (HdRenderer  *r,
                GError     **error)
{
  HdGenerator *gen = r->gen;
  int layers = gen->config.mapping_layers;
  double lr = gen->config.lr_multiplier;
  Pack pack;
  gboolean ok;

  pack_init (&pack);
  r->map_weight_off = g_new0 (guint32, layers);
  r->map_bias_off = g_new0 (guint32, layers);
  for (int l = 0; l < layers; l++)
    {
      const HdMappingLayer *layer = &gen->mapping[l];
      double gain = lr / sqrt ((double) layer->in_features);
      float *w;

      r->map_weight_off[l] = pack_reserve (&pack, (gsize) layer->in_features * layer->out_features);
      w = pack_at (&pack, r->map_weight_off[l]);
      for (int o = 0; o < layer->out_features; o++)
        for (int i = 0; i < layer->in_features; i++)
          w[(gsize) i * layer->out_features + o] =
            (float) (layer->weight[(gsize) o * layer->in_features + i] * gain);
      r->map_bias_off[l] = pack_reserve (&pack, layer->out_features);
      for (int o = 0; o < layer->out_features; o++)
        pack_at (&pack, r->map_bias_off[l])[o] = (float) (layer->bias[o] * lr);
    }
  r->w_avg_off = pack_append (&pack, gen->w_avg, gen->config.w_dim);

  ok = create_and_upload (r, &r->mapping_buf, MEM_MAPPING, "The mapping network",
                          pack_at (&pack, 0), pack.data->len, error);
  g_array_unref (pack.data);
  return ok;
}

/* Affine layers of every conv and ToRGB (styles), and the demodulation
 * tables.  Style rows: the convs' inputs in conv order (so row j of a
 * conv's styles is entry j of the flat domain vector), then ToRGB. */
static gboolean
upload_styles (HdRenderer  *r,
               GError     **error)
{
  HdGenerator *gen = r->gen;
  int w_dim = gen->config.w_dim;
  double affine_gain = 1.0 / sqrt ((double) w_dim);
  guint32 rows = 0, dcoef_rows = 0, row, drow, wsq_len = 0;
  guint32 *rgb_row = g_new0 (guint32, gen->n_rgbs);
  guint32 *wsq_off = g_new0 (guint32, gen->n_convs);
  Pack affine, wsq;
  gboolean ok;

  for (int c = 0; c < gen->n_convs; c++)
    {
      g_assert ((guint32) gen->convs[c].domain_offset == rows);
      r->convs[c].push.scale_off = rows;
      r->convs[c].push.dcoef_off = dcoef_rows;
      rows += gen->convs[c].c_in;
      dcoef_rows += gen->convs[c].c_out;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      rgb_row[b] = rows;
      rows += gen->rgbs[b].c_in;
    }
  r->style_rows = rows;
  r->dcoef_rows = dcoef_rows;

  pack_init (&affine);
  r->affine_weight_off = pack_reserve (&affine, (gsize) w_dim * rows);
  r->affine_bias_off = pack_reserve (&affine, rows);
  r->affine_windex_off = pack_reserve (&affine, rows);
  r->affine_meta_off = pack_reserve (&affine, (gsize) 4 * dcoef_rows);

  row = 0;
  for (int k = 0; k < gen->n_convs + gen->n_rgbs; k++)
    {
      gboolean is_conv = k < gen->n_convs;
      const HdConvLayer *conv = is_conv ? &gen->convs[k] : NULL;
      const HdRgbLayer *rgb = is_conv ? NULL : &gen->rgbs[k - gen->n_convs];
      int c_in = is_conv ? conv->c_in : rgb->c_in;
      const float *a_w = is_conv ? conv->affine_weight : rgb->affine_weight;
      const float *a_b = is_conv ? conv->affine_bias : rgb->affine_bias;
      /* ToRGB folds its 1/sqrt(C_in) weight gain into the style. */
      double extra = is_conv ? 1.0 : 1.0 / sqrt ((double) c_in);
      guint32 w_index = is_conv ? conv->w_index : rgb->w_index;
      float *weights = pack_at (&affine, r->affine_weight_off);

      for (int i = 0; i < c_in; i++, row++)
        {
          for (int j = 0; j < w_dim; j++)
            weights[(gsize) j * rows + row] =
              (float) (a_w[(gsize) i * w_dim + j] * affine_gain * extra);
          pack_at (&affine, r->affine_bias_off)[row] = (float) (a_b[i] * extra);
          pack_set_uint (&affine, r->affine_windex_off + row, w_index);
        }
    }

  /* Σ_k W[o,i,k]² in double; stored [c_in][c_out] per conv. */
  pack_init (&wsq);
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      float *dst;

      wsq_off[c] = pack_reserve (&wsq, (gsize) conv->c_in * conv->c_out);
      dst = pack_at (&wsq, wsq_off[c]);
      for (int o = 0; o < conv->c_out; o++)
        for (int i = 0; i < conv->c_in; i++)
          {
            const float *w = conv->weight + ((gsize) o * conv->c_in + i) * 9;
            double sum = 0.0;
            for (int k = 0; k < 9; k++)
              sum += (double) w[k] * w[k];
            dst[(gsize) i * conv->c_out + o] = (float) sum;
          }
    }
  wsq_len = wsq.data->len;

  drow = 0;
  for (int c = 0; c < gen->n_convs; c++)
    for (int o = 0; o < gen->convs[c].c_out; o++, drow++)
      {
        guint32 m = r->affine_meta_off + 4 * drow;
        pack_set_uint (&affine, m + 0, wsq_off[c] + o);
        pack_set_uint (&affine, m + 1, gen->convs[c].c_out);
        pack_set_uint (&affine, m + 2, gen->convs[c].c_in);
        pack_set_uint (&affine, m + 3, r->convs[c].push.scale_off);
      }

  for (int b = 0; b < gen->n_rgbs; b++)
    r->rgbs[b].push.style_off = rgb_row[b];

  ok = create_and_upload (r, &r->affine_buf, MEM_AFFINE, "The affine layers",
                          pack_at (&affine, 0), affine.data->len, error) &&
       create_and_upload (r, &r->wsq_buf, MEM_DEMOD_TABLES, "The demodulation tables",
                          pack_at (&wsq, 0), MAX (wsq_len, 1), error);
  g_array_unref (affine.data);
  g_array_unref (wsq.data);
  g_free (rgb_row);
  g_free (wsq_off);
  return ok;
}

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
  if (!upload (r, &r->noise_buf, 0, noise, (gsize) r->noise_total * sizeof (float), error))
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
  Pack misc;
  gboolean ok;

  pack_init (&misc);
  r->noise_total = 0;
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      gsize plane = (gsize) conv->block_res * conv->block_res;

      r->convs[c].push.bias_off = pack_append (&misc, conv->bias, conv->c_out);
      r->convs[c].noise_base = r->noise_total;
      r->noise_total += plane;
      r->convs[c].push.noise_strength = conv->noise_strength;
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];

      r->rgbs[b].push.weight_off = pack_append (&misc, rgb->weight, (gsize) rgb->c_out * rgb->c_in);
      r->rgbs[b].push.bias_off = pack_append (&misc, rgb->bias, rgb->c_out);
    }
  g_assert (r->noise_total == hd_noise_total_size (gen));

  /* One set of noise images: the constant ones, until a frame asks for
   * random noise (upload_random_noise). */
  ok = create_and_upload (r, &r->misc_buf, MEM_MISC, "Biases and ToRGB weights",
                          pack_at (&misc, 0), misc.data->len, error) &&
       create_buffer (r, &r->noise_buf, MEM_NOISE, "The noise images",
                      MAX (r->noise_total, 1) * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
       upload_const_noise (r, error) &&
       create_and_upload (r, &r->const_buf, MEM_MISC, "The constant input",
                          gen->const_input, (gsize) gen->convs[0].c_in * 16, error);
  g_array_unref (misc.data);
  return ok;
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

/* Input channels of a conv as its weights are laid out: the CPU kernels
 * read them in fours (padded with zero weights). */
static int
padded_c_in (HdRenderer *r,
             int         c_in)
{
  return r->conv_kernel == CONV_KERNEL_CPU ? (c_in + 3) / 4 * 4 : c_in;
}

/* One conv's weights as the conv shaders read them, over virtual output
 * channels (c_out of them, or 4 c_out for the polyphase up conv:
 * v = 4 o + 2 py + px), zero-padded to whole blocks:
 * [block][c_in][9][conv_group] for conv.comp;
 * [block][c_in / 4][9][CPU_SG][4] for the CPU kernels (one vec4 per
 * lane and tap holds four input channels). */
static gboolean
upload_conv_weights (HdRenderer  *r,
                     int          index,
                     GError     **error)
{
  const HdConvLayer *conv = &r->gen->convs[index];
  ConvGpu *gpu = &r->convs[index];
  int c_in = conv->c_in;
  int c_in_padded = padded_c_in (r, c_in);
  gboolean polyphase = conv->up && !gpu->tconv;
  gboolean cpu = r->conv_kernel == CONV_KERNEL_CPU;
  int n_virtual = polyphase ? 4 * conv->c_out : conv->c_out;
  int group = r->conv_group;
  int co_blocks = (n_virtual + group - 1) / group;
  gsize n = (gsize) co_blocks * c_in_padded * 9 * group;
  float *dst = g_try_new0 (float, n);
  double table[2][3][3];
  g_autofree char *what = NULL;
  gboolean ok;

  if (dst == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   "Out of memory preparing the weights of %s", conv->name);
      return FALSE;
    }
  polyphase_axis_table (table);

  for (int v = 0; v < n_virtual; v++)
    {
      int o = polyphase ? v / 4 : v;
      int py = (v / 2) % 2, px = v % 2;
      gsize block_base = (gsize) (v / group) * c_in_padded * 9 * group;
      int lane = v % group;

      for (int i = 0; i < c_in; i++)
        {
          const float *w = conv->weight + ((gsize) o * c_in + i) * 9;
          float *out = cpu ? dst + block_base + ((gsize) (i / 4) * 9 * group + lane) * 4 + i % 4 :
                             dst + block_base + (gsize) i * 9 * group + lane;
          int tap_stride = cpu ? 4 * group : group;

          for (int ty = 0; ty < 3; ty++)
            for (int tx = 0; tx < 3; tx++)
              {
                double value = 0.0;

                if (!polyphase)
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
  ok = create_and_upload (r, &gpu->weights, MEM_CONV_WEIGHTS, what, dst, n, error);
  g_free (dst);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

static gsize
max_activation_floats (HdGenerator *gen)
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

/* The CPU kernels read activations and weights as texel buffers, and
 * rows of activations as whole vec4s: fall back to the tiled kernel on a
 * CPU device whose texel buffers are too small for this generator, or
 * for a generator with a resolution that is not a multiple of 4. */
static void
check_cpu_kernel_limits (HdRenderer *r)
{
  HdGenerator *gen = r->gen;
  gsize limit = hd_vk_context_get_limits (r->ctx)->maxTexelBufferElements;
  /* The noise buffer: one noise image per conv. */
  gsize largest = MAX (max_activation_floats (gen), (gsize) hd_noise_total_size (gen));

  if (r->conv_kernel != CONV_KERNEL_CPU)
    return;
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      gsize n_virtual = conv->up ? 4 * (gsize) conv->c_out : (gsize) conv->c_out;
      gsize blocks = (n_virtual + CPU_SG - 1) / CPU_SG;
      largest = MAX (largest, blocks * CPU_SG * padded_c_in (r, conv->c_in) * 9);
      if (conv->in_res % 4 != 0)
        largest = G_MAXSIZE;
    }
  if (largest > limit)
    {
      g_debug ("The CPU kernel cannot run this generator (texel buffers of %" G_GSIZE_FORMAT
               " elements, %" G_GSIZE_FORMAT " needed, or a resolution not a multiple of 4): "
               "using the tiled kernel", limit, largest);
      r->conv_kernel = CONV_KERNEL_TILED;
      r->conv_group = CONV_TILE_CO;
    }
}

/* The largest per-buffer sizes known before anything is uploaded, so a
 * generator too large for this device fails at once, with a clear
 * message, instead of after minutes of uploading. */
/* Which up convs run as tconv_cpu.comp (CPU kernel; not for 4x4 inputs,
 * where the small polyphase tiles waste less). */
static void
choose_up_paths (HdRenderer *r)
{
  HdGenerator *gen = r->gen;

  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];

      r->convs[c].tconv = r->conv_kernel == CONV_KERNEL_CPU && conv->up &&
                          conv->in_res > CPU_SMALL_TILE;
    }
}

static gboolean
check_sizes (HdRenderer  *r,
             GError     **error)
{
  HdGenerator *gen = r->gen;
  gsize act = max_activation_floats (gen) * sizeof (float);

  if (!check_buffer_range (r, "The largest layer’s activations", act, error))
    return FALSE;
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      gsize n_virtual = conv->up && !r->convs[c].tconv ? 4 * (gsize) conv->c_out :
                        (gsize) conv->c_out;
      gsize blocks = (n_virtual + r->conv_group - 1) / r->conv_group;
      gsize bytes = blocks * r->conv_group * padded_c_in (r, conv->c_in) * 9 * sizeof (float);
      g_autofree char *what = g_strdup_printf ("The weights of %s", conv->name);

      if (!check_buffer_range (r, what, bytes, error))
        return FALSE;
    }
  return TRUE;
}

/* Rows of a band of the last conv are a multiple of this (the tile
 * height of conv.comp and of conv_cpu.comp). */
#define BAND_ALIGN 8
_Static_assert (BAND_ALIGN % CONV_TILE_H == 0 && BAND_ALIGN % CPU_TILE_P == 0,
                "bands must be whole tiles");

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
  const HdGeneratorConfig *config = &gen->config;
  gsize width = MAX (config->z_dim, config->w_dim);
  gsize ws = (gsize) gen->num_ws * config->w_dim;
  gsize img[2] = { 1, 1 };
  gsize frame;

  for (int l = 0; l < config->mapping_layers; l++)
    width = MAX (width, (gsize) gen->mapping[l].out_features);

  r->frame_z = FRAME_HEADER;
  r->frame_w = r->frame_z + config->z_dim;
  r->frame_d = r->frame_w + ws;
  frame = r->frame_d + gen->domain_dim;

  r->latent_x[0] = 0;
  r->latent_x[1] = width;
  r->latent_ws = 2 * width;

  /* ToRGB of block b writes img[b % 2]. */
  for (int b = 0; b < gen->n_rgbs; b++)
    img[b % 2] = MAX (img[b % 2], (gsize) gen->rgbs[b].c_out *
                                  gen->rgbs[b].block_res * gen->rgbs[b].block_res);

  if (!(create_buffer (r, &r->frame_buf, MEM_FRAME, "The frame parameters", frame * sizeof (float),
                        HD_VK_MEMORY_UPLOAD, error) &&
         create_buffer (r, &r->latent_buf, MEM_FRAME, "The latents", (2 * width + ws) * sizeof (float),
                        HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->styles_buf, MEM_FRAME, "The styles", r->style_rows * sizeof (float),
                        HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->dcoef_buf, MEM_FRAME, "The demodulation coefficients",
                        r->dcoef_rows * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->scale_buf, MEM_FRAME, "The input scales",
                        MAX (gen->domain_dim, 1) * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->act[0], MEM_ACTIVATIONS, "The activations",
                        r->act_floats[0] * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->act[1], MEM_ACTIVATIONS, "The activations",
                        r->act_floats[1] * sizeof (float), HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->img[0], MEM_IMAGES, "The image", img[0] * sizeof (float),
                        HD_VK_MEMORY_DEVICE, error) &&
         create_buffer (r, &r->img[1], MEM_IMAGES, "The image", img[1] * sizeof (float),
                        HD_VK_MEMORY_DEVICE, error)))
    return FALSE;

  /* Where the images are in host-cached, coherent memory (unified memory,
   * CPU devices), the host reads them there; otherwise through a copy to
   * a readback buffer (HYPERDOMAIN_FORCE_STAGING=1 forces that too). */
  r->direct_readback = !r->force_staging;
  for (int i = 0; i < 2; i++)
    if (r->img[i].mapped == NULL || !(r->img[i].memory_flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT))
      r->direct_readback = FALSE;
  if (r->direct_readback)
    return TRUE;
  return create_buffer (r, &r->readback, MEM_READBACK, "The readback buffer",
                        MAX (img[0], img[1]) * sizeof (float), HD_VK_MEMORY_READBACK, error);
}

/* A view of a whole buffer as R32_SFLOAT (or R32G32B32A32_SFLOAT)
 * texels. */
static gboolean
create_texel_view (HdRenderer       *r,
                   const HdVkBuffer *buf,
                   gboolean          vec4,
                   VkBufferView     *view,
                   GError          **error)
{
  gsize texel = vec4 ? 4 * sizeof (float) : sizeof (float);
  VkBufferViewCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
    .buffer = buf->buffer,
    .format = vec4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT,
    .offset = 0,
    .range = MAX (buf->size, 16) / texel * texel,
  };

  return hd_vk_check (vkCreateBufferView (r->device, &info, NULL, view),
                      "Creating a buffer view", error);
}

/* Points the N_TEXEL_BINDINGS bindings of SET at VIEWS. */
static void
update_texel_set (HdRenderer         *r,
                  VkDescriptorSet     set,
                  const VkBufferView *views)
{
  VkWriteDescriptorSet writes[N_TEXEL_BINDINGS];

  for (guint b = 0; b < N_TEXEL_BINDINGS; b++)
    writes[b] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .dstBinding = b,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
      .pTexelBufferView = &views[b],
    };
  vkUpdateDescriptorSets (r->device, N_TEXEL_BINDINGS, writes, 0, NULL);
}

/* Set 1 of map_fc, styles and dcoef on the CPU kernels.  Left out (the
 * storage-buffer shaders run instead) when a buffer is larger than a
 * texel buffer may be on this device. */
static gboolean
create_map_texel_set (HdRenderer                        *r,
                      const VkDescriptorSetAllocateInfo *alloc,
                      GError                           **error)
{
  const HdVkBuffer *bufs[N_TEXEL_BINDINGS] = {
    &r->mapping_buf, &r->latent_buf, &r->affine_buf, &r->wsq_buf, &r->styles_buf,
  };
  gsize limit = hd_vk_context_get_limits (r->ctx)->maxTexelBufferElements;

  for (guint b = 0; b < N_TEXEL_BINDINGS; b++)
    if (bufs[b]->size / sizeof (float) > limit)
      {
        g_debug ("Mapping and styles read through storage buffers: a buffer of %" G_GSIZE_FORMAT
                 " floats exceeds the texel buffer limit of %" G_GSIZE_FORMAT,
                 (gsize) (bufs[b]->size / sizeof (float)), limit);
        return TRUE;
      }
  for (guint b = 0; b < N_TEXEL_BINDINGS; b++)
    if (!create_texel_view (r, bufs[b], FALSE, &r->map_views[b], error))
      return FALSE;
  if (!hd_vk_check (vkAllocateDescriptorSets (r->device, alloc, &r->map_texel_set),
                    "Allocating a descriptor set", error))
    return FALSE;
  update_texel_set (r, r->map_texel_set, r->map_views);
  return TRUE;
}

/* Set 1 of every conv on the CPU kernels: its input, weights, scales and
 * the noise images. */
static gboolean
create_texel_sets (HdRenderer  *r,
                   GError     **error)
{
  VkDescriptorSetAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = r->descriptor_pool,
    .descriptorSetCount = 1,
    .pSetLayouts = &r->texel_layout,
  };

  if (!create_texel_view (r, &r->act[0], FALSE, &r->act_views[0], error) ||
      !create_texel_view (r, &r->act[0], TRUE, &r->act4_views[0], error) ||
      !create_texel_view (r, &r->act[1], FALSE, &r->act_views[1], error) ||
      !create_texel_view (r, &r->act[1], TRUE, &r->act4_views[1], error) ||
      !create_texel_view (r, &r->const_buf, FALSE, &r->const_view, error) ||
      !create_texel_view (r, &r->const_buf, TRUE, &r->const4_view, error) ||
      !create_texel_view (r, &r->scale_buf, FALSE, &r->scale_view, error) ||
      !create_texel_view (r, &r->noise_buf, FALSE, &r->noise_view, error))
    return FALSE;
  for (int c = 0; c < r->gen->n_convs; c++)
    {
      ConvGpu *gpu = &r->convs[c];
      VkBufferView views[N_TEXEL_BINDINGS];

      if (!create_texel_view (r, &gpu->weights, FALSE, &gpu->weight_view, error) ||
          !hd_vk_check (vkAllocateDescriptorSets (r->device, &alloc, &gpu->texel_set),
                        "Allocating a descriptor set", error))
        return FALSE;
      views[0] = c == 0 ? r->const_view : r->act_views[(c - 1) % 2];
      views[1] = gpu->weight_view;
      views[2] = r->scale_view;
      views[3] = r->noise_view;
      views[4] = c == 0 ? r->const4_view : r->act4_views[(c - 1) % 2];
      update_texel_set (r, gpu->texel_set, views);
    }
  return create_map_texel_set (r, &alloc, error);
}

static gboolean
create_descriptor_sets (HdRenderer  *r,
                        GError     **error)
{
  HdGenerator *gen = r->gen;
  guint n_sets = 6 + 2 * gen->n_convs + gen->n_rgbs;
  VkDescriptorPoolSize sizes[2] = {
    {
      .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = n_sets * N_BINDINGS,
    },
    {
      .type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
      .descriptorCount = (gen->n_convs + 1) * N_TEXEL_BINDINGS,
    },
  };
  VkDescriptorPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
    .maxSets = n_sets + gen->n_convs + 1,
    .poolSizeCount = 2,
    .pPoolSizes = sizes,
  };

  if (!hd_vk_check (vkCreateDescriptorPool (r->device, &pool_info, NULL, &r->descriptor_pool),
                    "Creating a descriptor pool", error))
    return FALSE;

#define SET(dest, ...) \
  G_STMT_START { \
    const HdVkBuffer *bufs_[N_BINDINGS] = { __VA_ARGS__ }; \
    if ((dest = allocate_set (r, bufs_, error)) == VK_NULL_HANDLE) \
      return FALSE; \
  } G_STMT_END

  SET (r->norm_set, &r->frame_buf, &r->latent_buf);
  SET (r->fc_set, &r->mapping_buf, &r->latent_buf);
  SET (r->truncate_set, &r->frame_buf, &r->latent_buf, &r->mapping_buf);
  SET (r->styles_set, &r->affine_buf, &r->latent_buf, &r->styles_buf);
  SET (r->dcoef_set, &r->affine_buf, &r->wsq_buf, &r->styles_buf, &r->dcoef_buf);
  SET (r->scales_set, &r->frame_buf, &r->styles_buf, &r->scale_buf);

  /* Conv k reads the output of conv k - 1 (the constant for k = 0) and
   * writes act[k % 2]; ToRGB reads its block's last conv output. */
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdVkBuffer *in = c == 0 ? &r->const_buf : &r->act[(c - 1) % 2];
      const HdVkBuffer *out = &r->act[c % 2];
      SET (r->convs[c].set, in, out, &r->convs[c].weights, &r->scale_buf,
           &r->dcoef_buf, &r->misc_buf, &r->noise_buf);
    }
  if (r->conv_kernel == CONV_KERNEL_CPU && !create_texel_sets (r, error))
    return FALSE;
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      int last_conv = b == 0 ? 0 : 2 * b;
      SET (r->rgbs[b].set, &r->act[last_conv % 2], &r->img[(b + 1) % 2], &r->img[b % 2],
           &r->styles_buf, &r->misc_buf);
    }
#undef SET
  return TRUE;
}

/* Push constants and workgroup counts that do not change per frame. */
static void
setup_dispatches (HdRenderer *r)
{
  HdGenerator *gen = r->gen;
  const HdGeneratorConfig *config = &gen->config;

  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      ConvGpu *gpu = &r->convs[c];
      guint32 n_virtual = conv->up && !gpu->tconv ? 4 * conv->c_out : conv->c_out;

      gpu->push.c_in = conv->c_in;
      gpu->push.n_virtual = n_virtual;
      gpu->push.in_res = conv->in_res;
      gpu->push.has_clamp = config->has_conv_clamp;
      gpu->push.clamp_val = config->has_conv_clamp ? config->conv_clamp : 0.0f;
      gpu->push.out_row0 = 0;
      gpu->push.out_rows = conv->block_res;
      gpu->pipe = conv->up ? PIPE_CONV_UP : PIPE_CONV;
      if (r->conv_kernel == CONV_KERNEL_CPU && conv->in_res <= CPU_SMALL_TILE)
        {
          /* Most of an 8x8 tile would be padding. */
          gpu->pipe = conv->up ? PIPE_CONV_SMALL_UP : PIPE_CONV_SMALL;
          gpu->groups[0] = groups_for (conv->in_res, CPU_SMALL_TILE);
          gpu->groups[1] = groups_for (conv->in_res, CPU_SMALL_TILE);
          gpu->groups[2] = groups_for (groups_for (n_virtual, CPU_SG), CPU_NSG);
        }
      else if (gpu->tconv)
        {
          gpu->pipe = PIPE_TCONV;
          gpu->groups[0] = groups_for (conv->in_res, TCONV_TILE_Q);
          gpu->groups[1] = groups_for (conv->in_res, TCONV_TILE_P);
          gpu->groups[2] = groups_for (groups_for (n_virtual, CPU_SG), CPU_NSG);
        }
      else if (r->conv_kernel == CONV_KERNEL_CPU)
        {
          gpu->groups[0] = groups_for (conv->in_res, CPU_TILE_Q);
          gpu->groups[1] = groups_for (conv->in_res, CPU_TILE_P);
          gpu->groups[2] = groups_for (groups_for (n_virtual, CPU_SG), CPU_NSG);
        }
      else
        {
          gpu->groups[0] = groups_for (conv->in_res, CONV_TILE_W);
          gpu->groups[1] = groups_for (conv->in_res, CONV_TILE_H);
          gpu->groups[2] = groups_for (n_virtual, CONV_TILE_CO);
        }
    }
  for (int b = 0; b < gen->n_rgbs; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      RgbGpu *gpu = &r->rgbs[b];

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

static gboolean
create_sync_and_commands (HdRenderer  *r,
                          GError     **error)
{
  VkCommandPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .queueFamilyIndex = hd_vk_context_get_queue_family (r->ctx),
  };
  VkFenceCreateInfo fence_info = {
    .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
  };

  if (!hd_vk_check (vkCreateCommandPool (r->device, &pool_info, NULL, &r->command_pool),
                    "Creating a command pool", error))
    return FALSE;
  if (!hd_vk_check (vkCreateFence (r->device, &fence_info, NULL, &r->fence),
                    "Creating a fence", error))
    return FALSE;

  r->timestamp_period = hd_vk_context_get_timestamp_period (r->ctx);
  if (r->timestamp_period > 0.0)
    {
      VkQueryPoolCreateInfo query_info = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = VK_QUERY_TYPE_TIMESTAMP,
        .queryCount = N_TIMESTAMPS,
      };
      VkPhysicalDevice pd = hd_vk_context_get_physical_device (r->ctx);
      guint32 count = 0, bits;
      g_autofree VkQueueFamilyProperties *families = NULL;

      vkGetPhysicalDeviceQueueFamilyProperties (pd, &count, NULL);
      families = g_new0 (VkQueueFamilyProperties, MAX (count, 1));
      vkGetPhysicalDeviceQueueFamilyProperties (pd, &count, families);
      bits = families[hd_vk_context_get_queue_family (r->ctx)].timestampValidBits;
      r->timestamp_mask = bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
      if (!hd_vk_check (vkCreateQueryPool (r->device, &query_info, NULL, &r->query_pool),
                        "Creating a timestamp query pool", error))
        return FALSE;
    }

  r->n_commands = N_SPLIT_MODES * N_MAPPING_MODES * r->gen->n_blocks * N_NOISE_MODES;
  r->commands = g_new0 (FrameCommands, r->n_commands);
  r->profile_labels = g_new0 (GPtrArray *, r->n_commands);

  if (r->query_pool != VK_NULL_HANDLE && g_strcmp0 (g_getenv ("HYPERDOMAIN_PROFILE"), "1") == 0)
    {
      VkQueryPoolCreateInfo profile_info = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = VK_QUERY_TYPE_TIMESTAMP,
        .queryCount = MAX_PROFILED,
      };
      if (!hd_vk_check (vkCreateQueryPool (r->device, &profile_info, NULL, &r->profile_pool),
                        "Creating a timestamp query pool", error))
        return FALSE;
    }
  return TRUE;
}

HdRenderer *
hd_renderer_new (HdVkContext  *ctx,
                 HdGenerator  *gen,
                 GError      **error)
{
  HdRenderer *r;

  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (gen != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  r = g_new0 (HdRenderer, 1);
  r->ctx = hd_vk_context_ref (ctx);
  r->gen = hd_generator_ref (gen);
  r->device = hd_vk_context_get_device (ctx);
  r->convs = g_new0 (ConvGpu, gen->n_convs);
  r->rgbs = g_new0 (RgbGpu, gen->n_rgbs);
  r->cache_latent = g_new0 (float, MAX ((gsize) gen->config.z_dim,
                                        (gsize) gen->num_ws * gen->config.w_dim));

  r->min_piece_macs = MIN_PIECE_MACS;
  r->force_staging = g_strcmp0 (g_getenv ("HYPERDOMAIN_FORCE_STAGING"), "1") == 0;
  if (!choose_conv_kernel (r, error))
    goto fail;
  check_cpu_kernel_limits (r);
  choose_up_paths (r);
  if (!check_sizes (r, error) ||
      !create_sync_and_commands (r, error) ||
      !create_pipelines (r, error) ||
      !upload_mapping (r, error) ||
      !upload_styles (r, error) ||
      !upload_misc (r, error))
    goto fail;
  for (int c = 0; c < gen->n_convs; c++)
    if (!upload_conv_weights (r, c, error))
      goto fail;
  plan_activations (r);
  if (!create_runtime_buffers (r, error) ||
      !create_descriptor_sets (r, error))
    goto fail;
  setup_dispatches (r);
  r->stats.device_bytes = r->device_bytes;
  return r;

fail:
  hd_renderer_free (r);
  return NULL;
}

static void
frame_commands_clear (HdRenderer    *r,
                      FrameCommands *fc)
{
  if (fc->n_pieces > 0)
    vkFreeCommandBuffers (r->device, r->command_pool, fc->n_pieces, fc->pieces);
  g_clear_pointer (&fc->pieces, g_free);
  g_clear_pointer (&fc->done, g_free);
  fc->n_pieces = 0;
}

void
hd_renderer_free (HdRenderer *r)
{
  if (r == NULL)
    return;

  if (r->device != VK_NULL_HANDLE)
    vkDeviceWaitIdle (r->device);

  if (r->commands != NULL)
    for (guint i = 0; i < r->n_commands; i++)
      frame_commands_clear (r, &r->commands[i]);
  g_free (r->commands);
  if (r->command_pool != VK_NULL_HANDLE)
    vkDestroyCommandPool (r->device, r->command_pool, NULL);
  if (r->fence != VK_NULL_HANDLE)
    vkDestroyFence (r->device, r->fence, NULL);
  if (r->query_pool != VK_NULL_HANDLE)
    vkDestroyQueryPool (r->device, r->query_pool, NULL);
  if (r->profile_pool != VK_NULL_HANDLE)
    vkDestroyQueryPool (r->device, r->profile_pool, NULL);
  if (r->profile_labels != NULL)
    for (guint i = 0; i < r->n_commands; i++)
      g_clear_pointer (&r->profile_labels[i], g_ptr_array_unref);
  g_free (r->profile_labels);
  if (r->descriptor_pool != VK_NULL_HANDLE)
    vkDestroyDescriptorPool (r->device, r->descriptor_pool, NULL);
  for (guint p = 0; p < N_PIPES; p++)
    if (r->pipelines[p] != VK_NULL_HANDLE)
      vkDestroyPipeline (r->device, r->pipelines[p], NULL);
  if (r->pipeline_layout != VK_NULL_HANDLE)
    vkDestroyPipelineLayout (r->device, r->pipeline_layout, NULL);
  if (r->set_layout != VK_NULL_HANDLE)
    vkDestroyDescriptorSetLayout (r->device, r->set_layout, NULL);
  if (r->texel_layout != VK_NULL_HANDLE)
    vkDestroyDescriptorSetLayout (r->device, r->texel_layout, NULL);
  if (r->convs != NULL)
    for (int c = 0; c < r->gen->n_convs; c++)
      if (r->convs[c].weight_view != VK_NULL_HANDLE)
        vkDestroyBufferView (r->device, r->convs[c].weight_view, NULL);
  for (int i = 0; i < 2; i++)
    if (r->act_views[i] != VK_NULL_HANDLE)
      vkDestroyBufferView (r->device, r->act_views[i], NULL);
  if (r->const_view != VK_NULL_HANDLE)
    vkDestroyBufferView (r->device, r->const_view, NULL);
  for (int i = 0; i < 2; i++)
    if (r->act4_views[i] != VK_NULL_HANDLE)
      vkDestroyBufferView (r->device, r->act4_views[i], NULL);
  if (r->const4_view != VK_NULL_HANDLE)
    vkDestroyBufferView (r->device, r->const4_view, NULL);
  if (r->scale_view != VK_NULL_HANDLE)
    vkDestroyBufferView (r->device, r->scale_view, NULL);
  if (r->noise_view != VK_NULL_HANDLE)
    vkDestroyBufferView (r->device, r->noise_view, NULL);
  for (guint b = 0; b < N_TEXEL_BINDINGS; b++)
    if (r->map_views[b] != VK_NULL_HANDLE)
      vkDestroyBufferView (r->device, r->map_views[b], NULL);

  if (r->convs != NULL)
    for (int c = 0; c < r->gen->n_convs; c++)
      destroy_buffer (r, &r->convs[c].weights, MEM_CONV_WEIGHTS);
  destroy_buffer (r, &r->mapping_buf, MEM_MAPPING);
  destroy_buffer (r, &r->affine_buf, MEM_AFFINE);
  destroy_buffer (r, &r->wsq_buf, MEM_DEMOD_TABLES);
  destroy_buffer (r, &r->misc_buf, MEM_MISC);
  destroy_buffer (r, &r->const_buf, MEM_MISC);
  destroy_buffer (r, &r->noise_buf, MEM_NOISE);
  destroy_buffer (r, &r->frame_buf, MEM_FRAME);
  destroy_buffer (r, &r->latent_buf, MEM_FRAME);
  destroy_buffer (r, &r->styles_buf, MEM_FRAME);
  destroy_buffer (r, &r->dcoef_buf, MEM_FRAME);
  destroy_buffer (r, &r->scale_buf, MEM_FRAME);
  for (int i = 0; i < 2; i++)
    {
      destroy_buffer (r, &r->act[i], MEM_ACTIVATIONS);
      destroy_buffer (r, &r->img[i], MEM_IMAGES);
    }
  destroy_buffer (r, &r->readback, MEM_READBACK);

  g_free (r->convs);
  g_free (r->rgbs);
  g_free (r->map_weight_off);
  g_free (r->map_bias_off);
  g_free (r->cache_latent);
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
  return begin_command_buffer (rec->r, 0, "Recording commands",
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
static void
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
}

static void
cmd_compute_barrier (VkCommandBuffer cb)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
  };

  vkCmdPipelineBarrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                        1, &barrier, 0, NULL, 0, NULL);
}

static void
cmd_dispatch (HdRenderer      *r,
              VkCommandBuffer  cb,
              PipelineId       pipe,
              VkDescriptorSet  set,
              const void      *push,
              guint32          push_size,
              guint32          gx,
              guint32          gy,
              guint32          gz,
              const char      *label)
{
  vkCmdBindPipeline (cb, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipelines[pipe]);
  vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipeline_layout,
                           0, 1, &set, 0, NULL);
  vkCmdPushConstants (cb, r->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
  vkCmdDispatch (cb, gx, gy, gz);

  if (r->recording_labels != NULL && r->recording_labels->len + 1 < MAX_PROFILED)
    {
      g_ptr_array_add (r->recording_labels,
                       g_strdup_printf ("%-18s %-20s %ux%ux%u", r->pipeline_names[pipe],
                                        label, gx, gy, gz));
      vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, r->profile_pool,
                           r->recording_labels->len);
    }
}

static void
record_mapping (HdRenderer      *r,
                VkCommandBuffer  cb,
                MappingMode      mode)
{
  HdGenerator *gen = r->gen;
  const HdGeneratorConfig *config = &gen->config;
  TruncatePush truncate = {
    .w_dim = config->w_dim,
    .num_ws = gen->num_ws,
    .avg_off = r->w_avg_off,
    .ws_off = r->latent_ws,
  };
  StylesPush styles = {
    .rows = r->style_rows,
    .w_dim = config->w_dim,
    .weight_off = r->affine_weight_off,
    .bias_off = r->affine_bias_off,
    .windex_off = r->affine_windex_off,
    .ws_off = r->latent_ws,
  };
  DcoefPush dcoef = {
    .rows = r->dcoef_rows,
    .meta_off = r->affine_meta_off,
  };

  gboolean texel = r->map_texel_set != VK_NULL_HANDLE;

  if (texel)
    vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipeline_layout,
                             1, 1, &r->map_texel_set, 0, NULL);
  if (mode == MAPPING_Z)
    {
      MapNormPush norm = {
        .z_dim = config->z_dim,
        .z_off = r->frame_z,
        .out_off = r->latent_x[0],
      };
      int cur = 0;

      cmd_dispatch (r, cb, PIPE_MAP_NORM, r->norm_set, &norm, sizeof norm, 1, 1, 1, "mapping");
      cmd_compute_barrier (cb);
      for (int l = 0; l < config->mapping_layers; l++)
        {
          MapFcPush fc = {
            .in_features = gen->mapping[l].in_features,
            .out_features = gen->mapping[l].out_features,
            .weight_off = r->map_weight_off[l],
            .bias_off = r->map_bias_off[l],
            .in_off = r->latent_x[cur],
            .out_off = r->latent_x[1 - cur],
          };
          cmd_dispatch (r, cb, texel ? PIPE_MAP_FC_CPU : PIPE_MAP_FC, r->fc_set, &fc, sizeof fc,
                        groups_for (fc.out_features, 64), 1, 1, "mapping");
          cmd_compute_barrier (cb);
          cur = 1 - cur;
        }
      truncate.from_frame = 0;
      truncate.src_off = r->latent_x[cur];
      truncate.src_stride = 0;
    }
  else
    {
      truncate.from_frame = 1;
      truncate.src_off = r->frame_w;
      truncate.src_stride = config->w_dim;
    }
  cmd_dispatch (r, cb, PIPE_MAP_TRUNCATE, r->truncate_set, &truncate, sizeof truncate,
                groups_for ((gsize) gen->num_ws * config->w_dim, 64), 1, 1, "mapping");
  cmd_compute_barrier (cb);
  cmd_dispatch (r, cb, texel ? PIPE_STYLES_CPU : PIPE_STYLES, r->styles_set, &styles, sizeof styles,
                groups_for (r->style_rows, 64), 1, 1, "all layers");
  cmd_compute_barrier (cb);
  cmd_dispatch (r, cb, texel ? PIPE_DCOEF_CPU : PIPE_DCOEF, r->dcoef_set, &dcoef, sizeof dcoef,
                groups_for (r->dcoef_rows, 64), 1, 1, "all convs");
  cmd_compute_barrier (cb);
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

static void
record_synthesis (HdRenderer      *r,
                  Recorder        *rec,
                  int              stop_block,
                  HdNoiseMode      noise_mode)
{
  HdGenerator *gen = r->gen;
  VkCommandBuffer cb = rec->cb;
  ScalesPush scales = {
    .n = gen->domain_dim,
    .domain_off = r->frame_d,
  };
  int conv = 0;

  cmd_dispatch (r, cb, PIPE_SCALES, r->scales_set, &scales, sizeof scales,
                groups_for (gen->domain_dim, 64), 1, 1, "all convs");
  cmd_compute_barrier (cb);

  for (int b = 0; b <= stop_block; b++)
    {
      RgbGpu *rgb = &r->rgbs[b];
      int n_convs = b == 0 ? 1 : 2;
      /* The last conv of the generator runs in bands (plan_activations). */
      gboolean banded = r->band_rows > 0 && b == gen->n_blocks - 1;

      for (int j = 0; j < n_convs; j++, conv++)
        {
          ConvGpu *gpu = &r->convs[conv];
          ConvPush push = gpu->push;
          const char *label = gen->convs[conv].name + strlen ("synthesis.");

          push.noise_on = noise_mode != HD_NOISE_NONE;
          push.noise_off = gpu->noise_base;
          if (!banded || j < n_convs - 1)
            {
              recorder_unit (rec, conv_macs (&gen->convs[conv]));
              cb = rec->cb;
              if (gpu->texel_set != VK_NULL_HANDLE)
                vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipeline_layout,
                                         1, 1, &gpu->texel_set, 0, NULL);
              cmd_dispatch (r, cb, gpu->pipe, gpu->set,
                            &push, sizeof push, gpu->groups[0], gpu->groups[1], gpu->groups[2],
                            label);
              cmd_compute_barrier (cb);
              continue;
            }

          /* Band by band: the conv's rows row0 .. row0 + rows - 1 into
           * the start of its buffer, then the ToRGB of those rows. */
          for (guint32 row0 = 0; row0 < push.out_rows; row0 += r->band_rows)
            {
              guint32 rows = MIN ((guint32) r->band_rows, push.out_rows - row0);
              ConvPush band = push;
              TorgbPush rgb_band = rgb->push;

              g_assert (conv == gen->n_convs - 1);
              recorder_unit (rec, conv_macs (&gen->convs[conv]) * rows / push.out_rows);
              cb = rec->cb;
              if (gpu->texel_set != VK_NULL_HANDLE)
                vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, r->pipeline_layout,
                                         1, 1, &gpu->texel_set, 0, NULL);
              band.out_row0 = row0;
              band.out_rows = r->band_rows;
              cmd_dispatch (r, cb, gpu->pipe, gpu->set, &band, sizeof band, gpu->groups[0],
                            groups_for (rows, r->conv_kernel == CONV_KERNEL_CPU ? CPU_TILE_P :
                                                                                  CONV_TILE_H),
                            gpu->groups[2], label);
              cmd_compute_barrier (cb);
              rgb_band.row0 = row0;
              rgb_band.act_rows = r->band_rows;
              cmd_dispatch (r, cb, PIPE_TORGB, rgb->set, &rgb_band, sizeof rgb_band,
                            rgb->groups[0], rows, rgb->groups[2],
                            gen->rgbs[b].name + strlen ("synthesis."));
              /* The next band overwrites what this ToRGB reads. */
              cmd_compute_barrier (cb);
            }
        }
      if (banded)
        continue;
      /* No barrier after ToRGB: the next conv does not touch the images,
       * and the next ToRGB comes after that conv's barrier. */
      cmd_dispatch (r, cb, PIPE_TORGB, rgb->set, &rgb->push, sizeof rgb->push,
                    rgb->groups[0], rgb->groups[1], rgb->groups[2],
                    gen->rgbs[b].name + strlen ("synthesis."));
    }
}

static void
cmd_timestamp (HdRenderer          *r,
               VkCommandBuffer      cb,
               VkPipelineStageFlagBits stage,
               guint32              query)
{
  if (r->query_pool != VK_NULL_HANDLE)
    vkCmdWriteTimestamp (cb, stage, r->query_pool, query);
}

static FrameCommands *
get_commands (HdRenderer   *r,
              SplitMode     split,
              MappingMode   mode,
              int           stop_block,
              HdNoiseMode   noise_mode,
              GError      **error)
{
  guint index = (((guint) split * N_MAPPING_MODES + mode) * r->gen->n_blocks + stop_block) *
                N_NOISE_MODES + noise_mode;
  VkMemoryBarrier to_transfer = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
  };
  VkMemoryBarrier to_host = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };
  VkMemoryBarrier shader_to_host = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };
  const HdRgbLayer *last = &r->gen->rgbs[stop_block];
  VkBufferCopy region = {
    .size = (VkDeviceSize) last->c_out * last->block_res * last->block_res * sizeof (float),
  };
  FrameCommands *fc;
  Recorder rec = { .r = r, .split = split == SPLIT_PIECES };
  VkCommandBuffer cb;

  g_assert (index < r->n_commands);
  r->frame_variant = index;
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

  if (r->query_pool != VK_NULL_HANDLE)
    vkCmdResetQueryPool (cb, r->query_pool, 0, N_TIMESTAMPS);
  cmd_timestamp (r, cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0);
  if (r->profile_pool != VK_NULL_HANDLE)
    {
      g_clear_pointer (&r->profile_labels[index], g_ptr_array_unref);
      r->recording_labels = r->profile_labels[index] = g_ptr_array_new_with_free_func (g_free);
      vkCmdResetQueryPool (cb, r->profile_pool, 0, MAX_PROFILED);
      vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, r->profile_pool, 0);
    }
  if (mode != MAPPING_CACHED)
    record_mapping (r, cb, mode);
  cmd_timestamp (r, cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 1);
  record_synthesis (r, &rec, stop_block, noise_mode);
  cb = rec.cb;

  if (r->direct_readback)
    vkCmdPipelineBarrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &shader_to_host, 0, NULL, 0, NULL);
  else
    {
      vkCmdPipelineBarrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &to_transfer, 0, NULL, 0, NULL);
      vkCmdCopyBuffer (cb, r->img[r->rgbs[stop_block].img].buffer, r->readback.buffer, 1, &region);
      vkCmdPipelineBarrier (cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                            VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL, 0, NULL);
    }
  cmd_timestamp (r, cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 2);
  r->recording_labels = NULL;
  recorder_end_piece (&rec);

  fc->n_pieces = rec.pieces->len;
  fc->pieces = (VkCommandBuffer *) g_array_free (rec.pieces, FALSE);
  fc->done = (double *) g_array_free (rec.done, FALSE);
  if (rec.error != NULL)
    {
      frame_commands_clear (r, fc);
      g_clear_pointer (&r->profile_labels[index], g_ptr_array_unref);
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

  if (!r->cache_valid || r->cache_kind != params->latent_kind ||
      memcmp (&r->cache_psi, &params->psi, sizeof (float)) != 0 ||
      r->cache_cutoff != cutoff)
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
  float *frame = r->frame_buf.mapped;
  gint32 cutoff = params->cutoff < 0 ? -1 : params->cutoff;

  frame[FRAME_PSI] = params->psi;
  memcpy (&frame[FRAME_CUTOFF], &cutoff, sizeof cutoff);
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
  if (!upload (r, &r->noise_buf, 0, noise, (gsize) r->noise_total * sizeof (float), error))
    return FALSE;
  r->noise_content = NOISE_CONTENT_RANDOM;
  r->noise_seed = seed;
  return TRUE;
}

/* HYPERDOMAIN_PROFILE=1: the GPU time of every dispatch of the last frame. */
static void
print_profile (HdRenderer *r)
{
  GPtrArray *labels = r->profile_labels[r->frame_variant];
  guint64 ts[MAX_PROFILED];
  double to_ms = r->timestamp_period / 1e6;

  if (labels == NULL || labels->len == 0)
    return;
  if (vkGetQueryPoolResults (r->device, r->profile_pool, 0, labels->len + 1,
                             sizeof ts, ts, sizeof ts[0],
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
    return;
  for (guint i = 0; i < labels->len; i++)
    g_message ("profile: %s %9.3f ms", (const char *) g_ptr_array_index (labels, i),
               ((ts[i + 1] - ts[i]) & r->timestamp_mask) * to_ms);
  g_message ("profile: total %.3f ms", ((ts[labels->len] - ts[0]) & r->timestamp_mask) * to_ms);
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
  guint64 ts[N_TIMESTAMPS];
  double to_ms = r->timestamp_period / 1e6;
  VkResult result;

  r->stats.gpu_ms = r->stats.mapping_ms = r->stats.synthesis_ms = 0.0;
  if (r->query_pool == VK_NULL_HANDLE)
    return;
  result = vkGetQueryPoolResults (r->device, r->query_pool, 0, N_TIMESTAMPS, sizeof ts, ts,
                                  sizeof ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (result != VK_SUCCESS)
    return;
  r->stats.gpu_ms = ((ts[2] - ts[0]) & r->timestamp_mask) * to_ms;
  if (mode != MAPPING_CACHED)
    r->stats.mapping_ms = ((ts[1] - ts[0]) & r->timestamp_mask) * to_ms;
  r->stats.synthesis_ms = ((ts[2] - ts[1]) & r->timestamp_mask) * to_ms;
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
  FrameCommands *fc;
  int out_res, stop_block;

  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (params != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gen = r->gen;
  out_res = hd_render_params_output_res (params, gen, error);
  if (out_res < 0)
    return FALSE;
  stop_block = block_of_resolution (out_res);

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
    .device_bytes = r->device_bytes,
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
      if (!submit_and_wait (r, fc->pieces[p], error))
        return FALSE;
      if (p == 0 && mode != MAPPING_CACHED)
        remember_mapping (r, params);
      r->stats.pieces_done = p + 1;
      r->stats.done_fraction = fc->done[p];
    }
  if (!hd_vk_check (hd_vk_context_count_frame (r->ctx), "Rendering a frame", error))
    return FALSE;

  memcpy (out, r->direct_readback ? r->img[r->rgbs[stop_block].img].mapped : r->readback.mapped,
          sizeof (float) * gen->config.img_channels * out_res * out_res);

  read_timestamps (r, mode);
  if (r->profile_pool != VK_NULL_HANDLE)
    print_profile (r);
  r->stats.mapping_cached = mode == MAPPING_CACHED;
  r->stats.device_bytes = r->device_bytes;
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
  g_return_if_fail (r != NULL);

  macs = MAX (macs, 0.0);
  if (macs == r->min_piece_macs)
    return;
  r->min_piece_macs = macs;
  /* The split variants are cut anew when next used. */
  for (guint i = 0; i < r->n_commands / N_SPLIT_MODES; i++)
    {
      guint index = SPLIT_PIECES * (r->n_commands / N_SPLIT_MODES) + i;

      frame_commands_clear (r, &r->commands[index]);
      g_clear_pointer (&r->profile_labels[index], g_ptr_array_unref);
    }
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
  GString *report;

  g_return_val_if_fail (r != NULL, NULL);

  report = g_string_new (NULL);
  for (guint k = 0; k < N_MEMORY_KINDS; k++)
    if (r->kind_count[k] > 0)
      g_string_append_printf (report, "%-38s %9.1f MiB in %u buffer%s\n",
                              memory_kind_names[k], r->kind_bytes[k] / 1048576.0,
                              r->kind_count[k], r->kind_count[k] == 1 ? "" : "s");
  g_string_append_printf (report, "%-38s %9.1f MiB\n", "total", r->device_bytes / 1048576.0);
  return g_string_free (report, FALSE);
}
