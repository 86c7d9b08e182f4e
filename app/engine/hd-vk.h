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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdVkContext, hd_vk_context_unref)

G_END_DECLS
