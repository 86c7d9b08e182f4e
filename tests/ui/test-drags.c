/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The live controls under a real pointer (XTEST through the X server, as
 * a person's mouse): every continuous control shows the renders of the
 * states it passes through while it moves, the full image as soon as the
 * pointer rests, and previews only when frames are slow; the blend pad
 * always shows where the weights are and a press alone changes nothing;
 * the wheel scrolls the sidebar and changes no control; dialogs, clicks,
 * drags and undo in a window that saves its session, with every critical
 * fatal. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hd-blend-weights.h"
#include "hd-png.h"
#include "hd-preferences-window.h"
#include "hd-renderer.h"
#include "hd-state-render.h"
#include "hd-vk.h"

#include "hd-ui-test-util.h"

/* The frames a window put on screen, in order. */
typedef struct
{
  HdWindow  *window;
  GPtrArray *shown;   /* HdRenderFrame* */
} FrameLog;

static void
on_frame_ready (HdRenderWorker *worker,
                HdRenderFrame  *frame,
                FrameLog       *log)
{
  if (hd_window_get_frame (log->window) == frame)
    g_ptr_array_add (log->shown, hd_render_frame_ref (frame));
}

static FrameLog *
frame_log_new (HdWindow *window)
{
  FrameLog *log = g_new0 (FrameLog, 1);

  log->window = window;
  log->shown = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_render_frame_unref);
  /* After the window's own handler: the frame is on screen or dropped. */
  g_signal_connect_after (hd_window_get_worker (window), "frame-ready", G_CALLBACK (on_frame_ready), log);
  return log;
}

static void
frame_log_free (FrameLog *log)
{
  g_signal_handlers_disconnect_by_data (hd_window_get_worker (log->window), log);
  g_ptr_array_unref (log->shown);
  g_free (log);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FrameLog, frame_log_free)

static HdWindow *
open_window_saving_session (char **session_file)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-drags-XXXXXX", &error);

  g_assert_no_error (error);
  /* A window that saves its session runs the autosave handlers on every
   * drag, as the application's window does. */
  *session_file = g_build_filename (dir, "session.json", NULL);
  hd_window_set_session_file (window, *session_file);
  return window;
}

static void
remove_session_file (const char *session_file)
{
  g_autofree char *dir = g_path_get_dirname (session_file);

  g_unlink (session_file);
  g_rmdir (dir);
}

/* Scrolls the sidebar so that WIDGET is in view. */
static void
scroll_into_view (GtkWidget *widget)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkWidget *child;
  GtkAdjustment *adj;
  graphene_rect_t bounds;

  g_assert_nonnull (scrolled);
  child = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
  hd_ui_test_run_for (50);
  g_assert_true (gtk_widget_compute_bounds (widget, child, &bounds));
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  gtk_adjustment_set_value (adj, bounds.origin.y - 10);
  hd_ui_test_run_for (100);
}

/* The full image of the current state is on screen while the pointer is
 * still down. */
static gboolean
rest_frame_shown (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_frame (window);
  g_autoptr(HdRenderJob) job = hd_session_create_job (hd_window_get_session (window));

  return frame != NULL && !frame->preview && job != NULL &&
         hd_render_job_same_image (job, frame->job);
}

/* The weight of domain I in JOB, 0 where there is none. */
static float
job_weight (HdRenderJob *job,
            guint        i)
{
  if (i >= job->state->domains->len)
    return 0.0f;
  return (float) g_array_index (job->state->domains, HdStateDomain, i).weight;
}

