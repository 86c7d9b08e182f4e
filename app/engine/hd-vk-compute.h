/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <vulkan/vulkan.h>

#include "hd-vk.h"

G_BEGIN_DECLS

/* The compute layer: everything Vulkan that is not one model's maths.
 *
 * An HdCompute owns every handle it hands out: buffers, texel views,
 * kernels (compute pipelines), descriptor sets and their pools, the
 * command pool, the fence and the timestamp queries.  A stage (mapping,
 * styles, a conv family, ToRGB) asks it for kernels and buffers and
 * records dispatches; it never calls vkCreate* itself, and it frees
 * nothing: hd_compute_free releases all of it, so a handle cannot be
 * forgotten on any path, a failed half-construction included.
 *
 * Every kernel shares one pipeline layout: set 0 holds
 * HD_COMPUTE_BINDINGS storage buffers, set 1 HD_COMPUTE_TEXEL_BINDINGS
 * uniform texel buffers (bound only by the kernels that read through
 * them), and HD_PUSH_BYTES of push constants (see shaders/hd-push.h). */

#define HD_COMPUTE_BINDINGS       8
#define HD_COMPUTE_TEXEL_BINDINGS 5

typedef struct _HdCompute HdCompute;
typedef struct _HdKernel  HdKernel;

typedef struct {
  gboolean profile;        /* a timestamp after every dispatch, logged per frame */
  gboolean force_staging;  /* upload through staging buffers even where
                              device memory is mappable, in small pieces,
                              and read results back through a copy */
} HdComputeOptions;

/* One compute kernel: a shader embedded as shaders/SHADER.spv with the
 * values of its specialization constants (constant_id 0, 1, ... in
 * order: tile sizes, workgroup size, layer shapes).  Kernels are cached
 * by shader, constants and subgroup size, so asking twice gives the
 * same pipeline. */
#define HD_KERNEL_MAX_CONSTANTS 8

typedef struct {
  const char *shader;
  guint       n_constants;
  guint32     constants[HD_KERNEL_MAX_CONSTANTS];
  guint32     subgroup_size;   /* 0: any; else full subgroups of exactly this */
} HdKernelInfo;

HdCompute   *hd_compute_new            (HdVkContext             *ctx,
                                        const HdComputeOptions  *options,
                                        GError                 **error);
/* Waits for the device, then releases everything CTX handed out. */
void         hd_compute_free           (HdCompute               *c);
HdVkContext *hd_compute_get_context    (HdCompute               *c);

/* Kernels. */
HdKernel    *hd_compute_kernel         (HdCompute               *c,
                                        const HdKernelInfo      *info,
                                        GError                 **error);

/* Buffers.  KIND groups buffers in the memory report (a static string,
 * e.g. "activations"); WHAT names this one in error messages.  A buffer
 * larger than the device's largest storage buffer fails with a message
 * that says so. */
HdVkBuffer  *hd_compute_buffer         (HdCompute               *c,
                                        const char              *kind,
                                        const char              *what,
                                        gsize                    bytes,
                                        HdVkMemoryUse            use,
                                        GError                 **error);
/* A device buffer holding N_FLOATS of DATA. */
HdVkBuffer  *hd_compute_buffer_upload  (HdCompute               *c,
                                        const char              *kind,
                                        const char              *what,
                                        const float             *data,
                                        gsize                    n_floats,
                                        GError                 **error);
/* A device buffer holding BYTES of DATA that is only read through texel
 * views (hd_compute_texel_view): not limited to the largest storage
 * buffer, only to the texels a view may have (the caller checks). */
HdVkBuffer  *hd_compute_texel_buffer_upload (HdCompute          *c,
                                             const char         *kind,
                                             const char         *what,
                                             const void         *data,
                                             gsize               bytes,
                                             GError            **error);
/* FALSE with ERROR when BYTES would not fit one storage buffer. */
gboolean     hd_compute_check_buffer_size (HdCompute            *c,
                                           const char           *what,
                                           gsize                 bytes,
                                           GError              **error);
/* Copies BYTES of DATA to DST at OFFSET: directly where DST is mapped,
 * else through a staging buffer, piece by piece. */
gboolean     hd_compute_upload         (HdCompute               *c,
                                        HdVkBuffer              *dst,
                                        gsize                    offset,
                                        const void              *data,
                                        gsize                    bytes,
                                        GError                 **error);
/* A view of the whole of BUF as texels of FORMAT (R32_SFLOAT,
 * R32G32B32A32_SFLOAT, R16_SFLOAT or R16G16B16A16_SFLOAT). */
