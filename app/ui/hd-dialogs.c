/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Dialogs"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-dialogs.h"

GtkFileChooserNative *
hd_file_chooser_new (GtkWindow            *parent,
                     const char           *title,
                     GtkFileChooserAction  action,
                     const char           *accept_label,
                     const char           *folder)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (title, parent, action, accept_label, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (folder != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (folder);

      if (g_file_query_exists (file, NULL))
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), file, NULL);
    }
  return chooser;
}

void
hd_file_chooser_add_filter (GtkFileChooserNative *chooser,
                            const char           *name,
                            const char           *patterns)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_auto(GStrv) list = g_strsplit (patterns, ";", -1);

  gtk_file_filter_set_name (filter, name);
  for (guint i = 0; list[i] != NULL; i++)
    gtk_file_filter_add_pattern (filter, list[i]);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
}

GtkWidget *
hd_question_dialog_new (GtkWindow             *parent,
                        const char            *heading,
                        const char            *body,
                        const char            *response,
                        const char            *label,
                        AdwResponseAppearance  appearance,
                        const char            *default_response)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, heading, body);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    response, label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), response, appearance);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), default_response);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  return dialog;
}
