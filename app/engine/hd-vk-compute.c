/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The compute layer; see hd-vk-compute.h.  Everything it creates is
 * recorded as it is created, and hd_compute_free destroys what is
 * recorded, so teardown has no list of its own to keep in step. */
#include "hd-vk-compute.h"

#include <string.h>

#include "hd-error.h"
#include "../../shaders/hd-push.h"

/* Staging buffers hold at most this much, so an upload adds little to
 * the peak of device memory (4 MiB; 64 KiB with force_staging, so that
 * tests see several pieces). */
#define UPLOAD_CHUNK        (4u << 20)
#define UPLOAD_CHUNK_FORCED (64u << 10)

/* Sets per descriptor pool; a full pool is followed by a new one. */
#define SETS_PER_POOL 32

#define MAX_PROFILED 256    /* dispatches timed per frame */

struct _HdKernel {
  HdKernelInfo info;
  char        *name;
  VkPipeline   pipeline;
};

typedef struct {
  const char *kind;
  guint64     bytes;
  guint       count;
} MemoryKind;

typedef struct {
  VkDescriptorPool pool;
  guint            storage_sets_left;
  guint            texel_sets_left;
} Pool;

struct _HdCompute {
  HdVkContext          *ctx;
  VkDevice              device;
  HdComputeOptions      options;

  VkDescriptorSetLayout set_layout;        /* set 0: storage buffers */
  VkDescriptorSetLayout texel_layout;      /* set 1: texel buffers */
  VkPipelineLayout      pipeline_layout;
  VkCommandPool         command_pool;
  VkFence               fence;

  GPtrArray            *kernels;           /* HdKernel */
  GPtrArray            *buffers;           /* HdVkBuffer */
  GArray               *views;             /* VkBufferView */
  GArray               *pools;             /* Pool */
  GArray               *memory_kinds;      /* MemoryKind */
  guint64               device_bytes;

  VkQueryPool           query_pool;        /* or VK_NULL_HANDLE */
  double                timestamp_period;  /* ns per tick */
  guint64               timestamp_mask;

  VkQueryPool           profile_pool;      /* options.profile */
  GPtrArray            *recording_labels;  /* while recording */
};

/* ------------------------------------------------------------------------ */
/* Construction and teardown                                                */

static gboolean
create_layouts (HdCompute  *c,
                GError    **error)
{
  VkDescriptorSetLayoutBinding bindings[HD_COMPUTE_BINDINGS];
  VkDescriptorSetLayoutBinding texel_bindings[HD_COMPUTE_TEXEL_BINDINGS];
  VkDescriptorSetLayoutCreateInfo set_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = HD_COMPUTE_BINDINGS,
    .pBindings = bindings,
  };
  VkDescriptorSetLayoutCreateInfo texel_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = HD_COMPUTE_TEXEL_BINDINGS,
    .pBindings = texel_bindings,
  };
  VkPushConstantRange push = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .offset = 0,
    .size = HD_PUSH_BYTES,
  };
  VkDescriptorSetLayout set_layouts[2];
  VkPipelineLayoutCreateInfo layout_info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 2,
    .pSetLayouts = set_layouts,
    .pushConstantRangeCount = 1,
    .pPushConstantRanges = &push,
  };

  /* One layout for every kernel keeps descriptor handling uniform;
   * shaders declare only the bindings they use. */
  for (guint b = 0; b < HD_COMPUTE_BINDINGS; b++)
    bindings[b] = (VkDescriptorSetLayoutBinding) {
      .binding = b,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  for (guint b = 0; b < HD_COMPUTE_TEXEL_BINDINGS; b++)
    texel_bindings[b] = (VkDescriptorSetLayoutBinding) {
      .binding = b,
      .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  if (!hd_vk_check (vkCreateDescriptorSetLayout (c->device, &set_info, NULL, &c->set_layout),
                    "Creating a descriptor set layout", error) ||
      !hd_vk_check (vkCreateDescriptorSetLayout (c->device, &texel_info, NULL, &c->texel_layout),
                    "Creating a descriptor set layout", error))
    return FALSE;
  set_layouts[0] = c->set_layout;
  set_layouts[1] = c->texel_layout;
  return hd_vk_check (vkCreatePipelineLayout (c->device, &layout_info, NULL, &c->pipeline_layout),
                      "Creating a pipeline layout", error);
}

static gboolean
create_query_pool (HdCompute    *c,
                   guint         count,
                   VkQueryPool  *pool,
                   GError      **error)
{
  VkQueryPoolCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
    .queryType = VK_QUERY_TYPE_TIMESTAMP,
    .queryCount = count,
  };

  return hd_vk_check (vkCreateQueryPool (c->device, &info, NULL, pool),
                      "Creating a timestamp query pool", error);
}

