/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "hd-domain.h"
#include "hd-error.h"
#include "hd-test-util.h"

static HdDomain *
load_one (const char *file)
{
  g_autofree char *path = hd_test_conformance_path (file);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) domains = hd_domain_load_all (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (domains->len, ==, 1);
  return hd_domain_ref (g_ptr_array_index (domains, 0));
}

static void
test_load_single (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) partial = load_one ("tiny-domain-partial.safetensors");
  g_autoptr(GError) error = NULL;
  g_autofree char *warning = NULL;
  HdDomainLayer *layer;

  g_assert_cmpstr (a->name, ==, "Domain A");
  g_assert_cmpstr (a->description, ==, "random conformance domain");
  g_assert_cmpstr (a->generator, ==, "tiny");
  g_assert_null (a->id);
  g_assert_true (g_path_is_absolute (a->path));
  g_assert_true (g_str_has_suffix (a->path, "/tiny-domain-a.safetensors"));
  g_assert_cmpuint (g_hash_table_size (a->layers), ==, 7);
  for (int i = 0; i < gen->n_convs; i++)
    {
      layer = g_hash_table_lookup (a->layers, gen->convs[i].name);
      g_assert_nonnull (layer);
      g_assert_cmpint (layer->length, ==, gen->convs[i].c_in);
    }

  g_assert_true (hd_domain_check (a, gen, &warning, &error));
  g_assert_no_error (error);
  g_assert_null (warning);

  g_assert_cmpstr (partial->name, ==, "Partial domain");
  g_assert_cmpuint (g_hash_table_size (partial->layers), ==, 2);
  g_assert_nonnull (g_hash_table_lookup (partial->layers, "synthesis.b8.conv1"));
  g_assert_nonnull (g_hash_table_lookup (partial->layers, "synthesis.b32.conv0"));
  g_assert_true (hd_domain_check (partial, gen, NULL, &error));
  g_assert_no_error (error);
}

/* The values are those of the file. */
static void
test_values (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny-domain-b.safetensors");
  g_autoptr(HdDomain) b = load_one ("tiny-domain-b.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_open (path, &error);
  const HdTensor *t;
  HdDomainLayer *layer;

  g_assert_no_error (error);
  t = hd_safetensors_lookup (st, "synthesis.b16.conv1");
  layer = g_hash_table_lookup (b->layers, "synthesis.b16.conv1");
  g_assert_cmpmem (layer->values, layer->length * sizeof (float), t->data, t->n_bytes);
}

static void
manual_add (HdGenerator *gen,
            HdDomain    *domain,
            float        weight,
            int          min_res,
            int          max_res,
            float       *out)
{
  for (int c = 0; c < gen->n_convs; c++)
    {
      const HdConvLayer *conv = &gen->convs[c];
      HdDomainLayer *layer = g_hash_table_lookup (domain->layers, conv->name);

      if (layer == NULL)
        continue;
      if ((min_res > 0 && conv->block_res < min_res) || (max_res > 0 && conv->block_res > max_res))
        continue;
      for (int i = 0; i < conv->c_in; i++)
        out[conv->domain_offset + i] += weight * layer->values[i];
    }
}

static void
test_blend (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) b = load_one ("tiny-domain-b.safetensors");
  g_autoptr(HdDomain) partial = load_one ("tiny-domain-partial.safetensors");
  HdBlendTerm terms[] = {
    { a, 0.7f, 0, 0 },
    { b, -0.3f, 0, 0 },
    { partial, 1.5f, 0, 0 },
  };
  g_autofree float *got = g_new (float, gen->domain_dim);
  g_autofree float *expected = g_new0 (float, gen->domain_dim);
  const HdConvLayer *b8_conv1 = hd_generator_find_conv (gen, "synthesis.b8.conv1");
  HdDomainLayer *la = g_hash_table_lookup (a->layers, "synthesis.b8.conv1");
  HdDomainLayer *lb = g_hash_table_lookup (b->layers, "synthesis.b8.conv1");
  HdDomainLayer *lp = g_hash_table_lookup (partial->layers, "synthesis.b8.conv1");

  /* Garbage in OUT is overwritten. */
  for (int i = 0; i < gen->domain_dim; i++)
    got[i] = NAN;
  hd_domain_blend (gen, terms, G_N_ELEMENTS (terms), got);
  for (guint t = 0; t < G_N_ELEMENTS (terms); t++)
    manual_add (gen, terms[t].domain, terms[t].weight, 0, 0, expected);
  g_assert_cmpmem (got, gen->domain_dim * sizeof (float), expected, gen->domain_dim * sizeof (float));

  /* Spot check one value against the formula written out. */
  g_assert_cmpfloat (got[b8_conv1->domain_offset + 5], ==,
                     0.7f * la->values[5] + -0.3f * lb->values[5] + 1.5f * lp->values[5]);

  /* No term, or weights 0: the original generator. */
  hd_domain_blend (gen, NULL, 0, got);
  for (int i = 0; i < gen->domain_dim; i++)
    g_assert_cmpfloat (got[i], ==, 0.0f);
  terms[0].weight = terms[1].weight = terms[2].weight = 0.0f;
  hd_domain_blend (gen, terms, G_N_ELEMENTS (terms), got);
  for (int i = 0; i < gen->domain_dim; i++)
    g_assert_cmpfloat (got[i], ==, 0.0f);
}

