/* SPDX-License-Identifier: GPL-3.0-or-later */
/* State files (sessions, presets): round trip, refusal of bad files, and
 * atomic replacement that survives kill -9 half-way through a save. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "hd-error.h"
#include "hd-state.h"
#include "hd-cpu-reference.h"
#include "hd-state-files.h"
#include "hd-state-render.h"
#include "hd-test-util.h"

/* A state whose JSON is large (a W+ latent), so that a save takes long
 * enough for a kill to land in the middle of it. */
static HdState *
make_state (guint32 seed, guint rows)
{
  HdState *state = hd_state_new ();
  HdStateDomain d = { 0 };

  state->generator_path = g_strdup ("/models/gen.safetensors");
  state->generator_name = g_strdup ("Test generator");
  state->latent_kind = HD_LATENT_W;
  state->seed = seed;
  state->latent_rows = rows;
  state->latent_cols = 512;
  state->latent = g_new (float, (gsize) rows * 512);
  for (guint i = 0; i < rows * 512; i++)
    state->latent[i] = (float) seed + (float) i * 0.001f;
  state->psi = 0.7f;
  state->cutoff = 8;
  state->noise_mode = HD_NOISE_RANDOM;
  state->noise_seed = seed * 3;
  d.path = g_strdup ("/models/pack.safetensors");
  d.id = g_strdup ("pixar");
  d.name = g_strdup ("Pixar");
  d.weight = 0.5f;
  d.min_res = 4;
  d.max_res = 32;
  g_array_append_val (state->domains, d);
  return state;
}

static void
test_round_trip (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "preset.json", NULL);
  g_autoptr(HdState) state = make_state (7, 10);
  g_autoptr(HdState) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL;

  g_assert_true (hd_state_save_file (state, path, &error));
  g_assert_no_error (error);
  back = hd_state_load_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  a = hd_state_to_json (state);
  b = hd_state_to_json (back);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpint (back->noise_seed, ==, 21);
  g_assert_cmpint (back->latent_rows, ==, 10);
  g_assert_cmpint (back->domains->len, ==, 1);
  g_assert_cmpint (g_array_index (back->domains, HdStateDomain, 0).max_res, ==, 32);
  hd_test_rmdir_recursive (dir);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bad.json", NULL);
  g_autofree char *ro = g_build_filename (dir, "ro", NULL);
  g_autofree char *ro_file = g_build_filename (ro, "preset.json", NULL);
  g_autoptr(HdState) state = make_state (1, 1);
  g_autoptr(GError) error = NULL;
  HdState *loaded;

  /* Missing. */
  loaded = hd_state_load_file (path, &error);
  g_assert_null (loaded);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "bad.json"));
  g_clear_error (&error);

  /* Not JSON. */
  g_assert_true (g_file_set_contents (path, "{ \"version\": 1, ", -1, NULL));
  loaded = hd_state_load_file (path, &error);
  g_assert_null (loaded);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "bad.json"));
  g_clear_error (&error);

  /* Binary. */
  g_assert_true (g_file_set_contents (path, "{\0}", 3, NULL));
  loaded = hd_state_load_file (path, &error);
  g_assert_null (loaded);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_clear_error (&error);

  /* A folder. */
  loaded = hd_state_load_file (dir, &error);
  g_assert_null (loaded);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "it is a folder, not a regular file"));
  g_clear_error (&error);
  loaded = hd_state_read_any (dir, &error);
  g_assert_null (loaded);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "it is a folder, not a regular file"));
  g_clear_error (&error);

  /* A FIFO without a writer, as a preset, a session or an exported PNG:
   * refused at once, not waited on. */
  {
    g_autofree char *fifo = hd_test_make_fifo (dir, "fifo.json");
    g_autofree char *fifo_png = hd_test_make_fifo (dir, "fifo.png");

    hd_test_hang_guard (10);
    loaded = hd_state_load_file (fifo, &error);
    g_assert_null (loaded);
    g_assert_error (error, HD_ERROR, HD_ERROR_IO);
    g_assert_nonnull (strstr (error->message, fifo));
    g_assert_nonnull (strstr (error->message, "it is a named pipe (FIFO), not a regular file"));
    g_clear_error (&error);
    for (guint i = 0; i < 2; i++)
      {
        const char *special = i == 0 ? fifo : fifo_png;

        loaded = hd_state_read_any (special, &error);
        g_assert_null (loaded);
        g_assert_error (error, HD_ERROR, HD_ERROR_IO);
        g_assert_nonnull (strstr (error->message, special));
        g_assert_nonnull (strstr (error->message, "it is a named pipe (FIFO), not a regular file"));
        g_clear_error (&error);
      }
    hd_test_hang_guard (0);
  }

  /* An unwritable folder: a clear message, nothing left behind. */
  g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
  if (access (ro, W_OK) == 0)
    {
      g_test_message ("running as root: skipping the read-only folder case");
    }
  else
    {
      g_assert_false (hd_state_save_file (state, ro_file, &error));
      g_assert_error (error, HD_ERROR, HD_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "preset.json"));
      g_clear_error (&error);
    }
  g_chmod (ro, 0755);
  hd_test_rmdir_recursive (dir);
}

