/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-train (spec/domain-training.md §8) against every gradient,
 * trajectory and error case of conformance/training, run as the cases'
 * command lines say. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>

#include "hd-demo.h"
#include "hd-domain.h"
#include "hd-error.h"
#include "hd-latent.h"
#include "hd-safetensors.h"
#include "hd-test-util.h"

static char *fix_dir, *out_dir;

static char *
expand (const char *arg)
{
  g_autoptr(GString) s = g_string_new (arg);

  g_string_replace (s, "{fix}", fix_dir, 0);
  g_string_replace (s, "{out}", out_dir, 0);
  return g_strdup (s->str);
}

typedef struct {
  int   status;
  char *err;
} Run;

static void
run_train (JsonArray *args,
           Run       *r)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, g_strdup (g_getenv ("HD_TRAIN")));
  for (guint i = 0; i < json_array_get_length (args); i++)
    g_ptr_array_add (argv, expand (json_array_get_string_element (args, i)));
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                &r->err, &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

/* The "step S/LAST loss L" lines of stderr, in order. */
static GArray *
stderr_losses (const char *err,
               int         first,
               int         last)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto(GStrv) lines = g_strsplit (err, "\n", -1);
  int expect = first;

  for (int i = 0; lines[i] != NULL; i++)
    {
      int s, l;
      double loss;

      if (!g_str_has_prefix (lines[i], "step "))
        continue;
      g_assert_cmpint (sscanf (lines[i], "step %d/%d loss %lf", &s, &l, &loss), ==, 3);
      g_assert_cmpint (s, ==, expect++);
      g_assert_cmpint (l, ==, last);
      g_array_append_val (losses, loss);
    }
  return losses;
}

/* The domain or gradient file PATH as one vector in layer order. */
static float *
read_vector (const char  *path,
             JsonArray   *layers,
             GHashTable **metadata)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_open (path, &error);
  gsize total = 0;
  float *v;

  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (layers); i++)
    total += json_object_get_int_member (json_array_get_object_element (layers, i), "size");
  v = g_new (float, total);
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      const HdTensor *t = hd_safetensors_lookup (st, json_object_get_string_member (l, "name"));

      g_assert_nonnull (t);
      g_assert_cmpint (t->dtype, ==, HD_DTYPE_F32);
      g_assert_cmpuint (t->n_elements, ==, (gsize) json_object_get_int_member (l, "size"));
      hd_tensor_to_f32 (t, v + json_object_get_int_member (l, "offset"));
    }
  if (metadata != NULL)
    {
      *metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      for (const char *keys[] = { "hyperdomain.kind", "hyperdomain.version", "hyperdomain.name",
                                  "hyperdomain.description", "hyperdomain.modulation",
                                  "hyperdomain.generator", "hyperdomain.step", "hyperdomain.loss",
                                  NULL }, **k = keys; *k != NULL; k++)
        if (hd_safetensors_get_metadata (st, *k) != NULL)
          g_hash_table_insert (*metadata, g_strdup (*k), g_strdup (hd_safetensors_get_metadata (st, *k)));
    }
  return v;
}

