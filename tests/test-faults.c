/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GPU faults injected through HYPERDOMAIN_FAULT (hd-vk.h): out of device
 * memory at every allocation of loading a generator, and a device lost in
 * the middle of rendering.  Each case runs in a child process, as a fault
 * plan is read once per process; the parent never touches Vulkan, so it can
 * set the environment variable for the child safely.  The CLI cases check
 * the exit status, the message and that no half-written output is left. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "hd-error.h"
#include "hd-generator.h"
#include "hd-latent.h"
#include "hd-png.h"
#include "hd-renderer.h"
#include "hd-state.h"
#include "hd-test-util.h"
#include "hd-trainer.h"
#include "hd-vk.h"

/* The most allocations a renderer of the tiny generator may make. */
#define MAX_ALLOCATIONS 400

static float *
render_seed (HdRenderer *renderer,
             guint32     seed,
             gsize      *n_floats,
             GError    **error)
{
  HdGenerator *gen = hd_renderer_get_generator (renderer);
  int res = gen->config.img_resolution;
  gsize n = (gsize) gen->config.img_channels * res * res;
  g_autofree float *img = g_new0 (float, n);
  HdRenderParams params;

  hd_render_params_init (&params);
  params.seed = seed;
  if (!hd_renderer_render (renderer, &params, img, error))
    return NULL;
  *n_floats = n;
  return g_steal_pointer (&img);
}

static char *
checksum (const float *img,
          gsize        n)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) img, n * sizeof (float));
}

/* Child: HYPERDOMAIN_FAULT=oom-at-load=N.  Writes "fired" or "not fired"
 * and the checksum of seed 7 rendered afterwards to $HD_FAULT_RESULT. */
static void
oom_child (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = hd_vk_context_new ("cpu", &error);
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree float *img = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *result = NULL;
  const char *fired;
  HdRenderStats stats;
  guint64 n_allocations = 1;
  gsize n = 0;

  g_assert_no_error (error);
  renderer = hd_renderer_new (ctx, gen, &error);
  if (renderer == NULL)
    {
      g_assert_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY);
      g_assert_nonnull (strstr (error->message, "out of device memory"));
      g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 1);
      /* Every buffer made before the failure was released. */
      g_assert_cmpuint (hd_vk_context_get_allocated_bytes (ctx, &n_allocations), ==, 0);
      g_assert_cmpuint (n_allocations, ==, 0);
      g_clear_error (&error);
      fired = "fired";
      /* The failed load freed everything; the same device loads it now. */
      renderer = hd_renderer_new (ctx, gen, &error);
      g_assert_no_error (error);
    }
  else
    {
      g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 0);
      fired = "not fired";
    }
  img = render_seed (renderer, 7, &n, &error);
  g_assert_no_error (error);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_cmpuint (stats.device_bytes, >, 0);
  sum = checksum (img, n);
  result = g_strdup_printf ("%s\nframe %s bytes %" G_GUINT64_FORMAT "\n",
                            fired, sum, stats.device_bytes);
  g_assert_true (g_file_set_contents (g_getenv ("HD_FAULT_RESULT"), result, -1, NULL));
}

static char *
child_line (const char *out,
            const char *prefix)
{
  const char *p = strstr (out, prefix);
  const char *end;

  g_assert_nonnull (p);
  end = strchr (p, '\n');
  return g_strndup (p, end != NULL ? (gsize) (end - p) : strlen (p));
}

/* Runs this test again in a child with HYPERDOMAIN_FAULT=SPEC (its
 * stderr shown); the caller asserts how the child ended. */
static void
trap_with_fault (const char *spec)
{
  g_setenv ("HYPERDOMAIN_FAULT", spec, TRUE);
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("HYPERDOMAIN_FAULT");
}

/* A child with HYPERDOMAIN_FAULT=oom-at-load=N, which must pass and write
 * its result to RESULT ($HD_FAULT_RESULT, set by the caller): that
 * result. */
static char *
oom_child_result (guint       n,
                  const char *result)
{
  g_autofree char *spec = g_strdup_printf ("oom-at-load=%u", n);
  char *out = NULL;

  g_unlink (result);
  trap_with_fault (spec);
  g_test_trap_assert_passed ();
  g_assert_true (g_file_get_contents (result, &out, NULL, NULL));
  return out;
}

