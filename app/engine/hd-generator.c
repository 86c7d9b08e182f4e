/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

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

/* The four tensors of a modulated layer NAME with KERNEL x KERNEL
 * weights, in file order: the affine (style) weight and bias, then the
 * weight and the bias. */
static void
layout_add_modulated (GPtrArray    *layout,
                      const char   *name,
                      const float **affine_weight,
                      const float **affine_bias,
                      const float **weight,
                      const float **bias,
                      int           c_in,
                      int           c_out,
                      int           kernel,
                      int           w_dim)
{
  g_autofree char *n_aw = g_strdup_printf ("%s.affine.weight", name);
  g_autofree char *n_ab = g_strdup_printf ("%s.affine.bias", name);
  g_autofree char *n_w = g_strdup_printf ("%s.weight", name);
  g_autofree char *n_b = g_strdup_printf ("%s.bias", name);

  layout_add_array (layout, affine_weight, 1.0f, 0.0f, n_aw, 2, c_in, w_dim, 0, 0);
  layout_add_array (layout, affine_bias, 0.0f, 1.0f, n_ab, 1, c_in, 0, 0, 0);
  layout_add_array (layout, weight, 1.0f, 0.0f, n_w, 4, c_out, c_in, kernel, kernel);
  layout_add_array (layout, bias, 0.1f, 0.0f, n_b, 1, c_out, 0, 0, 0);
}

static void
layout_add_conv (GPtrArray   *layout,
                 HdConvLayer *conv,
                 int          w_dim)
{
  g_autofree char *n_nc = g_strdup_printf ("%s.noise_const", conv->name);
  TensorSpec *spec;

  layout_add_modulated (layout, conv->name, &conv->affine_weight, &conv->affine_bias,
                        &conv->weight, &conv->bias, conv->c_in, conv->c_out, 3, w_dim);
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
  layout_add_modulated (layout, rgb->name, &rgb->affine_weight, &rgb->affine_bias,
                        &rgb->weight, &rgb->bias, rgb->c_in, rgb->c_out, 1, w_dim);
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
  int bits = 0;

  while ((1 << bits) < value)
    bits++;
  return bits;
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
          /* generator-math §3: with k = log2(R) - 2 = b, conv0 takes
           * w_{2k-1} and conv1 w_{2k}; b4.conv1 takes w_0. */
          c->w_index = (b == 0) ? 0 : 2 * b - 1 + k;
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
                   _("conditional generators (c_dim %d) are not supported"),
                   config->c_dim);
      return FALSE;
    }
  if (!is_power_of_two (config->img_resolution) ||
      config->img_resolution < 8 || config->img_resolution > HD_MAX_RESOLUTION)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("img_resolution %d is not supported; it must be a power of two from 8 to %d"),
                   config->img_resolution, HD_MAX_RESOLUTION);
      return FALSE;
    }
  if (config->z_dim < 1 || config->z_dim > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("z_dim %d is out of range (1 to %d)"),
                   config->z_dim, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (config->w_dim < 1 || config->w_dim > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("w_dim %d is out of range (1 to %d)"),
                   config->w_dim, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (config->img_channels < 1 || config->img_channels > 4)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("img_channels %d is not supported (1 to 4)"),
                   config->img_channels);
      return FALSE;
    }
  if (config->mapping_layers < 1 || config->mapping_layers > 64)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("mapping.num_layers %d is out of range (1 to 64)"),
                   config->mapping_layers);
      return FALSE;
    }
  if (!isfinite (config->lr_multiplier) || config->lr_multiplier <= 0.0f)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("mapping.lr_multiplier %g must be a positive number"),
                   (double) config->lr_multiplier);
      return FALSE;
    }
  if (config->channel_max < 1 || config->channel_max > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("synthesis.channel_max %d is out of range (1 to %d)"),
                   config->channel_max, HD_MAX_CHANNELS);
      return FALSE;
    }
  /* Every block needs at least one channel: base / R_max >= 1. */
  if (config->channel_base < config->img_resolution)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("synthesis.channel_base %d gives no channels at resolution %d"),
                   config->channel_base, config->img_resolution);
      return FALSE;
    }
  if (config->has_conv_clamp &&
      (!isfinite (config->conv_clamp) || config->conv_clamp < 0.0f))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("synthesis.conv_clamp %g must be a non-negative number or null"),
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

/* Config parsing (formats.md §1). */

#define CONFIG_MAX_DEPTH 16
#define CONFIG_MAX_BYTES (64 * 1024)

