/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "hd-domain.h"

G_BEGIN_DECLS

/* One loaded domain in the session: the domain itself (immutable) and the
 * user's controls for it (weight, mute, solo). */

#define HD_DOMAIN_WEIGHT_MIN (-1.0)
#define HD_DOMAIN_WEIGHT_MAX 2.0

#define HD_TYPE_DOMAIN_ITEM (hd_domain_item_get_type ())

G_DECLARE_FINAL_TYPE (HdDomainItem, hd_domain_item, HD, DOMAIN_ITEM, GObject)

HdDomainItem *hd_domain_item_new          (HdDomain     *domain,
                                           double        weight);
HdDomain     *hd_domain_item_get_domain   (HdDomainItem *self);
const char   *hd_domain_item_get_name     (HdDomainItem *self);
double        hd_domain_item_get_weight   (HdDomainItem *self);
void          hd_domain_item_set_weight   (HdDomainItem *self,
                                           double        weight);
gboolean      hd_domain_item_get_muted    (HdDomainItem *self);
void          hd_domain_item_set_muted    (HdDomainItem *self,
                                           gboolean      muted);
gboolean      hd_domain_item_get_solo     (HdDomainItem *self);
void          hd_domain_item_set_solo     (HdDomainItem *self,
                                           gboolean      solo);

G_END_DECLS
