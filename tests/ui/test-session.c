/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The state object: weights, mute and solo, seeds, latents, and the
 * snapshot it hands to the render thread.  No display needed. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "hd-cpu-reference.h"
#include "hd-session.h"
#include "hd-state-files.h"
#include "hd-state-render.h"

static char *
conformance_path (const char *name)
{
  const char *dir = g_getenv ("HD_CONFORMANCE_DIR");

  return g_canonicalize_filename (name, dir != NULL ? dir : "tests/conformance");
}

static HdSession *
session_with_domains (void)
{
  HdSession *session = hd_session_new ();
  g_autofree char *gen_path = conformance_path ("tiny.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (gen_path, &error);
  const char *names[] = { "tiny-domain-a.safetensors", "tiny-domain-b.safetensors", NULL };

  g_assert_no_error (error);
  hd_session_set_generator (session, gen, NULL);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = conformance_path (names[i]);
      g_autoptr(GPtrArray) domains = hd_domain_load_all (path, &error);

      g_assert_no_error (error);
      hd_session_add_domains (session, domains, NULL, &error);
      g_assert_no_error (error);
    }

  return session;
}

static HdDomainItem *
item_at (HdSession *session,
         guint      i)
{
  HdDomainItem *item = g_list_model_get_item (hd_session_get_domains (session), i);

  g_object_unref (item); /* the model keeps it */
  return item;
}

static float
job_weight (HdSession *session,
            guint      i)
{
  g_autoptr(HdRenderJob) job = hd_session_create_job (session);

  return (float) g_array_index (job->state->domains, HdStateDomain, i).weight;
}

static void
count_changes (HdSession *session,
               guint     *count)
{
  (*count)++;
}

static void
test_session_weights (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  guint changes = 0;

  g_signal_connect (session, "changed", G_CALLBACK (count_changes), &changes);

  /* The first domain added is switched on, later ones start at 0. */
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 0)), ==, 1.0);
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 1)), ==, 0.0);

  hd_domain_item_set_weight (item_at (session, 1), 0.5);
  g_assert_cmpuint (changes, ==, 1);
  hd_domain_item_set_weight (item_at (session, 1), 7.0);
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 1)), ==, 2.0);

  hd_domain_item_set_weight (item_at (session, 0), 1.0);
  hd_domain_item_set_weight (item_at (session, 1), 3.0);
  hd_session_normalize_weights (session);
  g_assert_cmpfloat_with_epsilon (hd_domain_item_get_weight (item_at (session, 0)), 1.0 / 3.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (hd_domain_item_get_weight (item_at (session, 1)), 2.0 / 3.0, 1e-9);

  changes = 0;
  hd_session_reset_weights (session);
  g_assert_cmpuint (changes, ==, 1);
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 0)), ==, 0.0);
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 1)), ==, 0.0);

  /* Weights that sum to 0 become equal shares. */
  hd_session_normalize_weights (session);
  g_assert_cmpfloat (hd_domain_item_get_weight (item_at (session, 0)), ==, 0.5);

  hd_session_remove_domain (session, item_at (session, 0));
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 1);
}

static void
test_session_mute_solo (void)
{
  g_autoptr(HdSession) session = session_with_domains ();

  hd_domain_item_set_weight (item_at (session, 0), 0.5);
  hd_domain_item_set_weight (item_at (session, 1), 0.25);
  g_assert_cmpfloat (job_weight (session, 0), ==, 0.5f);
  g_assert_cmpfloat (job_weight (session, 1), ==, 0.25f);

  hd_domain_item_set_muted (item_at (session, 0), TRUE);
  g_assert_cmpfloat (job_weight (session, 0), ==, 0.0f);
  g_assert_cmpfloat (job_weight (session, 1), ==, 0.25f);

  hd_domain_item_set_muted (item_at (session, 0), FALSE);
  hd_domain_item_set_solo (item_at (session, 0), TRUE);
  g_assert_cmpfloat (job_weight (session, 0), ==, 0.5f);
  g_assert_cmpfloat (job_weight (session, 1), ==, 0.0f);

  /* Muting the only solo domain leaves the others heard. */
  hd_domain_item_set_muted (item_at (session, 0), TRUE);
  g_assert_cmpfloat (job_weight (session, 0), ==, 0.0f);
  g_assert_cmpfloat (job_weight (session, 1), ==, 0.25f);
}

