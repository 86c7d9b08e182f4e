/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render with --hypernetwork, --text and --save-domain:
 * every domain, render and error case of conformance/text/cases.json, run
 * as the command lines there say, and a PNG that reopens to the same
 * pixels. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-domain.h"
#include "hd-latent.h"
#include "hd-test-util.h"

typedef struct {
  JsonParser *parser;
  JsonObject *cases;
  char       *fix;    /* tests/conformance/text */
  char       *out;    /* scratch */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = hd_test_conformance_path ("text/cases.json");
  g_autoptr(GError) error = NULL;

  f->parser = json_parser_new ();
  json_parser_load_from_file (f->parser, path, &error);
  g_assert_no_error (error);
  f->cases = json_node_get_object (json_parser_get_root (f->parser));
  f->fix = hd_test_conformance_path ("text");
  f->out = hd_test_make_tmpdir ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  hd_test_rmdir_recursive (f->out);
  g_free (f->out);
  g_free (f->fix);
  g_object_unref (f->parser);
}

/* {out}/NAME.safetensors hypernetworks are the converted fixtures. */
static char *
expand (Fixture    *f,
        const char *arg)
{
  g_autoptr(GString) s = g_string_new (arg);

  if (g_str_has_prefix (arg, "{out}/") && g_str_has_suffix (arg, "-text.safetensors"))
    g_string_replace (s, "{out}", f->fix, 1);
  else if (g_str_has_prefix (arg, "{out}/") && strstr (arg, "-text-lrelu.safetensors") != NULL)
    g_string_replace (s, "{out}", f->fix, 1);
  g_string_replace (s, "{fix}", f->fix, 0);
  g_string_replace (s, "{out}", f->out, 0);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
run_case (Fixture          *f,
          JsonObject       *c,
          HdTestCliResult  *r)
{
  JsonArray *args = json_object_get_array_member (c, "args");
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < json_array_get_length (args); i++)
    g_ptr_array_add (argv, expand (f, json_array_get_string_element (args, i)));
  hd_test_run_cli_argv (r, NULL, argv);
}

static HdNpy *
expected_npy (Fixture    *f,
              JsonObject *c)
{
  g_autofree char *path = g_build_filename (f->fix, json_object_get_string_member (c, "expected"), NULL);
  g_autoptr(GError) error = NULL;
  HdNpy *npy = hd_npy_read (path, &error);

  g_assert_no_error (error);
  return npy;
}

static double
tolerance (Fixture    *f,
           const char *key)
{
  return json_object_get_double_member (json_object_get_object_member (f->cases, "tolerance"), key);
}

/* --save-domain: the domain file, layer by layer. */
static void
test_domains (Fixture       *f,
              gconstpointer  data)
{
  JsonArray *list = json_object_get_array_member (f->cases, "domains");
  JsonArray *layers = json_object_get_array_member (f->cases, "layers");
  double tol = tolerance (f, "domain_max_abs_rel");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_auto(HdTestCliResult) r = { 0 };
      g_autoptr(HdNpy) expected = expected_npy (f, c);
      g_autofree char *file = g_strdup_printf ("%s.safetensors", json_object_get_string_member (c, "name"));
      g_autofree char *path = g_build_filename (f->out, file, NULL);
      g_autoptr(GPtrArray) domains = NULL;
      g_autoptr(GError) error = NULL;
      HdDomain *domain;
      double max_abs = 0.0, max_ref = 1.0;

      run_case (f, c, &r);
      g_assert_cmpint (r.status, ==, 0);
      domains = hd_domain_load_all (path, &error);
      g_assert_no_error (error);
      domain = g_ptr_array_index (domains, 0);
      /* The name is the prompt; an empty one cannot be a name. */
      if (*json_object_get_string_member (c, "prompt") != '\0')
        g_assert_cmpstr (domain->name, ==, json_object_get_string_member (c, "prompt"));
      else
        g_assert_cmpstr (domain->name, ==, "(empty prompt)");
      g_assert_cmpstr (domain->description, ==, json_object_get_string_member (c, "prompt"));
      for (guint l = 0; l < json_array_get_length (layers); l++)
        {
          JsonObject *layer = json_array_get_object_element (layers, l);
          HdDomainLayer *dl = g_hash_table_lookup (domain->layers, json_object_get_string_member (layer, "name"));
          gint64 offset = json_object_get_int_member (layer, "offset");

          g_assert_nonnull (dl);
          g_assert_cmpint (dl->length, ==, json_object_get_int_member (layer, "size"));
          for (int j = 0; j < dl->length; j++)
            {
              max_abs = MAX (max_abs, fabs (dl->values[j] - expected->data[offset + j]));
              max_ref = MAX (max_ref, fabs (expected->data[offset + j]));
            }
        }
      g_test_message ("%-24s max |d - d_ref| %.2e", json_object_get_string_member (c, "name"), max_abs);
      g_assert_cmpfloat (max_abs, <=, tol * max_ref);
    }
}