/* Nesting depth over brackets outside strings, checked before json-glib
 * (a recursive parser) sees the text. */
static guint
json_text_depth (const char *text)
{
  gboolean in_string = FALSE;
  guint depth = 0, max_depth = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (in_string)
        {
          if (*p == '\\' && p[1] != '\0')
            p++;
          else if (*p == '"')
            in_string = FALSE;
        }
      else if (*p == '"')
        in_string = TRUE;
      else if (*p == '[' || *p == '{')
        max_depth = MAX (max_depth, ++depth);
      else if ((*p == ']' || *p == '}') && depth > 0)
        depth--;
    }
  return max_depth;
}

static JsonNode *
config_member (JsonObject *object,
               const char *key)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;
  node = json_object_get_member (object, key);
  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return node;
}

/* An object of hyperdomain.config, with what messages name it by. */
typedef struct {
  const char *file;    /* the generator file */
  JsonObject *object;  /* NULL where the config has no such section */
  const char *prefix;  /* "", "mapping." or "synthesis.": put before its keys */
} ConfigSection;

/* KEY of SECTION as an int; DEFAULT_VALUE when absent, or an error when
 * REQUIRED. */
static gboolean
config_get_int (const ConfigSection  *section,
                const char           *key,
                gboolean              required,
                int                   default_value,
                int                  *out,
                GError              **error)
{
  const char *file = section->file, *prefix = section->prefix;
  JsonNode *node = config_member (section->object, key);
  gint64 value;

  if (node == NULL)
    {
      if (required)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       /* Translators: a file name, then a key of the generator config,
                          such as z_dim or mapping.num_layers. */
                       _("%s: hyperdomain.config has no %s%s"), file, prefix, key);
          return FALSE;
        }
      *out = default_value;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config: %s%s is not an integer"), file, prefix, key);
      return FALSE;
    }
  value = json_node_get_int (node);
  if (value < -(1 << 20) || value > (1 << 20))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config: %s%s %lld is out of range"),
                   file, prefix, key, (long long) value);
      return FALSE;
    }
  *out = (int) value;
  return TRUE;
}

/* A number (integer or not); *PRESENT is FALSE for an absent or null key. */
static gboolean
config_get_number (const ConfigSection  *section,
                   const char           *key,
                   gboolean             *present,
                   float                *out,
                   GError              **error)
{
  JsonNode *node = config_member (section->object, key);
  GType type;

  *present = FALSE;
  if (node == NULL)
    return TRUE;
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_INT64)
    *out = (float) json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out = (float) json_node_get_double (node);
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config: %s%s is not a number"),
                   section->file, section->prefix, key);
      return FALSE;
    }
  *present = TRUE;
  return TRUE;
}

/* The object KEY of the top level into SECTION->object. */
static gboolean
config_get_section (const ConfigSection  *top,
                    const char           *key,
                    ConfigSection        *section,
                    GError              **error)
{
  JsonNode *node = config_member (top->object, key);

  section->object = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config: %s is not an object"), top->file, key);
      return FALSE;
    }
  section->object = json_node_get_object (node);
  return TRUE;
}

