/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-state.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-file.h"

#define HD_STATE_VERSION 1

HdState *
hd_state_new (void)
{
  HdState *state = g_new0 (HdState, 1);

  state->latent_kind = HD_LATENT_SEED;
  state->psi = 1.0;
  state->cutoff = -1;
  state->noise_mode = HD_NOISE_CONST;
  state->domains = g_array_new (FALSE, TRUE, sizeof (HdStateDomain));
  return state;
}

static void
state_domain_clear (HdStateDomain *d)
{
  g_clear_pointer (&d->path, g_free);
  g_clear_pointer (&d->id, g_free);
  g_clear_pointer (&d->name, g_free);
  g_clear_pointer (&d->prompt, g_free);
}

void
hd_state_free (HdState *state)
{
  if (state == NULL)
    return;
  for (guint i = 0; i < state->domains->len; i++)
    state_domain_clear (&g_array_index (state->domains, HdStateDomain, i));
  g_array_unref (state->domains);
  g_free (state->generator_path);
  g_free (state->generator_name);
  g_free (state->hypernetwork_path);
  g_free (state->hypernetwork_name);
  g_free (state->latent);
  g_free (state);
}

static gsize
latent_size (const HdState *state)
{
  return state->latent != NULL ? (gsize) state->latent_rows * state->latent_cols : 0;
}

HdState *
hd_state_copy (const HdState *state)
{
  HdState *copy;

  g_return_val_if_fail (state != NULL, NULL);

  copy = g_memdup2 (state, sizeof *state);
  copy->generator_path = g_strdup (state->generator_path);
  copy->generator_name = g_strdup (state->generator_name);
  copy->hypernetwork_path = g_strdup (state->hypernetwork_path);
  copy->hypernetwork_name = g_strdup (state->hypernetwork_name);
  copy->latent = g_memdup2 (state->latent, latent_size (state) * sizeof (float));
  copy->domains = g_array_sized_new (FALSE, TRUE, sizeof (HdStateDomain), state->domains->len);
  for (guint i = 0; i < state->domains->len; i++)
    {
      HdStateDomain d = g_array_index (state->domains, HdStateDomain, i);

      d.path = g_strdup (d.path);
      d.id = g_strdup (d.id);
      d.name = g_strdup (d.name);
      d.prompt = g_strdup (d.prompt);
      g_array_append_val (copy->domains, d);
    }
  return copy;
}

static gboolean
state_domain_equal (const HdStateDomain *a,
                    const HdStateDomain *b)
{
  return g_strcmp0 (a->path, b->path) == 0 &&
         g_strcmp0 (a->id, b->id) == 0 &&
         g_strcmp0 (a->name, b->name) == 0 &&
         g_strcmp0 (a->prompt, b->prompt) == 0 &&
         a->weight == b->weight &&
         a->min_res == b->min_res &&
         a->max_res == b->max_res;
}

gboolean
hd_state_equal (const HdState *a,
                const HdState *b)
{
  gsize n;

  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  n = latent_size (a);
  if (g_strcmp0 (a->generator_path, b->generator_path) != 0 ||
      g_strcmp0 (a->generator_name, b->generator_name) != 0 ||
      g_strcmp0 (a->hypernetwork_path, b->hypernetwork_path) != 0 ||
      g_strcmp0 (a->hypernetwork_name, b->hypernetwork_name) != 0 ||
      a->latent_kind != b->latent_kind ||
      a->seed != b->seed ||
      a->latent_rows != b->latent_rows ||
      a->latent_cols != b->latent_cols ||
      n != latent_size (b) ||
      (n > 0 && memcmp (a->latent, b->latent, n * sizeof (float)) != 0) ||
      a->mix_seed != b->mix_seed ||
      a->mix != b->mix ||
      a->psi != b->psi ||
      a->cutoff != b->cutoff ||
      a->noise_mode != b->noise_mode ||
      a->noise_seed != b->noise_seed ||
      a->domains->len != b->domains->len)
    return FALSE;

  for (guint i = 0; i < a->domains->len; i++)
    if (!state_domain_equal (&g_array_index (a->domains, HdStateDomain, i),
                             &g_array_index (b->domains, HdStateDomain, i)))
      return FALSE;
  return TRUE;
}

