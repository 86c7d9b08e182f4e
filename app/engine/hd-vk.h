/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

/* The Vulkan instance and one logical device with a compute queue. */

typedef struct {
  guint                index;       /* as --device INDEX takes it */
  char                *name;
  VkPhysicalDeviceType type;
  const char          *type_name;   /* "discrete GPU", "CPU", ... */
  guint32              api_version;
  char                *driver_info;
  guint64              device_local_bytes;
} HdVkDeviceInfo;

void        hd_vk_device_info_free      (HdVkDeviceInfo *info);
/* Every Vulkan device with a compute queue; an empty array when Vulkan
 * has none, NULL with ERROR when there is no Vulkan at all. */
GPtrArray  *hd_vk_list_devices          (GError       **error);

typedef struct _HdVkContext HdVkContext;

/* CHOICE: NULL or "auto" (discrete > integrated > virtual > CPU), "cpu"
 * (the first CPU device), or a device index.  Setting the environment
 * variable HYPERDOMAIN_VALIDATION=1 enables the Khronos validation layer;
 * every message it prints is counted and logged with g_critical. */
HdVkContext *hd_vk_context_new          (const char    *choice,
                                         GError       **error);
HdVkContext *hd_vk_context_ref          (HdVkContext   *ctx);
void         hd_vk_context_unref        (HdVkContext   *ctx);
const HdVkDeviceInfo *hd_vk_context_get_device_info (HdVkContext *ctx);
/* Messages the validation layer reported so far (0 when disabled). */
guint        hd_vk_context_get_validation_messages (HdVkContext *ctx);
gboolean     hd_vk_context_validation_enabled      (HdVkContext *ctx);

/* The part below is for the renderer inside the engine, not for the UI. */

/* Where a buffer lives.  DEVICE prefers device-local memory (weights,
 * activations); UPLOAD and READBACK need host-visible, coherent memory
 * (READBACK prefers host-cached memory, so reading results is fast). */
typedef enum {
  HD_VK_MEMORY_DEVICE,
  HD_VK_MEMORY_UPLOAD,
  HD_VK_MEMORY_READBACK,
} HdVkMemoryUse;

typedef struct {
  VkBuffer       buffer;
  VkDeviceMemory memory;
  VkDeviceSize   size;       /* as requested */
  VkDeviceSize   allocated;  /* device memory it holds */
  VkMemoryPropertyFlags memory_flags;  /* of the memory type it lives in */
  void          *mapped;     /* host address when host visible and coherent
                                (always for UPLOAD and READBACK; DEVICE
                                buffers too on unified-memory devices) */
} HdVkBuffer;

VkDevice          hd_vk_context_get_device          (HdVkContext *ctx);
VkPhysicalDevice  hd_vk_context_get_physical_device (HdVkContext *ctx);
VkQueue           hd_vk_context_get_queue           (HdVkContext *ctx);
guint32           hd_vk_context_get_queue_family    (HdVkContext *ctx);
const VkPhysicalDeviceLimits *hd_vk_context_get_limits (HdVkContext *ctx);
/* Nanoseconds per timestamp tick, or 0 when the compute queue cannot
 * write timestamps. */
double            hd_vk_context_get_timestamp_period (HdVkContext *ctx);

/* Whether compute pipelines can require full subgroups of exactly SIZE
 * invocations, N_SUBGROUPS of them per workgroup, with the basic and
 * ballot subgroup operations (VK_EXT_subgroup_size_control, enabled by
 * the context when present). */
gboolean          hd_vk_context_supports_subgroup_size (HdVkContext *ctx,
                                                        guint32      size,
                                                        guint32      n_subgroups);

/* TRUE when RESULT is VK_SUCCESS; otherwise sets ERROR (out of memory,
 * device lost or a generic device error naming the VkResult) with WHAT
 * saying what failed, and returns FALSE. */
gboolean          hd_vk_check              (VkResult      result,
                                            const char   *what,
                                            GError      **error);
const char       *hd_vk_result_to_string   (VkResult      result);

/* A storage buffer (also usable as a transfer source and destination). */
gboolean          hd_vk_buffer_init        (HdVkContext  *ctx,
                                            HdVkBuffer   *buf,
                                            VkDeviceSize  size,
                                            HdVkMemoryUse use,
                                            GError      **error);
/* Device memory CTX holds now through hd_vk_buffer_init, in bytes, and
 * (if N_ALLOCATIONS is not NULL) in how many allocations: what a leak of
 * device memory would show. */
guint64           hd_vk_context_get_allocated_bytes (HdVkContext *ctx,
                                                     guint64     *n_allocations);
/* The most device memory CTX held at once (as counted above) since it was
 * created or since the last reset, which sets it to what is held now. */
guint64           hd_vk_context_get_peak_allocated_bytes   (HdVkContext *ctx);
void              hd_vk_context_reset_peak_allocated_bytes (HdVkContext *ctx);
/* Releases BUF (a zeroed or already cleared buffer is fine). */
void              hd_vk_buffer_clear       (HdVkContext  *ctx,
                                            HdVkBuffer   *buf);

/* A shader module from the SPIR-V embedded as shaders/NAME.spv. */
VkShaderModule    hd_vk_create_shader_module (HdVkContext *ctx,
                                              const char  *name,
                                              GError     **error);

/* Fault injection, for tests of the error paths and of recovery.  The
 * environment variable HYPERDOMAIN_FAULT holds a comma-separated list,
 * read once per process when the first context is created:
 *
 *   oom-at-load[=N]      the Nth device-memory allocation of the process
 *                        (default: the first) fails with
 *                        VK_ERROR_OUT_OF_DEVICE_MEMORY, as loading a
 *                        generator too large for the device would;
 *   device-lost-after=N  after N frames have rendered, the device of the
 *                        next frame is lost: that frame and every later
 *                        submission to the same context fail with
 *                        VK_ERROR_DEVICE_LOST, as after a driver reset.
 *                        A new context works again.
 *
 * Each fault happens once per process.  An unknown item is ignored with a
 * warning.  Example: HYPERDOMAIN_FAULT=oom-at-load=3,device-lost-after=10 */

/* VK_ERROR_DEVICE_LOST when CTX was made lost by an injected fault, else
 * VK_SUCCESS.  The renderer checks it before every submission. */
VkResult          hd_vk_context_get_fault   (HdVkContext *ctx);
/* Counts one rendered frame on CTX; VK_ERROR_DEVICE_LOST when the device
 * is (now) lost, else VK_SUCCESS. */
VkResult          hd_vk_context_count_frame (HdVkContext *ctx);
/* How many faults were injected in this process so far. */
guint             hd_vk_get_faults_injected (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdVkContext, hd_vk_context_unref)

G_END_DECLS