static void
test_blend_ranges (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) b = load_one ("tiny-domain-b.safetensors");
  HdBlendTerm terms[] = {
    { a, 1.0f, 8, 16 },   /* middle */
    { b, 2.0f, 32, 0 },   /* fine: 32 and up */
    { a, -0.5f, 0, 4 },   /* coarse: up to 4 */
  };
  g_autofree float *got = g_new (float, gen->domain_dim);
  g_autofree float *expected = g_new0 (float, gen->domain_dim);
  const HdConvLayer *b4 = hd_generator_find_conv (gen, "synthesis.b4.conv1");
  const HdConvLayer *b16 = hd_generator_find_conv (gen, "synthesis.b16.conv1");
  const HdConvLayer *b32 = hd_generator_find_conv (gen, "synthesis.b32.conv0");
  HdDomainLayer *a4 = g_hash_table_lookup (a->layers, "synthesis.b4.conv1");
  HdDomainLayer *a16 = g_hash_table_lookup (a->layers, "synthesis.b16.conv1");
  HdDomainLayer *b32l = g_hash_table_lookup (b->layers, "synthesis.b32.conv0");

  hd_domain_blend (gen, terms, G_N_ELEMENTS (terms), got);
  for (guint t = 0; t < G_N_ELEMENTS (terms); t++)
    manual_add (gen, terms[t].domain, terms[t].weight, terms[t].min_res, terms[t].max_res, expected);
  g_assert_cmpmem (got, gen->domain_dim * sizeof (float), expected, gen->domain_dim * sizeof (float));

  g_assert_cmpfloat (got[b4->domain_offset], ==, -0.5f * a4->values[0]);
  g_assert_cmpfloat (got[b16->domain_offset + 3], ==, a16->values[3]);
  g_assert_cmpfloat (got[b32->domain_offset + 7], ==, 2.0f * b32l->values[7]);
}

/* A pack of two domains built from the conformance ones. */
static char *
write_pack (const char *dir,
            const char *file,
            const char *bad_tensor,
            gboolean    with_names)
{
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) partial = load_one ("tiny-domain-partial.safetensors");
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, file, NULL);
  static const char *layers[] = {
    "synthesis.b4.conv1", "synthesis.b8.conv0", "synthesis.b8.conv1",
    "synthesis.b16.conv0", "synthesis.b16.conv1", "synthesis.b32.conv0",
    "synthesis.b32.conv1",
  };

  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain-pack");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.generator", "tiny");
  if (with_names)
    {
      hd_safetensors_writer_set_metadata (writer, "zeta-2.name", "Zeta");
      hd_safetensors_writer_set_metadata (writer, "zeta-2.description", "the partial one");
      hd_safetensors_writer_set_metadata (writer, "alpha_1.name", "Alpha");
    }
  /* Ids interleaved on purpose; the loader sorts them. */
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      HdDomainLayer *la = g_hash_table_lookup (a->layers, layers[i]);
      HdDomainLayer *lp = g_hash_table_lookup (partial->layers, layers[i]);
      g_autofree char *name_a = g_strdup_printf ("alpha_1/%s", layers[i]);
      g_autofree char *name_p = g_strdup_printf ("zeta-2/%s", layers[i]);
      gint64 shape_a[1] = { la->length };

      if (lp != NULL)
        {
          gint64 shape_p[1] = { lp->length };
          hd_safetensors_writer_add_f32 (writer, name_p, HD_DTYPE_F32, shape_p, 1, lp->values);
        }
      hd_safetensors_writer_add_f32 (writer, name_a, HD_DTYPE_F32, shape_a, 1, la->values);
    }
  if (bad_tensor != NULL)
    {
      gint64 shape[1] = { 64 };
      g_autofree float *zeros = g_new0 (float, 64);

      hd_safetensors_writer_add_f32 (writer, bad_tensor, HD_DTYPE_F32, shape, 1, zeros);
    }
  g_assert_true (hd_safetensors_writer_write (writer, path, &error));
  g_assert_no_error (error);
  return path;
}

