/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Session"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "hd-error.h"
#include "hd-session.h"

struct _HdSession
{
  GObject      parent_instance;

  HdGenerator *generator;
  GListStore  *domains;

  guint32      seed;
  double       psi;
  int          cutoff;
  guint        noise_mode;
  guint32      noise_seed;
  guint32      mix_seed;
  double       mix;

  GBytes      *latent;        /* from a file: z or w floats */
  HdLatentKind latent_kind;   /* HD_LATENT_Z or HD_LATENT_W when LATENT */
  char        *latent_path;

  guint64      serial;
  guint        batch;          /* > 0: "changed" waits for the end */
  guint        batch_changed : 1;
  guint        interactive : 1;
};

G_DEFINE_FINAL_TYPE (HdSession, hd_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HAS_GENERATOR,
  PROP_TITLE,
  PROP_NUM_WS,
  PROP_SEED,
  PROP_PSI,
  PROP_CUTOFF,
  PROP_NOISE_MODE,
  PROP_NOISE_SEED,
  PROP_MIX_SEED,
  PROP_MIX,
  PROP_LATENT_NAME,
  PROP_HAS_LATENT_FILE,
  PROP_N_DOMAINS,
  PROP_INTERACTIVE,
  N_PROPS
};

enum {
  CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
hd_session_emit_changed (HdSession *self)
{
  self->serial++;
  if (self->batch > 0)
    {
      self->batch_changed = TRUE;
      return;
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

/* Several changes as one: "changed" once at the end. */
static void
hd_session_begin_batch (HdSession *self)
{
  self->batch++;
}

static void
hd_session_end_batch (HdSession *self)
{
  g_return_if_fail (self->batch > 0);

  if (--self->batch == 0 && self->batch_changed)
    {
      self->batch_changed = FALSE;
      g_signal_emit (self, signals[CHANGED], 0);
    }
}

static void
on_domain_item_notify (HdSession    *self,
                       GParamSpec   *pspec,
                       HdDomainItem *item)
{
  hd_session_emit_changed (self);
}

static void
hd_session_dispose (GObject *object)
{
  HdSession *self = (HdSession *)object;
  guint n = self->domains != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->domains)) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);
      g_signal_handlers_disconnect_by_data (item, self);
    }
  g_clear_object (&self->domains);

  G_OBJECT_CLASS (hd_session_parent_class)->dispose (object);
}

static void
hd_session_finalize (GObject *object)
{
  HdSession *self = (HdSession *)object;

  g_clear_pointer (&self->generator, hd_generator_unref);
  g_clear_pointer (&self->latent, g_bytes_unref);
  g_free (self->latent_path);

  G_OBJECT_CLASS (hd_session_parent_class)->finalize (object);
}

static int
hd_session_get_num_ws (HdSession *self)
{
  return self->generator != NULL ? self->generator->num_ws : 18;
}

static void
hd_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  HdSession *self = HD_SESSION (object);

  switch (prop_id)
    {
    case PROP_HAS_GENERATOR:
      g_value_set_boolean (value, self->generator != NULL);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->generator != NULL ? self->generator->name : NULL);
      break;

    case PROP_NUM_WS:
      g_value_set_int (value, hd_session_get_num_ws (self));
      break;

    case PROP_SEED:
      g_value_set_uint (value, self->seed);
      break;

    case PROP_PSI:
      g_value_set_double (value, self->psi);
      break;

    case PROP_CUTOFF:
      g_value_set_int (value, self->cutoff);
      break;

    case PROP_NOISE_MODE:
      g_value_set_uint (value, self->noise_mode);
      break;

    case PROP_NOISE_SEED:
      g_value_set_uint (value, self->noise_seed);
      break;

    case PROP_MIX_SEED:
      g_value_set_uint (value, self->mix_seed);
      break;

    case PROP_MIX:
      g_value_set_double (value, self->mix);
      break;

    case PROP_LATENT_NAME:
      if (self->latent_path != NULL)
        g_value_take_string (value, g_path_get_basename (self->latent_path));
      else
        g_value_set_string (value, NULL);
      break;

    case PROP_HAS_LATENT_FILE:
      g_value_set_boolean (value, self->latent != NULL);
      break;

    case PROP_N_DOMAINS:
      g_value_set_uint (value, g_list_model_get_n_items (G_LIST_MODEL (self->domains)));
      break;

    case PROP_INTERACTIVE:
      g_value_set_boolean (value, self->interactive);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Sets a numeric field, notifies and emits "changed" when it changed. */
