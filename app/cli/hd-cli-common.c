/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "hd-cli-common.h"

void
hd_cli_init_locale (void)
{
  const char *localedir;

  setlocale (LC_ALL, "");
  localedir = g_getenv ("HYPERDOMAIN_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

int
hd_cli_parse (const char      *prog,
              GOptionContext  *context,
              int             *argc,
              char          ***argv,
              const gboolean  *version)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "%s: %s\n", prog, error->message);
      return 2;
    }
  if (*argc > 1)
    {
      /* Translators: the program's name, then the argument. */
      fprintf (stderr, _("%s: unexpected argument “%s” (see --help)\n"), prog, (*argv)[1]);
      return 2;
    }
  if (*version)
    {
      printf ("%s %s\n", prog, PACKAGE_VERSION);
      return 0;
    }
  return -1;
}
