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

/* The file the window keeps its state in (saved a second after each
 * change and on closing), or NULL for none. */
void      hd_window_set_session_file (HdWindow     *self,
                                      const char   *path);
/* Restores the state saved in PATH, when it exists. */
void      hd_window_restore_session  (HdWindow     *self,
                                      const char   *path);

G_END_DECLS
