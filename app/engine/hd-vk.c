/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Vulkan instance, the choice of a device and the small helpers the
 * renderer builds on (buffers, shader modules, error mapping).  Every
 * VkResult is checked and turned into a GError: a missing driver or a
 * full device must produce a message for a person, never a crash. */
#define _GNU_SOURCE  /* dl_iterate_phdr, in sanitizer builds */
#include "hd-vk.h"

#include <stdlib.h>
#include <string.h>

#include "hd-error.h"
#include "hd-shaders.h"
#include "hd-vk-fault.h"

#if defined(__SANITIZE_ADDRESS__)
#define HD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HD_ASAN 1
#endif
#endif

#ifdef HD_ASAN
#include <dlfcn.h>
#include <link.h>

/* Sanitizer builds only: keep every Vulkan driver and layer the loader
 * has opened mapped until the process ends.  The loader unloads them in
 * vkDestroyInstance; LeakSanitizer, which looks at exit, then no longer
 * sees the driver's static data, and reports what only that data still
 * points to as a leak from "<unknown module>" (lavapipe of Mesa 22.3 on
 * an AVX-512 machine: 128 bytes once per process; `vulkaninfo` run with
 * libasan preloaded shows the same).  Pinned, those blocks stay
 * reachable, as they are in a process that does not unload the driver. */
static int
pin_vulkan_library (struct dl_phdr_info *info,
                    size_t               size,
                    void                *data)
{
  const char *base = strrchr (info->dlpi_name, '/');

  base = base != NULL ? base + 1 : info->dlpi_name;
  if (g_str_has_prefix (base, "libvulkan_") || g_str_has_prefix (base, "libVkLayer_"))
    dlopen (info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  return 0;
}
#endif

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
#define NO_DEVICE_MESSAGE \
  "No Vulkan device found. Install a Vulkan driver, e.g. " \
  "mesa-vulkan-drivers for CPU rendering"
#define SHADER_PREFIX "/io/github/hyperdomain/Hyperdomain/shaders/"

struct _HdVkContext {
  VkInstance                       instance;
  VkDebugUtilsMessengerEXT         messenger;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
  gboolean                         validation;
  int                              validation_messages;  /* atomic */

  VkPhysicalDevice                 physical_device;
  VkPhysicalDeviceProperties       properties;
  VkPhysicalDeviceMemoryProperties memory_properties;
  VkDeviceSize                     max_allocation_size;
  HdVkDeviceInfo                  *info;

  gboolean                         subgroup_size_control;
  VkPhysicalDeviceSubgroupProperties subgroup;
  VkPhysicalDeviceSubgroupSizeControlPropertiesEXT size_control;

  guint32                          reported_memory;  /* bit per HdVkMemoryUse logged */

  guint32                          queue_family;
  guint32                          timestamp_valid_bits;
  VkDevice                         device;
  VkQueue                          queue;

  int                              lost;  /* atomic: made lost by a fault */
  guint64                          allocated_bytes;   /* atomic: device memory held */
  guint64                          n_allocations;     /* atomic: allocations held */
  guint64                          peak_bytes;        /* atomic: most allocated_bytes since the last reset */
};

const char *
hd_vk_result_to_string (VkResult result)
{
  switch (result)
    {
#define CASE(x) case x: return #x
      CASE (VK_SUCCESS);
      CASE (VK_NOT_READY);
      CASE (VK_TIMEOUT);
      CASE (VK_EVENT_SET);
      CASE (VK_EVENT_RESET);
      CASE (VK_INCOMPLETE);
      CASE (VK_ERROR_OUT_OF_HOST_MEMORY);
      CASE (VK_ERROR_OUT_OF_DEVICE_MEMORY);
      CASE (VK_ERROR_INITIALIZATION_FAILED);
      CASE (VK_ERROR_DEVICE_LOST);
      CASE (VK_ERROR_MEMORY_MAP_FAILED);
      CASE (VK_ERROR_LAYER_NOT_PRESENT);
      CASE (VK_ERROR_EXTENSION_NOT_PRESENT);
      CASE (VK_ERROR_FEATURE_NOT_PRESENT);
      CASE (VK_ERROR_INCOMPATIBLE_DRIVER);
      CASE (VK_ERROR_TOO_MANY_OBJECTS);
      CASE (VK_ERROR_FORMAT_NOT_SUPPORTED);
      CASE (VK_ERROR_FRAGMENTED_POOL);
      CASE (VK_ERROR_UNKNOWN);
      CASE (VK_ERROR_OUT_OF_POOL_MEMORY);
      CASE (VK_ERROR_INVALID_EXTERNAL_HANDLE);
      CASE (VK_ERROR_FRAGMENTATION);
      CASE (VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
#undef CASE
    default:
      return "VK_ERROR_UNKNOWN";
    }
}

gboolean
hd_vk_check (VkResult     result,
             const char  *what,
             GError     **error)
{
  if (result == VK_SUCCESS)
    return TRUE;

  switch (result)
    {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   "%s: out of %s memory (%s)", what,
                   result == VK_ERROR_OUT_OF_HOST_MEMORY ? "host" : "device",
                   hd_vk_result_to_string (result));
      break;
    case VK_ERROR_DEVICE_LOST:
      g_set_error (error, HD_ERROR, HD_ERROR_DEVICE_LOST,
                   "%s: the Vulkan device was lost (%s); the driver may "
                   "have reset it after a timeout", what,
                   hd_vk_result_to_string (result));
      break;
    default:
      g_set_error (error, HD_ERROR, HD_ERROR_DEVICE,
                   "%s failed: %s", what, hd_vk_result_to_string (result));
      break;
    }
  return FALSE;
}

guint64
hd_vk_context_get_allocated_bytes (HdVkContext *ctx,
                                   guint64     *n_allocations)
{
  g_return_val_if_fail (ctx != NULL, 0);

  if (n_allocations != NULL)
    *n_allocations = __atomic_load_n (&ctx->n_allocations, __ATOMIC_RELAXED);
  return __atomic_load_n (&ctx->allocated_bytes, __ATOMIC_RELAXED);
}

guint64
hd_vk_context_get_peak_allocated_bytes (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);

  return __atomic_load_n (&ctx->peak_bytes, __ATOMIC_RELAXED);
}