static void
assert_same_layers (HdDomain *got,
                    HdDomain *expected)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpuint (g_hash_table_size (got->layers), ==, g_hash_table_size (expected->layers));
  g_hash_table_iter_init (&iter, expected->layers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      HdDomainLayer *e = value;
      HdDomainLayer *g = g_hash_table_lookup (got->layers, key);

      g_assert_nonnull (g);
      g_assert_cmpmem (g->values, g->length * sizeof (float), e->values, e->length * sizeof (float));
    }
}

static void
test_pack (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = write_pack (dir, "pack.safetensors", NULL, TRUE);
  g_autofree char *spec = g_strdup_printf ("%s#zeta-2", path);
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) partial = load_one ("tiny-domain-partial.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hd_domain_load_all (path, &error);
  g_autoptr(GPtrArray) one = NULL;
  HdDomain *alpha, *zeta;
  HdBlendTerm pack_terms[2], file_terms[2];
  g_autofree float *from_pack = g_new (float, gen->domain_dim);
  g_autofree float *from_files = g_new (float, gen->domain_dim);

  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 2);
  alpha = g_ptr_array_index (all, 0);
  zeta = g_ptr_array_index (all, 1);
  g_assert_cmpstr (alpha->id, ==, "alpha_1");
  g_assert_cmpstr (alpha->name, ==, "Alpha");
  g_assert_null (alpha->description);
  g_assert_cmpstr (alpha->generator, ==, "tiny");
  g_assert_cmpstr (alpha->path, ==, path);
  g_assert_cmpstr (zeta->id, ==, "zeta-2");
  g_assert_cmpstr (zeta->name, ==, "Zeta");
  g_assert_cmpstr (zeta->description, ==, "the partial one");
  assert_same_layers (alpha, a);
  assert_same_layers (zeta, partial);
  g_assert_true (hd_domain_check (alpha, gen, NULL, &error));
  g_assert_true (hd_domain_check (zeta, gen, NULL, &error));
  g_assert_no_error (error);

  /* A pack behaves exactly like its domains loaded one by one. */
  pack_terms[0] = (HdBlendTerm) { alpha, 0.25f, 0, 0 };
  pack_terms[1] = (HdBlendTerm) { zeta, -1.0f, 0, 0 };
  file_terms[0] = (HdBlendTerm) { a, 0.25f, 0, 0 };
  file_terms[1] = (HdBlendTerm) { partial, -1.0f, 0, 0 };
  hd_domain_blend (gen, pack_terms, 2, from_pack);
  hd_domain_blend (gen, file_terms, 2, from_files);
  g_assert_cmpmem (from_pack, gen->domain_dim * sizeof (float),
                   from_files, gen->domain_dim * sizeof (float));

  /* PATH#ID picks one. */
  one = hd_domain_load_all (spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 1);
  zeta = g_ptr_array_index (one, 0);
  g_assert_cmpstr (zeta->id, ==, "zeta-2");
  g_assert_cmpstr (zeta->path, ==, path);
  assert_same_layers (zeta, partial);
  hd_test_rmdir_recursive (dir);
}

static void
test_pack_unknown_id (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = write_pack (dir, "pack.safetensors", NULL, TRUE);
  g_autofree char *spec = g_strdup_printf ("%s#beta", path);
  g_autofree char *bad_spec = g_strdup_printf ("%s#Beta!", path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) domains = hd_domain_load_all (spec, &error);

  g_assert_null (domains);
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "no domain “beta”"));
  g_assert_nonnull (strstr (error->message, "alpha_1, zeta-2"));
  g_clear_error (&error);

  domains = hd_domain_load_all (bad_spec, &error);
  g_assert_null (domains);
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“Beta!” is not a valid domain id"));
  g_clear_error (&error);
  hd_test_rmdir_recursive (dir);
}

