/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Domains from text in the window: the "Describe a Domain" row.
 *
 * While the user types, the prompt (after a short pause) is encoded off
 * the main loop and shown as a draft row, a domain like any other, whose
 * domain is replaced as the prompt changes; Enter (or the apply button)
 * keeps the row and empties the entry for the next prompt.  Emptying the
 * entry removes the draft.  A prompt the tokenizer refuses (too long, not
 * UTF-8) is said below the entry, never in a dialog. */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-clip-tokenizer.h"
#include "hd-error.h"
#include "hd-window-internal.h"

/* Typing pauses this long before a prompt is encoded. */
#define TEXT_DEBOUNCE_MS 250

typedef struct {
  HdTextEncoder *encoder;
  char          *prompt;
  guint          serial;
  gboolean       keep;     /* Enter: keep the row, empty the entry */
} TextRequest;

static void
text_request_free (TextRequest *request)
{
  hd_text_encoder_unref (request->encoder);
  g_free (request->prompt);
  g_free (request);
}

static void
show_text_message (HdWindow   *self,
                   const char *message)
{
  gtk_label_set_label (self->text_message, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->text_message), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->text_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->text_entry), "error");
}

static void
encode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  TextRequest *request = task_data;
  GError *error = NULL;
  HdDomain *domain = hd_text_encoder_get_domain (request->encoder, request->prompt, &error);

  if (domain == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, domain, (GDestroyNotify) hd_domain_unref);
}

/* Puts DOMAIN in the draft row, making the row when there is none. */
static void
show_draft (HdWindow *self,
            HdDomain *domain)
{
  g_autoptr(GPtrArray) domains = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *model = hd_session_get_domains (self->session);

  if (self->text_draft != NULL)
    {
      hd_domain_item_set_domain (self->text_draft, domain);
      return;
    }
  domains = g_ptr_array_new ();
  g_ptr_array_add (domains, domain);
  if (!hd_session_add_domains (self->session, domains, NULL, &error))
    {
      show_text_message (self, error->message);
      return;
    }
  self->text_draft = g_list_model_get_item (model, g_list_model_get_n_items (model) - 1);
  /* The image follows the prompt: the row starts at full weight, and the
   * demo's first image, untouched since, steps aside for it. */
  hd_domain_item_set_weight (self->text_draft, 1.0);
  _hd_window_start_step_aside (self);
}

static void
clear_entry (HdWindow *self)
{
  self->text_clearing = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->text_entry), "");
  self->text_clearing = FALSE;
}

static void
on_encoded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  HdWindow *self = HD_WINDOW (source);
  TextRequest *request = g_task_get_task_data (G_TASK (result));
  g_autoptr(HdDomain) domain = NULL;
  g_autoptr(GError) error = NULL;

  domain = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  /* A newer prompt is on its way: this one is out of date. */
  if (request->serial != self->text_serial)
    return;
  if (domain == NULL)
    {
      show_text_message (self, error->message);
      return;
    }
  show_text_message (self, NULL);
  show_draft (self, domain);
  if (request->keep)
    {
      g_clear_object (&self->text_draft);
      clear_entry (self);
    }
}

static void
encode_prompt (HdWindow *self,
               gboolean  keep)
{
  g_autoptr(GTask) task = NULL;
  TextRequest *request;

  g_clear_handle_id (&self->text_debounce_id, g_source_remove);
  if (self->text_encoder == NULL)
    return;
  request = g_new0 (TextRequest, 1);
  request->encoder = hd_text_encoder_ref (self->text_encoder);
  request->prompt = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->text_entry)));
  request->serial = ++self->text_serial;
  request->keep = keep;
  task = g_task_new (self, self->cancellable, on_encoded, NULL);
  g_task_set_task_data (task, request, (GDestroyNotify) text_request_free);
  g_task_run_in_thread (task, encode_thread);
}

