/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Application"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>

#include "hd-application.h"
#include "hd-demo.h"
#include "hd-preferences-window.h"
#include "hd-stall-monitor.h"
#include "hd-window.h"

struct _HdApplication
{
  AdwApplication  parent_instance;

  HdStallMonitor *stall_monitor;
  guint           stall_report_id;
  guint           sigterm_id;
  guint           sigint_id;
};

G_DEFINE_FINAL_TYPE (HdApplication, hd_application, ADW_TYPE_APPLICATION)

char *
hd_application_get_session_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "hyperdomain", "session.json", NULL);
}

HdWindow *
hd_application_new_window (HdApplication *self,
                           gboolean       restore,
                           gboolean      *restoring)
{
  HdWindow *window = hd_window_new (self != NULL ? ADW_APPLICATION (self) : NULL);
  g_autofree char *session_path = hd_application_get_session_path ();
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  gboolean restored = FALSE;

  if (restore && g_settings_get_boolean (settings, "restore-session") &&
      g_file_test (session_path, G_FILE_TEST_EXISTS))
    {
      hd_window_restore_session (window, session_path);
      restored = TRUE;
    }
  hd_window_set_session_file (window, session_path);
  if (restoring != NULL)
    *restoring = restored;
  return window;
}

static HdWindow *
hd_application_get_window (HdApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (HD_IS_WINDOW (window))
    return HD_WINDOW (window);
  /* Files were given: they replace the last session. */
  return hd_application_new_window (self, FALSE, NULL);
}

gboolean
hd_application_open_demo (HdWindow *window)
{
  g_autofree char *demo = NULL;
  g_autofree char *demo_domains = NULL;
  g_autofree char *demo_text = NULL;
  g_autofree char *last_text = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  GFile *files[3];
  guint n_files = 0;
  HdDemoStart start;
  gboolean has_start;

  if (!hd_demo_model_find (&demo, &demo_domains))
    return FALSE;
  files[n_files++] = g_file_new_for_path (demo);
  if (demo_domains != NULL)
    files[n_files++] = g_file_new_for_path (demo_domains);
  /* Its hypernetwork, so that a prompt can be typed at once; unless the
   * window reopens the one opened last (the demo's since its first
   * start, or one the user chose). */
  demo_text = hd_demo_text_find ();
  last_text = g_settings_get_string (settings, "last-hypernetwork");
  if (demo_text != NULL && !g_file_test (last_text, G_FILE_TEST_IS_REGULAR))
    files[n_files++] = g_file_new_for_path (demo_text);
  has_start = demo_domains != NULL && hd_demo_start_find (&start);

  /* At the first image the demo's measurements chose. */
  hd_window_open_demo (window, files, n_files, has_start ? &start : NULL);
  if (has_start)
    hd_demo_start_clear (&start);
  for (guint i = 0; i < n_files; i++)
    g_object_unref (files[i]);
  return TRUE;
}

static void
hd_application_activate (GApplication *app)
{
  HdApplication *self = HD_APPLICATION (app);
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (active == NULL)
    {
      gboolean restoring = FALSE;
      HdWindow *window = hd_application_new_window (self, TRUE, &restoring);

      /* A first start (or one without a saved session) opens the demo
       * model with its domains and its hypernetwork. */
      if (!restoring)
        hd_application_open_demo (window);
      active = GTK_WINDOW (window);
    }

  gtk_window_present (active);
}

static void
hd_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  HdWindow *window = hd_application_get_window (HD_APPLICATION (app));

  hd_window_open_files (window, files, n_files);
  gtk_window_present (GTK_WINDOW (window));
}

