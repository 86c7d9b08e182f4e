/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-half.h"
#include "hd-test-util.h"

#define VARIANT_NAME "variant.safetensors"

static HdGeneratorConfig
small_config (void)
{
  /* 32x32, channels 4:64 8:64 16:32 32:16, like tiny but 2 mapping layers. */
  return hd_test_config (32, 512, 64, 32, 48, TRUE);
}

static void
test_tiny (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (path, &error);
  g_autoptr(HdSafetensors) st = NULL;
  static const int channels[] = { 64, 64, 32, 16 };
  static const char *conv_names[] = {
    "synthesis.b4.conv1", "synthesis.b8.conv0", "synthesis.b8.conv1",
    "synthesis.b16.conv0", "synthesis.b16.conv1", "synthesis.b32.conv0",
    "synthesis.b32.conv1",
  };
  static const int c_in[] = { 64, 64, 64, 64, 32, 32, 16 };
  static const int c_out[] = { 64, 64, 64, 32, 32, 16, 16 };
  static const int offsets[] = { 0, 64, 128, 192, 256, 288, 320 };
  const HdTensor *t;
  float value;

  g_assert_no_error (error);
  g_assert_nonnull (gen);
  g_assert_cmpint (gen->config.z_dim, ==, 32);
  g_assert_cmpint (gen->config.w_dim, ==, 48);
  g_assert_cmpint (gen->config.c_dim, ==, 0);
  g_assert_cmpint (gen->config.img_resolution, ==, 32);
  g_assert_cmpint (gen->config.img_channels, ==, 3);
  g_assert_cmpint (gen->config.mapping_layers, ==, 4);
  g_assert_cmpfloat (gen->config.lr_multiplier, ==, 0.01f);
  g_assert_cmpint (gen->config.channel_base, ==, 512);
  g_assert_cmpint (gen->config.channel_max, ==, 64);
  g_assert_true (gen->config.has_conv_clamp);
  g_assert_cmpfloat (gen->config.conv_clamp, ==, 256.0f);
  for (int b = 0; b < 4; b++)
    g_assert_cmpint (hd_generator_config_channels (&gen->config, 4 << b), ==, channels[b]);

  g_assert_cmpint (gen->num_ws, ==, 8);
  g_assert_cmpint (gen->n_blocks, ==, 4);
  g_assert_cmpint (gen->n_convs, ==, 7);
  g_assert_cmpint (gen->n_rgbs, ==, 4);
  g_assert_cmpint (gen->domain_dim, ==, 336);
  for (int i = 0; i < 7; i++)
    {
      const HdConvLayer *conv = &gen->convs[i];

      g_assert_cmpstr (conv->name, ==, conv_names[i]);
      g_assert_cmpint (conv->w_index, ==, i);
      g_assert_cmpint (conv->c_in, ==, c_in[i]);
      g_assert_cmpint (conv->c_out, ==, c_out[i]);
      g_assert_cmpint (conv->domain_offset, ==, offsets[i]);
      g_assert_cmpint (conv->up, ==, (i % 2) == 1);
      g_assert_cmpint (conv->block_res, ==, 4 << ((i + 1) / 2));
      g_assert_cmpint (conv->in_res, ==, conv->up ? conv->block_res / 2 : conv->block_res);
      g_assert_nonnull (conv->weight);
      g_assert_nonnull (conv->affine_weight);
      g_assert_nonnull (conv->affine_bias);
      g_assert_nonnull (conv->bias);
      g_assert_nonnull (conv->noise_const);
      g_assert_true (hd_generator_find_conv (gen, conv_names[i]) == conv);
    }
  g_assert_null (hd_generator_find_conv (gen, "synthesis.b4.conv0"));
  g_assert_null (hd_generator_find_conv (gen, "synthesis.b64.conv1"));
  for (int b = 0; b < 4; b++)
    {
      const HdRgbLayer *rgb = &gen->rgbs[b];
      g_autofree char *name = g_strdup_printf ("synthesis.b%d.torgb", 4 << b);

      g_assert_cmpstr (rgb->name, ==, name);
      g_assert_cmpint (rgb->w_index, ==, 2 * b + 1);
      g_assert_cmpint (rgb->block_res, ==, 4 << b);
      g_assert_cmpint (rgb->c_in, ==, channels[b]);
      g_assert_cmpint (rgb->c_out, ==, 3);
    }
  g_assert_cmpint (gen->mapping[0].in_features, ==, 32);
  g_assert_cmpint (gen->mapping[0].out_features, ==, 48);
  g_assert_cmpint (gen->mapping[3].in_features, ==, 48);

  g_assert_cmpstr (gen->name, ==, "tiny");
  g_assert_cmpstr (gen->description, ==, "Conformance generator, 32x32, random weights");
  g_assert_null (gen->license);
  g_assert_true (g_path_is_absolute (gen->path));
  g_assert_true (g_str_has_suffix (gen->path, "/tiny.safetensors"));

  /* The values are those of the file. */
  st = hd_safetensors_open (path, &error);
  g_assert_no_error (error);
  t = hd_safetensors_lookup (st, "synthesis.b16.conv0.weight");
  g_assert_cmpmem (gen->convs[3].weight, 32 * 64 * 9 * sizeof (float), t->data, t->n_bytes);
  t = hd_safetensors_lookup (st, "synthesis.b32.conv1.noise_strength");
  hd_tensor_to_f32 (t, &value);
  g_assert_cmpfloat (gen->convs[6].noise_strength, ==, value);
  t = hd_safetensors_lookup (st, "synthesis.b32.conv1.bias");
  g_assert_cmpmem (gen->convs[6].bias, 16 * sizeof (float), t->data, t->n_bytes);
  g_assert_cmpfloat (gen->convs[6].bias[3], ==, 300.0f);
}

