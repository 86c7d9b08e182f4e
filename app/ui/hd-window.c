/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#include "hd-error.h"
#include "hd-png.h"

#include "hd-animation-dialog.h"
#include "hd-blend-pad.h"
#include "hd-domain-row.h"
#include "hd-export-progress.h"
#include "hd-ui-resources.h"
#include "hd-file-loader.h"
#include "hd-history.h"
#include "hd-state-opener.h"
#include "hd-image-view.h"
#include "hd-latent-panel.h"
#include "hd-render-worker.h"
#include "hd-seeds-dialog.h"
#include "hd-session.h"
#include "hd-sheet-dialog.h"
#include "hd-window-private.h"

/* Narrower than this, the controls go below the image (a bottom sheet)
 * instead of beside it, so that the image stays in view while they are
 * used. */
#define NARROW_WIDTH 720
/* The share of a narrow window's height the controls take. */
#define SHEET_SHARE 0.45

/* Frames counted for the frames-per-second figure. */
#define N_FRAME_TIMES 64
/* A drag whose pointer has not moved for this long is resting: the
 * preview on screen gives way to the full image. */
#define REST_MS 120

typedef enum {
  OUTPUT_NONE,
  OUTPUT_EXPORT,      /* to the export folder, asking before replacing */
  OUTPUT_EXPORT_TO,   /* to a chosen path */
  OUTPUT_COPY,        /* to the clipboard */
} OutputKind;

struct _HdWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkStack             *main_stack;
  AdwFlap              *flap;
  GtkWidget            *sidebar;
  HdImageView          *image_view;
  HdLatentPanel        *latent_panel;
  GtkListBox           *domain_list;
  GtkWidget            *blend_pad_group;
  HdBlendPad           *blend_pad;
  GtkWidget            *animation_dialog;  /* kept: it holds the keyframes */
  GtkSpinner           *spinner;
  GtkSpinner           *loading_spinner;
  AdwSplitButton       *export_button;
  int                   export_menu_res; /* the sizes its menu shows */
  GtkWidget            *compare_button;

  GSettings            *settings;
  HdSession            *session;
  HdHistory            *history;
  char                 *session_file;  /* saved to on changes, or NULL */
  guint                 session_save_id;
  HdRenderWorker       *worker;
  GtkEventController   *seed_keys;
  GCancellable         *cancellable;

  HdRenderJob          *last_job;      /* the last one submitted */
  gint64                last_change_us; /* of the state, during a drag */
  guint                 rest_id;
  HdRenderFrame        *frame;         /* on screen */
  HdRenderFrame        *full_frame;    /* the last full-resolution one */

  OutputKind            pending_output;
  char                 *pending_path;

  gint64                frame_times[N_FRAME_TIMES];
  guint                 n_frames;
  guint                 n_loading;
  char                 *last_error;
  gboolean              zoom_original;
  gboolean              comparing;     /* the original generator is shown */
};