/* A child saves states A and B alternately, as fast as it can; it is
 * killed with SIGKILL at a random moment. The file must then hold all of A
 * or all of B, and no temporary file may stay behind as the file. */
static void
test_kill_during_save (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "session.json", NULL);
  g_autoptr(HdState) a = make_state (11, 18);
  g_autoptr(HdState) b = make_state (22, 18);
  g_autofree char *json_a = hd_state_to_json (a);
  g_autofree char *json_b = hd_state_to_json (b);
  int kills = 0;

  g_assert_true (hd_state_save_file (a, path, NULL));

  for (int round = 0; round < 20; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdState) back = NULL;
      g_autofree char *json = NULL;
      int status = 0;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          for (guint i = 0;; i++)
            if (!hd_state_save_file (i % 2 ? a : b, path, NULL))
              _exit (3);
        }
      g_usleep (g_random_int_range (2000, 30000));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      kills++;

      back = hd_state_load_file (path, &error);
      g_assert_no_error (error);
      json = hd_state_to_json (back);
      g_assert_true (g_str_equal (json, json_a) || g_str_equal (json, json_b));
    }
  g_test_message ("%d saves killed, the file was whole every time", kills);
  hd_test_rmdir_recursive (dir);
}

/* A copy is equal; a change to any field makes a state unequal. */
static void
test_copy_equal (void)
{
  g_autoptr(HdState) state = make_state (5, 3);
  g_autoptr(HdState) copy = hd_state_copy (state);

  g_assert_true (hd_state_equal (state, copy));
  copy->latent[7] += 1.0f;
  g_assert_false (hd_state_equal (state, copy));
  copy->latent[7] = state->latent[7];
  copy->mix_seed = 3;
  g_assert_false (hd_state_equal (state, copy));
  copy->mix_seed = 0;
  g_array_index (copy->domains, HdStateDomain, 0).min_res = 8;
  g_assert_false (hd_state_equal (state, copy));
  g_array_index (copy->domains, HdStateDomain, 0).min_res = 4;
  g_assert_true (hd_state_equal (state, copy));

  hd_state_use_seed (copy, 9);
  g_assert_cmpint (copy->latent_kind, ==, HD_LATENT_SEED);
  g_assert_null (copy->latent);
  g_assert_false (hd_state_equal (state, copy));
}

static HdDomain *
load_domain (const char *name)
{
  g_autofree char *path = hd_test_conformance_path (name);
  g_autoptr(GError) error = NULL;
  HdDomain *domain = hd_state_load_domain (path, NULL, &error);

  g_assert_no_error (error);
  return domain;
}

/* hd_state_prepare: the parameters of a state, its domains blended as
 * hd_domain_blend does, a mix lerped in w; and the same parameters for
 * the flattened state a file carries. */
