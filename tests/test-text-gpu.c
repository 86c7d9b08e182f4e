/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text encoder and the mapper on the Vulkan device against
 * conformance/text (every embedding and domain case from its token ids)
 * and against the plain C reference. */
#include <math.h>

#include <json-glib/json-glib.h>

#include "hd-hypernetwork.h"
#include "hd-latent.h"
#include "hd-test-util.h"
#include "hd-text-encoder.h"
#include "hd-text-gpu.h"
#include "hd-text-reference.h"

static HdVkContext *context;


/* CASES ("embeddings" or "domains") of cases.json through the device:
 * e, or d, within the spec's tolerance of the expected vectors. */
static void
check_cases (const char *list_name,
             gboolean    domains)
{
  g_autofree char *path = hd_test_conformance_path ("text/cases.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *cases, *tolerance;
  JsonArray *list;
  double tol, worst = 0.0;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  cases = json_node_get_object (json_parser_get_root (parser));
  tolerance = json_object_get_object_member (cases, "tolerance");
  tol = json_object_get_double_member (tolerance, domains ? "domain_max_abs_rel" : "embedding_max_abs");
  list = json_object_get_array_member (cases, list_name);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      const char *hn_name = json_object_has_member (c, "hypernetwork") ?
                            json_object_get_string_member (c, "hypernetwork") : "tiny-text.safetensors";
      g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork (hn_name);
      g_autoptr(HdTextGpu) gpu = hd_text_gpu_new (context, hn, &error);
      JsonArray *tokens = json_object_get_array_member (c, "tokens");
      guint n = json_array_get_length (tokens);
      g_autofree guint32 *ids = g_new (guint32, n);
      g_autofree float *d = g_new (float, hd_hypernetwork_output_size (hn));
      g_autofree float *e = g_new (float, hn->clip.embed_dim);
      g_autofree char *file = g_strdup_printf ("text/%s", json_object_get_string_member (c, "expected"));
      g_autofree char *npy_path = hd_test_conformance_path (file);
      g_autoptr(HdNpy) expected = NULL;
      const float *got;
      double max_abs = 0.0, max_ref = 1.0;

      g_assert_no_error (error);
      for (guint t = 0; t < n; t++)
        ids[t] = (guint32) json_array_get_int_element (tokens, t);
      g_assert_true (hd_text_gpu_encode (gpu, ids, n, d, e, &error));
      g_assert_no_error (error);
      expected = hd_npy_read (npy_path, &error);
      g_assert_no_error (error);
      got = domains ? d : e;
      for (gsize j = 0; j < expected->n_elements; j++)
        {
          max_abs = MAX (max_abs, fabs (got[j] - expected->data[j]));
          if (domains)
            max_ref = MAX (max_ref, fabs (expected->data[j]));
        }
      g_test_message ("%-24s max abs %.2e  (GPU %.2f ms)", json_object_get_string_member (c, "name"),
                      max_abs, hd_text_gpu_get_gpu_ms (gpu));
      g_assert_cmpfloat (max_abs, <=, tol * max_ref);
      worst = MAX (worst, max_abs / max_ref);
    }
  g_test_message ("worst: %.2e (tolerance %.0e)", worst, tol);
}

static void
test_embeddings (void)
{
  check_cases ("embeddings", FALSE);
}

static void
test_domains (void)
{
  check_cases ("domains", TRUE);
}

/* One device object encodes prompt after prompt of different lengths
 * (command buffers per length) with the reference's results. */
static void
test_many_lengths (void)
{
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTextGpu) gpu = hd_text_gpu_new (context, hn, &error);
  gsize n_out = hd_hypernetwork_output_size (hn);

  g_assert_no_error (error);
  for (guint len = 2; len <= (guint) hn->clip.context_length; len += 9)
    for (guint round = 0; round < 2; round++)
      {
        g_autofree guint32 *ids = g_new (guint32, len);
        g_autofree float *d = g_new (float, n_out);
        g_autofree float *ref = g_new (float, n_out);
        g_autofree float *e = g_new (float, hn->clip.embed_dim);
        double max_abs = 0.0;

        ids[0] = hn->clip.vocab_size - 2;
        for (guint i = 1; i + 1 < len; i++)
          ids[i] = (i * 37 + len) % 500;
        ids[len - 1] = hn->clip.vocab_size - 1;
        g_assert_true (hd_text_gpu_encode (gpu, ids, len, d, NULL, &error));
        g_assert_no_error (error);
        g_assert_true (hd_text_reference_encode (hn, ids, len, e, &error));
        hd_text_reference_map (hn, e, ref);
        for (gsize j = 0; j < n_out; j++)
          max_abs = MAX (max_abs, fabs (d[j] - ref[j]));
        g_assert_cmpfloat (max_abs, <=, 1e-4);
      }
  g_assert_cmpuint (hd_text_gpu_get_device_bytes (gpu), >, 0);
}

/* Random networks for what the fixtures lack: prelu and id
 * activations, deeper mappers, a long prompt of many heads. */
