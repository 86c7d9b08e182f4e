/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The built hyperdomain ($HD_APP) starts without GSETTINGS_SCHEMA_DIR, as
 * when run by hand from the build folder or installed without its schema:
 * it must show its window without aborting, with at most one warning,
 * and quit cleanly on SIGTERM.  Runs under Xvfb (tests/ui/meson.build). */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define APP_ID "io.github.hyperdomain.Hyperdomain"

static char *tmp_root;

/* Whether GLib finds the schema without GSETTINGS_SCHEMA_DIR (installed
 * system-wide): then a program without its build folder needs no
 * fallback and prints no warning. */
static gboolean
schema_installed (void)
{
  g_autoptr(GSettingsSchema) schema =
    g_settings_schema_source_lookup (g_settings_schema_source_get_default (), APP_ID, TRUE);

  return schema != NULL;
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

/* Runs the main loop for MS milliseconds or until *EXITED. */
static void
wait_ms (guint     ms,
         gboolean *exited)
{
  gint64 end = g_get_monotonic_time () + ms * (gint64) 1000;

  while (!*exited && g_get_monotonic_time () < end)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (10000);
    }
}

/* Whether a visible window of process PID is on the display; TRUE
 * after a few seconds where xdotool is missing. */
static gboolean
window_shown (const char *pid,
              gint64      started)
{
  static char *xdotool;
  const char *argv[] = { NULL, "search", "--onlyvisible", "--pid", pid, NULL };
  g_autofree char *out = NULL;
  int status = 0;

  if (xdotool == NULL)
    xdotool = g_find_program_in_path ("xdotool");
  if (xdotool == NULL)
    return g_get_monotonic_time () - started > 5 * G_USEC_PER_SEC;

  argv[0] = xdotool;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL) && out != NULL && *out != '\0';
}

static guint
count_lines (const char *log,
             const char *what)
{
  g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (lines[i], -1);

      if (strstr (lower, what) != NULL)
        n++;
    }
  return n;
}

/* Runs EXE with the environment of the test, less GSETTINGS_SCHEMA_DIR,
 * plus SETENV (name, value pairs), until its window shows; then sends
 * SIGTERM.  Returns what it printed (stdout, then stderr) and asserts
 * that it exited normally with status 0 and printed no critical. */