/* The pixels of FRAME are the engine's render of the state it shows. */
static void
assert_frame_is_render_of_its_state (HdRenderFrame *frame)
{
  g_autofree guint8 *expected = NULL;
  int res;

  if (frame->job->state->mix != 0.0)
    {
      /* The oracle renders no seed blend: render the prepared job. */
      g_autoptr(GError) error = NULL;
      g_autoptr(HdVkContext) ctx = hd_vk_context_new ("auto", &error);
      g_autoptr(HdRenderer) renderer = NULL;
      g_autofree float *img = NULL;
      g_auto(HdPreparedRender) prepared = { 0 };

      g_assert_no_error (error);
      renderer = hd_renderer_new (ctx, frame->job->gen, &error);
      g_assert_no_error (error);
      g_assert_true (hd_state_prepare (frame->job->state, frame->job->gen, frame->job->domains,
                                       &prepared, &error));
      res = frame->full_res;
      img = g_new (float, (gsize) 3 * res * res);
      g_assert_true (hd_renderer_render (renderer, &prepared.params, img, &error));
      g_assert_no_error (error);
      expected = g_malloc ((gsize) res * res * 3);
      hd_image_to_u8 (img, 3, res, res, expected);
    }
  else
    expected = hd_ui_test_render_oracle (frame->job, &res);

  g_assert_cmpint (frame->width, ==, res);
  g_assert_cmpmem (g_bytes_get_data (frame->rgb, NULL), g_bytes_get_size (frame->rgb),
                   expected, (gsize) res * res * 3);
}

/* Presses at POINTS[0] of WIDGET, moves through the others, resting at
 * each until the full image of the state there is on screen, and lets
 * go.  STATES gets the state of each rest. */
static void
drag_through (HdWindow     *window,
              GtkWidget    *widget,
              const double *points,
              guint         n_points,
              GPtrArray    *states)
{
  HdSession *session = hd_window_get_session (window);

  hd_ui_test_pointer_move (widget, points[0], points[1]);
  hd_ui_test_run_for (50);
  hd_ui_test_pointer_button (TRUE);
  hd_ui_test_run_for (50);
  for (guint i = 1; i < n_points; i++)
    {
      HdRenderJob *job;

      hd_ui_test_pointer_move (widget, points[2 * i], points[2 * i + 1]);
      hd_ui_test_run_for (20);
      hd_ui_test_wait_until (rest_frame_shown, window, 30000, "the full image while the pointer rests");
      g_assert_true (hd_session_get_interactive (session));
      job = hd_session_create_job (session);
      if (states->len > 0)
        g_assert_false (hd_render_job_same_image (job, g_ptr_array_index (states, states->len - 1)));
      g_ptr_array_add (states, job);
    }
  hd_ui_test_pointer_button (FALSE);
  hd_ui_test_run_for (50);
  g_assert_false (hd_session_get_interactive (session));
  hd_ui_test_wait_for_current (window, 30000);
}

/* Every frame shown is the render of a state the drag passed through;
 * full frames only when FULL_ONLY; every rest shown in full. */
static void
assert_frames_are_states (FrameLog  *log,
                          GPtrArray *states,
                          gboolean   full_only)
{
  guint n_previews = 0;

  g_assert_cmpuint (log->shown->len, >=, states->len);
  for (guint i = 0; i < log->shown->len; i++)
    {
      HdRenderFrame *frame = g_ptr_array_index (log->shown, i);
      HdRenderFrame *first = g_ptr_array_index (log->shown, 0);
      gboolean found = FALSE;

      g_test_message ("frame %2u  +%7.1f ms  %s %2dx%-2d  render %5.1f ms  to screen %5.1f ms  psi %.3f mix %.3f w %.3f/%.3f",
                      i, (frame->finished_us - first->finished_us) / 1000.0,
                      frame->preview ? "preview" : "full   ", frame->width, frame->height,
                      frame->render_ms, (frame->finished_us - frame->submitted_us) / 1000.0,
                      frame->job->state->psi, frame->job->state->mix,
                      job_weight (frame->job, 0), job_weight (frame->job, 1));

      for (guint k = 0; k < states->len && !found; k++)
        found = hd_render_job_same_image (frame->job, g_ptr_array_index (states, k));
      g_assert_true (found);
      if (frame->preview)
        {
          n_previews++;
          g_assert_false (full_only);
          g_assert_cmpint (frame->width, <, frame->full_res);
        }
      else
        assert_frame_is_render_of_its_state (frame);
    }
  for (guint k = 0; k < states->len; k++)
    {
      gboolean shown = FALSE;

      for (guint i = 0; i < log->shown->len && !shown; i++)
        {
          HdRenderFrame *frame = g_ptr_array_index (log->shown, i);
          shown = !frame->preview && hd_render_job_same_image (frame->job, g_ptr_array_index (states, k));
        }
      g_assert_true (shown);
    }
  if (!full_only)
    g_assert_cmpuint (n_previews, >, 0);
  g_test_message ("%u frames shown for %u states, %u of them previews",
                  log->shown->len, states->len, n_previews);
}