/* Raw renders against the reference images. */
static void
test_renders (Fixture       *f,
              gconstpointer  data)
{
  JsonArray *list = json_object_get_array_member (f->cases, "renders");
  JsonObject *image = json_object_get_object_member (json_object_get_object_member (f->cases, "tolerance"),
                                                     "image");
  double tol_abs = json_object_get_double_member (image, "max_abs");
  double tol_psnr = json_object_get_double_member (image, "min_psnr_db");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_auto(HdTestCliResult) r = { 0 };
      g_autoptr(HdNpy) expected = expected_npy (f, c);
      g_autofree char *file = g_strdup_printf ("%s.npy", json_object_get_string_member (c, "name"));
      g_autofree char *path = g_build_filename (f->out, file, NULL);
      g_autoptr(HdNpy) got = NULL;
      g_autoptr(GError) error = NULL;
      double max_abs, psnr;

      run_case (f, c, &r);
      g_assert_cmpint (r.status, ==, 0);
      got = hd_npy_read (path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (got->n_elements, ==, expected->n_elements);
      hd_test_compare (got->data, expected->data, got->n_elements, &max_abs, &psnr);
      g_test_message ("%-24s max abs %.2e  PSNR %.1f dB", json_object_get_string_member (c, "name"),
                      max_abs, psnr);
      g_assert_cmpfloat (max_abs, <=, tol_abs);
      g_assert_cmpfloat (psnr, >=, tol_psnr);
    }
}

/* Errors: non-zero, one line, nothing written. */
static void
test_errors (Fixture       *f,
             gconstpointer  data)
{
  JsonArray *list = json_object_get_array_member (f->cases, "errors");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_auto(HdTestCliResult) r = { 0 };
      g_autofree char *output = expand (f, json_object_get_string_member (c, "output"));

      run_case (f, c, &r);
      g_test_message ("%s: status %d: %s", json_object_get_string_member (c, "name"), r.status, r.err);
      g_assert_cmpint (r.status, !=, 0);
      g_assert_cmpint (hd_test_count_lines (r.err), ==, 1);
      g_assert_nonnull (strstr (r.err, "76 tokens"));
      g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
    }
}

/* Option misuse: one line each, status 2. */
static void
test_misuse (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *hn = g_build_filename (f->fix, "tiny-text.safetensors", NULL);
  g_autofree char *gen = g_build_filename (f->fix, "..", "tiny.safetensors", NULL);
  g_autofree char *out = g_build_filename (f->out, "x.npy", NULL);
  g_autofree char *dom = g_build_filename (f->out, "x.safetensors", NULL);
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_auto(HdTestCliResult) r4 = { 0 };

  hd_test_run_cli (&r1, "--model", gen, "--text", "pixar", "-o", out, NULL);
  g_assert_cmpint (r1.status, ==, 2);
  g_assert_nonnull (strstr (r1.err, "--hypernetwork"));
  hd_test_run_cli (&r2, "--model", gen, "--hypernetwork", hn, "-o", out, NULL);
  g_assert_cmpint (r2.status, ==, 2);
  hd_test_run_cli (&r3, "--hypernetwork", hn, "--text", "a", "--text", "b", "--save-domain", dom, NULL);
  g_assert_cmpint (r3.status, ==, 2);
  g_assert_false (g_file_test (dom, G_FILE_TEST_EXISTS));
  hd_test_run_cli (&r4, "--model", gen, "--hypernetwork", hn, "--text", "a\xff", "-o", out, NULL);
  g_assert_cmpint (r4.status, !=, 0);
  g_assert_cmpint (hd_test_count_lines (r4.err), ==, 1);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* A PNG with text domains carries them (spec §7) and reopens to the same
 * pixels. */
static void
test_png_reopens (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *hn = g_build_filename (f->fix, "tiny-text.safetensors", NULL);
  g_autofree char *gen = g_build_filename (f->fix, "..", "tiny.safetensors", NULL);
  g_autofree char *png = g_build_filename (f->out, "a.png", NULL);
  g_autofree char *first = g_build_filename (f->out, "a.npy", NULL);
  g_autofree char *again = g_build_filename (f->out, "b.npy", NULL);
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_autoptr(HdNpy) a = NULL;
  g_autoptr(HdNpy) b = NULL;
  g_autoptr(GError) error = NULL;

  hd_test_run_cli (&r1, "--model", gen, "--seed", "3", "--hypernetwork", hn,
                   "--text", "Pixar style=0.7", "--text", "пиксар", "-o", png, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", gen, "--seed", "3", "--hypernetwork", hn,
                   "--text", "Pixar style=0.7", "--text", "пиксар", "-o", first, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  hd_test_run_cli (&r3, "--from-png", png, "-o", again, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  a = hd_npy_read (first, &error);
  g_assert_no_error (error);
  b = hd_npy_read (again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->n_elements, ==, b->n_elements);
  g_assert_cmpmem (a->data, a->n_elements * sizeof (float), b->data, b->n_elements * sizeof (float));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add ("/Hyperdomain/CliText/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("domains", test_domains);
  ADD ("renders", test_renders);
  ADD ("errors", test_errors);
  ADD ("misuse", test_misuse);
  ADD ("png-reopens", test_png_reopens);
#undef ADD
  return g_test_run ();
}