G_DEFINE_FINAL_TYPE (HdWindow, hd_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_HAS_GENERATOR,
  PROP_ZOOM_ORIGINAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void hd_window_perform_output (HdWindow *self);
static void hd_window_update_export_menu (HdWindow *self);

/* Messages and dialogs */

static void
hd_window_toast (HdWindow   *self,
                 const char *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
hd_window_show_error (HdWindow   *self,
                      const char *heading,
                      const char *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* State of the widgets */

static void
hd_window_update_actions (HdWindow *self)
{
  gboolean has_gen = hd_session_get_generator (self->session) != NULL;
  guint n_domains = g_list_model_get_n_items (hd_session_get_domains (self->session));
  gboolean has_latent = FALSE;

  g_object_get (self->session, "has-latent-file", &has_latent, NULL);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-domain", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.load-latent", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.clear-latent", has_latent);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-as", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seed-range", has_gen);
  hd_window_update_export_menu (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.copy", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seed-next", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seed-previous", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seed-random", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-original", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-fit", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-actual", has_gen);
  gtk_widget_set_sensitive (self->compare_button, has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reset-weights", n_domains > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.normalize-weights", n_domains > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-preset", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.contact-sheet", has_gen);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.animation", has_gen);
  gtk_widget_set_visible (self->blend_pad_group, n_domains >= 2);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", hd_history_can_undo (self->history));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", hd_history_can_redo (self->history));
}

static void
hd_window_update_page (HdWindow *self)
{
  const char *page;

  if (hd_session_get_generator (self->session) != NULL)
    page = "content";
  else if (self->n_loading > 0)
    page = "loading";
  else
    page = "empty";

  gtk_stack_set_visible_child_name (self->main_stack, page);
  gtk_spinner_set_spinning (self->loading_spinner, g_str_equal (page, "loading"));
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->n_loading > 0);
  gtk_spinner_set_spinning (self->spinner, self->n_loading > 0);
}

/* Rendering */

static void
hd_window_submit_job (HdWindow    *self,
                      HdRenderJob *job)
{
  /* Bindings echo values back; an unchanged image needs no render. */
  if (self->last_job != NULL &&
      hd_render_job_same_image (job, self->last_job) &&
      (job->interactive || !self->last_job->interactive))
    return;

  g_clear_pointer (&self->last_job, hd_render_job_unref);
  self->last_job = hd_render_job_ref (job);
  hd_render_worker_submit (self->worker, job);
}

/* The job of what the window shows: the session's state, or while
 * comparing the original generator (every domain at weight 0) at the
 * same latent. */
static HdRenderJob *
hd_window_create_job (HdWindow *self)
{
  HdRenderJob *job = hd_session_create_job (self->session);

  if (job != NULL && self->comparing)
    for (guint i = 0; i < job->weights->len; i++)
      g_array_index (job->weights, float, i) = 0.0f;
  return job;
}

static void
hd_window_submit (HdWindow *self)
{
  g_autoptr(HdRenderJob) job = hd_window_create_job (self);

  if (job != NULL)
    hd_window_submit_job (self, job);
}

static void
on_session_changed (HdWindow  *self,
                    HdSession *session)
{
  if (hd_session_get_interactive (session))
    self->last_change_us = g_get_monotonic_time ();
  hd_window_submit (self);
}

static void hd_window_arm_rest (HdWindow *self);

/* The pointer rests during a drag: render the full image of the state on
 * screen as a preview. */
static gboolean
on_rest (gpointer data)
{
  HdWindow *self = data;
  g_autoptr(HdRenderJob) job = NULL;

  self->rest_id = 0;
  if (!hd_session_get_interactive (self->session) || self->frame == NULL || !self->frame->preview)
    return G_SOURCE_REMOVE;
  job = hd_window_create_job (self);
  /* A newer state is on its way; its preview arms this again. */
  if (job == NULL || !hd_render_job_same_image (job, self->frame->job))
    return G_SOURCE_REMOVE;
  if (g_get_monotonic_time () - self->last_change_us < REST_MS * 1000)
    {
      hd_window_arm_rest (self);
      return G_SOURCE_REMOVE;
    }
  job->interactive = FALSE;
  hd_window_submit_job (self, job);
  return G_SOURCE_REMOVE;
}

static void
hd_window_arm_rest (HdWindow *self)
{
  gint64 waited_ms = (g_get_monotonic_time () - self->last_change_us) / 1000;

  if (self->rest_id == 0)
    self->rest_id = g_timeout_add (CLAMP (REST_MS - waited_ms, 1, REST_MS), on_rest, self);
}

static void
on_session_interactive (HdWindow   *self,
                        GParamSpec *pspec,
                        HdSession  *session)
{
  /* The drag ended: replace the preview by the full image. */
  if (!hd_session_get_interactive (session))
    hd_window_submit (self);
}

static gboolean
hd_window_frame_is_current (HdWindow      *self,
                            HdRenderFrame *frame)
{
  g_autoptr(HdRenderJob) job = NULL;

  if (frame == NULL || frame->preview)
    return FALSE;
  job = hd_session_create_job (self->session);
  return job != NULL && hd_render_job_same_image (job, frame->job);
}

static double
hd_window_frames_per_second (HdWindow *self,
                             gint64    now)
{
  guint count = 0;

  for (guint i = 0; i < MIN (self->n_frames, N_FRAME_TIMES); i++)
    if (now - self->frame_times[i] <= G_USEC_PER_SEC)
      count++;
  return count;
}

static void
hd_window_update_stats (HdWindow      *self,
                        HdRenderFrame *frame)
{
  g_autofree char *text = NULL;
  const char *device = hd_render_worker_get_device_name (self->worker);
  gint64 now = g_get_monotonic_time ();

  text = g_strdup_printf (_("%d × %d%s\n%.1f ms render · %.1f ms to screen\n%.0f frames per second\n%s"),
                          frame->width, frame->height,
                          frame->preview ? _(" (preview)") : "",
                          frame->render_ms,
                          (now - frame->submitted_us) / 1000.0,
                          hd_window_frames_per_second (self, now),
                          device != NULL ? device : "");
  hd_image_view_set_stats (self->image_view, text);
}

static void
on_frame_ready (HdWindow       *self,
                HdRenderFrame  *frame,
                HdRenderWorker *worker)
{
  /* A frame of a generator that was closed meanwhile. */
  if (frame->job->gen != hd_session_get_generator (self->session))
    return;

  self->frame_times[self->n_frames++ % N_FRAME_TIMES] = g_get_monotonic_time ();
  g_clear_pointer (&self->last_error, g_free);

  g_clear_pointer (&self->frame, hd_render_frame_unref);
  self->frame = hd_render_frame_ref (frame);
  if (!frame->preview)
    {
      g_clear_pointer (&self->full_frame, hd_render_frame_unref);
      self->full_frame = hd_render_frame_ref (frame);
    }

  hd_image_view_set_texture (self->image_view, hd_render_frame_get_texture (frame),
                             frame->full_res, frame->full_res);
  hd_window_update_stats (self, frame);
  if (frame->preview)
    hd_window_arm_rest (self);

  if (self->pending_output != OUTPUT_NONE && hd_window_frame_is_current (self, self->full_frame))
    hd_window_perform_output (self);
}

static void
on_render_failed (HdWindow       *self,
                  const GError   *error,
                  guint64         serial,
                  HdRenderWorker *worker)
{
  gboolean repeated = g_strcmp0 (self->last_error, error->message) == 0;

  /* Recovery is the worker's: after a lost device or a device out of
   * memory it has already recreated the device and tried the frame again
   * (a success is "device-recovered").  What arrives here is a fault that
   * remains; say so once, not again for each frame that fails alike. */
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
  if (repeated)
    return;

  if (g_error_matches (error, HD_ERROR, HD_ERROR_DEVICE) ||
      g_error_matches (error, HD_ERROR, HD_ERROR_DEVICE_LOST) ||
      g_error_matches (error, HD_ERROR, HD_ERROR_NO_DEVICE) ||
      g_error_matches (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY))
    {
      g_autofree char *body = g_strdup_printf (_("%s\n\nAnother device may work: choose one in Preferences."),
                                               error->message);
      hd_window_show_error (self, _("Cannot Render"), body);
    }
  else
    hd_window_show_error (self, _("Cannot Render"), error->message);
}

static void
on_device_recovered (HdWindow       *self,
                     const GError   *error,
                     HdRenderWorker *worker)
{
  /* The worker recreated the device and rendered the state again. */
  if (g_error_matches (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY))
    hd_window_toast (self, _("The GPU ran out of memory; it was restarted and rendering resumed"));
  else
    hd_window_toast (self, _("The GPU was reset; rendering resumed"));
}

/* Opening files */

static void
hd_window_apply_load_result (HdWindow     *self,
                             HdLoadResult *result)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_problems = 0;
  guint n_domains_before = g_list_model_get_n_items (hd_session_get_domains (self->session));

  if (result->generator != NULL)
    {
      guint n_removed = 0;

      g_clear_pointer (&self->frame, hd_render_frame_unref);
      g_clear_pointer (&self->full_frame, hd_render_frame_unref);
      hd_image_view_set_texture (self->image_view, NULL, 0, 0);
      hd_session_set_generator (self->session, result->generator, &n_removed);
      if (n_removed > 0)
        {
          g_autofree char *msg =
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u item did not fit the new generator and was removed",
                                          "%u items did not fit the new generator and were removed",
                                          n_removed), n_removed);
          hd_window_toast (self, msg);
        }
    }

  if (result->domains->len > 0)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *warnings = NULL;

      if (!hd_session_add_domains (self->session, result->domains, &warnings, &error))
        g_string_append_printf (problems, "%s\n", error->message), n_problems++;
      if (warnings != NULL)
        hd_window_toast (self, warnings);
    }

  if (result->latent != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!hd_session_set_latent_file (self->session, result->latent, result->latent_path, &error))
        g_string_append_printf (problems, "%s\n", error->message), n_problems++;
    }

  for (guint i = 0; i < result->errors->len; i++)
    {
      const GError *error = g_ptr_array_index (result->errors, i);
      g_string_append_printf (problems, "%s\n", error->message);
      n_problems++;
    }

  if (problems->len > 0)
    {
      g_autofree char *heading = NULL;

      g_string_truncate (problems, problems->len - 1);
      heading = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Could Not Open a File",
                                              "Could Not Open %u Files", n_problems), n_problems);
      hd_window_show_error (self, heading, problems->str);
    }
  else if (result->generator == NULL && result->domains->len > 0)
    {
      guint added = g_list_model_get_n_items (hd_session_get_domains (self->session)) - n_domains_before;
      g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                           "%u domain added",
                                                           "%u domains added",
                                                           added), added);
      hd_window_toast (self, msg);
    }
}

