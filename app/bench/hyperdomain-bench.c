/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-bench: frame times of the Vulkan renderer.  Prints figures;
 * it asserts nothing (the machines it runs on are shared and noisy). */
#include "config.h"

#include <glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-renderer.h"
#include "hd-vk.h"

typedef struct {
  const char *name;
  int res, channel_base, channel_max, z_dim, w_dim, mapping_layers;
  gboolean clamp;
} Shape;

static const Shape shapes[] = {
  { "tiny", 32, 512, 64, 32, 48, 4, TRUE },
  /* The architecture of the bundled demo model (ARCH in
   * tools/train/train_base.py): 64x64, channels 128 down to 32,
   * z = w = 128, 4 mapping layers, no clamp. */
  { "demo", 64, 2048, 128, 128, 128, 4, FALSE },
  { "256", 256, 16384, 512, 512, 512, 8, FALSE },
  { "1024-config-f", 1024, 32768, 512, 512, 512, 8, FALSE },
};

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  if (values->len == 0)
    return NAN;
  return g_array_index (values, double, values->len / 2);
}

typedef enum {
  MODE_SEED,     /* a new seed every frame: mapping + synthesis */
  MODE_DOMAIN,   /* only a domain weight changes: cached mapping */
  MODE_PREVIEW,  /* the drag preview: a domain change, stopped early */
} Mode;

static const char * const mode_names[] = { "new seed", "domain weight", "drag preview" };

static gboolean
bench_mode (HdRenderer  *renderer,
            HdGenerator *gen,
            Mode         mode,
            int          preview_res,
            int          frames,
            GError     **error)
{
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) map = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) syn = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree float *domain = g_new0 (float, gen->domain_dim);
  g_autofree float *direction = g_new (float, gen->domain_dim);
  g_autofree float *out = NULL;
  HdRenderParams params;
  HdRenderStats stats;
  int res;
  double macs, med_wall, med_gpu;

  hd_render_params_init (&params);
  params.domain = domain;
  if (mode == MODE_PREVIEW)
    params.stop_res = preview_res;
  res = hd_render_params_output_res (&params, gen, error);
  if (res < 0)
    return FALSE;
  out = g_new (float, (gsize) gen->config.img_channels * res * res);
  for (int i = 0; i < gen->domain_dim; i++)
    direction[i] = 0.1f * sinf ((float) i);

  /* Two warm-up frames: pipelines, caches, first-touch of memory. */
  for (int f = -2; f < frames; f++)
    {
      if (mode == MODE_SEED)
        params.seed = (guint32) (f + 1000);
      else
        for (int i = 0; i < gen->domain_dim; i++)
          domain[i] = direction[i] * (float) (f + 3) / (float) frames;
      if (!hd_renderer_render (renderer, &params, out, error))
        return FALSE;
      if (f < 0)
        continue;
      hd_renderer_get_stats (renderer, &stats);
      g_array_append_val (wall, stats.total_ms);
      g_array_append_val (gpu, stats.gpu_ms);
      g_array_append_val (map, stats.mapping_ms);
      g_array_append_val (syn, stats.synthesis_ms);
    }

  macs = hd_generator_synthesis_macs (gen);
  med_wall = median (wall);
  med_gpu = median (gpu);
  printf ("  %-14s %4dx%-4d  median %9.2f ms/frame  (%6.1f fps)  GPU %9.2f ms  "
          "[mapping %7.2f, synthesis %9.2f]",
          mode_names[mode], res, res, med_wall, 1000.0 / med_wall, med_gpu,
          median (map), median (syn));
  if (mode != MODE_PREVIEW)
    printf ("  %7.1f GFLOP/s", 2.0 * macs / (med_wall * 1e6));
  printf ("\n");
  return TRUE;
}

