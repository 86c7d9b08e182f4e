/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd-settings-schema.h"
#include "hd-schema-resources.h"

#define SCHEMA_VAR "GSETTINGS_SCHEMA_DIR"
#define SCHEMA_RESOURCE "/io/github/hyperdomain/Hyperdomain/schema/gschemas.compiled"

/* Whether DIR/gschemas.compiled holds the application's schema. */
static gboolean
dir_has_schema (const char *dir)
{
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;

  if (dir == NULL || *dir == '\0')
    return FALSE;
  source = g_settings_schema_source_new_from_directory (dir, NULL, TRUE, NULL);
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APPLICATION_ID, FALSE);
  return schema != NULL;
}

/* Whether glib-2.0/schemas in the user's or a system data folder holds
 * the schema: where GLib looks after GSETTINGS_SCHEMA_DIR. */
static gboolean
data_dirs_have_schema (void)
{
  const char * const *dirs = g_get_system_data_dirs ();
  g_autofree char *user = g_build_filename (g_get_user_data_dir (), "glib-2.0", "schemas", NULL);

  if (dir_has_schema (user))
    return TRUE;
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (dirs[i], "glib-2.0", "schemas", NULL);

      if (dir_has_schema (dir))
        return TRUE;
    }
  return FALSE;
}

static gboolean
env_dirs_have_schema (void)
{
  const char *value = g_getenv (SCHEMA_VAR);
  g_auto(GStrv) dirs = NULL;

  if (value == NULL || *value == '\0')
    return FALSE;
  dirs = g_strsplit (value, G_SEARCHPATH_SEPARATOR_S, 0);
  for (guint i = 0; dirs[i] != NULL; i++)
    if (dir_has_schema (dirs[i]))
      return TRUE;
  return FALSE;
}

/* Makes GLib look in DIR first. */
static void
prepend_schema_dir (const char *dir)
{
  const char *old = g_getenv (SCHEMA_VAR);
  g_autofree char *value = NULL;

  if (old != NULL && *old != '\0')
    value = g_strconcat (dir, G_SEARCHPATH_SEPARATOR_S, old, NULL);
  else
    value = g_strdup (dir);
  g_setenv (SCHEMA_VAR, value, TRUE);
}

/* The folder of this program's executable, or NULL where /proc is
 * missing. */
static char *
get_exe_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  return exe != NULL ? g_path_get_dirname (exe) : NULL;
}

/* Writes the compiled schema in the program's resources to
 * DIR/gschemas.compiled unless it is there already. */
static gboolean
write_schema (const char  *dir,
              GBytes      *schema,
              GError     **error)
{
  g_autofree char *path = g_build_filename (dir, "gschemas.compiled", NULL);
  g_autofree char *old = NULL;
  gsize old_len = 0;
  gsize len = 0;
  const char *data = g_bytes_get_data (schema, &len);

  if (g_file_get_contents (path, &old, &old_len, NULL) &&
      old_len == len && memcmp (old, data, len) == 0)
    return TRUE;
  return g_file_set_contents_full (path, data, len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

static char *tmp_schema_dir;

static void
remove_tmp_schema_dir (void)
{
  g_autofree char *path = g_build_filename (tmp_schema_dir, "gschemas.compiled", NULL);

  g_unlink (path);
  g_rmdir (tmp_schema_dir);
  g_clear_pointer (&tmp_schema_dir, g_free);
}

/* Puts the schema compiled into the program where GLib can read it: a
 * folder in the user's cache named by its checksum (so that different
 * versions do not share one), else a temporary folder removed at exit.
 * Returns the folder. */
static char *
extract_schema (GError **error)
{
  g_autoptr(GBytes) schema = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GError) local_error = NULL;

  schema = g_resource_lookup_data (hd_schema_get_resource (), SCHEMA_RESOURCE,
                                   G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (schema == NULL)
    return NULL;

  sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, schema);
  sum[16] = '\0';
  dir = g_build_filename (g_get_user_cache_dir (), "hyperdomain", "schemas", sum, NULL);
  if (g_mkdir_with_parents (dir, 0755) == 0 &&
      write_schema (dir, schema, &local_error) && dir_has_schema (dir))
    return g_steal_pointer (&dir);
  g_clear_pointer (&dir, g_free);
  g_clear_error (&local_error);

  dir = g_dir_make_tmp ("hyperdomain-schema-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  if (!write_schema (dir, schema, error))
    {
      g_rmdir (dir);
      return NULL;
    }
  tmp_schema_dir = g_strdup (dir);
  atexit (remove_tmp_schema_dir);
  return g_steal_pointer (&dir);
}

gboolean
hd_settings_schema_ensure (void)
{
  g_autofree char *exe_dir = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;

  if (env_dirs_have_schema ())
    return TRUE;

  /* An uninstalled build: meson compiles the schema next to the program
   * (app/ui/meson.build).  It comes before an installed one, which may be
   * older and lack keys that this build reads. */
  exe_dir = get_exe_dir ();
  if (exe_dir != NULL && dir_has_schema (exe_dir))
    {
      prepend_schema_dir (exe_dir);
      return TRUE;
    }

  if (data_dirs_have_schema ())
    return TRUE;

  /* Not g_warning (): that would abort under G_DEBUG=fatal-warnings. */
  dir = extract_schema (&error);
  if (dir == NULL)
    {
      g_printerr ("hyperdomain: warning: the settings schema %s is not installed, "
                  "and its built-in copy cannot be written (%s)\n",
                  APPLICATION_ID, error->message);
      return FALSE;
    }
  prepend_schema_dir (dir);
  g_printerr ("hyperdomain: warning: the settings schema %s is not installed; "
              "using the copy built into the program, from %s "
              "(install Hyperdomain, or set " SCHEMA_VAR " to the folder "
              "of its gschemas.compiled)\n",
              APPLICATION_ID, dir);
  return TRUE;
}