void
hd_vk_context_reset_peak_allocated_bytes (HdVkContext *ctx)
{
  g_return_if_fail (ctx != NULL);

  __atomic_store_n (&ctx->peak_bytes, __atomic_load_n (&ctx->allocated_bytes, __ATOMIC_RELAXED),
                    __ATOMIC_RELAXED);
}

/* Raises the peak to NOW if it is below. */
static void
raise_peak (HdVkContext *ctx,
            guint64      now)
{
  guint64 peak = __atomic_load_n (&ctx->peak_bytes, __ATOMIC_RELAXED);

  while (peak < now &&
         !__atomic_compare_exchange_n (&ctx->peak_bytes, &peak, now, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

VkResult
hd_vk_context_get_fault (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, VK_ERROR_UNKNOWN);

  return g_atomic_int_get (&ctx->lost) ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
}

VkResult
hd_vk_context_count_frame (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, VK_ERROR_UNKNOWN);

  /* A lost context counts no more frames. */
  if (!g_atomic_int_get (&ctx->lost) && hd_vk_fault_count_frame ())
    g_atomic_int_set (&ctx->lost, 1);
  return hd_vk_context_get_fault (ctx);
}

void
hd_vk_device_info_free (HdVkDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->driver_info);
  g_free (info);
}

static const char *
device_type_name (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "CPU";
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
    default:
      return "other";
    }
}