static void
on_files_loaded (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(HdWindow) self = user_data;
  g_autoptr(HdLoadResult) result = NULL;
  g_autoptr(GError) error = NULL;

  self->n_loading--;
  result = hd_load_files_finish (res, &error);

  if (result == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_window_show_error (self, _("Could Not Open"), error->message);
    }
  else if (!g_cancellable_is_cancelled (self->cancellable))
    hd_window_apply_load_result (self, result);

  hd_window_update_page (self);
}

/* Reopening saved states: exported PNGs, presets, the last session */

typedef struct
{
  HdWindow *self;
  gboolean  is_session;
} StateOpen;

static void
on_state_opened (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  StateOpen *op = user_data;
  g_autoptr(HdWindow) self = op->self;
  gboolean is_session = op->is_session;
  g_autoptr(HdOpenedState) opened = NULL;
  g_autoptr(GError) error = NULL;

  g_free (op);
  self->n_loading--;
  opened = hd_state_open_finish (res, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  if (opened == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hd_window_show_error (self,
                              is_session ? _("Could Not Restore the Last Session") : _("Could Not Reopen"),
                              error->message);
    }
  else
    {
      g_autofree char *source_name = g_path_get_basename (opened->origin);

      if (opened->generator != hd_session_get_generator (self->session))
        {
          g_clear_pointer (&self->frame, hd_render_frame_unref);
          g_clear_pointer (&self->full_frame, hd_render_frame_unref);
          hd_image_view_set_texture (self->image_view, NULL, 0, 0);
          hd_session_set_generator (self->session, opened->generator, NULL);
        }
      if (!hd_session_apply_state (self->session, opened->state, opened->domains, source_name, &error))
        hd_window_show_error (self, _("Could Not Reopen"), error->message);
    }

  hd_window_update_page (self);
}

/* Restores the state saved in PATH (an exported PNG or a state file),
 * asking for files that moved. */
static void
hd_window_open_state (HdWindow   *self,
                      const char *path,
                      gboolean    is_session)
{
  StateOpen *op = g_new0 (StateOpen, 1);

  op->self = g_object_ref (self);
  op->is_session = is_session;
  self->n_loading++;
  hd_window_update_page (self);
  hd_state_open_async (GTK_WINDOW (self), path, hd_session_get_generator (self->session),
                       self->cancellable, on_state_opened, op);
}

static gboolean
is_state_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = name != NULL ? g_ascii_strdown (name, -1) : NULL;

  return lower != NULL && g_file_is_native (file) &&
         (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".json"));
}

void
hd_window_open_files (HdWindow  *self,
                      GFile    **files,
                      guint      n_files)
{
  g_autoptr(GPtrArray) others = g_ptr_array_new ();

  g_return_if_fail (HD_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      if (is_state_file (files[i]))
        {
          g_autofree char *path = g_file_get_path (files[i]);
          hd_window_open_state (self, path, FALSE);
        }
      else
        g_ptr_array_add (others, files[i]);
    }
  files = (GFile **) others->pdata;
  n_files = others->len;

  if (n_files == 0)
    return;

  self->n_loading++;
  hd_window_update_page (self);
  hd_load_files_async (files, n_files, self->cancellable, on_files_loaded, g_object_ref (self));
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     HdWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      guint n = g_list_model_get_n_items (files);
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      hd_window_open_files (self, (GFile **) array->pdata, array->len);
    }

  g_object_unref (dialog);
}

/* A filter of a file chooser: its name and its patterns (';'-separated). */
typedef struct
{
  const char *name;
  const char *patterns;
} ChooserFilter;