static void
hd_application_about (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { _("The Hyperdomain developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (app),
                        "application-name", _("Hyperdomain"),
                        "application-icon", APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "developer-name", _("The Hyperdomain developers"),
                        "developers", developers,
                        "comments", _("Explore the domains of a StyleGAN2 generator live: drag sliders, blend HyperDomainNet domains and export what you like."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
hd_application_preferences (GSimpleAction *action,
                            GVariant      *param,
                            gpointer       user_data)
{
  GtkApplication *app = user_data;
  GtkWidget *prefs = hd_preferences_window_new (gtk_application_get_active_window (app));

  gtk_window_present (GTK_WINDOW (prefs));
}

static void
hd_application_quit (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       user_data)
{
  GApplication *app = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));

  /* Closing the windows lets each stop its render thread. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (GTK_WINDOW (l->data));
  g_list_free (windows);
}

static void
hd_application_unwatch_signals (HdApplication *self)
{
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
}

/* SIGTERM and SIGINT quit as Ctrl+Q does: the windows close, saving the
 * session, and the program exits normally.  The watches then end, so a
 * second signal kills it. */
static void
hd_application_quit_on_signal (HdApplication *self)
{
  hd_application_unwatch_signals (self);
  g_action_group_activate_action (G_ACTION_GROUP (self), "quit", NULL);
}

static gboolean
hd_application_on_sigterm (gpointer user_data)
{
  HdApplication *self = user_data;

  self->sigterm_id = 0;
  hd_application_quit_on_signal (self);
  return G_SOURCE_REMOVE;
}

static gboolean
hd_application_on_sigint (gpointer user_data)
{
  HdApplication *self = user_data;

  self->sigint_id = 0;
  hd_application_quit_on_signal (self);
  return G_SOURCE_REMOVE;
}

static const GActionEntry app_actions[] = {
  { "about", hd_application_about },
  { "preferences", hd_application_preferences },
  { "quit", hd_application_quit },
};

/* HYPERDOMAIN_DEBUG_STALLS=1 prints, every second with activity, the
 * longest main-loop iteration. */
static gboolean
hd_application_report_stalls (gpointer user_data)
{
  HdApplication *self = user_data;
  HdStallMonitor *monitor = self->stall_monitor;

  if (hd_stall_monitor_get_n_iterations (monitor) > 2)
    g_message ("main loop: %" G_GUINT64_FORMAT " iterations, longest %.1f ms "
               "(%.1f ms of processor time), %u over 16 ms (%u in processor time)",
               hd_stall_monitor_get_n_iterations (monitor),
               hd_stall_monitor_get_max_ms (monitor),
               hd_stall_monitor_get_max_cpu_ms (monitor),
               hd_stall_monitor_count_over (monitor, 16.0),
               hd_stall_monitor_count_cpu_over (monitor, 16.0));
  hd_stall_monitor_reset (monitor);

  return G_SOURCE_CONTINUE;
}

static void
hd_application_shutdown (GApplication *app)
{
  HdApplication *self = HD_APPLICATION (app);

  g_clear_handle_id (&self->stall_report_id, g_source_remove);
  hd_application_unwatch_signals (self);
  g_clear_pointer (&self->stall_monitor, hd_stall_monitor_free);

  G_APPLICATION_CLASS (hd_application_parent_class)->shutdown (app);
}

static void
hd_application_startup (GApplication *app)
{
  HdApplication *self = HD_APPLICATION (app);
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.add-domain", { "<Control>d", NULL } },
    { "win.export", { "<Control>e", NULL } },
    { "win.export-as", { "<Shift><Control>e", NULL } },
    { "win.load-latent", { "<Control>l", NULL } },
    { "win.fullscreen", { "F11", NULL } },
    { "win.zoom-fit", { "<Control>0", NULL } },
    { "win.zoom-actual", { "<Control>1", NULL } },
    { "win.toggle-sidebar", { "F9", NULL } },
    { "win.show-stats", { "<Control>i", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  G_APPLICATION_CLASS (hd_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);

  self->sigterm_id = g_unix_signal_add (SIGTERM, hd_application_on_sigterm, self);
  self->sigint_id = g_unix_signal_add (SIGINT, hd_application_on_sigint, self);

  if (g_strcmp0 (g_getenv ("HYPERDOMAIN_DEBUG_STALLS"), "1") == 0)
    {
      self->stall_monitor = hd_stall_monitor_new (NULL);
      self->stall_report_id = g_timeout_add_seconds (1, hd_application_report_stalls, self);
    }
}

static void
hd_application_class_init (HdApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = hd_application_activate;
  app_class->open = hd_application_open;
  app_class->startup = hd_application_startup;
  app_class->shutdown = hd_application_shutdown;
}

static void
hd_application_init (HdApplication *self)
{
  g_set_application_name (_("Hyperdomain"));
  gtk_window_set_default_icon_name (APPLICATION_ID);
}

HdApplication *
hd_application_new (void)
{
  return g_object_new (HD_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/hyperdomain/Hyperdomain",
                       NULL);
}
