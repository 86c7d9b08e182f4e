/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hd-test-util.h"
#include "hd-hypernetwork.h"

char *
hd_test_conformance_path (const char *name)
{
  const char *dir = g_getenv ("HD_CONFORMANCE_DIR");

  if (dir == NULL)
    dir = "tests/conformance";
  return g_build_filename (dir, name, NULL);
}

HdGenerator *
hd_test_load_tiny (void)
{
  g_autofree char *path = hd_test_conformance_path ("tiny.safetensors");
  g_autoptr(GError) error = NULL;
  HdGenerator *gen = hd_generator_load (path, &error);

  g_assert_no_error (error);
  return gen;
}

void
hd_test_compare (const float *got,
                 const float *expected,
                 gsize        n,
                 double      *max_abs,
                 double      *psnr_db)
{
  double worst = 0.0, sq = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double diff = fabs ((double) got[i] - (double) expected[i]);
      if (!(diff <= worst)) /* NaN counts as the worst */
        worst = isnan (diff) ? INFINITY : diff;
      sq += diff * diff;
    }
  *max_abs = worst;
  if (n == 0 || sq == 0.0)
    *psnr_db = INFINITY;
  else
    *psnr_db = 10.0 * log10 (4.0 / (sq / (double) n));
  if (isnan (*psnr_db))
    *psnr_db = -INFINITY;
}

