/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-state-files.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-file.h"
#include "hd-png.h"

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* Whether PATH starts with the PNG signature. FALSE with ERROR set when it
 * cannot be opened or is not a regular file: the readers would say the
 * same. A file too short to tell is not a PNG image. */
static gboolean
looks_like_png (const char  *path,
                gboolean    *is_png,
                GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);
  guint8 head[8] = { 0 };
  gsize got = 0;
  int fd;

  fd = hd_file_open_regular (path, name, NULL, error);
  if (fd < 0)
    return FALSE;
  while (got < sizeof head)
    {
      ssize_t n = read (fd, head + got, sizeof head - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* the reader reports a read error */
      got += (gsize) n;
    }
  close (fd);
  *is_png = got == sizeof head && memcmp (head, png_signature, sizeof head) == 0;
  return TRUE;
}

HdState *
hd_state_read_any (const char  *path,
                   GError     **error)
{
  g_autofree char *json = NULL;
  gboolean is_png;

  g_return_val_if_fail (path != NULL, NULL);

  if (!looks_like_png (path, &is_png, error))
    return NULL;
  if (!is_png)
    return hd_state_load_file (path, error);

  json = hd_png_read_metadata (path, error);
  return json != NULL ? hd_state_from_json_of (json, path, TRUE, error) : NULL;
}

char *
hd_state_find_file (const char *recorded,
                    const char *origin)
{
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *beside = NULL;

  if (recorded == NULL || *recorded == '\0')
    return NULL;
  if (g_file_test (recorded, G_FILE_TEST_IS_REGULAR))
    return g_strdup (recorded);
  if (origin == NULL)
    return NULL;

  base = g_path_get_basename (recorded);
  dir = g_path_get_dirname (origin);
  beside = g_build_filename (dir, base, NULL);
  if (g_file_test (beside, G_FILE_TEST_IS_REGULAR))
    {
      /* An absolute path, as a state records. */
      if (!g_path_is_absolute (beside))
        {
          g_autofree char *cwd = g_get_current_dir ();
          g_autofree char *abs = g_build_filename (cwd, beside, NULL);
          return g_canonicalize_filename (abs, NULL);
        }
      return g_steal_pointer (&beside);
    }
  return NULL;
}

char *
hd_state_domain_spec (const char *path,
                      const char *id)
{
  return id != NULL ? g_strdup_printf ("%s#%s", path, id) : g_strdup (path);
}

HdDomain *
hd_state_load_domain (const char  *path,
                      const char  *id,
                      GError     **error)
{
  g_autofree char *spec = hd_state_domain_spec (path, id);
  g_autoptr(GPtrArray) loaded = hd_domain_load_all (spec, error);

  if (loaded == NULL)
    return NULL;
  if (loaded->len != 1)
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("“%s” holds %u domains and the state names none of them"), name, loaded->len);
      return NULL;
    }
  return hd_domain_ref (g_ptr_array_index (loaded, 0));
}

typedef enum {
  FILE_GENERATOR,
  FILE_DOMAIN,
  FILE_HYPERNETWORK,
} FileKind;

static char *
find_or_fail (const char  *recorded,
              FileKind     kind,
              const char  *origin,
              GError     **error)
{
  char *found = hd_state_find_file (recorded, origin);

  if (found == NULL)
    {
      g_autofree char *base = g_path_get_basename (recorded != NULL ? recorded : "");
      g_autofree char *dir = origin != NULL ? g_path_get_dirname (origin) : NULL;
      if (dir != NULL)
        g_set_error (error, HD_ERROR, HD_ERROR_IO,
                     kind == FILE_GENERATOR
                     ? _("The generator “%s” of “%s” is missing: it is neither at “%s” nor in “%s”")
                     : kind == FILE_DOMAIN
                     ? _("The domain “%s” of “%s” is missing: it is neither at “%s” nor in “%s”")
                     : _("The hypernetwork “%s” of “%s” is missing: it is neither at “%s” nor in “%s”"),
                     base, origin, recorded != NULL ? recorded : "", dir);
      else
        g_set_error (error, HD_ERROR, HD_ERROR_IO,
                     kind == FILE_GENERATOR ? _("The generator “%s” is missing")
                     : kind == FILE_DOMAIN ? _("The domain “%s” is missing")
                     : _("The hypernetwork “%s” is missing"),
                     recorded != NULL ? recorded : "");
    }
  return found;
}

void
hd_state_record_found (HdState     *state,
                       HdGenerator *gen,
                       GPtrArray   *domains)
{
  g_return_if_fail (domains->len == state->domains->len);

  g_free (state->generator_path);
  state->generator_path = g_strdup (gen->path);
  for (guint i = 0; i < domains->len; i++)
    {
      HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);
      HdDomain *domain = g_ptr_array_index (domains, i);

      g_free (sd->path);
      sd->path = g_strdup (domain->path);
      if (domain->prompt != NULL)
        {
          g_free (state->hypernetwork_path);
          state->hypernetwork_path = g_strdup (domain->hypernetwork_path);
        }
    }
}

/* Whether STATE has text domains (prompts). */
static gboolean
hd_state_has_texts (const HdState *state)
{
  for (guint i = 0; i < state->domains->len; i++)
    if (g_array_index (state->domains, HdStateDomain, i).prompt != NULL)
      return TRUE;
  return FALSE;
}

HdTextEncoder *
hd_state_open_hypernetwork (const HdState  *state,
                            const char     *origin,
                            HdGenerator    *gen,
                            const char     *device,
                            GError        **error)
{
  g_autofree char *path = find_or_fail (state->hypernetwork_path, FILE_HYPERNETWORK, origin, error);
  g_autoptr(HdHypernetwork) hn = NULL;

  if (path == NULL || (hn = hd_hypernetwork_load (path, error)) == NULL ||
      !hd_hypernetwork_check (hn, gen, error))
    return NULL;
  return hd_text_encoder_new (hn, device, error);
}

gboolean
hd_state_open_files (const HdState *state,
                     const char    *origin,
                     const char    *device,
                     HdGenerator  **gen_out,
                     GPtrArray    **domains_out,
                     GError       **error)
{
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_autofree char *gen_path = NULL;
  g_autoptr(HdTextEncoder) encoder = NULL;

  g_return_val_if_fail (state != NULL, FALSE);

  gen_path = find_or_fail (state->generator_path, FILE_GENERATOR, origin, error);
  if (gen_path == NULL)
    return FALSE;
  gen = hd_generator_load (gen_path, error);
  if (gen == NULL)
    return FALSE;
  if (hd_state_has_texts (state) &&
      (encoder = hd_state_open_hypernetwork (state, origin, gen, device, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < state->domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);
      g_autofree char *path = NULL;
      HdDomain *domain;

      if (sd->prompt != NULL)
        {
          if ((domain = hd_text_encoder_get_domain (encoder, sd->prompt, error)) == NULL)
            return FALSE;
          g_ptr_array_add (domains, domain);
          continue;
        }
      if ((path = find_or_fail (sd->path, FILE_DOMAIN, origin, error)) == NULL)
        return FALSE;
      domain = hd_state_load_domain (path, sd->id, error);
      if (domain == NULL)
        return FALSE;
      g_ptr_array_add (domains, domain);
    }

  *gen_out = g_steal_pointer (&gen);
  *domains_out = g_steal_pointer (&domains);
  return TRUE;
}