static gboolean
create_sync_and_queries (HdCompute  *c,
                         GError    **error)
{
  VkCommandPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .queueFamilyIndex = hd_vk_context_get_queue_family (c->ctx),
  };
  VkFenceCreateInfo fence_info = {
    .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
  };
  VkPhysicalDevice pd = hd_vk_context_get_physical_device (c->ctx);
  guint32 count = 0, bits;
  g_autofree VkQueueFamilyProperties *families = NULL;

  if (!hd_vk_check (vkCreateCommandPool (c->device, &pool_info, NULL, &c->command_pool),
                    "Creating a command pool", error) ||
      !hd_vk_check (vkCreateFence (c->device, &fence_info, NULL, &c->fence),
                    "Creating a fence", error))
    return FALSE;

  c->timestamp_period = hd_vk_context_get_timestamp_period (c->ctx);
  if (c->timestamp_period <= 0.0)
    return TRUE;
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &count, NULL);
  families = g_new0 (VkQueueFamilyProperties, MAX (count, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &count, families);
  bits = families[hd_vk_context_get_queue_family (c->ctx)].timestampValidBits;
  c->timestamp_mask = bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
  if (!create_query_pool (c, HD_COMPUTE_TIMESTAMPS, &c->query_pool, error))
    return FALSE;
  if (c->options.profile && !create_query_pool (c, MAX_PROFILED, &c->profile_pool, error))
    return FALSE;
  return TRUE;
}

HdCompute *
hd_compute_new (HdVkContext             *ctx,
                const HdComputeOptions  *options,
                GError                 **error)
{
  HdCompute *c;

  g_return_val_if_fail (ctx != NULL, NULL);

  c = g_new0 (HdCompute, 1);
  c->ctx = hd_vk_context_ref (ctx);
  c->device = hd_vk_context_get_device (ctx);
  if (options != NULL)
    c->options = *options;
  c->kernels = g_ptr_array_new ();
  c->buffers = g_ptr_array_new ();
  c->views = g_array_new (FALSE, FALSE, sizeof (VkBufferView));
  c->pools = g_array_new (FALSE, FALSE, sizeof (Pool));
  c->memory_kinds = g_array_new (FALSE, FALSE, sizeof (MemoryKind));
  if (!create_layouts (c, error) || !create_sync_and_queries (c, error))
    {
      hd_compute_free (c);
      return NULL;
    }
  return c;
}

void
hd_compute_free (HdCompute *c)
{
  if (c == NULL)
    return;

  vkDeviceWaitIdle (c->device);
  for (guint i = 0; i < c->kernels->len; i++)
    {
      HdKernel *kernel = g_ptr_array_index (c->kernels, i);

      vkDestroyPipeline (c->device, kernel->pipeline, NULL);
      g_free (kernel->name);
      g_free (kernel);
    }
  for (guint i = 0; i < c->pools->len; i++)
    vkDestroyDescriptorPool (c->device, g_array_index (c->pools, Pool, i).pool, NULL);
  for (guint i = 0; i < c->views->len; i++)
    vkDestroyBufferView (c->device, g_array_index (c->views, VkBufferView, i), NULL);
  for (guint i = 0; i < c->buffers->len; i++)
    {
      HdVkBuffer *buf = g_ptr_array_index (c->buffers, i);

      hd_vk_buffer_clear (c->ctx, buf);
      g_free (buf);
    }
  /* Destroying a null handle is a no-op. */
  vkDestroyCommandPool (c->device, c->command_pool, NULL);
  vkDestroyFence (c->device, c->fence, NULL);
  vkDestroyQueryPool (c->device, c->query_pool, NULL);
  vkDestroyQueryPool (c->device, c->profile_pool, NULL);
  vkDestroyPipelineLayout (c->device, c->pipeline_layout, NULL);
  vkDestroyDescriptorSetLayout (c->device, c->set_layout, NULL);
  vkDestroyDescriptorSetLayout (c->device, c->texel_layout, NULL);
  g_ptr_array_unref (c->kernels);
  g_ptr_array_unref (c->buffers);
  g_array_unref (c->views);
  g_array_unref (c->pools);
  g_array_unref (c->memory_kinds);
  hd_vk_context_unref (c->ctx);
  g_free (c);
}