/* Points along a horizontal slider: the middle of its knob, then on to
 * where the value TO is, in N - 1 steps. */
static void
slider_points (GtkRange *range,
               double    to,
               guint     n,
               double   *points)
{
  GtkAdjustment *adj = gtk_range_get_adjustment (range);
  double lower = gtk_adjustment_get_lower (adj), upper = gtk_adjustment_get_upper (adj);
  GtkWidget *trough = hd_ui_test_find_css_name (GTK_WIDGET (range), "trough");
  GtkWidget *knob = hd_ui_test_find_css_name (GTK_WIDGET (range), "slider");
  graphene_rect_t tb, kb;
  double x0, x1;

  g_assert_nonnull (trough);
  g_assert_nonnull (knob);
  g_assert_true (gtk_widget_compute_bounds (trough, GTK_WIDGET (range), &tb));
  g_assert_true (gtk_widget_compute_bounds (knob, GTK_WIDGET (range), &kb));
  x0 = kb.origin.x + kb.size.width / 2;
  /* The knob's middle runs from half a knob in to half a knob before the
   * end of the trough. */
  x1 = tb.origin.x + kb.size.width / 2 +
       (to - lower) / (upper - lower) * (tb.size.width - kb.size.width);
  for (guint i = 0; i < n; i++)
    {
      points[2 * i] = x0 + (x1 - x0) * i / (n - 1);
      points[2 * i + 1] = kb.origin.y + kb.size.height / 2;
    }
}

typedef enum {
  CONTROL_PSI,
  CONTROL_MIX,
  CONTROL_WEIGHT,
  CONTROL_PAD,
} Control;

static void
drag_control (HdWindow *window,
              Control   control,
              gboolean  full_only)
{
  g_autoptr(FrameLog) log = NULL;
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_render_job_unref);
  HdLatentPanel *panel = hd_window_get_latent_panel (window);
  HdBlendPad *pad = hd_window_get_blend_pad (window);
  GtkWidget *widget;
  double points[2 * 6];
  guint n = 6;

  switch (control)
    {
    case CONTROL_PSI:
      widget = GTK_WIDGET (hd_latent_panel_get_psi_scale (panel));
      break;
    case CONTROL_MIX:
      widget = GTK_WIDGET (hd_latent_panel_get_mix_scale (panel));
      break;
    case CONTROL_WEIGHT:
      widget = GTK_WIDGET (hd_window_get_domain_scale (window, 1));
      break;
    case CONTROL_PAD:
    default:
      widget = GTK_WIDGET (pad);
      break;
    }
  scroll_into_view (widget);

  if (control == CONTROL_PAD)
    {
      double px, py, w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
      double r = MIN (w, h) / 2 - 40;

      hd_blend_pad_get_puck_point (pad, &px, &py);
      points[0] = px, points[1] = py;
      for (guint i = 1; i < n; i++)
        {
          double a = 2 * G_PI * i / (n - 1);

          points[2 * i] = w / 2 + 0.6 * r * cos (a);
          points[2 * i + 1] = h / 2 + 0.6 * r * sin (a);
        }
    }
  else
    {
      double value = gtk_range_get_value (GTK_RANGE (widget));
      GtkAdjustment *adj = gtk_range_get_adjustment (GTK_RANGE (widget));
      double upper = gtk_adjustment_get_upper (adj), lower = gtk_adjustment_get_lower (adj);
      double to = value > (upper + lower) / 2 ? lower + 0.1 * (upper - lower)
                                              : upper - 0.1 * (upper - lower);

      slider_points (GTK_RANGE (widget), to, n, points);
    }

  hd_ui_test_wait_for_current (window, 30000);
  log = frame_log_new (window);
  drag_through (window, widget, points, n, states);
  /* The last state is the one released on: what came after the release
   * is its full frame again (or nothing new). */
  assert_frames_are_states (log, states, full_only);
}

