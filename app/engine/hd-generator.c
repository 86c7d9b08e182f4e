/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "hd-error.h"
#include "hd-generator.h"

/* HdGenerator is allocated with g_atomic_rc_box, so the reference count
 * lives outside the public struct. */

/* One tensor of the NVlabs layout, with where its data goes in the
 * HdGenerator and how a random generator fills it. */
typedef enum {
  SPEC_ARRAY,   /* float array: *dest points at it */
  SPEC_SCALAR,  /* shape [], stored in *scalar */
  SPEC_FILTER,  /* optional resample_filter, checked and dropped */
} SpecKind;

typedef struct {
  char         *name;
  SpecKind      kind;
  guint         n_dims;
  gint64        shape[4];
  const float **dest;
  float        *scalar;
  float         init_scale;   /* random: init_offset + init_scale * N(0,1) */
  float         init_offset;
} TensorSpec;

static void
tensor_spec_free (gpointer data)
{
  TensorSpec *spec = data;

  g_free (spec->name);
  g_free (spec);
}

static gsize
tensor_spec_n_elements (const TensorSpec *spec)
{
  gsize n = 1;

  for (guint i = 0; i < spec->n_dims; i++)
    n *= (gsize) spec->shape[i];
  return n;
}

static TensorSpec * G_GNUC_PRINTF (5, 6)
layout_add (GPtrArray  *layout,
            SpecKind    kind,
            guint       n_dims,
            const gint64 *shape,
            const char *format,
            ...)
{
  TensorSpec *spec = g_new0 (TensorSpec, 1);
  va_list args;

  va_start (args, format);
  spec->name = g_strdup_vprintf (format, args);
  va_end (args);
  spec->kind = kind;
  spec->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++)
    spec->shape[i] = shape[i];
  spec->init_scale = 1.0f;
  g_ptr_array_add (layout, spec);
  return spec;
}

static TensorSpec *
layout_add_array (GPtrArray    *layout,
                  const float **dest,
                  float         init_scale,
                  float         init_offset,
                  const char   *name,
                  guint         n_dims,
                  gint64        d0,
                  gint64        d1,
                  gint64        d2,
                  gint64        d3)
{
  gint64 shape[4] = { d0, d1, d2, d3 };
  TensorSpec *spec = layout_add (layout, SPEC_ARRAY, n_dims, shape, "%s", name);

  spec->dest = dest;
  spec->init_scale = init_scale;
  spec->init_offset = init_offset;
  return spec;
}

static void
layout_add_filter (GPtrArray  *layout,
                   const char *prefix)
{
  gint64 shape[2] = { 4, 4 };

  layout_add (layout, SPEC_FILTER, 2, shape, "%s.resample_filter", prefix);
}

static void
layout_add_conv (GPtrArray   *layout,
                 HdConvLayer *conv,
                 int          w_dim)
{
  g_autofree char *n_aw = g_strdup_printf ("%s.affine.weight", conv->name);
  g_autofree char *n_ab = g_strdup_printf ("%s.affine.bias", conv->name);
  g_autofree char *n_w = g_strdup_printf ("%s.weight", conv->name);
  g_autofree char *n_b = g_strdup_printf ("%s.bias", conv->name);
  g_autofree char *n_nc = g_strdup_printf ("%s.noise_const", conv->name);
  TensorSpec *spec;

  layout_add_array (layout, &conv->affine_weight, 1.0f, 0.0f, n_aw, 2,
                    conv->c_in, w_dim, 0, 0);
  layout_add_array (layout, &conv->affine_bias, 0.0f, 1.0f, n_ab, 1,
                    conv->c_in, 0, 0, 0);
  layout_add_array (layout, &conv->weight, 1.0f, 0.0f, n_w, 4,
                    conv->c_out, conv->c_in, 3, 3);
  layout_add_array (layout, &conv->bias, 0.1f, 0.0f, n_b, 1,
                    conv->c_out, 0, 0, 0);
  spec = layout_add (layout, SPEC_SCALAR, 0, NULL, "%s.noise_strength", conv->name);
  spec->scalar = &conv->noise_strength;
  spec->init_scale = 0.1f;
  layout_add_array (layout, &conv->noise_const, 1.0f, 0.0f, n_nc, 2,
                    conv->block_res, conv->block_res, 0, 0);
  layout_add_filter (layout, conv->name);
}