/* Every device allocation of loading a generator fails once: each time,
 * a clean HD_ERROR_OUT_OF_MEMORY, and the next load renders the same
 * pixels with the same device memory as a load without a fault. */
static void
test_oom_at_load (void)
{
  g_autofree char *expected = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *result = NULL;
  guint fired = 0, n;

  if (g_test_subprocess ())
    {
      oom_child ();
      return;
    }

  dir = hd_test_make_tmpdir ();
  result = g_build_filename (dir, "result", NULL);
  g_setenv ("HD_FAULT_RESULT", result, TRUE);
  for (n = 1; n <= MAX_ALLOCATIONS; n++)
    {
      g_autofree char *out = oom_child_result (n, result);
      g_autofree char *frame = NULL;

      frame = child_line (out, "frame ");
      if (expected == NULL)
        expected = g_strdup (frame);
      g_assert_cmpstr (frame, ==, expected);
      if (strstr (out, "not fired") != NULL)
        break;
      fired++;
    }
  g_unsetenv ("HD_FAULT_RESULT");
  hd_test_rmdir_recursive (dir);
  g_test_message ("out of memory injected at each of %u device allocations", fired);
  g_assert_cmpuint (n, <=, MAX_ALLOCATIONS);
  /* The tiny generator has a few dozen buffers. */
  g_assert_cmpuint (fired, >=, 10);
}