/* A '#' that is part of a file or folder name is not an id separator. */
static void
test_hash_in_name (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = write_pack (dir, "odd#name.safetensors", NULL, TRUE);
  g_autofree char *spec = g_strdup_printf ("%s#alpha_1", path);
  g_autofree char *missing = g_build_filename (dir, "folder#1", "x.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hd_domain_load_all (path, &error);
  g_autoptr(GPtrArray) one = NULL;
  g_autoptr(GPtrArray) none = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 2);
  one = hd_domain_load_all (spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 1);
  none = hd_domain_load_all (missing, &error);
  g_assert_null (none);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  hd_test_rmdir_recursive (dir);
}

static void
expect_load_error (const char *spec,
                   int         code,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) domains = hd_domain_load_all (spec, &error);

  g_assert_null (domains);
  g_assert_error (error, HD_ERROR, code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
}

static void
test_pack_bad_ids (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *upper = write_pack (dir, "upper.safetensors", "Beta/synthesis.b4.conv1", TRUE);
  g_autofree char *space = write_pack (dir, "space.safetensors", "a b/synthesis.b4.conv1", TRUE);
  g_autofree char *no_slash = write_pack (dir, "noslash.safetensors", "synthesis.b4.conv1", TRUE);
  g_autofree char *empty = write_pack (dir, "empty.safetensors", "/synthesis.b4.conv1", TRUE);
  g_autofree char *bad_layer = write_pack (dir, "layer.safetensors", "alpha_1/synthesis.b4.torgb", TRUE);
  g_autofree char *no_names = write_pack (dir, "nonames.safetensors", NULL, FALSE);

  expect_load_error (upper, HD_ERROR_FORMAT, "tensor “Beta/synthesis.b4.conv1” of a domain pack");
  expect_load_error (space, HD_ERROR_FORMAT, "“a b/synthesis.b4.conv1”");
  expect_load_error (no_slash, HD_ERROR_FORMAT, "<id>/<layer>");
  expect_load_error (empty, HD_ERROR_FORMAT, "<id>/<layer>");
  expect_load_error (bad_layer, HD_ERROR_FORMAT,
                     "tensor “alpha_1/synthesis.b4.torgb” is not a synthesis conv layer");
  expect_load_error (no_names, HD_ERROR_FORMAT, "domain “alpha_1” of the pack has no name");
  expect_load_error (no_names, HD_ERROR_FORMAT, "alpha_1.name");
  hd_test_rmdir_recursive (dir);
}

/* A single domain built in memory with the given metadata and tensors. */
static GPtrArray *
load_built (const char  *kind,
            const char  *modulation,
            const char  *name,
            const char  *layer,
            int          length,
            guint        n_dims,
            float        first,
            const char  *id,
            GError     **error)
{
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autofree float *values = g_new0 (float, length);
  gint64 shape[2] = { length, 1 };

  if (kind != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", kind);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  if (modulation != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", modulation);
  if (name != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", name);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.generator", "other-gen");
  values[0] = first;
  hd_safetensors_writer_add_f32 (writer, layer, HD_DTYPE_F16, shape, n_dims, values);
  bytes = hd_safetensors_writer_to_bytes (writer);
  st = hd_safetensors_new_from_bytes (bytes, "built.safetensors", error);
  g_assert_nonnull (st);
  return hd_domain_load_from_safetensors (st, id, error);
}

static void
expect_built_error (GPtrArray  *result,
                    GError     *error,
                    int         code,
                    const char *needle)
{
  g_assert_null (result);
  g_assert_error (error, HD_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "built.safetensors: "));
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
}

