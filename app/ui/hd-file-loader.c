/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-FileLoader"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "hd-error.h"
#include "hd-safetensors.h"

#include "hd-file-loader.h"

void
hd_load_result_free (HdLoadResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->generator, hd_generator_unref);
  g_clear_pointer (&result->domains, g_ptr_array_unref);
  g_clear_pointer (&result->latent, hd_npy_free);
  g_free (result->latent_path);
  g_clear_pointer (&result->text_encoder, hd_text_encoder_unref);
  g_clear_pointer (&result->errors, g_ptr_array_unref);
  g_free (result);
}

static gboolean
has_suffix_ci (const char *path,
               const char *suffix)
{
  gsize n = strlen (path), m = strlen (suffix);

  return n >= m && g_ascii_strcasecmp (path + n - m, suffix) == 0;
}

HdFileKind
hd_file_kind_guess (const char  *path,
                    GError     **error)
{
  g_autoptr(HdSafetensors) st = NULL;
  const char *kind;

  if (has_suffix_ci (path, ".npy"))
    return HD_FILE_LATENT;

  /* Integer tensors too: a hypernetwork holds its tokenizer's merges as
   * U8 (the loader of each kind checks its own tensors). */
  st = hd_safetensors_open_full (path, HD_SAFETENSORS_ALLOW_INTEGERS, error);
  if (st == NULL)
    return HD_FILE_UNKNOWN;

  kind = hd_safetensors_get_metadata (st, "hyperdomain.kind");
  if (g_strcmp0 (kind, "generator") == 0)
    return HD_FILE_GENERATOR;
  if (g_strcmp0 (kind, "domain") == 0 || g_strcmp0 (kind, "domain-pack") == 0)
    return HD_FILE_DOMAIN;
  if (g_strcmp0 (kind, "hypernetwork") == 0)
    return HD_FILE_HYPERNETWORK;

  if (kind == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                 _("“%s” is not a Hyperdomain generator or domain: its metadata has no hyperdomain.kind"),
                 path);
  else
    g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                 _("“%s” holds a “%s”, which Hyperdomain cannot open"), path, kind);
  return HD_FILE_UNKNOWN;
}

/* The files to load, and the Vulkan device a hypernetwork's encoder uses. */
typedef struct {
  GStrv  paths;
  char  *device;
} LoadFiles;

static void
load_files_free (LoadFiles *load)
{
  g_strfreev (load->paths);
  g_free (load->device);
  g_free (load);
}

static void
load_one (HdLoadResult *result,
          const char   *path,
          const char   *device)
{
  g_autoptr(GError) error = NULL;

  switch (hd_file_kind_guess (path, &error))
    {
    case HD_FILE_GENERATOR:
      if (result->generator == NULL)
        result->generator = hd_generator_load (path, &error);
      break;

    case HD_FILE_DOMAIN:
      {
        g_autoptr(GPtrArray) domains = hd_domain_load_all (path, &error);

        if (domains != NULL)
          for (guint i = 0; i < domains->len; i++)
            g_ptr_array_add (result->domains, hd_domain_ref (g_ptr_array_index (domains, i)));
      }
      break;

    case HD_FILE_LATENT:
      {
        HdNpy *npy = hd_npy_read (path, &error);

        if (npy != NULL)
          {
            g_clear_pointer (&result->latent, hd_npy_free);
            g_free (result->latent_path);
            result->latent = npy;
            result->latent_path = g_strdup (path);
          }
      }
      break;

    case HD_FILE_HYPERNETWORK:
      {
        g_autoptr(HdHypernetwork) hn = hd_hypernetwork_load (path, &error);
        HdTextEncoder *encoder = hn != NULL ? hd_text_encoder_new (hn, device, &error) : NULL;

        if (encoder != NULL)
          {
            g_clear_pointer (&result->text_encoder, hd_text_encoder_unref);
            result->text_encoder = encoder;
          }
      }
      break;

    case HD_FILE_UNKNOWN:
    default:
      break;
    }

  if (error != NULL)
    g_ptr_array_add (result->errors, g_steal_pointer (&error));
}

static void
load_files_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  LoadFiles *load = task_data;
  HdLoadResult *result = g_new0 (HdLoadResult, 1);

  result->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  result->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  for (guint i = 0; load->paths[i] != NULL; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      load_one (result, load->paths[i], load->device);
    }

  g_task_return_pointer (task, result, (GDestroyNotify) hd_load_result_free);
}

void
hd_load_files_async (GFile               **files,
                     guint                 n_files,
                     const char           *device,
                     GCancellable         *cancellable,
                     GAsyncReadyCallback   callback,
                     gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_null_terminated (n_files, g_free, TRUE);
  LoadFiles *load;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, hd_load_files_async);

  for (guint i = 0; i < n_files; i++)
    {
      char *path = g_file_get_path (files[i]);

      if (path == NULL)
        {
          g_autofree char *uri = g_file_get_uri (files[i]);
          g_task_return_new_error (task, HD_ERROR, HD_ERROR_IO,
                                   _("“%s” is not a local file"), uri);
          return;
        }
      g_ptr_array_add (paths, path);
    }

  load = g_new0 (LoadFiles, 1);
  load->paths = (GStrv) g_ptr_array_steal (paths, NULL);
  load->device = g_strdup (device);
  g_task_set_task_data (task, load, (GDestroyNotify) load_files_free);
  g_task_run_in_thread (task, load_files_thread);
}

HdLoadResult *
hd_load_files_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
