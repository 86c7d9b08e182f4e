/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shows the explorer window in a given state and size, for screenshots
 * taken from outside (data/screenshots/, see take-screenshots.sh).
 *
 *   screenshot-scene [--dark] [--stats] [--size WxH] [--seed S]
 *                    [--weight I=W]... [--pad X,Y] [--hide-controls]
 *                    [--seconds N]
 *                    [--show train|trained --clip C --source S --target T
 *                     --steps N --batch B --lr LR]
 *                    GENERATOR [DOMAIN...]
 *
 * --show train shows New Domain from Text once the window's image shows
 * the domain in training; --show trained once the run has added its
 * row.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "hd-domain-row.h"
#include "hd-preferences-window.h"
#include "hd-sheet-dialog.h"
#include "hd-train-dialog.h"
#include "hd-ui-test-util.h"

static gboolean
preview_on_screen (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_full_frame (window);
  guint n = g_list_model_get_n_items (hd_session_get_domains (hd_window_get_session (window)));

  return frame != NULL && hd_window_get_frame (window) == frame && frame->job->domains->len > n &&
         !hd_render_worker_is_busy (hd_window_get_worker (window));
}

static gboolean
training_over (gpointer data)
{
  return !hd_train_dialog_is_running (data);
}

static gboolean
quit (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  gboolean dark = FALSE, stats = FALSE, hide_controls = FALSE, done = FALSE;
  char *size = NULL;
  char *show = NULL;
  char *pad = NULL;
  char **weights = NULL;
  char **texts = NULL;
  char **clips = NULL;
  char *source = NULL, *target = NULL;
  int steps = 300, batch = 4;
  double lr = 0.1;
  gint64 seed = 0;
  int seconds = 8, width = 1200, height = 760;
  g_autoptr(GOptionContext) context = g_option_context_new ("GENERATOR [DOMAIN...]");
  GOptionEntry entries[] = {
    { "dark", 0, 0, G_OPTION_ARG_NONE, &dark, "Dark style", NULL },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Show render statistics", NULL },
    { "hide-controls", 0, 0, G_OPTION_ARG_NONE, &hide_controls, "Hide the controls", NULL },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size, "Window size", "WxH" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed", "S" },
    { "weight", 0, 0, G_OPTION_ARG_STRING_ARRAY, &weights, "Weight of domain I", "I=W" },
    { "show", 0, 0, G_OPTION_ARG_STRING, &show, "Also show the preferences or the shortcuts", "preferences|shortcuts|layers|sheet|animation|train|trained" },
    { "text", 0, 0, G_OPTION_ARG_STRING_ARRAY, &texts, "Type a prompt into the Describe a Domain row and keep it (needs a hypernetwork among the files)", "PROMPT" },
    { "clip", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &clips, "CLIP file of --show train", "C" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, "Source prompt of --show train", "S" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &target, "Target prompt of --show train", "T" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Steps of --show train", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Batch of --show train", "B" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Learning rate of --show train", "LR" },
    { "pad", 0, 0, G_OPTION_ARG_STRING, &pad, "Puck of the blend pad", "X,Y" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "How long to show the window", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  g_autoptr(GSettings) settings = NULL;
  HdWindow *window;
  HdSession *session;
  const char *localedir = g_getenv ("HYPERDOMAIN_LOCALEDIR");

  /* As main.c does: translated when the locale asks for it. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "No generator given");
      return 2;
    }
  if (size != NULL && sscanf (size, "%dx%d", &width, &height) != 2)
    return 2;

  gtk_init ();
  adw_init ();
  /* The window buttons of GNOME's default layout. */
  g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", "appmenu:close", NULL);

  window = hd_window_new (NULL);
  {
    /* What AdwApplication loads for the real program. */
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/io/github/hyperdomain/Hyperdomain/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
  settings = g_settings_new (APPLICATION_ID);
  g_settings_set_boolean (settings, "show-stats", stats);

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  session = hd_window_get_session (window);

  for (int i = 1; i < argc; i++)
    g_ptr_array_add (paths, g_canonicalize_filename (argv[i], NULL));
  hd_ui_test_open_paths (window, (const char * const *) paths->pdata);

  for (guint i = 0; texts != NULL && texts[i] != NULL; i++)
    {
      GListModel *domains = hd_session_get_domains (session);
      guint n = g_list_model_get_n_items (domains);
      gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

      gtk_editable_set_text (GTK_EDITABLE (hd_window_get_text_entry (window)), texts[i]);
      g_signal_emit_by_name (hd_window_get_text_entry (window), "entry-activated");
      while ((g_list_model_get_n_items (domains) == n ||
              *gtk_editable_get_text (GTK_EDITABLE (hd_window_get_text_entry (window))) != '\0') &&
             g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, TRUE);
    }
  hd_session_set_seed (session, (guint32) seed);
  for (guint i = 0; weights != NULL && weights[i] != NULL; i++)
    {
      guint index;
      double w;

      if (sscanf (weights[i], "%u=%lf", &index, &w) == 2 && hd_window_get_domain_scale (window, index) != NULL)
        gtk_range_set_value (hd_window_get_domain_scale (window, index), w);
    }
  if (pad != NULL)
    {
      double px, py;

      if (sscanf (pad, "%lf,%lf", &px, &py) == 2)
        hd_blend_pad_set_position (hd_window_get_blend_pad (window), px, py);
    }
  if (hide_controls)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.toggle-sidebar", NULL);
  hd_ui_test_wait_for_current (window, 60000);

  if (g_strcmp0 (show, "preferences") == 0)
    gtk_window_present (GTK_WINDOW (hd_preferences_window_new (GTK_WINDOW (window))));
  else if (g_strcmp0 (show, "layers") == 0 && hd_window_get_domain_row (window, 0) != NULL)
    gtk_menu_button_popup (hd_domain_row_get_range_button (HD_DOMAIN_ROW (hd_window_get_domain_row (window, 0))));
  else if (g_strcmp0 (show, "animation") == 0)
    {
      GtkWidget *dialog;

      gtk_widget_activate_action (GTK_WIDGET (window), "win.animation", NULL);
      dialog = hd_window_get_animation_dialog (window);
      gtk_widget_activate_action (dialog, "anim.add-key", NULL);
      hd_session_set_seed (session, (guint32) seed + 1);
      gtk_widget_activate_action (dialog, "anim.add-key", NULL);
    }
  else if (g_strcmp0 (show, "train") == 0 || g_strcmp0 (show, "trained") == 0)
    {
      GtkWidget *dialog;

      gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL);
      dialog = hd_window_get_train_dialog (window);
      if (clips != NULL)
        {
          for (guint i = 0; clips[i] != NULL; i++)
            {
              char *full = g_canonicalize_filename (clips[i], NULL);

              g_free (clips[i]);
              clips[i] = full;
            }
          hd_train_dialog_set_clips (HD_TRAIN_DIALOG (dialog), (const char * const *) clips);
        }
#define PART(name) GTK_WIDGET (gtk_widget_get_template_child (dialog, HD_TYPE_TRAIN_DIALOG, name))
      gtk_editable_set_text (GTK_EDITABLE (PART ("source_row")), source != NULL ? source : "Photo");
      gtk_editable_set_text (GTK_EDITABLE (PART ("target_row")), target != NULL ? target : "Pencil Sketch");
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (PART ("steps_spin")), steps);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (PART ("batch_spin")), batch);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (PART ("lr_spin")), lr);
#undef PART
      gtk_widget_activate_action (dialog, "train.start", NULL);
      if (g_strcmp0 (show, "train") == 0)
        hd_ui_test_wait_until (preview_on_screen, window, 600000, "the domain in training on screen");
      else
        {
          hd_ui_test_wait_until (training_over, dialog, 600000, "the training run");
          hd_ui_test_wait_for_current (window, 60000);
        }
    }
  else if (g_strcmp0 (show, "sheet") == 0)
    gtk_window_present (GTK_WINDOW (hd_sheet_dialog_new (GTK_WINDOW (window), session)));
  else if (g_strcmp0 (show, "shortcuts") == 0)
    {
      g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/hyperdomain/Hyperdomain/gtk/help-overlay.ui");
      GtkWindow *overlay = GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay"));

      gtk_window_set_transient_for (overlay, GTK_WINDOW (window));
      gtk_window_present (overlay);
    }
  hd_ui_test_run_for (1000);

  g_print ("ready\n");
  g_timeout_add_seconds (seconds, quit, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  gtk_window_destroy (GTK_WINDOW (window));
  g_free (size);
  g_free (show);
  g_free (pad);
  g_strfreev (weights);
  g_strfreev (texts);
  g_strfreev (clips);
  g_free (source);
  g_free (target);
  return 0;
}
