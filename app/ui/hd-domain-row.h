/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-domain-item.h"
#include "hd-session.h"

G_BEGIN_DECLS

/* A row of the domain list: name, layer range, weight slider, mute,
 * solo, remove. */

#define HD_TYPE_DOMAIN_ROW (hd_domain_row_get_type ())

G_DECLARE_FINAL_TYPE (HdDomainRow, hd_domain_row, HD, DOMAIN_ROW, GtkListBoxRow)

GtkWidget    *hd_domain_row_new        (HdDomainItem *item,
                                        HdSession    *session);
HdDomainItem *hd_domain_row_get_item   (HdDomainRow  *self);
GtkRange     *hd_domain_row_get_scale  (HdDomainRow  *self);
/* The check button of a layer group: 0 coarse, 1 middle, 2 fine. */
GtkCheckButton *hd_domain_row_get_group_check  (HdDomainRow *self,
                                                guint        group);
GtkMenuButton  *hd_domain_row_get_range_button (HdDomainRow *self);

G_END_DECLS