/* Every file the window reads, by what the file type does there. */
#define FILTER_MODELS  { N_("Generators, Domains and Domain Packs (.safetensors)"), "*.safetensors" }
#define FILTER_IMAGES  { N_("Images Exported by Hyperdomain (.png)"), "*.png" }
#define FILTER_STATES  { N_("Presets and Saved States (.json)"), "*.json" }
#define FILTER_LATENTS { N_("Latents (.npy)"), "*.npy" }

static void
add_chooser_filter (GtkFileChooser *chooser,
                    const char     *name,
                    const char     *patterns)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_auto(GStrv) list = g_strsplit (patterns, ";", -1);

  gtk_file_filter_set_name (filter, name);
  for (guint i = 0; list[i] != NULL; i++)
    gtk_file_filter_add_pattern (filter, list[i]);
  gtk_file_chooser_add_filter (chooser, filter);
}

/* Asks for files to open, offering FILTERS (the first is chosen), then
 * "All Files"; with several filters, "All Supported Files" comes first. */
static void
hd_window_choose_files (HdWindow            *self,
                        const char          *title,
                        const ChooserFilter *filters,
                        guint                n_filters,
                        gboolean             multiple)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), multiple);

  if (n_filters > 1)
    {
      g_autoptr(GString) all = g_string_new (NULL);

      for (guint i = 0; i < n_filters; i++)
        g_string_append_printf (all, "%s%s", i > 0 ? ";" : "", filters[i].patterns);
      add_chooser_filter (GTK_FILE_CHOOSER (chooser), _("All Supported Files"), all->str);
    }
  for (guint i = 0; i < n_filters; i++)
    add_chooser_filter (GTK_FILE_CHOOSER (chooser), _(filters[i].name), filters[i].patterns);
  add_chooser_filter (GTK_FILE_CHOOSER (chooser), _("All Files"), "*");

  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* One Open for everything the window reads: the file type decides what
 * happens (hd_window_open_files). */
static void
hd_window_open_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_MODELS, FILTER_IMAGES, FILTER_STATES, FILTER_LATENTS };

  hd_window_choose_files (HD_WINDOW (widget), _("Open"), filters, G_N_ELEMENTS (filters), TRUE);
}

static void
hd_window_contact_sheet_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (hd_sheet_dialog_new (GTK_WINDOW (self), self->session)));
}

static void
hd_window_animation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (self->animation_dialog == NULL)
    self->animation_dialog = g_object_ref_sink (hd_animation_dialog_new (GTK_WINDOW (self), self->session));
  gtk_window_present (GTK_WINDOW (self->animation_dialog));
}

static void
hd_window_reopen_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_IMAGES };

  hd_window_choose_files (HD_WINDOW (widget), _("Reopen Image"), filters, G_N_ELEMENTS (filters), FALSE);
}

/* Sessions and presets */

gboolean
hd_window_save_state_file (HdWindow    *self,
                           const char  *path,
                           GError     **error)
{
  g_autoptr(HdState) state = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (HD_IS_WINDOW (self), FALSE);

  state = hd_session_to_state (self->session);
  if (state == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT, _("Open a generator first"));
      return FALSE;
    }
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot create the folder “%s”: %s"),
                   dir, g_strerror (saved));
      return FALSE;
    }
  return hd_state_save_file (state, path, error);
}

static gboolean
hd_window_save_session_now (gpointer data)
{
  HdWindow *self = data;
  g_autoptr(GError) error = NULL;

  self->session_save_id = 0;
  if (self->session_file != NULL && hd_session_get_generator (self->session) != NULL &&
      !hd_window_save_state_file (self, self->session_file, &error))
    g_warning ("Cannot save the session: %s", error->message);
  return G_SOURCE_REMOVE;
}

static void
on_session_changed_autosave (HdWindow  *self,
                             HdSession *session)
{
  if (self->session_file == NULL || hd_session_get_interactive (session))
    return;
  g_clear_handle_id (&self->session_save_id, g_source_remove);
  self->session_save_id = g_timeout_add_seconds (1, hd_window_save_session_now, self);
}

/* The end of a drag saves what the drag changed. */
static void
on_session_interactive_autosave (HdWindow   *self,
                                 GParamSpec *pspec,
                                 HdSession  *session)
{
  on_session_changed_autosave (self, session);
}

static gboolean
on_close_request (HdWindow *self)
{
  if (self->session_save_id != 0)
    {
      g_clear_handle_id (&self->session_save_id, g_source_remove);
      hd_window_save_session_now (self);
    }
  return FALSE;
}

void
hd_window_set_session_file (HdWindow   *self,
                            const char *path)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  g_free (self->session_file);
  self->session_file = g_strdup (path);
}

void
hd_window_flush_session (HdWindow *self)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  on_close_request (self);
}

void
hd_window_restore_session (HdWindow   *self,
                           const char *path)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    hd_window_open_state (self, path, TRUE);
}

static void
on_preset_chooser_response (GtkNativeDialog *dialog,
                            int              response,
                            HdWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path == NULL)
        hd_window_show_error (self, _("Could Not Save the Preset"), _("Choose a folder on this computer"));
      else if (!hd_window_save_state_file (self, path, &error))
        hd_window_show_error (self, _("Could Not Save the Preset"), error->message);
      else
        {
          g_autofree char *name = g_path_get_basename (path);
          g_autofree char *title = g_strdup_printf (_("Preset “%s” saved"), name);
          hd_window_toast (self, title);
        }
    }
  g_object_unref (dialog);
}

static char *
hd_window_presets_folder (void)
{
  return g_build_filename (g_get_user_data_dir (), "hyperdomain", "presets", NULL);
}