static void
add_text (HdState    *state,
          const char *prompt,
          double      weight,
          int         min_res,
          int         max_res)
{
  HdStateDomain d = {
    .name = g_strdup (prompt),
    .prompt = g_strdup (prompt),
    .weight = weight,
    .min_res = min_res,
    .max_res = max_res,
  };

  g_return_if_fail (prompt != NULL);
  g_array_append_val (state->domains, d);
}

void
hd_state_add_domain (HdState  *state,
                     HdDomain *domain,
                     double    weight,
                     int       min_res,
                     int       max_res)
{
  HdStateDomain d;

  if (domain->prompt != NULL)
    {
      /* A text domain: the state keeps its prompt and hypernetwork. */
      if (state->hypernetwork_path == NULL)
        {
          state->hypernetwork_path = g_strdup (domain->hypernetwork_path);
          state->hypernetwork_name = g_strdup (domain->hypernetwork_name);
        }
      add_text (state, domain->prompt, weight, min_res, max_res);
      return;
    }
  d = (HdStateDomain) {
    .path = g_strdup (domain->path),
    .id = g_strdup (domain->id),
    .name = g_strdup (domain->name),
    .weight = weight,
    .min_res = min_res,
    .max_res = max_res,
  };
  g_array_append_val (state->domains, d);
}

void
hd_state_use_seed (HdState *state,
                   guint32  seed)
{
  state->latent_kind = HD_LATENT_SEED;
  state->seed = seed;
  g_clear_pointer (&state->latent, g_free);
  state->latent_rows = 0;
  state->latent_cols = 0;
  state->mix = 0.0;
}

void
hd_state_set_latent (HdState      *state,
                     HdLatentKind  kind,
                     const float  *latent,
                     guint         rows,
                     guint         cols)
{
  g_return_if_fail (kind != HD_LATENT_SEED && latent != NULL);

  g_free (state->latent);
  state->latent = g_memdup2 (latent, (gsize) rows * cols * sizeof (float));
  state->latent_kind = kind;
  state->latent_rows = rows;
  state->latent_cols = cols;
}

static void
add_float_array (JsonBuilder *b,
                 const float *values,
                 guint        n)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_double_value (b, values[i]);
  json_builder_end_array (b);
}

static void
add_int_member (JsonBuilder *b,
                const char  *name,
                gint64       value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

/* A text member; NULL is written as null. */
static void
add_string_member (JsonBuilder *b,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_double_member (JsonBuilder *b,
                   const char  *name,
                   double       value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

static void
add_latent (JsonBuilder   *b,
            const HdState *state)
{
  json_builder_set_member_name (b, "latent");
  json_builder_begin_object (b);
  switch (state->latent_kind)
    {
    case HD_LATENT_SEED:
      add_string_member (b, "kind", "seed");
      add_int_member (b, "seed", state->seed);
      break;
    case HD_LATENT_Z:
      add_string_member (b, "kind", "z");
      json_builder_set_member_name (b, "z");
      add_float_array (b, state->latent, state->latent_cols);
      break;
    case HD_LATENT_W:
    default:
      add_string_member (b, "kind", "w");
      json_builder_set_member_name (b, "w");
      json_builder_begin_array (b);
      for (guint r = 0; r < state->latent_rows; r++)
        add_float_array (b, state->latent + (gsize) r * state->latent_cols, state->latent_cols);
      json_builder_end_array (b);
      break;
    }
  json_builder_end_object (b);
}

/* A file domain, or with TEXTS a text domain (spec/text-domains.md §7). */
static void
add_domain (JsonBuilder         *b,
            const HdStateDomain *d)
{
  json_builder_begin_object (b);
  if (d->prompt != NULL)
    add_string_member (b, "prompt", d->prompt);
  else
    {
      add_string_member (b, "path", d->path);
      add_string_member (b, "id", d->id);
      add_string_member (b, "name", d->name);
    }
  add_double_member (b, "weight", d->weight);
  if (d->min_res != 0 || d->max_res != 0)
    {
      json_builder_set_member_name (b, "layers");
      json_builder_begin_object (b);
      add_int_member (b, "min_res", d->min_res);
      add_int_member (b, "max_res", d->max_res);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

char *
hd_state_to_json (const HdState *state)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (state != NULL, NULL);
  /* The format has no mix: see hd_state_flatten (). */
  g_return_val_if_fail (state->mix == 0.0, NULL);

  json_builder_begin_object (b);
  add_int_member (b, "version", HD_STATE_VERSION);

  json_builder_set_member_name (b, "generator");
  json_builder_begin_object (b);
  add_string_member (b, "name", state->generator_name);
  add_string_member (b, "path", state->generator_path);
  json_builder_end_object (b);

  add_latent (b, state);

  add_double_member (b, "psi", state->psi);
  json_builder_set_member_name (b, "cutoff");
  if (state->cutoff < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, state->cutoff);

  json_builder_set_member_name (b, "noise");
  json_builder_begin_object (b);
  add_string_member (b, "mode", hd_noise_mode_to_string (state->noise_mode));
  add_int_member (b, "seed", state->noise_seed);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "domains");
  json_builder_begin_array (b);
  for (guint i = 0; i < state->domains->len; i++)
    if (g_array_index (state->domains, HdStateDomain, i).prompt == NULL)
      add_domain (b, &g_array_index (state->domains, HdStateDomain, i));
  json_builder_end_array (b);

  if (state->hypernetwork_path != NULL)
    {
      json_builder_set_member_name (b, "hypernetwork");
      json_builder_begin_object (b);
      add_string_member (b, "path", state->hypernetwork_path);
      add_string_member (b, "name", state->hypernetwork_name);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "texts");
      json_builder_begin_array (b);
      for (guint i = 0; i < state->domains->len; i++)
        if (g_array_index (state->domains, HdStateDomain, i).prompt != NULL)
          add_domain (b, &g_array_index (state->domains, HdStateDomain, i));
      json_builder_end_array (b);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* Reading: every member is checked for its type, so that a hand-edited or
 * hostile PNG gives a message instead of a crash. */

static gboolean
state_fail (GError    **error,
            const char *what)
{
  g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
               /* Translators: %s says what is wrong, such as “the generator is missing”. */
               _("The Hyperdomain metadata is damaged: %s"), what);
  return FALSE;
}

static JsonNode *
member (JsonObject *obj,
        const char *name,
        JsonNodeType type)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_TYPE (node) != type)
    return NULL;
  return node;
}

/* The number NODE holds, an integer or not.  It must be finite as a
 * float: the renderer takes every number of the state as one, and finite
 * as a double is not enough (1e300 overflows a float). */
static gboolean
node_get_number (JsonNode *node,
                 double   *out)
{
  GType t;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return FALSE;
  t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64)
    *out = (double) json_node_get_int (node);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    return FALSE;
  return isfinite ((float) *out);
}

