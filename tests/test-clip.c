/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Clip files (spec/domain-training.md §7) and the plain C image tower,
 * preprocessing and text direction (§2, §3) against conformance/training:
 * every image-embedding and text-direction case, and the loader's
 * refusals. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-clip.h"
#include "hd-clip-reference.h"
#include "hd-error.h"
#include "hd-latent.h"
#include "hd-test-util.h"

static double
tolerance (JsonObject *cases,
           const char *key)
{
  return json_object_get_double_member (json_object_get_object_member (cases, "tolerance"), key);
}

static void
test_load (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonObject *clips = json_object_get_object_member (cases, "clips");
  g_autoptr(GList) names = json_object_get_members (clips);

  g_assert_cmpuint (g_list_length (names), ==, 2);
  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autoptr(HdClip) clip = hd_test_load_clip (l->data);
      JsonObject *config = json_object_get_object_member (json_object_get_object_member (clips, l->data),
                                                          "config");
      JsonObject *text = json_object_get_object_member (config, "text");
      JsonObject *vision = json_object_get_object_member (config, "vision");

      g_assert_cmpstr (clip->config.name, ==, json_object_get_string_member (config, "name"));
      g_assert_cmpint (clip->config.embed_dim, ==, json_object_get_int_member (config, "embed_dim"));
      g_assert_cmpint (clip->config.width, ==, json_object_get_int_member (text, "width"));
      g_assert_cmpint (clip->config.heads, ==, json_object_get_int_member (text, "heads"));
      g_assert_cmpint (clip->config.layers, ==, json_object_get_int_member (text, "layers"));
      g_assert_cmpint (clip->config.vocab_size, ==, json_object_get_int_member (text, "vocab_size"));
      g_assert_cmpint (clip->vision.width, ==, json_object_get_int_member (vision, "width"));
      g_assert_cmpint (clip->vision.heads, ==, json_object_get_int_member (vision, "heads"));
      g_assert_cmpint (clip->vision.layers, ==, json_object_get_int_member (vision, "layers"));
      g_assert_cmpint (clip->vision.patch, ==, json_object_get_int_member (vision, "patch_size"));
      g_assert_cmpint (clip->vision.resolution, ==,
                       json_object_get_int_member (vision, "image_resolution"));
      g_assert_cmpint (clip->vision.grid * clip->vision.patch, ==, clip->vision.resolution);
      g_assert_true (clip->text.merges_len > 0);
    }
}

/* Every image case: the preprocessed input and the embedding. */
static void
test_image_embeddings (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "image_embeddings");
  double tol_pre = tolerance (cases, "preprocessed_max_abs");
  double tol_emb = tolerance (cases, "embedding_max_abs");
  double worst_pre = 0.0, worst_emb = 0.0;

  g_assert_cmpuint (json_array_get_length (list), ==, 12);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdClip) clip = hd_test_load_clip (json_object_get_string_member (c, "clip"));
      g_autoptr(HdNpy) img = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "image"));
      g_autoptr(HdNpy) pre_expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "preprocessed"));
      g_autoptr(HdNpy) emb_expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      int r = (int) json_object_get_int_member (c, "image_size");
      int n = clip->vision.resolution;
      g_autofree float *pre = g_new (float, (gsize) 3 * n * n);
      g_autofree float *e = g_new (float, clip->config.embed_dim);
      double d_pre, d_emb;

      g_assert_cmpint (n, ==, json_object_get_int_member (c, "clip_resolution"));
      g_assert_cmpuint (img->n_elements, ==, (gsize) 3 * r * r);
      g_assert_cmpuint (pre_expected->n_elements, ==, (gsize) 3 * n * n);
      hd_clip_reference_preprocess (img->data, r, n, pre);
      d_pre = hd_test_max_abs_diff (pre, pre_expected->data, (gsize) 3 * n * n);
      hd_clip_reference_encode_image (clip, pre, e);
      g_assert_cmpuint (emb_expected->n_elements, ==, (gsize) clip->config.embed_dim);
      d_emb = hd_test_max_abs_diff (e, emb_expected->data, clip->config.embed_dim);
      g_test_message ("%s: preprocessed %.3g, embedding %.3g",
                      json_object_get_string_member (c, "name"), d_pre, d_emb);
      g_assert_cmpfloat (d_pre, <=, tol_pre);
      g_assert_cmpfloat (d_emb, <=, tol_emb);
      worst_pre = MAX (worst_pre, d_pre);
      worst_emb = MAX (worst_emb, d_emb);
    }
  g_test_message ("worst: preprocessed %.3g, embedding %.3g", worst_pre, worst_emb);
}

