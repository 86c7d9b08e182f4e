/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Both towers of a clip file on the Vulkan device (hd-clip-gpu) against
 * conformance/training: every image embedding and text direction, and the
 * GPU against the plain reference on every token-row length; the image
 * tower for training (hd-clip-train-gpu): its embeddings and its gradient
 * with respect to the images against the reference's. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-clip-gpu.h"
#include "hd-clip-train-gpu.h"
#include "hd-clip-reference.h"
#include "hd-error.h"
#include "hd-latent.h"
#include "hd-test-util.h"
#include "hd-vk.h"

static HdVkContext *context;

static void
test_image_embeddings (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "image_embeddings");
  double tol = json_object_get_double_member (json_object_get_object_member (cases, "tolerance"),
                                              "embedding_max_abs");
  double worst = 0.0;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdClip) clip = hd_test_load_clip (json_object_get_string_member (c, "clip"));
      g_autoptr(GError) error = NULL;
      g_autoptr(HdClipGpu) gpu = hd_clip_gpu_new (context, clip, &error);
      g_autoptr(HdNpy) img = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "image"));
      g_autoptr(HdNpy) expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      int r = (int) json_object_get_int_member (c, "image_size"), n = clip->vision.resolution;
      g_autofree float *pre = g_new (float, (gsize) 3 * n * n);
      g_autofree float *e = g_new (float, clip->config.embed_dim);
      double d;

      g_assert_no_error (error);
      hd_clip_reference_preprocess (img->data, r, n, pre);
      g_assert_true (hd_clip_gpu_encode_image (gpu, pre, e, &error));
      g_assert_no_error (error);
      d = hd_test_max_abs_diff (e, expected->data, clip->config.embed_dim);
      g_test_message ("%s: %.3g", json_object_get_string_member (c, "name"), d);
      g_assert_cmpfloat (d, <=, tol);
      worst = MAX (worst, d);
      /* The same commands again give the same result. */
      {
        g_autofree float *again = g_new (float, clip->config.embed_dim);
        g_assert_true (hd_clip_gpu_encode_image (gpu, pre, again, &error));
        g_assert_cmpmem (again, sizeof (float) * clip->config.embed_dim, e,
                         sizeof (float) * clip->config.embed_dim);
      }
    }
  g_test_message ("worst image embedding error %.3g (tolerance %g)", worst, tol);
}

static void
test_text_directions (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "text_directions");
  JsonObject *tol = json_object_get_object_member (cases, "tolerance");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdClip) clip = hd_test_load_clip (json_object_get_string_member (c, "clip"));
      g_autoptr(GError) error = NULL;
      g_autoptr(HdClipGpu) gpu = hd_clip_gpu_new (context, clip, &error);
      g_autoptr(HdClipTokenizer) tokenizer = hd_clip_new_tokenizer (clip, &error);
      g_autoptr(HdNpy) dir = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      g_autoptr(HdNpy) src = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "source_embeddings"));
      int embed = clip->config.embed_dim, k = 79;
      g_autofree float *t = g_new (float, embed);
      g_autofree float *s = g_new (float, (gsize) k * embed);
      double d_dir, d_src;

      g_assert_no_error (error);
      g_assert_true (hd_clip_text_direction (clip, tokenizer, hd_clip_gpu_encode_func, gpu,
                                             json_object_get_string_member (c, "source"),
                                             json_object_get_string_member (c, "target"),
                                             t, s, NULL, &error));
      g_assert_no_error (error);
      d_dir = hd_test_max_abs_diff (t, dir->data, embed);
      d_src = hd_test_max_abs_diff (s, src->data, (gsize) k * embed);
      g_test_message ("%s: direction %.3g, source template embeddings %.3g",
                      json_object_get_string_member (c, "name"), d_dir, d_src);
      g_assert_cmpfloat (d_dir, <=, json_object_get_double_member (tol, "direction_max_abs"));
      g_assert_cmpfloat (d_src, <=, json_object_get_double_member (tol, "embedding_max_abs"));
    }
}

