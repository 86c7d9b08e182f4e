/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads a whole regular file, refusing anything larger than MAX_SIZE.
 * NAME is the display name used in messages. */
GBytes   *hd_file_read_limited     (const char    *path,
                                    const char    *name,
                                    gsize          max_size,
                                    GError       **error);

/* Writes CONTENTS to a temporary file beside PATH, flushes it and renames it
 * over PATH: PATH holds either the old or the new contents, never a mix,
 * even when the process is killed half-way. */
gboolean  hd_file_replace_contents (const char    *path,
                                    const guint8  *contents,
                                    gsize          length,
                                    GError       **error);

G_END_DECLS