/* Child: HYPERDOMAIN_FAULT=device-lost-after=3. */
static void
device_lost_child (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GError) error = NULL;
  HdVkContext *ctx = hd_vk_context_new ("cpu", &error);
  HdRenderer *renderer;
  g_autofree float *before = NULL;
  g_autofree float *after = NULL;
  g_autofree float *next = NULL;
  HdRenderStats stats;
  guint64 device_bytes;
  gsize n = 0;

  g_assert_no_error (error);
  renderer = hd_renderer_new (ctx, gen, &error);
  g_assert_no_error (error);
  for (guint32 seed = 0; seed < 3; seed++)
    {
      g_free (before);
      before = render_seed (renderer, seed, &n, &error);
      g_assert_no_error (error);
    }
  hd_renderer_get_stats (renderer, &stats);
  device_bytes = stats.device_bytes;

  /* The fourth frame loses the device, and it stays lost. */
  g_assert_null (render_seed (renderer, 3, &n, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_DEVICE_LOST);
  g_assert_nonnull (strstr (error->message, "VK_ERROR_DEVICE_LOST"));
  g_clear_error (&error);
  g_assert_null (render_seed (renderer, 2, &n, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_DEVICE_LOST);
  g_clear_error (&error);
  g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 1);

  /* Recovery: a new device and renderer give the same pixels.  Freeing
   * the renderer of the lost device releases all its memory. */
  hd_renderer_free (renderer);
  g_assert_cmpuint (hd_vk_context_get_allocated_bytes (ctx, NULL), ==, 0);
  hd_vk_context_unref (ctx);
  ctx = hd_vk_context_new ("cpu", &error);
  g_assert_no_error (error);
  renderer = hd_renderer_new (ctx, gen, &error);
  g_assert_no_error (error);
  after = render_seed (renderer, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (before, n * sizeof (float), after, n * sizeof (float));
  next = render_seed (renderer, 3, &n, &error);
  g_assert_no_error (error);
  hd_renderer_get_stats (renderer, &stats);
  g_assert_cmpuint (stats.device_bytes, ==, device_bytes);
  g_assert_cmpuint (hd_vk_get_faults_injected (), ==, 1);
  hd_renderer_free (renderer);
  hd_vk_context_unref (ctx);
}

static void
test_device_lost (void)
{
  if (g_test_subprocess ())
    {
      device_lost_child ();
      return;
    }
  trap_with_fault ("device-lost-after=3");
  g_test_trap_assert_passed ();
}

/* Child: HYPERDOMAIN_FAULT=device-lost-after=2, while training on the
 * device: the third step fails with the device named, so do the steps
 * after it, and the trainer is freed cleanly; a new device trains again. */
static void
training_device_lost_child (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GError) error = NULL;
  HdVkContext *ctx = hd_vk_context_new ("cpu", &error);
  HdTrainSettings settings;
  HdTrainer *trainer;
  double loss;
  int step;

  g_assert_no_error (error);
  g_ptr_array_add (clips, hd_test_load_clip ("clip-train.safetensors"));
  hd_train_settings_init (&settings);
  settings.steps = 5;
  settings.batch = 2;
  trainer = hd_trainer_new_on_device (ctx, gen, clips, "photo", "sketch", &settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hd_trainer_is_on_device (trainer));
  g_assert_true (hd_trainer_step (trainer, &step, &loss, &error));
  g_assert_true (hd_trainer_step (trainer, &step, &loss, &error));
  g_assert_no_error (error);
  g_assert_false (hd_trainer_step (trainer, &step, &loss, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_DEVICE_LOST);
  g_assert_nonnull (strstr (error->message, "VK_ERROR_DEVICE_LOST"));
  g_clear_error (&error);
  g_assert_false (hd_trainer_step (trainer, &step, &loss, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_DEVICE_LOST);
  g_clear_error (&error);
  g_assert_cmpint (hd_trainer_get_steps_done (trainer), ==, 2);
  hd_trainer_free (trainer);
  g_assert_cmpuint (hd_vk_context_get_allocated_bytes (ctx, NULL), ==, 0);
  hd_vk_context_unref (ctx);

  ctx = hd_vk_context_new ("cpu", &error);
  g_assert_no_error (error);
  trainer = hd_trainer_new_on_device (ctx, gen, clips, "photo", "sketch", &settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hd_trainer_step (trainer, &step, &loss, &error));
  g_assert_no_error (error);
  hd_trainer_free (trainer);
  hd_vk_context_unref (ctx);
}

static void
test_training_device_lost (void)
{
  if (g_test_subprocess ())
    {
      training_device_lost_child ();
      return;
    }
  trap_with_fault ("device-lost-after=2");
  g_test_trap_assert_passed ();
}

/* Child: every device allocation in turn fails while the training step
 * is set up: each is an error that names it, never a crash or a leak. */
static void
training_oom_child (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GError) error = NULL;
  HdVkContext *ctx = hd_vk_context_new ("cpu", &error);
  HdTrainSettings settings;
  HdTrainer *trainer;

  g_assert_no_error (error);
  g_ptr_array_add (clips, hd_test_load_clip ("clip-train.safetensors"));
  hd_train_settings_init (&settings);
  trainer = hd_trainer_new_on_device (ctx, gen, clips, "photo", "sketch", &settings, NULL, &error);
  if (trainer == NULL)
    {
      g_assert_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY);
      g_assert_true (g_file_set_contents (g_getenv ("HD_FAULT_RESULT"), "failed", -1, NULL));
    }
  else
    {
      g_assert_true (hd_trainer_is_on_device (trainer));
      g_assert_true (g_file_set_contents (g_getenv ("HD_FAULT_RESULT"), "trained", -1, NULL));
      hd_trainer_free (trainer);
    }
  /* Every buffer made before the failure was released. */
  g_assert_cmpuint (hd_vk_context_get_allocated_bytes (ctx, NULL), ==, 0);
  hd_vk_context_unref (ctx);
}

static void
test_training_oom (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *result = NULL;
  guint failed = 0;

  if (g_test_subprocess ())
    {
      training_oom_child ();
      return;
    }
  dir = hd_test_make_tmpdir ();
  result = g_build_filename (dir, "result", NULL);
  g_setenv ("HD_FAULT_RESULT", result, TRUE);
  /* The text directions' CLIP, then the step's buffers, until one run
   * gets past the last allocation and trains. */
  for (guint n = 1; n <= 64 && failed == n - 1; n++)
    {
      g_autofree char *out = oom_child_result (n, result);

      /* The first allocations fail the run one by one; past the last
       * one, nothing fires and the run trains. */
      if (g_str_equal (out, "failed"))
        {
          g_assert_cmpuint (failed, ==, n - 1);
          failed++;
        }
    }
  g_unsetenv ("HD_FAULT_RESULT");
  hd_test_rmdir_recursive (dir);
  g_test_message ("the first %u device allocations, each failed in turn, failed the run cleanly", failed);
  /* The CLIP's (for the text directions) and the step's. */
  g_assert_cmpuint (failed, >=, 6);
  g_assert_cmpuint (failed, <, 64);
}

