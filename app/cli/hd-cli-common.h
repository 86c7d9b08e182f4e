/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What every command-line program does first: the locale and its
 * translations (HYPERDOMAIN_LOCALEDIR overrides where they are). */
void hd_cli_init_locale (void);

/* Parses the command line of PROG with CONTEXT.  Returns -1 when the
 * program goes on, else its exit status: 2 after printing a wrong option
 * or an unexpected argument, 0 after printing the version when *VERSION
 * was asked for. */
int  hd_cli_parse       (const char      *prog,
                         GOptionContext  *context,
                         int             *argc,
                         char          ***argv,
                         const gboolean  *version);

G_END_DECLS