static gboolean
parse_config (const char         *file,
              const char         *text,
              HdGeneratorConfig  *config,
              GError            **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  ConfigSection top = { file, NULL, "" };
  ConfigSection mapping = { file, NULL, "mapping." };
  ConfigSection synthesis = { file, NULL, "synthesis." };
  JsonNode *node;
  const char *architecture = "skip";
  gboolean present;

  if (strlen (text) > CONFIG_MAX_BYTES || json_text_depth (text) > CONFIG_MAX_DEPTH)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config is too large or too deeply nested"), file);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, text, -1, &local_error))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config is not valid JSON: %s"), file, local_error->message);
      return FALSE;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config is not a JSON object"), file);
      return FALSE;
    }
  top.object = json_node_get_object (json_parser_get_root (parser));

  memset (config, 0, sizeof *config);
  if (!config_get_section (&top, "mapping", &mapping, error) ||
      !config_get_section (&top, "synthesis", &synthesis, error) ||
      !config_get_int (&top, "z_dim", TRUE, 0, &config->z_dim, error) ||
      !config_get_int (&top, "w_dim", TRUE, 0, &config->w_dim, error) ||
      !config_get_int (&top, "c_dim", FALSE, 0, &config->c_dim, error) ||
      !config_get_int (&top, "img_resolution", TRUE, 0, &config->img_resolution, error) ||
      !config_get_int (&top, "img_channels", TRUE, 0, &config->img_channels, error) ||
      !config_get_int (&mapping, "num_layers", FALSE, 8, &config->mapping_layers, error) ||
      !config_get_number (&mapping, "lr_multiplier", &present, &config->lr_multiplier, error) ||
      !config_get_int (&synthesis, "channel_base", FALSE, 32768, &config->channel_base, error) ||
      !config_get_int (&synthesis, "channel_max", FALSE, 512, &config->channel_max, error))
    return FALSE;
  if (!present)
    config->lr_multiplier = 0.01f;
  if (!config_get_number (&synthesis, "conv_clamp", &config->has_conv_clamp,
                          &config->conv_clamp, error))
    return FALSE;

  node = config_member (synthesis.object, "architecture");
  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: hyperdomain.config: synthesis.architecture is not a string"), file);
          return FALSE;
        }
      architecture = json_node_get_string (node);
    }
  if (!g_str_equal (architecture, "skip"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: architecture “%s” is not supported; only “skip” generators are"),
                   file, architecture);
      return FALSE;
    }
  if (!hd_generator_config_validate (config, &local_error))
    {
      g_set_error (error, HD_ERROR, local_error->code,
                   /* Translators: a file name, then what is wrong with that file. */
                   _("%s: %s"), file, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static void
standard_resample_filter (float filter[16])
{
  static const float k[4] = { 1.0f, 3.0f, 3.0f, 1.0f };

  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      filter[y * 4 + x] = k[y] * k[x] / 64.0f;
}

/* Points the fields of GEN at the data of TENSOR (which matches SPEC). */
static gboolean
load_tensor (HdGenerator       *gen,
             const char        *file,
             const TensorSpec  *spec,
             const HdTensor    *tensor,
             gboolean          *uses_mapping,
             GError           **error)
{
  gboolean same_shape = tensor->n_dims == spec->n_dims;

  for (guint d = 0; same_shape && d < spec->n_dims; d++)
    same_shape = tensor->shape[d] == spec->shape[d];
  if (!same_shape)
    {
      g_autofree char *expected = hd_shape_to_string (spec->shape, spec->n_dims);
      g_autofree char *found = hd_shape_to_string (tensor->shape, tensor->n_dims);

      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("%s: tensor “%s” has shape %s, but the config needs %s"),
                   file, spec->name, found, expected);
      return FALSE;
    }
  if (!hd_tensor_is_finite (tensor))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: tensor “%s” contains NaN or infinite values"), file, spec->name);
      return FALSE;
    }

  switch (spec->kind)
    {
    case SPEC_FILTER:
      {
        float got[16], expected[16];

        hd_tensor_to_f32 (tensor, got);
        standard_resample_filter (expected);
        for (int i = 0; i < 16; i++)
          if (fabsf (got[i] - expected[i]) > 1e-6f)
            {
              g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                           _("%s: tensor “%s” is not the standard [1, 3, 3, 1] resample "
                             "filter; other filters are not supported"),
                           file, spec->name);
              return FALSE;
            }
      }
      break;
    case SPEC_SCALAR:
      hd_tensor_to_f32 (tensor, spec->scalar);
      break;
    case SPEC_ARRAY:
    default:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      if (tensor->dtype == HD_DTYPE_F32 &&
          ((guintptr) tensor->data % G_ALIGNOF (float)) == 0)
        {
          /* Zero copy: the pointer stays valid while gen->file is held. */
          *spec->dest = (const float *) (gconstpointer) tensor->data;
          *uses_mapping = TRUE;
          break;
        }
#endif
      {
        float *data = g_new (float, MAX (tensor->n_elements, 1));

        hd_tensor_to_f32 (tensor, data);
        g_ptr_array_add (gen->owned, data);
        *spec->dest = data;
      }
      break;
    }
  return TRUE;
}

static char *
name_from_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_steal_pointer (&base);
}