static void
test_session_seed (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  guint changes = 0;
  g_autoptr(HdRenderJob) job = NULL;

  g_signal_connect (session, "changed", G_CALLBACK (count_changes), &changes);

  hd_session_step_seed (session, -1);
  g_assert_cmpuint (hd_session_get_seed (session), ==, G_MAXUINT32);
  hd_session_step_seed (session, 1);
  g_assert_cmpuint (hd_session_get_seed (session), ==, 0);
  g_assert_cmpuint (changes, ==, 2);

  hd_session_set_seed (session, 0);
  g_assert_cmpuint (changes, ==, 2);

  g_object_set (session, "cutoff", 8, NULL);
  job = hd_session_create_job (session);
  g_assert_cmpint (job->state->cutoff, ==, -1);
}

static void
test_session_latent (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  g_autofree char *w_path = conformance_path ("tiny-w.npy");
  g_autofree char *z_path = conformance_path ("tiny-z.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNpy) w = hd_npy_read (w_path, &error);
  g_autoptr(HdNpy) z = NULL;
  g_autoptr(HdRenderJob) job = NULL;
  g_autoptr(HdState) state = NULL;
  HdNpy bad = { .n_dims = 1, .shape = { 5 }, .n_elements = 5, .data = (float[5]) { 0 } };

  g_assert_no_error (error);
  g_assert_true (hd_session_set_latent_file (session, w, w_path, &error));
  g_assert_no_error (error);
  job = hd_session_create_job (session);
  g_assert_cmpint (job->state->latent_kind, ==, HD_LATENT_W);
  g_assert_cmpuint (job->state->latent_rows * job->state->latent_cols, ==, 8 * 48);
  state = hd_render_job_to_state (job);
  g_assert_cmpint (state->latent_kind, ==, HD_LATENT_W);
  g_assert_cmpuint (state->latent_rows, ==, 8);
  g_clear_pointer (&job, hd_render_job_unref);

  z = hd_npy_read (z_path, &error);
  g_assert_no_error (error);
  g_assert_true (hd_session_set_latent_file (session, z, z_path, &error));
  job = hd_session_create_job (session);
  g_assert_cmpint (job->state->latent_kind, ==, HD_LATENT_Z);
  g_clear_pointer (&job, hd_render_job_unref);

  /* A latent of the wrong shape is refused and the old one stays. */
  g_assert_false (hd_session_set_latent_file (session, &bad, "bad.npy", &error));
  g_assert_nonnull (error);
  job = hd_session_create_job (session);
  g_assert_cmpint (job->state->latent_kind, ==, HD_LATENT_Z);
  g_clear_pointer (&job, hd_render_job_unref);

  hd_session_clear_latent_file (session);
  job = hd_session_create_job (session);
  g_assert_cmpint (job->state->latent_kind, ==, HD_LATENT_SEED);
}

/* Mixing toward a second seed is a lerp of the untruncated w. */
static void
test_session_mix (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  g_autoptr(HdRenderJob) job = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(HdPreparedRender) prepared = { 0 };
  HdGenerator *gen = hd_session_get_generator (session);
  gsize n = (gsize) gen->num_ws * gen->config.w_dim;
  g_autofree float *a = g_new (float, n);
  g_autofree float *b = g_new (float, n);
  HdRenderParams p;

  g_object_set (session, "seed", 3, "mix-seed", 9, "mix", 0.25, "psi", 0.5, NULL);
  job = hd_session_create_job (session);
  g_assert_true (hd_state_prepare (job->state, gen, job->domains, &prepared, &error));
  g_assert_no_error (error);
  g_assert_cmpint (prepared.params.latent_kind, ==, HD_LATENT_W);
  g_assert_cmpfloat (prepared.params.psi, ==, 0.5f);

  hd_render_params_init (&p);
  p.seed = 3;
  hd_cpu_compute_ws (gen, &p, a, &error);
  p.seed = 9;
  hd_cpu_compute_ws (gen, &p, b, &error);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (prepared.params.w[i], a[i] + 0.25f * (b[i] - a[i]), 1e-5);
  g_assert_nonnull (prepared.domain);
}

static void
test_session_new_generator (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  HdGeneratorConfig config = hd_session_get_generator (session)->config;
  g_autoptr(HdGenerator) other = NULL;
  guint removed = 0;

  config.channel_max = 32;
  other = hd_generator_new_random (&config, 1);
  hd_session_set_generator (session, other, &removed);
  g_assert_cmpuint (removed, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (hd_session_get_domains (session)), ==, 0);
}

static void
assert_same_params (const HdRenderParams *a,
                    const HdRenderParams *b,
                    HdGenerator          *gen)
{
  gsize n_w = (gsize) gen->num_ws * gen->config.w_dim;

  g_assert_cmpint (a->latent_kind, ==, b->latent_kind);
  if (a->latent_kind == HD_LATENT_SEED)
    g_assert_cmpuint (a->seed, ==, b->seed);
  g_assert_true ((a->z == NULL) == (b->z == NULL));
  if (a->z != NULL)
    g_assert_cmpmem (a->z, sizeof (float) * gen->config.z_dim, b->z, sizeof (float) * gen->config.z_dim);
  g_assert_true ((a->w == NULL) == (b->w == NULL));
  if (a->w != NULL)
    g_assert_cmpmem (a->w, sizeof (float) * n_w, b->w, sizeof (float) * n_w);
  g_assert_cmpmem (&a->psi, sizeof a->psi, &b->psi, sizeof b->psi);
  g_assert_cmpint (a->cutoff, ==, b->cutoff);
  g_assert_cmpint (a->noise_mode, ==, b->noise_mode);
  g_assert_cmpuint (a->noise_seed, ==, b->noise_seed);
  g_assert_true ((a->domain == NULL) == (b->domain == NULL));
  if (a->domain != NULL)
    g_assert_cmpmem (a->domain, sizeof (float) * gen->domain_dim, b->domain, sizeof (float) * gen->domain_dim);
  g_assert_cmpint (a->stop_res, ==, b->stop_res);
}

/* The window renders a job's state; the command line (--from-png) and
 * the export dialogs render the state written to a file, read back and
 * with its files opened again.  Both go through hd_state_prepare (): the
 * same parameters, numbers and pixels, mixed latent, muted domain, layer
 * range and W latent file included. */
static void
test_session_job_and_file_agree (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  g_autofree char *w_path = conformance_path ("tiny-w.npy");
  g_autofree char *dir = g_dir_make_tmp ("hd-session-XXXXXX", NULL);
  g_autofree char *state_path = g_build_filename (dir, "state.json", NULL);
  HdGenerator *gen = hd_session_get_generator (session);
  int res = gen->config.img_resolution;
  gsize n_img = (gsize) gen->config.img_channels * res * res;
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNpy) w = hd_npy_read (w_path, &error);

  g_assert_no_error (error);
  hd_domain_item_set_weight (item_at (session, 0), 0.7);
  hd_domain_item_set_weight (item_at (session, 1), -0.35);
  hd_domain_item_set_range (item_at (session, 1), 8, 16);
  g_object_set (session, "seed", 11, "psi", 0.6, "cutoff", 3, "noise-mode", HD_NOISE_RANDOM,
                "noise-seed", 5, NULL);

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(HdRenderJob) job = NULL;
      g_autoptr(HdState) saved = NULL;
      g_autoptr(HdState) read = NULL;
      g_autoptr(HdGenerator) file_gen = NULL;
      g_autoptr(GPtrArray) file_domains = NULL;
      g_auto(HdPreparedRender) from_job = { 0 };
      g_auto(HdPreparedRender) from_file = { 0 };
      g_autofree float *img_job = g_new (float, n_img);
      g_autofree float *img_file = g_new (float, n_img);

      if (round == 1)
        {
          /* Mixed toward a second seed, the second domain muted. */
          g_object_set (session, "mix-seed", 4, "mix", 0.3, NULL);
          hd_domain_item_set_muted (item_at (session, 1), TRUE);
        }
      else if (round == 2)
        {
          g_assert_true (hd_session_set_latent_file (session, w, w_path, &error));
          g_assert_no_error (error);
        }

      job = hd_session_create_job (session);
      g_assert_true (hd_state_prepare (job->state, job->gen, job->domains, &from_job, &error));
      g_assert_no_error (error);

      saved = hd_session_to_state (session);
      g_assert_nonnull (saved);
      g_assert_cmpfloat (saved->mix, ==, 0.0);
      g_assert_true (hd_state_save_file (saved, state_path, &error));
      g_assert_no_error (error);
      read = hd_state_read_any (state_path, &error);
      g_assert_no_error (error);
      g_assert_true (hd_state_open_files (read, state_path, NULL, &file_gen, &file_domains, &error));
      g_assert_no_error (error);
      g_assert_true (hd_state_prepare (read, file_gen, file_domains, &from_file, &error));
      g_assert_no_error (error);

      if (round == 1)
        {
          g_assert_cmpint (read->latent_kind, ==, HD_LATENT_W);
          g_assert_cmpfloat (g_array_index (read->domains, HdStateDomain, 1).weight, ==, 0.0);
        }
      assert_same_params (&from_job.params, &from_file.params, gen);

      g_assert_true (hd_cpu_render (job->gen, &from_job.params, img_job, &error));
      g_assert_no_error (error);
      g_assert_true (hd_cpu_render (file_gen, &from_file.params, img_file, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (img_job, n_img * sizeof (float), img_file, n_img * sizeof (float));
    }

  g_unlink (state_path);
  g_rmdir (dir);
}

/* The undo snapshot holds the session's state with the controls as set:
 * a muted domain keeps its weight there, and restoring it gives back the
 * same state. */
static void
test_session_snapshot_state (void)
{
  g_autoptr(HdSession) session = session_with_domains ();
  g_autoptr(HdSessionSnapshot) before = NULL;
  g_autoptr(HdSessionSnapshot) after = NULL;
  g_autoptr(HdSessionSnapshot) again = NULL;
  g_autoptr(HdRenderJob) job = NULL;
  const HdState *state;

  hd_domain_item_set_weight (item_at (session, 1), 0.25);
  hd_domain_item_set_muted (item_at (session, 1), TRUE);
  g_object_set (session, "seed", 8, "psi", 0.3, "mix-seed", 6, "mix", 0.5, NULL);
  before = hd_session_snapshot (session);
  state = hd_session_snapshot_get_state (before);
  g_assert_cmpuint (state->seed, ==, 8);
  g_assert_cmpfloat (state->psi, ==, 0.3);
  g_assert_cmpuint (state->mix_seed, ==, 6);
  g_assert_cmpfloat (state->mix, ==, 0.5);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 1).weight, ==, 0.25);
  job = hd_session_create_job (session);
  g_assert_cmpfloat (g_array_index (job->state->domains, HdStateDomain, 1).weight, ==, 0.0);

  g_object_set (session, "seed", 9, "psi", 0.9, "mix-seed", 7, "mix", 0.0, NULL);
  hd_domain_item_set_muted (item_at (session, 1), FALSE);
  after = hd_session_snapshot (session);
  g_assert_false (hd_session_snapshot_equal (before, after));

  g_assert_true (hd_session_restore_snapshot (session, before));
  again = hd_session_snapshot (session);
  g_assert_true (hd_session_snapshot_equal (before, again));
  g_assert_true (hd_domain_item_get_muted (item_at (session, 1)));
  g_assert_cmpfloat (hd_session_get_psi (session), ==, 0.3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Session/weights", test_session_weights);
  g_test_add_func ("/Hyperdomain/Session/mute-solo", test_session_mute_solo);
  g_test_add_func ("/Hyperdomain/Session/seed", test_session_seed);
  g_test_add_func ("/Hyperdomain/Session/latent", test_session_latent);
  g_test_add_func ("/Hyperdomain/Session/mix", test_session_mix);
  g_test_add_func ("/Hyperdomain/Session/new-generator", test_session_new_generator);
  g_test_add_func ("/Hyperdomain/Session/job-and-file-agree", test_session_job_and_file_agree);
  g_test_add_func ("/Hyperdomain/Session/snapshot-state", test_session_snapshot_state);

  return g_test_run ();
}