static void
test_random_mappers (void)
{
  static const HdMapperActivation acts[] = { HD_MAPPER_PRELU, HD_MAPPER_ID, HD_MAPPER_LRELU };

  for (guint a = 0; a < G_N_ELEMENTS (acts); a++)
    {
      HdClipConfig clip = {
        .context_length = 20, .vocab_size = 600, .width = 32, .heads = 2, .layers = 2, .embed_dim = 24,
      };
      HdMapperConfig mapper = {
        .activation = acts[a], .input_dimension = 24, .width = 24,
        .backbone_depth = 3, .head_depth = 3, .inner_features = 40,
      };
      g_autoptr(GError) error = NULL;
      g_autoptr(HdHypernetwork) hn = hd_hypernetwork_new_random (&clip, &mapper, 64, 512, 48, 5 + a, &error);
      g_autoptr(HdTextGpu) gpu = NULL;
      gsize n_out;
      guint32 ids[13];
      g_autofree float *d = NULL;
      g_autofree float *ref = NULL;
      float e[24], e_ref[24];
      double max_abs = 0.0, max_e = 0.0;

      g_assert_no_error (error);
      gpu = hd_text_gpu_new (context, hn, &error);
      g_assert_no_error (error);
      n_out = hd_hypernetwork_output_size (hn);
      d = g_new (float, n_out);
      ref = g_new (float, n_out);
      ids[0] = 598;
      for (guint i = 1; i < 12; i++)
        ids[i] = 17 * i;
      ids[12] = 599;
      g_assert_true (hd_text_gpu_encode (gpu, ids, 13, d, e, &error));
      g_assert_no_error (error);
      g_assert_true (hd_text_reference_encode (hn, ids, 13, e_ref, &error));
      hd_text_reference_map (hn, e_ref, ref);
      for (int j = 0; j < 24; j++)
        max_e = MAX (max_e, fabs (e[j] - e_ref[j]));
      for (gsize j = 0; j < n_out; j++)
        max_abs = MAX (max_abs, fabs (d[j] - ref[j]));
      g_test_message ("activation %u: max |e - ref| %.2e, max |d - ref| %.2e over %zu", acts[a],
                      max_e, max_abs, n_out);
      /* The CLIP of a random network is stored in half precision (the
       * reference reads the same halves), so only float rounding differs. */
      g_assert_cmpfloat (max_e, <=, 1e-4);
      g_assert_cmpfloat (max_abs, <=, 1e-4);
    }
}

/* Prompts through the encoder object: the same prompt is encoded once,
 * and its domain is the one the fixtures expect. */
static void
test_encoder_cache (void)
{
  g_autoptr(HdHypernetwork) hn = hd_test_load_hypernetwork ("tiny-text.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTextEncoder) encoder = hd_text_encoder_new (hn, NULL, &error);
  g_autoptr(HdDomain) a = NULL;
  g_autoptr(HdDomain) b = NULL;
  g_autoptr(HdDomain) c = NULL;

  g_assert_no_error (error);
  a = hd_text_encoder_get_domain (encoder, "Pixar style", &error);
  g_assert_no_error (error);
  b = hd_text_encoder_get_domain (encoder, "Pixar style", &error);
  g_assert_no_error (error);
  g_assert_true (a == b);
  g_assert_cmpuint (hd_text_encoder_get_n_encoded (encoder), ==, 1);
  c = hd_text_encoder_get_domain (encoder, "pixar style", &error);
  g_assert_no_error (error);
  g_assert_true (c != a);
  g_assert_cmpuint (hd_text_encoder_get_n_encoded (encoder), ==, 2);
  g_assert_cmpstr (a->prompt, ==, "Pixar style");
  g_assert_cmpstr (a->hypernetwork_name, ==, "mapper-tiny");
  g_assert_true (hd_text_encoder_is_on_device (encoder));

  /* Moved to a device that is not there: new prompts on the CPU, the
   * cached ones kept; moved back: on the device again. */
  hd_text_encoder_set_device (encoder, "99");
  g_assert_cmpstr (hd_text_encoder_get_device (encoder), ==, "99");
  {
    g_autoptr(HdDomain) again = hd_text_encoder_get_domain (encoder, "Pixar style", &error);
    g_autoptr(HdDomain) cpu = hd_text_encoder_get_domain (encoder, "ukiyo-e", &error);
    g_autoptr(HdDomain) gpu = NULL;
    g_autoptr(HdTextEncoder) other = hd_text_encoder_new (hn, "cpu", &error);
    GHashTableIter iter;
    gpointer name, layer;

    g_assert_no_error (error);
    g_assert_true (again == a);
    g_assert_false (hd_text_encoder_is_on_device (encoder));
    gpu = hd_text_encoder_get_domain (other, "ukiyo-e", &error);
    g_assert_no_error (error);
    g_assert_true (hd_text_encoder_is_on_device (other));
    g_hash_table_iter_init (&iter, cpu->layers);
    while (g_hash_table_iter_next (&iter, &name, &layer))
      {
        HdDomainLayer *l = layer, *m = g_hash_table_lookup (gpu->layers, name);

        for (int i = 0; i < l->length; i++)
          g_assert_cmpfloat (fabs (l->values[i] - m->values[i]), <, 1e-4);
      }
  }
  hd_text_encoder_set_device (encoder, "cpu");
  g_clear_pointer (&c, hd_domain_unref);
  c = hd_text_encoder_get_domain (encoder, "a third prompt", &error);
  g_assert_no_error (error);
  g_assert_true (hd_text_encoder_is_on_device (encoder));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  context = hd_vk_context_new (NULL, &error);
  g_assert_no_error (error);
  g_test_add_func ("/Hyperdomain/TextGpu/embeddings", test_embeddings);
  g_test_add_func ("/Hyperdomain/TextGpu/domains", test_domains);
  g_test_add_func ("/Hyperdomain/TextGpu/many-lengths", test_many_lengths);
  g_test_add_func ("/Hyperdomain/TextGpu/random-mappers", test_random_mappers);
  g_test_add_func ("/Hyperdomain/TextGpu/encoder-cache", test_encoder_cache);
  status = g_test_run ();
  g_assert_cmpuint (hd_vk_context_get_validation_messages (context), ==, 0);
  hd_vk_context_unref (context);
  return status;
}
