/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-StateOpener"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "hd-dialogs.h"
#include "hd-error.h"
#include "hd-state-files.h"
#include "hd-text-encoder.h"
#include "hd-state-opener.h"

typedef struct
{
  GtkWindow   *parent;     /* weak: the dialogs' window */
  HdState     *state;
  char        *origin;
  HdGenerator *current;
  HdTextEncoder *current_encoder;
  char        *device;     /* of a new text encoder */
  GPtrArray   *paths;      /* char*: generator, then every domain; NULL until found */
  guint        next;       /* the next path to find */
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_clear_weak_pointer (&data->parent);
  g_clear_pointer (&data->state, hd_state_free);
  g_free (data->origin);
  g_clear_pointer (&data->current, hd_generator_unref);
  g_clear_pointer (&data->current_encoder, hd_text_encoder_unref);
  g_free (data->device);
  g_clear_pointer (&data->paths, g_ptr_array_unref);
  g_free (data);
}

void
hd_opened_state_free (HdOpenedState *opened)
{
  if (opened == NULL)
    return;
  g_clear_pointer (&opened->state, hd_state_free);
  g_free (opened->origin);
  g_clear_pointer (&opened->generator, hd_generator_unref);
  g_clear_pointer (&opened->domains, g_ptr_array_unref);
  g_clear_pointer (&opened->text_encoder, hd_text_encoder_unref);
  g_free (opened);
}