static void
test_random (void)
{
  HdGeneratorConfig config = small_config ();
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);
  g_autoptr(HdGenerator) same = hd_generator_new_random (&config, 1);
  g_autoptr(HdGenerator) other = hd_generator_new_random (&config, 2);
  double sum = 0.0, sum_sq = 0.0;
  gsize n;

  g_assert_nonnull (gen);
  g_assert_cmpstr (gen->name, ==, "random-32");
  g_assert_null (gen->path);
  g_assert_cmpint (gen->num_ws, ==, 8);
  g_assert_cmpint (gen->n_convs, ==, 7);
  g_assert_cmpint (gen->n_rgbs, ==, 4);
  g_assert_cmpint (gen->domain_dim, ==, 336);
  g_assert_cmpint (gen->convs[6].w_index, ==, 6);
  g_assert_cmpint (gen->rgbs[3].w_index, ==, 7);
  g_assert_true (hd_generator_find_conv (gen, "synthesis.b16.conv0") == &gen->convs[3]);

  /* Deterministic for a seed, different across seeds. */
  g_assert_cmpmem (gen->convs[3].weight, 32 * 64 * 9 * sizeof (float),
                   same->convs[3].weight, 32 * 64 * 9 * sizeof (float));
  g_assert_cmpmem (gen->mapping[1].weight, 48 * 48 * sizeof (float),
                   same->mapping[1].weight, 48 * 48 * sizeof (float));
  g_assert_cmpfloat (gen->convs[3].noise_strength, ==, same->convs[3].noise_strength);
  g_assert_true (memcmp (gen->convs[3].weight, other->convs[3].weight, 64) != 0);

  /* Weights about N(0, 1), affine biases 1, small nonzero biases. */
  n = 64 * 64 * 9;
  for (gsize i = 0; i < n; i++)
    {
      sum += gen->convs[0].weight[i];
      sum_sq += (double) gen->convs[0].weight[i] * gen->convs[0].weight[i];
    }
  g_assert_cmpfloat (fabs (sum / n), <, 0.05);
  g_assert_cmpfloat (fabs (sum_sq / n - 1.0), <, 0.05);
  for (int i = 0; i < gen->n_convs; i++)
    {
      g_assert_cmpfloat (gen->convs[i].affine_bias[0], ==, 1.0f);
      g_assert_cmpfloat (gen->convs[i].noise_strength, !=, 0.0f);
      g_assert_cmpfloat (fabsf (gen->convs[i].bias[0]), <, 1.0f);
      g_assert_cmpfloat (gen->convs[i].bias[0], !=, 0.0f);
    }
  g_assert_cmpfloat (gen->rgbs[0].affine_bias[0], ==, 1.0f);
  g_assert_nonnull (gen->w_avg);
  g_assert_nonnull (gen->const_input);
  g_assert_nonnull (gen->rgbs[2].bias);
  g_assert_true (hd_generator_ref (gen) == gen);
  hd_generator_unref (gen);
}

