/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-demo.h"

#include <string.h>

static gboolean
is_file (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* The pack that belongs to GENERATOR, or NULL. */
static char *
find_pack (const char *generator)
{
  g_autofree char *dir = g_path_get_dirname (generator);
  g_autofree char *beside = g_build_filename (dir, "domains.safetensors", NULL);
  const char *suffix = ".safetensors";
  gsize len = strlen (generator);

  if (g_str_has_suffix (generator, suffix))
    {
      g_autofree char *stem = g_strndup (generator, len - strlen (suffix));
      g_autofree char *named = g_strconcat (stem, "-domains.safetensors", NULL);

      if (is_file (named))
        return g_steal_pointer (&named);
    }
  return is_file (beside) ? g_steal_pointer (&beside) : NULL;
}

/* Whether this process's program lies in the build folder it was built in. */
static gboolean
running_from_build_folder (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *root = g_strconcat (HD_BUILD_ROOT, G_DIR_SEPARATOR_S, NULL);

  return exe != NULL && g_str_has_prefix (exe, root);
}

/* Hands GENERATOR and its pack to the caller. */
static gboolean
found (const char  *generator,
       char       **generator_out,
       char       **domains_out)
{
  char *pack = find_pack (generator);

  if (generator_out != NULL)
    *generator_out = g_strdup (generator);
  if (domains_out != NULL)
    *domains_out = pack;
  else
    g_free (pack);
  return TRUE;
}

gboolean
hd_demo_model_find (char **generator,
                    char **domains)
{
  const char *env = g_getenv ("HYPERDOMAIN_DEMO_MODEL");
  g_autofree char *path = NULL;

  if (generator != NULL)
    *generator = NULL;
  if (domains != NULL)
    *domains = NULL;

  if (env != NULL)
    {
      if (*env == '\0' || !is_file (env))
        return FALSE;
      return found (env, generator, domains);
    }

  if (running_from_build_folder ())
    {
      path = g_build_filename (HD_SOURCE_ROOT, "data", "models", "emoji64.safetensors", NULL);
      if (is_file (path))
        return found (path, generator, domains);
      g_clear_pointer (&path, g_free);
    }

  path = g_build_filename (PKGDATADIR, "demo", "generator.safetensors", NULL);
  if (is_file (path))
    return found (path, generator, domains);
  return FALSE;
}

char *
hd_demo_clip_find (void)
{
  g_autofree char *generator = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *beside = NULL;
  const char *suffix = ".safetensors";

  if (!hd_demo_model_find (&generator, NULL))
    return NULL;
  if (g_str_has_suffix (generator, suffix))
    {
      g_autofree char *stem = g_strndup (generator, strlen (generator) - strlen (suffix));
      g_autofree char *named = g_strconcat (stem, "-clip.safetensors", NULL);

      if (is_file (named))
        return g_steal_pointer (&named);
    }
  dir = g_path_get_dirname (generator);
  beside = g_build_filename (dir, "clip.safetensors", NULL);
  return is_file (beside) ? g_steal_pointer (&beside) : NULL;
}
