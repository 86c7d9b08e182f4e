/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-file-loader.h"
#include "hd-state-opener.h"
#include "hd-window-internal.h"

/* Opening files */

static void
hd_window_apply_load_result (HdWindow     *self,
                             HdLoadResult *result)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_problems = 0;
  guint n_domains_before = g_list_model_get_n_items (hd_session_get_domains (self->session));

  if (result->generator != NULL)
    {
      guint n_removed = 0;

      g_clear_pointer (&self->frame, hd_render_frame_unref);
      g_clear_pointer (&self->full_frame, hd_render_frame_unref);
      hd_image_view_set_texture (self->image_view, NULL, 0, 0);
      hd_session_set_generator (self->session, result->generator, &n_removed);
      if (n_removed > 0)
        {
          g_autofree char *msg =
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u item did not fit the new generator and was removed",
                                          "%u items did not fit the new generator and were removed",
                                          n_removed), n_removed);
          _hd_window_toast (self, msg);
        }
    }

  if (result->domains->len > 0)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *warnings = NULL;

      if (!hd_session_add_domains (self->session, result->domains, &warnings, &error))
        g_string_append_printf (problems, "%s\n", error->message), n_problems++;
      if (warnings != NULL)
        _hd_window_toast (self, warnings);
    }

  if (result->text_encoder != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!_hd_window_set_text_encoder (self, result->text_encoder, &error))
        g_string_append_printf (problems, "%s\n", error->message), n_problems++;
    }

  if (result->latent != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!hd_session_set_latent_file (self->session, result->latent, result->latent_path, &error))
        g_string_append_printf (problems, "%s\n", error->message), n_problems++;
    }

  for (guint i = 0; i < result->errors->len; i++)
    {
      const GError *error = g_ptr_array_index (result->errors, i);
      g_string_append_printf (problems, "%s\n", error->message);
      n_problems++;
    }

  if (problems->len > 0)
    {
      g_autofree char *heading = NULL;

      g_string_truncate (problems, problems->len - 1);
      heading = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Could Not Open a File",
                                              "Could Not Open %u Files", n_problems), n_problems);
      _hd_window_show_error (self, heading, problems->str);
    }
  else if (result->generator == NULL && result->domains->len > 0)
    {
      guint added = g_list_model_get_n_items (hd_session_get_domains (self->session)) - n_domains_before;
      g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                           "%u domain added",
                                                           "%u domains added",
                                                           added), added);
      _hd_window_toast (self, msg);
    }
}

/* The demo's first image, once its generator and pack are in. */
static void
apply_start (HdWindow          *self,
             const HdDemoStart *start)
{
  GListModel *domains = hd_session_get_domains (self->session);
  guint n = g_list_model_get_n_items (domains);
  g_autofree double *weights = g_new0 (double, MAX (n, 1));
  gboolean found = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);
      HdDomain *domain = hd_domain_item_get_domain (item);

      if (!found && g_strcmp0 (domain->id, start->domain) == 0)
        {
          weights[i] = start->weight;
          found = TRUE;
          g_set_object (&self->start_item, item);
          self->start_weight = start->weight;
        }
    }
  if (!found)
    {
      g_warning ("The demo's start names the domain “%s”, which its pack does not have", start->domain);
      return;
    }
  hd_session_set_seed (self->session, start->seed);
  hd_session_set_psi (self->session, CLAMP (start->psi, HD_SESSION_PSI_MIN, HD_SESSION_PSI_MAX));
  hd_session_set_weights (self->session, weights, n);
}

void
_hd_window_start_step_aside (HdWindow *self)
{
  g_autoptr(HdDomainItem) start = g_steal_pointer (&self->start_item);
  GListModel *domains = hd_session_get_domains (self->session);
  guint n = g_list_model_get_n_items (domains);
  gboolean found = FALSE;

  if (start == NULL || hd_domain_item_get_weight (start) != self->start_weight)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (domains, i);

      if (item == start)
        found = TRUE;
      else if (item != self->text_draft && hd_domain_item_get_weight (item) != 0.0)
        return;   /* the user has blended since */
    }
  if (found)
    hd_domain_item_set_weight (start, 0.0);
}

/* One hd_load_files_async of the window.  The demo's carries its first
 * image, shown once its own files are in: another load that ends first
 * (the hypernetwork reopened at start, say) leaves it alone. */
typedef struct
{
  HdWindow    *self;
  HdDemoStart  start;   /* START.domain is NULL when there is none */
} FilesLoad;

static void
files_load_free (FilesLoad *load)
{
  g_object_unref (load->self);
  hd_demo_start_clear (&load->start);
  g_free (load);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FilesLoad, files_load_free)