#define UPDATE_FIELD(self, field, value, prop)                            \
  G_STMT_START {                                                          \
    if ((self)->field != (value))                                         \
      {                                                                   \
        (self)->field = (value);                                          \
        g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);     \
        hd_session_emit_changed (self);                                   \
      }                                                                   \
  } G_STMT_END

static void
hd_session_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  HdSession *self = HD_SESSION (object);

  switch (prop_id)
    {
    case PROP_SEED:
      hd_session_set_seed (self, g_value_get_uint (value));
      break;

    case PROP_PSI:
      hd_session_set_psi (self, g_value_get_double (value));
      break;

    case PROP_CUTOFF:
      UPDATE_FIELD (self, cutoff, g_value_get_int (value), PROP_CUTOFF);
      break;

    case PROP_NOISE_MODE:
      UPDATE_FIELD (self, noise_mode, MIN (g_value_get_uint (value), 2), PROP_NOISE_MODE);
      break;

    case PROP_NOISE_SEED:
      UPDATE_FIELD (self, noise_seed, g_value_get_uint (value), PROP_NOISE_SEED);
      break;

    case PROP_MIX_SEED:
      UPDATE_FIELD (self, mix_seed, g_value_get_uint (value), PROP_MIX_SEED);
      break;

    case PROP_MIX:
      UPDATE_FIELD (self, mix, g_value_get_double (value), PROP_MIX);
      break;

    case PROP_INTERACTIVE:
      hd_session_set_interactive (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_session_class_init (HdSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = hd_session_dispose;
  object_class->finalize = hd_session_finalize;
  object_class->get_property = hd_session_get_property;
  object_class->set_property = hd_session_set_property;

  properties[PROP_HAS_GENERATOR] =
    g_param_spec_boolean ("has-generator", NULL, NULL, FALSE, ro);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL, ro);
  properties[PROP_NUM_WS] =
    g_param_spec_int ("num-ws", NULL, NULL, 1, G_MAXINT, 18, ro);
  properties[PROP_SEED] =
    g_param_spec_uint ("seed", NULL, NULL, 0, G_MAXUINT32, 0, rw);
  properties[PROP_PSI] =
    g_param_spec_double ("psi", NULL, NULL, HD_SESSION_PSI_MIN, HD_SESSION_PSI_MAX, 1.0, rw);
  properties[PROP_CUTOFF] =
    g_param_spec_int ("cutoff", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_NOISE_MODE] =
    g_param_spec_uint ("noise-mode", NULL, NULL, HD_NOISE_CONST, HD_NOISE_NONE, HD_NOISE_CONST, rw);
  properties[PROP_NOISE_SEED] =
    g_param_spec_uint ("noise-seed", NULL, NULL, 0, G_MAXUINT32, 0, rw);
  properties[PROP_MIX_SEED] =
    g_param_spec_uint ("mix-seed", NULL, NULL, 0, G_MAXUINT32, 1, rw);
  properties[PROP_MIX] =
    g_param_spec_double ("mix", NULL, NULL, 0.0, 1.0, 0.0, rw);
  properties[PROP_LATENT_NAME] =
    g_param_spec_string ("latent-name", NULL, NULL, NULL, ro);
  properties[PROP_HAS_LATENT_FILE] =
    g_param_spec_boolean ("has-latent-file", NULL, NULL, FALSE, ro);
  properties[PROP_N_DOMAINS] =
    g_param_spec_uint ("n-domains", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_INTERACTIVE] =
    g_param_spec_boolean ("interactive", NULL, NULL, FALSE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HdSession::changed:
   *
   * Something that alters the image changed.
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
hd_session_init (HdSession *self)
{
  self->domains = g_list_store_new (HD_TYPE_DOMAIN_ITEM);
  self->psi = 1.0;
  self->cutoff = -1;
  self->noise_mode = HD_NOISE_CONST;
  self->mix_seed = 1;
}

HdSession *
hd_session_new (void)
{
  return g_object_new (HD_TYPE_SESSION, NULL);
}

HdGenerator *
hd_session_get_generator (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), NULL);

  return self->generator;
}

static gboolean
latent_fits (HdGenerator  *gen,
             HdLatentKind  kind,
             gsize         n_floats)
{
  if (kind == HD_LATENT_Z)
    return n_floats == (gsize) gen->config.z_dim;
  return n_floats == (gsize) gen->num_ws * gen->config.w_dim;
}

static void
hd_session_remove_at (HdSession *self,
                      guint      position)
{
  g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), position);

  g_signal_handlers_disconnect_by_data (item, self);
  g_list_store_remove (self->domains, position);
}