/* Every continuous control shows real frames while it moves (the tiny
 * model renders in milliseconds): the renders of the states passed
 * through, no previews. */
static void
test_drags_real_frames (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *session_file = NULL;
  HdWindow *window;

  if (!hd_ui_test_need_pointer ())
    return;
  /* What is tested: frames within the budget are never replaced by
   * previews.  The tiny model renders in a few milliseconds, but under
   * ASan with the validation layers on a loaded machine in about 200 ms,
   * so the budget is the largest the setting allows. */
  g_settings_set_uint (settings, "preview-budget-ms", 1000);
  window = open_window_saving_session (&session_file);
  drag_control (window, CONTROL_PSI, TRUE);
  drag_control (window, CONTROL_MIX, TRUE);
  drag_control (window, CONTROL_WEIGHT, TRUE);
  drag_control (window, CONTROL_PAD, TRUE);
  hd_ui_test_close_window (window);
  remove_session_file (session_file);
  g_settings_reset (settings, "preview-budget-ms");
}

/* When frames are slow (here: previews always), the moving control shows
 * previews, and the full image as soon as the pointer rests, before it
 * lets go. */
static void
test_drags_previews_then_rest (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *session_file = NULL;
  HdWindow *window;

  if (!hd_ui_test_need_pointer ())
    return;
  window = open_window_saving_session (&session_file);
  g_settings_set_string (settings, "preview-policy", "always");
  drag_control (window, CONTROL_PSI, FALSE);
  drag_control (window, CONTROL_PAD, FALSE);
  g_settings_reset (settings, "preview-policy");
  hd_ui_test_close_window (window);
  remove_session_file (session_file);
}

static void
assert_puck_at_weights (HdBlendPad *pad,
                        HdSession  *session)
{
  GListModel *domains = hd_session_get_domains (session);
  guint n = g_list_model_get_n_items (domains);
  double expected[HD_BLEND_PAD_MAX_DOMAINS], x, y;

  hd_blend_pad_get_position (pad, &x, &y);
  hd_blend_pad_weights (n, x, y, expected);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

      g_assert_cmpfloat_with_epsilon (hd_domain_item_get_weight (item), expected[i], 1e-3);
    }
  g_assert_true (hd_blend_pad_is_in_sync (pad));
}

static void
get_weights (HdSession *session,
             double    *w)
{
  GListModel *domains = hd_session_get_domains (session);

  for (guint i = 0; i < g_list_model_get_n_items (domains); i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

      w[i] = hd_domain_item_get_weight (item);
    }
}

/* Presses and lets go on the puck without moving. */
static void
click_puck (HdBlendPad *pad)
{
  double px, py;

  hd_blend_pad_get_puck_point (pad, &px, &py);
  hd_ui_test_pointer_move (GTK_WIDGET (pad), px, py);
  hd_ui_test_run_for (30);
  hd_ui_test_pointer_button (TRUE);
  hd_ui_test_run_for (150);
  hd_ui_test_pointer_button (FALSE);
  hd_ui_test_run_for (100);
}