static const char *
recorded_path (OpenData *data,
               guint     index)
{
  const HdStateDomain *sd;

  if (index == 0)
    return data->state->generator_path;
  /* A text domain needs its hypernetwork. */
  sd = &g_array_index (data->state->domains, HdStateDomain, index - 1);
  return sd->prompt != NULL ? data->state->hypernetwork_path : sd->path;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *data = task_data;
  g_autoptr(HdOpenedState) opened = g_new0 (HdOpenedState, 1);
  g_autoptr(HdTextEncoder) encoder = NULL;
  const char *gen_path = g_ptr_array_index (data->paths, 0);
  GError *error = NULL;

  if (data->current != NULL && g_strcmp0 (data->current->path, gen_path) == 0)
    opened->generator = hd_generator_ref (data->current);
  else if ((opened->generator = hd_generator_load (gen_path, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  opened->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  for (guint i = 0; i < data->state->domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (data->state->domains, HdStateDomain, i);
      const char *path = g_ptr_array_index (data->paths, i + 1);
      HdDomain *domain;

      if (sd->prompt != NULL && encoder == NULL && data->current_encoder != NULL &&
          g_strcmp0 (hd_text_encoder_get_hypernetwork (data->current_encoder)->path, path) == 0)
        encoder = hd_text_encoder_ref (data->current_encoder);
      if (sd->prompt != NULL && encoder == NULL)
        {
          g_autoptr(HdHypernetwork) hn = hd_hypernetwork_load (path, &error);

          if (hn == NULL || !hd_hypernetwork_check (hn, opened->generator, &error) ||
              (encoder = hd_text_encoder_new (hn, data->device, &error)) == NULL)
            {
              g_task_return_error (task, error);
              return;
            }
        }
      domain = sd->prompt != NULL ? hd_text_encoder_get_domain (encoder, sd->prompt, &error)
                                  : hd_state_load_domain (path, sd->id, &error);

      if (domain == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      g_ptr_array_add (opened->domains, domain);
      if (g_task_return_error_if_cancelled (task))
        return;
    }

  opened->state = g_steal_pointer (&data->state);
  opened->origin = g_strdup (data->origin);
  /* Paths as found: what the restored session will record. */
  hd_state_record_found (opened->state, opened->generator, opened->domains);
  opened->text_encoder = g_steal_pointer (&encoder);
  g_task_return_pointer (task, g_steal_pointer (&opened), (GDestroyNotify) hd_opened_state_free);
}

static void find_next (GTask *task);

static void
on_locate_response (GtkNativeDialog *chooser,
                    int              response,
                    GTask           *task)
{
  OpenData *data = g_task_get_task_data (task);
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file != NULL ? g_file_get_path (file) : NULL;
    }
  g_object_unref (chooser);

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Not restored"));
      g_object_unref (task);
      return;
    }

  g_free (g_ptr_array_index (data->paths, data->next));
  g_ptr_array_index (data->paths, data->next) = g_steal_pointer (&path);
  data->next++;
  find_next (task);
  g_object_unref (task);
}

static void
on_missing_response (AdwMessageDialog *dialog,
                     const char       *response,
                     GTask            *task)
{
  OpenData *data = g_task_get_task_data (task);
  g_autofree char *base = NULL;
  g_autofree char *title = NULL;
  g_autofree char *dir = NULL;
  GtkFileChooserNative *chooser;

  if (!g_str_equal (response, "locate"))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Not restored"));
      g_object_unref (task);
      return;
    }

  base = g_path_get_basename (recorded_path (data, data->next));
  title = g_strdup_printf (_("Locate “%s”"), base);
  dir = g_path_get_dirname (data->origin);
  chooser = hd_file_chooser_new (data->parent, title, GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Open"), dir);
  hd_file_chooser_add_filter (chooser, _("Generators and Domains (.safetensors)"),
                              "*.safetensors");

  /* The task's reference moves to the chooser's callback. */
  g_signal_connect (chooser, "response", G_CALLBACK (on_locate_response), task);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Finds the files from data->next on; asks for the first one missing. */
static void
find_next (GTask *task)
{
  OpenData *data = g_task_get_task_data (task);

  for (; data->next < data->paths->len; data->next++)
    {
      const char *recorded = recorded_path (data, data->next);
      g_autofree char *found = hd_state_find_file (recorded, data->origin);
      g_autofree char *base = NULL;
      g_autofree char *origin_name = NULL;
      g_autofree char *body = NULL;
      GtkWidget *dialog;

      if (found != NULL)
        {
          g_ptr_array_index (data->paths, data->next) = g_steal_pointer (&found);
          continue;
        }

      base = g_path_get_basename (recorded != NULL ? recorded : "");
      origin_name = g_path_get_basename (data->origin);
      body = g_strdup_printf (_("“%s” used by “%s” is no longer at “%s”, nor next to “%s”. Locate it to restore the image."),
                              base, origin_name, recorded != NULL ? recorded : "", origin_name);
      dialog = hd_question_dialog_new (data->parent,
                                       data->next == 0 ? _("Generator Not Found")
                                       : g_array_index (data->state->domains, HdStateDomain,
                                                        data->next - 1).prompt != NULL
                                       ? _("Hypernetwork Not Found") : _("Domain Not Found"),
                                       body, "locate", _("_Locate…"), ADW_RESPONSE_SUGGESTED,
                                       "locate");
      g_signal_connect (dialog, "response", G_CALLBACK (on_missing_response), g_object_ref (task));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  /* The task may end on the loading thread: nothing of GTK in it. */
  g_clear_weak_pointer (&data->parent);
  g_task_run_in_thread (task, load_thread);
}

void
hd_state_open_async (GtkWindow           *parent,
                     const char          *path,
                     HdGenerator         *current,
                     HdTextEncoder       *current_encoder,
                     const char          *device,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  OpenData *data;
  HdState *state;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, hd_state_open_async);

  state = hd_state_read_any (path, &error);
  if (state == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  data = g_new0 (OpenData, 1);
  g_set_weak_pointer (&data->parent, parent);
  data->state = state;
  data->origin = g_canonicalize_filename (path, NULL);
  data->current = current != NULL ? hd_generator_ref (current) : NULL;
  data->current_encoder = current_encoder != NULL ? hd_text_encoder_ref (current_encoder) : NULL;
  data->device = g_strdup (device);
  data->paths = g_ptr_array_new_full (state->domains->len + 1, g_free);
  g_ptr_array_set_size (data->paths, state->domains->len + 1);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);

  find_next (task);
}

HdOpenedState *
hd_state_open_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
