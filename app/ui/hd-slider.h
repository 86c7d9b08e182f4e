/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-session.h"

G_BEGIN_DECLS

/* Makes RANGE a live slider of SESSION: while the pointer holds it the
 * session is interactive (renders may be previews), a double click sets
 * it to RESET_VALUE, and the mouse wheel scrolls the page instead of
 * changing it (hd_widget_pass_wheel). */
void hd_slider_setup (GtkRange  *range,
                      HdSession *session,
                      double     reset_value);

/* Lets the mouse wheel over WIDGET (a slider or a spin button in a
 * scrolled list of controls) scroll the list instead of changing the
 * value: a wheel turned to scroll the list must change nothing on the way. */
void hd_widget_pass_wheel (GtkWidget *widget);

G_END_DECLS
