/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HD_TYPE_WINDOW (hd_window_get_type ())

G_DECLARE_FINAL_TYPE (HdWindow, hd_window, HD, WINDOW, AdwApplicationWindow)

HdWindow *hd_window_new        (AdwApplication *application);
/* Opens generators, domains, packs and latents, in the background. */
void      hd_window_open_files (HdWindow       *self,
                                GFile         **files,
                                guint           n_files);

G_END_DECLS