HdVkContext *
hd_compute_get_context (HdCompute *c)
{
  return c->ctx;
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                  */

static gboolean
kernel_info_equal (const HdKernelInfo *a,
                   const HdKernelInfo *b)
{
  return g_strcmp0 (a->shader, b->shader) == 0 &&
         a->n_constants == b->n_constants &&
         a->subgroup_size == b->subgroup_size &&
         memcmp (a->constants, b->constants, a->n_constants * sizeof (guint32)) == 0;
}

static char *
kernel_name (const HdKernelInfo *info)
{
  GString *name = g_string_new (info->shader);

  for (guint i = 0; i < info->n_constants; i++)
    g_string_append_printf (name, "%c%u", i == 0 ? '<' : ',', info->constants[i]);
  if (info->n_constants > 0)
    g_string_append_c (name, '>');
  return g_string_free (name, FALSE);
}

HdKernel *
hd_compute_kernel (HdCompute           *c,
                   const HdKernelInfo  *info,
                   GError             **error)
{
  VkSpecializationMapEntry entries[HD_KERNEL_MAX_CONSTANTS];
  VkSpecializationInfo spec = {
    .mapEntryCount = info->n_constants,
    .pMapEntries = entries,
    .dataSize = info->n_constants * sizeof (guint32),
    .pData = info->constants,
  };
  VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT subgroup_size = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT,
    .requiredSubgroupSize = info->subgroup_size,
  };
  VkComputePipelineCreateInfo pipeline_info = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .pName = "main",
      .pSpecializationInfo = info->n_constants > 0 ? &spec : NULL,
    },
    .layout = c->pipeline_layout,
  };
  HdKernel *kernel;
  VkResult result;

  g_return_val_if_fail (info->n_constants <= HD_KERNEL_MAX_CONSTANTS, NULL);

  for (guint i = 0; i < c->kernels->len; i++)
    {
      kernel = g_ptr_array_index (c->kernels, i);
      if (kernel_info_equal (&kernel->info, info))
        return kernel;
    }

  for (guint i = 0; i < info->n_constants; i++)
    entries[i] = (VkSpecializationMapEntry) {
      .constantID = i,
      .offset = i * sizeof (guint32),
      .size = sizeof (guint32),
    };
  if (info->subgroup_size > 0)
    {
      /* The shader maps work to gl_SubgroupInvocationID and moves values
       * between lanes: it needs full subgroups of exactly that size. */
      pipeline_info.stage.pNext = &subgroup_size;
      pipeline_info.stage.flags = VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT_EXT;
    }
  pipeline_info.stage.module = hd_vk_create_shader_module (c->ctx, info->shader, error);
  if (pipeline_info.stage.module == VK_NULL_HANDLE)
    return NULL;

  kernel = g_new0 (HdKernel, 1);
  kernel->info = *info;
  kernel->name = kernel_name (info);
  result = vkCreateComputePipelines (c->device, VK_NULL_HANDLE, 1, &pipeline_info, NULL,
                                     &kernel->pipeline);
  vkDestroyShaderModule (c->device, pipeline_info.stage.module, NULL);
  if (!hd_vk_check (result, "Creating a compute pipeline", error))
    {
      g_prefix_error (error, "%s: ", kernel->name);
      g_free (kernel->name);
      g_free (kernel);
      return NULL;
    }
  /* The shader name is borrowed from the caller. */
  kernel->info.shader = g_intern_string (info->shader);
  g_ptr_array_add (c->kernels, kernel);
  return kernel;
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */

