/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-ImageView"

#include "config.h"

#include <math.h>
#include <string.h>

#include "hd-image-view.h"

/* Enlarged copies are never made wider or taller than this. */
#define MAX_UPSCALED_SIZE 4096
/* Space around the image when it is fitted into the view. */
#define FIT_MARGIN 12

struct _HdImageView
{
  GtkWidget   parent_instance;

  GtkLabel   *stats_label;
  GtkLabel   *badge_label;

  GdkTexture *texture;
  int         width;
  int         height;

  /* TEXTURE enlarged to the size it is shown at (see upscale_nearest) */
  GdkTexture *upscaled;
  char       *stats;

  gboolean    zoom_original;
  gboolean    smooth;
  gboolean    show_stats;
  double      pan_x;
  double      pan_y;
  double      drag_start_x;
  double      drag_start_y;
  guint       n_updates;
};

G_DEFINE_FINAL_TYPE (HdImageView, hd_image_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ZOOM_ORIGINAL,
  PROP_SMOOTH,
  PROP_SHOW_STATS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* TEXTURE enlarged to exactly WIDTH x HEIGHT pixels with nearest
 * filtering, so it is drawn without further scaling: crisp, and cheap
 * for every renderer. */
static GdkTexture *
upscale_nearest (GdkTexture *texture,
                 int         width,
                 int         height)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  gsize src_stride = (gsize) w * 4;
  gsize dst_stride = (gsize) width * 4;
  g_autofree guint8 *src = g_malloc (src_stride * h);
  g_autofree int *xs = g_new (int, width);
  guint8 *dst = g_malloc (dst_stride * height);
  GBytes *bytes;
  GdkTexture *result;
  int last_sy = -1;

  gdk_texture_download (texture, src, src_stride);

  for (int x = 0; x < width; x++)
    xs[x] = MIN ((int) (((gint64) x * w) / width), w - 1);

  for (int y = 0; y < height; y++)
    {
      int sy = MIN ((int) (((gint64) y * h) / height), h - 1);
      guint32 *row = (guint32 *) (dst + (gsize) y * dst_stride);

      if (sy == last_sy)
        {
          memcpy (row, dst + (gsize) (y - 1) * dst_stride, dst_stride);
          continue;
        }
      {
        const guint32 *s = (const guint32 *) (src + (gsize) sy * src_stride);

        for (int x = 0; x < width; x++)
          row[x] = s[xs[x]];
      }
      last_sy = sy;
    }

  bytes = g_bytes_new_take (dst, dst_stride * height);
  result = gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, dst_stride);
  g_bytes_unref (bytes);

  return result;
}

/* Where the image goes, in widget coordinates, and its scale in device
 * pixels per texture pixel. */
static void
hd_image_view_get_image_rect (HdImageView     *self,
                              graphene_rect_t *rect)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  int sf = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  double scale, dw, dh, x, y;

  if (self->zoom_original)
    scale = 1.0 / sf;
  else
    scale = MAX (0.0, MIN ((w - 2 * FIT_MARGIN) / self->width, (h - 2 * FIT_MARGIN) / self->height));

  dw = self->width * scale;
  dh = self->height * scale;
  x = (w - dw) / 2;
  y = (h - dh) / 2;

  if (self->zoom_original)
    {
      /* Panning moves the image, but never further than its edges. */
      double max_x = MAX (0.0, (dw - w) / 2);
      double max_y = MAX (0.0, (dh - h) / 2);

      self->pan_x = CLAMP (self->pan_x, -max_x, max_x);
      self->pan_y = CLAMP (self->pan_y, -max_y, max_y);
      x += self->pan_x;
      y += self->pan_y;
    }

  /* Whole device pixels keep the edges sharp. */
  x = round (x * sf) / sf;
  y = round (y * sf) / sf;
  graphene_rect_init (rect, x, y, dw, dh);
}