static void
test_bad_domains (void)
{
  const char *ok_kind = "domain", *mod = "input-after-demod", *layer = "synthesis.b8.conv0";
  struct {
    const char *kind, *modulation, *name, *layer;
    int length;
    guint n_dims;
    float first;
    const char *id;
    int code;
    const char *needle;
  } cases[] = {
    { NULL, mod, "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_FORMAT, "hyperdomain.kind is missing" },
    { "generator", mod, "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_FORMAT, "is a generator, not a domain" },
    { "latent", mod, "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_FORMAT, "“latent”" },
    { ok_kind, NULL, "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_UNSUPPORTED,
      "hyperdomain.modulation (missing) is not supported" },
    { ok_kind, "input-before-demod", "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_UNSUPPORTED,
      "hyperdomain.modulation “input-before-demod” is not supported" },
    { ok_kind, mod, NULL, layer, 64, 1, 0.0f, NULL, HD_ERROR_FORMAT, "the domain has no name" },
    { ok_kind, mod, "X", "synthesis.b8.torgb", 64, 1, 0.0f, NULL, HD_ERROR_FORMAT,
      "tensor “synthesis.b8.torgb” is not a synthesis conv layer" },
    { ok_kind, mod, "X", "synthesis.b8.conv0.weight", 64, 1, 0.0f, NULL, HD_ERROR_FORMAT,
      "not a synthesis conv layer" },
    { ok_kind, mod, "X", "synthesis.bx.conv0", 64, 1, 0.0f, NULL, HD_ERROR_FORMAT,
      "not a synthesis conv layer" },
    { ok_kind, mod, "X", layer, 64, 2, 0.0f, NULL, HD_ERROR_SHAPE,
      "tensor “synthesis.b8.conv0” has 2 dimensions" },
    { ok_kind, mod, "X", layer, 64, 1, NAN, NULL, HD_ERROR_FORMAT,
      "tensor “synthesis.b8.conv0” contains NaN or infinite values" },
    { ok_kind, mod, "X", layer, 64, 1, INFINITY, NULL, HD_ERROR_FORMAT, "NaN or infinite" },
    { ok_kind, mod, "X", layer, 64, 1, 1e6f, NULL, HD_ERROR_FORMAT, "NaN or infinite" },
    { ok_kind, mod, "X", layer, 64, 1, 0.0f, "abc", HD_ERROR_ARGUMENT,
      "“#abc” selects a domain of a pack" },
    { "domain-pack", mod, "X", layer, 64, 1, 0.0f, NULL, HD_ERROR_FORMAT, "<id>/<layer>" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) result = load_built (cases[i].kind, cases[i].modulation, cases[i].name,
                                                cases[i].layer, cases[i].length, cases[i].n_dims,
                                                cases[i].first, cases[i].id, &error);

      expect_built_error (result, error, cases[i].code, cases[i].needle);
    }
}


/* A domain with style latents (formats.md §2 style.w) built in memory:
 * STYLE is NULL for none; FROM_TEXT the metadata (NULL: absent). */
static GPtrArray *
load_built_style (const char  *style_name,
                  gint64       rows,
                  gint64       cols,
                  guint        n_dims,
                  const char  *from_key,
                  const char  *from_text,
                  float        first,
                  gboolean     pack,
                  GError     **error)
{
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autofree float *values = g_new0 (float, MAX (rows * cols, 64));
  gint64 layer_shape[1] = { 64 };
  gint64 shape[3] = { rows, cols, 1 };

  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", pack ? "domain-pack" : "domain");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_set_metadata (writer, pack ? "im.name" : "hyperdomain.name", "Image");
  if (from_text != NULL)
    hd_safetensors_writer_set_metadata (writer, from_key, from_text);
  hd_safetensors_writer_add_f32 (writer, pack ? "im/synthesis.b8.conv0" : "synthesis.b8.conv0",
                                 HD_DTYPE_F32, layer_shape, 1, values);
  values[0] = first;
  if (style_name != NULL)
    hd_safetensors_writer_add_f32 (writer, style_name, HD_DTYPE_F32, shape, n_dims, values);
  bytes = hd_safetensors_writer_to_bytes (writer);
  st = hd_safetensors_new_from_bytes (bytes, "built.safetensors", error);
  g_assert_nonnull (st);
  return hd_domain_load_from_safetensors (st, NULL, error);
}

static void
test_bad_style (void)
{
  const char *key = "hyperdomain.style_from";
  struct {
    const char *style_name;
    gint64 rows, cols;
    guint n_dims;
    const char *from_key, *from_text;
    float first;
    gboolean pack;
    int code;
    const char *needle;
  } cases[] = {
    { "style.w", 5, 48, 1, key, "3", 0.0f, FALSE, HD_ERROR_SHAPE,
      "tensor “style.w” (style latents) must have the shape [layers, w_dim]" },
    { "style.w", 5, 5000, 2, key, "3", 0.0f, FALSE, HD_ERROR_SHAPE, "at most [4096, 4096]" },
    { "style.w", 5, 48, 2, key, NULL, 0.0f, FALSE, HD_ERROR_FORMAT,
      "has style latents (“style.w”) but hyperdomain.style_from is (missing)" },
    { "style.w", 5, 48, 2, key, "-1", 0.0f, FALSE, HD_ERROR_FORMAT,
      "hyperdomain.style_from is -1; it must be the first layer they replace" },
    { "style.w", 5, 48, 2, key, "seven", 0.0f, FALSE, HD_ERROR_FORMAT, "is seven" },
    { "style.w", 5, 48, 2, key, "3", NAN, FALSE, HD_ERROR_FORMAT,
      "tensor “style.w” contains NaN or infinite values" },
    { NULL, 5, 48, 2, key, "3", 0.0f, FALSE, HD_ERROR_FORMAT,
      "hyperdomain.style_from is set but the file has no style latents" },
    { "im/style.w", 5, 48, 2, "im.style_from", NULL, 0.0f, TRUE, HD_ERROR_FORMAT,
      "but im.style_from is (missing)" },
    { "im/style.w", 5, 48, 3, "im.style_from", "3", 0.0f, TRUE, HD_ERROR_SHAPE,
      "tensor “im/style.w” (style latents)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) result = load_built_style (cases[i].style_name, cases[i].rows,
                                                      cases[i].cols, cases[i].n_dims,
                                                      cases[i].from_key, cases[i].from_text,
                                                      cases[i].first, cases[i].pack, &error);

      expect_built_error (result, error, cases[i].code, cases[i].needle);
    }
}

static float *
random_floats (guint32 seed,
               gsize   n)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -2.0, 2.0);
  g_rand_free (rand);
  return v;
}

/* Style latents: saved and read back (single file and pack), checked
 * against the generator, and blended as generator-math §7 says. */
static void
test_style (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) b = load_one ("tiny-domain-b.safetensors");
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "image.safetensors", NULL);
  int w_dim = gen->config.w_dim, from = 3, rows = gen->num_ws - from;
  g_autofree float *style_a = random_floats (5, (gsize) rows * w_dim);
  g_autofree float *style_b = random_floats (6, (gsize) (rows + 1) * w_dim);
  g_autofree float *alpha = g_new (float, gen->num_ws);
  g_autofree float *sum = g_new (float, (gsize) gen->num_ws * w_dim);
  g_autoptr(GPtrArray) loaded = NULL;
  g_autoptr(GError) error = NULL;
  HdDomain *image, *image_b;
  HdBlendTerm terms[3];

  g_assert_cmpint (a->style_from, ==, -1);
  g_assert_null (a->style_w);
  hd_domain_set_style (a, from, rows, w_dim, style_a);
  g_assert_true (hd_domain_save (a, NULL, path, &error));
  g_assert_no_error (error);
  loaded = hd_domain_load_all (path, &error);
  g_assert_no_error (error);
  image = g_ptr_array_index (loaded, 0);
  g_assert_cmpint (image->style_from, ==, from);
  g_assert_cmpint (image->style_rows, ==, rows);
  g_assert_cmpint (image->style_dim, ==, w_dim);
  g_assert_cmpmem (image->style_w, sizeof (float) * rows * w_dim, style_a,
                   sizeof (float) * rows * w_dim);
  g_assert_cmpuint (g_hash_table_size (image->layers), ==, g_hash_table_size (a->layers));
  g_assert_true (hd_domain_check (image, gen, NULL, &error));
  g_assert_no_error (error);

  /* Latents that do not end at the generator's last layer, or of another
   * w_dim, belong to another generator. */
  hd_domain_set_style (b, from - 1, rows, w_dim, style_b);
  g_assert_false (hd_domain_check (b, gen, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "its style latents are 5 × 48 from layer 2, where "
                                            "that generator takes 8 layers of 48"));
  g_clear_error (&error);
  hd_domain_set_style (b, from - 1, rows + 1, w_dim - 1, style_b);
  g_assert_false (hd_domain_check (b, gen, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_clear_error (&error);
  hd_domain_set_style (b, from - 1, rows + 1, w_dim, style_b);
  g_assert_true (hd_domain_check (b, gen, NULL, &error));
  image_b = b;

  /* No term with style latents: nothing to mix. */
  terms[0] = (HdBlendTerm) { load_one ("tiny-domain-partial.safetensors"), 1.0f, 0, 0 };
  alpha[0] = 42.0f;
  g_assert_false (hd_domain_blend_style (gen, terms, 1, alpha, sum));
  g_assert_cmpfloat (alpha[0], ==, 42.0f);

  /* α and Σ α S per layer, with the layer ranges: w_k belongs to the
   * block whose first conv reads it (tiny: w_0 b4, w_1 and w_2 b8, w_3
   * and w_4 b16, w_5 and w_6 b32, w_7 the last ToRGB, b32). */
  terms[1] = (HdBlendTerm) { image, 0.75f, 0, 0 };
  terms[2] = (HdBlendTerm) { image_b, -0.5f, 16, 16 };
  g_assert_true (hd_domain_blend_style (gen, terms, 3, alpha, sum));
  for (int k = 0; k < gen->num_ws; k++)
    {
      int res = k == 0 ? 4 : k == gen->num_ws - 1 ? 32 : 4 << ((k + 1) / 2);
      gboolean in_a = k >= from, in_b = k >= from - 1 && res == 16;
      float want_alpha = (in_a ? 0.75f : 0.0f) + (in_b ? -0.5f : 0.0f);

      g_assert_cmpfloat_with_epsilon (alpha[k], want_alpha, 1e-7);
      for (int j = 0; j < w_dim; j++)
        {
          float want = 0.0f;
          if (in_a)
            want += 0.75f * style_a[(gsize) (k - from) * w_dim + j];
          if (in_b)
            want += -0.5f * style_b[(gsize) (k - from + 1) * w_dim + j];
          g_assert_cmpfloat_with_epsilon (sum[(gsize) k * w_dim + j], want, 1e-6);
        }
    }
  hd_domain_unref (terms[0].domain);

  /* A pack carries them as <id>/style.w and <id>.style_from. */
  {
    g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(HdSafetensors) st = NULL;
    g_autoptr(GPtrArray) pack = NULL;
    HdDomainLayer *layer = g_hash_table_lookup (a->layers, "synthesis.b8.conv0");
    gint64 lshape[1] = { layer->length }, sshape[2] = { rows, w_dim };
    HdDomain *p;

    hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain-pack");
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
    hd_safetensors_writer_set_metadata (writer, "im.name", "Image");
    hd_safetensors_writer_set_metadata (writer, "im.style_from", "3");
    hd_safetensors_writer_set_metadata (writer, "tx.name", "Text");
    hd_safetensors_writer_add_f32 (writer, "im/synthesis.b8.conv0", HD_DTYPE_F32, lshape, 1,
                                   layer->values);
    hd_safetensors_writer_add_f32 (writer, "im/style.w", HD_DTYPE_F16, sshape, 2, style_a);
    hd_safetensors_writer_add_f32 (writer, "tx/synthesis.b8.conv0", HD_DTYPE_F32, lshape, 1,
                                   layer->values);
    bytes = hd_safetensors_writer_to_bytes (writer);
    st = hd_safetensors_new_from_bytes (bytes, "pack.safetensors", &error);
    g_assert_no_error (error);
    pack = hd_domain_load_from_safetensors (st, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (pack->len, ==, 2);
    p = g_ptr_array_index (pack, 0);
    g_assert_cmpstr (p->id, ==, "im");
    g_assert_cmpint (p->style_from, ==, 3);
    g_assert_cmpint (p->style_rows, ==, rows);
    g_assert_cmpfloat_with_epsilon (p->style_w[7], style_a[7], 2e-3);
    g_assert_true (hd_domain_check (p, gen, NULL, &error));
    p = g_ptr_array_index (pack, 1);
    g_assert_null (p->style_w);
  }
  hd_test_rmdir_recursive (dir);
}

static void
test_version (void)
{
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) result = NULL;

  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "2");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", "X");
  bytes = hd_safetensors_writer_to_bytes (writer);
  st = hd_safetensors_new_from_bytes (bytes, "built.safetensors", &error);
  g_assert_no_error (error);
  result = hd_domain_load_from_safetensors (st, NULL, &error);
  expect_built_error (result, error, HD_ERROR_UNSUPPORTED, "hyperdomain.version “2” is not supported");
}