char *
hd_test_make_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("hyperdomain-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
hd_test_rmdir_recursive (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        hd_test_rmdir_recursive (child);
      else
        g_remove (child);
      g_free (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

char *
hd_test_make_fifo (const char *dir,
                   const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  if (mkfifo (path, 0600) != 0)
    g_error ("mkfifo %s: %s", path, g_strerror (errno));
  return path;
}

void
hd_test_hang_guard (guint seconds)
{
  alarm (seconds);
}

HdGeneratorConfig
hd_test_config (int      res,
                int      channel_base,
                int      channel_max,
                int      z_dim,
                int      w_dim,
                gboolean conv_clamp)
{
  HdGeneratorConfig c = {
    .z_dim = z_dim,
    .w_dim = w_dim,
    .c_dim = 0,
    .img_resolution = res,
    .img_channels = 3,
    .mapping_layers = 2,
    .lr_multiplier = 0.01f,
    .channel_base = channel_base,
    .channel_max = channel_max,
    .has_conv_clamp = conv_clamp,
    .conv_clamp = 256.0f,
  };
  return c;
}

#include <json-glib/json-glib.h>

#include "hd-clip.h"
#include <string.h>

static void
test_case_free (HdTestCase *tc)
{
  g_free (tc->name);
  hd_generator_unref (tc->gen);
  g_free (tc->latent);
  g_free (tc->domain);
  hd_npy_free (tc->expected);
  g_ptr_array_unref (tc->cli_args);
  g_free (tc);
}

static HdTestCase *
load_case (JsonObject *obj)
{
  g_autoptr(GError) error = NULL;
  HdTestCase *tc = g_new0 (HdTestCase, 1);
  g_autofree char *model = hd_test_conformance_path (json_object_get_string_member (obj, "model"));
  g_autofree char *expected = hd_test_conformance_path (json_object_get_string_member (obj, "expected"));
  JsonArray *domains = json_object_get_array_member (obj, "domains");
  JsonNode *cutoff = json_object_get_member (obj, "cutoff");
  g_autoptr(GArray) terms = g_array_new (FALSE, TRUE, sizeof (HdBlendTerm));
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);

  tc->name = g_strdup (json_object_get_string_member (obj, "name"));
  tc->cli_args = g_ptr_array_new_with_free_func (g_free);
  tc->gen = hd_generator_load (model, &error);
  g_assert_no_error (error);
  tc->expected = hd_npy_read (expected, &error);
  g_assert_no_error (error);

  hd_render_params_init (&tc->params);
  g_ptr_array_add (tc->cli_args, g_strdup ("--model"));
  g_ptr_array_add (tc->cli_args, g_strdup (model));

  if (json_object_has_member (obj, "seed"))
    {
      tc->params.latent_kind = HD_LATENT_SEED;
      tc->params.seed = (guint32) json_object_get_int_member (obj, "seed");
      g_ptr_array_add (tc->cli_args, g_strdup ("--seed"));
      g_ptr_array_add (tc->cli_args, g_strdup_printf ("%u", tc->params.seed));
    }
  else
    {
      gboolean is_w = json_object_has_member (obj, "w");
      g_autofree char *path = hd_test_conformance_path (json_object_get_string_member (obj, is_w ? "w" : "z"));
      g_autoptr(HdNpy) npy = hd_npy_read (path, &error);
      g_assert_no_error (error);
      if (is_w)
        {
          g_assert_cmpuint (npy->n_elements, ==, (gsize) tc->gen->num_ws * tc->gen->config.w_dim);
          tc->params.latent_kind = HD_LATENT_W;
          tc->latent = g_memdup2 (npy->data, sizeof (float) * npy->n_elements);
          tc->params.w = tc->latent;
        }
      else
        {
          g_assert_cmpuint (npy->n_elements, ==, (gsize) tc->gen->config.z_dim);
          tc->params.latent_kind = HD_LATENT_Z;
          tc->latent = g_memdup2 (npy->data, sizeof (float) * npy->n_elements);
          tc->params.z = tc->latent;
        }
      g_ptr_array_add (tc->cli_args, g_strdup (is_w ? "--w" : "--z"));
      g_ptr_array_add (tc->cli_args, g_strdup (path));
    }

  tc->params.psi = (float) json_object_get_double_member (obj, "psi");
  g_ptr_array_add (tc->cli_args, g_strdup ("--psi"));
  g_ptr_array_add (tc->cli_args, g_strdup_printf ("%.9g", tc->params.psi));
  if (cutoff != NULL && !JSON_NODE_HOLDS_NULL (cutoff))
    {
      tc->params.cutoff = (int) json_node_get_int (cutoff);
      g_ptr_array_add (tc->cli_args, g_strdup ("--cutoff"));
      g_ptr_array_add (tc->cli_args, g_strdup_printf ("%d", tc->params.cutoff));
    }
  g_assert_true (hd_noise_mode_from_string (json_object_get_string_member (obj, "noise"),
                                            &tc->params.noise_mode));
  g_ptr_array_add (tc->cli_args, g_strdup ("--noise"));
  g_ptr_array_add (tc->cli_args, g_strdup (json_object_get_string_member (obj, "noise")));

  for (guint i = 0; i < json_array_get_length (domains); i++)
    {
      JsonObject *d = json_array_get_object_element (domains, i);
      g_autofree char *path = hd_test_conformance_path (json_object_get_string_member (d, "path"));
      double weight = json_object_get_double_member (d, "weight");
      g_autoptr(GPtrArray) loaded = hd_domain_load_all (path, &error);

      g_assert_no_error (error);
      for (guint j = 0; j < loaded->len; j++)
        {
          HdBlendTerm term = { .domain = g_ptr_array_index (loaded, j), .weight = (float) weight };
          hd_domain_check (term.domain, tc->gen, NULL, &error);
          g_assert_no_error (error);
          g_ptr_array_add (keep, hd_domain_ref (term.domain));
          g_array_append_val (terms, term);
        }
      g_ptr_array_add (tc->cli_args, g_strdup ("--domain"));
      g_ptr_array_add (tc->cli_args, g_strdup_printf ("%s=%.9g", path, weight));
    }
  if (terms->len > 0)
    {
      tc->domain = g_new0 (float, tc->gen->domain_dim);
      hd_domain_blend (tc->gen, (HdBlendTerm *) terms->data, terms->len, tc->domain);
      tc->params.domain = tc->domain;
    }
  return tc;
}

JsonObject *
hd_test_load_json (JsonParser *parser,
                   const char *relative)
{
  g_autofree char *path = hd_test_conformance_path (relative);
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

double
hd_test_max_abs_diff (const float *a,
                      const float *b,
                      gsize        n)
{
  double max_abs, psnr_db;

  hd_test_compare (a, b, n, &max_abs, &psnr_db);
  return max_abs;
}

HdClip *
hd_test_load_clip (const char *name)
{
  g_autofree char *file = g_strdup_printf ("training/%s", name);
  g_autofree char *path = hd_test_conformance_path (file);
  g_autoptr(GError) error = NULL;
  HdClip *clip = hd_clip_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (clip);
  return clip;
}

HdNpy *
hd_test_load_npy (const char *format,
                  ...)
{
  g_autofree char *relative = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  HdNpy *npy;
  va_list args;

  va_start (args, format);
  relative = g_strdup_vprintf (format, args);
  va_end (args);
  path = hd_test_conformance_path (relative);
  npy = hd_npy_read (path, &error);

  g_assert_no_error (error);
  return npy;
}

GPtrArray *
hd_test_load_conformance_cases (double *max_abs_tolerance,
                                double *min_psnr_db)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = hd_test_conformance_path ("cases.json");
  GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify) test_case_free);
  JsonObject *root, *tolerance;
  JsonArray *list;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  tolerance = json_object_get_object_member (root, "tolerance");
  *max_abs_tolerance = json_object_get_double_member (tolerance, "max_abs");
  *min_psnr_db = json_object_get_double_member (tolerance, "min_psnr_db");
  list = json_object_get_array_member (root, "cases");
  for (guint i = 0; i < json_array_get_length (list); i++)
    g_ptr_array_add (cases, load_case (json_array_get_object_element (list, i)));
  g_assert_cmpuint (cases->len, >=, 8);
  return cases;
}