static gboolean
on_debounce (gpointer data)
{
  HdWindow *self = data;

  self->text_debounce_id = 0;
  encode_prompt (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
on_text_changed (HdWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->text_entry));

  if (self->text_clearing)
    return;
  g_clear_handle_id (&self->text_debounce_id, g_source_remove);
  if (*text != '\0')
    {
      self->text_debounce_id = g_timeout_add (TEXT_DEBOUNCE_MS, on_debounce, self);
      return;
    }
  /* An emptied entry takes its draft row away. */
  self->text_serial++;
  show_text_message (self, NULL);
  if (self->text_draft != NULL)
    {
      hd_session_remove_domain (self->session, self->text_draft);
      g_clear_object (&self->text_draft);
    }
}

static void
on_text_apply (HdWindow *self)
{
  if (*gtk_editable_get_text (GTK_EDITABLE (self->text_entry)) != '\0')
    encode_prompt (self, TRUE);
}

/* The draft row went away by other means (removed, a session replaced
 * the rows): typing starts a new one. */
static void
on_domains_changed (HdWindow   *self,
                    guint       position,
                    guint       removed,
                    guint       added,
                    GListModel *model)
{
  guint where;

  if (self->text_draft != NULL && removed > 0 &&
      !g_list_store_find (G_LIST_STORE (model), self->text_draft, &where))
    g_clear_object (&self->text_draft);
}

/* Preferences chose another device: prompts typed from now on are
 * encoded there, as the image is rendered there. */
static void
on_device_changed (HdWindow *self)
{
  g_autofree char *device = g_settings_get_string (self->settings, "device");

  if (self->text_encoder != NULL)
    hd_text_encoder_set_device (self->text_encoder, device);
}

void
_hd_window_text_init (HdWindow *self)
{
  g_signal_connect_object (self->settings, "changed::device", G_CALLBACK (on_device_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->text_entry, "changed", G_CALLBACK (on_text_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->text_entry, "apply", G_CALLBACK (on_text_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->text_entry, "entry-activated", G_CALLBACK (on_text_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (hd_session_get_domains (self->session), "items-changed",
                           G_CALLBACK (on_domains_changed), self, G_CONNECT_SWAPPED);
}

void
_hd_window_text_dispose (HdWindow *self)
{
  g_clear_handle_id (&self->text_debounce_id, g_source_remove);
  g_clear_object (&self->text_draft);
  g_clear_object (&self->start_item);
  g_clear_pointer (&self->text_encoder, hd_text_encoder_unref);
}

gboolean
_hd_window_set_text_encoder (HdWindow       *self,
                             HdTextEncoder  *encoder,
                             GError        **error)
{
  HdHypernetwork *hn = hd_text_encoder_get_hypernetwork (encoder);
  HdGenerator *gen = hd_session_get_generator (self->session);
  GListModel *model = hd_session_get_domains (self->session);

  if (gen != NULL && !hd_hypernetwork_check (hn, gen, error))
    return FALSE;
  /* One image blends the prompts of one hypernetwork (the state records
   * one). */
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (model, i);
      HdDomain *domain = hd_domain_item_get_domain (item);

      if (domain->prompt != NULL && g_strcmp0 (domain->hypernetwork_path, hn->path) != 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("The rows of “%s” come from the hypernetwork “%s”: remove them before "
                         "typing prompts for “%s”"),
                       hd_domain_item_get_name (item), domain->hypernetwork_name, hn->name);
          return FALSE;
        }
    }
  g_clear_pointer (&self->text_encoder, hd_text_encoder_unref);
  self->text_encoder = hd_text_encoder_ref (encoder);
  self->text_serial++;
  gtk_widget_set_visible (self->text_list, TRUE);
  show_text_message (self, NULL);
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-hypernetwork", hn->path);
  return TRUE;
}

GtkWidget *
hd_window_get_text_entry (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->text_entry);
}

GtkLabel *
hd_window_get_text_message (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->text_message;
}

HdTextEncoder *
hd_window_get_text_encoder (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->text_encoder;
}
