/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-animation-dialog.h"
#include "hd-dialogs.h"
#include "hd-seeds-dialog.h"
#include "hd-sheet-dialog.h"
#include "hd-window-internal.h"

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     HdWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      guint n = g_list_model_get_n_items (files);
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      hd_window_open_files (self, (GFile **) array->pdata, array->len);
    }

  g_object_unref (dialog);
}

/* A filter of a file chooser: its name and its patterns (';'-separated). */
typedef struct
{
  const char *name;
  const char *patterns;
} ChooserFilter;

/* Every file the window reads, by what the file type does there. */
#define FILTER_MODELS  { N_("Generators, Domains and Domain Packs (.safetensors)"), "*.safetensors" }
#define FILTER_IMAGES  { N_("Images Exported by Hyperdomain (.png)"), "*.png" }
#define FILTER_STATES  { N_("Presets and Saved States (.json)"), "*.json" }
#define FILTER_LATENTS { N_("Latents (.npy)"), "*.npy" }

/* Asks for files to open, offering FILTERS (the first is chosen), then
 * "All Files"; with several filters, "All Supported Files" comes first. */
static void
hd_window_choose_files (HdWindow            *self,
                        const char          *title,
                        const ChooserFilter *filters,
                        guint                n_filters,
                        gboolean             multiple)
{
  GtkFileChooserNative *chooser;

  chooser = hd_file_chooser_new (GTK_WINDOW (self), title, GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Open"), NULL);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), multiple);

  if (n_filters > 1)
    {
      g_autoptr(GString) all = g_string_new (NULL);

      for (guint i = 0; i < n_filters; i++)
        g_string_append_printf (all, "%s%s", i > 0 ? ";" : "", filters[i].patterns);
      hd_file_chooser_add_filter (chooser, _("All Supported Files"), all->str);
    }
  for (guint i = 0; i < n_filters; i++)
    hd_file_chooser_add_filter (chooser, _(filters[i].name), filters[i].patterns);
  hd_file_chooser_add_filter (chooser, _("All Files"), "*");

  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* One Open for everything the window reads: the file type decides what
 * happens (hd_window_open_files). */
static void
hd_window_open_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_MODELS, FILTER_IMAGES, FILTER_STATES, FILTER_LATENTS };

  hd_window_choose_files (HD_WINDOW (widget), _("Open"), filters, G_N_ELEMENTS (filters), TRUE);
}

static void
hd_window_contact_sheet_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (hd_sheet_dialog_new (GTK_WINDOW (self), self->session)));
}

static void
hd_window_animation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (self->animation_dialog == NULL)
    self->animation_dialog = g_object_ref_sink (hd_animation_dialog_new (GTK_WINDOW (self), self->session));
  gtk_window_present (GTK_WINDOW (self->animation_dialog));
}

static void
hd_window_reopen_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_IMAGES };

  hd_window_choose_files (HD_WINDOW (widget), _("Reopen Image"), filters, G_N_ELEMENTS (filters), FALSE);
}

static void
on_preset_chooser_response (GtkNativeDialog *dialog,
                            int              response,
                            HdWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path == NULL)
        _hd_window_show_error (self, _("Could Not Save the Preset"), _("Choose a folder on this computer"));
      else if (!hd_window_save_state_file (self, path, &error))
        _hd_window_show_error (self, _("Could Not Save the Preset"), error->message);
      else
        {
          g_autofree char *name = g_path_get_basename (path);
          g_autofree char *title = g_strdup_printf (_("Preset “%s” saved"), name);
          _hd_window_toast (self, title);
        }
    }
  g_object_unref (dialog);
}

static char *
hd_window_presets_folder (void)
{
  return g_build_filename (g_get_user_data_dir (), "hyperdomain", "presets", NULL);
}

static void
hd_window_save_preset_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);
  g_autofree char *folder = hd_window_presets_folder ();
  GtkFileChooserNative *chooser;

  g_mkdir_with_parents (folder, 0700);
  chooser = hd_file_chooser_new (GTK_WINDOW (self), _("Save Preset"), GTK_FILE_CHOOSER_ACTION_SAVE,
                                 _("_Save"), folder);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("preset.json"));
  hd_file_chooser_add_filter (chooser, _("Presets (.json)"), "*.json");
  g_signal_connect (chooser, "response", G_CALLBACK (on_preset_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
hd_window_load_preset_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_STATES };

  hd_window_choose_files (HD_WINDOW (widget), _("Load Preset"), filters, G_N_ELEMENTS (filters), FALSE);
}

static void
hd_window_add_domain_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  static const ChooserFilter filters[] = { { N_("Domains and Domain Packs (.safetensors)"), "*.safetensors" } };

  hd_window_choose_files (HD_WINDOW (widget), _("Add Domains"), filters, G_N_ELEMENTS (filters), TRUE);
}

static void
hd_window_load_latent_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  static const ChooserFilter filters[] = { FILTER_LATENTS };

  hd_window_choose_files (HD_WINDOW (widget), _("Load Latent"), filters, G_N_ELEMENTS (filters), FALSE);
}

static void
hd_window_clear_latent_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  hd_session_clear_latent_file (HD_WINDOW (widget)->session);
}

/* Undo and redo */

static void
hd_window_history_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.undo"))
    hd_history_undo (self->history);
  else
    hd_history_redo (self->history);
}

/* Seed, weights */

static void
hd_window_seed_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.seed-next"))
    hd_session_step_seed (self->session, 1);
  else if (g_str_equal (action_name, "win.seed-previous"))
    hd_session_step_seed (self->session, -1);
  else
    hd_session_random_seed (self->session);
}

static void
hd_window_toggle_sidebar_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static void
hd_window_weights_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (g_str_equal (action_name, "win.reset-weights"))
    hd_session_reset_weights (self->session);
  else
    hd_session_normalize_weights (self->session);
}