gboolean
hd_compute_check_buffer_size (HdCompute   *c,
                              const char  *what,
                              gsize        bytes,
                              GError     **error)
{
  guint32 limit = hd_vk_context_get_limits (c->ctx)->maxStorageBufferRange;

  if (bytes <= limit)
    return TRUE;
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               "%s needs a buffer of %.1f MiB, more than this Vulkan device "
               "allows in one storage buffer (%.1f MiB)",
               what, bytes / 1048576.0, limit / 1048576.0);
  return FALSE;
}

static void
account (HdCompute  *c,
         const char *kind,
         guint64     bytes)
{
  MemoryKind *entry = NULL;

  for (guint i = 0; i < c->memory_kinds->len && entry == NULL; i++)
    if (g_strcmp0 (g_array_index (c->memory_kinds, MemoryKind, i).kind, kind) == 0)
      entry = &g_array_index (c->memory_kinds, MemoryKind, i);
  if (entry == NULL)
    {
      MemoryKind new_kind = { .kind = kind };

      g_array_append_val (c->memory_kinds, new_kind);
      entry = &g_array_index (c->memory_kinds, MemoryKind, c->memory_kinds->len - 1);
    }
  entry->bytes += bytes;
  entry->count++;
  c->device_bytes += bytes;
}

static HdVkBuffer *
new_buffer (HdCompute      *c,
            const char     *kind,
            const char     *what,
            gsize           bytes,
            HdVkMemoryUse   use,
            GError        **error)
{
  HdVkBuffer *buf = g_new0 (HdVkBuffer, 1);

  if (!hd_vk_buffer_init (c->ctx, buf, bytes, use, error))
    {
      g_prefix_error (error, "%s: ", what);
      g_free (buf);
      return NULL;
    }
  g_ptr_array_add (c->buffers, buf);
  account (c, kind, buf->allocated);
  return buf;
}

HdVkBuffer *
hd_compute_buffer (HdCompute      *c,
                   const char     *kind,
                   const char     *what,
                   gsize           bytes,
                   HdVkMemoryUse   use,
                   GError        **error)
{
  if (!hd_compute_check_buffer_size (c, what, bytes, error))
    return NULL;
  return new_buffer (c, kind, what, bytes, use, error);
}

HdVkBuffer *
hd_compute_texel_buffer_upload (HdCompute    *c,
                                const char   *kind,
                                const char   *what,
                                const void   *data,
                                gsize         bytes,
                                GError      **error)
{
  HdVkBuffer *buf = new_buffer (c, kind, what, bytes, HD_VK_MEMORY_DEVICE, error);

  if (buf == NULL || !hd_compute_upload (c, buf, 0, data, bytes, error))
    return NULL;
  return buf;
}

HdVkBuffer *
hd_compute_buffer_upload (HdCompute    *c,
                          const char   *kind,
                          const char   *what,
                          const float  *data,
                          gsize         n_floats,
                          GError      **error)
{
  HdVkBuffer *buf = hd_compute_buffer (c, kind, what, n_floats * sizeof (float),
                                       HD_VK_MEMORY_DEVICE, error);

  if (buf == NULL || !hd_compute_upload (c, buf, 0, data, n_floats * sizeof (float), error))
    return NULL;
  return buf;
}

gboolean
hd_compute_upload (HdCompute   *c,
                   HdVkBuffer  *dst,
                   gsize        offset,
                   const void  *data,
                   gsize        bytes,
                   GError     **error)
{
  HdVkBuffer staging;
  gsize chunk = MIN (bytes, c->options.force_staging ? UPLOAD_CHUNK_FORCED : UPLOAD_CHUNK);
  gboolean ok = TRUE;

  if (bytes == 0)
    return TRUE;
  if (dst->mapped != NULL && !c->options.force_staging)
    {
      memcpy ((char *) dst->mapped + offset, data, bytes);
      return TRUE;
    }

  if (!hd_vk_buffer_init (c->ctx, &staging, chunk, HD_VK_MEMORY_UPLOAD, error))
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
      cb = hd_compute_begin (c, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT, "Recording an upload", error);
      ok = cb != VK_NULL_HANDLE;
      if (ok)
        {
          vkCmdCopyBuffer (cb, staging.buffer, dst->buffer, 1, &region);
          ok = hd_vk_check (vkEndCommandBuffer (cb), "Recording an upload", error);
        }
      if (ok)
        ok = hd_compute_submit (c, cb, error);
      if (cb != VK_NULL_HANDLE)
        hd_compute_free_commands (c, 1, &cb);
    }
  hd_vk_buffer_clear (c->ctx, &staging);
  return ok;
}

