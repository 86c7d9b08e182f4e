/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-renderer.h"
#include "hd-test-util.h"
#include "hd-vk.h"

static void
test_list_devices (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = hd_vk_list_devices (&error);

  g_assert_no_error (error);
  g_assert_nonnull (devices);
  /* This machine has at least lavapipe. */
  g_assert_cmpuint (devices->len, >, 0);
  for (guint i = 0; i < devices->len; i++)
    {
      HdVkDeviceInfo *info = g_ptr_array_index (devices, i);

      g_assert_cmpuint (info->index, ==, i);
      g_assert_nonnull (info->name);
      g_assert_nonnull (info->type_name);
      g_assert_nonnull (info->driver_info);
      g_assert_cmpuint (info->api_version, >=, VK_API_VERSION_1_1);
      g_test_message ("device %u: %s (%s, %s)", info->index, info->name,
                      info->type_name, info->driver_info);
    }
}

static void
check_context (const char *choice)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = hd_vk_context_new (choice, &error);
  const HdVkDeviceInfo *info;

  g_assert_no_error (error);
  g_assert_nonnull (ctx);
  info = hd_vk_context_get_device_info (ctx);
  g_assert_nonnull (info);
  g_assert_nonnull (hd_vk_context_get_device (ctx));
  g_assert_nonnull (hd_vk_context_get_queue (ctx));
  if (g_strcmp0 (choice, "cpu") == 0)
    g_assert_cmpint (info->type, ==, VK_PHYSICAL_DEVICE_TYPE_CPU);
  if (choice != NULL && g_ascii_isdigit (choice[0]))
    g_assert_cmpuint (info->index, ==, (guint) g_ascii_strtoull (choice, NULL, 10));
  g_assert_cmpuint (hd_vk_context_get_validation_messages (ctx), ==, 0);
}

static void
test_context_auto (void)
{
  check_context (NULL);
  check_context ("auto");
}

static void
test_context_cpu (void)
{
  g_autoptr(GPtrArray) devices = hd_vk_list_devices (NULL);
  gboolean has_cpu = FALSE;

  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      HdVkDeviceInfo *info = g_ptr_array_index (devices, i);
      has_cpu |= info->type == VK_PHYSICAL_DEVICE_TYPE_CPU;
    }
  if (!has_cpu)
    {
      g_test_skip ("no CPU Vulkan device");
      return;
    }
  check_context ("cpu");
}

static void
test_context_index (void)
{
  check_context ("0");
}

static void
test_context_bad_index (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = hd_vk_list_devices (NULL);
  g_autofree char *count = NULL;
  HdVkContext *ctx;

  g_assert_nonnull (devices);
  ctx = hd_vk_context_new ("99", &error);
  g_assert_null (ctx);
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "99"));
  /* The message says how many devices there are. */
  count = g_strdup_printf ("%u device", devices->len);
  g_assert_nonnull (strstr (error->message, count));
  g_clear_error (&error);

  ctx = hd_vk_context_new ("fastest", &error);
  g_assert_null (ctx);
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "fastest"));
}

static void
test_no_device (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) devices = NULL;
      HdVkContext *ctx;

      /* This GLib has no g_test_trap_subprocess_with_envp, so the child
       * points the Vulkan loader at a driver manifest that does not exist
       * before its first Vulkan call. */
      g_setenv ("VK_ICD_FILENAMES", "/nonexistent/hyperdomain-no-driver.json", TRUE);
      g_setenv ("VK_DRIVER_FILES", "/nonexistent/hyperdomain-no-driver.json", TRUE);

      ctx = hd_vk_context_new (NULL, &error);
      g_assert_null (ctx);
      g_assert_error (error, HD_ERROR, HD_ERROR_NO_DEVICE);
      g_assert_nonnull (strstr (error->message, "No Vulkan device found"));
      g_assert_nonnull (strstr (error->message, "mesa-vulkan-drivers"));
      g_printerr ("%s\n", error->message);
      g_clear_error (&error);

      devices = hd_vk_list_devices (&error);
      if (devices == NULL)
        g_assert_error (error, HD_ERROR, HD_ERROR_NO_DEVICE);
      else
        g_assert_cmpuint (devices->len, ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*No Vulkan device found*");
}

static void
test_validation_layer_missing (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      HdVkContext *ctx;

      /* Explicit layers are searched in VK_LAYER_PATH only, when set. */
      g_setenv ("VK_LAYER_PATH", "/nonexistent/hyperdomain-no-layers", TRUE);
      g_setenv ("HYPERDOMAIN_VALIDATION", "1", TRUE);
      /* The warning expected here must not abort the child. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      ctx = hd_vk_context_new (NULL, &error);
      g_assert_no_error (error);
      g_assert_false (hd_vk_context_validation_enabled (ctx));
      hd_vk_context_unref (ctx);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*WARNING*VK_LAYER_KHRONOS_validation is not installed*");
}

static void
test_validation_clean (void)
{
  g_autoptr(GError) error = NULL;
  HdGeneratorConfig config = hd_test_config (16, 64, 16, 8, 12, TRUE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 3);
  HdVkContext *ctx = hd_vk_context_new (NULL, &error);
  HdRenderer *renderer;
  HdRenderParams params;
  float img[3 * 16 * 16];

  g_assert_no_error (error);
  if (g_strcmp0 (g_getenv ("HYPERDOMAIN_VALIDATION"), "1") == 0)
    g_assert_true (hd_vk_context_validation_enabled (ctx));

  renderer = hd_renderer_new (ctx, gen, &error);
  g_assert_no_error (error);
  hd_render_params_init (&params);
  params.noise_mode = HD_NOISE_RANDOM;
  g_assert_true (hd_renderer_render (renderer, &params, img, &error));
  g_assert_no_error (error);
  params.stop_res = 8;
  g_assert_true (hd_renderer_render (renderer, &params, img, &error));
  g_assert_no_error (error);
  hd_renderer_free (renderer);

  g_assert_cmpuint (hd_vk_context_get_validation_messages (ctx), ==, 0);
  /* Destroying the device reports objects left alive; none may be. */
  hd_vk_context_unref (ctx);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Vulkan/list-devices", test_list_devices);
  g_test_add_func ("/Hyperdomain/Vulkan/context-auto", test_context_auto);
  g_test_add_func ("/Hyperdomain/Vulkan/context-cpu", test_context_cpu);
  g_test_add_func ("/Hyperdomain/Vulkan/context-index", test_context_index);
  g_test_add_func ("/Hyperdomain/Vulkan/context-bad-index", test_context_bad_index);
  g_test_add_func ("/Hyperdomain/Vulkan/no-device", test_no_device);
  g_test_add_func ("/Hyperdomain/Vulkan/validation-layer-missing", test_validation_layer_missing);
  g_test_add_func ("/Hyperdomain/Vulkan/validation-clean", test_validation_clean);

  return g_test_run ();
}