static void
test_macs (void)
{
  HdGeneratorConfig config = hd_test_config (64, 1024, 128, 8, 8, FALSE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 5);
  /* ch: 4:128 8:128 16:64 32:32 64:16 */
  double expected =
    128.0 * 128 * 9 * 16 +                            /* b4.conv1 */
    128.0 * 128 * 9 * 16 + 128.0 * 128 * 9 * 64 +     /* b8 */
    64.0 * 128 * 9 * 64 + 64.0 * 64 * 9 * 256 +       /* b16 */
    32.0 * 64 * 9 * 256 + 32.0 * 32 * 9 * 1024 +      /* b32 */
    16.0 * 32 * 9 * 1024 + 16.0 * 16 * 9 * 4096 +     /* b64 */
    3.0 * (128 * 16 + 128 * 64 + 64 * 256 + 32 * 1024 + 16 * 4096);  /* torgb */
  HdGeneratorConfig config_f = hd_test_config (1024, 32768, 512, 512, 512, FALSE);
  HdGeneratorConfig small = hd_test_config (8, 16, 4, 4, 4, FALSE);
  g_autoptr(HdGenerator) tiny = hd_generator_new_random (&small, 1);

  g_assert_cmpfloat (hd_generator_synthesis_macs (gen), ==, expected);
  g_assert_cmpfloat (hd_generator_synthesis_macs (tiny), >, 0.0);
  /* Config-f 1024 is about 74 GMAC (generator-math §9); not built here,
   * the count needs only the shapes. */
  g_assert_true (hd_generator_config_validate (&config_f, NULL));
}

static void
expect_config_error (HdGeneratorConfig config,
                     int               code,
                     const char       *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (hd_generator_config_validate (&config, &error));
  g_assert_error (error, HD_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
}

static void
test_config_validate (void)
{
  HdGeneratorConfig good = small_config ();
  HdGeneratorConfig c;

  g_assert_true (hd_generator_config_validate (&good, NULL));
  c = good; c.c_dim = 10;
  expect_config_error (c, HD_ERROR_UNSUPPORTED, "conditional");
  c = good; c.img_resolution = 48;
  expect_config_error (c, HD_ERROR_UNSUPPORTED, "img_resolution 48");
  c = good; c.img_resolution = 4;
  expect_config_error (c, HD_ERROR_UNSUPPORTED, "img_resolution 4");
  c = good; c.img_resolution = 8192;
  expect_config_error (c, HD_ERROR_UNSUPPORTED, "img_resolution 8192");
  c = good; c.z_dim = 0;
  expect_config_error (c, HD_ERROR_FORMAT, "z_dim");
  c = good; c.w_dim = 5000;
  expect_config_error (c, HD_ERROR_FORMAT, "w_dim");
  c = good; c.img_channels = 5;
  expect_config_error (c, HD_ERROR_UNSUPPORTED, "img_channels");
  c = good; c.mapping_layers = 0;
  expect_config_error (c, HD_ERROR_FORMAT, "num_layers");
  c = good; c.lr_multiplier = NAN;
  expect_config_error (c, HD_ERROR_FORMAT, "lr_multiplier");
  c = good; c.channel_max = 0;
  expect_config_error (c, HD_ERROR_FORMAT, "channel_max");
  c = good; c.channel_max = 8192;
  expect_config_error (c, HD_ERROR_FORMAT, "channel_max");
  c = good; c.channel_base = 16;
  expect_config_error (c, HD_ERROR_FORMAT, "channel_base");
  c = good; c.conv_clamp = -1.0f;
  expect_config_error (c, HD_ERROR_FORMAT, "conv_clamp");
}

static float
round_trip (float   value,
            HdDtype dtype)
{
  if (dtype == HD_DTYPE_F16)
    return hd_half_to_float (hd_float_to_half (value));
  if (dtype == HD_DTYPE_BF16)
    return hd_bf16_to_float (hd_float_to_bf16 (value));
  return value;
}

static void
assert_array (const float *got,
              const float *original,
              gsize        n,
              HdDtype      dtype)
{
  for (gsize i = 0; i < n; i++)
    {
      float expected = round_trip (original[i], dtype);

      if (got[i] != expected)
        g_error ("element %" G_GSIZE_FORMAT ": %.9g, expected %.9g", i,
                 (double) got[i], (double) expected);
    }
}

static void
assert_same_generator (HdGenerator *got,
                       HdGenerator *gen,
                       HdDtype      dtype)
{
  int w = gen->config.w_dim;

  g_assert_cmpmem (&got->config, sizeof got->config, &gen->config, sizeof gen->config);
  g_assert_cmpint (got->num_ws, ==, gen->num_ws);
  g_assert_cmpint (got->n_convs, ==, gen->n_convs);
  g_assert_cmpint (got->domain_dim, ==, gen->domain_dim);
  for (int i = 0; i < gen->config.mapping_layers; i++)
    {
      assert_array (got->mapping[i].weight, gen->mapping[i].weight,
                    (gsize) gen->mapping[i].in_features * w, dtype);
      assert_array (got->mapping[i].bias, gen->mapping[i].bias, w, dtype);
    }
  assert_array (got->w_avg, gen->w_avg, w, dtype);
  assert_array (got->const_input, gen->const_input, (gsize) gen->convs[0].c_in * 16, dtype);
  for (int i = 0; i < gen->n_convs; i++)
    {
      const HdConvLayer *a = &got->convs[i], *b = &gen->convs[i];

      g_assert_cmpstr (a->name, ==, b->name);
      assert_array (a->weight, b->weight, (gsize) b->c_out * b->c_in * 9, dtype);
      assert_array (a->affine_weight, b->affine_weight, (gsize) b->c_in * w, dtype);
      assert_array (a->affine_bias, b->affine_bias, b->c_in, dtype);
      assert_array (a->bias, b->bias, b->c_out, dtype);
      assert_array (a->noise_const, b->noise_const, (gsize) b->block_res * b->block_res, dtype);
      assert_array (&a->noise_strength, &b->noise_strength, 1, dtype);
    }
  for (int i = 0; i < gen->n_rgbs; i++)
    {
      const HdRgbLayer *a = &got->rgbs[i], *b = &gen->rgbs[i];

      g_assert_cmpstr (a->name, ==, b->name);
      assert_array (a->weight, b->weight, (gsize) b->c_out * b->c_in, dtype);
      assert_array (a->affine_weight, b->affine_weight, (gsize) b->c_in * w, dtype);
      assert_array (a->affine_bias, b->affine_bias, b->c_in, dtype);
      assert_array (a->bias, b->bias, b->c_out, dtype);
    }
}

static void
check_save_reload (HdDtype  dtype,
                   gboolean conv_clamp)
{
  HdGeneratorConfig config = small_config ();
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(HdGenerator) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "random.safetensors", NULL);

  config.has_conv_clamp = conv_clamp;
  config.conv_clamp = conv_clamp ? 256.0f : 0.0f;
  config.mapping_layers = 3;
  config.lr_multiplier = 0.02f;
  gen = hd_generator_new_random (&config, 42);
  g_assert_true (hd_generator_save (gen, path, dtype, &error));
  g_assert_no_error (error);
  got = hd_generator_load (path, &error);
  g_assert_no_error (error);
  assert_same_generator (got, gen, dtype);
  g_assert_cmpstr (got->name, ==, "random-32");
  g_assert_cmpstr (got->path, ==, path);
  /* F32 data of an aligned file is used in place. */
  if (dtype == HD_DTYPE_F32)
    g_assert_nonnull (got->file);
  else
    g_assert_null (got->file);
  hd_test_rmdir_recursive (dir);
}

