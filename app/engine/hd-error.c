/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "hd-error.h"

G_DEFINE_QUARK (hd-error-quark, hd_error)

void
hd_set_format_error (GError     **error,
                     const char  *file,
                     const char  *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
               /* Translators: a file name, then what is wrong with that file. */
               _("%s: %s"), file, message);
}