HdGenerator *
hd_generator_new_from_safetensors (HdSafetensors  *st,
                                   GError        **error)
{
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) layout = NULL;
  g_autoptr(GHashTable) known = NULL;
  HdGeneratorConfig config;
  const char *file, *kind, *config_text, *name;
  gboolean uses_mapping = FALSE;

  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = hd_safetensors_get_path (st);
  kind = hd_safetensors_get_metadata (st, "hyperdomain.kind");
  config_text = hd_safetensors_get_metadata (st, "hyperdomain.config");

  if (kind == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: not a Hyperdomain generator (hyperdomain.kind is missing from its metadata)"),
                   file);
      return NULL;
    }
  if (g_str_equal (kind, "domain") || g_str_equal (kind, "domain-pack"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   g_str_equal (kind, "domain")
                   ? _("%s: this file is a domain, not a generator; load it as a domain")
                   : _("%s: this file is a domain pack, not a generator; load it as a domain"),
                   file);
      return NULL;
    }
  if (!g_str_equal (kind, "generator"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.kind is “%s”; a generator file has kind “generator”"),
                   file, kind);
      return NULL;
    }
  if (!hd_safetensors_check_version (st, file, error))
    return NULL;
  if (config_text == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.config is missing from the metadata"), file);
      return NULL;
    }
  if (!parse_config (file, config_text, &config, error))
    return NULL;

  gen = generator_alloc (&config);
  layout = generator_layout (gen);
  known = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < layout->len; i++)
    {
      TensorSpec *spec = g_ptr_array_index (layout, i);
      const HdTensor *tensor = hd_safetensors_lookup (st, spec->name);

      g_hash_table_add (known, spec->name);
      if (tensor == NULL)
        {
          if (spec->kind == SPEC_FILTER)
            continue;
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: tensor “%s” is missing (the config describes a generator that needs it)"),
                       file, spec->name);
          return NULL;
        }
      if (!load_tensor (gen, file, spec, tensor, &uses_mapping, error))
        return NULL;
    }
  for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
    {
      const HdTensor *tensor = hd_safetensors_get_tensor (st, i);

      if (!g_hash_table_contains (known, tensor->name))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: unexpected tensor “%s”; it is not part of a StyleGAN2 skip "
                         "generator with this config"),
                       file, tensor->name);
          return NULL;
        }
    }

  if (uses_mapping)
    gen->file = hd_safetensors_ref (st);
  gen->path = g_canonicalize_filename (file, NULL);
  name = hd_safetensors_get_metadata (st, "hyperdomain.name");
  gen->name = (name != NULL && *name != '\0') ? g_strdup (name) : name_from_path (file);
  gen->description = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.description"));
  gen->license = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.license"));
  gen->source = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.source"));
  return g_steal_pointer (&gen);
}

HdGenerator *
hd_generator_load (const char  *path,
                   GError     **error)
{
  g_autoptr(HdSafetensors) st = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  st = hd_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  return hd_generator_new_from_safetensors (st, error);
}

static char *
format_float (float value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.9g", (double) value));
}

static char *
config_to_json (const HdGeneratorConfig *config)
{
  g_autofree char *lr = format_float (config->lr_multiplier);
  g_autofree char *clamp = config->has_conv_clamp ? format_float (config->conv_clamp)
                                                  : g_strdup ("null");

  return g_strdup_printf ("{\"z_dim\":%d,\"w_dim\":%d,\"c_dim\":%d,\"img_resolution\":%d,"
                          "\"img_channels\":%d,\"mapping\":{\"num_layers\":%d,"
                          "\"lr_multiplier\":%s},\"synthesis\":{\"channel_base\":%d,"
                          "\"channel_max\":%d,\"conv_clamp\":%s,\"architecture\":\"skip\"}}",
                          config->z_dim, config->w_dim, config->c_dim, config->img_resolution,
                          config->img_channels, config->mapping_layers, lr,
                          config->channel_base, config->channel_max, clamp);
}

gboolean
hd_generator_save (HdGenerator  *gen,
                   const char   *path,
                   HdDtype       dtype,
                   GError      **error)
{
  g_autoptr(HdSafetensorsWriter) writer = NULL;
  g_autoptr(GPtrArray) layout = NULL;
  g_autofree char *config = NULL;
  float filter[16];

  g_return_val_if_fail (gen != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  writer = hd_safetensors_writer_new ();
  config = config_to_json (&gen->config);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "generator");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.config", config);
  if (gen->name != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", gen->name);
  if (gen->description != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.description", gen->description);
  if (gen->license != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.license", gen->license);
  if (gen->source != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.source", gen->source);

  standard_resample_filter (filter);
  layout = generator_layout (gen);
  for (guint i = 0; i < layout->len; i++)
    {
      TensorSpec *spec = g_ptr_array_index (layout, i);
      const float *data;

      if (spec->kind == SPEC_FILTER)
        data = filter;
      else if (spec->kind == SPEC_SCALAR)
        data = spec->scalar;
      else
        data = *spec->dest;
      hd_safetensors_writer_add_f32 (writer, spec->name, dtype, spec->shape,
                                     spec->n_dims, data);
    }
  return hd_safetensors_writer_write (writer, path, error);
}
