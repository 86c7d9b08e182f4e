/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <string.h>

#include "hd-dialogs.h"
#include "hd-png.h"
#include "hd-export-progress.h"
#include "hd-window-internal.h"

/* Export and clipboard */

typedef struct
{
  char            *path;
  GBytes          *raw;
  int              channels;
  int              res;
  int              scale;
  HdUpscaleFilter  filter;
  char            *json;
} ExportData;

static void
export_data_free (ExportData *data)
{
  g_free (data->path);
  g_bytes_unref (data->raw);
  g_free (data->json);
  g_free (data);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *data = task_data;
  GError *error = NULL;

  if (hd_png_write_scaled (data->path, g_bytes_get_data (data->raw, NULL), data->channels,
                           data->res, data->res, data->scale, data->filter, data->json, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_export_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(HdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  ExportData *data = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      _hd_window_show_error (self, _("Could Not Export the Image"), error->message);
      return;
    }

  {
    g_autofree char *name = g_path_get_basename (data->path);
    g_autofree char *dir = g_path_get_dirname (data->path);
    g_autofree char *uri = g_filename_to_uri (dir, NULL, NULL);
    int size = data->res * data->scale;
    g_autofree char *title = data->scale > 1
      /* Translators: a file name, then the size of the enlarged image. */
      ? g_strdup_printf (_("Exported “%s” at %d × %d"), name, size, size)
      : g_strdup_printf (_("Exported “%s”"), name);
    AdwToast *toast = adw_toast_new (title);

    if (uri != NULL)
      {
        adw_toast_set_button_label (toast, _("Open Folder"));
        adw_toast_set_action_name (toast, "win.open-folder");
        adw_toast_set_action_target_value (toast, g_variant_new_string (uri));
      }
    adw_toast_overlay_add_toast (self->toast_overlay, toast);
  }
}

static void
hd_window_write_png (HdWindow      *self,
                     HdRenderFrame *frame,
                     const char    *path)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(HdState) state = hd_render_job_to_state (frame->job);
  g_autofree char *filter = g_settings_get_string (self->settings, "export-filter");
  ExportData *data = g_new0 (ExportData, 1);

  data->path = g_strdup (path);
  data->raw = g_bytes_ref (frame->raw);
  data->channels = frame->channels;
  data->res = frame->width;
  /* The export scale and filter: the split menu of the export button. */
  data->scale = g_settings_get_int (self->settings, "export-scale");
  if (!hd_upscale_filter_from_string (filter, &data->filter))
    data->filter = HD_UPSCALE_NEAREST;
  data->json = state != NULL ? hd_state_to_json (state) : NULL;

  task = g_task_new (NULL, NULL, on_export_done, g_object_ref (self));
  g_task_set_task_data (task, data, (GDestroyNotify) export_data_free);
  g_task_run_in_thread (task, export_thread);
}

static char *
hd_window_export_folder (HdWindow *self)
{
  g_autofree char *folder = g_settings_get_string (self->settings, "export-folder");
  const char *pictures;

  if (folder != NULL && *folder != '\0')
    return g_steal_pointer (&folder);

  pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  return g_build_filename (pictures != NULL ? pictures : g_get_home_dir (), "Hyperdomain", NULL);
}

static char *
hd_window_export_name (HdWindow      *self,
                       HdRenderFrame *frame)
{
  HdRenderJob *job = frame->job;
  g_autofree char *base = NULL;
  GString *name = g_string_new (NULL);

  for (const char *p = job->gen->name; p != NULL && *p != '\0'; p++)
    g_string_append_c (name, (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.') ? *p : '_');
  if (name->len == 0)
    g_string_append (name, "hyperdomain");

  if (job->latent_path != NULL)
    {
      g_autofree char *latent = g_path_get_basename (job->latent_path);
      char *dot = strrchr (latent, '.');

      if (dot != NULL)
        *dot = '\0';
      g_string_append_printf (name, "-%s", latent);
    }
  else
    g_string_append_printf (name, "-%u", job->state->seed);
  if (job->state->mix != 0.0)
    g_string_append_printf (name, "-%u-%02d", job->state->mix_seed, (int) ((float) job->state->mix * 100 + 0.5f));
  g_string_append (name, ".png");

  return g_string_free (name, FALSE);
}

typedef struct
{
  HdWindow      *self;
  HdRenderFrame *frame;
  char          *path;
} ReplaceData;

static void
replace_data_free (ReplaceData *data)
{
  g_object_unref (data->self);
  hd_render_frame_unref (data->frame);
  g_free (data->path);
  g_free (data);
}

static void
on_replace_response (AdwMessageDialog *dialog,
                     const char       *response,
                     ReplaceData      *data)
{
  if (g_str_equal (response, "replace"))
    hd_window_write_png (data->self, data->frame, data->path);
  replace_data_free (data);
}

static void
hd_window_export_quick (HdWindow      *self,
                        HdRenderFrame *frame)
{
  g_autofree char *folder = hd_window_export_folder (self);
  g_autofree char *name = hd_window_export_name (self, frame);
  g_autofree char *path = g_build_filename (folder, name, NULL);

  if (g_mkdir_with_parents (folder, 0755) != 0)
    {
      int saved = errno;
      g_autofree char *msg = g_strdup_printf (_("Cannot create the folder “%s”: %s"),
                                              folder, g_strerror (saved));
      _hd_window_show_error (self, _("Could Not Export the Image"), msg);
      return;
    }

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      ReplaceData *data = g_new0 (ReplaceData, 1);
      GtkWidget *dialog;
      g_autofree char *heading = g_strdup_printf (_("Replace “%s”?"), name);
      g_autofree char *body = g_strdup_printf (_("A file with this name already exists in “%s”. Replacing it overwrites its contents."),
                                               folder);

      data->self = g_object_ref (self);
      data->frame = hd_render_frame_ref (frame);
      data->path = g_strdup (path);

      dialog = hd_question_dialog_new (GTK_WINDOW (self), heading, body, "replace", _("_Replace"),
                                       ADW_RESPONSE_DESTRUCTIVE, "cancel");
      g_signal_connect (dialog, "response", G_CALLBACK (on_replace_response), data);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  hd_window_write_png (self, frame, path);
}

void
_hd_window_perform_output (HdWindow *self)
{
  HdRenderFrame *frame = self->full_frame;
  OutputKind kind = self->pending_output;
  g_autofree char *path = g_steal_pointer (&self->pending_path);

  self->pending_output = OUTPUT_NONE;
  g_return_if_fail (frame != NULL);

  switch (kind)
    {
    case OUTPUT_EXPORT:
      hd_window_export_quick (self, frame);
      break;

    case OUTPUT_EXPORT_TO:
      hd_window_write_png (self, frame, path);
      break;

    case OUTPUT_COPY:
      gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                                 hd_render_frame_get_texture (frame));
      _hd_window_toast (self, _("Image copied"));
      break;

    case OUTPUT_NONE:
    default:
      break;
    }

  /* The output took the session's own image; the domain in training
   * shows again. */
  if (self->train_preview != NULL)
    _hd_window_submit (self);
}

/* Runs KIND on the full image of the current state, now or as soon as it
 * is rendered. */
static void
hd_window_request_output (HdWindow   *self,
                          OutputKind  kind,
                          const char *path)
{
  self->pending_output = kind;
  g_free (self->pending_path);
  self->pending_path = g_strdup (path);

  if (_hd_window_frame_is_current (self, self->full_frame))
    _hd_window_perform_output (self);
  else
    _hd_window_submit (self);
}

void
hd_window_export_to_path (HdWindow   *self,
                          const char *path)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  hd_window_request_output (self, OUTPUT_EXPORT_TO, path);
}

void
_hd_window_export_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  hd_window_request_output (HD_WINDOW (widget), OUTPUT_EXPORT, NULL);
}