/* The puck shows where the weights are: at start, after undo, after a
 * session is restored; says when they are off the pad; a press on it
 * changes nothing. */
static void
test_blend_pad_follows_weights (void)
{
  g_autofree char *session_file = NULL;
  HdWindow *window, *restored;
  HdSession *session;
  HdBlendPad *pad;
  HdHistory *history;
  double before[2], after[2], x, y, cx, cy;
  guint n_undo;

  if (!hd_ui_test_need_pointer ())
    return;
  window = open_window_saving_session (&session_file);
  session = hd_window_get_session (window);
  pad = hd_window_get_blend_pad (window);
  history = hd_window_get_history (window);
  scroll_into_view (GTK_WIDGET (pad));

  /* At start the first domain is at 1: the puck is on its corner. */
  hd_blend_pad_get_position (pad, &x, &y);
  hd_blend_pad_corner (0, 2, &cx, &cy);
  g_assert_cmpfloat (hypot (x - cx, y - cy), <, 1e-3);
  assert_puck_at_weights (pad, session);

  /* A press on the puck and a release change nothing. */
  hd_ui_test_run_for (100);
  n_undo = hd_history_get_n_undo (history);
  get_weights (session, before);
  click_puck (pad);
  get_weights (session, after);
  g_assert_cmpmem (before, sizeof before, after, sizeof after);
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n_undo);

  /* The keys move it; undo brings the weights and the puck back. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pad), "pad.move", "(dd)", 0.3, 0.6));
  hd_ui_test_run_for (50);
  hd_blend_pad_get_position (pad, &x, &y);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  hd_blend_pad_get_position (pad, &x, &y);
  g_assert_cmpfloat (hypot (x - cx, y - cy), <, 1e-3);
  assert_puck_at_weights (pad, session);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));
  assert_puck_at_weights (pad, session);
  hd_blend_pad_get_position (pad, &x, &y);
  g_assert_cmpfloat (hypot (x - cx, y - cy), >, 0.1);

  /* Sliders set weights the pad has: the puck goes there. */
  gtk_range_set_value (hd_window_get_domain_scale (window, 0), 0.0);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 1.0);
  hd_blend_pad_corner (1, 2, &cx, &cy);
  hd_blend_pad_get_position (pad, &x, &y);
  g_assert_cmpfloat (hypot (x - cx, y - cy), <, 1e-3);
  assert_puck_at_weights (pad, session);

  /* 1.00 and 0.95 are off the pad: it says so, and grabbing the puck
   * changes nothing until it moves. */
  gtk_range_set_value (hd_window_get_domain_scale (window, 0), 1.0);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 0.95);
  g_assert_false (hd_blend_pad_is_in_sync (pad));
  hd_ui_test_run_for (100);
  n_undo = hd_history_get_n_undo (history);
  click_puck (pad);
  get_weights (session, after);
  g_assert_cmpfloat (after[0], ==, 1.0);
  g_assert_cmpfloat (after[1], ==, 0.95);
  g_assert_false (hd_blend_pad_is_in_sync (pad));
  g_assert_cmpuint (hd_history_get_n_undo (history), ==, n_undo);

  /* A point on the pad, saved with the session and restored in a new
   * window: the puck is there. */
  hd_blend_pad_set_position (pad, -0.2, 0.4);
  hd_ui_test_wait_for_current (window, 30000);
  hd_window_flush_session (window);
  restored = hd_ui_test_open_window (NULL);
  hd_window_restore_session (restored, session_file);
  hd_ui_test_wait_for_current (restored, 60000);
  hd_blend_pad_get_position (hd_window_get_blend_pad (restored), &x, &y);
  /* With two domains the mirror image across their line has the same
   * weights. */
  g_assert_cmpfloat (hypot (fabs (x) - 0.2, y - 0.4), <, 1e-2);
  assert_puck_at_weights (hd_window_get_blend_pad (restored), hd_window_get_session (restored));

  hd_ui_test_close_window (restored);
  hd_ui_test_close_window (window);
  remove_session_file (session_file);
}

