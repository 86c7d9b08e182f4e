/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-vk.h"

#include "hd-preferences-window.h"

struct _HdPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwComboRow          *device_row;
  GtkStringList        *device_list;
  AdwComboRow          *preview_row;
  GtkSwitch            *stats_switch;
  GtkSwitch            *restore_session_switch;

  GSettings            *settings;
  GCancellable         *cancellable;
  /* The setting value of each entry of DEVICE_LIST: "auto" or an index. */
  GPtrArray            *device_values;
  gboolean              updating;
};

G_DEFINE_FINAL_TYPE (HdPreferencesWindow, hd_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static const char *preview_nicks[] = { "auto", "always", "never" };

static gboolean
preview_get_mapping (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (preview_nicks); i++)
    if (g_str_equal (nick, preview_nicks[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
preview_set_mapping (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  guint i = g_value_get_uint (value);

  return g_variant_new_string (preview_nicks[MIN (i, G_N_ELEMENTS (preview_nicks) - 1)]);
}

static void
hd_preferences_window_select_device (HdPreferencesWindow *self)
{
  g_autofree char *device = g_settings_get_string (self->settings, "device");

  self->updating = TRUE;
  for (guint i = 0; i < self->device_values->len; i++)
    if (g_str_equal (device, g_ptr_array_index (self->device_values, i)))
      {
        adw_combo_row_set_selected (self->device_row, i);
        break;
      }
  self->updating = FALSE;
}

static void
on_device_selected (HdPreferencesWindow *self,
                    GParamSpec          *pspec,
                    AdwComboRow         *row)
{
  guint selected = adw_combo_row_get_selected (row);

  if (self->updating || selected >= self->device_values->len)
    return;

  g_settings_set_string (self->settings, "device", g_ptr_array_index (self->device_values, selected));
}

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *devices = hd_vk_list_devices (&error);

  if (devices == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_devices_listed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  HdPreferencesWindow *self;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;

  devices = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = HD_PREFERENCES_WINDOW (user_data);
  if (devices == NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->device_row), error->message);
      return;
    }

  self->updating = TRUE;
  for (guint i = 0; i < devices->len; i++)
    {
      HdVkDeviceInfo *info = g_ptr_array_index (devices, i);
      g_autofree char *label = g_strdup_printf ("%s (%s)", info->name, info->type_name);

      gtk_string_list_append (self->device_list, label);
      g_ptr_array_add (self->device_values, g_strdup_printf ("%u", info->index));
    }
  self->updating = FALSE;
  if (devices->len == 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->device_row),
                                 _("No Vulkan device found: install a Vulkan driver, such as Mesa’s for the processor"));

  hd_preferences_window_select_device (self);
}

static void
hd_preferences_window_dispose (GObject *object)
{
  HdPreferencesWindow *self = (HdPreferencesWindow *)object;

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->device_values, g_ptr_array_unref);

  G_OBJECT_CLASS (hd_preferences_window_parent_class)->dispose (object);
}

static void
hd_preferences_window_class_init (HdPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HdPreferencesWindow, device_row);
  gtk_widget_class_bind_template_child (widget_class, HdPreferencesWindow, device_list);
  gtk_widget_class_bind_template_child (widget_class, HdPreferencesWindow, preview_row);
  gtk_widget_class_bind_template_child (widget_class, HdPreferencesWindow, stats_switch);
  gtk_widget_class_bind_template_child (widget_class, HdPreferencesWindow, restore_session_switch);
}

static void
hd_preferences_window_init (HdPreferencesWindow *self)
{
  g_autoptr(GTask) task = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APPLICATION_ID);
  self->cancellable = g_cancellable_new ();
  self->device_values = g_ptr_array_new_with_free_func (g_free);

  gtk_string_list_append (self->device_list, _("Automatic"));
  g_ptr_array_add (self->device_values, g_strdup ("auto"));
  hd_preferences_window_select_device (self);
  g_signal_connect_object (self->device_row, "notify::selected",
                           G_CALLBACK (on_device_selected), self, G_CONNECT_SWAPPED);

  g_settings_bind_with_mapping (self->settings, "preview-policy",
                                self->preview_row, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                preview_get_mapping, preview_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "show-stats", self->stats_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "restore-session", self->restore_session_switch, "active", G_SETTINGS_BIND_DEFAULT);

  /* Listing devices starts Vulkan, which can take a moment. */
  task = g_task_new (NULL, self->cancellable, on_devices_listed, self);
  g_task_run_in_thread (task, list_devices_thread);
}

GtkWidget *
hd_preferences_window_new (GtkWindow *transient_for)
{
  return g_object_new (HD_TYPE_PREFERENCES_WINDOW,
                       "transient-for", transient_for,
                       NULL);
}
