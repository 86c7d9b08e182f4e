/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-BlendPad"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "hd-blend-pad.h"
#include "hd-blend-weights.h"

/* Room around the polygon for the labels, in pixels. */
#define MARGIN 34.0
#define PUCK_RADIUS 9.0
#define KEY_STEP 0.05
#define KEY_STEP_FINE 0.01
/* A press this close to the puck grabs it, in pixels. */
#define GRAB_RADIUS (PUCK_RADIUS + 6.0)
/* How far the pointer moves before a press becomes a drag, in pixels. */
#define DRAG_THRESHOLD 3.0
/* The items clamp and the sliders round to 3 digits: weights this close
 * are the same. */
#define SAME_WEIGHT 5e-4
/* How often the puck follows weights changed elsewhere, in ms. */
#define SYNC_INTERVAL_MS 16

struct _HdBlendPad
{
  GtkWidget   parent_instance;

  HdSession  *session;
  GtkGesture *drag;
  double      x, y;          /* the puck, in the unit disc */
  double      drag_x, drag_y; /* where the press was, in pixels */
  double      grab_x, grab_y; /* the puck at the press */
  gboolean    grabbed;        /* the press was on the puck */
  gboolean    dragging;       /* the pointer has moved since the press */
  gboolean    in_sync;        /* the puck stands for the weights */
  gboolean    setting;
  guint       sync_id;        /* the weights changed: find them on the pad */
};

enum {
  PROP_0,
  PROP_IN_SYNC,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HdBlendPad, hd_blend_pad, GTK_TYPE_WIDGET)

static guint
n_domains (HdBlendPad *self)
{
  if (self->session == NULL)
    return 0;
  return MIN (g_list_model_get_n_items (hd_session_get_domains (self->session)),
              HD_BLEND_PAD_MAX_DOMAINS);
}

/* The pad's centre and radius in pixels. */
static void
geometry (HdBlendPad *self,
          double     *cx,
          double     *cy,
          double     *radius)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));

  *cx = w / 2;
  *cy = h / 2;
  *radius = MAX (10.0, MIN (w, h) / 2 - MARGIN);
}

static void
hd_blend_pad_update_accessible (HdBlendPad *self)
{
  GListModel *domains;
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = n_domains (self);

  if (n == 0)
    return;
  domains = hd_session_get_domains (self->session);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append_printf (text, _("%s %.2f"), hd_domain_item_get_name (item),
                              hd_domain_item_get_weight (item));
    }
  if (!self->in_sync)
    {
      g_string_append (text, "; ");
      g_string_append (text, _("these weights are off the pad"));
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text->str,
                                  -1);
}

static void
set_in_sync (HdBlendPad *self,
             gboolean    in_sync)
{
  if (self->in_sync == in_sync)
    return;
  self->in_sync = in_sync;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IN_SYNC]);
}

/* Whether the session's weights are those of the puck at (X, Y). */
static gboolean
weights_match (HdBlendPad   *self,
               const double *weights,
               double        x,
               double        y)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];
  guint n = n_domains (self);

  hd_blend_pad_weights (n, x, y, w);
  for (guint i = 0; i < n; i++)
    if (fabs (weights[i] - w[i]) > SAME_WEIGHT)
      return FALSE;
  return TRUE;
}

/* Puts the puck where the session's weights are, or, when no point of
 * the pad gives them, as near as it comes and out of sync. */
static void
sync_to_weights (HdBlendPad *self)
{
  double weights[HD_BLEND_PAD_MAX_DOMAINS];
  GListModel *domains = hd_session_get_domains (self->session);
  guint n = n_domains (self);
  double x, y;

  if (n == 0 || n != g_list_model_get_n_items (domains))
    {
      set_in_sync (self, FALSE);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

      weights[i] = hd_domain_item_get_weight (item);
    }
  /* Where the puck is already right it stays (with one or two domains
   * several points give the same weights). */
  if (weights_match (self, weights, self->x, self->y))
    {
      set_in_sync (self, TRUE);
      return;
    }
  hd_blend_pad_locate (n, weights, &x, &y);
  self->x = x;
  self->y = y;
  set_in_sync (self, weights_match (self, weights, x, y));
}