void
hd_session_set_generator (HdSession   *self,
                          HdGenerator *gen,
                          guint       *n_removed)
{
  guint removed = 0;
  int old_num_ws;

  g_return_if_fail (HD_IS_SESSION (self));

  if (gen == self->generator)
    {
      if (n_removed != NULL)
        *n_removed = 0;
      return;
    }

  old_num_ws = hd_session_get_num_ws (self);
  g_clear_pointer (&self->generator, hd_generator_unref);
  if (gen != NULL)
    self->generator = hd_generator_ref (gen);

  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->domains)); i > 0; i--)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i - 1);

      if (gen == NULL || !hd_domain_check (hd_domain_item_get_domain (item), gen, NULL, NULL))
        {
          hd_session_remove_at (self, i - 1);
          removed++;
        }
    }

  if (self->latent != NULL &&
      (gen == NULL || !latent_fits (gen, self->latent_kind, g_bytes_get_size (self->latent) / sizeof (float))))
    {
      hd_session_clear_latent_file (self);
      removed++;
    }

  if (gen != NULL && self->cutoff > gen->num_ws)
    {
      self->cutoff = -1;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CUTOFF]);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_GENERATOR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
  if (old_num_ws != hd_session_get_num_ws (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NUM_WS]);
  if (removed > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DOMAINS]);

  hd_session_emit_changed (self);

  if (n_removed != NULL)
    *n_removed = removed;
}

static void
hd_session_append_item (HdSession    *self,
                        HdDomainItem *item)
{
  static const char *signals_of_item[] = {
    "notify::weight", "notify::muted", "notify::solo", "notify::min-res", "notify::max-res",
    "notify::name",
  };

  for (guint i = 0; i < G_N_ELEMENTS (signals_of_item); i++)
    g_signal_connect_object (item, signals_of_item[i], G_CALLBACK (on_domain_item_notify),
                             self, G_CONNECT_SWAPPED);
  g_list_store_append (self->domains, item);
}

static gboolean
hd_session_any_active (HdSession *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);
      if (hd_domain_item_get_weight (item) != 0.0)
        return TRUE;
    }
  return FALSE;
}