static void
hd_image_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  HdImageView *self = HD_IMAGE_VIEW (widget);

  if (self->texture != NULL && self->width > 0 && self->height > 0)
    {
      graphene_rect_t rect;
      int sf = gtk_widget_get_scale_factor (widget);
      int tw = gdk_texture_get_width (self->texture);
      GdkTexture *texture = self->texture;
      int dw, dh;

      hd_image_view_get_image_rect (self, &rect);
      dw = (int) round (rect.size.width * sf);
      dh = (int) round (rect.size.height * sf);

      /* Enlarged, pixel-exact: nearest filtering.  Smooth, or shrunk: the
       * renderer's (linear) filter. */
      if (!self->smooth && dw > tw && dw <= MAX_UPSCALED_SIZE && dh <= MAX_UPSCALED_SIZE)
        {
          if (self->upscaled == NULL ||
              gdk_texture_get_width (self->upscaled) != dw ||
              gdk_texture_get_height (self->upscaled) != dh)
            {
              g_clear_object (&self->upscaled);
              self->upscaled = upscale_nearest (self->texture, dw, dh);
            }
          texture = self->upscaled;
          rect.size.width = (float) dw / sf;
          rect.size.height = (float) dh / sf;
        }

      gtk_snapshot_append_texture (snapshot, texture, &rect);
    }

  gtk_widget_snapshot_child (widget, GTK_WIDGET (self->stats_label), snapshot);
  gtk_widget_snapshot_child (widget, GTK_WIDGET (self->badge_label), snapshot);
}

static void
hd_image_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  HdImageView *self = HD_IMAGE_VIEW (widget);
  int child_min = 0, child_nat = 0;

  gtk_widget_measure (GTK_WIDGET (self->stats_label), orientation, -1,
                      &child_min, &child_nat, NULL, NULL);

  *minimum = child_min;
  *natural = MAX (child_nat, 256);
}

static void
hd_image_view_size_allocate (GtkWidget *widget,
                             int        width,
                             int        height,
                             int        baseline)
{
  HdImageView *self = HD_IMAGE_VIEW (widget);
  GtkRequisition nat;

  gtk_widget_get_preferred_size (GTK_WIDGET (self->stats_label), NULL, &nat);
  gtk_widget_allocate (GTK_WIDGET (self->stats_label),
                       MIN (nat.width, width), MIN (nat.height, height), -1, NULL);
  /* The badge: centred at the top. */
  gtk_widget_get_preferred_size (GTK_WIDGET (self->badge_label), NULL, &nat);
  nat.width = MIN (nat.width, width);
  gtk_widget_allocate (GTK_WIDGET (self->badge_label), nat.width, MIN (nat.height, height), -1,
                       gsk_transform_translate (NULL, &GRAPHENE_POINT_INIT ((width - nat.width) / 2.0f, 0)));
}

static void
on_drag_begin (HdImageView    *self,
               double          x,
               double          y,
               GtkGestureDrag *gesture)
{
  if (!self->zoom_original)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_start_x = self->pan_x;
  self->drag_start_y = self->pan_y;
}

static void
on_drag_update (HdImageView    *self,
                double          dx,
                double          dy,
                GtkGestureDrag *gesture)
{
  self->pan_x = self->drag_start_x + dx;
  self->pan_y = self->drag_start_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The arrow keys pan an image shown at its original size. */
static void
hd_image_view_pan_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdImageView *self = HD_IMAGE_VIEW (widget);
  double dx, dy;

  if (!self->zoom_original)
    return;
  g_variant_get (param, "(dd)", &dx, &dy);
  self->pan_x += dx;
  self->pan_y += dy;
  gtk_widget_queue_draw (widget);
}

static void
hd_image_view_dispose (GObject *object)
{
  HdImageView *self = (HdImageView *)object;

  g_clear_object (&self->texture);
  g_clear_object (&self->upscaled);
  g_clear_pointer (&self->stats, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_IMAGE_VIEW);

  G_OBJECT_CLASS (hd_image_view_parent_class)->dispose (object);
}