/* The wheel over the sidebar scrolls it; no slider or spin button under
 * the pointer changes. */
static void
test_wheel_scrolls (void)
{
  HdWindow *window;
  HdSession *session;
  GtkRange *psi, *mix;
  GtkWidget *scrolled;
  GtkAdjustment *adj;
  double psi_before, mix_before, scroll_before;
  guint32 seed_before;

  if (!hd_ui_test_need_pointer ())
    return;
  window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  session = hd_window_get_session (window);
  psi = hd_latent_panel_get_psi_scale (hd_window_get_latent_panel (window));
  mix = hd_latent_panel_get_mix_scale (hd_window_get_latent_panel (window));
  scrolled = gtk_widget_get_ancestor (GTK_WIDGET (psi), GTK_TYPE_SCROLLED_WINDOW);
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 500);
  hd_ui_test_run_for (300);
  gtk_adjustment_set_value (adj, 0);
  hd_ui_test_run_for (100);
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj), >, 50);

  psi_before = gtk_range_get_value (psi);
  mix_before = gtk_range_get_value (mix);
  seed_before = hd_session_get_seed (session);
  scroll_before = gtk_adjustment_get_value (adj);

  /* Over ψ: the sidebar moves, so the mix slider and the seed pass under
   * the pointer too. */
  hd_ui_test_pointer_move (GTK_WIDGET (psi), gtk_widget_get_width (GTK_WIDGET (psi)) / 2.0,
                           gtk_widget_get_height (GTK_WIDGET (psi)) / 2.0);
  hd_ui_test_pointer_scroll (6);
  hd_ui_test_run_for (300);
  hd_ui_test_pointer_scroll (-8);
  hd_ui_test_run_for (300);
  hd_ui_test_pointer_scroll (3);
  hd_ui_test_run_for (300);

  g_assert_cmpfloat (gtk_range_get_value (psi), ==, psi_before);
  g_assert_cmpfloat (gtk_range_get_value (mix), ==, mix_before);
  g_assert_cmpuint (hd_session_get_seed (session), ==, seed_before);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), !=, scroll_before);

  hd_ui_test_close_window (window);
}

static gboolean
no_preferences (gpointer data)
{
  GtkWidget **prefs = data;

  return *prefs == NULL;
}

/* Preferences closed with Escape, a click on the image, undo and redo
 * from the keyboard, and slider drags between them, in a window that saves
 * its session: repeated, with criticals fatal. */
static void
test_dialog_click_undo (void)
{
  g_autofree char *session_file = NULL;
  HdWindow *window;
  HdLatentPanel *panel;

  if (!hd_ui_test_need_pointer ())
    return;
  window = open_window_saving_session (&session_file);
  panel = hd_window_get_latent_panel (window);

  for (int round = 0; round < 3; round++)
    {
      g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_render_job_unref);
      GtkWidget *prefs = hd_preferences_window_new (GTK_WINDOW (window));
      GtkWidget *image = GTK_WIDGET (hd_window_get_image_view (window));
      double points[2 * 3];

      g_object_add_weak_pointer (G_OBJECT (prefs), (gpointer *) &prefs);
      gtk_window_present (GTK_WINDOW (prefs));
      hd_ui_test_run_for (100 + 200 * round);
      hd_ui_test_pointer_move (prefs, 40, 40);
      hd_ui_test_key ("Escape");
      hd_ui_test_wait_until (no_preferences, &prefs, 30000, "Preferences to close");
      {
        g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
        g_autofree char *policy = g_settings_get_string (settings, "preview-policy");
        g_autofree char *device = g_settings_get_string (settings, "device");

        /* Closing changed no setting. */
        g_assert_cmpstr (policy, ==, "auto");
        g_assert_cmpstr (device, ==, "auto");
      }

      hd_ui_test_pointer_move (image, gtk_widget_get_width (image) / 2.0, gtk_widget_get_height (image) / 2.0);
      hd_ui_test_pointer_button (TRUE);
      hd_ui_test_pointer_button (FALSE);
      hd_ui_test_key ("ctrl+z");
      hd_ui_test_run_for (50 * round);

      scroll_into_view (GTK_WIDGET (hd_latent_panel_get_psi_scale (panel)));
      slider_points (hd_latent_panel_get_psi_scale (panel), 0.4 + 0.2 * round, 3, points);
      drag_through (window, GTK_WIDGET (hd_latent_panel_get_psi_scale (panel)), points, 3, states);
      hd_ui_test_key ("ctrl+z");
      hd_ui_test_key ("ctrl+shift+z");
      hd_ui_test_key ("ctrl+z");
      hd_ui_test_wait_for_current (window, 30000);
    }

  hd_ui_test_close_window (window);
  remove_session_file (session_file);
}