static void
test_gradients (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "gradients");
  JsonArray *layers = json_object_get_array_member (cases, "layers");
  JsonObject *tol = json_object_get_object_member (cases, "tolerance");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      const char *name = json_object_get_string_member (c, "name");
      g_autofree char *grad_path = g_strdup_printf ("%s/%s.safetensors", out_dir, name);
      g_autoptr(HdNpy) expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      g_autoptr(GHashTable) meta = NULL;
      g_autoptr(GArray) losses = NULL;
      g_autofree float *g = NULL;
      double want = json_object_get_double_member (c, "loss"), max_g = 0.0, max_diff = 0.0;
      int step = (int) json_object_get_int_member (c, "start_step");
      Run r = { 0 };

      run_train (json_object_get_array_member (c, "args"), &r);
      g_assert_cmpint (r.status, ==, 0);
      losses = stderr_losses (r.err, step, step);
      g_assert_cmpuint (losses->len, ==, 1);
      g_assert_cmpfloat (fabs (g_array_index (losses, double, 0) - want), <=,
                         json_object_get_double_member (tol, "loss_abs"));
      g = read_vector (grad_path, layers, &meta);
      g_assert_cmpstr (g_hash_table_lookup (meta, "hyperdomain.kind"), ==, "gradient");
      g_assert_cmpstr (g_hash_table_lookup (meta, "hyperdomain.version"), ==, "1");
      g_assert_cmpint (atoi (g_hash_table_lookup (meta, "hyperdomain.step")), ==, step);
      g_assert_cmpfloat (fabs (g_ascii_strtod (g_hash_table_lookup (meta, "hyperdomain.loss"), NULL) - want),
                         <=, json_object_get_double_member (tol, "loss_abs"));
      for (gsize k = 0; k < expected->n_elements; k++)
        {
          max_g = MAX (max_g, fabs (expected->data[k]));
          max_diff = MAX (max_diff, fabs ((double) g[k] - expected->data[k]));
        }
      g_test_message ("%s: loss %.9g (expected %.9g), gradient %.3g of max", name,
                      g_array_index (losses, double, 0), want, max_diff / max_g);
      g_assert_cmpfloat (max_diff / max_g, <=, json_object_get_double_member (tol, "grad_max_abs_rel"));
      g_free (r.err);
    }
}

static void
test_trajectory (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (cases, "trajectories"), 0);
  JsonArray *layers = json_object_get_array_member (cases, "layers");
  JsonObject *tol = json_object_get_object_member (c, "tolerance");
  JsonObject *expected = json_object_get_object_member (c, "expected");
  JsonObject *outputs = json_object_get_object_member (c, "outputs");
  JsonArray *want_losses = json_object_get_array_member (c, "losses");
  JsonObject *want_meta = json_object_get_object_member (c, "metadata");
  double lr = json_object_get_double_member (c, "lr");
  int steps = (int) json_object_get_int_member (c, "steps");
  g_autoptr(GList) keys = json_object_get_members (expected);
  g_autoptr(GArray) losses = NULL;
  Run r = { 0 };

  run_train (json_object_get_array_member (c, "args"), &r);
  g_assert_cmpint (r.status, ==, 0);
  losses = stderr_losses (r.err, 1, steps);
  g_assert_cmpuint (losses->len, ==, (guint) steps);
  for (int s = 0; s < steps; s++)
    g_assert_cmpfloat (fabs (g_array_index (losses, double, s) - json_array_get_double_element (want_losses, s)),
                       <=, json_array_get_double_element (json_object_get_array_member (tol, "loss_abs"), s));
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const char *key = l->data;
      g_autofree char *path = expand (json_object_get_string_member (outputs, key));
      g_autoptr(HdNpy) e = hd_test_load_npy ("training/%s", json_object_get_string_member (expected, key));
      g_autoptr(GHashTable) meta = NULL;
      g_autofree float *d = read_vector (path, layers, &meta);
      double max = 0.0, rms = 0.0;

      for (gsize k = 0; k < e->n_elements; k++)
        {
          double diff = fabs ((double) d[k] - e->data[k]) / lr;
          max = MAX (max, diff);
          rms += diff * diff;
        }
      rms = sqrt (rms / e->n_elements);
      g_test_message ("after step %s: d max %.3g lr, rms %.3g lr", key, max, rms);
      g_assert_cmpfloat (max, <=, json_object_get_double_member (json_object_get_object_member (tol, "d_max_over_lr"), key));
      g_assert_cmpfloat (rms, <=, json_object_get_double_member (json_object_get_object_member (tol, "d_rms_over_lr"), key));
      if (atoi (key) == steps)
        {
          g_autoptr(GList) mk = json_object_get_members (want_meta);

          for (GList *m = mk; m != NULL; m = m->next)
            g_assert_cmpstr (g_hash_table_lookup (meta, m->data), ==,
                             json_object_get_string_member (want_meta, m->data));
        }
      else
        {
          g_autofree char *desc = g_strdup_printf ("trained: %s -> %s, %s steps",
                                                   json_object_get_string_member (c, "source"),
                                                   json_object_get_string_member (c, "target"), key);
          g_assert_cmpstr (g_hash_table_lookup (meta, "hyperdomain.description"), ==, desc);
        }
    }
  g_free (r.err);
}

