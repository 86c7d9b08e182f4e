/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What hypernetwork and clip files share: see hd-clip-model.h. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-model.h"
#include "hd-error.h"

/* ------------------------------------------------------------------------ */
/* Tensors                                                                  */

static gboolean
is_float (const HdTensor *t)
{
  return t->dtype == HD_DTYPE_F32 || t->dtype == HD_DTYPE_F16 || t->dtype == HD_DTYPE_BF16;
}

float *
hd_clip_get_f32 (HdSafetensors *st,
                 gsize         *n,
                 const char    *format,
                 ...)
{
  g_autofree char *name = NULL;
  const HdTensor *t;
  va_list args;
  float *out;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  t = hd_safetensors_lookup (st, name);
  g_return_val_if_fail (t != NULL && is_float (t), NULL);

  out = g_new (float, MAX (t->n_elements, 1));
  hd_tensor_to_f32 (t, out);
  if (n != NULL)
    *n = t->n_elements;
  return out;
}

float *
hd_clip_text_embed_tokens (const HdClipText  *text,
                           const guint32     *ids,
                           guint              n_ids,
                           guint             *n_rows,
                           GError           **error)
{
  g_autofree char *name = g_strdup_printf ("%stoken_embedding.weight", text->prefix);
  const HdTensor *tokens = hd_safetensors_lookup (text->st, name);
  const HdClipConfig *c = text->config;
  gsize elem = tokens->n_bytes / tokens->n_elements, w = (gsize) c->width;
  g_autofree float *pos = NULL;
  float *x;
  guint p = 0;

  if (n_ids == 0 || n_ids > (guint) c->context_length)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The token row has %u ids, but this CLIP takes from 1 to %d"),
                   n_ids, c->context_length);
      return NULL;
    }
  for (guint i = 0; i < n_ids; i++)
    {
      if (ids[i] >= (guint) c->vocab_size)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("Token id %u is outside this CLIP’s vocabulary of %d"), ids[i], c->vocab_size);
          return NULL;
        }
      if (ids[i] > ids[p])
        p = i;
    }

  pos = hd_clip_get_f32 (text->st, NULL, "%spositional_embedding", text->prefix);
  x = g_new (float, (gsize) (p + 1) * w);
  for (guint i = 0; i <= p; i++)
    {
      HdTensor row = *tokens;

      row.n_elements = w;
      row.n_bytes = elem * w;
      row.data = tokens->data + (gsize) ids[i] * w * elem;
      hd_tensor_to_f32 (&row, x + (gsize) i * w);
      for (gsize c2 = 0; c2 < w; c2++)
        x[i * w + c2] += pos[i * w + c2];
    }
  *n_rows = p + 1;
  return x;
}

/* ------------------------------------------------------------------------ */
/* Expected tensors                                                         */

struct _HdExpected {
  GHashTable *shapes;   /* name -> gint64[5]: n_dims, d0 .. d3 */
  GPtrArray  *order;    /* the names as added: the first problem reported is
                           always the same */
};

HdExpected *
hd_expected_new (void)
{
  HdExpected *e = g_new0 (HdExpected, 1);

  e->shapes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  e->order = g_ptr_array_new ();
  return e;
}

void
hd_expected_free (HdExpected *e)
{
  g_hash_table_unref (e->shapes);
  g_ptr_array_unref (e->order);
  g_free (e);
}

void
hd_expected_add_shape (HdExpected   *e,
                       char         *name,
                       const gint64 *shape,
                       guint         n_dims)
{
  gint64 *s = g_new0 (gint64, 5);

  g_return_if_fail (n_dims >= 1 && n_dims <= 4);
  s[0] = n_dims;
  memcpy (s + 1, shape, n_dims * sizeof (gint64));
  if (!g_hash_table_contains (e->shapes, name))
    g_ptr_array_add (e->order, name);
  g_hash_table_insert (e->shapes, name, s);
}

void
hd_expected_add (HdExpected *e,
                 char       *name,
                 gint64      d0,
                 gint64      d1)
{
  gint64 shape[2] = { d0, d1 };

  hd_expected_add_shape (e, name, shape, d1 < 0 ? 1 : 2);
}