static void
test_save_f32 (void)
{
  check_save_reload (HD_DTYPE_F32, TRUE);
  check_save_reload (HD_DTYPE_F32, FALSE);
}

static void
test_save_f16 (void)
{
  check_save_reload (HD_DTYPE_F16, TRUE);
}

static void
test_save_bf16 (void)
{
  check_save_reload (HD_DTYPE_BF16, FALSE);
}

/* The tiny conformance generator survives a save and reload bit-exact. */
static void
test_save_tiny (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *copy = g_build_filename (dir, "tiny-copy.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (path, &error);
  g_autoptr(HdGenerator) got = NULL;
  g_autoptr(HdSafetensors) a = NULL;
  g_autoptr(HdSafetensors) b = NULL;

  g_assert_no_error (error);
  g_assert_true (hd_generator_save (gen, copy, HD_DTYPE_F32, &error));
  g_assert_no_error (error);
  got = hd_generator_load (copy, &error);
  g_assert_no_error (error);
  assert_same_generator (got, gen, HD_DTYPE_F32);
  g_assert_cmpstr (got->name, ==, "tiny");
  g_assert_cmpstr (got->description, ==, gen->description);

  /* Same tensor names as the NVlabs state dict. */
  a = hd_safetensors_open (path, &error);
  g_assert_no_error (error);
  b = hd_safetensors_open (copy, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hd_safetensors_get_n_tensors (a), ==, hd_safetensors_get_n_tensors (b));
  for (guint i = 0; i < hd_safetensors_get_n_tensors (a); i++)
    g_assert_nonnull (hd_safetensors_lookup (b, hd_safetensors_get_tensor (a, i)->name));
  hd_test_rmdir_recursive (dir);
}

/* Variants of a saved random generator, rebuilt in memory. */
typedef struct {
  const char *drop;          /* leave this tensor out (prefix match) */
  const char *reshape;       /* store this tensor with shape [1] */
  const char *poison;        /* make the first value of this tensor NaN */
  const char *change;        /* add 0.5 to the first value of this tensor */
  const char *extra;         /* add a tensor of this name */
  HdDtype     dtype;
  const char *meta_key;      /* set (or remove, value NULL) this metadata key */
  const char *meta_value;
} Variant;

static GBytes *
build_variant (const Variant *v)
{
  HdGeneratorConfig config = small_config ();
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 7);
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "base.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  const char **keys;

  g_assert_true (hd_generator_save (gen, path, HD_DTYPE_F32, &error));
  g_assert_no_error (error);
  st = hd_safetensors_open (path, &error);
  g_assert_no_error (error);

  keys = hd_safetensors_get_metadata_keys (st);
  for (guint i = 0; keys[i] != NULL; i++)
    if (v->meta_key == NULL || !g_str_equal (keys[i], v->meta_key))
      hd_safetensors_writer_set_metadata (writer, keys[i], hd_safetensors_get_metadata (st, keys[i]));
  if (v->meta_key != NULL && v->meta_value != NULL)
    hd_safetensors_writer_set_metadata (writer, v->meta_key, v->meta_value);

  for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
    {
      const HdTensor *t = hd_safetensors_get_tensor (st, i);
      g_autofree float *data = g_new (float, MAX (t->n_elements, 1));
      gint64 one = 1;

      if (v->drop != NULL && g_str_has_prefix (t->name, v->drop))
        continue;
      hd_tensor_to_f32 (t, data);
      if (v->poison != NULL && g_str_equal (t->name, v->poison))
        data[0] = NAN;
      if (v->change != NULL && g_str_equal (t->name, v->change))
        data[0] += 0.5f;
      if (v->reshape != NULL && g_str_equal (t->name, v->reshape))
        hd_safetensors_writer_add_f32 (writer, t->name, v->dtype, &one, 1, data);
      else
        hd_safetensors_writer_add_f32 (writer, t->name, v->dtype, t->shape, t->n_dims, data);
    }
  if (v->extra != NULL)
    {
      gint64 shape[1] = { 2 };
      float data[2] = { 1.0f, 2.0f };

      hd_safetensors_writer_add_f32 (writer, v->extra, v->dtype, shape, 1, data);
    }
  hd_test_rmdir_recursive (dir);
  return hd_safetensors_writer_to_bytes (writer);
}

