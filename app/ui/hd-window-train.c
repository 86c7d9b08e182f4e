/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training a domain from text in the window: the "New Domain from Text"
 * dialog (hd-train-dialog.c), kept by the window so that a run goes on
 * while it is hidden, and the domain in training shown on the image.
 *
 * The domain in training is not a row of the session: it is added to the
 * render jobs of the window only, at weight 1, so the history, the
 * session file and the exports never see a half-trained domain.  An
 * export or copy asked for meanwhile takes the session's own image (the
 * job is made without it while an output waits).  When the run is over,
 * the dialog adds the saved domain as a row, one step of the history. */
#define G_LOG_DOMAIN "Hyperdomain-Window"

#include "config.h"

#include "hd-train-dialog.h"
#include "hd-window-internal.h"

static void
set_preview (HdWindow    *self,
             HdDomain    *domain,
             HdGenerator *trained_gen,
             const char  *badge)
{
  HdGenerator *gen = hd_session_get_generator (self->session);

  g_clear_pointer (&self->train_preview, hd_domain_unref);
  g_clear_pointer (&self->train_preview_gen, hd_generator_unref);
  g_clear_pointer (&self->train_badge, g_free);
  /* A domain of another generator (one opened meanwhile) is not shown. */
  if (domain != NULL && gen != NULL && trained_gen == gen)
    {
      self->train_preview = hd_domain_ref (domain);
      self->train_preview_gen = hd_generator_ref (gen);
      self->train_badge = g_strdup (badge);
    }
  _hd_window_update_badge (self);
  _hd_window_submit (self);
}

static void
on_train_preview (HdWindow      *self,
                  gpointer       domain,
                  gpointer       gen,
                  const char    *badge,
                  HdTrainDialog *dialog)
{
  set_preview (self, domain, gen, badge);
}

/* The dialog was closed while it trained: the outcome comes as a toast. */
static void
on_train_finished (HdWindow      *self,
                   const char    *text,
                   HdTrainDialog *dialog)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (dialog)))
    _hd_window_toast (self, text);
}

void
_hd_window_train_check_generator (HdWindow *self)
{
  /* Another generator was opened: its image has no domain in training
   * (the run goes on, and its file is still written). */
  if (self->train_preview != NULL && self->train_preview_gen != hd_session_get_generator (self->session))
    {
      g_clear_pointer (&self->train_preview, hd_domain_unref);
      g_clear_pointer (&self->train_preview_gen, hd_generator_unref);
      g_clear_pointer (&self->train_badge, g_free);
      _hd_window_update_badge (self);
    }
}

void
_hd_window_train_add_preview (HdWindow    *self,
                              HdRenderJob *job)
{
  if (self->train_preview == NULL || job->gen != self->train_preview_gen ||
      self->pending_output != OUTPUT_NONE)
    return;
  hd_state_add_domain (job->state, self->train_preview, 1.0, 0, 0);
  g_ptr_array_add (job->domains, hd_domain_ref (self->train_preview));
}

void
_hd_window_train_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  HdWindow *self = HD_WINDOW (widget);

  if (self->train_dialog == NULL)
    {
      self->train_dialog = g_object_ref_sink (hd_train_dialog_new (GTK_WINDOW (self), self->session));
      g_signal_connect_object (self->train_dialog, "preview", G_CALLBACK (on_train_preview), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->train_dialog, "finished", G_CALLBACK (on_train_finished), self,
                               G_CONNECT_SWAPPED);
    }
  gtk_window_present (GTK_WINDOW (self->train_dialog));
}

void
_hd_window_train_dispose (HdWindow *self)
{
  /* Destroying the dialog cancels its run. */
  if (self->train_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->train_dialog, self);
      gtk_window_destroy (GTK_WINDOW (self->train_dialog));
    }
  g_clear_object (&self->train_dialog);
  g_clear_pointer (&self->train_preview, hd_domain_unref);
  g_clear_pointer (&self->train_preview_gen, hd_generator_unref);
  g_clear_pointer (&self->train_badge, g_free);
}

GtkWidget *
hd_window_get_train_dialog (HdWindow *self)
{
  g_return_val_if_fail (HD_IS_WINDOW (self), NULL);
  return self->train_dialog;
}