static gboolean
on_sync (gpointer data)
{
  HdBlendPad *self = data;

  self->sync_id = 0;
  if (self->session != NULL)
    {
      sync_to_weights (self);
      hd_blend_pad_update_accessible (self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* Finds a change of the weights made elsewhere now, if one is waiting. */
static void
flush_sync (HdBlendPad *self)
{
  if (self->sync_id != 0)
    {
      g_clear_handle_id (&self->sync_id, g_source_remove);
      on_sync (self);
    }
}

static void
on_session_changed (HdBlendPad *self)
{
  if (self->session == NULL)
    {
      g_clear_handle_id (&self->sync_id, g_source_remove);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (self->setting)
    {
      hd_blend_pad_update_accessible (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  /* Once for a burst of changes (a slider dragged, a state restored):
   * at most once a display frame, so that a drag elsewhere does not spend
   * the interface's time on the pad.  The getters find it at once. */
  if (self->sync_id == 0)
    self->sync_id = g_timeout_add_full (G_PRIORITY_HIGH_IDLE + 10, SYNC_INTERVAL_MS, on_sync, self, NULL);
}

static void
on_domains_changed (HdBlendPad *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self), n_domains (self) > 0);
  on_session_changed (self);
}

void
hd_blend_pad_set_position (HdBlendPad *self,
                           double      x,
                           double      y)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];
  guint n;

  g_return_if_fail (HD_IS_BLEND_PAD (self));

  g_clear_handle_id (&self->sync_id, g_source_remove);
  hd_blend_pad_clamp (&x, &y);
  self->x = x;
  self->y = y;
  n = n_domains (self);
  if (n > 0 && n == g_list_model_get_n_items (hd_session_get_domains (self->session)))
    {
      hd_blend_pad_weights (n, x, y, w);
      self->setting = TRUE;
      hd_session_set_weights (self->session, w, n);
      self->setting = FALSE;
      set_in_sync (self, TRUE);
    }
  hd_blend_pad_update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hd_blend_pad_get_position (HdBlendPad *self,
                           double     *x,
                           double     *y)
{
  g_return_if_fail (HD_IS_BLEND_PAD (self));

  flush_sync (self);
  *x = self->x;
  *y = self->y;
}

void
hd_blend_pad_get_puck_point (HdBlendPad *self,
                             double     *px,
                             double     *py)
{
  double cx, cy, radius;

  g_return_if_fail (HD_IS_BLEND_PAD (self));

  flush_sync (self);
  geometry (self, &cx, &cy, &radius);
  *px = cx + self->x * radius;
  *py = cy + self->y * radius;
}

gboolean
hd_blend_pad_is_in_sync (HdBlendPad *self)
{
  g_return_val_if_fail (HD_IS_BLEND_PAD (self), FALSE);

  flush_sync (self);
  return self->in_sync;
}

static void
move_to_pixel (HdBlendPad *self,
               double      px,
               double      py)
{
  double cx, cy, radius;

  geometry (self, &cx, &cy, &radius);
  hd_blend_pad_set_position (self, (px - cx) / radius, (py - cy) / radius);
}

/* Pointer and touch.  A press changes nothing: a drag that starts on
 * the puck moves it by as much as the pointer moves, one that starts
 * elsewhere brings it under the pointer, and a click away from the puck
 * puts it there. */

static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               HdBlendPad     *self)
{
  double cx, cy, radius;

  if (n_domains (self) == 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_widget_grab_focus (GTK_WIDGET (self));
  flush_sync (self);
  geometry (self, &cx, &cy, &radius);
  self->drag_x = x;
  self->drag_y = y;
  self->grab_x = self->x;
  self->grab_y = self->y;
  self->grabbed = hypot (x - (cx + self->x * radius), y - (cy + self->y * radius)) <= GRAB_RADIUS;
  self->dragging = FALSE;
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                HdBlendPad     *self)
{
  double cx, cy, radius;

  if (self->session == NULL)
    return;
  if (!self->dragging)
    {
      if (hypot (dx, dy) < DRAG_THRESHOLD)
        return;
      /* The whole drag is one step of undo and renders as a drag. */
      self->dragging = TRUE;
      hd_session_set_interactive (self->session, TRUE);
    }
  geometry (self, &cx, &cy, &radius);
  if (self->grabbed)
    hd_blend_pad_set_position (self, self->grab_x + dx / radius, self->grab_y + dy / radius);
  else
    move_to_pixel (self, self->drag_x + dx, self->drag_y + dy);
}

static void
end_drag (HdBlendPad *self)
{
  if (self->dragging && self->session != NULL)
    hd_session_set_interactive (self->session, FALSE);
  self->dragging = FALSE;
}

static void
on_drag_end (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             HdBlendPad     *self)
{
  if (!self->dragging && !self->grabbed && self->session != NULL &&
      hypot (dx, dy) < DRAG_THRESHOLD)
    move_to_pixel (self, self->drag_x, self->drag_y);
  end_drag (self);
}

static void
on_drag_cancel (GtkGesture       *gesture,
                GdkEventSequence *sequence,
                HdBlendPad       *self)
{
  end_drag (self);
}

/* Keyboard */

static void
hd_blend_pad_move_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdBlendPad *self = HD_BLEND_PAD (widget);
  double dx, dy;

  if (n_domains (self) == 0)
    return;
  flush_sync (self);
  g_variant_get (param, "(dd)", &dx, &dy);
  hd_blend_pad_set_position (self, self->x + dx, self->y + dy);
}

static void
hd_blend_pad_center_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdBlendPad *self = HD_BLEND_PAD (widget);

  if (n_domains (self) > 0)
    hd_blend_pad_set_position (self, 0, 0);
}

static void
hd_blend_pad_corner_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdBlendPad *self = HD_BLEND_PAD (widget);
  guint i = g_variant_get_uint32 (param);
  guint n = n_domains (self);
  double x, y;

  if (i >= n)
    return;
  hd_blend_pad_corner (i, n, &x, &y);
  hd_blend_pad_set_position (self, x, y);
}