/* Token rows of every length, against the plain reference. */
static void
test_text_lengths (void)
{
  g_autoptr(HdClip) clip = hd_test_load_clip ("clip-train.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClipGpu) gpu = hd_clip_gpu_new (context, clip, &error);
  int embed = clip->config.embed_dim;
  double worst = 0.0;

  g_assert_no_error (error);
  for (guint len = 2; len <= (guint) clip->config.context_length; len += 5)
    {
      g_autofree guint32 *ids = g_new (guint32, len);
      g_autofree float *a = g_new (float, embed), *b = g_new (float, embed);

      ids[0] = clip->config.vocab_size - 2;
      for (guint i = 1; i + 1 < len; i++)
        ids[i] = (i * 37) % (clip->config.vocab_size - 2);
      ids[len - 1] = clip->config.vocab_size - 1;
      g_assert_true (hd_clip_gpu_encode_text (gpu, ids, len, a, &error));
      g_assert_true (hd_clip_reference_encode_text (&clip->text, ids, len, b, &error));
      worst = MAX (worst, hd_test_max_abs_diff (a, b, embed));
    }
  g_test_message ("text rows of 2 to 77 tokens: worst %.3g", worst);
  g_assert_cmpfloat (worst, <, 2e-5);
}

/* A deterministic value in [-1, 1). */
static double
uniform (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return (*state >> 8) / (double) (1u << 23) - 1.0;
}

/* Every image case's CLIP and size: three images (the case's and two
 * others) through the training tower; ê of all three against the fixture
 * and the reference, then the gradient of images 1 and 2 with respect to
 * a random ∂L/∂ê against the reference's. */
static void
test_train_tower (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "image_embeddings");
  double tol = json_object_get_double_member (json_object_get_object_member (cases, "tolerance"),
                                              "embedding_max_abs");
  double worst_e = 0.0, worst_g = 0.0;
  guint32 state = 7;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(HdClip) clip = hd_test_load_clip (json_object_get_string_member (c, "clip"));
      g_autoptr(HdNpy) img = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "image"));
      g_autoptr(HdNpy) expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      g_autoptr(GError) error = NULL;
      int r = (int) json_object_get_int_member (c, "image_size"), E = clip->config.embed_dim;
      gsize n_img = (gsize) 3 * r * r;
      g_autoptr(HdClipTrainGpu) tower = hd_clip_train_gpu_new (context, clip, r, 3, &error);
      HdClipImageTower *ref = hd_clip_image_tower_new (clip, r);
      g_autofree double *imgs = g_new (double, 3 * n_img);
      g_autofree double *e = g_new (double, 3 * E);
      g_autofree double *e_ref = g_new (double, E);
      g_autofree double *g_e = g_new (double, 2 * E);
      g_autofree double *g_img = g_new (double, 2 * n_img);
      g_autofree double *g_ref = g_new (double, n_img);
      double de = 0.0, dg = 0.0, gmax = 0.0;

      g_assert_no_error (error);
      g_assert_cmpint (hd_clip_train_gpu_get_max_images (tower), ==, 3);
      for (gsize k = 0; k < n_img; k++)
        {
          imgs[k] = img->data[k];
          imgs[n_img + k] = uniform (&state);
          imgs[2 * n_img + k] = 0.5 * img->data[k] + 0.5 * uniform (&state);
        }
      for (int k = 0; k < 2 * E; k++)
        g_e[k] = uniform (&state);
      g_assert_true (hd_clip_train_gpu_forward (tower, 3, imgs, e, &error));
      g_assert_no_error (error);
      for (int k = 0; k < E; k++)
        de = MAX (de, fabs (e[k] - expected->data[k]));
      g_assert_cmpfloat (de, <=, tol);
      g_assert_true (hd_clip_train_gpu_backward (tower, 1, 2, g_e, g_img, &error));
      g_assert_no_error (error);
      for (int b = 0; b < 3; b++)
        {
          hd_clip_image_tower_run (ref, imgs + b * n_img, e_ref, b > 0 ? g_e + (b - 1) * E : NULL, g_ref);
          for (int k = 0; k < E; k++)
            de = MAX (de, fabs (e[b * E + k] - e_ref[k]));
          if (b == 0)
            continue;
          for (gsize k = 0; k < n_img; k++)
            {
              dg = MAX (dg, fabs (g_img[(b - 1) * n_img + k] - g_ref[k]));
              gmax = MAX (gmax, fabs (g_ref[k]));
            }
        }
      hd_clip_image_tower_free (ref);
      g_test_message ("%s: embedding %.3g, gradient %.3g of its largest (%.3g)",
                      json_object_get_string_member (c, "name"), de, dg / gmax, gmax);
      g_assert_cmpfloat (gmax, >, 0.0);
      g_assert_cmpfloat (de, <=, tol);
      g_assert_cmpfloat (dg / gmax, <=, 1e-4);
      worst_e = MAX (worst_e, de);
      worst_g = MAX (worst_g, dg / gmax);
    }
  g_test_message ("training tower: worst embedding error %.3g, worst gradient error %.3g of its largest",
                  worst_e, worst_g);
}