static HdGenerator *
load_variant (const Variant *v,
              GError       **error)
{
  g_autoptr(GBytes) bytes = build_variant (v);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, VARIANT_NAME, error);

  g_assert_nonnull (st);
  return hd_generator_new_from_safetensors (st, error);
}

static void
expect_variant_error (const Variant *v,
                      int            code,
                      const char    *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = load_variant (v, &error);

  g_assert_null (gen);
  g_assert_error (error, HD_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, VARIANT_NAME ": "));
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
}

static const char *
config_with (const char *search,
             const char *replace)
{
  static char buffer[1024];
  HdGeneratorConfig config = small_config ();
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 7);
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "c.safetensors", NULL);
  g_autoptr(HdSafetensors) st = NULL;
  g_autoptr(GString) text = NULL;

  g_assert_true (hd_generator_save (gen, path, HD_DTYPE_F32, NULL));
  st = hd_safetensors_open (path, NULL);
  text = g_string_new (hd_safetensors_get_metadata (st, "hyperdomain.config"));
  g_assert_cmpuint (g_string_replace (text, search, replace, 1), ==, 1);
  g_strlcpy (buffer, text->str, sizeof buffer);
  hd_test_rmdir_recursive (dir);
  return buffer;
}

static void
test_variant_ok (void)
{
  Variant v = { .dtype = HD_DTYPE_F32 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = load_variant (&v, &error);

  g_assert_no_error (error);
  g_assert_nonnull (gen);
  g_assert_cmpstr (gen->name, ==, "random-32");
}

static void
test_wrong_kind (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (path, &error);
  Variant v = { .meta_key = "hyperdomain.kind", .meta_value = "domain-pack" };
  Variant none = { .meta_key = "hyperdomain.kind" };
  Variant other = { .meta_key = "hyperdomain.kind", .meta_value = "latent" };

  g_assert_null (gen);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "is a domain, not a generator"));
  expect_variant_error (&v, HD_ERROR_FORMAT, "is a domain pack, not a generator");
  expect_variant_error (&none, HD_ERROR_FORMAT, "hyperdomain.kind is missing");
  expect_variant_error (&other, HD_ERROR_FORMAT, "“latent”");
}