VkBufferView hd_compute_texel_view     (HdCompute               *c,
                                        const HdVkBuffer        *buf,
                                        VkFormat                 format,
                                        GError                 **error);
/* The most elements a texel buffer may have on this device. */
gsize        hd_compute_max_texels     (HdCompute               *c);

/* Descriptor sets; pools grow as sets are asked for.  A NULL entry of
 * BUFFERS gets FILLER (a valid buffer the shader does not read). */
VkDescriptorSet hd_compute_storage_set (HdCompute               *c,
                                        const HdVkBuffer *const  buffers[HD_COMPUTE_BINDINGS],
                                        const HdVkBuffer        *filler,
                                        GError                 **error);
VkDescriptorSet hd_compute_texel_set   (HdCompute               *c,
                                        const VkBufferView       views[HD_COMPUTE_TEXEL_BINDINGS],
                                        GError                 **error);

/* Command buffers of the layer's pool.  hd_compute_begin returns one in
 * the recording state, or VK_NULL_HANDLE with ERROR set (WHAT says what
 * it was for). */
VkCommandBuffer hd_compute_begin       (HdCompute               *c,
                                        VkCommandBufferUsageFlags flags,
                                        const char              *what,
                                        GError                 **error);
void         hd_compute_free_commands  (HdCompute               *c,
                                        guint                    n,
                                        const VkCommandBuffer   *cbs);
/* Submits CB and waits for it. */
gboolean     hd_compute_submit         (HdCompute               *c,
                                        VkCommandBuffer          cb,
                                        GError                 **error);

/* Recording. */
void         hd_compute_dispatch       (HdCompute               *c,
                                        VkCommandBuffer          cb,
                                        HdKernel                *kernel,
                                        VkDescriptorSet          set,
                                        const void              *push,
                                        guint32                  push_size,
                                        guint32                  gx,
                                        guint32                  gy,
                                        guint32                  gz,
                                        const char              *label);
void         hd_compute_bind_texel_set (HdCompute               *c,
                                        VkCommandBuffer          cb,
                                        VkDescriptorSet          set);
/* Orders the shader writes before it before the shader reads and writes
 * after it. */
void         hd_compute_barrier        (VkCommandBuffer          cb);
/* After a frame's last dispatch: makes BYTES of SRC readable by the host,
 * in DST through a copy, or in SRC itself when DST is NULL (SRC is
 * host-visible). */
void         hd_compute_record_readback (VkCommandBuffer         cb,
                                         const HdVkBuffer       *src,
                                         const HdVkBuffer       *dst,
                                         VkDeviceSize            bytes);

/* Frame timestamps: HD_COMPUTE_TIMESTAMPS marks per submission chain,
 * written with hd_compute_timestamp (nothing without timestamp support)
 * and read, as milliseconds since mark 0, with hd_compute_read_marks. */
#define HD_COMPUTE_TIMESTAMPS 3
void         hd_compute_reset_marks    (HdCompute               *c,
                                        VkCommandBuffer          cb);
void         hd_compute_timestamp      (HdCompute               *c,
                                        VkCommandBuffer          cb,
                                        VkPipelineStageFlagBits  stage,
                                        guint                    mark);
/* FALSE when the device has no timestamps (MS untouched). */
gboolean     hd_compute_read_marks     (HdCompute               *c,
                                        double                   ms[HD_COMPUTE_TIMESTAMPS]);

/* The profile (options->profile): the labels of the dispatches recorded
 * between hd_compute_profile_begin and _end go to LABELS (which the
 * caller keeps with the recorded commands); hd_compute_profile_print logs
 * the GPU time of each after those commands ran. */
gboolean     hd_compute_profiling      (HdCompute               *c);
void         hd_compute_profile_begin  (HdCompute               *c,
                                        VkCommandBuffer          cb,
                                        GPtrArray               *labels);
void         hd_compute_profile_end    (HdCompute               *c);
void         hd_compute_profile_print  (HdCompute               *c,
                                        GPtrArray               *labels);

/* Device memory held by the layer's buffers, and a report of it: one line
 * per kind, in the order kinds first appeared, and a total. */
guint64      hd_compute_get_device_bytes (HdCompute             *c);
char        *hd_compute_get_memory_report (HdCompute            *c);

static inline guint32
hd_compute_groups (gsize   n,
                   guint32 local)
{
  return (guint32) ((n + local - 1) / local);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdCompute, hd_compute_free)

G_END_DECLS