/* The bicubic matrix: rows sum to 1; the identity at R = n. */
static void
test_resize_matrix (void)
{
  for (int r = 3; r <= 70; r += 7)
    for (int n = 2; n <= 40; n += 9)
      {
        g_autofree double *m = g_new (double, (gsize) n * r);

        hd_clip_resize_matrix (n, r, m);
        for (int o = 0; o < n; o++)
          {
            double sum = 0.0;

            for (int i = 0; i < r; i++)
              sum += m[(gsize) o * r + i];
            g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-12);
          }
      }
  {
    double m[16 * 16];

    hd_clip_resize_matrix (16, 16, m);
    for (int o = 0; o < 16; o++)
      for (int i = 0; i < 16; i++)
        g_assert_cmpfloat (fabs (m[o * 16 + i] - (o == i)), <, 1e-12);
  }
}

/* Records every token row it is asked to encode, then encodes it. */
typedef struct {
  HdClip    *clip;
  GPtrArray *rows;   /* GArray of guint32 */
} Recorder;

static gboolean
recording_encode (const guint32  *ids,
                  guint           n_ids,
                  float          *e,
                  gpointer        user_data,
                  GError        **error)
{
  Recorder *rec = user_data;
  GArray *row = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n_ids);

  g_array_append_vals (row, ids, n_ids);
  g_ptr_array_add (rec->rows, row);
  return hd_clip_reference_encode_func (ids, n_ids, e, rec->clip, error);
}

/* Every direction case: the tokens of all 158 prompts where given, the
 * template embeddings and the direction. */
static void
test_text_directions (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "text_directions");
  double tol_dir = tolerance (cases, "direction_max_abs");
  double tol_emb = tolerance (cases, "embedding_max_abs");

  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdClip) clip = hd_test_load_clip (json_object_get_string_member (c, "clip"));
      g_autoptr(GError) error = NULL;
      g_autoptr(HdClipTokenizer) tokenizer = hd_clip_new_tokenizer (clip, &error);
      g_autoptr(HdNpy) dir_expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      g_autoptr(HdNpy) src_expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "source_embeddings"));
      g_autoptr(HdNpy) trg_expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "target_embeddings"));
      const char *source = json_object_get_string_member (c, "source");
      const char *target = json_object_get_string_member (c, "target");
      int embed = clip->config.embed_dim, k = 79;
      g_autofree float *t = g_new (float, embed);
      g_autofree float *src = g_new (float, (gsize) k * embed);
      g_autofree float *trg = g_new (float, (gsize) k * embed);
      g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      Recorder rec = { clip, rows };
      double d_dir, d_src, d_trg, norm = 0.0;

      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length ((char **) hd_clip_templates ()), ==, k);
      g_assert_true (hd_clip_text_direction (clip, tokenizer, recording_encode, &rec, source, target,
                                             t, src, trg, &error));
      g_assert_no_error (error);
      d_dir = hd_test_max_abs_diff (t, dir_expected->data, embed);
      d_src = hd_test_max_abs_diff (src, src_expected->data, (gsize) k * embed);
      d_trg = hd_test_max_abs_diff (trg, trg_expected->data, (gsize) k * embed);
      for (int j = 0; j < embed; j++)
        norm += (double) t[j] * t[j];
      g_test_message ("%s: direction %.3g (norm %.6f), template embeddings %.3g / %.3g",
                      json_object_get_string_member (c, "name"), d_dir, sqrt (norm), d_src, d_trg);
      g_assert_cmpfloat (d_dir, <=, tol_dir);
      g_assert_cmpfloat (d_src, <=, tol_emb);
      g_assert_cmpfloat (d_trg, <=, tol_emb);
      g_assert_cmpfloat (fabs (sqrt (norm) - json_object_get_double_member (c, "norm")), <, 1e-5);

      /* Target templates first, then source, in template order. */
      g_assert_cmpuint (rows->len, ==, 2 * k);
      if (json_object_has_member (c, "tokens"))
        {
          JsonObject *tokens = json_object_get_object_member (c, "tokens");

          for (int s = 0; s < 2; s++)
            {
              JsonArray *want = json_object_get_array_member (tokens, s == 0 ? target : source);

              g_assert_cmpuint (json_array_get_length (want), ==, k);
              for (int j = 0; j < k; j++)
                {
                  JsonArray *w = json_array_get_array_element (want, j);
                  GArray *got = g_ptr_array_index (rows, s * k + j);

                  g_assert_cmpuint (got->len, ==, json_array_get_length (w));
                  for (guint x = 0; x < got->len; x++)
                    g_assert_cmpuint (g_array_index (got, guint32, x), ==,
                                      (guint32) json_array_get_int_element (w, x));
                }
            }
        }
    }
}

/* A template prompt too long for the context is an error naming the
 * template. */
