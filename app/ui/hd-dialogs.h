/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* The dialogs the window and its helpers ask with, built one way: native
 * file choosers, and a question that Cancel (or closing it) turns down. */

/* A modal native file chooser for PARENT with the buttons ACCEPT_LABEL and
 * Cancel, in FOLDER when FOLDER (may be NULL) exists.  The caller connects
 * "response", shows it and unrefs it once answered. */
GtkFileChooserNative *hd_file_chooser_new        (GtkWindow            *parent,
                                                  const char           *title,
                                                  GtkFileChooserAction  action,
                                                  const char           *accept_label,
                                                  const char           *folder);
/* Adds a filter NAME for the ';'-separated PATTERNS to CHOOSER. */
void                  hd_file_chooser_add_filter (GtkFileChooserNative *chooser,
                                                  const char           *name,
                                                  const char           *patterns);

/* A message dialog for PARENT with the responses "cancel" (also when it is
 * closed) and RESPONSE, labelled LABEL and shown with APPEARANCE;
 * DEFAULT_RESPONSE is the one Enter gives.  The caller connects "response"
 * and presents it. */
GtkWidget            *hd_question_dialog_new     (GtkWindow             *parent,
                                                  const char            *heading,
                                                  const char            *body,
                                                  const char            *response,
                                                  const char            *label,
                                                  AdwResponseAppearance  appearance,
                                                  const char            *default_response);

G_END_DECLS