static gboolean
get_number (JsonObject *obj,
            const char *name,
            double     *out)
{
  return node_get_number (member (obj, name, JSON_NODE_VALUE), out);
}

static gboolean
get_uint32 (JsonObject *obj,
            const char *name,
            guint32    *out)
{
  JsonNode *node = member (obj, name, JSON_NODE_VALUE);
  gint64 v;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0 || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

static const char *
get_string (JsonObject *obj,
            const char *name)
{
  JsonNode *node = member (obj, name, JSON_NODE_VALUE);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
read_float_array (JsonArray *arr,
                  float     *out,
                  guint      n)
{
  if (json_array_get_length (arr) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      double v;

      if (!node_get_number (json_array_get_element (arr, i), &v))
        return FALSE;
      out[i] = (float) v;
    }
  return TRUE;
}

#define HD_STATE_MAX_LATENT (4096 * 64)

static gboolean
read_latent (HdState    *state,
             JsonObject *latent,
             GError    **error)
{
  const char *kind = get_string (latent, "kind");
  JsonNode *node;
  JsonArray *arr;

  if (g_strcmp0 (kind, "seed") == 0)
    {
      state->latent_kind = HD_LATENT_SEED;
      if (!get_uint32 (latent, "seed", &state->seed))
        return state_fail (error, _("the seed is not a number from 0 to 4294967295"));
      return TRUE;
    }
  if (g_strcmp0 (kind, "z") == 0)
    {
      guint n;
      if ((node = member (latent, "z", JSON_NODE_ARRAY)) == NULL)
        return state_fail (error, _("the z latent is missing"));
      arr = json_node_get_array (node);
      n = json_array_get_length (arr);
      if (n == 0 || n > HD_STATE_MAX_LATENT)
        return state_fail (error, _("the z latent has a wrong length"));
      state->latent_kind = HD_LATENT_Z;
      state->latent_rows = 1;
      state->latent_cols = n;
      state->latent = g_new (float, n);
      if (!read_float_array (arr, state->latent, n))
        return state_fail (error, _("the z latent holds something other than numbers"));
      return TRUE;
    }
  if (g_strcmp0 (kind, "w") == 0)
    {
      guint rows, cols;
      JsonNode *first;
      if ((node = member (latent, "w", JSON_NODE_ARRAY)) == NULL)
        return state_fail (error, _("the w latent is missing"));
      arr = json_node_get_array (node);
      rows = json_array_get_length (arr);
      if (rows == 0 || rows > 64)
        return state_fail (error, _("the w latent has a wrong number of rows"));
      first = json_array_get_element (arr, 0);
      if (JSON_NODE_TYPE (first) != JSON_NODE_ARRAY)
        return state_fail (error, _("the w latent is not a list of rows"));
      cols = json_array_get_length (json_node_get_array (first));
      if (cols == 0 || cols > 4096)
        return state_fail (error, _("the w latent has a wrong row length"));
      state->latent_kind = HD_LATENT_W;
      state->latent_rows = rows;
      state->latent_cols = cols;
      state->latent = g_new (float, (gsize) rows * cols);
      for (guint r = 0; r < rows; r++)
        {
          JsonNode *row = json_array_get_element (arr, r);
          if (JSON_NODE_TYPE (row) != JSON_NODE_ARRAY ||
              !read_float_array (json_node_get_array (row), state->latent + (gsize) r * cols, cols))
            return state_fail (error, _("a row of the w latent is not a list of numbers of the same length"));
        }
      return TRUE;
    }
  return state_fail (error, _("the latent kind is not seed, z or w"));
}

/* The "domains" (TEXTS FALSE) or the "texts" (TRUE) of a state. */
static gboolean
read_domains (HdState    *state,
              JsonArray  *arr,
              gboolean    texts,
              GError    **error)
{
  guint n = json_array_get_length (arr);

  if (n > 1024 || state->domains->len + n > 1024)
    return state_fail (error, _("too many domains"));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (arr, i);
      JsonObject *obj;
      JsonNode *id = NULL, *layers;
      const char *path = NULL, *name, *prompt = NULL;
      double weight, v;
      HdStateDomain d = { 0 };

      if (JSON_NODE_TYPE (node) != JSON_NODE_OBJECT)
        return state_fail (error, _("a domain entry is not an object"));
      obj = json_node_get_object (node);
      if (texts)
        {
          name = prompt = get_string (obj, "prompt");
          if (prompt == NULL)
            return state_fail (error, _("a text domain has no prompt"));
        }
      else
        {
          path = get_string (obj, "path");
          name = get_string (obj, "name");
          if (path == NULL || name == NULL)
            return state_fail (error, _("a domain has no path or name"));
          id = json_object_get_member (obj, "id");
          if (id != NULL && !JSON_NODE_HOLDS_NULL (id) &&
              (JSON_NODE_TYPE (id) != JSON_NODE_VALUE || json_node_get_value_type (id) != G_TYPE_STRING))
            return state_fail (error, _("a domain id is not text"));
        }
      if (!get_number (obj, "weight", &weight))
        return state_fail (error, _("a domain weight is not a number"));
      layers = member (obj, "layers", JSON_NODE_OBJECT);
      if (layers != NULL)
        {
          JsonObject *lo = json_node_get_object (layers);
          if (!get_number (lo, "min_res", &v) || v < 0 || v > 65536)
            return state_fail (error, _("a domain layer range is not valid"));
          d.min_res = (int) v;
          if (!get_number (lo, "max_res", &v) || v < 0 || v > 65536)
            return state_fail (error, _("a domain layer range is not valid"));
          d.max_res = (int) v;
        }
      d.path = g_strdup (path);
      d.name = g_strdup (name);
      d.prompt = g_strdup (prompt);
      d.id = (id != NULL && !JSON_NODE_HOLDS_NULL (id)) ? g_strdup (json_node_get_string (id)) : NULL;
      d.weight = weight;
      g_array_append_val (state->domains, d);
    }
  return TRUE;
}

/* The hypernetwork and its text domains (spec/text-domains.md §7), when
 * the state has them. */
static gboolean
read_texts (HdState    *state,
            JsonObject *obj,
            GError    **error)
{
  JsonNode *texts = json_object_get_member (obj, "texts");
  JsonNode *node;
  const char *path;

  if (texts == NULL || JSON_NODE_HOLDS_NULL (texts))
    return TRUE;
  if (JSON_NODE_TYPE (texts) != JSON_NODE_ARRAY)
    return state_fail (error, _("the text domains are not a list"));
  if ((node = member (obj, "hypernetwork", JSON_NODE_OBJECT)) == NULL ||
      (path = get_string (json_node_get_object (node), "path")) == NULL)
    return state_fail (error, _("the text domains have no hypernetwork"));
  state->hypernetwork_path = g_strdup (path);
  state->hypernetwork_name = g_strdup (get_string (json_node_get_object (node), "name"));
  return read_domains (state, json_node_get_array (texts), TRUE, error);
}

HdState *
hd_state_from_json (const char  *json,
                    GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root, *node;
  JsonObject *obj, *gen, *noise;
  const char *str;
  double num, version;

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("The Hyperdomain metadata is not valid JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || JSON_NODE_TYPE (root) != JSON_NODE_OBJECT)
    return state_fail (error, _("it is not a JSON object")), NULL;
  obj = json_node_get_object (root);

  if (!get_number (obj, "version", &version) || version != HD_STATE_VERSION)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("The Hyperdomain metadata has an unsupported version"));
      return NULL;
    }

  if ((node = member (obj, "generator", JSON_NODE_OBJECT)) == NULL)
    return state_fail (error, _("the generator is missing")), NULL;
  gen = json_node_get_object (node);
  if ((str = get_string (gen, "path")) == NULL)
    return state_fail (error, _("the generator path is missing")), NULL;
  state->generator_path = g_strdup (str);
  state->generator_name = g_strdup (get_string (gen, "name"));

  if ((node = member (obj, "latent", JSON_NODE_OBJECT)) == NULL)
    return state_fail (error, _("the latent is missing")), NULL;
  if (!read_latent (state, json_node_get_object (node), error))
    return NULL;

  if (!get_number (obj, "psi", &num))
    return state_fail (error, _("psi is not a number")), NULL;
  state->psi = num;

  node = json_object_get_member (obj, "cutoff");
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    state->cutoff = -1;
  else if (!get_number (obj, "cutoff", &num) || num < 0 || num > 64 || num != floor (num))
    return state_fail (error, _("the cutoff is not a layer count")), NULL;
  else
    state->cutoff = (int) num;

  if ((node = member (obj, "noise", JSON_NODE_OBJECT)) == NULL)
    return state_fail (error, _("the noise settings are missing")), NULL;
  noise = json_node_get_object (node);
  if (!hd_noise_mode_from_string (get_string (noise, "mode"), &state->noise_mode))
    return state_fail (error, _("the noise mode is not const, random or none")), NULL;
  if (!get_uint32 (noise, "seed", &state->noise_seed))
    return state_fail (error, _("the noise seed is not valid")), NULL;

  if ((node = member (obj, "domains", JSON_NODE_ARRAY)) == NULL)
    return state_fail (error, _("the domain list is missing")), NULL;
  if (!read_domains (state, json_node_get_array (node), FALSE, error) ||
      !read_texts (state, obj, error))
    return NULL;

  return g_steal_pointer (&state);
}