gboolean
hd_session_add_domains (HdSession  *self,
                        GPtrArray  *domains,
                        char      **warnings,
                        GError    **error)
{
  g_autoptr(GString) notes = NULL;
  gboolean first_on;
  guint added = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (HD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (domains != NULL, FALSE);

  if (warnings != NULL)
    *warnings = NULL;

  if (self->generator == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("Open a generator before adding domains"));
      return FALSE;
    }

  /* The first new domain is switched on when nothing else is, so adding
   * a domain shows it; the others start neutral. */
  first_on = !hd_session_any_active (self);

  for (guint i = 0; i < domains->len; i++)
    {
      HdDomain *domain = g_ptr_array_index (domains, i);
      g_autoptr(HdDomainItem) item = NULL;
      g_autofree char *warning = NULL;

      if (!hd_domain_check (domain, self->generator, &warning, error))
        {
          ok = FALSE;
          break;
        }
      if (warning != NULL)
        {
          if (notes == NULL)
            notes = g_string_new (warning);
          else
            g_string_append_printf (notes, "\n%s", warning);
        }

      item = hd_domain_item_new (domain, first_on && added == 0 ? 1.0 : 0.0);
      hd_session_append_item (self, item);
      added++;
    }

  if (added > 0)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DOMAINS]);
      hd_session_emit_changed (self);
    }

  if (warnings != NULL && notes != NULL)
    *warnings = g_string_free (g_steal_pointer (&notes), FALSE);

  return ok;
}

void
hd_session_remove_domain (HdSession    *self,
                          HdDomainItem *item)
{
  guint position;

  g_return_if_fail (HD_IS_SESSION (self));
  g_return_if_fail (HD_IS_DOMAIN_ITEM (item));

  if (!g_list_store_find (self->domains, item, &position))
    return;

  hd_session_remove_at (self, position);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DOMAINS]);
  hd_session_emit_changed (self);
}

GListModel *
hd_session_get_domains (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), NULL);

  return G_LIST_MODEL (self->domains);
}

/* Sets every weight while emitting "changed" once. */
static void
hd_session_set_weights_internal (HdSession    *self,
                                 const double *weights)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));

  hd_session_begin_batch (self);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);

      hd_domain_item_set_weight (item, weights[i]);
    }
  hd_session_end_batch (self);
}

void
hd_session_set_weights (HdSession    *self,
                        const double *weights,
                        guint         n_weights)
{
  g_return_if_fail (HD_IS_SESSION (self));
  g_return_if_fail (n_weights == g_list_model_get_n_items (G_LIST_MODEL (self->domains)));

  hd_session_set_weights_internal (self, weights);
}

void
hd_session_reset_weights (HdSession *self)
{
  guint n;
  g_autofree double *weights = NULL;

  g_return_if_fail (HD_IS_SESSION (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));
  weights = g_new0 (double, MAX (n, 1));
  hd_session_set_weights_internal (self, weights);
}

void
hd_session_normalize_weights (HdSession *self)
{
  guint n;
  g_autofree double *weights = NULL;
  double sum = 0.0;

  g_return_if_fail (HD_IS_SESSION (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));
  if (n == 0)
    return;

  weights = g_new0 (double, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);
      weights[i] = hd_domain_item_get_weight (item);
      sum += weights[i];
    }

  for (guint i = 0; i < n; i++)
    weights[i] = fabs (sum) < 1e-6 ? 1.0 / n : weights[i] / sum;

  hd_session_set_weights_internal (self, weights);
}

guint32
hd_session_get_seed (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), 0);

  return self->seed;
}

void
hd_session_set_seed (HdSession *self,
                     guint32    seed)
{
  g_return_if_fail (HD_IS_SESSION (self));

  UPDATE_FIELD (self, seed, seed, PROP_SEED);
}

void
hd_session_step_seed (HdSession *self,
                      int        delta)
{
  g_return_if_fail (HD_IS_SESSION (self));

  /* Unsigned arithmetic wraps modulo 2^32. */
  hd_session_set_seed (self, self->seed + (guint32) delta);
}

void
hd_session_random_seed (HdSession *self)
{
  g_return_if_fail (HD_IS_SESSION (self));

  hd_session_set_seed (self, g_random_int ());
}

double
hd_session_get_psi (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), 1.0);

  return self->psi;
}