/* An unknown fault is ignored with a warning (fatal in tests: the child
 * dies on it, which shows the warning is there). */
static void
test_unknown_fault (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdVkContext) ctx = hd_vk_context_new ("cpu", &error);

      g_assert_no_error (error);
      return;
    }
  g_setenv ("HYPERDOMAIN_FAULT", "gpu-on-fire", TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("HYPERDOMAIN_FAULT");
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*unknown fault*gpu-on-fire*oom-at-load*");
}

/* hyperdomain-render with HYPERDOMAIN_FAULT=FAULT and the NULL-terminated
 * arguments after it. */
static void
run_cli (HdTestCliResult *run,
         const char      *fault,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "HYPERDOMAIN_FAULT", fault, TRUE);
  va_list ap;

  va_start (ap, fault);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  /* Warnings are not fatal in the CLI; the fault message is expected. */
  envp = g_environ_unsetenv (envp, "G_DEBUG");
  hd_test_run_cli_argv (run, envp, args);
}

static void
test_cli_faults (void)
{
  g_autofree char *model = hd_test_conformance_path ("tiny.safetensors");
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out.png", NULL);
  g_autofree char *pattern = g_build_filename (dir, "seed-%03d.png", NULL);
  HdTestCliResult run = { 0 };

  /* Out of memory at load: a clear line, exit 1, no output file. */
  run_cli (&run, "oom-at-load=2", "--model", model, "--device", "cpu", "-o", out, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "hyperdomain-render: "));
  g_assert_nonnull (strstr (run.err, "out of device memory"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  hd_test_cli_result_clear (&run);

  /* Device lost after two frames of five: the first two images are whole,
   * the rest are not written, the exit status says it failed. */
  run_cli (&run, "device-lost-after=2", "--model", model, "--device", "cpu",
           "--seed", "0-4", "-o", pattern, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "the Vulkan device was lost"));
  for (int seed = 0; seed < 5; seed++)
    {
      g_autofree char *name = g_strdup_printf ("seed-%03d.png", seed);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_file_test (path, G_FILE_TEST_EXISTS), ==, seed < 2);
      if (seed < 2)
        {
          g_autoptr(GError) error = NULL;
          g_autofree char *json = hd_png_read_metadata (path, &error);

          g_assert_no_error (error);
          g_assert_nonnull (json);
        }
    }
  hd_test_cli_result_clear (&run);

  /* Without a fault the same command succeeds. */
  run_cli (&run, "", "--model", model, "--device", "cpu", "-o", out, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  hd_test_cli_result_clear (&run);

  hd_test_rmdir_recursive (dir);
}

/* ------------------------------------------------------------------------ */
/* Full disks and read-only folders: every writer of user files (exported
 * images, raw .npy output, session and preset files) fails with a message
 * naming the file and the reason, leaves an existing file as it was and no
 * temporary file behind. */

typedef enum { WRITE_PNG, WRITE_NPY, WRITE_STATE, N_WRITERS } Writer;

static const char * const writer_names[N_WRITERS] = { "image.png", "raw.npy", "session.json" };