gboolean
hd_state_save_file (const HdState *state,
                    const char    *path,
                    GError       **error)
{
  g_autofree char *json = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  json = hd_state_to_json (state);
  return hd_file_replace_contents (path, (const guint8 *) json, strlen (json), error);
}

HdState *
hd_state_from_json_of (const char  *json,
                       const char  *path,
                       gboolean     is_png,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  HdState *state = hd_state_from_json (json, &local_error);

  if (state != NULL)
    return state;
  name = g_filename_display_name (path);
  if (is_png)
    g_set_error (error, local_error->domain, local_error->code,
                 _("The Hyperdomain metadata of “%s” is damaged: %s"), name, local_error->message);
  else
    g_set_error (error, local_error->domain, local_error->code,
                 _("“%s” is not a valid Hyperdomain state file: %s"), name, local_error->message);
  return NULL;
}

HdState *
hd_state_load_file (const char  *path,
                    GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize size;

  g_return_val_if_fail (path != NULL, NULL);

  name = g_filename_display_name (path);
  bytes = hd_file_read_limited (path, name, HD_STATE_FILE_MAX_SIZE, error);
  if (bytes == NULL)
    return NULL;
  text = g_bytes_unref_to_data (g_steal_pointer (&bytes), &size);
  text = g_realloc (text, size + 1);
  text[size] = '\0';
  if (memchr (text, '\0', size) != NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("“%s” is not a Hyperdomain state file: it holds binary data"), name);
      return NULL;
    }
  return hd_state_from_json_of (text, path, FALSE, error);
}