static void
hd_window_save_preset_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);
  g_autofree char *folder = hd_window_presets_folder ();
  g_autoptr(GFile) folder_file = g_file_new_for_path (folder);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  g_mkdir_with_parents (folder, 0700);
  chooser = gtk_file_chooser_native_new (_("Save Preset"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder_file, NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("preset.json"));
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Presets (.json)"));
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect (chooser, "response", G_CALLBACK (on_preset_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
hd_window_load_preset_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_STATES };

  hd_window_choose_files (HD_WINDOW (widget), _("Load Preset"), filters, G_N_ELEMENTS (filters), FALSE);
}

static void
hd_window_add_domain_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  static const ChooserFilter filters[] = { { N_("Domains and Domain Packs (.safetensors)"), "*.safetensors" } };

  hd_window_choose_files (HD_WINDOW (widget), _("Add Domains"), filters, G_N_ELEMENTS (filters), TRUE);
}

static void
hd_window_load_latent_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_LATENTS };

  hd_window_choose_files (HD_WINDOW (widget), _("Load Latent"), filters, G_N_ELEMENTS (filters), FALSE);
}

static void
hd_window_clear_latent_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  hd_session_clear_latent_file (HD_WINDOW (widget)->session);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         HdWindow      *self)
{
  GSList *list;
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  list = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  g_slist_free (list);

  hd_window_open_files (self, (GFile **) files->pdata, files->len);
  return files->len > 0;
}

/* Undo and redo */

static void
hd_window_history_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.undo"))
    hd_history_undo (self->history);
  else
    hd_history_redo (self->history);
}

static void
on_history_notify (HdWindow   *self,
                   GParamSpec *pspec,
                   HdHistory  *history)
{
  hd_window_update_actions (self);
}

/* Seed, weights */

static void
hd_window_seed_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.seed-next"))
    hd_session_step_seed (self->session, 1);
  else if (g_str_equal (action_name, "win.seed-previous"))
    hd_session_step_seed (self->session, -1);
  else
    hd_session_random_seed (self->session);
}

static void
hd_window_toggle_sidebar_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static void
hd_window_weights_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.reset-weights"))
    hd_session_reset_weights (self->session);
  else
    hd_session_normalize_weights (self->session);
}

/* The arrow keys and R change the seed, unless the focus is on a control
 * that uses them itself (text, sliders, lists) or in a popup. */
static gboolean
hd_window_seed_keys_allowed (HdWindow *self,
                             gboolean  vertical)
{
  GdkEvent *event = gtk_event_controller_get_current_event (self->seed_keys);
  GtkWidget *focus;

  if (hd_session_get_generator (self->session) == NULL)
    return FALSE;
  if (event != NULL && gdk_event_get_surface (event) != gtk_native_get_surface (GTK_NATIVE (self)))
    return FALSE;

  for (focus = gtk_root_get_focus (GTK_ROOT (self)); focus != NULL; focus = gtk_widget_get_parent (focus))
    {
      /* The blend pad's arrows move its puck. */
      if (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT (focus) || GTK_IS_RANGE (focus) ||
          GTK_IS_POPOVER (focus) || GTK_IS_DROP_DOWN (focus) || HD_IS_BLEND_PAD (focus))
        return FALSE;
      if (vertical && GTK_IS_LIST_BOX (focus))
        return FALSE;
      /* The arrows pan an image shown at its original size. */
      if (HD_IS_IMAGE_VIEW (focus) && self->zoom_original)
        return FALSE;
    }

  return TRUE;
}

/* Ctrl+C copies the image, unless text has the focus. */
static gboolean
on_copy_key (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  HdWindow *self = HD_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (hd_session_get_generator (self->session) == NULL)
    return FALSE;
  if (focus != NULL && (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT (focus) || GTK_IS_LABEL (focus)))
    return FALSE;

  return gtk_widget_activate_action (widget, "win.copy", NULL);
}

static gboolean
on_seed_key (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  HdWindow *self = HD_WINDOW (widget);
  int which = GPOINTER_TO_INT (user_data);

  if (!hd_window_seed_keys_allowed (self, which == 2 || which == -2))
    return FALSE;

  if (which == 0)
    hd_session_random_seed (self->session);
  else
    hd_session_step_seed (self->session, which > 0 ? 1 : -1);
  return TRUE;
}

static void
hd_window_add_seed_keys (HdWindow *self)
{
  struct { guint keyval; int which; } keys[] = {
    { GDK_KEY_Right, 1 }, { GDK_KEY_Left, -1 },
    { GDK_KEY_Up, 2 }, { GDK_KEY_Down, -2 },
    { GDK_KEY_r, 0 }, { GDK_KEY_R, 0 },
  };

  self->seed_keys = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (self->seed_keys, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (self->seed_keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].keyval, 0),
                                                            gtk_callback_action_new (on_seed_key,
                                                                                     GINT_TO_POINTER (keys[i].which),
                                                                                     NULL)));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (self->seed_keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_c, GDK_CONTROL_MASK),
                                                          gtk_callback_action_new (on_copy_key, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), self->seed_keys);
}

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
      hd_window_show_error (self, _("Could Not Export the Image"), error->message);
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
    g_string_append_printf (name, "-%u", job->seed);
  if (job->mix != 0.0f)
    g_string_append_printf (name, "-%u-%02d", job->mix_seed, (int) (job->mix * 100 + 0.5f));
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
      hd_window_show_error (self, _("Could Not Export the Image"), msg);
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

      dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                        "cancel", _("_Cancel"),
                                        "replace", _("_Replace"),
                                        NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace",
                                                  ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
      adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
      g_signal_connect (dialog, "response", G_CALLBACK (on_replace_response), data);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  hd_window_write_png (self, frame, path);
}

static void
hd_window_perform_output (HdWindow *self)
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
      hd_window_toast (self, _("Image copied"));
      break;

    case OUTPUT_NONE:
    default:
      break;
    }
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

  if (hd_window_frame_is_current (self, self->full_frame))
    hd_window_perform_output (self);
  else
    hd_window_submit (self);
}

void
hd_window_export_to_path (HdWindow   *self,
                          const char *path)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  hd_window_request_output (self, OUTPUT_EXPORT_TO, path);
}

