/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Hypernetwork files (spec/text-domains.md §5) and the plain C text
 * encoder and mapper (§3, §4) against conformance/text: every embedding
 * and domain case from its token ids, and the loader's refusals. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-error.h"
#include "hd-hypernetwork.h"
#include "hd-latent.h"
#include "hd-test-util.h"
#include "hd-text-reference.h"

static JsonObject *
load_cases (JsonParser *parser)
{
  g_autofree char *path = hd_test_conformance_path ("text/cases.json");
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}


static guint32 *
case_tokens (JsonObject *c,
             guint      *n)
{
  JsonArray *tokens = json_object_get_array_member (c, "tokens");
  guint32 *ids;

  *n = json_array_get_length (tokens);
  ids = g_new (guint32, MAX (*n, 1));
  for (guint i = 0; i < *n; i++)
    ids[i] = (guint32) json_array_get_int_element (tokens, i);
  return ids;
}

static HdNpy *
case_expected (JsonObject *c)
{
  g_autofree char *file = g_strdup_printf ("text/%s", json_object_get_string_member (c, "expected"));
  g_autofree char *path = hd_test_conformance_path (file);
  g_autoptr(GError) error = NULL;
  HdNpy *npy = hd_npy_read (path, &error);

  g_assert_no_error (error);
  return npy;
}

static void
test_load (void)
{
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (hn->name, ==, "mapper-tiny");
  g_assert_cmpstr (hn->generator, ==, "tiny");
  g_assert_cmpint (hn->clip.width, ==, 64);
  g_assert_cmpint (hn->clip.heads, ==, 4);
  g_assert_cmpint (hn->clip.layers, ==, 2);
  g_assert_cmpint (hn->clip.vocab_size, ==, 768);
  g_assert_cmpint (hn->clip.embed_dim, ==, 16);
  g_assert_cmpint (hn->mapper.activation, ==, HD_MAPPER_RELU);
  g_assert_cmpint (hn->n_layers, ==, 7);
  g_assert_cmpstr (hn->layer_names[0], ==, "synthesis.b4.conv1");
  g_assert_cmpstr (hn->layer_names[6], ==, "synthesis.b32.conv1");
  g_assert_cmpuint (hd_hypernetwork_output_size (hn), ==, 336);
  g_assert_true (hn->merges_len > 0 && hn->merges[hn->merges_len - 1] == '\n');
  g_assert_true (hd_hypernetwork_check (hn, gen, &error));
  g_assert_no_error (error);
}

/* Every embedding case: e of the token ids, within 1e-4. */
static void
test_embeddings (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = load_cases (parser);
  JsonArray *list = json_object_get_array_member (cases, "embeddings");
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  double tol = json_object_get_double_member (json_object_get_object_member (cases, "tolerance"),
                                              "embedding_max_abs");
  double worst = 0.0;

  g_assert_cmpuint (json_array_get_length (list), >, 0);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(HdNpy) expected = case_expected (c);
      g_autofree float *e = g_new (float, hn->clip.embed_dim);
      guint n;
      g_autofree guint32 *ids = case_tokens (c, &n);
      double max_abs = 0.0;

      g_assert_true (hd_text_reference_encode (hn, ids, n, e, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (expected->n_elements, ==, (guint) hn->clip.embed_dim);
      for (int j = 0; j < hn->clip.embed_dim; j++)
        max_abs = MAX (max_abs, fabs (e[j] - expected->data[j]));
      g_test_message ("%-28s max |e - e_ref| %.2e", json_object_get_string_member (c, "name"), max_abs);
      g_assert_cmpfloat (max_abs, <=, tol);
      worst = MAX (worst, max_abs);
    }
  g_test_message ("worst embedding error %.2e (tolerance %.0e)", worst, tol);
}

/* Every domain case: d of the token ids, layer by layer. */
static void
test_domains (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = load_cases (parser);
  JsonArray *list = json_object_get_array_member (cases, "domains");
  JsonArray *layers = json_object_get_array_member (cases, "layers");
  double tol = json_object_get_double_member (json_object_get_object_member (cases, "tolerance"),
                                              "domain_max_abs_rel");
  double worst = 0.0;

  g_assert_cmpuint (json_array_get_length (list), >, 0);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork (json_object_get_string_member (c, "hypernetwork"));
      g_autoptr(GError) error = NULL;
      g_autoptr(HdNpy) expected = case_expected (c);
      g_autofree float *e = g_new (float, hn->clip.embed_dim);
      g_autofree float *d = g_new (float, hd_hypernetwork_output_size (hn));
      g_autoptr(HdDomain) domain = NULL;
      guint n;
      g_autofree guint32 *ids = case_tokens (c, &n);
      double max_abs = 0.0, max_ref = 1.0;

      g_assert_true (hd_text_reference_encode (hn, ids, n, e, &error));
      g_assert_no_error (error);
      hd_text_reference_map (hn, e, d);
      domain = hd_hypernetwork_make_domain (hn, d, json_object_get_string_member (c, "prompt"));
      g_assert_cmpuint (expected->n_elements, ==, hd_hypernetwork_output_size (hn));
      for (guint l = 0; l < json_array_get_length (layers); l++)
        {
          JsonObject *layer = json_array_get_object_element (layers, l);
          HdDomainLayer *dl = g_hash_table_lookup (domain->layers,
                                                   json_object_get_string_member (layer, "name"));
          gint64 size = json_object_get_int_member (layer, "size");
          gint64 offset = json_object_get_int_member (layer, "offset");

          g_assert_nonnull (dl);
          g_assert_cmpint (dl->length, ==, size);
          for (gint64 j = 0; j < size; j++)
            {
              max_abs = MAX (max_abs, fabs (dl->values[j] - expected->data[offset + j]));
              max_ref = MAX (max_ref, fabs (expected->data[offset + j]));
            }
        }
      g_test_message ("%-28s max |d - d_ref| %.2e", json_object_get_string_member (c, "name"), max_abs);
      g_assert_cmpfloat (max_abs, <=, tol * max_ref);
      worst = MAX (worst, max_abs / max_ref);
    }
  g_test_message ("worst relative domain error %.2e (tolerance %.0e)", worst, tol);
}