static gboolean
bench_generator (HdVkContext *ctx,
                 HdGenerator *gen,
                 const char  *name,
                 int          frames,
                 GError     **error)
{
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;
  HdRenderStats stats;
  gint64 t0 = g_get_monotonic_time ();
  int preview = MAX (4, gen->config.img_resolution / 4);
  guint64 before = hd_vk_context_get_allocated_bytes (ctx, NULL);

  /* The peak counts every device allocation of the context (staging
   * buffers of the upload included) from here on. */
  hd_vk_context_reset_peak_allocated_bytes (ctx);
  renderer = hd_renderer_new (ctx, gen, error);
  if (renderer == NULL)
    return FALSE;
  hd_renderer_get_stats (renderer, &stats);
  printf ("%s: %dx%d, %.2f GMAC per frame, %d domain channels; load + upload %.0f ms, "
          "device memory %.1f MiB\n",
          name, gen->config.img_resolution, gen->config.img_resolution,
          hd_generator_synthesis_macs (gen) / 1e9, gen->domain_dim,
          (g_get_monotonic_time () - t0) / 1000.0, stats.device_bytes / 1048576.0);
  for (Mode m = MODE_SEED; m <= MODE_PREVIEW; m++)
    if (!bench_mode (renderer, gen, m, preview, frames, error))
      return FALSE;
  hd_renderer_get_stats (renderer, &stats);
  report = hd_renderer_get_memory_report (renderer);
  printf ("  device memory after rendering: %.1f MiB held by the renderer, "
          "%.1f MiB allocated on the device; peak %.1f MiB\n",
          stats.device_bytes / 1048576.0,
          (hd_vk_context_get_allocated_bytes (ctx, NULL) - before) / 1048576.0,
          (hd_vk_context_get_peak_allocated_bytes (ctx) - before) / 1048576.0);
  lines = g_strsplit (report, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      printf ("    %s\n", lines[i]);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_auto(GStrv) models = NULL;
  g_autofree char *device = NULL;
  g_autofree char *only = NULL;
  g_autofree char *save_dir = NULL;
  int frames = 10;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Vulkan device: auto, cpu or an index", "DEVICE" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames timed per case after two warm-up frames (default 10)", "N" },
    { "shape", 0, 0, G_OPTION_ARG_STRING, &only, "Only the random shapes whose name contains TEXT (tiny, demo, 256, 1024-config-f; \"none\" for none)", "TEXT" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &models, "Also time this generator file; may repeat", "GEN.safetensors" },
    { "save-generators", 0, 0, G_OPTION_ARG_FILENAME, &save_dir, "Write the random generators to DIR (for tools/bench/compare.sh)", "DIR" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("— time the renderer");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("hyperdomain-bench: %s\n", error->message);
      return 2;
    }
  frames = CLAMP (frames, 1, 100000);

  ctx = hd_vk_context_new (device, &error);
  if (ctx == NULL)
    {
      g_printerr ("hyperdomain-bench: %s\n", error->message);
      return 1;
    }
  printf ("device: %s (%s)\n", hd_vk_context_get_device_info (ctx)->name,
          hd_vk_context_get_device_info (ctx)->type_name);

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const Shape *sh = &shapes[s];
      HdGeneratorConfig config = {
        .z_dim = sh->z_dim, .w_dim = sh->w_dim, .img_resolution = sh->res,
        .img_channels = 3, .mapping_layers = sh->mapping_layers, .lr_multiplier = 0.01f,
        .channel_base = sh->channel_base, .channel_max = sh->channel_max,
        .has_conv_clamp = sh->clamp, .conv_clamp = 256.0f,
      };
      g_autoptr(HdGenerator) gen = NULL;

      if (only != NULL && strstr (sh->name, only) == NULL)
        continue;
      gen = hd_generator_new_random (&config, 1);
      if (save_dir != NULL)
        {
          g_autofree char *file = g_strdup_printf ("random-%s.safetensors", sh->name);
          g_autofree char *path = g_build_filename (save_dir, file, NULL);
          g_mkdir_with_parents (save_dir, 0777);
          if (!hd_generator_save (gen, path, HD_DTYPE_F32, &error))
            {
              g_printerr ("hyperdomain-bench: %s\n", error->message);
              return 1;
            }
        }
      if (!bench_generator (ctx, gen, sh->name, frames, &error))
        {
          g_printerr ("hyperdomain-bench: %s: %s\n", sh->name, error->message);
          return 1;
        }
    }

  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    {
      g_autoptr(HdGenerator) gen = hd_generator_load (models[i], &error);
      if (gen == NULL || !bench_generator (ctx, gen, models[i], frames, &error))
        {
          g_printerr ("hyperdomain-bench: %s\n", error->message);
          return 1;
        }
    }
  return 0;
}