static void
hd_window_export_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  hd_window_request_output (HD_WINDOW (widget), OUTPUT_EXPORT, NULL);
}

static void
hd_window_copy_action (GtkWidget  *widget,
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
        hd_window_show_error (self, _("Could Not Export the Image"),
                              _("Choose a folder on this computer"));
    }

  g_object_unref (dialog);
}

static void
hd_window_export_as_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;
  g_autofree char *folder = hd_window_export_folder (self);
  g_autoptr(GFile) folder_file = g_file_new_for_path (folder);
  g_autofree char *name = NULL;

  if (self->frame != NULL)
    name = hd_window_export_name (self, self->frame);

  chooser = gtk_file_chooser_native_new (_("Export Image"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (g_file_query_exists (folder_file, NULL))
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder_file, NULL);
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
static void
hd_window_update_export_menu (HdWindow *self)
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

static void
hd_window_seed_range_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (hd_seeds_dialog_new (GTK_WINDOW (self), self->session)));
}

static void
hd_window_open_folder_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  gtk_show_uri (GTK_WINDOW (widget), g_variant_get_string (param, NULL), GDK_CURRENT_TIME);
}

/* The domain list */

static GtkWidget *
create_domain_row (gpointer item,
                   gpointer user_data)
{
  HdWindow *self = user_data;

  return hd_domain_row_new (HD_DOMAIN_ITEM (item), self->session);
}

static void
on_session_notify (HdWindow   *self,
                   GParamSpec *pspec,
                   HdSession  *session)
{
  hd_window_update_actions (self);
  if (g_str_equal (pspec->name, "has-generator"))
    {
      hd_window_update_page (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_GENERATOR]);
    }
}

/* Side by side when there is room; else the image above and the controls
 * below it, both in view (AdwFlap would lay the folded controls over the
 * image). */
static void
hd_window_update_layout (HdWindow *self)
{
  int width = 0, height = 0;
  gboolean narrow;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  narrow = width > 0 && width < NARROW_WIDTH;
  if (narrow == (gtk_orientable_get_orientation (GTK_ORIENTABLE (self->flap)) == GTK_ORIENTATION_VERTICAL))
    {
      if (narrow)
        gtk_widget_set_size_request (self->sidebar, -1, MAX (160, (int) (height * SHEET_SHARE)));
      return;
    }

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self->flap),
                                  narrow ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  adw_flap_set_fold_policy (self->flap, narrow ? ADW_FLAP_FOLD_POLICY_NEVER : ADW_FLAP_FOLD_POLICY_AUTO);
  gtk_widget_set_size_request (self->sidebar, narrow ? -1 : 360,
                               narrow ? MAX (160, (int) (height * SHEET_SHARE)) : -1);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (self->sidebar), !narrow);
  adw_flap_set_reveal_flap (self->flap, TRUE);
}

static void
on_default_size (HdWindow   *self,
                 GParamSpec *pspec)
{
  hd_window_update_layout (self);
}

gboolean
hd_window_is_narrow (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), FALSE);

  return gtk_orientable_get_orientation (GTK_ORIENTABLE (self->flap)) == GTK_ORIENTATION_VERTICAL;
}

/* The blend pad's description says when the weights are off the pad. */
static void
on_blend_pad_in_sync (HdWindow   *self,
                      GParamSpec *pspec,
                      HdBlendPad *pad)
{
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->blend_pad_group),
                                         hd_blend_pad_is_in_sync (pad)
                                         ? _("Drag the puck toward the domains, or to the centre for the original")
                                         : _("The weights are off the pad: the dashed ring is the nearest point; drag or click to replace them"));
}

/* Comparing with the original generator: while a key or the compare
 * button is held, the same latent without the domains. */

static void
hd_window_set_comparing (HdWindow *self,
                         gboolean  comparing)
{
  g_autoptr(HdRenderJob) job = NULL;

  comparing = !!comparing && hd_session_get_generator (self->session) != NULL;
  if (comparing == self->comparing)
    return;
  self->comparing = comparing;
  hd_image_view_set_badge (self->image_view, comparing ? _("Original generator") : NULL);

  /* Back from comparing: the image of the state may still be at hand. */
  job = hd_session_create_job (self->session);
  if (!comparing && self->full_frame != NULL && job != NULL &&
      hd_render_job_same_image (job, self->full_frame->job))
    {
      g_clear_pointer (&self->frame, hd_render_frame_unref);
      self->frame = hd_render_frame_ref (self->full_frame);
      hd_image_view_set_texture (self->image_view, hd_render_frame_get_texture (self->frame),
                                 self->frame->full_res, self->frame->full_res);
      g_clear_pointer (&self->last_job, hd_render_job_unref);
      self->last_job = hd_render_job_ref (self->full_frame->job);
      return;
    }
  hd_window_submit (self);
}

gboolean
hd_window_get_comparing (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), FALSE);

  return self->comparing;
}

GtkWidget *
hd_window_get_compare_button (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);

  return self->compare_button;
}

/* The compare key: O, held, unless a text field has the focus. */
static gboolean
is_compare_key (HdWindow        *self,
                guint            keyval,
                GdkModifierType  state)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  return (keyval == GDK_KEY_o || keyval == GDK_KEY_O) &&
         (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) == 0 &&
         !(focus != NULL && (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT (focus)));
}

static gboolean
on_compare_key_pressed (HdWindow              *self,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        GtkEventControllerKey *controller)
{
  if (!is_compare_key (self, keyval, state) || hd_session_get_generator (self->session) == NULL)
    return GDK_EVENT_PROPAGATE;
  hd_window_set_comparing (self, TRUE);
  return GDK_EVENT_STOP;
}

static void
on_compare_key_released (HdWindow              *self,
                         guint                  keyval,
                         guint                  keycode,
                         GdkModifierType        state,
                         GtkEventControllerKey *controller)
{
  if (keyval == GDK_KEY_o || keyval == GDK_KEY_O)
    hd_window_set_comparing (self, FALSE);
}