/* The fixture's bytes with its header JSON changed by EDIT. */
typedef void (*HeaderEdit) (JsonObject *header);

static GBytes *
edited_fixture (HeaderEdit edit)
{
  g_autofree char *path = hd_test_conformance_path ("text/tiny-text.safetensors");
  g_autofree char *contents = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *header = NULL;
  g_autoptr(GError) error = NULL;
  GByteArray *out;
  gsize len, header_len;
  guint64 n, le;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  memcpy (&le, contents, 8);
  n = GUINT64_FROM_LE (le);
  json_parser_load_from_data (parser, contents + 8, (gssize) n, &error);
  g_assert_no_error (error);
  edit (json_node_get_object (json_parser_get_root (parser)));
  json_generator_set_root (generator, json_parser_get_root (parser));
  header = json_generator_to_data (generator, &header_len);
  out = g_byte_array_new ();
  le = GUINT64_TO_LE ((guint64) header_len);
  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) header, header_len);
  g_byte_array_append (out, (const guint8 *) contents + 8 + n, len - 8 - n);
  return g_byte_array_free_to_bytes (out);
}

static JsonObject *
metadata (JsonObject *header)
{
  return json_object_get_object_member (header, "__metadata__");
}

/* The config's JSON, edited: FIND replaced by REPLACE. */
static void
edit_config (JsonObject *header,
             const char *find,
             const char *replace)
{
  const char *config = json_object_get_string_member (metadata (header), "hyperdomain.config");
  g_autoptr(GString) s = g_string_new (config);

  g_assert_nonnull (strstr (config, find));
  g_string_replace (s, find, replace, 1);
  json_object_set_string_member (metadata (header), "hyperdomain.config", s->str);
}

static void edit_kind (JsonObject *h) { json_object_set_string_member (metadata (h), "hyperdomain.kind", "domain"); }
static void edit_no_name (JsonObject *h) { json_object_remove_member (metadata (h), "hyperdomain.name"); }
static void edit_bad_json (JsonObject *h) { edit_config (h, "{", "{{"); }
static void edit_activation (JsonObject *h) { edit_config (h, "\"relu\"", "\"gelu\""); }
static void edit_type (JsonObject *h) { edit_config (h, "residual_channelin", "residual_channelwise_sep"); }
static void edit_heads (JsonObject *h) { edit_config (h, "\"heads\":4", "\"heads\":5"); }
static void edit_dims (JsonObject *h) { edit_config (h, "\"input_dimension\":16", "\"input_dimension\":8"); }
static void edit_layers (JsonObject *h) { edit_config (h, "synthesis.b8.conv0", "synthesis.b8.conv1"); }

