/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "hd-application.h"
#include "hd-settings-schema.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(HdApplication) app = NULL;
  const char *localedir = g_getenv ("HYPERDOMAIN_LOCALEDIR");

  /* HYPERDOMAIN_LOCALEDIR: translations of an uninstalled build. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Before anything makes a GSettings: g_settings_new () aborts when the
   * schema is missing, as it is when the program runs uninstalled. */
  hd_settings_schema_ensure ();

  app = hd_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
