/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Slider"

#include "config.h"

#include "hd-slider.h"

typedef struct
{
  GWeakRef session;
  double   reset_value;
  guint32  last_press_time;
  double   last_press_x;
  double   last_press_y;
} SliderData;

static void
slider_data_free (gpointer  data,
                  GClosure *closure)
{
  SliderData *sd = data;

  g_weak_ref_clear (&sd->session);
  g_free (sd);
}

static void
set_interactive (SliderData *sd,
                 gboolean    interactive)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&sd->session);

  if (session != NULL)
    hd_session_set_interactive (session, interactive);
}

static gboolean
is_double_click (GtkWidget  *widget,
                 SliderData *sd,
                 GdkEvent   *event)
{
  GtkSettings *settings = gtk_widget_get_settings (widget);
  guint32 time = gdk_event_get_time (event);
  int dc_time = 400, dc_distance = 5;
  double x = 0, y = 0;
  gboolean result;

  g_object_get (settings,
                "gtk-double-click-time", &dc_time,
                "gtk-double-click-distance", &dc_distance,
                NULL);
  gdk_event_get_position (event, &x, &y);

  result = sd->last_press_time != 0 &&
           time - sd->last_press_time <= (guint32) dc_time &&
           ABS (x - sd->last_press_x) <= dc_distance &&
           ABS (y - sd->last_press_y) <= dc_distance;

  sd->last_press_time = result ? 0 : time;
  sd->last_press_x = x;
  sd->last_press_y = y;

  return result;
}

static gboolean
on_event (GtkEventControllerLegacy *controller,
          GdkEvent                 *event,
          SliderData               *sd)
{
  GtkWidget *range = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));

  switch ((int) gdk_event_get_event_type (event))
    {
    case GDK_BUTTON_PRESS:
      if (gdk_button_event_get_button (event) != GDK_BUTTON_PRIMARY)
        break;
      G_GNUC_FALLTHROUGH;
    case GDK_TOUCH_BEGIN:
      if (is_double_click (range, sd, event))
        {
          gtk_range_set_value (GTK_RANGE (range), sd->reset_value);
          return GDK_EVENT_STOP;
        }
      set_interactive (sd, TRUE);
      break;

    case GDK_BUTTON_RELEASE:
    case GDK_TOUCH_END:
    case GDK_TOUCH_CANCEL:
    case GDK_GRAB_BROKEN:
      set_interactive (sd, FALSE);
      break;

    default:
      break;
    }

  return GDK_EVENT_PROPAGATE;
}

void
hd_widget_pass_wheel (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = NULL;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  /* The widget's own wheel handler (GtkRange's, GtkSpinButton's) stops
   * listening, so the event goes on to the scrolled window around it. */
  controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_SCROLL (controller))
        gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_NONE);
    }
}

void
hd_slider_setup (GtkRange  *range,
                 HdSession *session,
                 double     reset_value)
{
  GtkEventController *controller;
  SliderData *sd;

  g_return_if_fail (GTK_IS_RANGE (range));
  g_return_if_fail (HD_IS_SESSION (session));

  sd = g_new0 (SliderData, 1);
  g_weak_ref_init (&sd->session, session);
  sd->reset_value = reset_value;

  controller = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_data (controller, "event", G_CALLBACK (on_event),
                         sd, slider_data_free, 0);
  gtk_widget_add_controller (GTK_WIDGET (range), controller);
  hd_widget_pass_wheel (GTK_WIDGET (range));
}
