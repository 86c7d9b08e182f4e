/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes sure g_settings_new (APPLICATION_ID) finds the application's
 * schema, so that no GSettings of the application can abort the program.
 * Call it first in main (), before anything creates a GSettings and
 * before other threads start: it may change GSETTINGS_SCHEMA_DIR.
 *
 * In this order it uses
 *  1. a folder of GSETTINGS_SCHEMA_DIR that holds the schema (left alone);
 *  2. the schema that meson compiled next to the program, when the
 *     program runs from its build folder (prepended to
 *     GSETTINGS_SCHEMA_DIR, so an older installed schema does not hide it);
 *  3. the installed schema (XDG_DATA_HOME, XDG_DATA_DIRS);
 *  4. the copy compiled into the program, written to
 *     XDG_CACHE_HOME/hyperdomain/schemas/ (or a temporary folder) and
 *     prepended to GSETTINGS_SCHEMA_DIR, with one warning on stderr.
 * Returns FALSE when none of these worked (after that one warning). */
gboolean hd_settings_schema_ensure (void);

G_END_DECLS