static void
test_bad_version (void)
{
  Variant v = { .meta_key = "hyperdomain.version", .meta_value = "2" };
  Variant none = { .meta_key = "hyperdomain.version" };

  expect_variant_error (&v, HD_ERROR_UNSUPPORTED, "hyperdomain.version “2” is not supported");
  expect_variant_error (&none, HD_ERROR_UNSUPPORTED, "(missing) is not supported");
}

static void
test_missing_tensor (void)
{
  Variant v = { .drop = "synthesis.b8.conv1.noise_const" };
  Variant w = { .drop = "mapping.w_avg" };

  expect_variant_error (&v, HD_ERROR_FORMAT, "tensor “synthesis.b8.conv1.noise_const” is missing");
  expect_variant_error (&w, HD_ERROR_FORMAT, "tensor “mapping.w_avg” is missing");
}

static void
test_wrong_shape (void)
{
  Variant v = { .reshape = "synthesis.b16.conv0.affine.bias" };
  Variant s = { .reshape = "synthesis.b4.conv1.noise_strength" };

  expect_variant_error (&v, HD_ERROR_SHAPE,
                        "tensor “synthesis.b16.conv0.affine.bias” has shape [1], but the config needs [64]");
  expect_variant_error (&s, HD_ERROR_SHAPE,
                        "tensor “synthesis.b4.conv1.noise_strength” has shape [1], but the config needs []");
}

static void
test_extra_tensor (void)
{
  Variant v = { .extra = "synthesis.b32.skip.weight" };

  expect_variant_error (&v, HD_ERROR_FORMAT, "unexpected tensor “synthesis.b32.skip.weight”");
}

static void
test_c_dim (void)
{
  Variant v = { .meta_key = "hyperdomain.config" };

  v.meta_value = config_with ("\"c_dim\":0", "\"c_dim\":10");
  expect_variant_error (&v, HD_ERROR_UNSUPPORTED, "conditional generators");
}

static void
test_architecture (void)
{
  Variant v = { .meta_key = "hyperdomain.config" };

  v.meta_value = config_with ("\"skip\"", "\"orig\"");
  expect_variant_error (&v, HD_ERROR_UNSUPPORTED, "architecture “orig” is not supported");
  v.meta_value = config_with ("\"skip\"", "\"resnet\"");
  expect_variant_error (&v, HD_ERROR_UNSUPPORTED, "“resnet”");
  v.meta_value = config_with ("\"skip\"", "7");
  expect_variant_error (&v, HD_ERROR_FORMAT, "architecture is not a string");
}

static void
test_bad_resolution (void)
{
  Variant v = { .meta_key = "hyperdomain.config" };

  v.meta_value = config_with ("\"img_resolution\":32", "\"img_resolution\":48");
  expect_variant_error (&v, HD_ERROR_UNSUPPORTED, "img_resolution 48");
  v.meta_value = config_with ("\"img_resolution\":32", "\"img_resolution\":32.5");
  expect_variant_error (&v, HD_ERROR_FORMAT, "img_resolution is not an integer");
  v.meta_value = config_with ("\"img_resolution\":32", "\"img_resolution\":99999999999");
  expect_variant_error (&v, HD_ERROR_FORMAT, "out of range");
}

/* Channel counts come from the shapes and must agree with the config. */
static void
test_config_disagrees (void)
{
  Variant v = { .meta_key = "hyperdomain.config" };

  v.meta_value = config_with ("\"channel_max\":64", "\"channel_max\":32");
  expect_variant_error (&v, HD_ERROR_SHAPE, "tensor “synthesis.b4.const” has shape [64, 4, 4], "
                                            "but the config needs [32, 4, 4]");
  v.meta_value = config_with ("\"w_dim\":48", "\"w_dim\":40");
  expect_variant_error (&v, HD_ERROR_SHAPE, "“mapping.fc0.weight”");
  v.meta_value = config_with ("\"img_resolution\":32", "\"img_resolution\":16");
  expect_variant_error (&v, HD_ERROR_FORMAT, "unexpected tensor “synthesis.b32.");
  v.meta_value = config_with ("\"img_resolution\":32", "\"img_resolution\":64");
  expect_variant_error (&v, HD_ERROR_FORMAT, "tensor “synthesis.b64.conv0.affine.weight” is missing");
  v.meta_value = config_with ("\"num_layers\":2", "\"num_layers\":3");
  expect_variant_error (&v, HD_ERROR_FORMAT, "“mapping.fc2.weight” is missing");
  v.meta_value = config_with ("\"img_channels\":3", "\"img_channels\":4");
  expect_variant_error (&v, HD_ERROR_SHAPE, "“synthesis.b4.torgb.weight”");
}

