/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render end to end: the conformance cases through the command
 * line, its outputs and its errors. */
#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <string.h>

#include "hd-demo.h"
#include "hd-png.h"
#include "hd-safetensors.h"
#include "hd-state.h"
#include "hd-test-util.h"

/* A failure is one line on stderr that holds NEEDLE, and a non-zero status
 * that is not a crash. */
static void
assert_clean_failure (HdTestCliResult *r,
                      const char      *needle)
{
  g_assert_cmpint (r->status, >, 0);
  g_assert_true (g_str_has_prefix (r->err, "hyperdomain-render: "));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_cmpint (hd_test_count_lines (r->err), ==, 1);
  g_assert_nonnull (strstr (r->err, needle));
}

static void
test_conformance (void)
{
  double tol_abs, tol_psnr, worst_abs = 0, worst_psnr = INFINITY;
  g_autoptr(GPtrArray) cases = hd_test_load_conformance_cases (&tol_abs, &tol_psnr);
  g_autofree char *dir = hd_test_make_tmpdir ();

  for (guint i = 0; i < cases->len; i++)
    {
      HdTestCase *tc = g_ptr_array_index (cases, i);
      g_auto(HdTestCliResult) r;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_autofree char *out = g_build_filename (dir, "out.npy", NULL);
      g_autoptr(HdNpy) got = NULL;
      double max_abs, psnr;

      for (guint j = 0; j < tc->cli_args->len; j++)
        g_ptr_array_add (args, g_ptr_array_index (tc->cli_args, j));
      g_ptr_array_add (args, (char *) "-o");
      g_ptr_array_add (args, out);
      hd_test_run_cli_argv (&r, NULL, args);
      g_assert_cmpstr (r.err, ==, "");
      g_assert_cmpint (r.status, ==, 0);

      got = hd_npy_read (out, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (got->n_dims, ==, 3);
      g_assert_cmpint (got->shape[0], ==, 3);
      g_assert_cmpint (got->shape[1], ==, 32);
      g_assert_cmpint (got->shape[2], ==, 32);
      hd_test_compare (got->data, tc->expected->data, tc->expected->n_elements, &max_abs, &psnr);
      g_test_message ("%-28s max abs %.3g  PSNR %.1f dB", tc->name, max_abs, psnr);
      g_assert_cmpfloat (max_abs, <=, tol_abs);
      g_assert_cmpfloat (psnr, >=, tol_psnr);
      worst_abs = MAX (worst_abs, max_abs);
      worst_psnr = MIN (worst_psnr, psnr);
    }
  g_test_message ("worst over %u cases: max abs %.3g, PSNR %.1f dB", cases->len, worst_abs, worst_psnr);
  hd_test_rmdir_recursive (dir);
}

/* The PNG holds the formats.md §5 pixels of the raw output, and metadata
 * that names everything needed to render it again. */
static void
test_png_output (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_arg = g_strdup_printf ("%s=0.25", dom);
  g_autofree char *png = g_build_filename (dir, "x.png", NULL);
  g_autofree char *npy = g_build_filename (dir, "x.npy", NULL);
  g_autofree char *json = NULL;
  g_autoptr(HdState) state = NULL;
  g_autoptr(HdNpy) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(HdTestCliResult) r1;
  g_auto(HdTestCliResult) r2;
  const HdStateDomain *sd;

  hd_test_run_cli (&r1, "--model", model, "--seed", "42", "--psi", "0.5", "--cutoff", "3",
           "--noise", "random", "--noise-seed", "77", "--domain", dom_arg, "-o", png, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", model, "--seed", "42", "--psi", "0.5", "--cutoff", "3",
           "--noise", "random", "--noise-seed", "77", "--domain", dom_arg, "-o", npy, NULL);
  g_assert_cmpint (r2.status, ==, 0);

  json = hd_png_read_metadata (png, &error);
  g_assert_no_error (error);
  state = hd_state_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (state->latent_kind, ==, HD_LATENT_SEED);
  g_assert_cmpuint (state->seed, ==, 42);
  g_assert_cmpfloat (state->psi, ==, 0.5f);
  g_assert_cmpint (state->cutoff, ==, 3);
  g_assert_cmpint (state->noise_mode, ==, HD_NOISE_RANDOM);
  g_assert_cmpuint (state->noise_seed, ==, 77);
  g_assert_cmpstr (state->generator_name, ==, "tiny");
  g_assert_true (g_path_is_absolute (state->generator_path));
  g_assert_true (g_str_has_suffix (state->generator_path, "tiny.safetensors"));
  g_assert_cmpuint (state->domains->len, ==, 1);
  sd = &g_array_index (state->domains, HdStateDomain, 0);
  g_assert_cmpfloat (sd->weight, ==, 0.25f);
  g_assert_cmpstr (sd->name, ==, "Domain A");
  g_assert_true (g_path_is_absolute (sd->path));

  /* Pixels: decode the PNG with libpng's simplified API. */
  raw = hd_npy_read (npy, &error);
  g_assert_no_error (error);
  {
    g_autofree guint8 *expect = g_new (guint8, 32 * 32 * 3);
    g_autofree guint8 *pixels = NULL;
    g_autofree char *contents = NULL;
    gsize len;
    png_image image = { .version = PNG_IMAGE_VERSION };

    hd_image_to_u8 (raw->data, 3, 32, 32, expect);
    g_file_get_contents (png, &contents, &len, &error);
    g_assert_no_error (error);
    g_assert_true (png_image_begin_read_from_memory (&image, contents, len));
    image.format = PNG_FORMAT_RGB;
    g_assert_cmpuint (image.width, ==, 32);
    pixels = g_malloc (PNG_IMAGE_SIZE (image));
    g_assert_true (png_image_finish_read (&image, NULL, pixels, 0, NULL));
    g_assert_cmpmem (pixels, 32 * 32 * 3, expect, 32 * 32 * 3);
  }
  hd_test_rmdir_recursive (dir);
}

static void
test_seed_ranges (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *pattern = g_build_filename (dir, "sub", "img-%03d.npy", NULL);
  g_autofree char *pattern2 = g_build_filename (dir, "list-%d.png", NULL);
  g_autofree char *single = g_build_filename (dir, "single.npy", NULL);
  g_auto(HdTestCliResult) r;
  g_auto(HdTestCliResult) r2;
  g_auto(HdTestCliResult) r3;
  g_autoptr(GError) error = NULL;

  hd_test_run_cli (&r, "--model", model, "--seed", "3-5", "-o", pattern, NULL);
  g_assert_cmpint (r.status, ==, 0);
  for (int s = 3; s <= 5; s++)
    {
      g_autofree char *name = g_strdup_printf ("img-%03d.npy", s);
      g_autofree char *path = g_build_filename (dir, "sub", name, NULL);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  /* The file of seed 4 equals a single render of seed 4. */
  hd_test_run_cli (&r2, "--model", model, "--seed", "4", "-o", single, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  {
    g_autofree char *path = g_build_filename (dir, "sub", "img-004.npy", NULL);
    g_autoptr(HdNpy) a = hd_npy_read (path, &error);
    g_autoptr(HdNpy) b = hd_npy_read (single, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (a->data, a->n_elements * 4, b->data, b->n_elements * 4);
  }

  hd_test_run_cli (&r3, "--model", model, "--seeds", "1,9,4294967295", "-o", pattern2, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  {
    g_autofree char *p1 = g_build_filename (dir, "list-1.png", NULL);
    g_autofree char *p2 = g_build_filename (dir, "list-9.png", NULL);
    g_autofree char *p3 = g_build_filename (dir, "list-4294967295.png", NULL);
    g_assert_true (g_file_test (p1, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (p2, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (p3, G_FILE_TEST_IS_REGULAR));
  }
  hd_test_rmdir_recursive (dir);
}

/* The RGB pixels of PATH, WIDTH x WIDTH. */
static guint8 *
read_rgb (const char *path,
          guint       width)
{
  png_image image = { .version = PNG_IMAGE_VERSION };
  guint8 *pixels;

  g_assert_true (png_image_begin_read_from_file (&image, path));
  image.format = PNG_FORMAT_RGB;
  g_assert_cmpuint (image.width, ==, width);
  g_assert_cmpuint (image.height, ==, width);
  pixels = g_malloc (PNG_IMAGE_SIZE (image));
  g_assert_true (png_image_finish_read (&image, NULL, pixels, 0, NULL));
  return pixels;
}

/* --scale: the 1x pixels repeated (nearest), the same state, the scale in
 * its own chunk; --from-png of the enlarged file renders the 1x image;
 * wrong values are refused. */
static void
test_scale (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *one = g_build_filename (dir, "one.png", NULL);
  g_autofree char *three = g_build_filename (dir, "three.png", NULL);
  g_autofree char *smooth = g_build_filename (dir, "smooth.png", NULL);
  g_autofree char *again = g_build_filename (dir, "again.png", NULL);
  g_autofree char *npy = g_build_filename (dir, "x.npy", NULL);
  g_autofree guint8 *small = NULL;
  g_autofree guint8 *big = NULL;
  g_autofree guint8 *soft = NULL;
  g_autofree guint8 *reopened = NULL;
  g_autofree char *json_one = NULL;
  g_autofree char *json_three = NULL;
  g_autofree char *info = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(HdTestCliResult) r1;
  g_auto(HdTestCliResult) r2;
  g_auto(HdTestCliResult) r3;
  g_auto(HdTestCliResult) r4;

  hd_test_run_cli (&r1, "--model", model, "--seed", "7", "-o", one, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", model, "--seed", "7", "--scale", "3", "-o", three, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  hd_test_run_cli (&r3, "--model", model, "--seed", "7", "--scale", "2", "--filter", "lanczos3",
                   "-o", smooth, NULL);
  g_assert_cmpint (r3.status, ==, 0);

  small = read_rgb (one, 32);
  big = read_rgb (three, 96);
  for (int y = 0; y < 96; y++)
    for (int x = 0; x < 96; x++)
      g_assert_cmpmem (big + ((gsize) y * 96 + x) * 3, 3, small + ((gsize) (y / 3) * 32 + x / 3) * 3, 3);
  soft = read_rgb (smooth, 64);
  {
    g_autofree guint8 *expected = g_malloc (64 * 64 * 3);

    g_assert_true (hd_upscale_u8 (small, 3, 32, 32, 2, HD_UPSCALE_LANCZOS3, expected));
    g_assert_cmpmem (soft, 64 * 64 * 3, expected, 64 * 64 * 3);
  }

  json_one = hd_png_read_metadata (one, &error);
  g_assert_no_error (error);
  json_three = hd_png_read_metadata (three, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_one, ==, json_three);
  info = hd_png_read_text (three, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info, ==, "{\"scale\":3,\"filter\":\"nearest\"}");

  hd_test_run_cli (&r4, "--from-png", three, "-o", again, NULL);
  g_assert_cmpint (r4.status, ==, 0);
  reopened = read_rgb (again, 32);
  g_assert_cmpmem (reopened, 32 * 32 * 3, small, 32 * 32 * 3);

  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--scale", "9", "-o", one, NULL);
    assert_clean_failure (&r, "--scale");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--scale", "2", "--filter", "bicubic", "-o", one, NULL);
    assert_clean_failure (&r, "bicubic");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--scale", "2", "-o", npy, NULL);
    assert_clean_failure (&r, ".npy");
  }
  hd_test_rmdir_recursive (dir);
}

/* A pack of domains A and B behaves like the two files: #ID picks one, and
 * the whole pack adds each with the same weight. */
/* Writes the conformance domains a and b as one pack at PATH. */
static void
write_tiny_pack (const char *pack)
{
  g_autoptr(HdSafetensorsWriter) w = hd_safetensors_writer_new ();
  g_autoptr(GError) error = NULL;
  const char *ids[] = { "a", "b" };

  for (int k = 0; k < 2; k++)
    {
      g_autofree char *file = g_strdup_printf ("tiny-domain-%s.safetensors", ids[k]);
      g_autofree char *path = hd_test_conformance_path (file);
      g_autoptr(HdSafetensors) st = hd_safetensors_open (path, &error);
      g_autofree char *key = g_strdup_printf ("%s.name", ids[k]);

      g_assert_no_error (error);
      for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
        {
          const HdTensor *t = hd_safetensors_get_tensor (st, i);
          g_autofree float *data = g_new (float, t->n_elements);
          g_autofree char *name = g_strdup_printf ("%s/%s", ids[k], t->name);
          hd_tensor_to_f32 (t, data);
          hd_safetensors_writer_add_f32 (w, name, HD_DTYPE_F32, t->shape, t->n_dims, data);
        }
      hd_safetensors_writer_set_metadata (w, key, hd_safetensors_get_metadata (st, "hyperdomain.name"));
    }
  hd_safetensors_writer_set_metadata (w, "hyperdomain.kind", "domain-pack");
  hd_safetensors_writer_set_metadata (w, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (w, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_write (w, pack, &error);
  g_assert_no_error (error);
}

static void
test_domain_pack (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *pack = g_build_filename (dir, "pack.safetensors", NULL);
  g_autofree char *out1 = g_build_filename (dir, "a.npy", NULL);
  g_autofree char *out2 = g_build_filename (dir, "b.npy", NULL);
  g_autofree char *expected_path = hd_test_conformance_path ("expected/blend-ab.npy");
  g_autofree char *arg_a = NULL, *arg_b = NULL, *arg_all = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNpy) expected = NULL;
  g_auto(HdTestCliResult) r1;
  g_auto(HdTestCliResult) r2;

  write_tiny_pack (pack);

  expected = hd_npy_read (expected_path, &error);
  g_assert_no_error (error);
  arg_a = g_strdup_printf ("%s#a=0.5", pack);
  arg_b = g_strdup_printf ("%s#b=0.5", pack);
  arg_all = g_strdup_printf ("%s=0.5", pack);

  hd_test_run_cli (&r1, "--model", model, "--seed", "42", "--domain", arg_a, "--domain", arg_b, "-o", out1, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", model, "--seed", "42", "--domain", arg_all, "-o", out2, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  {
    g_autoptr(HdNpy) a = hd_npy_read (out1, &error);
    g_autoptr(HdNpy) b = hd_npy_read (out2, &error);
    double max_abs, psnr;
    g_assert_no_error (error);
    hd_test_compare (a->data, expected->data, expected->n_elements, &max_abs, &psnr);
    g_assert_cmpfloat (max_abs, <=, 0.002);
    g_assert_cmpmem (a->data, a->n_elements * 4, b->data, b->n_elements * 4);
  }
  hd_test_rmdir_recursive (dir);
}

/* Without --model the CLI renders the demo model; $HYPERDOMAIN_DEMO_MODEL
 * stands in for it, and its pack is found beside it. */
static void
test_default_model (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *tiny = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *model = g_build_filename (dir, "demo.safetensors", NULL);
  g_autofree char *pack = g_build_filename (dir, "demo-domains.safetensors", NULL);
  g_autofree char *beside = g_build_filename (dir, "domains.safetensors", NULL);
  g_autofree char *out1 = g_build_filename (dir, "a.npy", NULL);
  g_autofree char *out2 = g_build_filename (dir, "b.npy", NULL);
  g_autofree char *found = NULL, *found_pack = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  gsize length;
  g_auto(HdTestCliResult) r1;
  g_auto(HdTestCliResult) r2;
  g_auto(HdTestCliResult) r3;

  g_assert_true (g_file_get_contents (tiny, &contents, &length, &error));
  g_assert_true (g_file_set_contents (model, contents, length, &error));
  write_tiny_pack (pack);

  g_setenv ("HYPERDOMAIN_DEMO_MODEL", model, TRUE);
  g_assert_true (hd_demo_model_find (&found, &found_pack));
  g_assert_cmpstr (found, ==, model);
  g_assert_cmpstr (found_pack, ==, pack);
  g_clear_pointer (&found, g_free);
  g_clear_pointer (&found_pack, g_free);
  g_assert_cmpint (g_rename (pack, beside), ==, 0);
  g_assert_true (hd_demo_model_find (&found, &found_pack));
  g_assert_cmpstr (found_pack, ==, beside);
  g_clear_pointer (&found, g_free);
  g_clear_pointer (&found_pack, g_free);
  g_assert_cmpint (g_unlink (beside), ==, 0);
  g_assert_true (hd_demo_model_find (&found, &found_pack));
  g_assert_null (found_pack);
  g_clear_pointer (&found, g_free);
  /* Its CLIP and its hypernetwork: NAME-KIND.safetensors beside it, else
   * KIND.safetensors. */
  {
    static const char * const kinds[] = { "clip", "text" };
    char *(*find[]) (void) = { hd_demo_clip_find, hd_demo_text_find };

    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *plain = g_strdup_printf ("%s.safetensors", kinds[i]);
        g_autofree char *named = g_strdup_printf ("demo-%s.safetensors", kinds[i]);
        g_autofree char *plain_path = g_build_filename (dir, plain, NULL);
        g_autofree char *named_path = g_build_filename (dir, named, NULL);
        g_autofree char *none = find[i] ();
        g_autofree char *beside_found = NULL, *named_found = NULL, *gone = NULL;

        g_assert_null (none);
        g_assert_true (g_file_set_contents (plain_path, "", 0, NULL));
        beside_found = find[i] ();
        g_assert_cmpstr (beside_found, ==, plain_path);
        g_assert_true (g_file_set_contents (named_path, "", 0, NULL));
        named_found = find[i] ();
        g_assert_cmpstr (named_found, ==, named_path);
        /* Only files: a folder of that name is none. */
        g_assert_cmpint (g_unlink (named_path), ==, 0);
        g_assert_cmpint (g_unlink (plain_path), ==, 0);
        g_assert_cmpint (g_mkdir (named_path, 0700), ==, 0);
        gone = find[i] ();
        g_assert_null (gone);
        g_assert_cmpint (g_rmdir (named_path), ==, 0);
      }
  }
  /* Its first image: NAME-start.json beside it; a broken one is no start
   * (with a warning), and names what is wrong. */
  {
    g_autofree char *start_path = g_build_filename (dir, "demo-start.json", NULL);
    static const char * const bad[] = {
      "", "[]", "{\"seed\": 5}", "{\"domain\": \"a\"}", "{\"seed\": -1, \"domain\": \"a\"}",
      "{\"seed\": 4294967296, \"domain\": \"a\"}", "{\"seed\": \"5\", \"domain\": \"a\"}",
      "{\"seed\": 5, \"domain\": 3}", "{\"seed\": 1.5, \"domain\": \"a\"}", "{\"seed\": 5, \"domain\": \"a\"",
    };
    HdDemoStart start;

    g_assert_false (hd_demo_start_find (&start));
    g_assert_true (g_file_set_contents (start_path, "{\"seed\": 178, \"domain\": \"flags\", \"weight\": 0.5}",
                                        -1, NULL));
    g_assert_true (hd_demo_start_find (&start));
    g_assert_cmpuint (start.seed, ==, 178);
    g_assert_cmpstr (start.domain, ==, "flags");
    g_assert_cmpfloat (start.weight, ==, 0.5);
    g_assert_cmpfloat (start.psi, ==, 1.0);
    hd_demo_start_clear (&start);
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) start_error = NULL;

        g_assert_true (g_file_set_contents (start_path, bad[i], -1, NULL));
        g_assert_false (hd_demo_start_parse (start_path, &start, &start_error));
        g_assert_nonnull (start_error);
        g_assert_null (start.domain);
      }
    g_assert_cmpint (g_unlink (start_path), ==, 0);
  }
  g_setenv ("HYPERDOMAIN_DEMO_MODEL", "", TRUE);
  g_assert_false (hd_demo_model_find (&found, &found_pack));
  g_assert_null (found);
  g_assert_null (hd_demo_text_find ());
  g_unsetenv ("HYPERDOMAIN_DEMO_MODEL");

  /* The same pixels as with --model. */
  envp = g_environ_setenv (envp, "HYPERDOMAIN_DEMO_MODEL", model, TRUE);
  g_ptr_array_add (args, (char *) "--seed");
  g_ptr_array_add (args, (char *) "3");
  g_ptr_array_add (args, (char *) "-o");
  g_ptr_array_add (args, out1);
  hd_test_run_cli_argv (&r1, envp, args);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", model, "--seed", "3", "-o", out2, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  {
    g_autoptr(HdNpy) a = hd_npy_read (out1, &error);
    g_autoptr(HdNpy) b = hd_npy_read (out2, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (a->data, a->n_elements * 4, b->data, b->n_elements * 4);
  }

  /* No demo model: the message says how to name one. */
  envp = g_environ_setenv (envp, "HYPERDOMAIN_DEMO_MODEL", "", TRUE);
  hd_test_run_cli_argv (&r3, envp, args);
  assert_clean_failure (&r3, "--model");
  hd_test_rmdir_recursive (dir);
}

static void
test_errors (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *domain = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *garbage = g_build_filename (dir, "garbage.safetensors", NULL);
  g_autofree char *other = g_build_filename (dir, "other.safetensors", NULL);
  g_autofree char *out = g_build_filename (dir, "o.png", NULL);
  g_autofree char *pattern = g_build_filename (dir, "%05d.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_autofree char *unwritable = g_build_filename (garbage, "o.png", NULL);
  g_autoptr(GError) error = NULL;
  HdGeneratorConfig config = hd_test_config (16, 256, 32, 32, 48, TRUE);
  g_autoptr(HdGenerator) gen = hd_generator_new_random (&config, 1);

  g_file_set_contents (garbage, "this is not a safetensors file at all", -1, &error);
  g_assert_no_error (error);
  hd_generator_save (gen, other, HD_DTYPE_F32, &error);
  g_assert_no_error (error);

  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", missing, "-o", out, NULL);
    assert_clean_failure (&r, "missing.safetensors");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", garbage, "-o", out, NULL);
    assert_clean_failure (&r, "garbage.safetensors");
  }
  {
    /* A domain of another generator: the message names both files. */
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", other, "--domain", domain, "-o", out, NULL);
    assert_clean_failure (&r, "tiny-domain-a.safetensors");
    g_assert_nonnull (strstr (r.err, "other.safetensors"));
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--seed", "1-3", "-o", out, NULL);
    assert_clean_failure (&r, "pattern");
  }
  {
    /* A cutoff past the last layer would write a state that cannot be
     * opened again. */
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--cutoff", "99", "-o", out, NULL);
    assert_clean_failure (&r, "--cutoff 99");
    g_assert_cmpint (r.status, ==, 2);
  }
  {
    g_auto(HdTestCliResult) r;
    g_autofree char *bad = g_build_filename (dir, "%s.png", NULL);
    hd_test_run_cli (&r, "--model", model, "--seed", "1-3", "-o", bad, NULL);
    assert_clean_failure (&r, "%d");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--seed", "4294967296", "-o", pattern, NULL);
    assert_clean_failure (&r, "4294967296");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--noise", "loud", "-o", out, NULL);
    assert_clean_failure (&r, "loud");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "-o", "image.jpg", NULL);
    assert_clean_failure (&r, "image.jpg");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--z", model, "-o", out, NULL);
    assert_clean_failure (&r, "tiny.safetensors");
  }
  {
    g_auto(HdTestCliResult) r;
    g_autofree char *w = hd_test_conformance_path ("tiny-w.npy");
    hd_test_run_cli (&r, "--model", model, "--z", w, "-o", out, NULL);
    assert_clean_failure (&r, "tiny-w.npy");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "-o", unwritable, NULL);
    assert_clean_failure (&r, "garbage.safetensors");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--device", "99", "-o", out, NULL);
    assert_clean_failure (&r, "99");
  }
  {
    g_auto(HdTestCliResult) r;
    hd_test_run_cli (&r, "--model", model, "--bogus", NULL);
    assert_clean_failure (&r, "bogus");
  }
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  hd_test_rmdir_recursive (dir);
}

/* A FIFO without a writer, a folder or a device given as the model or a
 * domain: status 1 and a message at once, not a wait for ever. Each run is
 * under timeout(1), so that a regression fails (status 124) and does not
 * hang the test. */
static void
test_special_files (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *fifo = hd_test_make_fifo (dir, "x.safetensors");
  g_autofree char *out = g_build_filename (dir, "o.png", NULL);
  const struct {
    const char *option;
    const char *path;
    const char *problem;
  } cases[] = {
    { "--model", fifo, "it is a named pipe (FIFO), not a regular file" },
    { "--domain", fifo, "it is a named pipe (FIFO), not a regular file" },
    { "--model", dir, "it is a folder, not a regular file" },
    { "--domain", dir, "it is a folder, not a regular file" },
    { "--model", "/dev/null", "it is a device, not a regular file" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(HdTestCliResult) r;
      gint64 start = g_get_monotonic_time ();

      if (g_str_equal (cases[i].option, "--model"))
        hd_test_run_cli_timeout (&r, 20, "--model", cases[i].path, "-o", out, NULL);
      else
        hd_test_run_cli_timeout (&r, 20, "--model", model, "--domain", cases[i].path,
                                 "-o", out, NULL);
      g_test_message ("%s %s: status %d, %.2f s: %s", cases[i].option, cases[i].path, r.status,
                      (g_get_monotonic_time () - start) / 1e6, r.err);
      g_assert_cmpint (r.status, ==, 1);
      assert_clean_failure (&r, cases[i].path);
      g_assert_nonnull (strstr (r.err, cases[i].problem));
    }
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  hd_test_rmdir_recursive (dir);
}

static void
test_no_device (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *out = g_build_filename (dir, "o.png", NULL);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_auto(HdTestCliResult) r;

  envp = g_environ_setenv (envp, "VK_ICD_FILENAMES", "/nonexistent/icd.json", TRUE);
  envp = g_environ_setenv (envp, "VK_DRIVER_FILES", "/nonexistent/icd.json", TRUE);
  envp = g_environ_unsetenv (envp, "HYPERDOMAIN_VALIDATION");
  g_ptr_array_add (args, (char *) "--model");
  g_ptr_array_add (args, model);
  g_ptr_array_add (args, (char *) "-o");
  g_ptr_array_add (args, out);
  hd_test_run_cli_argv (&r, envp, args);
  assert_clean_failure (&r, "Vulkan");
  hd_test_rmdir_recursive (dir);
}

static void
test_help_version_devices (void)
{
  g_auto(HdTestCliResult) help;
  g_auto(HdTestCliResult) version;
  g_auto(HdTestCliResult) devices;
  const char *options[] = { "--model", "--seed", "--seeds", "--z", "--w", "--psi", "--cutoff",
                            "--noise", "--noise-seed", "--domain", "--device", "--list-devices",
                            "-o", "--version" };

  hd_test_run_cli (&help, "--help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    g_assert_nonnull (strstr (help.out, options[i]));

  hd_test_run_cli (&version, "--version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_true (g_str_has_prefix (version.out, "hyperdomain-render "));

  hd_test_run_cli (&devices, "--list-devices", NULL);
  g_assert_cmpint (devices.status, ==, 0);
  g_assert_true (g_str_has_prefix (devices.out, "0: "));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/Cli/conformance", test_conformance);
  g_test_add_func ("/Hyperdomain/Cli/png-output", test_png_output);
  g_test_add_func ("/Hyperdomain/Cli/seed-ranges", test_seed_ranges);
  g_test_add_func ("/Hyperdomain/Cli/scale", test_scale);
  g_test_add_func ("/Hyperdomain/Cli/domain-pack", test_domain_pack);
  g_test_add_func ("/Hyperdomain/Cli/default-model", test_default_model);
  g_test_add_func ("/Hyperdomain/Cli/errors", test_errors);
  g_test_add_func ("/Hyperdomain/Cli/special-files", test_special_files);
  g_test_add_func ("/Hyperdomain/Cli/no-device", test_no_device);
  g_test_add_func ("/Hyperdomain/Cli/help-version-devices", test_help_version_devices);
  return g_test_run ();
}