VkBufferView
hd_compute_texel_view (HdCompute         *c,
                       const HdVkBuffer  *buf,
                       VkFormat           format,
                       GError           **error)
{
  gsize texel = format == VK_FORMAT_R32G32B32A32_SFLOAT ? 16 :
                format == VK_FORMAT_R16G16B16A16_SFLOAT ? 8 :
                format == VK_FORMAT_R16_SFLOAT ? 2 : 4;
  VkBufferViewCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
    .buffer = buf->buffer,
    .format = format,
    .offset = 0,
    .range = MAX (buf->size, 16) / texel * texel,
  };
  VkBufferView view = VK_NULL_HANDLE;

  if (!hd_vk_check (vkCreateBufferView (c->device, &info, NULL, &view),
                    "Creating a buffer view", error))
    return VK_NULL_HANDLE;
  g_array_append_val (c->views, view);
  return view;
}

gsize
hd_compute_max_texels (HdCompute *c)
{
  return hd_vk_context_get_limits (c->ctx)->maxTexelBufferElements;
}

/* ------------------------------------------------------------------------ */
/* Descriptor sets                                                          */

/* A pool with room for a set of LAYOUT: the newest one, or a new one.
 * Each pool holds SETS_PER_POOL sets of either layout. */
static Pool *
pool_with_room (HdCompute  *c,
                gboolean    texel,
                GError    **error)
{
  VkDescriptorPoolSize sizes[2] = {
    { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * HD_COMPUTE_BINDINGS },
    { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, SETS_PER_POOL * HD_COMPUTE_TEXEL_BINDINGS },
  };
  VkDescriptorPoolCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
    .maxSets = 2 * SETS_PER_POOL,
    .poolSizeCount = 2,
    .pPoolSizes = sizes,
  };
  Pool pool = {
    .storage_sets_left = SETS_PER_POOL,
    .texel_sets_left = SETS_PER_POOL,
  };

  if (c->pools->len > 0)
    {
      Pool *last = &g_array_index (c->pools, Pool, c->pools->len - 1);

      if ((texel ? last->texel_sets_left : last->storage_sets_left) > 0)
        return last;
    }
  if (!hd_vk_check (vkCreateDescriptorPool (c->device, &info, NULL, &pool.pool),
                    "Creating a descriptor pool", error))
    return NULL;
  g_array_append_val (c->pools, pool);
  return &g_array_index (c->pools, Pool, c->pools->len - 1);
}

static VkDescriptorSet
allocate_set (HdCompute  *c,
              gboolean    texel,
              GError    **error)
{
  Pool *pool = pool_with_room (c, texel, error);
  VkDescriptorSetAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorSetCount = 1,
    .pSetLayouts = texel ? &c->texel_layout : &c->set_layout,
  };
  VkDescriptorSet set = VK_NULL_HANDLE;

  if (pool == NULL)
    return VK_NULL_HANDLE;
  alloc.descriptorPool = pool->pool;
  if (!hd_vk_check (vkAllocateDescriptorSets (c->device, &alloc, &set),
                    "Allocating a descriptor set", error))
    return VK_NULL_HANDLE;
  if (texel)
    pool->texel_sets_left--;
  else
    pool->storage_sets_left--;
  return set;
}

