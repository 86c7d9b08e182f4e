/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#include "hd-error.h"

#include "hd-domain-row.h"
#include "hd-ui-resources.h"
#include "hd-window-internal.h"

/* Narrower than this, the controls go below the image (a bottom sheet)
 * instead of beside it, so that the image stays in view while they are
 * used. */
#define NARROW_WIDTH 720
/* The share of a narrow window's height the controls take. */
#define SHEET_SHARE 0.45

/* A drag whose pointer has not moved for this long is resting: the
 * preview on screen gives way to the full image. */
#define REST_MS 120

G_DEFINE_FINAL_TYPE (HdWindow, hd_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_HAS_GENERATOR,
  PROP_ZOOM_ORIGINAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Messages and dialogs */

void
_hd_window_toast (HdWindow   *self,
                 const char *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_hd_window_show_error (HdWindow   *self,
                      const char *heading,
                      const char *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* State of the widgets */

void
_hd_window_update_actions (HdWindow *self)
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
  _hd_window_update_export_menu (self);
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
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.train-domain", has_gen);
  gtk_widget_set_visible (self->blend_pad_group, n_domains >= 2);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", hd_history_can_undo (self->history));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", hd_history_can_redo (self->history));
}

void
_hd_window_update_page (HdWindow *self)
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

/* The job of what the window shows: the session's state (with a domain
 * in training, when there is one), or while comparing the original
 * generator (every domain at weight 0) at the same latent. */
static HdRenderJob *
hd_window_create_job (HdWindow *self)
{
  HdRenderJob *job = hd_session_create_job (self->session);

  if (job != NULL && self->comparing)
    for (guint i = 0; i < job->state->domains->len; i++)
      g_array_index (job->state->domains, HdStateDomain, i).weight = 0.0;
  else if (job != NULL)
    _hd_window_train_add_preview (self, job);
  return job;
}

void
_hd_window_submit (HdWindow *self)
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
  _hd_window_train_check_generator (self);
  _hd_window_submit (self);
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
    _hd_window_submit (self);
}

gboolean
_hd_window_frame_is_current (HdWindow      *self,
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

  if (self->pending_output != OUTPUT_NONE && _hd_window_frame_is_current (self, self->full_frame))
    _hd_window_perform_output (self);
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
      _hd_window_show_error (self, _("Cannot Render"), body);
    }
  else
    _hd_window_show_error (self, _("Cannot Render"), error->message);
}

static void
on_device_recovered (HdWindow       *self,
                     const GError   *error,
                     HdRenderWorker *worker)
{
  /* The worker recreated the device and rendered the state again. */
  if (g_error_matches (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY))
    _hd_window_toast (self, _("The GPU ran out of memory; it was restarted and rendering resumed"));
  else
    _hd_window_toast (self, _("The GPU was reset; rendering resumed"));
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
    _hd_window_open_state (self, path, TRUE);
}

static void
on_history_notify (HdWindow   *self,
                   GParamSpec *pspec,
                   HdHistory  *history)
{
  _hd_window_update_actions (self);
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
  _hd_window_update_actions (self);
  if (g_str_equal (pspec->name, "has-generator"))
    {
      _hd_window_update_page (self);
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
  _hd_window_update_badge (self);

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
  _hd_window_submit (self);
}

void
_hd_window_update_badge (HdWindow *self)
{
  if (self->comparing)
    hd_image_view_set_badge (self->image_view, _("Original generator"));
  else
    hd_image_view_set_badge (self->image_view, self->train_preview != NULL ? self->train_badge : NULL);
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
  _hd_window_train_dispose (self);
  g_clear_handle_id (&self->session_save_id, g_source_remove);
  g_clear_pointer (&self->last_job, hd_render_job_unref);
  g_clear_pointer (&self->frame, hd_render_frame_unref);
  g_clear_pointer (&self->full_frame, hd_render_frame_unref);
  _hd_window_text_dispose (self);
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
  gtk_widget_class_bind_template_child (widget_class, HdWindow, text_list);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, text_entry);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, text_message);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, blend_pad_group);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, blend_pad);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, export_button);
  gtk_widget_class_bind_template_child (widget_class, HdWindow, compare_button);

  _hd_window_class_actions_init (widget_class);
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

/* The hypernetwork opened last, opened again so that prompts can be
 * typed at once. */
static void
hd_window_reopen_hypernetwork (HdWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "last-hypernetwork");
  g_autoptr(GFile) file = NULL;

  if (path[0] == '\0' || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return;
  file = g_file_new_for_path (path);
  hd_window_open_files (self, &file, 1);
}

static void
hd_window_init (HdWindow *self)
{
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

  _hd_window_dnd_init (self);
  _hd_window_text_init (self);
  hd_window_reopen_hypernetwork (self);

  _hd_window_actions_init (self);
  hd_window_setup_compare (self);
  hd_window_update_layout (self);
  _hd_window_update_actions (self);
  _hd_window_update_page (self);
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
