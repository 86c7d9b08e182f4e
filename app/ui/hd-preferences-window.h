/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Rendering device, drag preview and statistics, kept in GSettings. */

#define HD_TYPE_PREFERENCES_WINDOW (hd_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (HdPreferencesWindow, hd_preferences_window, HD, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *hd_preferences_window_new (GtkWindow *transient_for);

G_END_DECLS