static void
test_generator_as_domain (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *missing = hd_test_conformance_path ("no-such-domain.safetensors");

  expect_load_error (path, HD_ERROR_FORMAT, "this file is a generator, not a domain");
  expect_load_error (path, HD_ERROR_FORMAT, "tiny.safetensors");
  expect_load_error (missing, HD_ERROR_IO, "no-such-domain.safetensors");
}

/* A domain made for another generator: a wrong length is an error naming
 * both files and the layer; another generator name only a warning. */
static void
test_check (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) wrong_length = load_built ("domain", "input-after-demod", "X",
                                                  "synthesis.b16.conv1", 10, 1, 0.0f, NULL, &error);
  g_autoptr(GPtrArray) no_layer = NULL;
  g_autoptr(GPtrArray) other_gen = NULL;
  g_autofree char *warning = NULL;
  g_autofree char *abs_built = g_canonicalize_filename ("built.safetensors", NULL);

  g_assert_no_error (error);
  g_assert_false (hd_domain_check (g_ptr_array_index (wrong_length, 0), gen, &warning, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, abs_built));
  g_assert_nonnull (strstr (error->message, gen->path));
  g_assert_true (g_str_has_prefix (error->message, "“"));
  g_assert_nonnull (strstr (error->message, "” was made for another generator (“other-gen”, not “tiny”): "));
  g_assert_nonnull (strstr (error->message, "layer “synthesis.b16.conv1” has 10 values"));
  g_assert_nonnull (strstr (error->message, "needs 32"));
  g_clear_error (&error);

  no_layer = load_built ("domain", "input-after-demod", "X", "synthesis.b64.conv0", 16, 1, 0.0f,
                         NULL, &error);
  g_assert_no_error (error);
  g_assert_false (hd_domain_check (g_ptr_array_index (no_layer, 0), gen, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, abs_built));
  g_assert_nonnull (strstr (error->message, gen->path));
  g_assert_nonnull (strstr (error->message, "was made for another generator (“other-gen”, not “tiny”)"));
  g_assert_nonnull (strstr (error->message, "layer “synthesis.b64.conv0” does not exist"));
  g_clear_error (&error);

  other_gen = load_built ("domain", "input-after-demod", "Made elsewhere", "synthesis.b16.conv1",
                          32, 1, 0.5f, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hd_domain_check (g_ptr_array_index (other_gen, 0), gen, &warning, &error));
  g_assert_no_error (error);
  g_assert_nonnull (warning);
  g_test_message ("%s", warning);
  g_assert_nonnull (strstr (warning, "other-gen"));
  g_assert_nonnull (strstr (warning, "tiny"));
  g_assert_nonnull (strstr (warning, "Made elsewhere"));
  /* Without a place for the warning, it is simply not reported. */
  g_assert_true (hd_domain_check (g_ptr_array_index (other_gen, 0), gen, NULL, &error));
  g_assert_no_error (error);
}