void
hd_expected_add_resblocks (HdExpected *e,
                           const char *prefix,
                           gint64      w,
                           int         layers)
{
  for (int l = 0; l < layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("%stransformer.resblocks.%d", prefix, l);

      hd_expected_add (e, g_strdup_printf ("%s.ln_1.weight", p), w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.ln_1.bias", p), w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.ln_2.weight", p), w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.ln_2.bias", p), w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.attn.in_proj_weight", p), 3 * w, w);
      hd_expected_add (e, g_strdup_printf ("%s.attn.in_proj_bias", p), 3 * w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.attn.out_proj.weight", p), w, w);
      hd_expected_add (e, g_strdup_printf ("%s.attn.out_proj.bias", p), w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.mlp.c_fc.weight", p), 4 * w, w);
      hd_expected_add (e, g_strdup_printf ("%s.mlp.c_fc.bias", p), 4 * w, -1);
      hd_expected_add (e, g_strdup_printf ("%s.mlp.c_proj.weight", p), w, 4 * w);
      hd_expected_add (e, g_strdup_printf ("%s.mlp.c_proj.bias", p), w, -1);
    }
}

gboolean
hd_expected_check (HdExpected      *e,
                   HdSafetensors   *st,
                   gboolean       (*ignored) (const char *name),
                   const char      *stray,
                   GError         **error)
{
  const char *file = hd_safetensors_get_path (st);

  for (guint i = 0; i < e->order->len; i++)
    {
      const char *key = g_ptr_array_index (e->order, i);
      const gint64 *shape = g_hash_table_lookup (e->shapes, key);
      const HdTensor *t = hd_safetensors_lookup (st, key);
      gboolean same = t != NULL && t->n_dims == (guint) shape[0];

      for (guint d = 0; same && d < t->n_dims; d++)
        same = t->shape[d] == shape[1 + d];
      if (t == NULL)
        {
          hd_set_format_error (error, file, _("tensor “%s” is missing"), (const char *) key);
          return FALSE;
        }
      if (!is_float (t) || !same)
        {
          g_autofree char *got = hd_shape_to_string (t->shape, t->n_dims);
          g_autofree char *wanted = hd_shape_to_string (shape + 1, (guint) shape[0]);

          hd_set_format_error (error, file,
                               is_float (t) ? _("tensor “%s” has shape %s; shape %s was expected")
                                            : _("tensor “%s” is not a float tensor (shape %s); a float "
                                                "tensor of shape %s was expected"),
                               (const char *) key, got, wanted);
          return FALSE;
        }
      if (!hd_tensor_is_finite (t))
        {
          hd_set_format_error (error, file, _("tensor “%s” holds a value that is not finite"),
                               (const char *) key);
          return FALSE;
        }
    }

  /* Nothing else may be there. */
  for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
    {
      const HdTensor *t = hd_safetensors_get_tensor (st, i);

      if (!g_hash_table_contains (e->shapes, t->name) &&
          !(ignored != NULL && ignored (t->name)) &&
          !g_str_equal (t->name, "tokenizer.merges"))
        {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
          hd_set_format_error (error, file, stray, t->name);
#pragma GCC diagnostic pop
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
hd_clip_text_check_merges (HdClipText  *text,
                           GError     **error)
{
  const char *file = hd_safetensors_get_path (text->st);
  const HdTensor *t = hd_safetensors_lookup (text->st, "tokenizer.merges");

  if (t == NULL || t->dtype != HD_DTYPE_U8 || t->n_dims != 1)
    {
      hd_set_format_error (error, file, _("tensor “tokenizer.merges” is missing or not a U8 vector"));
      return FALSE;
    }
  if (!g_utf8_validate ((const char *) t->data, (gssize) t->n_bytes, NULL))
    {
      hd_set_format_error (error, file, _("tensor “tokenizer.merges” is not UTF-8 text"));
      return FALSE;
    }
  text->merges = (const char *) t->data;
  text->merges_len = t->n_bytes;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The config                                                               */

gboolean
hd_config_int (JsonObject  *obj,
               const char  *file,
               const char  *section,
               const char  *key,
               int          min,
               int         *out,
               GError     **error)
{
  JsonNode *node = json_object_get_member (obj, key);
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: %s.%s is missing or not an integer"),
                           section, key);
      return FALSE;
    }
  value = json_node_get_int (node);
  if (value < min || value > G_MAXINT / 16)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: %s.%s is %lld; it must be at least %d"),
                           section, key, (long long) value, min);
      return FALSE;
    }
  *out = (int) value;
  return TRUE;
}

const char *
hd_config_string (JsonObject  *obj,
                  const char  *file,
                  const char  *section,
                  const char  *key,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (obj, key);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: %s.%s is missing or not a string"),
                           section, key);
      return NULL;
    }
  return json_node_get_string (node);
}