static void
test_direction_too_long (void)
{
  g_autoptr(HdClip) clip = hd_test_load_clip ("clip-train.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClipTokenizer) tokenizer = hd_clip_new_tokenizer (clip, &error);
  g_autoptr(GString) target = g_string_new (NULL);
  float t[16];

  for (int i = 0; i < 40; i++)
    g_string_append (target, "watercolor ");
  g_assert_false (hd_clip_text_direction (clip, tokenizer, hd_clip_reference_encode_func, clip, "Photo",
                                          target->str, t, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“a bad photo of a {}.”"));
  {
    g_autofree char *formatted = hd_clip_format_template ("a {} in a video game.", "{x}");

    g_assert_cmpstr (formatted, ==, "a {x} in a video game.");
  }
}

/* A copy of the clip file with EDIT applied to its header JSON. */
static GBytes *
edited_clip (const char *from,
             const char *to)
{
  g_autofree char *path = hd_test_conformance_path ("training/clip-train-b.safetensors");
  g_autofree char *data = NULL;
  gsize len;
  guint64 header_len;
  g_autofree char *header = NULL;
  g_autofree char *edited = NULL;
  char **parts;
  GByteArray *out;
  guint64 new_len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  memcpy (&header_len, data, 8);
  header = g_strndup (data + 8, header_len);
  parts = g_strsplit (header, from, 2);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  edited = g_strjoinv (to, parts);
  g_strfreev (parts);
  new_len = strlen (edited);
  out = g_byte_array_new ();
  g_byte_array_append (out, (guint8 *) &new_len, 8);
  g_byte_array_append (out, (guint8 *) edited, new_len);
  g_byte_array_append (out, (guint8 *) data + 8 + header_len, len - 8 - header_len);
  return g_byte_array_free_to_bytes (out);
}

static void
test_bad_files (void)
{
  struct {
    const char *from, *to, *needle;
  } cases[] = {
    { "\"hyperdomain.kind\":\"clip\"", "\"hyperdomain.kind\":\"hypernetwork\"",
      "not a clip file (hyperdomain.kind is “hypernetwork”" },
    { "\\\"type\\\":\\\"vit\\\"", "\\\"type\\\":\\\"resnet\\\"", "only ViT image towers" },
    { "\\\"heads\\\":1,\\\"layers\\\":1}}", "\\\"heads\\\":2,\\\"layers\\\":1}}",
      "vision.heads is 2; a ViT of width 64 has width / 64 heads" },
    { "\\\"image_resolution\\\":16", "\\\"image_resolution\\\":20",
      "vision.image_resolution is 20, but the patch size 4" },
    { "\\\"layers\\\":1}}", "\\\"layers\\\":2}}", "tensor “visual.transformer.resblocks.1.ln_1.weight” is missing" },
    { "\"visual.proj\"", "\"visual.projx\"", "tensor “visual.proj” is missing" },
    { "\"hyperdomain.name\"", "\"hyperdomain.nam\"", "the metadata has no hyperdomain.name" },
    { "\\\"embed_dim\\\":12", "\\\"embed_dim\\\":13", "tensor “text_projection” has shape [64, 12]; shape [64, 13]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = edited_clip (cases[i].from, cases[i].to);
      g_autoptr(GError) error = NULL;
      g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes_full (bytes, "bad.safetensors",
                                                                          HD_SAFETENSORS_ALLOW_INTEGERS,
                                                                          &error);
      g_autoptr(HdClip) clip = NULL;

      g_assert_no_error (error);
      clip = hd_clip_load_from_safetensors (st, &error);
      g_assert_null (clip);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %u: expected “%s” in “%s”", i, cases[i].needle, error->message);
      g_assert_true (g_str_has_prefix (error->message, "bad.safetensors"));
    }
}

/* The benchmarks' random CLIPs have OpenAI's shapes, load as clip files
 * and tokenize; a shape that does not exist is refused. */
static void
test_random (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClip) clip = hd_clip_new_random ("vit-b32", 1, &error);
  g_autoptr(HdClipTokenizer) tokenizer = NULL;
  g_autoptr(HdClip) none = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));

  g_assert_no_error (error);
  g_assert_cmpint (clip->vision.resolution, ==, 224);
  g_assert_cmpint (clip->vision.patch, ==, 32);
  g_assert_cmpint (clip->vision.grid, ==, 7);
  g_assert_cmpint (clip->vision.width, ==, 768);
  g_assert_cmpint (clip->vision.layers, ==, 12);
  g_assert_cmpint (clip->config.width, ==, 512);
  g_assert_cmpint (clip->config.embed_dim, ==, 512);
  tokenizer = hd_clip_new_tokenizer (clip, &error);
  g_assert_no_error (error);
  g_assert_true (hd_clip_tokenizer_encode (tokenizer, "a photo of a cat", ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, >, 2);

  none = hd_clip_new_random ("vit-l14", 1, &error);
  g_assert_null (none);
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Clip/load", test_load);
  g_test_add_func ("/Hyperdomain/Clip/resize-matrix", test_resize_matrix);
  g_test_add_func ("/Hyperdomain/Clip/image-embeddings", test_image_embeddings);
  g_test_add_func ("/Hyperdomain/Clip/text-directions", test_text_directions);
  g_test_add_func ("/Hyperdomain/Clip/direction-too-long", test_direction_too_long);
  g_test_add_func ("/Hyperdomain/Clip/bad-files", test_bad_files);
  g_test_add_func ("/Hyperdomain/Clip/random", test_random);
  return g_test_run ();
}