void
hd_session_set_psi (HdSession *self,
                    double     psi)
{
  g_return_if_fail (HD_IS_SESSION (self));

  if (!isfinite (psi))
    return;
  psi = CLAMP (psi, HD_SESSION_PSI_MIN, HD_SESSION_PSI_MAX);
  UPDATE_FIELD (self, psi, psi, PROP_PSI);
}

gboolean
hd_session_set_latent_file (HdSession   *self,
                            HdNpy       *npy,
                            const char  *path,
                            GError     **error)
{
  HdGenerator *gen;
  g_autofree float *data = NULL;
  HdLatentKind kind;
  int z_dim, w_dim, num_ws;
  gsize n;

  g_return_val_if_fail (HD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (npy != NULL, FALSE);

  gen = self->generator;
  if (gen == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("Open a generator before loading a latent"));
      return FALSE;
    }

  for (gsize i = 0; i < npy->n_elements; i++)
    if (!isfinite (npy->data[i]))
      {
        g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                     _("“%s” holds a value that is not a finite number"), path);
        return FALSE;
      }

  z_dim = gen->config.z_dim;
  w_dim = gen->config.w_dim;
  num_ws = gen->num_ws;
  n = (gsize) num_ws * w_dim;

  if (npy->n_dims == 1 && npy->shape[0] == w_dim)
    {
      /* One w for every layer; W wins over z when the sizes agree. */
      kind = HD_LATENT_W;
      data = g_new (float, n);
      for (int k = 0; k < num_ws; k++)
        memcpy (data + (gsize) k * w_dim, npy->data, sizeof (float) * w_dim);
    }
  else if ((npy->n_dims == 2 && npy->shape[0] == num_ws && npy->shape[1] == w_dim) ||
           (npy->n_dims == 3 && npy->shape[0] == 1 && npy->shape[1] == num_ws && npy->shape[2] == w_dim))
    {
      kind = HD_LATENT_W;
      data = g_memdup2 (npy->data, sizeof (float) * n);
    }
  else if ((npy->n_dims == 1 && npy->shape[0] == z_dim) ||
           (npy->n_dims == 2 && npy->shape[0] == 1 && npy->shape[1] == z_dim))
    {
      kind = HD_LATENT_Z;
      n = z_dim;
      data = g_memdup2 (npy->data, sizeof (float) * n);
    }
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("“%s” does not fit this generator: a W latent has shape (%d,), (%d, %d) or (1, %d, %d), a z latent (%d,)"),
                   path, w_dim, num_ws, w_dim, num_ws, w_dim, z_dim);
      return FALSE;
    }

  g_clear_pointer (&self->latent, g_bytes_unref);
  self->latent = g_bytes_new_take (g_steal_pointer (&data), n * sizeof (float));
  self->latent_kind = kind;
  g_free (self->latent_path);
  self->latent_path = g_strdup (path);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENT_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_LATENT_FILE]);
  hd_session_emit_changed (self);

  return TRUE;
}

void
hd_session_clear_latent_file (HdSession *self)
{
  g_return_if_fail (HD_IS_SESSION (self));

  if (self->latent == NULL)
    return;

  g_clear_pointer (&self->latent, g_bytes_unref);
  g_clear_pointer (&self->latent_path, g_free);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENT_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_LATENT_FILE]);
  hd_session_emit_changed (self);
}

void
hd_session_set_interactive (HdSession *self,
                            gboolean   interactive)
{
  g_return_if_fail (HD_IS_SESSION (self));

  interactive = !!interactive;
  if (interactive != self->interactive)
    {
      self->interactive = interactive;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERACTIVE]);
    }
}

gboolean
hd_session_get_interactive (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), FALSE);

  return self->interactive;
}

guint64
hd_session_get_serial (HdSession *self)
{
  g_return_val_if_fail (HD_IS_SESSION (self), 0);

  return self->serial;
}