/* Against a random generator of another size the conformance domains fail
 * with a message naming both files. */
static void
test_check_random (void)
{
  HdGeneratorConfig config = hd_test_config (32, 256, 64, 8, 8, FALSE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);
  g_autoptr(HdDomain) a = load_one ("tiny-domain-a.safetensors");
  g_autoptr(GError) error = NULL;

  g_assert_false (hd_domain_check (a, gen, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "tiny-domain-a.safetensors"));
  g_assert_nonnull (strstr (error->message, "random-32"));
  g_assert_nonnull (strstr (error->message, "was made for another generator"));
}

static void
test_ref (void)
{
  HdDomain *a = load_one ("tiny-domain-a.safetensors");

  g_assert_true (hd_domain_ref (a) == a);
  hd_domain_unref (a);
  hd_domain_unref (a);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Domain/load-single", test_load_single);
  g_test_add_func ("/Hyperdomain/Domain/values", test_values);
  g_test_add_func ("/Hyperdomain/Domain/blend", test_blend);
  g_test_add_func ("/Hyperdomain/Domain/blend-ranges", test_blend_ranges);
  g_test_add_func ("/Hyperdomain/Domain/pack", test_pack);
  g_test_add_func ("/Hyperdomain/Domain/pack-unknown-id", test_pack_unknown_id);
  g_test_add_func ("/Hyperdomain/Domain/pack-bad-ids", test_pack_bad_ids);
  g_test_add_func ("/Hyperdomain/Domain/hash-in-name", test_hash_in_name);
  g_test_add_func ("/Hyperdomain/Domain/bad-domains", test_bad_domains);
  g_test_add_func ("/Hyperdomain/Domain/bad-style", test_bad_style);
  g_test_add_func ("/Hyperdomain/Domain/style", test_style);
  g_test_add_func ("/Hyperdomain/Domain/version", test_version);
  g_test_add_func ("/Hyperdomain/Domain/generator-as-domain", test_generator_as_domain);
  g_test_add_func ("/Hyperdomain/Domain/check", test_check);
  g_test_add_func ("/Hyperdomain/Domain/check-random", test_check_random);
  g_test_add_func ("/Hyperdomain/Domain/ref", test_ref);

  return g_test_run ();
}
