/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render's modes that start from saved states: --from-png
 * (and state files), contact sheets and blend animations. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hd-latent.h"
#include "hd-png.h"
#include "hd-state.h"
#include "hd-test-util.h"

static HdNpy *
read_npy (const char *path)
{
  g_autoptr(GError) error = NULL;
  HdNpy *npy = hd_npy_read (path, &error);

  g_assert_no_error (error);
  return npy;
}

static void
assert_same_npy (const char *a,
                 const char *b)
{
  g_autoptr(HdNpy) na = read_npy (a);
  g_autoptr(HdNpy) nb = read_npy (b);

  g_assert_cmpuint (na->n_elements, ==, nb->n_elements);
  g_assert_cmpmem (na->data, na->n_elements * sizeof (float), nb->data, nb->n_elements * sizeof (float));
}

static gboolean
same_npy (const char *a,
          const char *b)
{
  g_autoptr(HdNpy) na = read_npy (a);
  g_autoptr(HdNpy) nb = read_npy (b);

  return na->n_elements == nb->n_elements &&
         memcmp (na->data, nb->data, na->n_elements * sizeof (float)) == 0;
}

/* An exported PNG re-renders to the same numbers, with the latent, psi,
 * cutoff, noise, weights and layer ranges it carries. */
static void
test_from_png (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *tiny = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_test_conformance_path ("tiny-domain-b.safetensors");
  g_autofree char *arg_a = g_strdup_printf ("--domain=%s=0.75", dom_a);
  g_autofree char *arg_b = g_strdup_printf ("--domain=%s=-0.5", dom_b);
  g_autofree char *png = g_build_filename (dir, "a.png", NULL);
  g_autofree char *npy = g_build_filename (dir, "a.npy", NULL);
  g_autofree char *again_npy = g_build_filename (dir, "again.npy", NULL);
  g_autofree char *again_png = g_build_filename (dir, "again.png", NULL);
  g_autofree char *seeds_pattern = g_build_filename (dir, "s%d.npy", NULL);
  g_autofree char *s5 = g_build_filename (dir, "s5.npy", NULL);
  g_autofree char *direct5 = g_build_filename (dir, "direct5.npy", NULL);
  g_autofree char *json = NULL;
  g_autofree char *json_again = NULL;
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_auto(HdTestCliResult) r4 = { 0 };
  g_auto(HdTestCliResult) r5 = { 0 };
  g_auto(HdTestCliResult) r6 = { 0 };
  g_autoptr(GError) error = NULL;

  hd_test_run_cli (&r1, "--model", tiny, "--seed", "3", "--psi", "0.7", "--cutoff", "4",
           "--noise", "random", "--noise-seed", "9", arg_a, arg_b, "-o", png, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", tiny, "--seed", "3", "--psi", "0.7", "--cutoff", "4",
           "--noise", "random", "--noise-seed", "9", arg_a, arg_b, "-o", npy, NULL);
  g_assert_cmpint (r2.status, ==, 0);

  hd_test_run_cli (&r3, "--from-png", png, "-o", again_npy, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  assert_same_npy (npy, again_npy);

  /* The PNG written again carries the same state. */
  hd_test_run_cli (&r4, "--from-png", png, "-o", again_png, NULL);
  g_assert_cmpint (r4.status, ==, 0);
  json = hd_png_read_metadata (png, &error);
  g_assert_no_error (error);
  json_again = hd_png_read_metadata (again_png, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json, ==, json_again);

  /* --seeds replaces the latent and keeps the rest. */
  hd_test_run_cli (&r5, "--from-png", png, "--seeds", "4,5", "-o", seeds_pattern, NULL);
  g_assert_cmpint (r5.status, ==, 0);
  hd_test_run_cli (&r6, "--model", tiny, "--seed", "5", "--psi", "0.7", "--cutoff", "4",
           "--noise", "random", "--noise-seed", "9", arg_a, arg_b, "-o", direct5, NULL);
  g_assert_cmpint (r6.status, ==, 0);
  assert_same_npy (s5, direct5);

  hd_test_rmdir_recursive (dir);
}

/* A state file with ranges and a W latent; moved files are found next to
 * it; missing ones are named. */
static void
test_from_state_file (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *tiny = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *moved_gen = g_build_filename (dir, "tiny.safetensors", NULL);
  g_autofree char *moved_dom = g_build_filename (dir, "tiny-domain-a.safetensors", NULL);
  g_autofree char *state_path = g_build_filename (dir, "preset.json", NULL);
  g_autofree char *ranged = g_build_filename (dir, "ranged.npy", NULL);
  g_autofree char *full = g_build_filename (dir, "full.npy", NULL);
  g_autofree char *out = g_build_filename (dir, "out.npy", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(GError) error = NULL;
  HdStateDomain d = { 0 };
  gsize len;
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_auto(HdTestCliResult) r4 = { 0 };
  g_auto(HdTestCliResult) r5 = { 0 };

  /* Copies of the files, recorded at paths that do not exist. */
  g_assert_true (g_file_get_contents (tiny, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (moved_gen, contents, len, NULL));
  g_free (contents);
  g_assert_true (g_file_get_contents (dom_a, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (moved_dom, contents, len, NULL));

  state->generator_path = g_strdup ("/nonexistent/models/tiny.safetensors");
  state->seed = 11;
  d.path = g_strdup ("/nonexistent/domains/tiny-domain-a.safetensors");
  d.name = g_strdup ("Domain A");
  d.weight = 1.0f;
  d.min_res = 0;
  d.max_res = 8;
  g_array_append_val (state->domains, d);
  g_assert_true (hd_state_save_file (state, state_path, &error));
  g_assert_no_error (error);

  hd_test_run_cli (&r1, "--from-png", state_path, "-o", ranged, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", tiny, "--seed", "11",
           "--domain", dom_a, "-o", full, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  /* The range changes the image. */
  g_assert_false (same_npy (ranged, full));

  /* Every layer: the same as the plain command. */
  g_array_index (state->domains, HdStateDomain, 0).max_res = 0;
  g_assert_true (hd_state_save_file (state, state_path, &error));
  hd_test_run_cli (&r3, "--from-png", state_path, "-o", out, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  assert_same_npy (out, full);

  /* A missing domain is named. */
  g_assert_cmpint (g_unlink (moved_dom), ==, 0);
  hd_test_run_cli (&r4, "--from-png", state_path, "-o", out, NULL);
  g_assert_cmpint (r4.status, ==, 1);
  g_assert_nonnull (strstr (r4.err, "tiny-domain-a.safetensors"));
  g_assert_cmpint (hd_test_count_lines (r4.err), ==, 1);

  /* Options the state decides are refused. */
  hd_test_run_cli (&r5, "--from-png", state_path, "--psi", "0.5", "-o", out, NULL);
  g_assert_cmpint (r5.status, ==, 2);
  g_assert_nonnull (strstr (r5.err, "--from-png"));

  hd_test_rmdir_recursive (dir);
}

/* --contact-sheet: the grid and its cells; a cell re-renders from its own
 * metadata; a sweep; bad arguments. */
static void
test_contact_sheet (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *tiny = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_test_conformance_path ("tiny-domain-b.safetensors");
  g_autofree char *arg_a = g_strdup_printf ("--domain=%s=0.5", dom_a);
  g_autofree char *arg_b = g_strdup_printf ("--domain=%s=0", dom_b);
  g_autofree char *sheet = g_build_filename (dir, "sheet.png", NULL);
  g_autofree char *sheet_again = g_build_filename (dir, "sheet-again.png", NULL);
  g_autofree char *sweep = g_build_filename (dir, "sweep.png", NULL);
  g_autofree char *cells = g_build_filename (dir, "cells", NULL);
  g_autofree char *cell = g_build_filename (cells, "seed0000000003-col02.png", NULL);
  g_autofree char *cell_npy = g_build_filename (dir, "cell.npy", NULL);
  g_autofree char *direct_npy = g_build_filename (dir, "direct.npy", NULL);
  g_autofree char *arg_b1 = g_strdup_printf ("--domain=%s=1", dom_b);
  g_autofree char *arg_a0 = g_strdup_printf ("--domain=%s=0", dom_a);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = NULL;
  g_autofree char *json = NULL;
  g_autoptr(HdState) state = NULL;
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_auto(HdTestCliResult) r4 = { 0 };
  g_auto(HdTestCliResult) r5 = { 0 };
  g_auto(HdTestCliResult) r6 = { 0 };
  g_auto(HdTestCliResult) r7 = { 0 };
  g_autofree char *bytes = NULL;
  g_autofree char *bytes_again = NULL;
  gsize len, len_again;
  guint n = 0;

  hd_test_run_cli (&r1, "--model", tiny, arg_a, arg_b, "--contact-sheet", "--seeds", "2,3",
           "--sheet-cells", cells, "-o", sheet, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  json = hd_png_read_metadata (sheet, &error);
  g_assert_no_error (error);
  d = g_dir_open (cells, 0, &error);
  g_assert_no_error (error);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 2 * 3);

  /* The same sheet, labels included, byte for byte when made again. */
  hd_test_run_cli (&r7, "--model", tiny, arg_a, arg_b, "--contact-sheet", "--seeds", "2,3",
           "-o", sheet_again, NULL);
  g_assert_cmpint (r7.status, ==, 0);
  g_assert_true (g_file_get_contents (sheet, &bytes, &len, NULL));
  g_assert_true (g_file_get_contents (sheet_again, &bytes_again, &len_again, NULL));
  g_assert_cmpmem (bytes, len, bytes_again, len_again);

  /* Column 2 is domain B alone at weight 1, on seed 3. */
  g_free (json);
  json = hd_png_read_metadata (cell, &error);
  g_assert_no_error (error);
  state = hd_state_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (state->seed, ==, 3);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 0).weight, ==, 0.0f);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 1).weight, ==, 1.0f);
  hd_test_run_cli (&r2, "--from-png", cell, "-o", cell_npy, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  hd_test_run_cli (&r3, "--model", tiny, arg_a0, arg_b1, "--seed", "3", "-o", direct_npy, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  assert_same_npy (cell_npy, direct_npy);

  /* A sweep from a saved state. */
  hd_test_run_cli (&r4, "--from-png", cell, "--contact-sheet", "--seeds", "0-1",
           "--sheet-sweep", "1:0:1:3", "-o", sweep, NULL);
  g_assert_cmpint (r4.status, ==, 0);
  g_assert_true (g_file_test (sweep, G_FILE_TEST_EXISTS));

  hd_test_run_cli (&r5, "--model", tiny, arg_a, "--contact-sheet", "--seeds", "0-1",
           "--sheet-sweep", "3:0:1:3", "-o", sweep, NULL);
  g_assert_cmpint (r5.status, ==, 2);
  g_assert_nonnull (strstr (r5.err, "domain 3"));
  hd_test_run_cli (&r6, "--model", tiny, arg_a, "--contact-sheet", "--seeds", "0-1",
           "--sheet-sweep", "1:0:1", "-o", sweep, NULL);
  g_assert_cmpint (r6.status, ==, 2);
  g_assert_nonnull (strstr (r6.err, "I:FROM:TO:STEPS"));

  hd_test_rmdir_recursive (dir);
}

static gboolean
same_file (const char *a,
           const char *b)
{
  g_autofree char *ca = NULL;
  g_autofree char *cb = NULL;
  gsize la, lb;

  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  return la == lb && memcmp (ca, cb, la) == 0;
}

/* --animate: the frames between keyframes; each frame re-renders from its
 * own metadata to the same file. */
static void
test_animation (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *tiny = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dom_a = hd_test_conformance_path ("tiny-domain-a.safetensors");
  g_autofree char *dom_b = hd_test_conformance_path ("tiny-domain-b.safetensors");
  g_autofree char *arg_a = g_strdup_printf ("--domain=%s=1", dom_a);
  g_autofree char *arg_b = g_strdup_printf ("--domain=%s=0.75", dom_b);
  g_autofree char *k1 = g_build_filename (dir, "k1.png", NULL);
  g_autofree char *k2 = g_build_filename (dir, "k2.png", NULL);
  g_autofree char *pattern = g_build_filename (dir, "frames", "%03d.png", NULL);
  g_autofree char *loop_pattern = g_build_filename (dir, "loop", "%03d.png", NULL);
  g_autofree char *frame0 = g_build_filename (dir, "frames", "000.png", NULL);
  g_autofree char *frame3 = g_build_filename (dir, "frames", "003.png", NULL);
  g_autofree char *frame6 = g_build_filename (dir, "frames", "006.png", NULL);
  g_autofree char *frame7 = g_build_filename (dir, "frames", "007.png", NULL);
  g_autofree char *again = g_build_filename (dir, "again.png", NULL);
  g_autofree char *loop5 = g_build_filename (dir, "loop", "005.png", NULL);
  g_autofree char *loop6 = g_build_filename (dir, "loop", "006.png", NULL);
  g_autofree char *json = NULL;
  g_autoptr(HdState) state = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(HdTestCliResult) r1 = { 0 };
  g_auto(HdTestCliResult) r2 = { 0 };
  g_auto(HdTestCliResult) r3 = { 0 };
  g_auto(HdTestCliResult) r4 = { 0 };
  g_auto(HdTestCliResult) r5 = { 0 };
  g_auto(HdTestCliResult) r6 = { 0 };
  g_auto(HdTestCliResult) r7 = { 0 };

  hd_test_run_cli (&r1, "--model", tiny, "--seed", "1", arg_a, "-o", k1, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  hd_test_run_cli (&r2, "--model", tiny, "--seed", "2", "--psi", "0.5", arg_b, "-o", k2, NULL);
  g_assert_cmpint (r2.status, ==, 0);

  hd_test_run_cli (&r3, "--animate", k1, "--animate", k2, "--frames", "6", "-o", pattern, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_true (g_file_test (frame6, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (frame7, G_FILE_TEST_EXISTS));

  /* Halfway: half of each weight, psi between. */
  json = hd_png_read_metadata (frame3, &error);
  g_assert_no_error (error);
  state = hd_state_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (state->latent_kind, ==, HD_LATENT_W);
  g_assert_cmpfloat (state->psi, ==, 0.75f);
  g_assert_cmpuint (state->domains->len, ==, 2);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 0).weight, ==, 0.5f);
  g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, 1).weight, ==, 0.375f);

  /* A frame is the image of its own state. */
  hd_test_run_cli (&r4, "--from-png", frame3, "-o", again, NULL);
  g_assert_cmpint (r4.status, ==, 0);
  g_assert_true (same_file (frame3, again));
  g_assert_false (same_file (frame0, frame3));

  /* A loop with easing: 12 frames, the last on the way back. */
  hd_test_run_cli (&r5, "--animate", k1, "--animate", k2, "--frames", "6", "--ease", "--loop",
           "-o", loop_pattern, NULL);
  g_assert_cmpint (r5.status, ==, 0);
  {
    g_autofree char *loop11 = g_build_filename (dir, "loop", "011.png", NULL);
    g_autofree char *loop12 = g_build_filename (dir, "loop", "012.png", NULL);

    g_assert_true (g_file_test (loop11, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (loop12, G_FILE_TEST_EXISTS));
  }
  /* Frame 6 of the loop is the second keyframe, as frame 6 of the open path. */
  g_assert_true (same_file (loop6, frame6));
  g_assert_false (same_file (loop5, frame6));

  /* Bad: one keyframe; no pattern. */
  hd_test_run_cli (&r6, "--animate", k1, "-o", pattern, NULL);
  g_assert_cmpint (r6.status, ==, 2);
  g_assert_nonnull (strstr (r6.err, "two keyframes"));
  hd_test_run_cli (&r7, "--animate", k1, "--animate", k2, "-o", again, NULL);
  g_assert_cmpint (r7.status, ==, 2);
  g_assert_nonnull (strstr (r7.err, "pattern"));

  hd_test_rmdir_recursive (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/CliTools/from-png", test_from_png);
  g_test_add_func ("/Hyperdomain/CliTools/from-state-file", test_from_state_file);
  g_test_add_func ("/Hyperdomain/CliTools/contact-sheet", test_contact_sheet);
  g_test_add_func ("/Hyperdomain/CliTools/animation", test_animation);

  return g_test_run ();
}