/* Writes a file of WRITER at PATH; BIG makes it large (some 200 kB). */
static gboolean
write_file (Writer       writer,
            const char  *path,
            gboolean     big,
            GError     **error)
{
  int res = big ? 256 : 4;
  gsize n = (gsize) 3 * res * res;
  g_autofree float *img = g_new (float, n);
  g_autoptr(HdState) state = hd_state_new ();
  gint64 shape[3] = { 3, res, res };
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  /* Noise, so the PNG does not compress away. */
  for (gsize i = 0; i < n; i++)
    img[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  switch (writer)
    {
    case WRITE_PNG:
      return hd_png_write (path, img, 3, res, res, "{}", error);
    case WRITE_NPY:
      return hd_npy_write_f32 (path, shape, 3, img, error);
    case WRITE_STATE:
    default:
      state->generator_path = g_strdup ("/models/a.safetensors");
      state->generator_name = big ? g_strnfill (200000, 'x') : g_strdup ("a");
      return hd_state_save_file (state, path, error);
    }
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* In DIR (holding only the small files of every writer): each big write
 * fails with REASON, and the old files are untouched. */
static void
check_writes_fail (const char *dir,
                   int         reason)
{
  guint before_entries = count_entries (dir);

  for (Writer w = 0; w < N_WRITERS; w++)
    {
      g_autofree char *path = g_build_filename (dir, writer_names[w], NULL);
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;
      g_autoptr(GError) error = NULL;
      gsize before_len, after_len;

      g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));
      g_assert_false (write_file (w, path, TRUE, &error));
      g_assert_nonnull (error);
      g_test_message ("%s: %s", writer_names[w], error->message);
      g_assert_nonnull (strstr (error->message, writer_names[w]));
      g_assert_nonnull (strstr (error->message, g_strerror (reason)));
      g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
      g_assert_cmpmem (after, after_len, before, before_len);
    }
  g_assert_cmpuint (count_entries (dir), ==, before_entries);
}

static void
write_small_files (const char *dir)
{
  for (Writer w = 0; w < N_WRITERS; w++)
    {
      g_autofree char *path = g_build_filename (dir, writer_names[w], NULL);
      g_autoptr(GError) error = NULL;

      g_assert_true (write_file (w, path, FALSE, &error));
      g_assert_no_error (error);
    }
}

/* A full disk: a small tmpfs when this process may mount one (root),
 * else the file size limit (EFBIG), which fails writes the same way. */
static void
test_disk_full (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  gboolean mounted = FALSE;

  if (geteuid () == 0 && mount ("hd-test", dir, "tmpfs", 0, "size=128k") == 0)
    {
      g_autofree char *filler = g_build_filename (dir, "filler", NULL);
      g_autofree char *zeros = g_malloc0 (64 * 1024);

      mounted = TRUE;
      write_small_files (dir);
      /* Leave far less than a big file needs. */
      g_assert_true (g_file_set_contents (filler, zeros, 64 * 1024, NULL));
      check_writes_fail (dir, ENOSPC);
      g_assert_cmpint (umount (dir), ==, 0);
    }
  if (!mounted)
    {
      struct rlimit saved, small;
      void (*saved_handler) (int);

      g_test_message ("cannot mount a small tmpfs: the file size limit stands in for a full disk");
      write_small_files (dir);
      saved_handler = signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
      small = saved;
      small.rlim_cur = 16 * 1024;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
      check_writes_fail (dir, EFBIG);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
      signal (SIGXFSZ, saved_handler);
    }
  hd_test_rmdir_recursive (dir);
}

/* A read-only folder: a read-only mount for root (whom permissions do not
 * stop), a folder without write permission for anyone else. */
static void
test_read_only_folder (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();

  if (geteuid () == 0)
    {
      if (mount ("hd-test", dir, "tmpfs", 0, "size=1m") != 0)
        {
          g_test_skip ("running as root without the right to mount a read-only "
                       "tmpfs: a read-only folder cannot be made");
          hd_test_rmdir_recursive (dir);
          return;
        }
      write_small_files (dir);
      g_assert_cmpint (mount (NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), ==, 0);
      check_writes_fail (dir, EROFS);
      g_assert_cmpint (umount (dir), ==, 0);
    }
  else
    {
      write_small_files (dir);
      g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
      check_writes_fail (dir, EACCES);
      g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
    }
  hd_test_rmdir_recursive (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/faults/oom-at-load", test_oom_at_load);
  g_test_add_func ("/faults/device-lost", test_device_lost);
  g_test_add_func ("/faults/unknown-fault", test_unknown_fault);
  g_test_add_func ("/faults/training-device-lost", test_training_device_lost);
  g_test_add_func ("/faults/training-oom", test_training_oom);
  g_test_add_func ("/faults/cli", test_cli_faults);
  g_test_add_func ("/faults/disk-full", test_disk_full);
  g_test_add_func ("/faults/read-only-folder", test_read_only_folder);

  return g_test_run ();
}