static gboolean
comparing_frame_shown (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_frame (window);

  if (frame == NULL || frame->preview || !hd_window_get_comparing (window))
    return FALSE;
  for (guint i = 0; i < frame->job->state->domains->len; i++)
    if (job_weight (frame->job, i) != 0.0f)
      return FALSE;
  return TRUE;
}

static gboolean
state_frame_shown (gpointer data)
{
  HdWindow *window = data;

  return !hd_window_get_comparing (window) && rest_frame_shown (window);
}

/* Holding O, or the compare button, shows the original generator at the
 * same latent (the render of the state with every weight at 0); letting
 * go shows the state again. */
static void
assert_compare (HdWindow  *window,
                gboolean   with_key)
{
  GtkWidget *button = NULL;
  HdRenderFrame *frame;
  g_autoptr(HdRenderJob) job = hd_session_create_job (hd_window_get_session (window));

  g_assert_cmpfloat (job_weight (job, 0), !=, 0.0f);
  if (with_key)
    {
      GtkWidget *image = GTK_WIDGET (hd_window_get_image_view (window));

      hd_ui_test_pointer_move (image, 20, 20);
      hd_ui_test_key_hold ("o", TRUE);
    }
  else
    {
      button = hd_window_get_compare_button (window);
      hd_ui_test_pointer_move (button, gtk_widget_get_width (button) / 2.0,
                               gtk_widget_get_height (button) / 2.0);
      hd_ui_test_pointer_button (TRUE);
    }
  hd_ui_test_wait_until (comparing_frame_shown, window, 30000, "the original generator's image");
  frame = hd_window_get_frame (window);
  g_assert_cmpuint (frame->job->state->seed, ==, job->state->seed);
  g_assert_cmpfloat (frame->job->state->psi, ==, job->state->psi);
  assert_frame_is_render_of_its_state (frame);

  if (with_key)
    hd_ui_test_key_hold ("o", FALSE);
  else
    hd_ui_test_pointer_button (FALSE);
  hd_ui_test_wait_until (state_frame_shown, window, 30000, "the image of the state again");
  assert_frame_is_render_of_its_state (hd_window_get_frame (window));
}

static gboolean
zoomed_original (gpointer data)
{
  return hd_image_view_get_zoom_original (data);
}

static gboolean
zoomed_to_fit (gpointer data)
{
  return !hd_image_view_get_zoom_original (data);
}

/* The view: zoom to fit and 1:1 from the keys, smooth or pixel-exact
 * scaling (remembered), press-and-hold to compare with the original. */