/* Lower is better: the order "auto" picks in. */
static int
device_type_rank (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 4;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
    default:
      return 3;
    }
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
debug_messenger_cb (VkDebugUtilsMessageSeverityFlagBitsEXT      severity,
                    VkDebugUtilsMessageTypeFlagsEXT             types,
                    const VkDebugUtilsMessengerCallbackDataEXT *data,
                    void                                       *user_data)
{
  HdVkContext *ctx = user_data;
  const char *level =
    (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning";
  const char *message = data != NULL && data->pMessage != NULL ? data->pMessage : "(no message)";

  /* General messages come from the loader (a driver manifest it could not
   * read, say): worth showing, but not a fault of ours. */
  if (types == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT)
    {
      g_message ("Vulkan loader %s: %s", level, message);
      return VK_FALSE;
    }

  /* Counted, so tests can assert a clean run even where criticals are not
   * fatal; logged as criticals so they fail tests that make them fatal. */
  g_atomic_int_inc (&ctx->validation_messages);
  g_critical ("Vulkan validation %s: %s", level, message);
  return VK_FALSE;
}

static gboolean
instance_has_layer (const char *name)
{
  guint32 count = 0;
  g_autofree VkLayerProperties *layers = NULL;

  if (vkEnumerateInstanceLayerProperties (&count, NULL) != VK_SUCCESS)
    return FALSE;
  layers = g_new0 (VkLayerProperties, MAX (count, 1));
  if (vkEnumerateInstanceLayerProperties (&count, layers) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < count; i++)
    if (strcmp (layers[i].layerName, name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
instance_has_extension (const char *layer,
                        const char *name)
{
  guint32 count = 0;
  g_autofree VkExtensionProperties *exts = NULL;

  if (vkEnumerateInstanceExtensionProperties (layer, &count, NULL) != VK_SUCCESS)
    return FALSE;
  exts = g_new0 (VkExtensionProperties, MAX (count, 1));
  if (vkEnumerateInstanceExtensionProperties (layer, &count, exts) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < count; i++)
    if (strcmp (exts[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
validation_requested (void)
{
  const char *env = g_getenv ("HYPERDOMAIN_VALIDATION");

  return env != NULL && env[0] != '\0' && strcmp (env, "0") != 0;
}

/* Creates the instance; with CTX non-NULL and validation requested, also
 * the validation layer and a messenger reporting to CTX. */
static VkInstance
create_instance (HdVkContext  *ctx,
                 GError      **error)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "Hyperdomain",
    .applicationVersion = VK_MAKE_API_VERSION (0, 0, 1, 0),
    .pEngineName = "libhyperdomain",
    .engineVersion = VK_MAKE_API_VERSION (0, 0, 1, 0),
    .apiVersion = VK_API_VERSION_1_2,
  };
  VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
    .pfnUserCallback = debug_messenger_cb,
    .pUserData = ctx,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  const char *layers[1];
  const char *extensions[2];
  guint n_layers = 0, n_extensions = 0;
  gboolean validation = FALSE;
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result;

  if (ctx != NULL && validation_requested ())
    {
      if (!instance_has_layer (VALIDATION_LAYER))
        g_warning ("HYPERDOMAIN_VALIDATION is set, but the Vulkan validation "
                   "layer " VALIDATION_LAYER " is not installed; running "
                   "without validation");
      else if (!instance_has_extension (NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
               !instance_has_extension (VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
        g_warning ("HYPERDOMAIN_VALIDATION is set, but " VK_EXT_DEBUG_UTILS_EXTENSION_NAME
                   " is not available to report messages; running without validation");
      else
        {
          layers[n_layers++] = VALIDATION_LAYER;
          extensions[n_extensions++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
          /* Chained here too, so messages from vkCreateInstance and
           * vkDestroyInstance are reported as well. */
          info.pNext = &messenger_info;
          validation = TRUE;
        }
    }

#ifdef VK_KHR_portability_enumeration
  /* Lets the loader list devices that implement Vulkan through a
   * translation layer (MoltenVK) too. */
  if (instance_has_extension (NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME))
    {
      extensions[n_extensions++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
      info.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
#endif

  info.enabledLayerCount = n_layers;
  info.ppEnabledLayerNames = n_layers > 0 ? layers : NULL;
  info.enabledExtensionCount = n_extensions;
  info.ppEnabledExtensionNames = n_extensions > 0 ? extensions : NULL;

  result = vkCreateInstance (&info, NULL, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER ||
      result == VK_ERROR_INITIALIZATION_FAILED)
    {
      /* What the loader says when it finds no driver (ICD) at all. */
      g_set_error (error, HD_ERROR, HD_ERROR_NO_DEVICE,
                   NO_DEVICE_MESSAGE " (%s)", hd_vk_result_to_string (result));
      return VK_NULL_HANDLE;
    }
  if (!hd_vk_check (result, "Creating the Vulkan instance", error))
    return VK_NULL_HANDLE;
#ifdef HD_ASAN
  dl_iterate_phdr (pin_vulkan_library, NULL);
#endif

  if (validation)
    {
      PFN_vkCreateDebugUtilsMessengerEXT create_messenger = (PFN_vkCreateDebugUtilsMessengerEXT)
        vkGetInstanceProcAddr (instance, "vkCreateDebugUtilsMessengerEXT");
      ctx->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)
        vkGetInstanceProcAddr (instance, "vkDestroyDebugUtilsMessengerEXT");
      if (create_messenger == NULL || ctx->destroy_messenger == NULL)
        {
          vkDestroyInstance (instance, NULL);
          g_set_error (error, HD_ERROR, HD_ERROR_DEVICE,
                       "The validation layer does not provide vkCreateDebugUtilsMessengerEXT");
          return VK_NULL_HANDLE;
        }
      result = create_messenger (instance, &messenger_info, NULL, &ctx->messenger);
      if (!hd_vk_check (result, "Creating the validation messenger", error))
        {
          vkDestroyInstance (instance, NULL);
          return VK_NULL_HANDLE;
        }
      ctx->validation = TRUE;
    }
  return instance;
}

/* The first queue family with compute, preferring one that can write
 * timestamps; -1 when there is none. */
static int
find_compute_queue_family (VkPhysicalDevice  physical_device,
                           guint32          *timestamp_bits)
{
  guint32 count = 0;
  g_autofree VkQueueFamilyProperties *families = NULL;
  int best = -1;

  vkGetPhysicalDeviceQueueFamilyProperties (physical_device, &count, NULL);
  families = g_new0 (VkQueueFamilyProperties, MAX (count, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (physical_device, &count, families);
  for (guint32 i = 0; i < count; i++)
    {
      if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || families[i].queueCount == 0)
        continue;
      if (best < 0 ||
          (families[best].timestampValidBits == 0 && families[i].timestampValidBits > 0))
        best = (int) i;
    }
  if (best >= 0 && timestamp_bits != NULL)
    *timestamp_bits = families[best].timestampValidBits;
  return best;
}

static HdVkDeviceInfo *
describe_device (VkPhysicalDevice physical_device,
                 guint            index)
{
  HdVkDeviceInfo *info = g_new0 (HdVkDeviceInfo, 1);
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem;

  vkGetPhysicalDeviceProperties (physical_device, &props);
  vkGetPhysicalDeviceMemoryProperties (physical_device, &mem);
  info->index = index;
  info->name = g_strdup (props.deviceName);
  info->type = props.deviceType;
  info->type_name = device_type_name (props.deviceType);
  info->api_version = props.apiVersion;
  if (props.apiVersion >= VK_API_VERSION_1_2)
    {
      VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
      };
      VkPhysicalDeviceProperties2 props2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &driver,
      };
      vkGetPhysicalDeviceProperties2 (physical_device, &props2);
      info->driver_info = g_strdup_printf ("%s %s", driver.driverName, driver.driverInfo);
    }
  else
    info->driver_info = g_strdup_printf ("driver version 0x%x", props.driverVersion);
  for (guint32 h = 0; h < mem.memoryHeapCount; h++)
    if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      info->device_local_bytes += mem.memoryHeaps[h].size;
  return info;
}

/* The physical devices with a compute queue, in the order of their
 * indices; NULL with ERROR set when enumeration fails. */
static GPtrArray *
enumerate_compute_devices (VkInstance   instance,
                           GError     **error)
{
  guint32 count = 0;
  g_autofree VkPhysicalDevice *devices = NULL;
  GPtrArray *usable;
  VkResult result;

  result = vkEnumeratePhysicalDevices (instance, &count, NULL);
  if (result == VK_ERROR_INITIALIZATION_FAILED)
    return g_ptr_array_new ();
  if (!hd_vk_check (result, "Listing Vulkan devices", error))
    return NULL;
  devices = g_new0 (VkPhysicalDevice, MAX (count, 1));
  result = vkEnumeratePhysicalDevices (instance, &count, devices);
  if (result != VK_INCOMPLETE && !hd_vk_check (result, "Listing Vulkan devices", error))
    return NULL;

  usable = g_ptr_array_new ();
  for (guint32 i = 0; i < count; i++)
    if (find_compute_queue_family (devices[i], NULL) >= 0)
      g_ptr_array_add (usable, devices[i]);
  return usable;
}

GPtrArray *
hd_vk_list_devices (GError **error)
{
  VkInstance instance = create_instance (NULL, error);
  g_autoptr(GPtrArray) physical = NULL;
  GPtrArray *infos;

  if (instance == VK_NULL_HANDLE)
    return NULL;
  physical = enumerate_compute_devices (instance, error);
  if (physical == NULL)
    {
      vkDestroyInstance (instance, NULL);
      return NULL;
    }
  infos = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_vk_device_info_free);
  for (guint i = 0; i < physical->len; i++)
    g_ptr_array_add (infos, describe_device (g_ptr_array_index (physical, i), i));
  vkDestroyInstance (instance, NULL);
  return infos;
}

/* Index into PHYSICAL of the device CHOICE names, or -1 with ERROR. */
static int
choose_device (GPtrArray   *physical,
               const char  *choice,
               GError     **error)
{
  int best = -1, best_rank = G_MAXINT;
  guint64 index;

  if (physical->len == 0)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_NO_DEVICE, NO_DEVICE_MESSAGE);
      return -1;
    }

  if (choice == NULL || g_ascii_strcasecmp (choice, "auto") == 0)
    {
      for (guint i = 0; i < physical->len; i++)
        {
          VkPhysicalDeviceProperties props;
          int rank;

          vkGetPhysicalDeviceProperties (g_ptr_array_index (physical, i), &props);
          /* A device older than Vulkan 1.2 cannot run our SPIR-V 1.5. */
          rank = device_type_rank (props.deviceType) +
                 (props.apiVersion < VK_API_VERSION_1_2 ? 100 : 0);
          if (rank < best_rank)
            {
              best = (int) i;
              best_rank = rank;
            }
        }
      return best;
    }

  if (g_ascii_strcasecmp (choice, "cpu") == 0)
    {
      for (guint i = 0; i < physical->len; i++)
        {
          VkPhysicalDeviceProperties props;

          vkGetPhysicalDeviceProperties (g_ptr_array_index (physical, i), &props);
          if (props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
            return (int) i;
        }
      g_set_error (error, HD_ERROR, HD_ERROR_NO_DEVICE,
                   "No CPU Vulkan device found among the %u device(s). Install "
                   "mesa-vulkan-drivers for CPU rendering (lavapipe)",
                   physical->len);
      return -1;
    }

  if (!g_ascii_string_to_unsigned (choice, 10, 0, G_MAXUINT, &index, NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   "Unknown device “%s”: use auto, cpu or a device index "
                   "(0 to %u)", choice, physical->len - 1);
      return -1;
    }
  if (index >= physical->len)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   "There is no Vulkan device %" G_GUINT64_FORMAT ": %u device%s "
                   "found, with indices 0 to %u",
                   index, physical->len, physical->len == 1 ? " was" : "s were",
                   physical->len - 1);
      return -1;
    }
  return (int) index;
}

static void
context_clear (HdVkContext *ctx)
{
  if (ctx->device != VK_NULL_HANDLE)
    {
      vkDeviceWaitIdle (ctx->device);
      vkDestroyDevice (ctx->device, NULL);
    }
  if (ctx->messenger != VK_NULL_HANDLE)
    ctx->destroy_messenger (ctx->instance, ctx->messenger, NULL);
  if (ctx->instance != VK_NULL_HANDLE)
    vkDestroyInstance (ctx->instance, NULL);
  hd_vk_device_info_free (ctx->info);
}

static gboolean
device_has_extension (VkPhysicalDevice  physical_device,
                      const char       *name)
{
  guint32 count = 0;
  g_autofree VkExtensionProperties *exts = NULL;

  if (vkEnumerateDeviceExtensionProperties (physical_device, NULL, &count, NULL) != VK_SUCCESS)
    return FALSE;
  exts = g_new0 (VkExtensionProperties, MAX (count, 1));
  if (vkEnumerateDeviceExtensionProperties (physical_device, NULL, &count, exts) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < count; i++)
    if (strcmp (exts[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

/* Subgroup properties, and whether subgroup size control (fixed-size,
 * full subgroups in compute) can be enabled; the convolution for CPU
 * devices relies on it. */
static void
query_subgroups (HdVkContext *ctx)
{
  VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
  };
  VkPhysicalDeviceFeatures2 features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &size_features,
  };
  VkPhysicalDeviceProperties2 props = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &ctx->subgroup,
  };

  ctx->subgroup = (VkPhysicalDeviceSubgroupProperties) {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
  };
  ctx->size_control = (VkPhysicalDeviceSubgroupSizeControlPropertiesEXT) {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT,
  };
  if (!device_has_extension (ctx->physical_device, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME))
    {
      vkGetPhysicalDeviceProperties2 (ctx->physical_device, &props);
      return;
    }
  ctx->subgroup.pNext = &ctx->size_control;
  vkGetPhysicalDeviceProperties2 (ctx->physical_device, &props);
  ctx->subgroup.pNext = NULL;
  vkGetPhysicalDeviceFeatures2 (ctx->physical_device, &features);
  ctx->subgroup_size_control = size_features.subgroupSizeControl &&
                               size_features.computeFullSubgroups;
}

static gboolean
create_device (HdVkContext  *ctx,
               GError      **error)
{
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = ctx->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
    .subgroupSizeControl = VK_TRUE,
    .computeFullSubgroups = VK_TRUE,
  };
  const char *extensions[] = { VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME };
  VkDeviceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &queue_info,
  };
  VkResult result;

  if (ctx->subgroup_size_control)
    {
      info.pNext = &size_features;
      info.enabledExtensionCount = G_N_ELEMENTS (extensions);
      info.ppEnabledExtensionNames = extensions;
    }
  result = vkCreateDevice (ctx->physical_device, &info, NULL, &ctx->device);
  if (!hd_vk_check (result, "Creating the Vulkan device", error))
    {
      ctx->device = VK_NULL_HANDLE;
      return FALSE;
    }
  vkGetDeviceQueue (ctx->device, ctx->queue_family, 0, &ctx->queue);
  return TRUE;
}

HdVkContext *
hd_vk_context_new (const char  *choice,
                   GError     **error)
{
  HdVkContext *ctx = g_atomic_rc_box_new0 (HdVkContext);
  g_autoptr(GPtrArray) physical = NULL;
  VkPhysicalDeviceMaintenance3Properties maint3 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
  };
  VkPhysicalDeviceProperties2 props2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &maint3,
  };
  int chosen, family;

  hd_vk_fault_load ();
  ctx->instance = create_instance (ctx, error);
  if (ctx->instance == VK_NULL_HANDLE)
    goto fail;
  physical = enumerate_compute_devices (ctx->instance, error);
  if (physical == NULL)
    goto fail;
  chosen = choose_device (physical, choice, error);
  if (chosen < 0)
    goto fail;

  ctx->physical_device = g_ptr_array_index (physical, chosen);
  ctx->info = describe_device (ctx->physical_device, (guint) chosen);
  vkGetPhysicalDeviceProperties (ctx->physical_device, &ctx->properties);
  vkGetPhysicalDeviceMemoryProperties (ctx->physical_device, &ctx->memory_properties);
  if (ctx->properties.apiVersion < VK_API_VERSION_1_2)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   "The Vulkan device “%s” supports Vulkan %u.%u; Hyperdomain needs 1.2",
                   ctx->properties.deviceName,
                   VK_API_VERSION_MAJOR (ctx->properties.apiVersion),
                   VK_API_VERSION_MINOR (ctx->properties.apiVersion));
      goto fail;
    }
  vkGetPhysicalDeviceProperties2 (ctx->physical_device, &props2);
  ctx->max_allocation_size = maint3.maxMemoryAllocationSize;

  family = find_compute_queue_family (ctx->physical_device, &ctx->timestamp_valid_bits);
  g_assert (family >= 0); /* enumerate_compute_devices checked it */
  ctx->queue_family = (guint32) family;

  query_subgroups (ctx);
  if (!create_device (ctx, error))
    goto fail;

  g_debug ("Vulkan device %u: %s (%s, %s), validation %s",
           ctx->info->index, ctx->info->name, ctx->info->type_name,
           ctx->info->driver_info, ctx->validation ? "on" : "off");
  return ctx;

fail:
  hd_vk_context_unref (ctx);
  return NULL;
}

HdVkContext *
hd_vk_context_ref (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);

  return g_atomic_rc_box_acquire (ctx);
}