/* The compare button shows the original while the pointer holds it. */
static gboolean
on_compare_button_event (GtkEventControllerLegacy *controller,
                         GdkEvent                 *event,
                         HdWindow                 *self)
{
  switch ((int) gdk_event_get_event_type (event))
    {
    case GDK_BUTTON_PRESS:
      if (gdk_button_event_get_button (event) == GDK_BUTTON_PRIMARY)
        hd_window_set_comparing (self, TRUE);
      break;
    case GDK_TOUCH_BEGIN:
      hd_window_set_comparing (self, TRUE);
      break;
    case GDK_BUTTON_RELEASE:
    case GDK_TOUCH_END:
    case GDK_TOUCH_CANCEL:
    case GDK_GRAB_BROKEN:
      hd_window_set_comparing (self, FALSE);
      break;
    default:
      break;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
hd_window_setup_compare (HdWindow *self)
{
  GtkEventController *controller;

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed", G_CALLBACK (on_compare_key_pressed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (controller, "key-released", G_CALLBACK (on_compare_key_released), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "event", G_CALLBACK (on_compare_button_event), self, 0);
  gtk_widget_add_controller (self->compare_button, controller);
}

static void
hd_window_zoom_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  g_object_set (widget, "zoom-original", g_str_equal (action_name, "win.zoom-actual"), NULL);
}

/* GObject */

static void
hd_window_dispose (GObject *object)
{
  HdWindow *self = (HdWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->rest_id, g_source_remove);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  if (self->worker != NULL)
    g_signal_handlers_disconnect_by_data (self->worker, self);
  /* The settings actions outlive the window's action group, which does
   * not disconnect from them when it goes: a setting changed later (in
   * another window) would reach the group freed. */
  g_action_map_remove_action (G_ACTION_MAP (self), "show-stats");
  g_action_map_remove_action (G_ACTION_MAP (self), "smooth-scaling");
  g_action_map_remove_action (G_ACTION_MAP (self), "export-scale");
  g_action_map_remove_action (G_ACTION_MAP (self), "export-filter");

  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_WINDOW);

  g_clear_object (&self->worker);
  g_clear_object (&self->history);
  if (self->animation_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->animation_dialog));
  g_clear_object (&self->animation_dialog);
  g_clear_handle_id (&self->session_save_id, g_source_remove);
  g_clear_pointer (&self->last_job, hd_render_job_unref);
  g_clear_pointer (&self->frame, hd_render_frame_unref);
  g_clear_pointer (&self->full_frame, hd_render_frame_unref);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hd_window_parent_class)->dispose (object);
}

static void
hd_window_finalize (GObject *object)
{
  HdWindow *self = (HdWindow *)object;

  g_free (self->pending_path);
  g_free (self->last_error);
  g_free (self->session_file);

  G_OBJECT_CLASS (hd_window_parent_class)->finalize (object);
}

static void
hd_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  HdWindow *self = HD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_HAS_GENERATOR:
      g_value_set_boolean (value, self->session != NULL && hd_session_get_generator (self->session) != NULL);
      break;

    case PROP_ZOOM_ORIGINAL:
      g_value_set_boolean (value, self->zoom_original);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  HdWindow *self = HD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ZOOM_ORIGINAL:
      if (self->zoom_original != g_value_get_boolean (value))
        {
          self->zoom_original = g_value_get_boolean (value);
          if (self->image_view != NULL)
            hd_image_view_set_zoom_original (self->image_view, self->zoom_original);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_window_class_init (HdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_window_dispose;
  object_class->finalize = hd_window_finalize;
  object_class->get_property = hd_window_get_property;
  object_class->set_property = hd_window_set_property;

  properties[PROP_HAS_GENERATOR] =
    g_param_spec_boolean ("has-generator", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_ZOOM_ORIGINAL] =
    g_param_spec_boolean ("zoom-original", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Referencing the resources keeps them (and their constructor, which
   * registers them) in programs linking the static library. */
  g_resources_register (hd_ui_get_resource ());

  g_type_ensure (HD_TYPE_IMAGE_VIEW);
  g_type_ensure (HD_TYPE_LATENT_PANEL);
  g_type_ensure (HD_TYPE_BLEND_PAD);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HdWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, image_view);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, latent_panel);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, domain_list);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, blend_pad_group);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, blend_pad);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, export_button);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, compare_button);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, hd_window_open_action);
  gtk_widget_class_install_action (widget_class, "win.add-domain", NULL, hd_window_add_domain_action);
  gtk_widget_class_install_action (widget_class, "win.load-latent", NULL, hd_window_load_latent_action);
  gtk_widget_class_install_action (widget_class, "win.clear-latent", NULL, hd_window_clear_latent_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, hd_window_export_action);
  gtk_widget_class_install_action (widget_class, "win.export-as", NULL, hd_window_export_as_action);
  gtk_widget_class_install_action (widget_class, "win.seed-range", NULL, hd_window_seed_range_action);
  gtk_widget_class_install_action (widget_class, "win.copy", NULL, hd_window_copy_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", "s", hd_window_open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.seed-next", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.seed-previous", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.seed-random", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.reset-weights", NULL, hd_window_weights_action);
  gtk_widget_class_install_action (widget_class, "win.normalize-weights", NULL, hd_window_weights_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-sidebar", NULL, hd_window_toggle_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.reopen", NULL, hd_window_reopen_action);
  gtk_widget_class_install_action (widget_class, "win.contact-sheet", NULL, hd_window_contact_sheet_action);
  gtk_widget_class_install_action (widget_class, "win.animation", NULL, hd_window_animation_action);
  gtk_widget_class_install_action (widget_class, "win.save-preset", NULL, hd_window_save_preset_action);
  gtk_widget_class_install_action (widget_class, "win.load-preset", NULL, hd_window_load_preset_action);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, hd_window_history_action);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, hd_window_history_action);
  gtk_widget_class_install_property_action (widget_class, "win.zoom-original", "zoom-original");
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, hd_window_zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-actual", NULL, hd_window_zoom_action);
  /* Also the application's accelerators, which label the menu items; these
   * serve a window of its own too. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "win.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.zoom-actual", NULL);
  gtk_widget_class_install_property_action (widget_class, "win.fullscreen", "fullscreened");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.toggle-sidebar", NULL);
  /* Bindings of the window, not application accelerators: a text field
   * with the focus undoes its own typing first. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", NULL);
}

/* A split button is a group (libadwaita 1.2): a screen reader reads its
 * button and its arrow, which have no names of their own, only tooltips. */
