/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-DomainRow"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-domain-row.h"
#include "hd-slider.h"

struct _HdDomainRow
{
  GtkListBoxRow    parent_instance;

  GtkLabel        *name_label;
  GtkToggleButton *mute_button;
  GtkToggleButton *solo_button;
  GtkScale        *weight_scale;

  HdDomainItem    *item;
  GWeakRef         session;
};

G_DEFINE_FINAL_TYPE (HdDomainRow, hd_domain_row, GTK_TYPE_LIST_BOX_ROW)

static void
hd_domain_row_remove (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  HdDomainRow *self = HD_DOMAIN_ROW (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);

  if (session != NULL)
    hd_session_remove_domain (session, self->item);
}

static void
hd_domain_row_dispose (GObject *object)
{
  HdDomainRow *self = (HdDomainRow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_DOMAIN_ROW);
  g_clear_object (&self->item);

  G_OBJECT_CLASS (hd_domain_row_parent_class)->dispose (object);
}

static void
hd_domain_row_finalize (GObject *object)
{
  HdDomainRow *self = (HdDomainRow *)object;

  g_weak_ref_clear (&self->session);

  G_OBJECT_CLASS (hd_domain_row_parent_class)->finalize (object);
}

static void
hd_domain_row_class_init (HdDomainRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_domain_row_dispose;
  object_class->finalize = hd_domain_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-domain-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, mute_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, solo_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, weight_scale);

  gtk_widget_class_install_action (widget_class, "row.remove", NULL, hd_domain_row_remove);
}

static void
hd_domain_row_init (HdDomainRow *self)
{
  g_weak_ref_init (&self->session, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
hd_domain_row_new (HdDomainItem *item,
                   HdSession    *session)
{
  HdDomainRow *self;
  HdDomain *domain;

  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (item), NULL);
  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_DOMAIN_ROW, NULL);
  self->item = g_object_ref (item);
  g_weak_ref_set (&self->session, session);
  domain = hd_domain_item_get_domain (item);

  gtk_label_set_label (self->name_label, hd_domain_item_get_name (item));
  if (domain->description != NULL && *domain->description != '\0')
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), domain->description);
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), domain->path);

  g_object_bind_property (item, "weight",
                          gtk_range_get_adjustment (GTK_RANGE (self->weight_scale)), "value",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (item, "muted", self->mute_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (item, "solo", self->solo_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  hd_slider_setup (GTK_RANGE (self->weight_scale), session, 0.0);

  return GTK_WIDGET (self);
}

HdDomainItem *
hd_domain_row_get_item (HdDomainRow *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);

  return self->item;
}

GtkRange *
hd_domain_row_get_scale (HdDomainRow *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);

  return GTK_RANGE (self->weight_scale);
}