void
hd_vk_context_unref (HdVkContext *ctx)
{
  g_return_if_fail (ctx != NULL);

  g_atomic_rc_box_release_full (ctx, (GDestroyNotify) context_clear);
}

const HdVkDeviceInfo *
hd_vk_context_get_device_info (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);

  return ctx->info;
}

guint
hd_vk_context_get_validation_messages (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);

  return (guint) g_atomic_int_get (&ctx->validation_messages);
}

gboolean
hd_vk_context_validation_enabled (HdVkContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, FALSE);

  return ctx->validation;
}

VkDevice
hd_vk_context_get_device (HdVkContext *ctx)
{
  return ctx->device;
}

VkPhysicalDevice
hd_vk_context_get_physical_device (HdVkContext *ctx)
{
  return ctx->physical_device;
}

VkQueue
hd_vk_context_get_queue (HdVkContext *ctx)
{
  return ctx->queue;
}

guint32
hd_vk_context_get_queue_family (HdVkContext *ctx)
{
  return ctx->queue_family;
}

const VkPhysicalDeviceLimits *
hd_vk_context_get_limits (HdVkContext *ctx)
{
  return &ctx->properties.limits;
}

gboolean
hd_vk_context_supports_subgroup_size (HdVkContext *ctx,
                                      guint32      size,
                                      guint32      n_subgroups)
{
  const VkSubgroupFeatureFlags ops = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_BALLOT_BIT;

  return ctx->subgroup_size_control &&
         (ctx->subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
         (ctx->subgroup.supportedOperations & ops) == ops &&
         (ctx->size_control.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
         ctx->size_control.minSubgroupSize <= size &&
         size <= ctx->size_control.maxSubgroupSize &&
         n_subgroups <= ctx->size_control.maxComputeWorkgroupSubgroups &&
         size * n_subgroups <= ctx->properties.limits.maxComputeWorkGroupInvocations;
}

double
hd_vk_context_get_timestamp_period (HdVkContext *ctx)
{
  if (ctx->timestamp_valid_bits == 0)
    return 0.0;
  return ctx->properties.limits.timestampPeriod;
}

/* Memory property sets to try for USE, best first. */
static guint
memory_candidates (HdVkMemoryUse         use,
                   VkMemoryPropertyFlags flags[3])
{
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

  switch (use)
    {
    case HD_VK_MEMORY_DEVICE:
      flags[0] = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      flags[1] = 0;
      return 2;
    case HD_VK_MEMORY_READBACK:
      flags[0] = host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
      flags[1] = host;
      return 2;
    case HD_VK_MEMORY_UPLOAD:
    default:
      flags[0] = host;
      return 1;
    }
}

static const char *
memory_use_name (HdVkMemoryUse use)
{
  switch (use)
    {
    case HD_VK_MEMORY_DEVICE:
      return "device";
    case HD_VK_MEMORY_READBACK:
      return "readback";
    case HD_VK_MEMORY_UPLOAD:
    default:
      return "upload";
    }
}

gboolean
hd_vk_buffer_init (HdVkContext   *ctx,
                   HdVkBuffer    *buf,
                   VkDeviceSize   size,
                   HdVkMemoryUse  use,
                   GError       **error)
{
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  VkBufferCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    /* Vulkan forbids empty buffers; a few bytes keep empty tables legal. */
    .size = MAX (size, 16),
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
             VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
             VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
             VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryRequirements req;
  VkMemoryPropertyFlags candidates[3];
  guint n_candidates = memory_candidates (use, candidates);
  VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  gboolean tried = FALSE;

  memset (buf, 0, sizeof *buf);
  buf->size = size;

  if (ctx->max_allocation_size > 0 && info.size > ctx->max_allocation_size)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   "A buffer of %.1f MiB is larger than the device allows in "
                   "one allocation (%.1f MiB)", info.size / 1048576.0,
                   ctx->max_allocation_size / 1048576.0);
      return FALSE;
    }

  result = vkCreateBuffer (ctx->device, &info, NULL, &buf->buffer);
  if (!hd_vk_check (result, "Creating a buffer", error))
    {
      buf->buffer = VK_NULL_HANDLE;
      return FALSE;
    }
  vkGetBufferMemoryRequirements (ctx->device, buf->buffer, &req);

  if (use == HD_VK_MEMORY_DEVICE && hd_vk_fault_take_oom ())
    {
      hd_vk_check (VK_ERROR_OUT_OF_DEVICE_MEMORY, "Allocating device memory", error);
      hd_vk_buffer_clear (ctx, buf);
      return FALSE;
    }

  /* Every memory type with the wanted properties, best set first; a full
   * heap falls through to the next type. */
  for (guint c = 0; c < n_candidates && buf->memory == VK_NULL_HANDLE; c++)
    for (guint32 t = 0; t < ctx->memory_properties.memoryTypeCount; t++)
      {
        VkMemoryPropertyFlags type_flags = ctx->memory_properties.memoryTypes[t].propertyFlags;
        VkMemoryAllocateInfo alloc = {
          .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
          .allocationSize = req.size,
          .memoryTypeIndex = t,
        };

        if (!(req.memoryTypeBits & (1u << t)) ||
            (type_flags & candidates[c]) != candidates[c])
          continue;
        tried = TRUE;
        result = vkAllocateMemory (ctx->device, &alloc, NULL, &buf->memory);
        if (result == VK_SUCCESS)
          {
            /* Once per kind of buffer is enough to see the choice. */
            if (!(g_atomic_int_or (&ctx->reported_memory, 1u << use) & (1u << use)))
              g_debug ("%s buffers: memory type %u (flags 0x%x, heap %u)",
                       memory_use_name (use), t, type_flags,
                       ctx->memory_properties.memoryTypes[t].heapIndex);
            buf->allocated = req.size;
            buf->memory_flags = type_flags;
            raise_peak (ctx, __atomic_add_fetch (&ctx->allocated_bytes, req.size, __ATOMIC_RELAXED));
            __atomic_add_fetch (&ctx->n_allocations, 1, __ATOMIC_RELAXED);
            if ((type_flags & host) == host)
              {
                result = vkMapMemory (ctx->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->mapped);
                if (result != VK_SUCCESS)
                  buf->mapped = NULL;
              }
            break;
          }
        buf->memory = VK_NULL_HANDLE;
        if (result != VK_ERROR_OUT_OF_DEVICE_MEMORY && result != VK_ERROR_OUT_OF_HOST_MEMORY)
          break;
      }

  if (buf->memory == VK_NULL_HANDLE)
    {
      if (!tried)
        g_set_error (error, HD_ERROR, HD_ERROR_DEVICE,
                     "The device has no suitable memory type for a %s buffer",
                     memory_use_name (use));
      else
        hd_vk_check (result == VK_SUCCESS ? VK_ERROR_OUT_OF_DEVICE_MEMORY : result,
                     "Allocating device memory", error);
      hd_vk_buffer_clear (ctx, buf);
      return FALSE;
    }
  if (use != HD_VK_MEMORY_DEVICE && buf->mapped == NULL)
    {
      hd_vk_check (result == VK_SUCCESS ? VK_ERROR_MEMORY_MAP_FAILED : result,
                   "Mapping host-visible memory", error);
      hd_vk_buffer_clear (ctx, buf);
      return FALSE;
    }
  result = vkBindBufferMemory (ctx->device, buf->buffer, buf->memory, 0);
  if (!hd_vk_check (result, "Binding buffer memory", error))
    {
      hd_vk_buffer_clear (ctx, buf);
      return FALSE;
    }
  return TRUE;
}

