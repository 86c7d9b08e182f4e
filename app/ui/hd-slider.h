/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-session.h"

G_BEGIN_DECLS

/* Makes RANGE a live slider of SESSION: while the pointer holds it the
 * session is interactive (renders may be previews), and a double click
 * sets it to RESET_VALUE. */
void hd_slider_setup (GtkRange  *range,
                      HdSession *session,
                      double     reset_value);

G_END_DECLS