/* The training tower holds as many images as the device's buffers allow;
 * one image too large for them is refused with a message, not a crash. */
static void
test_train_tower_memory (void)
{
  g_autoptr(HdClip) clip = hd_test_load_clip ("clip-train.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClipTrainGpu) tower = hd_clip_train_gpu_new (context, clip, 64, 1 << 20, &error);

  g_assert_no_error (error);
  g_test_message ("64 x 64 images: %d a pass (asked for %d)", hd_clip_train_gpu_get_max_images (tower), 1 << 20);
  g_assert_cmpint (hd_clip_train_gpu_get_max_images (tower), >=, 1);
  g_assert_cmpint (hd_clip_train_gpu_get_max_images (tower), <, 1 << 20);
  g_clear_pointer (&tower, hd_clip_train_gpu_free);

  /* 8192 x 8192: 201 M floats for one image's pixels alone. */
  tower = hd_clip_train_gpu_new (context, clip, 8192, 2, &error);
  if (tower != NULL)
    {
      g_test_message ("this device holds an 8192 image's CLIP pass");
      return;
    }
  g_assert_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "clip-train.safetensors"));
}

/* OpenAI's ViT-B/32 shape (random weights) loads on any device: its text
 * tower for the directions, its image tower for training (weights twice:
 * more than lavapipe's largest storage buffer), and a pass runs. */
static void
test_full_size (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClip) clip = hd_clip_new_random ("vit-b32", 1, &error);
  g_autoptr(HdClipGpu) text = NULL;
  g_autoptr(HdClipTrainGpu) tower = NULL;
  int r = 64, E = 512;
  gsize n_img = (gsize) 3 * r * r;
  g_autofree double *imgs = g_new (double, 2 * n_img);
  g_autofree double *e = g_new (double, 2 * E);
  g_autofree double *g_e = g_new (double, E);
  g_autofree double *g_img = g_new (double, n_img);
  guint32 state = 11;
  double norm = 0.0, g_max = 0.0;

  g_assert_no_error (error);
  text = hd_clip_gpu_new_text (context, clip, &error);
  g_assert_no_error (error);
  g_test_message ("text tower: %.1f MiB on the device", hd_clip_gpu_get_device_bytes (text) / 1048576.0);
  tower = hd_clip_train_gpu_new (context, clip, r, 2, &error);
  g_assert_no_error (error);
  g_test_message ("training tower: %.1f MiB on the device", hd_clip_train_gpu_get_device_bytes (tower) / 1048576.0);
  for (gsize k = 0; k < 2 * n_img; k++)
    imgs[k] = uniform (&state);
  for (int k = 0; k < E; k++)
    g_e[k] = uniform (&state);
  g_assert_true (hd_clip_train_gpu_forward (tower, 2, imgs, e, &error));
  g_assert_no_error (error);
  g_assert_true (hd_clip_train_gpu_backward (tower, 1, 1, g_e, g_img, &error));
  g_assert_no_error (error);
  for (int k = 0; k < E; k++)
    norm += e[E + k] * e[E + k];
  for (gsize k = 0; k < n_img; k++)
    {
      g_assert_true (isfinite (g_img[k]));
      g_max = MAX (g_max, fabs (g_img[k]));
    }
  g_assert_cmpfloat (fabs (norm - 1.0), <, 1e-4);
  g_assert_cmpfloat (g_max, >, 0.0);
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
  g_test_add_func ("/Hyperdomain/ClipGpu/image-embeddings", test_image_embeddings);
  g_test_add_func ("/Hyperdomain/ClipGpu/text-directions", test_text_directions);
  g_test_add_func ("/Hyperdomain/ClipGpu/text-lengths", test_text_lengths);
  g_test_add_func ("/Hyperdomain/ClipGpu/train-tower", test_train_tower);
  g_test_add_func ("/Hyperdomain/ClipGpu/train-tower-memory", test_train_tower_memory);
  g_test_add_func ("/Hyperdomain/ClipGpu/full-size", test_full_size);
  status = g_test_run ();
  g_assert_cmpuint (hd_vk_context_get_validation_messages (context), ==, 0);
  hd_vk_context_unref (context);
  return status;
}