void
_hd_window_copy_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  hd_window_request_output (HD_WINDOW (widget), OUTPUT_COPY, NULL);
}

static void
on_export_chooser_response (GtkNativeDialog *dialog,
                            int              response,
                            HdWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        {
          g_autofree char *dir = g_path_get_dirname (path);

          g_settings_set_string (self->settings, "export-folder", dir);
          hd_window_request_output (self, OUTPUT_EXPORT_TO, path);
        }
      else
        _hd_window_show_error (self, _("Could Not Export the Image"),
                              _("Choose a folder on this computer"));
    }

  g_object_unref (dialog);
}

void
_hd_window_export_as_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;
  g_autofree char *folder = hd_window_export_folder (self);
  g_autofree char *name = NULL;

  if (self->frame != NULL)
    name = hd_window_export_name (self, self->frame);

  chooser = hd_file_chooser_new (GTK_WINDOW (self), _("Export Image"), GTK_FILE_CHOOSER_ACTION_SAVE,
                                 _("_Export"), folder);
  if (name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("PNG Images"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);

  g_signal_connect (chooser, "response", G_CALLBACK (on_export_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The menu of the export button: the export scale, with the size it
 * gives for the open generator, and the filter. */
void
_hd_window_update_export_menu (HdWindow *self)
{
  HdGenerator *gen = hd_session_get_generator (self->session);
  int res = gen != NULL ? gen->config.img_resolution : 0;
  g_autoptr(GMenu) menu = NULL;
  g_autoptr(GMenu) scales = NULL;
  g_autoptr(GMenu) filters = NULL;
  g_autoptr(GMenu) more = NULL;
  const HdUpscaleFilter filter_list[] = { HD_UPSCALE_NEAREST, HD_UPSCALE_LANCZOS3 };

  if (res == self->export_menu_res && adw_split_button_get_menu_model (self->export_button) != NULL)
    return;
  self->export_menu_res = res;

  scales = g_menu_new ();
  for (guint i = 0; i < HD_EXPORT_N_SCALES; i++)
    {
      int scale = hd_export_scale_at (i);
      g_autofree char *label = hd_export_scale_label (scale, res);
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

      g_menu_item_set_action_and_target_value (item, "win.export-scale", g_variant_new_int32 (scale));
      g_menu_append_item (scales, item);
    }
  filters = g_menu_new ();
  for (guint i = 0; i < G_N_ELEMENTS (filter_list); i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (hd_export_filter_label (filter_list[i]), NULL);

      g_menu_item_set_action_and_target_value (item, "win.export-filter",
                                               g_variant_new_string (hd_upscale_filter_to_string (filter_list[i])));
      g_menu_append_item (filters, item);
    }
  more = g_menu_new ();
  g_menu_append (more, _("_Export As…"), "win.export-as");
  g_menu_append (more, _("Export See_d Range…"), "win.seed-range");

  menu = g_menu_new ();
  g_menu_append_section (menu, _("Export Scale"), G_MENU_MODEL (scales));
  g_menu_append_section (menu, _("Scale Filter"), G_MENU_MODEL (filters));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (more));
  adw_split_button_set_menu_model (self->export_button, G_MENU_MODEL (menu));
}