static void
layout_add_rgb (GPtrArray  *layout,
                HdRgbLayer *rgb,
                int         w_dim)
{
  g_autofree char *n_aw = g_strdup_printf ("%s.affine.weight", rgb->name);
  g_autofree char *n_ab = g_strdup_printf ("%s.affine.bias", rgb->name);
  g_autofree char *n_w = g_strdup_printf ("%s.weight", rgb->name);
  g_autofree char *n_b = g_strdup_printf ("%s.bias", rgb->name);

  layout_add_array (layout, &rgb->affine_weight, 1.0f, 0.0f, n_aw, 2,
                    rgb->c_in, w_dim, 0, 0);
  layout_add_array (layout, &rgb->affine_bias, 0.0f, 1.0f, n_ab, 1,
                    rgb->c_in, 0, 0, 0);
  layout_add_array (layout, &rgb->weight, 1.0f, 0.0f, n_w, 4,
                    rgb->c_out, rgb->c_in, 1, 1);
  layout_add_array (layout, &rgb->bias, 0.1f, 0.0f, n_b, 1,
                    rgb->c_out, 0, 0, 0);
}

/* Every tensor of the generator, in the order a file written by
 * hd_generator_save holds them.  The pointers refer to fields of GEN. */
static GPtrArray *
generator_layout (HdGenerator *gen)
{
  GPtrArray *layout = g_ptr_array_new_with_free_func (tensor_spec_free);
  int w_dim = gen->config.w_dim;
  int conv = 0;

  for (int i = 0; i < gen->config.mapping_layers; i++)
    {
      HdMappingLayer *fc = &gen->mapping[i];
      g_autofree char *n_w = g_strdup_printf ("mapping.fc%d.weight", i);
      g_autofree char *n_b = g_strdup_printf ("mapping.fc%d.bias", i);

      layout_add_array (layout, &fc->weight, 1.0f, 0.0f, n_w, 2,
                        fc->out_features, fc->in_features, 0, 0);
      layout_add_array (layout, &fc->bias, 0.1f, 0.0f, n_b, 1,
                        fc->out_features, 0, 0, 0);
    }
  layout_add_array (layout, &gen->w_avg, 0.1f, 0.0f, "mapping.w_avg", 1,
                    w_dim, 0, 0, 0);

  for (int b = 0; b < gen->n_blocks; b++)
    {
      int res = 4 << b;
      g_autofree char *block = g_strdup_printf ("synthesis.b%d", res);

      if (b == 0)
        {
          g_autofree char *n_const = g_strdup_printf ("%s.const", block);

          layout_add_array (layout, &gen->const_input, 1.0f, 0.0f, n_const, 3,
                            gen->convs[0].c_in, 4, 4, 0);
        }
      for (int k = (b == 0 ? 1 : 0); k < 2; k++)
        layout_add_conv (layout, &gen->convs[conv++], w_dim);
      layout_add_rgb (layout, &gen->rgbs[b], w_dim);
      layout_add_filter (layout, block);
    }
  return layout;
}

static int
int_log2 (int value)
{
  int log2 = 0;

  while ((1 << log2) < value)
    log2++;
  return log2;
}

/* A generator with every shape, name and index set from CONFIG (which
 * must be valid) and no weights yet. */