static void
test_errors (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "errors");
  const char *more[][12] = {
    { "--steps", "0" }, { "--start-step", "0" }, { "--lr", "0" }, { "--lr", "nan" },
    { "--mixing", "1.5" }, { "--seed", "4294967296" }, { "--seed", "-1" },
  };

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autofree char *output = expand (json_object_get_string_member (c, "output"));
      Run r = { 0 };

      run_train (json_object_get_array_member (c, "args"), &r);
      g_test_message ("%s: %s", json_object_get_string_member (c, "name"), r.err);
      g_assert_cmpint (r.status, !=, 0);
      g_assert_cmpuint (strlen (r.err), >, 0);
      g_assert_null (strchr (r.err, '\n') == r.err + strlen (r.err) - 1 ? NULL : "more than one line");
      g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
      g_free (r.err);
    }
  for (guint i = 0; i < G_N_ELEMENTS (more); i++)
    {
      JsonArray *args = json_array_new ();
      g_autofree char *output = g_strdup_printf ("%s/err-more.safetensors", out_dir);
      const char *base[] = { "--model", "{fix}/../tiny.safetensors", "--clip", "{out}/clip-train.safetensors",
                             "--source", "Photo", "--target", "x", "-o", output };
      Run r = { 0 };

      for (guint j = 0; j < G_N_ELEMENTS (base); j++)
        json_array_add_string_element (args, base[j]);
      json_array_add_string_element (args, more[i][0]);
      json_array_add_string_element (args, more[i][1]);
      run_train (args, &r);
      g_test_message ("%s %s: %s", more[i][0], more[i][1], r.err);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, more[i][0]));
      g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
      json_array_unref (args);
      g_free (r.err);
    }
}

/* The demo model without --clip trains with the demo's own CLIP. */
static void
test_demo_clip (void)
{
  g_autofree char *demo_clip = hd_demo_clip_find ();
  g_autofree char *output = g_strdup_printf ("%s/demo-burger.safetensors", out_dir);
  g_autoptr(GPtrArray) domains = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *args = json_array_new ();
  const char *argv[] = { "--source", "emoji", "--target", "burger", "--steps", "2", "--batch", "1",
                         "-o", output };
  g_autoptr(HdSafetensors) st = NULL;
  HdDomain *domain;
  Run r = { 0 };

  if (demo_clip == NULL)
    {
      g_test_skip ("no demo CLIP in this tree");
      json_array_unref (args);
      return;
    }
  for (guint j = 0; j < G_N_ELEMENTS (argv); j++)
    json_array_add_string_element (args, argv[j]);
  run_train (args, &r);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "step 2/2 loss "));
  domains = hd_domain_load_all (output, &error);
  g_assert_no_error (error);
  domain = g_ptr_array_index (domains, 0);
  g_assert_cmpstr (domain->name, ==, "burger");
  st = hd_safetensors_open (output, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (hd_safetensors_get_metadata (st, "hyperdomain.source"), "Hyperdomain Emoji CLIP"));
  json_array_unref (args);
  g_free (r.err);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  fix_dir = hd_test_conformance_path ("training");
  out_dir = hd_test_make_tmpdir ();
  /* The cases read the converted clip files from {out}; the committed ones
   * are those conversions (tests/convert/test_clip_file.py checks it). */
  for (const char *names[] = { "clip-train.safetensors", "clip-train-b.safetensors", NULL },
       **n = names; *n != NULL; n++)
    {
      g_autofree char *from = g_build_filename (fix_dir, *n, NULL);
      g_autofree char *to = g_build_filename (out_dir, *n, NULL);
      g_autofree char *data = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (from, &data, &len, NULL));
      g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
    }

  g_test_add_func ("/Hyperdomain/CLI/train/gradients", test_gradients);
  g_test_add_func ("/Hyperdomain/CLI/train/trajectory", test_trajectory);
  g_test_add_func ("/Hyperdomain/CLI/train/errors", test_errors);
  g_test_add_func ("/Hyperdomain/CLI/train/demo-clip", test_demo_clip);
  status = g_test_run ();
  hd_test_rmdir_recursive (out_dir);
  g_free (out_dir);
  g_free (fix_dir);
  return status;
}