/* The state of the session, built here for the render job, the undo
 * snapshot and the files alike.  AS_HEARD: the image: the weights as
 * heard (a muted domain, or one not soloed while another is, at 0) and a
 * cutoff at or past the last layer as none; otherwise the controls as
 * set.  DOMAINS (may be NULL) gets the HdDomain of each state domain. */
static HdState *
hd_session_build_state (HdSession *self,
                        gboolean   as_heard,
                        GPtrArray *domains)
{
  HdState *state = hd_state_new ();
  HdGenerator *gen = self->generator;
  GListModel *model = G_LIST_MODEL (self->domains);
  guint n = g_list_model_get_n_items (model);
  gboolean any_solo = FALSE;

  if (gen != NULL)
    {
      state->generator_path = g_strdup (gen->path);
      state->generator_name = g_strdup (gen->name);
    }
  state->seed = self->seed;
  if (self->latent != NULL)
    {
      gsize size;
      const float *data = g_bytes_get_data (self->latent, &size);
      guint rows = self->latent_kind == HD_LATENT_W ? (guint) gen->num_ws : 1;

      hd_state_set_latent (state, self->latent_kind, data, rows, size / sizeof (float) / rows);
    }
  state->mix_seed = self->mix_seed;
  state->mix = self->mix;
  state->psi = self->psi;
  /* Truncating every layer is what no cutoff means. */
  state->cutoff = as_heard && gen != NULL && self->cutoff >= gen->num_ws ? -1 : self->cutoff;
  state->noise_mode = self->noise_mode;
  state->noise_seed = self->noise_seed;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (model, i);
      if (hd_domain_item_get_solo (item) && !hd_domain_item_get_muted (item))
        any_solo = TRUE;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (model, i);
      HdDomain *domain = hd_domain_item_get_domain (item);
      gboolean heard = !hd_domain_item_get_muted (item) &&
                       (!any_solo || hd_domain_item_get_solo (item));

      hd_state_add_domain (state, domain,
                           heard || !as_heard ? hd_domain_item_get_weight (item) : 0.0,
                           hd_domain_item_get_min_res (item),
                           hd_domain_item_get_max_res (item));
      if (domains != NULL)
        g_ptr_array_add (domains, hd_domain_ref (domain));
    }

  return state;
}

HdRenderJob *
hd_session_create_job (HdSession *self)
{
  g_autoptr(GPtrArray) domains = NULL;
  HdRenderJob *job;
  HdState *state;

  g_return_val_if_fail (HD_IS_SESSION (self), NULL);

  if (self->generator == NULL)
    return NULL;

  domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  state = hd_session_build_state (self, TRUE, domains);
  job = hd_render_job_new (self->generator, state, domains);
  job->latent_path = g_strdup (self->latent_path);
  job->serial = self->serial;
  job->interactive = self->interactive;
  return job;
}

/* Whether the latent of the session is that of STATE. */
static gboolean
hd_session_has_latent (HdSession     *self,
                       const HdState *state)
{
  gsize size;
  const float *data;

  if (state->latent_kind == HD_LATENT_SEED || self->latent == NULL)
    return state->latent_kind == HD_LATENT_SEED && self->latent == NULL;
  data = g_bytes_get_data (self->latent, &size);
  return self->latent_kind == state->latent_kind &&
         size == (gsize) state->latent_rows * state->latent_cols * sizeof (float) &&
         memcmp (data, state->latent, size) == 0;
}

/* Sets the seed, latent (its name from PATH), mix, psi, cutoff and noise
 * of the session to those of STATE, which fit the generator.  The mix
 * seed stays when KEEP_MIX_SEED and STATE is not mixed. */