static void
on_files_loaded (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(FilesLoad) load = user_data;
  HdWindow *self = load->self;
  g_autoptr(HdLoadResult) result = NULL;
  g_autoptr(GError) error = NULL;

  self->n_loading--;
  result = hd_load_files_finish (res, &error);

  if (result == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _hd_window_show_error (self, _("Could Not Open"), error->message);
    }
  else if (!g_cancellable_is_cancelled (self->cancellable))
    {
      hd_window_apply_load_result (self, result);
      if (load->start.domain != NULL && result->generator != NULL)
        apply_start (self, &load->start);
    }

  _hd_window_update_page (self);
}

/* Reopening saved states: exported PNGs, presets, the last session */

typedef struct
{
  HdWindow *self;
  gboolean  is_session;
} StateOpen;

static void
on_state_opened (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  StateOpen *op = user_data;
  g_autoptr(HdWindow) self = op->self;
  gboolean is_session = op->is_session;
  g_autoptr(HdOpenedState) opened = NULL;
  g_autoptr(GError) error = NULL;

  g_free (op);
  self->n_loading--;
  opened = hd_state_open_finish (res, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  if (opened == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _hd_window_show_error (self,
                              is_session ? _("Could Not Restore the Last Session") : _("Could Not Reopen"),
                              error->message);
    }
  else
    {
      g_autofree char *source_name = g_path_get_basename (opened->origin);

      if (opened->generator != hd_session_get_generator (self->session))
        {
          g_clear_pointer (&self->frame, hd_render_frame_unref);
          g_clear_pointer (&self->full_frame, hd_render_frame_unref);
          hd_image_view_set_texture (self->image_view, NULL, 0, 0);
          hd_session_set_generator (self->session, opened->generator, NULL);
        }
      if (!hd_session_apply_state (self->session, opened->state, opened->domains, source_name, &error))
        _hd_window_show_error (self, _("Could Not Reopen"), error->message);
      /* Prompts can be typed again with the hypernetwork of the rows. */
      else if (opened->text_encoder != NULL && opened->text_encoder != self->text_encoder)
        _hd_window_set_text_encoder (self, opened->text_encoder, NULL);
    }

  _hd_window_update_page (self);
}

/* Restores the state saved in PATH (an exported PNG or a state file),
 * asking for files that moved. */
void
_hd_window_open_state (HdWindow   *self,
                      const char *path,
                      gboolean    is_session)
{
  StateOpen *op = g_new0 (StateOpen, 1);
  /* Text prompts are encoded on the device that renders. */
  g_autofree char *device = g_settings_get_string (self->settings, "device");

  op->self = g_object_ref (self);
  op->is_session = is_session;
  self->n_loading++;
  _hd_window_update_page (self);
  hd_state_open_async (GTK_WINDOW (self), path, hd_session_get_generator (self->session),
                       self->text_encoder, device, self->cancellable, on_state_opened, op);
}

static gboolean
is_state_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = name != NULL ? g_ascii_strdown (name, -1) : NULL;

  return lower != NULL && g_file_is_native (file) &&
         (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".json"));
}

/* Opens FILES as hd_window_open_files does; START (may be NULL) is the
 * demo's first image, shown once they are in. */
static void
open_files (HdWindow          *self,
            GFile            **files,
            guint              n_files,
            const HdDemoStart *start)
{
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autofree char *device = NULL;
  FilesLoad *load;

  for (guint i = 0; i < n_files; i++)
    {
      if (is_state_file (files[i]))
        {
          g_autofree char *path = g_file_get_path (files[i]);
          _hd_window_open_state (self, path, FALSE);
        }
      else
        g_ptr_array_add (others, files[i]);
    }
  files = (GFile **) others->pdata;
  n_files = others->len;

  if (n_files == 0)
    return;

  load = g_new0 (FilesLoad, 1);
  load->self = g_object_ref (self);
  if (start != NULL && start->domain != NULL)
    {
      load->start = *start;
      load->start.domain = g_strdup (start->domain);
    }
  device = g_settings_get_string (self->settings, "device");
  self->n_loading++;
  _hd_window_update_page (self);
  hd_load_files_async (files, n_files, device, self->cancellable, on_files_loaded, load);
}

void
hd_window_open_files (HdWindow  *self,
                      GFile    **files,
                      guint      n_files)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  open_files (self, files, n_files, NULL);
}

void
hd_window_open_demo (HdWindow          *self,
                     GFile            **files,
                     guint              n_files,
                     const HdDemoStart *start)
{
  g_return_if_fail (HD_IS_WINDOW (self));

  open_files (self, files, n_files, start);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         HdWindow      *self)
{
  GSList *list;
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  list = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  g_slist_free (list);

  hd_window_open_files (self, (GFile **) files->pdata, files->len);
  return files->len > 0;
}

void
_hd_window_dnd_init (HdWindow *self)
{
  GtkDropTarget *drop;

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (drop, "drop", G_CALLBACK (on_drop), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}