/* Drawing */

static void
set_color (cairo_t       *cr,
           const GdkRGBA *color,
           double         alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
draw_label (HdBlendPad    *self,
            cairo_t       *cr,
            const char    *text,
            double         x,
            double         y,
            double         dir_x,
            double         dir_y,
            const GdkRGBA *color)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;
  double lx, ly;
  double max_w = gtk_widget_get_width (GTK_WIDGET (self)) / 2.2;

  pango_layout_set_width (layout, (int) (max_w * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (layout, &w, &h);
  /* Outside the corner, away from the centre. */
  lx = x + dir_x * 14 - w / 2.0 + dir_x * w / 2.0;
  ly = y + dir_y * 14 - h / 2.0 + dir_y * h / 2.0;
  lx = CLAMP (lx, 2, gtk_widget_get_width (GTK_WIDGET (self)) - w - 2);
  ly = CLAMP (ly, 2, gtk_widget_get_height (GTK_WIDGET (self)) - h - 2);
  set_color (cr, color, 1.0);
  cairo_move_to (cr, lx, ly);
  pango_cairo_show_layout (cr, layout);
}

static void
hd_blend_pad_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  HdBlendPad *self = HD_BLEND_PAD (widget);
  GdkRGBA fg;
  GdkRGBA accent = { 0.208, 0.518, 0.894, 1.0 };  /* the Adwaita accent */
  double cx, cy, radius;
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double weights[HD_BLEND_PAD_MAX_DOMAINS];
  guint n = n_domains (self);
  GListModel *domains;
  cairo_t *cr;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS

  if (w <= 0 || h <= 0)
    return;
  geometry (self, &cx, &cy, &radius);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));

  /* The disc the puck moves in. */
  cairo_new_sub_path (cr);
  cairo_arc (cr, cx, cy, radius, 0, 2 * G_PI);
  set_color (cr, &fg, 0.04);
  cairo_fill_preserve (cr);
  set_color (cr, &fg, 0.15);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  domains = self->session != NULL ? hd_session_get_domains (self->session) : NULL;
  if (n > 0)
    {
      hd_blend_pad_weights (n, self->x, self->y, weights);

      /* The polygon and the spokes. */
      cairo_set_line_width (cr, 1.5);
      for (guint i = 0; i < n; i++)
        {
          double x, y;

          hd_blend_pad_corner (i, n, &x, &y);
          if (i == 0)
            cairo_move_to (cr, cx + x * radius, cy + y * radius);
          else
            cairo_line_to (cr, cx + x * radius, cy + y * radius);
        }
      if (n > 2)
        cairo_close_path (cr);
      set_color (cr, &fg, 0.3);
      cairo_stroke (cr);
      for (guint i = 0; i < n; i++)
        {
          double x, y;

          hd_blend_pad_corner (i, n, &x, &y);
          cairo_move_to (cr, cx, cy);
          cairo_line_to (cr, cx + x * radius, cy + y * radius);
        }
      set_color (cr, &fg, 0.12);
      cairo_stroke (cr);

      /* The corners: a dot that fills with the domain's weight, and its
       * name. */
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);
          g_autofree char *label = NULL;
          double x, y, weight = hd_domain_item_get_weight (item);

          hd_blend_pad_corner (i, n, &x, &y);
          cairo_new_sub_path (cr);
          cairo_arc (cr, cx + x * radius, cy + y * radius, 6, 0, 2 * G_PI);
          set_color (cr, &fg, 0.25);
          cairo_fill (cr);
          cairo_new_sub_path (cr);
          cairo_arc (cr, cx + x * radius, cy + y * radius, 6 * sqrt (CLAMP (fabs (weight), 0, 1)), 0, 2 * G_PI);
          set_color (cr, &accent, 1.0);
          cairo_fill (cr);
          label = n <= 9 ? g_strdup_printf ("%u %s", i + 1, hd_domain_item_get_name (item))
                         : g_strdup (hd_domain_item_get_name (item));
          draw_label (self, cr, label, cx + x * radius, cy + y * radius, x, y, &fg);
        }
    }

  /* The original generator in the centre. */
  cairo_new_path (cr);
  cairo_arc (cr, cx, cy, 4, 0, 2 * G_PI);
  set_color (cr, &fg, 0.5);
  cairo_fill (cr);
  {
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, _("Original"));
    int lw, lh;

    pango_layout_get_pixel_size (layout, &lw, &lh);
    set_color (cr, &fg, 0.55);
    cairo_move_to (cr, cx - lw / 2.0, cy + PUCK_RADIUS + 5);
    pango_cairo_show_layout (cr, layout);
    cairo_new_path (cr);
  }

  /* The puck: filled when the weights are its own, a ring when they were
   * changed elsewhere. */
  if (n > 0)
    {
      double px = cx + self->x * radius, py = cy + self->y * radius;

      cairo_new_sub_path (cr);
      cairo_arc (cr, px, py, PUCK_RADIUS, 0, 2 * G_PI);
      if (self->in_sync)
        {
          set_color (cr, &accent, 1.0);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
        }
      else
        {
          /* Off the pad: a dashed ring where the pad comes nearest. */
          static const double dash[] = { 3.0, 3.0 };

          cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
          set_color (cr, &accent, 0.9);
        }
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);

      if (gtk_widget_has_visible_focus (widget))
        {
          cairo_new_sub_path (cr);
          cairo_arc (cr, px, py, PUCK_RADIUS + 4, 0, 2 * G_PI);
          set_color (cr, &accent, 0.5);
          cairo_set_line_width (cr, 2);
          cairo_stroke (cr);
        }
    }

  cairo_destroy (cr);
}

