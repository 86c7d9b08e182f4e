/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Shows the rendered image: scaled to fit, or one image pixel per screen
 * pixel (panned by dragging or, with the focus, the arrow keys), crisp
 * (nearest) or smooth when enlarged, with an optional statistics overlay
 * and a badge. */

#define HD_TYPE_IMAGE_VIEW (hd_image_view_get_type ())

G_DECLARE_FINAL_TYPE (HdImageView, hd_image_view, HD, IMAGE_VIEW, GtkWidget)

GtkWidget  *hd_image_view_new              (void);
/* Shows TEXTURE as an image of WIDTH x HEIGHT pixels (a low-resolution
 * preview is stretched to the size of the final image). */
void        hd_image_view_set_texture      (HdImageView *self,
                                            GdkTexture  *texture,
                                            int          width,
                                            int          height);
GdkTexture *hd_image_view_get_texture      (HdImageView *self);
void        hd_image_view_set_zoom_original (HdImageView *self,
                                             gboolean     zoom_original);
gboolean    hd_image_view_get_zoom_original (HdImageView *self);
/* Enlarged images drawn smooth (linear) instead of pixel-exact. */
void        hd_image_view_set_smooth       (HdImageView *self,
                                            gboolean     smooth);
gboolean    hd_image_view_get_smooth       (HdImageView *self);
/* A label over the top of the image (NULL: none). */
void        hd_image_view_set_badge        (HdImageView *self,
                                            const char  *text);
void        hd_image_view_set_show_stats   (HdImageView *self,
                                            gboolean     show_stats);
void        hd_image_view_set_stats        (HdImageView *self,
                                            const char  *text);
/* Times the texture changed (tests). */
guint       hd_image_view_get_n_updates    (HdImageView *self);

G_END_DECLS
