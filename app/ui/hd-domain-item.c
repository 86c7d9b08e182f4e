/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-DomainItem"

#include "config.h"

#include <math.h>

#include "hd-domain-item.h"

struct _HdDomainItem
{
  GObject   parent_instance;

  HdDomain *domain;
  double    weight;
  int       min_res;
  int       max_res;
  guint     muted : 1;
  guint     solo : 1;
};

G_DEFINE_FINAL_TYPE (HdDomainItem, hd_domain_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_WEIGHT,
  PROP_MUTED,
  PROP_SOLO,
  PROP_MIN_RES,
  PROP_MAX_RES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hd_domain_item_finalize (GObject *object)
{
  HdDomainItem *self = (HdDomainItem *)object;

  g_clear_pointer (&self->domain, hd_domain_unref);

  G_OBJECT_CLASS (hd_domain_item_parent_class)->finalize (object);
}

static void
hd_domain_item_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  HdDomainItem *self = HD_DOMAIN_ITEM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, hd_domain_item_get_name (self));
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->domain->description);
      break;

    case PROP_WEIGHT:
      g_value_set_double (value, self->weight);
      break;

    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;

    case PROP_SOLO:
      g_value_set_boolean (value, self->solo);
      break;

    case PROP_MIN_RES:
      g_value_set_int (value, self->min_res);
      break;

    case PROP_MAX_RES:
      g_value_set_int (value, self->max_res);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_domain_item_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  HdDomainItem *self = HD_DOMAIN_ITEM (object);

  switch (prop_id)
    {
    case PROP_WEIGHT:
      hd_domain_item_set_weight (self, g_value_get_double (value));
      break;

    case PROP_MUTED:
      hd_domain_item_set_muted (self, g_value_get_boolean (value));
      break;

    case PROP_SOLO:
      hd_domain_item_set_solo (self, g_value_get_boolean (value));
      break;

    case PROP_MIN_RES:
      hd_domain_item_set_range (self, g_value_get_int (value), self->max_res);
      break;

    case PROP_MAX_RES:
      hd_domain_item_set_range (self, self->min_res, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_domain_item_class_init (HdDomainItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hd_domain_item_finalize;
  object_class->get_property = hd_domain_item_get_property;
  object_class->set_property = hd_domain_item_set_property;

  /* Notified when the domain changes (a text row whose prompt is edited). */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_WEIGHT] =
    g_param_spec_double ("weight", NULL, NULL,
                         HD_DOMAIN_WEIGHT_MIN, HD_DOMAIN_WEIGHT_MAX, 0.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SOLO] =
    g_param_spec_boolean ("solo", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_MIN_RES] =
    g_param_spec_int ("min-res", NULL, NULL, 0, 65536, 0,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_MAX_RES] =
    g_param_spec_int ("max-res", NULL, NULL, 0, 65536, 0,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hd_domain_item_init (HdDomainItem *self)
{
}

HdDomainItem *
hd_domain_item_new (HdDomain *domain,
                    double    weight)
{
  HdDomainItem *self;

  g_return_val_if_fail (domain != NULL, NULL);

  self = g_object_new (HD_TYPE_DOMAIN_ITEM, NULL);
  self->domain = hd_domain_ref (domain);
  self->weight = CLAMP (weight, HD_DOMAIN_WEIGHT_MIN, HD_DOMAIN_WEIGHT_MAX);

  return self;
}

HdDomain *
hd_domain_item_get_domain (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), NULL);

  return self->domain;
}

void
hd_domain_item_set_domain (HdDomainItem *self,
                           HdDomain     *domain)
{
  g_return_if_fail (HD_IS_DOMAIN_ITEM (self));
  g_return_if_fail (domain != NULL);

  if (domain == self->domain)
    return;
  hd_domain_ref (domain);
  g_clear_pointer (&self->domain, hd_domain_unref);
  self->domain = domain;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

const char *
hd_domain_item_get_name (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), NULL);

  if (self->domain->name != NULL)
    return self->domain->name;
  if (self->domain->id != NULL)
    return self->domain->id;
  return self->domain->path;
}

double
hd_domain_item_get_weight (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), 0.0);

  return self->weight;
}

void
hd_domain_item_set_weight (HdDomainItem *self,
                           double        weight)
{
  g_return_if_fail (HD_IS_DOMAIN_ITEM (self));

  if (!isfinite (weight))
    return;
  weight = CLAMP (weight, HD_DOMAIN_WEIGHT_MIN, HD_DOMAIN_WEIGHT_MAX);
  if (weight != self->weight)
    {
      self->weight = weight;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WEIGHT]);
    }
}

gboolean
hd_domain_item_get_muted (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), FALSE);

  return self->muted;
}

void
hd_domain_item_set_muted (HdDomainItem *self,
                          gboolean      muted)
{
  g_return_if_fail (HD_IS_DOMAIN_ITEM (self));

  muted = !!muted;
  if (muted != self->muted)
    {
      self->muted = muted;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED]);
    }
}

gboolean
hd_domain_item_get_solo (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), FALSE);

  return self->solo;
}

void
hd_domain_item_set_solo (HdDomainItem *self,
                         gboolean      solo)
{
  g_return_if_fail (HD_IS_DOMAIN_ITEM (self));

  solo = !!solo;
  if (solo != self->solo)
    {
      self->solo = solo;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOLO]);
    }
}

int
hd_domain_item_get_min_res (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), 0);

  return self->min_res;
}

int
hd_domain_item_get_max_res (HdDomainItem *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (self), 0);

  return self->max_res;
}

void
hd_domain_item_set_range (HdDomainItem *self,
                          int           min_res,
                          int           max_res)
{
  gboolean min_changed, max_changed;

  g_return_if_fail (HD_IS_DOMAIN_ITEM (self));

  min_res = CLAMP (min_res, 0, 65536);
  max_res = CLAMP (max_res, 0, 65536);
  /* An empty range would silently switch the domain off. */
  if (min_res > 0 && max_res > 0 && max_res < min_res)
    return;

  min_changed = min_res != self->min_res;
  max_changed = max_res != self->max_res;
  if (!min_changed && !max_changed)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  self->min_res = min_res;
  self->max_res = max_res;
  if (min_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_RES]);
  if (max_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RES]);
  g_object_thaw_notify (G_OBJECT (self));
}