static void
test_view_options (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  HdWindow *window, *second;
  HdImageView *view;
  GtkWidget *image;

  if (!hd_ui_test_need_pointer ())
    return;
  window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  view = hd_window_get_image_view (window);
  image = GTK_WIDGET (view);

  hd_ui_test_pointer_move (image, 20, 20);
  hd_ui_test_key ("ctrl+1");
  hd_ui_test_wait_until (zoomed_original, view, 10000, "Ctrl+1 to show the original size");
  hd_ui_test_key ("ctrl+0");
  hd_ui_test_wait_until (zoomed_to_fit, view, 10000, "Ctrl+0 to fit the image");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-actual", NULL));
  g_assert_true (hd_image_view_get_zoom_original (view));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-fit", NULL));
  g_assert_false (hd_image_view_get_zoom_original (view));

  g_assert_false (hd_image_view_get_smooth (view));
  g_action_group_activate_action (G_ACTION_GROUP (window), "smooth-scaling", NULL);
  g_assert_true (hd_image_view_get_smooth (view));
  g_assert_true (g_settings_get_boolean (settings, "smooth-scaling"));
  second = hd_ui_test_open_window (NULL);
  g_assert_true (hd_image_view_get_smooth (hd_window_get_image_view (second)));
  hd_ui_test_close_window (second);
  g_action_group_activate_action (G_ACTION_GROUP (window), "smooth-scaling", NULL);
  g_assert_false (hd_image_view_get_smooth (view));

  assert_compare (window, TRUE);
  assert_compare (window, FALSE);

  hd_ui_test_close_window (window);
}


/* A narrow window puts the controls below the image: both stay in view,
 * side by side again when it is wide. */
static void
test_narrow_window (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  GtkWidget *image = GTK_WIDGET (hd_window_get_image_view (window));
  GtkWidget *psi = GTK_WIDGET (hd_latent_panel_get_psi_scale (hd_window_get_latent_panel (window)));
  graphene_rect_t image_box, psi_box;

  g_assert_false (hd_window_is_narrow (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 400, 760);
  hd_ui_test_run_for (500);
  g_assert_true (hd_window_is_narrow (window));
  g_assert_true (gtk_widget_compute_bounds (image, GTK_WIDGET (window), &image_box));
  g_assert_true (gtk_widget_compute_bounds (psi, GTK_WIDGET (window), &psi_box));
  g_test_message ("narrow: image %.0fx%.0f at %.0f,%.0f; ψ slider at %.0f,%.0f",
                  image_box.size.width, image_box.size.height, image_box.origin.x, image_box.origin.y,
                  psi_box.origin.x, psi_box.origin.y);
  /* The image keeps most of the width and half the height; the controls
   * are below it, not over it. */
  g_assert_cmpfloat (image_box.size.width, >=, 300);
  g_assert_cmpfloat (image_box.size.height, >=, 250);
  g_assert_true (gtk_widget_get_mapped (psi));
  g_assert_cmpfloat (psi_box.origin.y, >=, image_box.origin.y + image_box.size.height);
  g_assert_cmpfloat (psi_box.origin.y, <, 760);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  hd_ui_test_run_for (500);
  g_assert_false (hd_window_is_narrow (window));
  g_assert_true (gtk_widget_compute_bounds (image, GTK_WIDGET (window), &image_box));
  g_assert_true (gtk_widget_compute_bounds (psi, GTK_WIDGET (window), &psi_box));
  g_assert_cmpfloat (psi_box.origin.x, >=, image_box.origin.x + image_box.size.width);

  hd_ui_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Drags/real-frames", test_drags_real_frames);
  g_test_add_func ("/Hyperdomain/Drags/previews-then-rest", test_drags_previews_then_rest);
  g_test_add_func ("/Hyperdomain/Drags/blend-pad-follows-weights", test_blend_pad_follows_weights);
  g_test_add_func ("/Hyperdomain/Drags/wheel-scrolls", test_wheel_scrolls);
  g_test_add_func ("/Hyperdomain/Drags/dialog-click-undo", test_dialog_click_undo);
  g_test_add_func ("/Hyperdomain/Drags/view-options", test_view_options);
  g_test_add_func ("/Hyperdomain/Drags/narrow-window", test_narrow_window);

  return g_test_run ();
}
