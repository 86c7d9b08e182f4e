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
#include "hd-state-files.h"
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/Hyperdomain/State/round-trip", test_round_trip);
  g_test_add_func ("/Hyperdomain/State/bad-files", test_bad_files);
  g_test_add_func ("/Hyperdomain/State/kill-during-save", test_kill_during_save);
  return g_test_run ();
}
