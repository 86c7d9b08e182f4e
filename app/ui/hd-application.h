/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "hd-window.h"

G_BEGIN_DECLS

#define HD_TYPE_APPLICATION (hd_application_get_type ())

G_DECLARE_FINAL_TYPE (HdApplication, hd_application, HD, APPLICATION, AdwApplication)

HdApplication *hd_application_new (void);
/* The file the last session is kept in: hyperdomain/session.json in the
 * XDG state folder. */
char          *hd_application_get_session_path (void);
/* A new window that keeps the session; with RESTORE, it reopens the last
 * session first (when there is one and the setting allows it).  Returns
 * TRUE in *RESTORING when it does. */
HdWindow      *hd_application_new_window       (HdApplication *self,
                                                gboolean       restore,
                                                gboolean      *restoring);
/* Opens the bundled demo (hd_demo_model_find) in WINDOW: its generator,
 * its pack and its hypernetwork (hd_demo_text_find; not when the window
 * reopens the hypernetwork opened last), at its first image
 * (hd_demo_start_find).  FALSE when there is no demo model. */
gboolean       hd_application_open_demo        (HdWindow      *window);

G_END_DECLS