static HdGenerator *
generator_alloc (const HdGeneratorConfig *config)
{
  HdGenerator *gen = g_atomic_rc_box_new0 (HdGenerator);
  int log2_res = int_log2 (config->img_resolution);
  int conv = 0;
  int offset = 0;

  gen->config = *config;
  gen->num_ws = 2 * log2_res - 2;
  gen->n_blocks = log2_res - 1;
  gen->owned = g_ptr_array_new_with_free_func (g_free);

  gen->mapping = g_new0 (HdMappingLayer, config->mapping_layers);
  for (int i = 0; i < config->mapping_layers; i++)
    {
      gen->mapping[i].in_features = i == 0 ? config->z_dim : config->w_dim;
      gen->mapping[i].out_features = config->w_dim;
    }

  gen->n_convs = 2 * gen->n_blocks - 1;
  gen->convs = g_new0 (HdConvLayer, gen->n_convs);
  gen->n_rgbs = gen->n_blocks;
  gen->rgbs = g_new0 (HdRgbLayer, gen->n_rgbs);

  for (int b = 0; b < gen->n_blocks; b++)
    {
      int res = 4 << b;
      int ch = hd_generator_config_channels (config, res);
      HdRgbLayer *rgb = &gen->rgbs[b];

      for (int k = (b == 0 ? 1 : 0); k < 2; k++)
        {
          HdConvLayer *c = &gen->convs[conv++];

          c->name = g_strdup_printf ("synthesis.b%d.conv%d", res, k);
          c->block_res = res;
          c->up = (k == 0);
          c->in_res = c->up ? res / 2 : res;
          c->c_in = c->up ? hd_generator_config_channels (config, res / 2) : ch;
          c->c_out = ch;
          c->w_index = (b == 0) ? 0 : 2 * (b - 1) + 1 + k;
          c->domain_offset = offset;
          offset += c->c_in;
        }
      rgb->name = g_strdup_printf ("synthesis.b%d.torgb", res);
      rgb->block_res = res;
      rgb->c_in = ch;
      rgb->c_out = config->img_channels;
      rgb->w_index = 2 * b + 1;
    }
  gen->domain_dim = offset;
  return gen;
}

static void
generator_clear (gpointer data)
{
  HdGenerator *gen = data;

  for (int i = 0; i < gen->n_convs; i++)
    g_free (gen->convs[i].name);
  for (int i = 0; i < gen->n_rgbs; i++)
    g_free (gen->rgbs[i].name);
  g_free (gen->convs);
  g_free (gen->rgbs);
  g_free (gen->mapping);
  g_free (gen->path);
  g_free (gen->name);
  g_free (gen->description);
  g_free (gen->license);
  g_free (gen->source);
  g_clear_pointer (&gen->owned, g_ptr_array_unref);
  g_clear_pointer (&gen->file, hd_safetensors_unref);
}

HdGenerator *
hd_generator_ref (HdGenerator *gen)
{
  g_return_val_if_fail (gen != NULL, NULL);

  return g_atomic_rc_box_acquire (gen);
}

void
hd_generator_unref (HdGenerator *gen)
{
  g_return_if_fail (gen != NULL);

  g_atomic_rc_box_release_full (gen, generator_clear);
}

int
hd_generator_config_channels (const HdGeneratorConfig *config,
                              int                      res)
{
  g_return_val_if_fail (config != NULL, 0);
  g_return_val_if_fail (res > 0, 0);

  return MIN (config->channel_base / res, config->channel_max);
}

static gboolean
is_power_of_two (int value)
{
  return value > 0 && (value & (value - 1)) == 0;
}

gboolean
hd_generator_config_validate (const HdGeneratorConfig *config,
                              GError                 **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  if (config->c_dim != 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   "conditional generators (c_dim %d) are not supported",
                   config->c_dim);
      return FALSE;
    }
  if (!is_power_of_two (config->img_resolution) ||
      config->img_resolution < 8 || config->img_resolution > HD_MAX_RESOLUTION)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   "img_resolution %d is not supported; it must be a power of two from 8 to %d",
                   config->img_resolution, HD_MAX_RESOLUTION);
      return FALSE;
    }
  if (config->z_dim < 1 || config->z_dim > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "z_dim %d is out of range (1 to %d)",
                   config->z_dim, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (config->w_dim < 1 || config->w_dim > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "w_dim %d is out of range (1 to %d)",
                   config->w_dim, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (config->img_channels < 1 || config->img_channels > 4)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   "img_channels %d is not supported (1 to 4)",
                   config->img_channels);
      return FALSE;
    }
  if (config->mapping_layers < 1 || config->mapping_layers > 64)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "mapping.num_layers %d is out of range (1 to 64)",
                   config->mapping_layers);
      return FALSE;
    }
  if (!isfinite (config->lr_multiplier) || config->lr_multiplier <= 0.0f)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "mapping.lr_multiplier %g must be a positive number",
                   (double) config->lr_multiplier);
      return FALSE;
    }
  if (config->channel_max < 1 || config->channel_max > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "synthesis.channel_max %d is out of range (1 to %d)",
                   config->channel_max, HD_MAX_CHANNELS);
      return FALSE;
    }
  /* Every block needs at least one channel: base / R_max >= 1. */
  if (config->channel_base < config->img_resolution)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "synthesis.channel_base %d gives no channels at resolution %d",
                   config->channel_base, config->img_resolution);
      return FALSE;
    }
  if (config->has_conv_clamp &&
      (!isfinite (config->conv_clamp) || config->conv_clamp < 0.0f))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   "synthesis.conv_clamp %g must be a non-negative number or null",
                   (double) config->conv_clamp);
      return FALSE;
    }
  return TRUE;
}