static void
edit_missing_tensor (JsonObject *h)
{
  JsonNode *node = json_object_dup_member (h, "clip.ln_final.bias");

  json_object_remove_member (h, "clip.ln_final.bias");
  json_object_set_member (h, "clip.ln_final.beta", node);
}

static void
edit_shape (JsonObject *h)
{
  JsonObject *t = json_object_get_object_member (h, "clip.text_projection");
  JsonArray *shape = json_array_new ();

  /* Same number of elements, other shape. */
  json_array_add_int_element (shape, 16);
  json_array_add_int_element (shape, 64);
  json_object_set_array_member (t, "shape", shape);
}

static void
check_refused (HeaderEdit  edit,
               const char *expected_part)
{
  g_autoptr(GBytes) bytes = edited_fixture (edit);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes_full (bytes, "edited.safetensors",
                                                                    HD_SAFETENSORS_ALLOW_INTEGERS,
                                                                    &error);
  g_autoptr(HdHypernetwork) hn = NULL;

  g_assert_no_error (error);
  hn = hd_hypernetwork_load_from_safetensors (st, &error);
  g_assert_null (hn);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "edited.safetensors"));
  g_assert_nonnull (strstr (error->message, expected_part));
}

static void
test_refusals (void)
{
  check_refused (edit_kind, "hypernetwork");
  check_refused (edit_no_name, "hyperdomain.name");
  check_refused (edit_bad_json, "not JSON");
  check_refused (edit_activation, "gelu");
  check_refused (edit_type, "residual_channelwise_sep");
  check_refused (edit_heads, "heads");
  check_refused (edit_dims, "input_dimension");
  check_refused (edit_layers, "synthesis.b8.conv0");
  check_refused (edit_missing_tensor, "clip.ln_final");
  check_refused (edit_shape, "clip.text_projection");
}

/* A generator whose layers do not fit: an error naming the layer. */
static void
test_generator_mismatch (void)
{
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  HdGeneratorConfig config = hd_test_config (32, 1024, 128, 32, 48, FALSE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);
  g_autoptr(GError) error = NULL;

  g_assert_false (hd_hypernetwork_check (hn, gen, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "synthesis.b4.conv1"));
}

/* A text domain saved as a domain file: named and described by its
 * prompt, its source says which hypernetwork, the layers come back. */
static void
test_save_text_domain (void)
{
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  g_autofree float *d = g_new (float, hd_hypernetwork_output_size (hn));
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "pixar.safetensors", NULL);
  g_autoptr(HdDomain) domain = NULL;
  g_autoptr(GPtrArray) loaded = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autoptr(GError) error = NULL;
  HdDomain *back;

  for (gsize i = 0; i < hd_hypernetwork_output_size (hn); i++)
    d[i] = (float) i / 100.0f;
  domain = hd_hypernetwork_make_domain (hn, d, "Pixar style");
  g_assert_true (hd_domain_save (domain, NULL, path, &error));
  g_assert_no_error (error);
  loaded = hd_domain_load_all (path, &error);
  g_assert_no_error (error);
  back = g_ptr_array_index (loaded, 0);
  g_assert_cmpstr (back->name, ==, "Pixar style");
  g_assert_cmpstr (back->description, ==, "Pixar style");
  g_assert_cmpstr (back->generator, ==, "tiny");
  g_assert_null (back->prompt);
  g_assert_cmpuint (g_hash_table_size (back->layers), ==, 7);
  g_assert_cmpfloat (((HdDomainLayer *) g_hash_table_lookup (back->layers, "synthesis.b32.conv1"))->values[0],
                     ==, d[320]);
  st = hd_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hd_safetensors_get_metadata (st, "hyperdomain.source"), ==, "text prompt via mapper-tiny");
  hd_test_rmdir_recursive (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/Hypernetwork/load", test_load);
  g_test_add_func ("/Hyperdomain/Hypernetwork/refusals", test_refusals);
  g_test_add_func ("/Hyperdomain/Hypernetwork/generator-mismatch", test_generator_mismatch);
  g_test_add_func ("/Hyperdomain/Hypernetwork/save-text-domain", test_save_text_domain);
  g_test_add_func ("/Hyperdomain/TextReference/embeddings", test_embeddings);
  g_test_add_func ("/Hyperdomain/TextReference/domains", test_domains);
  return g_test_run ();
}
