/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens PATH for reading without ever blocking: a FIFO without a writer,
 * a device, a socket or a folder is refused with an HD_ERROR_IO error that
 * names NAME (the display name used in messages) and says what PATH is.
 * Returns a descriptor of a regular file, close-on-exec and in blocking
 * mode, and its size in SIZE (may be NULL); or -1 with ERROR set.
 * Every reader of a user's file opens it with this. */
int       hd_file_open_regular     (const char    *path,
                                    const char    *name,
                                    goffset       *size,
                                    GError       **error);

/* Reads a whole regular file, refusing anything larger than MAX_SIZE.
 * NAME is the display name used in messages. */
GBytes   *hd_file_read_limited     (const char    *path,
                                    const char    *name,
                                    gsize          max_size,
                                    GError       **error);

/* Replaces PATH with CONTENTS (g_file_set_contents_full, consistent, mode
 * 0666 less the umask): PATH holds either the old or the new contents, never
 * a mix, even when the process is killed half-way.  A failure is an
 * HD_ERROR_IO error that names PATH and says why. */
gboolean  hd_file_replace_contents (const char    *path,
                                    const guint8  *contents,
                                    gsize          length,
                                    GError       **error);

G_END_DECLS