static char *
run_app (const char         *exe,
         const char * const *setenv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_path = g_build_filename (tmp_root, "out.log", NULL);
  g_autofree char *err_path = g_build_filename (tmp_root, "err.log", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log = NULL;
  gboolean exited = FALSE;
  gboolean shown = FALSE;
  gint64 started = g_get_monotonic_time ();
  const char *pid;

  g_subprocess_launcher_unsetenv (launcher, "GSETTINGS_SCHEMA_DIR");
  for (guint i = 0; setenv != NULL && setenv[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, setenv[i], setenv[i + 1], TRUE);
  /* GSubprocessLauncher does not truncate them. */
  g_unlink (out_path);
  g_unlink (err_path);
  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, err_path);

  app = g_subprocess_launcher_spawn (launcher, &error, exe, NULL);
  g_assert_no_error (error);
  pid = g_subprocess_get_identifier (app);
  g_subprocess_wait_async (app, NULL, on_exited, &exited);

  while (!exited && g_get_monotonic_time () - started < 60 * G_USEC_PER_SEC)
    {
      if ((shown = window_shown (pid, started)))
        break;
      wait_ms (200, &exited);
    }
  if (shown)
    {
      /* Let it settle (first frame, settings bound), then quit it. */
      wait_ms (1000, &exited);
      if (!exited)
        g_subprocess_send_signal (app, SIGTERM);
      {
        gint64 quit = g_get_monotonic_time ();

        while (!exited && g_get_monotonic_time () - quit < 30 * G_USEC_PER_SEC)
          wait_ms (100, &exited);
      }
    }
  if (!exited)
    {
      g_subprocess_force_exit (app);
      while (!exited)
        wait_ms (100, &exited);
    }

  g_file_get_contents (out_path, &out, NULL, NULL);
  g_file_get_contents (err_path, &err, NULL, NULL);
  log = g_strconcat (out != NULL ? out : "", err != NULL ? err : "", NULL);
  {
    g_auto(GStrv) lines = g_strsplit (log, "\n", -1);

    g_test_message ("hyperdomain printed%s", *log != '\0' ? ":" : " nothing");
    for (guint i = 0; lines[i] != NULL; i++)
      if (*lines[i] != '\0')
        g_test_message ("  %s", lines[i]);
  }

  if (g_subprocess_get_if_signaled (app))
    {
      g_test_fail_printf ("hyperdomain was killed by signal %d", g_subprocess_get_term_sig (app));
      return g_steal_pointer (&log);
    }
  g_assert_true (shown);
  g_assert_true (g_subprocess_get_if_exited (app));
  g_assert_cmpint (g_subprocess_get_exit_status (app), ==, 0);
  g_assert_cmpuint (count_lines (log, "critical"), ==, 0);
  g_assert_cmpuint (count_lines (log, "error **"), ==, 0);

  return g_steal_pointer (&log);
}

static char *
subdir (const char *name)
{
  char *dir = g_build_filename (tmp_root, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

/* Run from the build folder, it uses the schema meson compiled next to
 * it: no warning. */
static void
test_build_folder (void)
{
  g_autofree char *log = run_app (g_getenv ("HD_APP"), NULL);

  if (g_test_failed ())
    return;
  g_assert_cmpuint (count_lines (log, "warning"), ==, 0);
}

/* A copy of the program, away from its build folder. */
static char *
copy_app (void)
{
  g_autofree char *dir = subdir ("bin");
  char *copy = g_build_filename (dir, "hyperdomain", NULL);
  g_autoptr(GFile) from = g_file_new_for_path (g_getenv ("HD_APP"));
  g_autoptr(GFile) to = g_file_new_for_path (copy);
  g_autoptr(GError) error = NULL;

  g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (copy, 0755), ==, 0);
  return copy;
}

/* With the schema installed nowhere, it uses the copy built into it,
 * written to the cache folder, and says so once. */
static void
test_no_schema (void)
{
  g_autofree char *exe = copy_app ();
  g_autofree char *cache = subdir ("cache");
  const char *env[] = { "XDG_CACHE_HOME", cache, NULL };
  g_autofree char *log = run_app (exe, env);
  guint n_warnings = count_lines (log, "warning");

  if (g_test_failed ())
    return;
  g_assert_cmpuint (n_warnings, <=, 1);
  if (schema_installed ())
    {
      g_test_message ("the schema is installed: no fallback needed");
      g_assert_cmpuint (n_warnings, ==, 0);
      return;
    }
  g_assert_cmpuint (n_warnings, ==, 1);
  g_assert_nonnull (strstr (log, APP_ID));
  {
    g_autofree char *schemas = g_build_filename (cache, "hyperdomain", "schemas", NULL);
    g_autoptr(GDir) dir = g_dir_open (schemas, 0, NULL);
    const char *name = dir != NULL ? g_dir_read_name (dir) : NULL;
    g_autofree char *compiled = NULL;

    g_assert_nonnull (name);
    compiled = g_build_filename (schemas, name, "gschemas.compiled", NULL);
    g_assert_true (g_file_test (compiled, G_FILE_TEST_IS_REGULAR));
  }
}

/* When the cache folder cannot be made, a temporary folder serves, and
 * it is gone when the program has quit. */
static void
test_no_schema_no_cache (void)
{
  g_autofree char *exe = copy_app ();
  g_autofree char *not_a_dir = g_build_filename (tmp_root, "cache-file", NULL);
  g_autofree char *tmp = subdir ("tmp");
  const char *env[] = { "XDG_CACHE_HOME", not_a_dir, "TMPDIR", tmp, NULL };
  g_autofree char *log = NULL;
  g_autoptr(GDir) dir = NULL;

  g_assert_true (g_file_set_contents (not_a_dir, "", 0, NULL));
  log = run_app (exe, env);
  if (g_test_failed ())
    return;
  g_assert_cmpuint (count_lines (log, "warning"), <=, 1);

  /* Mesa may leave files of its own in TMPDIR: only ours must be gone. */
  dir = g_dir_open (tmp, 0, NULL);
  g_assert_nonnull (dir);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL; )
    g_assert_false (g_str_has_prefix (name, "hyperdomain-schema-"));
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    for (const char *name; (name = g_dir_read_name (dir)) != NULL; )
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *state = NULL;
  g_autofree char *config = NULL;
  g_autofree char *data = NULL;
  g_autofree char *bus = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("HD_APP") == NULL)
    {
      g_test_skip ("HD_APP (the built hyperdomain) is not set");
      return g_test_run ();
    }

  tmp_root = g_dir_make_tmp ("hd-test-startup-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);

  /* The program and schema_installed () see the same folders: the test's
   * own schema folder is not one of them, nor the user's files, nor a
   * session bus with a running Hyperdomain that would take the start
   * over. */
  g_unsetenv ("GSETTINGS_SCHEMA_DIR");
  state = subdir ("state");
  config = subdir ("config");
  data = subdir ("data");
  bus = g_strconcat ("unix:path=", tmp_root, "/no-bus", NULL);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CACHE_HOME", tmp_root, TRUE);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* Startup alone: no demo model to render, no validation layer. */
  g_setenv ("HYPERDOMAIN_DEMO_MODEL", "", TRUE);
  g_unsetenv ("HYPERDOMAIN_VALIDATION");

  g_test_add_func ("/startup/build-folder", test_build_folder);
  g_test_add_func ("/startup/no-schema", test_no_schema);
  g_test_add_func ("/startup/no-schema-no-cache", test_no_schema_no_cache);

  result = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  return result;
}