void
hd_vk_buffer_clear (HdVkContext *ctx,
                    HdVkBuffer  *buf)
{
  if (buf->buffer != VK_NULL_HANDLE)
    vkDestroyBuffer (ctx->device, buf->buffer, NULL);
  if (buf->memory != VK_NULL_HANDLE)
    {
      vkFreeMemory (ctx->device, buf->memory, NULL);
      __atomic_sub_fetch (&ctx->allocated_bytes, buf->allocated, __ATOMIC_RELAXED);
      __atomic_sub_fetch (&ctx->n_allocations, 1, __ATOMIC_RELAXED);
    }
  memset (buf, 0, sizeof *buf);
}

VkShaderModule
hd_vk_create_shader_module (HdVkContext  *ctx,
                            const char   *name,
                            GError      **error)
{
  g_autofree char *path = g_strconcat (SHADER_PREFIX, name, ".spv", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint32 *aligned = NULL;
  VkShaderModuleCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
  };
  VkShaderModule module = VK_NULL_HANDLE;
  gsize size;
  const void *data;

  bytes = g_resource_lookup_data (hd_shaders_get_resource (), path,
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, &local_error);
  if (bytes == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   "The shader %s is missing from this build: %s",
                   name, local_error->message);
      return VK_NULL_HANDLE;
    }
  data = g_bytes_get_data (bytes, &size);
  if (size == 0 || size % 4 != 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   "The shader %s in this build is not SPIR-V", name);
      return VK_NULL_HANDLE;
    }
  /* SPIR-V is read as 32-bit words. */
  if (((guintptr) data) % 4 != 0)
    data = aligned = g_memdup2 (data, size);
  info.codeSize = size;
  info.pCode = data;
  if (!hd_vk_check (vkCreateShaderModule (ctx->device, &info, NULL, &module),
                    "Creating a shader module", error))
    return VK_NULL_HANDLE;
  return module;
}
