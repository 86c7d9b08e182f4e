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
/* Releases BUF (a zeroed or already cleared buffer is fine). */
void              hd_vk_buffer_clear       (HdVkContext  *ctx,
                                            HdVkBuffer   *buf);

/* A shader module from the SPIR-V embedded as shaders/NAME.spv. */
VkShaderModule    hd_vk_create_shader_module (HdVkContext *ctx,
                                              const char  *name,
                                              GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdVkContext, hd_vk_context_unref)

G_END_DECLS
