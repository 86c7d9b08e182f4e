/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "hd-domain.h"

G_BEGIN_DECLS

/* One domain in the session: the domain itself and the user's controls
 * for it (weight, mute, solo, layer range). */

#define HD_DOMAIN_WEIGHT_MIN (-1.0)
#define HD_DOMAIN_WEIGHT_MAX 2.0

#define HD_TYPE_DOMAIN_ITEM (hd_domain_item_get_type ())

G_DECLARE_FINAL_TYPE (HdDomainItem, hd_domain_item, HD, DOMAIN_ITEM, GObject)

HdDomainItem *hd_domain_item_new          (HdDomain     *domain,
                                           double        weight);
HdDomain     *hd_domain_item_get_domain   (HdDomainItem *self);
/* Replaces the domain (a text row's, when its prompt changes); notifies
 * "name" and "description". */
void          hd_domain_item_set_domain   (HdDomainItem *self,
                                           HdDomain     *domain);
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
/* The blocks the domain acts on, by resolution (generator-math §7):
 * MIN_RES..MAX_RES inclusive, 0 = open; 0..0 = every layer. */
int           hd_domain_item_get_min_res  (HdDomainItem *self);
int           hd_domain_item_get_max_res  (HdDomainItem *self);
void          hd_domain_item_set_range    (HdDomainItem *self,
                                           int           min_res,
                                           int           max_res);

G_END_DECLS