JsonObject *
hd_config_object (JsonObject  *obj,
                  const char  *file,
                  const char  *key,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (obj, key);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      hd_set_format_error (error, file, _("hyperdomain.config: “%s” is missing or not an object"), key);
      return NULL;
    }
  return json_node_get_object (node);
}

JsonObject *
hd_config_parse (const char  *text,
                 const char  *file,
                 JsonParser **parser,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  *parser = NULL;
  if (text == NULL)
    {
      hd_set_format_error (error, file, _("the metadata has no hyperdomain.config"));
      return NULL;
    }
  *parser = json_parser_new ();
  if (!json_parser_load_from_data (*parser, text, -1, &local_error))
    {
      hd_set_format_error (error, file, _("hyperdomain.config is not JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (*parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      hd_set_format_error (error, file, _("hyperdomain.config is not a JSON object"));
      return NULL;
    }
  return json_node_get_object (root);
}

gboolean
hd_clip_parse_text_config (JsonObject    *obj,
                           const char    *section,
                           JsonObject    *root,
                           const char    *root_section,
                           const char    *file,
                           HdClipConfig  *c,
                           GError       **error)
{
  const char *name;

  if ((name = hd_config_string (root, file, root_section, "name", error)) == NULL ||
      !hd_config_int (obj, file, section, "context_length", 2, &c->context_length, error) ||
      !hd_config_int (obj, file, section, "vocab_size", 514, &c->vocab_size, error) ||
      !hd_config_int (obj, file, section, "width", 1, &c->width, error) ||
      !hd_config_int (obj, file, section, "heads", 1, &c->heads, error) ||
      !hd_config_int (obj, file, section, "layers", 0, &c->layers, error) ||
      !hd_config_int (root, file, root_section, "embed_dim", 1, &c->embed_dim, error))
    return FALSE;
  c->name = g_strdup (name);
  if (c->width % c->heads != 0)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: the CLIP width %d is not a multiple "
                                          "of its %d heads"), c->width, c->heads);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Random weights                                                           */

void
hd_random_tensor (HdRandomWriter *w,
                  const char     *name,
                  HdDtype         dtype,
                  gint64          d0,
                  gint64          d1,
                  double          mean,
                  double          spread)
{
  gint64 shape[2] = { d0, d1 };
  gsize n = (gsize) d0 * (d1 > 0 ? (gsize) d1 : 1);
  g_autofree float *values = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    values[i] = (float) (mean + g_rand_double_range (w->rand, -spread, spread));
  hd_safetensors_writer_add_f32 (w->writer, name, dtype, shape, d1 > 0 ? 2 : 1, values);
}

void
hd_random_named (HdRandomWriter *w,
                 HdDtype         dtype,
                 gint64          d0,
                 gint64          d1,
                 double          mean,
                 double          spread,
                 const char     *format,
                 ...)
{
  g_autofree char *name = NULL;
  va_list args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  hd_random_tensor (w, name, dtype, d0, d1, mean, spread);
}

void
hd_random_resblocks (HdRandomWriter *w,
                     const char     *prefix,
                     int             width,
                     int             layers)
{
  double gain = 1.0 / sqrt ((double) width);
  g_autofree char *p = g_strconcat (prefix, "transformer.resblocks", NULL);

  for (int l = 0; l < layers; l++)
    {
      hd_random_named (w, HD_DTYPE_F16, width, -1, 1.0, 0.1, "%s.%d.ln_1.weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, -1, 0.0, 0.1, "%s.%d.ln_1.bias", p, l);
      hd_random_named (w, HD_DTYPE_F16, 3 * width, width, 0.0, gain, "%s.%d.attn.in_proj_weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, 3 * width, -1, 0.0, 0.02, "%s.%d.attn.in_proj_bias", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, width, 0.0, gain, "%s.%d.attn.out_proj.weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, -1, 0.0, 0.02, "%s.%d.attn.out_proj.bias", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, -1, 1.0, 0.1, "%s.%d.ln_2.weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, -1, 0.0, 0.1, "%s.%d.ln_2.bias", p, l);
      hd_random_named (w, HD_DTYPE_F16, 4 * width, width, 0.0, gain, "%s.%d.mlp.c_fc.weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, 4 * width, -1, 0.0, 0.02, "%s.%d.mlp.c_fc.bias", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, 4 * width, 0.0, gain / 2, "%s.%d.mlp.c_proj.weight", p, l);
      hd_random_named (w, HD_DTYPE_F16, width, -1, 0.0, 0.02, "%s.%d.mlp.c_proj.bias", p, l);
    }
}