VkDescriptorSet
hd_compute_storage_set (HdCompute               *c,
                        const HdVkBuffer *const  buffers[HD_COMPUTE_BINDINGS],
                        const HdVkBuffer        *filler,
                        GError                 **error)
{
  VkDescriptorBufferInfo infos[HD_COMPUTE_BINDINGS];
  VkWriteDescriptorSet writes[HD_COMPUTE_BINDINGS];
  VkDescriptorSet set = allocate_set (c, FALSE, error);

  if (set == VK_NULL_HANDLE)
    return VK_NULL_HANDLE;
  for (guint b = 0; b < HD_COMPUTE_BINDINGS; b++)
    {
      /* Every binding gets a valid buffer. */
      const HdVkBuffer *buf = buffers[b] != NULL ? buffers[b] : filler;

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
  vkUpdateDescriptorSets (c->device, HD_COMPUTE_BINDINGS, writes, 0, NULL);
  return set;
}

VkDescriptorSet
hd_compute_texel_set (HdCompute           *c,
                      const VkBufferView   views[HD_COMPUTE_TEXEL_BINDINGS],
                      GError             **error)
{
  VkWriteDescriptorSet writes[HD_COMPUTE_TEXEL_BINDINGS];
  VkDescriptorSet set = allocate_set (c, TRUE, error);

  if (set == VK_NULL_HANDLE)
    return VK_NULL_HANDLE;
  for (guint b = 0; b < HD_COMPUTE_TEXEL_BINDINGS; b++)
    writes[b] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .dstBinding = b,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
      .pTexelBufferView = &views[b],
    };
  vkUpdateDescriptorSets (c->device, HD_COMPUTE_TEXEL_BINDINGS, writes, 0, NULL);
  return set;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */

VkCommandBuffer
hd_compute_begin (HdCompute                  *c,
                  VkCommandBufferUsageFlags   flags,
                  const char                 *what,
                  GError                    **error)
{
  VkCommandBufferAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = c->command_pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = flags,
  };
  VkCommandBuffer cb = VK_NULL_HANDLE;

  if (!hd_vk_check (vkAllocateCommandBuffers (c->device, &alloc, &cb),
                    "Allocating a command buffer", error))
    return VK_NULL_HANDLE;
  if (!hd_vk_check (vkBeginCommandBuffer (cb, &begin), what, error))
    {
      vkFreeCommandBuffers (c->device, c->command_pool, 1, &cb);
      return VK_NULL_HANDLE;
    }
  return cb;
}

void
hd_compute_free_commands (HdCompute             *c,
                          guint                  n,
                          const VkCommandBuffer *cbs)
{
  if (n > 0)
    vkFreeCommandBuffers (c->device, c->command_pool, n, cbs);
}

gboolean
hd_compute_submit (HdCompute        *c,
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
  if (!hd_vk_check (hd_vk_context_get_fault (c->ctx), "Submitting work to the device", error))
    return FALSE;
  result = vkQueueSubmit (hd_vk_context_get_queue (c->ctx), 1, &submit, c->fence);
  if (!hd_vk_check (result, "Submitting work to the device", error))
    return FALSE;
  result = vkWaitForFences (c->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
  /* Reset even after a failure, so the next submission starts clean. */
  vkResetFences (c->device, 1, &c->fence);
  return hd_vk_check (result, "Waiting for the device", error);
}

static void
memory_barrier (VkCommandBuffer       cb,
                VkPipelineStageFlags  src_stage,
                VkAccessFlags         src_access,
                VkPipelineStageFlags  dst_stage,
                VkAccessFlags         dst_access)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = src_access,
    .dstAccessMask = dst_access,
  };

  vkCmdPipelineBarrier (cb, src_stage, dst_stage, 0, 1, &barrier, 0, NULL, 0, NULL);
}