void
hd_test_check_case (const HdTestCase *tc,
                    const float      *out,
                    double            max_abs_tolerance,
                    double            min_psnr_db,
                    double           *worst_abs,
                    double           *worst_psnr)
{
  double max_abs, psnr;

  hd_test_compare (out, tc->expected->data, tc->expected->n_elements, &max_abs, &psnr);
  g_test_message ("%-28s max abs %.3g  PSNR %.1f dB", tc->name, max_abs, psnr);
  g_assert_cmpfloat (max_abs, <=, max_abs_tolerance);
  g_assert_cmpfloat (psnr, >=, min_psnr_db);
  *worst_abs = MAX (*worst_abs, max_abs);
  *worst_psnr = MIN (*worst_psnr, psnr);
}

void
hd_test_cli_result_clear (HdTestCliResult *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

void
hd_test_run_cli_argv (HdTestCliResult  *r,
                      char            **envp,
                      GPtrArray        *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *exe = g_getenv ("HD_RENDER");
  int wait_status = 0;

  g_assert_nonnull (exe);
  g_ptr_array_add (argv, (char *) exe);
  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, g_ptr_array_index (args, i));
  g_ptr_array_add (argv, NULL);

  memset (r, 0, sizeof *r);
  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (r->status != 0)
    g_test_message ("stderr: %s", r->err);
}

void
hd_test_run_cli (HdTestCliResult *r,
                 const char      *first,
                 ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  hd_test_run_cli_argv (r, NULL, args);
}

void
hd_test_run_cli_timeout (HdTestCliResult *r,
                         guint            seconds,
                         const char      *first,
                         ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const char *exe = g_getenv ("HD_RENDER");
  int wait_status = 0;
  va_list ap;

  g_assert_nonnull (exe);
  g_ptr_array_add (argv, g_find_program_in_path ("timeout"));
  g_assert_nonnull (argv->pdata[0]);
  g_ptr_array_add (argv, g_strdup ("--kill-after=5"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", seconds));
  g_ptr_array_add (argv, g_strdup (exe));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  memset (r, 0, sizeof *r);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (r->status != 0)
    g_test_message ("stderr: %s", r->err);
}

int
hd_test_count_lines (const char *text)
{
  int n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

HdHypernetwork *
hd_test_load_hypernetwork (const char *name)
{
  g_autofree char *file = g_strdup_printf ("text/%s", name);
  g_autofree char *path = hd_test_conformance_path (file);
  g_autoptr(GError) error = NULL;
  HdHypernetwork *hn = hd_hypernetwork_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (hn);
  return hn;
}