static void
test_resample_filter (void)
{
  Variant bad = { .change = "synthesis.b16.conv0.resample_filter" };
  Variant bad_block = { .change = "synthesis.b8.resample_filter", .dtype = HD_DTYPE_F16 };
  Variant dropped = { .drop = "synthesis.b16.conv0.resample_filter" };
  Variant f16 = { .dtype = HD_DTYPE_F16 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(HdGenerator) gen16 = NULL;

  expect_variant_error (&bad, HD_ERROR_UNSUPPORTED,
                        "tensor “synthesis.b16.conv0.resample_filter” is not the standard");
  expect_variant_error (&bad_block, HD_ERROR_UNSUPPORTED, "“synthesis.b8.resample_filter”");
  /* The filter is optional, and exact in F16. */
  gen = load_variant (&dropped, &error);
  g_assert_no_error (error);
  gen16 = load_variant (&f16, &error);
  g_assert_no_error (error);
}

static void
test_non_finite (void)
{
  Variant nan = { .poison = "synthesis.b8.conv0.weight" };
  Variant nan16 = { .poison = "mapping.fc1.bias", .dtype = HD_DTYPE_F16 };
  Variant scalar = { .poison = "synthesis.b32.conv1.noise_strength", .dtype = HD_DTYPE_BF16 };

  expect_variant_error (&nan, HD_ERROR_FORMAT,
                        "tensor “synthesis.b8.conv0.weight” contains NaN or infinite values");
  expect_variant_error (&nan16, HD_ERROR_FORMAT, "“mapping.fc1.bias” contains NaN");
  expect_variant_error (&scalar, HD_ERROR_FORMAT, "“synthesis.b32.conv1.noise_strength”");
}

static void
test_config_missing (void)
{
  Variant none = { .meta_key = "hyperdomain.config" };
  Variant bad_json = { .meta_key = "hyperdomain.config", .meta_value = "{\"z_dim\": " };
  Variant not_object = { .meta_key = "hyperdomain.config", .meta_value = "[1]" };
  Variant deep = { .meta_key = "hyperdomain.config" };
  Variant no_z = { .meta_key = "hyperdomain.config" };
  Variant bad_section = { .meta_key = "hyperdomain.config" };
  g_autofree char *deep_text = NULL;
  GString *str = g_string_new (NULL);

  for (int i = 0; i < 10000; i++)
    g_string_append_c (str, '[');
  deep_text = g_string_free (str, FALSE);
  deep.meta_value = deep_text;

  expect_variant_error (&none, HD_ERROR_FORMAT, "hyperdomain.config is missing");
  expect_variant_error (&bad_json, HD_ERROR_FORMAT, "hyperdomain.config is not valid JSON");
  expect_variant_error (&not_object, HD_ERROR_FORMAT, "hyperdomain.config is not a JSON object");
  expect_variant_error (&deep, HD_ERROR_FORMAT, "too deeply nested");
  no_z.meta_value = config_with ("\"z_dim\":32,", "");
  expect_variant_error (&no_z, HD_ERROR_FORMAT, "hyperdomain.config has no z_dim");
  bad_section.meta_value = config_with ("\"mapping\":{", "\"mapping\":7,\"x\":{");
  expect_variant_error (&bad_section, HD_ERROR_FORMAT, "mapping is not an object");
}

/* Absent optional keys take the defaults of formats.md §1. */
static void
test_config_defaults (void)
{
  Variant v = { .meta_key = "hyperdomain.config" };
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(HdGenerator) gen2 = NULL;

  v.meta_value = "{\"z_dim\":32,\"w_dim\":48,\"img_resolution\":32,\"img_channels\":3,"
                 "\"mapping\":{\"num_layers\":2},\"synthesis\":{\"channel_base\":512,"
                 "\"channel_max\":64,\"num_fp16_res\":4}}";
  gen = load_variant (&v, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gen->config.c_dim, ==, 0);
  g_assert_cmpfloat (gen->config.lr_multiplier, ==, 0.01f);
  g_assert_false (gen->config.has_conv_clamp);

  /* Without mapping/synthesis: 8 layers, channel_base 32768, max 512, so
   * these shapes no longer match. */
  v.meta_value = "{\"z_dim\":32,\"w_dim\":48,\"img_resolution\":32,\"img_channels\":3}";
  gen2 = load_variant (&v, &error);
  g_assert_null (gen2);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "“mapping.fc2.weight” is missing"));
}