/* A small deterministic generator of normal numbers (splitmix64 and the
 * Box-Muller transform), independent of any library's sequence. */
typedef struct {
  guint64  state;
  gboolean has_spare;
  double   spare;
} RandomNormal;

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double
random_normal (RandomNormal *rng)
{
  double u1, u2, radius;

  if (rng->has_spare)
    {
      rng->has_spare = FALSE;
      return rng->spare;
    }
  /* u1 in (0, 1], u2 in [0, 1), 53 random bits each. */
  u1 = ((double) (splitmix64 (&rng->state) >> 11) + 1.0) / 9007199254740992.0;
  u2 = (double) (splitmix64 (&rng->state) >> 11) / 9007199254740992.0;
  radius = sqrt (-2.0 * log (u1));
  rng->spare = radius * sin (2.0 * G_PI * u2);
  rng->has_spare = TRUE;
  return radius * cos (2.0 * G_PI * u2);
}

HdGenerator *
hd_generator_new_random (const HdGeneratorConfig *config,
                         guint32                  seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) layout = NULL;
  RandomNormal rng = { 0, };
  HdGenerator *gen;

  g_return_val_if_fail (config != NULL, NULL);

  if (!hd_generator_config_validate (config, &error))
    {
      g_critical ("hd_generator_new_random: %s", error->message);
      return NULL;
    }

  rng.state = G_GUINT64_CONSTANT (0x48797065724d6f64) ^ seed;
  gen = generator_alloc (config);
  layout = generator_layout (gen);
  for (guint t = 0; t < layout->len; t++)
    {
      TensorSpec *spec = g_ptr_array_index (layout, t);

      if (spec->kind == SPEC_ARRAY)
        {
          gsize n = tensor_spec_n_elements (spec);
          float *data = g_new (float, n);

          for (gsize i = 0; i < n; i++)
            data[i] = spec->init_offset +
                      spec->init_scale * (float) random_normal (&rng);
          g_ptr_array_add (gen->owned, data);
          *spec->dest = data;
        }
      else if (spec->kind == SPEC_SCALAR)
        {
          *spec->scalar = spec->init_offset +
                          spec->init_scale * (float) random_normal (&rng);
        }
    }
  gen->name = g_strdup_printf ("random-%d", config->img_resolution);
  return gen;
}

const HdConvLayer *
hd_generator_find_conv (HdGenerator *gen,
                        const char  *name)
{
  g_return_val_if_fail (gen != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (int i = 0; i < gen->n_convs; i++)
    if (strcmp (gen->convs[i].name, name) == 0)
      return &gen->convs[i];
  return NULL;
}

/* Modulated convs (up-convs counted as transposed convs over their input
 * pixels, as in generator-math §9) plus the ToRGB layers. */
double
hd_generator_synthesis_macs (HdGenerator *gen)
{
  double macs = 0.0;

  g_return_val_if_fail (gen != NULL, 0.0);

  for (int i = 0; i < gen->n_convs; i++)
    {
      const HdConvLayer *c = &gen->convs[i];
      macs += (double) c->c_out * c->c_in * 9.0 * c->in_res * c->in_res;
    }
  for (int i = 0; i < gen->n_rgbs; i++)
    {
      const HdRgbLayer *r = &gen->rgbs[i];
      macs += (double) r->c_out * r->c_in * r->block_res * r->block_res;
    }
  return macs;
}

HdGenerator *
hd_generator_load (const char  *path,
                   GError     **error)
{
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               "%s: loading generators is not implemented yet", path);
  return NULL;
}

HdGenerator *
hd_generator_new_from_safetensors (HdSafetensors *st,
                                   GError       **error)
{
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               "loading generators is not implemented yet");
  return NULL;
}

gboolean
hd_generator_save (HdGenerator  *gen,
                   const char   *path,
                   HdDtype       dtype,
                   GError      **error)
{
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               "%s: saving generators is not implemented yet", path);
  return FALSE;
}
