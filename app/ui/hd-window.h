/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "hd-demo.h"

G_BEGIN_DECLS

#define HD_TYPE_WINDOW (hd_window_get_type ())

G_DECLARE_FINAL_TYPE (HdWindow, hd_window, HD, WINDOW, AdwApplicationWindow)

HdWindow *hd_window_new        (AdwApplication *application);
/* Opens generators, domains, packs and latents, in the background. */
void      hd_window_open_files (HdWindow       *self,
                                GFile         **files,
                                guint           n_files);

/* Opens the demo's FILES as hd_window_open_files does, then shows its
 * first image START (hd_demo_start_find; may be NULL): START's seed and ψ,
 * its domain at its weight and the pack's other domains at 0. */
void      hd_window_open_demo  (HdWindow       *self,
                                GFile         **files,
                                guint           n_files,
                                const HdDemoStart *start);

/* The file the window keeps its state in (saved a second after each
 * change and on closing), or NULL for none. */
void      hd_window_set_session_file (HdWindow     *self,
                                      const char   *path);
/* Restores the state saved in PATH, when it exists. */
void      hd_window_restore_session  (HdWindow     *self,
                                      const char   *path);

G_END_DECLS