static void
test_prepare (void)
{
  g_autofree char *gen_path = hd_test_conformance_path ("tiny.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (gen_path, &error);
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(HdState) flat = NULL;
  g_autoptr(HdState) bad = NULL;
  g_auto(HdPreparedRender) prepared = { 0 };
  g_auto(HdPreparedRender) flat_prepared = { 0 };
  g_auto(HdPreparedRender) failed = { 0 };
  gsize n_w;
  g_autofree float *expected_d = NULL;
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  HdBlendTerm terms[2];
  HdRenderParams p;

  g_assert_no_error (error);
  n_w = (gsize) gen->num_ws * gen->config.w_dim;
  g_ptr_array_add (domains, load_domain ("tiny-domain-a.safetensors"));
  g_ptr_array_add (domains, load_domain ("tiny-domain-b.safetensors"));
  state->generator_path = g_strdup (gen->path);
  state->seed = 12;
  state->psi = 0.6;
  state->cutoff = 2;
  state->noise_mode = HD_NOISE_RANDOM;
  state->noise_seed = 77;
  hd_state_add_domain (state, g_ptr_array_index (domains, 0), 0.8, 0, 0);
  hd_state_add_domain (state, g_ptr_array_index (domains, 1), -0.4, 8, 16);

  g_assert_true (hd_state_prepare (state, gen, domains, &prepared, &error));
  g_assert_no_error (error);
  g_assert_cmpint (prepared.params.latent_kind, ==, HD_LATENT_SEED);
  g_assert_cmpuint (prepared.params.seed, ==, 12);
  g_assert_cmpfloat (prepared.params.psi, ==, 0.6f);
  g_assert_cmpint (prepared.params.cutoff, ==, 2);
  g_assert_cmpint (prepared.params.noise_mode, ==, HD_NOISE_RANDOM);
  g_assert_cmpuint (prepared.params.noise_seed, ==, 77);
  g_assert_cmpint (prepared.params.stop_res, ==, 0);
  g_assert_null (prepared.ws);
  terms[0] = (HdBlendTerm) { g_ptr_array_index (domains, 0), 0.8f, 0, 0 };
  terms[1] = (HdBlendTerm) { g_ptr_array_index (domains, 1), -0.4f, 8, 16 };
  expected_d = g_new0 (float, gen->domain_dim);
  hd_domain_blend (gen, terms, 2, expected_d);
  g_assert_cmpmem (prepared.params.domain, gen->domain_dim * sizeof (float),
                   expected_d, gen->domain_dim * sizeof (float));
  g_assert_null (prepared.params.style_alpha);
  g_assert_null (prepared.params.style_sum);
  hd_prepared_render_clear (&prepared);

  /* A domain with style latents: blended as hd_domain_blend_style does. */
  {
    HdDomain *image = g_ptr_array_index (domains, 1);
    int rows = gen->num_ws - 6;
    g_autofree float *style = g_new (float, (gsize) rows * gen->config.w_dim);
    g_autofree float *alpha = g_new (float, gen->num_ws);
    g_autofree float *sum = g_new (float, n_w);

    for (gsize i = 0; i < (gsize) rows * gen->config.w_dim; i++)
      style[i] = (float) i / 100.0f - 1.0f;
    hd_domain_set_style (image, 6, rows, gen->config.w_dim, style);
    g_assert_true (hd_state_prepare (state, gen, domains, &prepared, &error));
    g_assert_no_error (error);
    g_assert_true (hd_domain_blend_style (gen, terms, 2, alpha, sum));
    g_assert_true (prepared.params.style_alpha == prepared.style_alpha);
    g_assert_cmpmem (prepared.params.style_alpha, gen->num_ws * sizeof (float),
                     alpha, gen->num_ws * sizeof (float));
    g_assert_cmpmem (prepared.params.style_sum, n_w * sizeof (float), sum, n_w * sizeof (float));
    hd_prepared_render_clear (&prepared);
    g_assert_null (prepared.style_alpha);
    g_clear_pointer (&image->style_w, g_free);
    image->style_from = -1;
  }

  /* Mixed: the untruncated w of both seeds, lerped. */
  state->mix_seed = 3;
  state->mix = 0.25;
  g_assert_true (hd_state_prepare (state, gen, domains, &prepared, &error));
  g_assert_no_error (error);
  g_assert_cmpint (prepared.params.latent_kind, ==, HD_LATENT_W);
  g_assert_true (prepared.params.w == prepared.ws);
  a = g_new (float, n_w);
  b = g_new (float, n_w);
  hd_render_params_init (&p);
  p.seed = 12;
  g_assert_true (hd_cpu_compute_ws (gen, &p, a, &error));
  p.seed = 3;
  g_assert_true (hd_cpu_compute_ws (gen, &p, b, &error));
  for (gsize i = 0; i < n_w; i++)
    g_assert_cmpfloat (prepared.ws[i], ==, a[i] + 0.25f * (b[i] - a[i]));

  /* The file's form: a W latent, no mix, the same parameters. */
  flat = hd_state_flatten (state, gen, &error);
  g_assert_no_error (error);
  g_assert_cmpint (flat->latent_kind, ==, HD_LATENT_W);
  g_assert_cmpfloat (flat->mix, ==, 0.0);
  g_assert_true (hd_state_prepare (flat, gen, domains, &flat_prepared, &error));
  g_assert_cmpmem (flat_prepared.params.w, n_w * sizeof (float), prepared.params.w, n_w * sizeof (float));
  g_assert_cmpmem (flat_prepared.params.domain, gen->domain_dim * sizeof (float),
                   prepared.params.domain, gen->domain_dim * sizeof (float));

  /* What does not fit the generator is refused with a message. */
  bad = hd_state_copy (flat);
  bad->latent_rows = 1;
  g_assert_false (hd_state_prepare (bad, gen, domains, &failed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_clear_error (&error);
  hd_prepared_render_clear (&failed);
  bad->latent_rows = flat->latent_rows;
  bad->cutoff = gen->num_ws + 1;
  g_assert_false (hd_state_prepare (bad, gen, domains, &failed, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/State/round-trip", test_round_trip);
  g_test_add_func ("/Hyperdomain/State/bad-files", test_bad_files);
  g_test_add_func ("/Hyperdomain/State/kill-during-save", test_kill_during_save);
  g_test_add_func ("/Hyperdomain/State/copy-equal", test_copy_equal);
  g_test_add_func ("/Hyperdomain/State/prepare", test_prepare);
  return g_test_run ();
}