static void
hd_blend_pad_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  *minimum = 160;
  *natural = 260;
}

static GtkSizeRequestMode
hd_blend_pad_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
hd_blend_pad_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  HdBlendPad *self = HD_BLEND_PAD (object);

  switch (prop_id)
    {
    case PROP_IN_SYNC:
      g_value_set_boolean (value, self->in_sync);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_blend_pad_dispose (GObject *object)
{
  HdBlendPad *self = (HdBlendPad *)object;

  hd_blend_pad_set_session (self, NULL);
  g_clear_handle_id (&self->sync_id, g_source_remove);

  G_OBJECT_CLASS (hd_blend_pad_parent_class)->dispose (object);
}

static void
add_move_binding (GtkWidgetClass *widget_class,
                  guint           keyval,
                  GdkModifierType mods,
                  double          dx,
                  double          dy)
{
  gtk_widget_class_add_binding_action (widget_class, keyval, mods, "pad.move", "(dd)", dx, dy);
}

static void
hd_blend_pad_class_init (HdBlendPadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_blend_pad_dispose;
  object_class->get_property = hd_blend_pad_get_property;
  widget_class->snapshot = hd_blend_pad_snapshot;
  widget_class->measure = hd_blend_pad_measure;
  widget_class->get_request_mode = hd_blend_pad_get_request_mode;

  /* Whether the puck stands for the weights: FALSE when no point of the
   * pad gives them (the puck is then where it comes nearest). */
  properties[PROP_IN_SYNC] =
    g_param_spec_boolean ("in-sync", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "pad.move", "(dd)", hd_blend_pad_move_action);
  gtk_widget_class_install_action (widget_class, "pad.center", NULL, hd_blend_pad_center_action);
  gtk_widget_class_install_action (widget_class, "pad.corner", "u", hd_blend_pad_corner_action);

  add_move_binding (widget_class, GDK_KEY_Left, 0, -KEY_STEP, 0);
  add_move_binding (widget_class, GDK_KEY_Right, 0, KEY_STEP, 0);
  add_move_binding (widget_class, GDK_KEY_Up, 0, 0, -KEY_STEP);
  add_move_binding (widget_class, GDK_KEY_Down, 0, 0, KEY_STEP);
  add_move_binding (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, -KEY_STEP_FINE, 0);
  add_move_binding (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, KEY_STEP_FINE, 0);
  add_move_binding (widget_class, GDK_KEY_Up, GDK_SHIFT_MASK, 0, -KEY_STEP_FINE);
  add_move_binding (widget_class, GDK_KEY_Down, GDK_SHIFT_MASK, 0, KEY_STEP_FINE);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "pad.center", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "pad.center", NULL);
  for (guint i = 0; i < 9; i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, 0, "pad.corner", "u", i);

  gtk_widget_class_set_css_name (widget_class, "blendpad");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
hd_blend_pad_init (HdBlendPad *self)
{
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focus_on_click (GTK_WIDGET (self), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               _("Drag to blend the domains; arrow keys move, Home returns to the original, 1–9 go to a domain"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Blend pad"),
                                  -1);

  self->drag = gtk_gesture_drag_new ();
  g_signal_connect (self->drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (self->drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (self->drag, "drag-end", G_CALLBACK (on_drag_end), self);
  g_signal_connect (self->drag, "cancel", G_CALLBACK (on_drag_cancel), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->drag));
}

GtkWidget *
hd_blend_pad_new (void)
{
  return g_object_new (HD_TYPE_BLEND_PAD, NULL);
}

void
hd_blend_pad_set_session (HdBlendPad *self,
                          HdSession  *session)
{
  g_return_if_fail (HD_IS_BLEND_PAD (self));

  if (self->session == session)
    return;

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_signal_handlers_disconnect_by_data (hd_session_get_domains (self->session), self);
      g_clear_object (&self->session);
    }
  if (session != NULL)
    {
      self->session = g_object_ref (session);
      g_signal_connect_object (session, "changed", G_CALLBACK (on_session_changed), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (hd_session_get_domains (session), "items-changed",
                               G_CALLBACK (on_domains_changed), self, G_CONNECT_SWAPPED);
    }
  self->x = 0;
  self->y = 0;
  on_domains_changed (self);
}