static void
hd_session_set_values (HdSession     *self,
                       const HdState *state,
                       const char    *path,
                       gboolean       keep_mix_seed)
{
  gboolean had_latent = self->latent != NULL;

  hd_session_set_seed (self, state->seed);
  if (!keep_mix_seed || state->mix != 0.0)
    UPDATE_FIELD (self, mix_seed, state->mix_seed, PROP_MIX_SEED);
  UPDATE_FIELD (self, mix, state->mix, PROP_MIX);
  hd_session_set_psi (self, state->psi);
  UPDATE_FIELD (self, cutoff, state->cutoff < 0 ? -1 : state->cutoff, PROP_CUTOFF);
  UPDATE_FIELD (self, noise_mode, (guint) state->noise_mode, PROP_NOISE_MODE);
  UPDATE_FIELD (self, noise_seed, state->noise_seed, PROP_NOISE_SEED);

  if (hd_session_has_latent (self, state) && g_strcmp0 (self->latent_path, path) == 0)
    return;
  g_clear_pointer (&self->latent, g_bytes_unref);
  g_clear_pointer (&self->latent_path, g_free);
  if (state->latent_kind != HD_LATENT_SEED)
    {
      self->latent = g_bytes_new (state->latent, sizeof (float) * state->latent_rows * state->latent_cols);
      self->latent_kind = state->latent_kind;
      self->latent_path = g_strdup (path);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENT_NAME]);
  if (had_latent != (self->latent != NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_LATENT_FILE]);
  hd_session_emit_changed (self);
}

/* Undo and redo */

typedef struct
{
  HdDomainItem *item;
  gboolean      muted;
  gboolean      solo;
} SnapshotItem;

struct _HdSessionSnapshot
{
  HdGenerator  *generator;
  HdState      *state;        /* the controls as set */
  char         *latent_path;
  GArray       *items;        /* SnapshotItem, one per state domain */
};

static void
snapshot_item_clear (gpointer data)
{
  SnapshotItem *d = data;

  g_clear_object (&d->item);
}

HdSessionSnapshot *
hd_session_snapshot (HdSession *self)
{
  HdSessionSnapshot *snap;
  guint n;

  g_return_val_if_fail (HD_IS_SESSION (self), NULL);

  snap = g_new0 (HdSessionSnapshot, 1);
  snap->generator = self->generator != NULL ? hd_generator_ref (self->generator) : NULL;
  snap->state = hd_session_build_state (self, FALSE, NULL);
  snap->latent_path = g_strdup (self->latent_path);
  snap->items = g_array_new (FALSE, TRUE, sizeof (SnapshotItem));
  g_array_set_clear_func (snap->items, snapshot_item_clear);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));
  for (guint i = 0; i < n; i++)
    {
      SnapshotItem d;

      d.item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);
      d.muted = hd_domain_item_get_muted (d.item);
      d.solo = hd_domain_item_get_solo (d.item);
      g_array_append_val (snap->items, d);
    }

  return snap;
}

void
hd_session_snapshot_free (HdSessionSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;

  g_clear_pointer (&snapshot->generator, hd_generator_unref);
  hd_state_free (snapshot->state);
  g_free (snapshot->latent_path);
  g_array_unref (snapshot->items);
  g_free (snapshot);
}

HdGenerator *
hd_session_snapshot_get_generator (const HdSessionSnapshot *snapshot)
{
  return snapshot->generator;
}

const HdState *
hd_session_snapshot_get_state (const HdSessionSnapshot *snapshot)
{
  return snapshot->state;
}

gboolean
hd_session_snapshot_equal (const HdSessionSnapshot *a,
                           const HdSessionSnapshot *b)
{
  if (a->generator != b->generator ||
      a->items->len != b->items->len ||
      !hd_state_equal (a->state, b->state))
    return FALSE;

  for (guint i = 0; i < a->items->len; i++)
    {
      const SnapshotItem *da = &g_array_index (a->items, SnapshotItem, i);
      const SnapshotItem *db = &g_array_index (b->items, SnapshotItem, i);

      if (da->item != db->item || da->muted != db->muted || da->solo != db->solo)
        return FALSE;
    }

  return TRUE;
}