static void
name_split_button (AdwSplitButton *split,
                   const char     *button_name,
                   const char     *arrow_name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (split));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_MENU_BUTTON (child) || GTK_IS_BUTTON (child))
      gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      GTK_IS_MENU_BUTTON (child) ? arrow_name : button_name,
                                      -1);
}

static void
hd_window_init (HdWindow *self)
{
  GtkDropTarget *drop;
  g_autoptr(GAction) stats_action = NULL;
  g_autoptr(GAction) export_scale_action = NULL;
  g_autoptr(GAction) export_filter_action = NULL;
  g_autoptr(GAction) smooth_action = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  name_split_button (self->export_button, _("Export image"), _("Export options"));

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APPLICATION_ID);
  self->session = hd_session_new ();
  self->history = hd_history_new (self->session);
  self->worker = hd_render_worker_new ();

  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "device", self->worker, "device", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "preview-policy", self->worker, "preview-policy", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "show-stats", self->image_view, "show-stats", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "smooth-scaling", self->image_view, "smooth", G_SETTINGS_BIND_GET);
  hd_render_worker_set_preview_budget (self->worker, g_settings_get_uint (self->settings, "preview-budget-ms"));

  stats_action = g_settings_create_action (self->settings, "show-stats");
  g_action_map_add_action (G_ACTION_MAP (self), stats_action);
  export_scale_action = g_settings_create_action (self->settings, "export-scale");
  g_action_map_add_action (G_ACTION_MAP (self), export_scale_action);
  export_filter_action = g_settings_create_action (self->settings, "export-filter");
  g_action_map_add_action (G_ACTION_MAP (self), export_filter_action);
  smooth_action = g_settings_create_action (self->settings, "smooth-scaling");
  g_action_map_add_action (G_ACTION_MAP (self), smooth_action);

  g_signal_connect_object (self->session, "changed", G_CALLBACK (on_session_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::interactive", G_CALLBACK (on_session_interactive), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::has-generator", G_CALLBACK (on_session_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::n-domains", G_CALLBACK (on_session_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::has-latent-file", G_CALLBACK (on_session_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "changed", G_CALLBACK (on_session_changed_autosave), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::interactive", G_CALLBACK (on_session_interactive_autosave), self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), NULL);
  g_signal_connect (self, "notify::default-width", G_CALLBACK (on_default_size), NULL);
  g_signal_connect (self, "notify::default-height", G_CALLBACK (on_default_size), NULL);
  g_signal_connect_object (self->history, "notify::can-undo", G_CALLBACK (on_history_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->history, "notify::can-redo", G_CALLBACK (on_history_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->worker, "frame-ready", G_CALLBACK (on_frame_ready), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->worker, "render-failed", G_CALLBACK (on_render_failed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->worker, "device-recovered", G_CALLBACK (on_device_recovered), self, G_CONNECT_SWAPPED);

  g_object_bind_property (self->session, "title", self->window_title, "subtitle", G_BINDING_SYNC_CREATE);
  hd_latent_panel_set_session (self->latent_panel, self->session);
  g_signal_connect_object (self->blend_pad, "notify::in-sync", G_CALLBACK (on_blend_pad_in_sync), self, G_CONNECT_SWAPPED);
  hd_blend_pad_set_session (self->blend_pad, self->session);
  on_blend_pad_in_sync (self, NULL, self->blend_pad);
  gtk_list_box_bind_model (self->domain_list, hd_session_get_domains (self->session),
                           create_domain_row, self, NULL);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (drop, "drop", G_CALLBACK (on_drop), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  hd_window_add_seed_keys (self);
  hd_window_setup_compare (self);
  hd_window_update_layout (self);
  hd_window_update_actions (self);
  hd_window_update_page (self);
}

HdWindow *
hd_window_new (AdwApplication *application)
{
  return g_object_new (HD_TYPE_WINDOW, "application", application, NULL);
}

HdSession *
hd_window_get_session (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->session;
}

HdHistory *
hd_window_get_history (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->history;
}

GtkWidget *
hd_window_get_animation_dialog (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->animation_dialog;
}

HdBlendPad *
hd_window_get_blend_pad (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->blend_pad;
}

GtkWidget *
hd_window_get_domain_row (HdWindow *self,
                          guint     position)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return GTK_WIDGET (gtk_list_box_get_row_at_index (self->domain_list, position));
}

HdRenderWorker *
hd_window_get_worker (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->worker;
}

HdImageView *
hd_window_get_image_view (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->image_view;
}

HdLatentPanel *
hd_window_get_latent_panel (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->latent_panel;
}

GtkRange *
hd_window_get_domain_scale (HdWindow *self,
                            guint     position)
{
  GtkListBoxRow *row;

  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);

  row = gtk_list_box_get_row_at_index (self->domain_list, position);
  return row != NULL ? hd_domain_row_get_scale (HD_DOMAIN_ROW (row)) : NULL;
}

HdRenderFrame *
hd_window_get_frame (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->frame;
}

HdRenderFrame *
hd_window_get_full_frame (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->full_frame;
}

gboolean
hd_window_is_loading (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), FALSE);
  return self->n_loading > 0;
}