static void
hd_image_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  HdImageView *self = HD_IMAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM_ORIGINAL:
      g_value_set_boolean (value, self->zoom_original);
      break;

    case PROP_SMOOTH:
      g_value_set_boolean (value, self->smooth);
      break;

    case PROP_SHOW_STATS:
      g_value_set_boolean (value, self->show_stats);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_image_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  HdImageView *self = HD_IMAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_ZOOM_ORIGINAL:
      hd_image_view_set_zoom_original (self, g_value_get_boolean (value));
      break;

    case PROP_SMOOTH:
      hd_image_view_set_smooth (self, g_value_get_boolean (value));
      break;

    case PROP_SHOW_STATS:
      hd_image_view_set_show_stats (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_image_view_class_init (HdImageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_image_view_dispose;
  object_class->get_property = hd_image_view_get_property;
  object_class->set_property = hd_image_view_set_property;

  widget_class->snapshot = hd_image_view_snapshot;
  widget_class->measure = hd_image_view_measure;
  widget_class->size_allocate = hd_image_view_size_allocate;

  properties[PROP_ZOOM_ORIGINAL] =
    g_param_spec_boolean ("zoom-original", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  /* Enlarged images with linear filtering instead of pixel-exact
   * (nearest) squares. */
  properties[PROP_SMOOTH] =
    g_param_spec_boolean ("smooth", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SHOW_STATS] =
    g_param_spec_boolean ("show-stats", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-image-view.ui");
  gtk_widget_class_bind_template_child (widget_class, HdImageView, stats_label);
  gtk_widget_class_bind_template_child (widget_class, HdImageView, badge_label);
  gtk_widget_class_install_action (widget_class, "view.pan", "(dd)", hd_image_view_pan_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "view.pan", "(dd)", 48.0, 0.0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "view.pan", "(dd)", -48.0, 0.0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, 0, "view.pan", "(dd)", 0.0, 48.0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, 0, "view.pan", "(dd)", 0.0, -48.0);

  gtk_widget_class_set_css_name (widget_class, "imageview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hd_image_view_init (HdImageView *self)
{
  GtkGesture *drag;

  gtk_widget_init_template (GTK_WIDGET (self));

  drag = gtk_gesture_drag_new ();
  g_signal_connect_object (drag, "drag-begin", G_CALLBACK (on_drag_begin), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (drag, "drag-update", G_CALLBACK (on_drag_update), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

GtkWidget *
hd_image_view_new (void)
{
  return g_object_new (HD_TYPE_IMAGE_VIEW, NULL);
}

void
hd_image_view_set_texture (HdImageView *self,
                           GdkTexture  *texture,
                           int          width,
                           int          height)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (texture == self->texture && width == self->width && height == self->height)
    return;

  g_set_object (&self->texture, texture);
  g_clear_object (&self->upscaled);
  self->width = texture != NULL ? width : 0;
  self->height = texture != NULL ? height : 0;
  self->n_updates++;

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
hd_image_view_get_texture (HdImageView *self)
{
  g_return_val_if_fail (HD_IS_IMAGE_VIEW (self), NULL);

  return self->texture;
}

void
hd_image_view_set_zoom_original (HdImageView *self,
                                 gboolean     zoom_original)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));

  zoom_original = !!zoom_original;
  if (zoom_original == self->zoom_original)
    return;

  self->zoom_original = zoom_original;
  self->pan_x = self->pan_y = 0.0;
  if (zoom_original)
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");
  else
    gtk_widget_set_cursor (GTK_WIDGET (self), NULL);

  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM_ORIGINAL]);
}

gboolean
hd_image_view_get_zoom_original (HdImageView *self)
{
  g_return_val_if_fail (HD_IS_IMAGE_VIEW (self), FALSE);

  return self->zoom_original;
}

void
hd_image_view_set_smooth (HdImageView *self,
                          gboolean     smooth)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));

  smooth = !!smooth;
  if (smooth == self->smooth)
    return;

  self->smooth = smooth;
  g_clear_object (&self->upscaled);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTH]);
}

gboolean
hd_image_view_get_smooth (HdImageView *self)
{
  g_return_val_if_fail (HD_IS_IMAGE_VIEW (self), FALSE);

  return self->smooth;
}

void
hd_image_view_set_badge (HdImageView *self,
                         const char  *text)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));

  if (text != NULL)
    gtk_label_set_label (self->badge_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->badge_label), text != NULL);
}

static void
hd_image_view_update_stats_label (HdImageView *self)
{
  gboolean visible = self->show_stats && self->stats != NULL && *self->stats != '\0';

  /* A hidden label is left alone: changing its text would still ask for
   * a new layout of the window. */
  if (visible)
    gtk_label_set_label (self->stats_label, self->stats);
  gtk_widget_set_visible (GTK_WIDGET (self->stats_label), visible);
}

void
hd_image_view_set_show_stats (HdImageView *self,
                              gboolean     show_stats)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));

  show_stats = !!show_stats;
  if (show_stats == self->show_stats)
    return;

  self->show_stats = show_stats;
  hd_image_view_update_stats_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_STATS]);
}

void
hd_image_view_set_stats (HdImageView *self,
                         const char  *text)
{
  g_return_if_fail (HD_IS_IMAGE_VIEW (self));

  if (g_strcmp0 (text, self->stats) == 0)
    return;

  g_free (self->stats);
  self->stats = g_strdup (text);
  hd_image_view_update_stats_label (self);
}

guint
hd_image_view_get_n_updates (HdImageView *self)
{
  g_return_val_if_fail (HD_IS_IMAGE_VIEW (self), 0);

  return self->n_updates;
}
