/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-demo.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "hd-error.h"

static gboolean
is_file (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* The file that belongs to GENERATOR: "NAME-KIND" for "NAME.safetensors",
 * else KIND beside it; NULL when neither is there. */
static char *
find_beside (const char *generator,
             const char *kind)
{
  g_autofree char *dir = g_path_get_dirname (generator);
  g_autofree char *beside = g_build_filename (dir, kind, NULL);
  const char *suffix = ".safetensors";
  gsize len = strlen (generator);

  if (g_str_has_suffix (generator, suffix))
    {
      g_autofree char *stem = g_strndup (generator, len - strlen (suffix));
      g_autofree char *named = g_strconcat (stem, "-", kind, NULL);

      if (is_file (named))
        return g_steal_pointer (&named);
    }
  return is_file (beside) ? g_steal_pointer (&beside) : NULL;
}

/* The pack that belongs to GENERATOR, or NULL. */
static char *
find_pack (const char *generator)
{
  return find_beside (generator, "domains.safetensors");
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

/* A file of the demo found beside its generator (see find_beside), or NULL. */
static char *
find_companion (const char *name)
{
  g_autofree char *generator = NULL;

  if (!hd_demo_model_find (&generator, NULL))
    return NULL;
  return find_beside (generator, name);
}

char *
hd_demo_clip_find (void)
{
  return find_companion ("clip.safetensors");
}

char *
hd_demo_text_find (void)
{
  return find_companion ("text.safetensors");
}

void
hd_demo_start_clear (HdDemoStart *start)
{
  g_clear_pointer (&start->domain, g_free);
}

gboolean
hd_demo_start_parse (const char   *path,
                     HdDemoStart  *start,
                     GError      **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *o;
  gint64 seed;

  memset (start, 0, sizeof *start);
  if (!json_parser_load_from_mapped_file (parser, path, error))
    return FALSE;
  root = json_parser_get_root (parser);
  o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (o == NULL || !json_object_has_member (o, "seed") || !json_object_has_member (o, "domain") ||
      json_node_get_value_type (json_object_get_member (o, "seed")) != G_TYPE_INT64 ||
      json_node_get_value_type (json_object_get_member (o, "domain")) != G_TYPE_STRING ||
      (seed = json_object_get_int_member (o, "seed")) < 0 || seed > G_MAXUINT32)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: not a demo start (an object with a seed from 0 to 4294967295 and a domain id)"),
                   path);
      return FALSE;
    }
  start->seed = (guint32) seed;
  start->domain = g_strdup (json_object_get_string_member (o, "domain"));
  start->weight = json_object_get_double_member_with_default (o, "weight", 1.0);
  start->psi = json_object_get_double_member_with_default (o, "psi", 1.0);
  if (!isfinite (start->weight) || !isfinite (start->psi))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT, _("%s: the weight and psi must be numbers"), path);
      hd_demo_start_clear (start);
      return FALSE;
    }
  return TRUE;
}

gboolean
hd_demo_start_find (HdDemoStart *start)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  memset (start, 0, sizeof *start);
  if ((path = find_companion ("start.json")) == NULL)
    return FALSE;
  if (!hd_demo_start_parse (path, start, &error))
    {
      g_warning ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}
