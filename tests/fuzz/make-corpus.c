/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Writes the seed corpora of the fuzz targets:
 *   make-corpus CORPUS_DIR CONFORMANCE_DIR
 * Small valid files of every kind, so that the fuzzers start from inputs
 * that reach deep into each parser. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd-cpu-reference.h"
#include "hd-generator.h"
#include "hd-hypernetwork.h"
#include "hd-latent.h"
#include "hd-png.h"
#include "hd-safetensors.h"
#include "hd-state.h"

static void
die_on (GError *error)
{
  if (error != NULL)
    {
      fprintf (stderr, "make-corpus: %s\n", error->message);
      exit (1);
    }
}

static char *
corpus_path (const char *root,
             const char *target,
             const char *name)
{
  g_autofree char *dir = g_build_filename (root, target, NULL);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *contents = NULL;
  gsize len;
  GError *error = NULL;

  g_file_get_contents (from, &contents, &len, &error);
  die_on (error);
  g_file_set_contents (to, contents, len, &error);
  die_on (error);
}

int
main (int    argc,
      char **argv)
{
  GError *error = NULL;
  const char *root, *conf;
  HdGeneratorConfig config = {
    .z_dim = 4, .w_dim = 6, .img_resolution = 8, .img_channels = 3,
    .mapping_layers = 1, .lr_multiplier = 0.01f, .channel_base = 32,
    .channel_max = 4, .has_conv_clamp = TRUE, .conv_clamp = 256.0f,
  };
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(HdSafetensorsWriter) pack = hd_safetensors_writer_new ();
  g_autoptr(HdState) state = hd_state_new ();
  g_autofree float *img = g_new (float, 3 * 8 * 8);
  g_autofree char *json = NULL;
  HdRenderParams params;
  const char *npys[] = { "tiny-z.npy", "tiny-w.npy" };
  const char *domains[] = { "tiny-domain-a.safetensors", "tiny-domain-partial.safetensors" };
  float values[6] = { 0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -0.125f };
  gint64 shape2[2] = { 2, 3 };

  if (argc != 3)
    {
      fprintf (stderr, "usage: make-corpus CORPUS_DIR CONFORMANCE_DIR\n");
      return 2;
    }
  root = argv[1];
  conf = argv[2];

  /* Hypernetworks: a small CLIP and mapper, relu and prelu. */
  for (int i = 0; i < 2; i++)
    {
      HdClipConfig clip = {
        .context_length = 6, .vocab_size = 520, .width = 8, .heads = 2, .layers = 1, .embed_dim = 4,
      };
      HdMapperConfig mapper = {
        .activation = i == 0 ? HD_MAPPER_RELU : HD_MAPPER_PRELU, .input_dimension = 4, .width = 4,
        .backbone_depth = 2, .head_depth = 2, .inner_features = 6,
      };
      g_autoptr(GBytes) bytes = hd_hypernetwork_random_bytes (&clip, &mapper, 8, 32, 4, 7 + i);
      g_autofree char *path = corpus_path (root, "fuzz-hypernetwork",
                                           i == 0 ? "small-relu.safetensors" : "small-prelu.safetensors");

      g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
      die_on (error);
    }

  /* Generators, F32 and F16, and domains. */
  gen = hd_generator_new_random (&config, 1);
  {
    g_autofree char *p32 = corpus_path (root, "fuzz-safetensors", "generator-f32.safetensors");
    g_autofree char *p16 = corpus_path (root, "fuzz-safetensors", "generator-f16.safetensors");
    hd_generator_save (gen, p32, HD_DTYPE_F32, &error);
    die_on (error);
    hd_generator_save (gen, p16, HD_DTYPE_F16, &error);
    die_on (error);
  }
  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_autofree char *from = g_build_filename (conf, domains[i], NULL);
      g_autofree char *to = corpus_path (root, "fuzz-safetensors", domains[i]);
      copy_file (from, to);
    }
  {
    /* A pack of two domains for this generator, one as BF16. */
    g_autofree char *path = corpus_path (root, "fuzz-safetensors", "pack.safetensors");
    for (int c = 0; c < gen->n_convs; c++)
      {
        const HdConvLayer *layer = &gen->convs[c];
        g_autofree float *d = g_new (float, layer->c_in);
        gint64 len = layer->c_in;
        g_autofree char *a = g_strdup_printf ("warm/%s", layer->name);
        g_autofree char *b = g_strdup_printf ("cool-2/%s", layer->name);
        for (int i = 0; i < layer->c_in; i++)
          d[i] = 0.1f * (float) (i - c);
        hd_safetensors_writer_add_f32 (pack, a, HD_DTYPE_F32, &len, 1, d);
        hd_safetensors_writer_add_f32 (pack, b, HD_DTYPE_BF16, &len, 1, d);
      }
    hd_safetensors_writer_set_metadata (pack, "hyperdomain.kind", "domain-pack");
    hd_safetensors_writer_set_metadata (pack, "hyperdomain.version", "1");
    hd_safetensors_writer_set_metadata (pack, "hyperdomain.modulation", "input-after-demod");
    hd_safetensors_writer_set_metadata (pack, "warm.name", "Warm");
    hd_safetensors_writer_set_metadata (pack, "cool-2.name", "Cool");
    hd_safetensors_writer_write (pack, path, &error);
    die_on (error);
  }

  /* .npy: the fixtures, and small ones of other shapes. */
  for (guint i = 0; i < G_N_ELEMENTS (npys); i++)
    {
      g_autofree char *from = g_build_filename (conf, npys[i], NULL);
      g_autofree char *to = corpus_path (root, "fuzz-npy", npys[i]);
      copy_file (from, to);
    }
  {
    g_autofree char *p = corpus_path (root, "fuzz-npy", "matrix.npy");
    g_autofree char *s = corpus_path (root, "fuzz-npy", "scalar.npy");
    hd_npy_write_f32 (p, shape2, 2, values, &error);
    die_on (error);
    hd_npy_write_f32 (s, NULL, 0, values, &error);
    die_on (error);
  }

  /* An exported PNG and the state JSON it carries. */
  hd_render_params_init (&params);
  params.seed = 5;
  hd_cpu_render (gen, &params, img, &error);
  die_on (error);
  state->generator_path = g_strdup ("/models/generator.safetensors");
  state->generator_name = g_strdup ("random");
  state->seed = 5;
  state->psi = 0.7f;
  state->cutoff = 2;
  {
    HdStateDomain d = { g_strdup ("/models/pack.safetensors"), g_strdup ("warm"), g_strdup ("Warm"), 0.5f, 8, 8 };
    g_array_append_val (state->domains, d);
  }
  json = hd_state_to_json (state);
  {
    g_autofree char *png = corpus_path (root, "fuzz-png-metadata", "export.png");
    g_autofree char *j1 = corpus_path (root, "fuzz-state-json", "seed.json");
    g_autofree char *j2 = corpus_path (root, "fuzz-state-json", "w.json");
    g_autofree char *json_w = NULL;

    hd_png_write (png, img, 3, 8, 8, json, &error);
    die_on (error);
    g_file_set_contents (j1, json, -1, &error);
    die_on (error);
    state->latent_kind = HD_LATENT_W;
    state->latent_rows = 2;
    state->latent_cols = 3;
    state->latent = g_memdup2 (values, sizeof values);
    json_w = hd_state_to_json (state);
    g_file_set_contents (j2, json_w, -1, &error);
    die_on (error);
  }
  return 0;
}