void
hd_compute_barrier (VkCommandBuffer cb)
{
  memory_barrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

void
hd_compute_record_readback (VkCommandBuffer   cb,
                            const HdVkBuffer *src,
                            const HdVkBuffer *dst,
                            VkDeviceSize      bytes)
{
  VkBufferCopy region = { .size = bytes };

  if (dst == NULL)
    {
      memory_barrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
      return;
    }
  memory_barrier (cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
  vkCmdCopyBuffer (cb, src->buffer, dst->buffer, 1, &region);
  memory_barrier (cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

void
hd_compute_bind_texel_set (HdCompute       *c,
                           VkCommandBuffer  cb,
                           VkDescriptorSet  set)
{
  vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipeline_layout,
                           1, 1, &set, 0, NULL);
}

void
hd_compute_dispatch (HdCompute       *c,
                     VkCommandBuffer  cb,
                     HdKernel        *kernel,
                     VkDescriptorSet  set,
                     const void      *push,
                     guint32          push_size,
                     guint32          gx,
                     guint32          gy,
                     guint32          gz,
                     const char      *label)
{
  g_assert (push_size <= HD_PUSH_BYTES);

  vkCmdBindPipeline (cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel->pipeline);
  vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipeline_layout,
                           0, 1, &set, 0, NULL);
  vkCmdPushConstants (cb, c->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
  vkCmdDispatch (cb, gx, gy, gz);

  if (c->recording_labels != NULL && c->recording_labels->len + 1 < MAX_PROFILED)
    {
      g_ptr_array_add (c->recording_labels,
                       g_strdup_printf ("%-18s %-20s %ux%ux%u", kernel->name, label, gx, gy, gz));
      vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->profile_pool,
                           c->recording_labels->len);
    }
}

/* ------------------------------------------------------------------------ */
/* Timestamps and the profile                                               */

void
hd_compute_reset_marks (HdCompute       *c,
                        VkCommandBuffer  cb)
{
  if (c->query_pool != VK_NULL_HANDLE)
    vkCmdResetQueryPool (cb, c->query_pool, 0, HD_COMPUTE_TIMESTAMPS);
}

void
hd_compute_timestamp (HdCompute               *c,
                      VkCommandBuffer          cb,
                      VkPipelineStageFlagBits  stage,
                      guint                    mark)
{
  g_assert (mark < HD_COMPUTE_TIMESTAMPS);
  if (c->query_pool != VK_NULL_HANDLE)
    vkCmdWriteTimestamp (cb, stage, c->query_pool, mark);
}

gboolean
hd_compute_read_marks (HdCompute *c,
                       double     ms[HD_COMPUTE_TIMESTAMPS])
{
  guint64 ts[HD_COMPUTE_TIMESTAMPS];
  double to_ms = c->timestamp_period / 1e6;

  if (c->query_pool == VK_NULL_HANDLE ||
      vkGetQueryPoolResults (c->device, c->query_pool, 0, HD_COMPUTE_TIMESTAMPS, sizeof ts, ts,
                             sizeof ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
    return FALSE;
  for (guint i = 0; i < HD_COMPUTE_TIMESTAMPS; i++)
    ms[i] = ((ts[i] - ts[0]) & c->timestamp_mask) * to_ms;
  return TRUE;
}

gboolean
hd_compute_profiling (HdCompute *c)
{
  return c->profile_pool != VK_NULL_HANDLE;
}

void
hd_compute_profile_begin (HdCompute       *c,
                          VkCommandBuffer  cb,
                          GPtrArray       *labels)
{
  if (c->profile_pool == VK_NULL_HANDLE)
    return;
  c->recording_labels = labels;
  vkCmdResetQueryPool (cb, c->profile_pool, 0, MAX_PROFILED);
  vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->profile_pool, 0);
}

void
hd_compute_profile_end (HdCompute *c)
{
  c->recording_labels = NULL;
}

void
hd_compute_profile_print (HdCompute *c,
                          GPtrArray *labels)
{
  guint64 ts[MAX_PROFILED];
  double to_ms = c->timestamp_period / 1e6;

  if (c->profile_pool == VK_NULL_HANDLE || labels == NULL || labels->len == 0)
    return;
  if (vkGetQueryPoolResults (c->device, c->profile_pool, 0, labels->len + 1,
                             sizeof ts, ts, sizeof ts[0],
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
    return;
  for (guint i = 0; i < labels->len; i++)
    g_message ("profile: %s %9.3f ms", (const char *) g_ptr_array_index (labels, i),
               ((ts[i + 1] - ts[i]) & c->timestamp_mask) * to_ms);
  g_message ("profile: total %.3f ms", ((ts[labels->len] - ts[0]) & c->timestamp_mask) * to_ms);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */

guint64
hd_compute_get_device_bytes (HdCompute *c)
{
  return c->device_bytes;
}

char *
hd_compute_get_memory_report (HdCompute *c)
{
  GString *report = g_string_new (NULL);

  for (guint i = 0; i < c->memory_kinds->len; i++)
    {
      const MemoryKind *k = &g_array_index (c->memory_kinds, MemoryKind, i);

      g_string_append_printf (report, "%-38s %9.1f MiB in %u buffer%s\n",
                              k->kind, k->bytes / 1048576.0, k->count, k->count == 1 ? "" : "s");
    }
  g_string_append_printf (report, "%-38s %9.1f MiB\n", "total", c->device_bytes / 1048576.0);
  return g_string_free (report, FALSE);
}