static void
test_name_fallback (void)
{
  Variant v = { .meta_key = "hyperdomain.name" };
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = load_variant (&v, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (gen->name, ==, "variant");
}

/* The generator holds what it needs after the file object is gone. */
static void
test_outlives_file (void)
{
  Variant v = { .dtype = HD_DTYPE_F32 };
  GBytes *bytes = build_variant (&v);
  g_autoptr(GError) error = NULL;
  HdSafetensors *st = hd_safetensors_new_from_bytes (bytes, VARIANT_NAME, &error);
  g_autoptr(HdGenerator) gen = NULL;
  HdGeneratorConfig config = small_config ();
  g_autoptr(HdGenerator) original = hd_generator_new_random (&config, 7);

  g_assert_no_error (error);
  gen = hd_generator_new_from_safetensors (st, &error);
  g_assert_no_error (error);
  hd_safetensors_unref (st);
  g_bytes_unref (bytes);
  assert_same_generator (gen, original, HD_DTYPE_F32);
}

static void
test_load_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load ("/nonexistent/g.safetensors", &error);
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.safetensors", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "no", "such", "out.safetensors", NULL);
  HdGeneratorConfig config = hd_test_config (8, 16, 8, 4, 4, FALSE);
  g_autoptr(HdGenerator) small = hd_generator_new_random (&config, 1);

  g_assert_null (gen);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/g.safetensors"));
  g_clear_error (&error);

  g_assert_false (hd_generator_save (small, bad_path, HD_DTYPE_F32, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, bad_path));
  g_clear_error (&error);
  g_assert_true (hd_generator_save (small, path, HD_DTYPE_BF16, &error));
  g_assert_no_error (error);
  hd_test_rmdir_recursive (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Generator/tiny", test_tiny);
  g_test_add_func ("/Hyperdomain/Generator/random", test_random);
  g_test_add_func ("/Hyperdomain/Generator/macs", test_macs);
  g_test_add_func ("/Hyperdomain/Generator/config-validate", test_config_validate);
  g_test_add_func ("/Hyperdomain/Generator/save-f32", test_save_f32);
  g_test_add_func ("/Hyperdomain/Generator/save-f16", test_save_f16);
  g_test_add_func ("/Hyperdomain/Generator/save-bf16", test_save_bf16);
  g_test_add_func ("/Hyperdomain/Generator/save-tiny", test_save_tiny);
  g_test_add_func ("/Hyperdomain/Generator/variant-ok", test_variant_ok);
  g_test_add_func ("/Hyperdomain/Generator/wrong-kind", test_wrong_kind);
  g_test_add_func ("/Hyperdomain/Generator/bad-version", test_bad_version);
  g_test_add_func ("/Hyperdomain/Generator/missing-tensor", test_missing_tensor);
  g_test_add_func ("/Hyperdomain/Generator/wrong-shape", test_wrong_shape);
  g_test_add_func ("/Hyperdomain/Generator/extra-tensor", test_extra_tensor);
  g_test_add_func ("/Hyperdomain/Generator/c-dim", test_c_dim);
  g_test_add_func ("/Hyperdomain/Generator/architecture", test_architecture);
  g_test_add_func ("/Hyperdomain/Generator/bad-resolution", test_bad_resolution);
  g_test_add_func ("/Hyperdomain/Generator/config-disagrees", test_config_disagrees);
  g_test_add_func ("/Hyperdomain/Generator/resample-filter", test_resample_filter);
  g_test_add_func ("/Hyperdomain/Generator/non-finite", test_non_finite);
  g_test_add_func ("/Hyperdomain/Generator/config-missing", test_config_missing);
  g_test_add_func ("/Hyperdomain/Generator/config-defaults", test_config_defaults);
  g_test_add_func ("/Hyperdomain/Generator/name-fallback", test_name_fallback);
  g_test_add_func ("/Hyperdomain/Generator/outlives-file", test_outlives_file);
  g_test_add_func ("/Hyperdomain/Generator/load-errors", test_load_errors);

  return g_test_run ();
}