/* The arrow keys and R change the seed, unless the focus is on a control
 * that uses them itself (text, sliders, lists) or in a popup. */
static gboolean
hd_window_seed_keys_allowed (HdWindow *self,
                             gboolean  vertical)
{
  GdkEvent *event = gtk_event_controller_get_current_event (self->seed_keys);
  GtkWidget *focus;

  if (hd_session_get_generator (self->session) == NULL)
    return FALSE;
  if (event != NULL && gdk_event_get_surface (event) != gtk_native_get_surface (GTK_NATIVE (self)))
    return FALSE;

  for (focus = gtk_root_get_focus (GTK_ROOT (self)); focus != NULL; focus = gtk_widget_get_parent (focus))
    {
      /* The blend pad's arrows move its puck. */
      if (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT (focus) || GTK_IS_RANGE (focus) ||
          GTK_IS_POPOVER (focus) || GTK_IS_DROP_DOWN (focus) || HD_IS_BLEND_PAD (focus))
        return FALSE;
      if (vertical && GTK_IS_LIST_BOX (focus))
        return FALSE;
      /* The arrows pan an image shown at its original size. */
      if (HD_IS_IMAGE_VIEW (focus) && self->zoom_original)
        return FALSE;
    }

  return TRUE;
}

/* Ctrl+C copies the image, unless text has the focus. */
static gboolean
on_copy_key (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  HdWindow *self = HD_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (hd_session_get_generator (self->session) == NULL)
    return FALSE;
  if (focus != NULL && (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT (focus) || GTK_IS_LABEL (focus)))
    return FALSE;

  return gtk_widget_activate_action (widget, "win.copy", NULL);
}

static gboolean
on_seed_key (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  HdWindow *self = HD_WINDOW (widget);
  int which = GPOINTER_TO_INT (user_data);

  if (!hd_window_seed_keys_allowed (self, which == 2 || which == -2))
    return FALSE;

  if (which == 0)
    hd_session_random_seed (self->session);
  else
    hd_session_step_seed (self->session, which > 0 ? 1 : -1);
  return TRUE;
}

void
_hd_window_actions_init (HdWindow *self)
{
  struct { guint keyval; int which; } keys[] = {
    { GDK_KEY_Right, 1 }, { GDK_KEY_Left, -1 },
    { GDK_KEY_Up, 2 }, { GDK_KEY_Down, -2 },
    { GDK_KEY_r, 0 }, { GDK_KEY_R, 0 },
  };

  self->seed_keys = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (self->seed_keys, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (self->seed_keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].keyval, 0),
                                                            gtk_callback_action_new (on_seed_key,
                                                                                     GINT_TO_POINTER (keys[i].which),
                                                                                     NULL)));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (self->seed_keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_c, GDK_CONTROL_MASK),
                                                          gtk_callback_action_new (on_copy_key, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), self->seed_keys);
}

static void
hd_window_seed_range_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (hd_seeds_dialog_new (GTK_WINDOW (self), self->session)));
}

static void
hd_window_open_folder_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  gtk_show_uri (GTK_WINDOW (widget), g_variant_get_string (param, NULL), GDK_CURRENT_TIME);
}

static void
hd_window_zoom_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  g_object_set (widget, "zoom-original", g_str_equal (action_name, "win.zoom-actual"), NULL);
}

/* Installs the window's actions and their key bindings. */
void
_hd_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open", NULL, hd_window_open_action);
  gtk_widget_class_install_action (widget_class, "win.add-domain", NULL, hd_window_add_domain_action);
  gtk_widget_class_install_action (widget_class, "win.load-latent", NULL, hd_window_load_latent_action);
  gtk_widget_class_install_action (widget_class, "win.clear-latent", NULL, hd_window_clear_latent_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, _hd_window_export_action);
  gtk_widget_class_install_action (widget_class, "win.export-as", NULL, _hd_window_export_as_action);
  gtk_widget_class_install_action (widget_class, "win.seed-range", NULL, hd_window_seed_range_action);
  gtk_widget_class_install_action (widget_class, "win.copy", NULL, _hd_window_copy_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", "s", hd_window_open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.seed-next", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.seed-previous", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.seed-random", NULL, hd_window_seed_action);
  gtk_widget_class_install_action (widget_class, "win.reset-weights", NULL, hd_window_weights_action);
  gtk_widget_class_install_action (widget_class, "win.normalize-weights", NULL, hd_window_weights_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-sidebar", NULL, hd_window_toggle_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.reopen", NULL, hd_window_reopen_action);
  gtk_widget_class_install_action (widget_class, "win.contact-sheet", NULL, hd_window_contact_sheet_action);
  gtk_widget_class_install_action (widget_class, "win.animation", NULL, hd_window_animation_action);
  gtk_widget_class_install_action (widget_class, "win.train-domain", NULL, _hd_window_train_action);
  gtk_widget_class_install_action (widget_class, "win.save-preset", NULL, hd_window_save_preset_action);
  gtk_widget_class_install_action (widget_class, "win.load-preset", NULL, hd_window_load_preset_action);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, hd_window_history_action);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, hd_window_history_action);
  gtk_widget_class_install_property_action (widget_class, "win.zoom-original", "zoom-original");
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, hd_window_zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-actual", NULL, hd_window_zoom_action);
  /* Also the application's accelerators, which label the menu items; these
   * serve a window of its own too. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "win.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.zoom-actual", NULL);
  gtk_widget_class_install_property_action (widget_class, "win.fullscreen", "fullscreened");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.toggle-sidebar", NULL);
  /* Bindings of the window, not application accelerators: a text field
   * with the focus undoes its own typing first. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", NULL);
}