static gboolean
hd_session_same_items (HdSession *self,
                       GArray    *items)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->domains));

  if (n != items->len)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HdDomainItem) item = g_list_model_get_item (G_LIST_MODEL (self->domains), i);

      if (item != g_array_index (items, SnapshotItem, i).item)
        return FALSE;
    }
  return TRUE;
}

static void
hd_session_remove_all (HdSession *self)
{
  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->domains)); i > 0; i--)
    hd_session_remove_at (self, i - 1);
}

gboolean
hd_session_restore_snapshot (HdSession               *self,
                             const HdSessionSnapshot *snap)
{
  g_return_val_if_fail (HD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (snap != NULL, FALSE);

  if (snap->generator != self->generator)
    return FALSE;

  g_object_freeze_notify (G_OBJECT (self));
  hd_session_begin_batch (self);

  hd_session_set_values (self, snap->state, snap->latent_path, FALSE);

  if (!hd_session_same_items (self, snap->items))
    {
      hd_session_remove_all (self);
      for (guint i = 0; i < snap->items->len; i++)
        hd_session_append_item (self, g_array_index (snap->items, SnapshotItem, i).item);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DOMAINS]);
      hd_session_emit_changed (self);
    }
  for (guint i = 0; i < snap->items->len; i++)
    {
      const SnapshotItem *d = &g_array_index (snap->items, SnapshotItem, i);
      const HdStateDomain *sd = &g_array_index (snap->state->domains, HdStateDomain, i);

      hd_domain_item_set_weight (d->item, sd->weight);
      hd_domain_item_set_range (d->item, sd->min_res, sd->max_res);
      hd_domain_item_set_muted (d->item, d->muted);
      hd_domain_item_set_solo (d->item, d->solo);
    }

  hd_session_end_batch (self);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}

/* States */

HdState *
hd_session_to_state (HdSession *self)
{
  g_autoptr(HdRenderJob) job = NULL;

  g_return_val_if_fail (HD_IS_SESSION (self), NULL);

  job = hd_session_create_job (self);
  return job != NULL ? hd_render_job_to_state (job) : NULL;
}

gboolean
hd_session_apply_state (HdSession     *self,
                        const HdState *state,
                        GPtrArray     *domains,
                        const char    *source,
                        GError       **error)
{
  HdGenerator *gen;

  g_return_val_if_fail (HD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (domains != NULL && domains->len == state->domains->len, FALSE);

  gen = self->generator;
  if (gen == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("Open a generator before applying a state"));
      return FALSE;
    }

  /* Check everything first, so a state that does not fit changes nothing. */
  if (state->latent_kind != HD_LATENT_SEED &&
      (state->latent == NULL ||
       !latent_fits (gen, state->latent_kind, (gsize) state->latent_rows * state->latent_cols)))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("The latent of the saved state does not fit the generator “%s”"),
                   gen->name);
      return FALSE;
    }
  if (state->cutoff > gen->num_ws)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The saved cutoff %d is beyond the %d layers of the generator “%s”"),
                   state->cutoff, gen->num_ws, gen->name);
      return FALSE;
    }
  for (guint i = 0; i < domains->len; i++)
    if (!hd_domain_check (g_ptr_array_index (domains, i), gen, NULL, error))
      return FALSE;

  g_object_freeze_notify (G_OBJECT (self));
  hd_session_begin_batch (self);

  hd_session_set_values (self, state, source != NULL ? source : _("saved state"), TRUE);

  hd_session_remove_all (self);
  for (guint i = 0; i < domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);
      g_autoptr(HdDomainItem) item = hd_domain_item_new (g_ptr_array_index (domains, i), sd->weight);

      hd_domain_item_set_range (item, sd->min_res, sd->max_res);
      hd_session_append_item (self, item);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DOMAINS]);
  hd_session_emit_changed (self);

  hd_session_end_batch (self);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}
