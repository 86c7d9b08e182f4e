/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Hypernetwork files: spec/text-domains.md §5. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "hd-error.h"
#include "hd-hypernetwork.h"

static void
hypernetwork_free (HdHypernetwork *hn)
{
  g_free (hn->path);
  g_free (hn->name);
  g_free (hn->description);
  g_free (hn->generator);
  g_free (hn->clip.name);
  g_strfreev (hn->layer_names);
  g_free (hn->layer_c_in);
  g_clear_pointer (&hn->st, hd_safetensors_unref);
  g_free (hn);
}

HdHypernetwork *
hd_hypernetwork_ref (HdHypernetwork *hn)
{
  g_return_val_if_fail (hn != NULL, NULL);

  g_atomic_int_inc (&hn->ref_count);
  return hn;
}

void
hd_hypernetwork_unref (HdHypernetwork *hn)
{
  g_return_if_fail (hn != NULL);

  if (g_atomic_int_dec_and_test (&hn->ref_count))
    hypernetwork_free (hn);
}

/* ------------------------------------------------------------------------ */
/* The config                                                               */

/* An integer member KEY of OBJ (in SECTION, for messages), at least MIN. */
static gboolean
config_int (JsonObject  *obj,
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

static const char *
config_string (JsonObject  *obj,
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

static JsonObject *
config_object (JsonObject  *obj,
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

/* One of the values §4 supports, or an error naming the value. */
static gboolean
config_choice (JsonObject          *obj,
               const char          *file,
               const char          *key,
               const char * const  *allowed,
               int                 *index,
               GError             **error)
{
  const char *value = config_string (obj, file, "mapper", key, error);

  if (value == NULL)
    return FALSE;
  for (int i = 0; allowed[i] != NULL; i++)
    if (g_str_equal (value, allowed[i]))
      {
        *index = i;
        return TRUE;
      }
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               _("%s: the mapper’s %s is “%s”; only residual_channelin mappers with a shared "
                 "backbone and relu, lrelu, prelu or id activations are supported"),
               file, key, value);
  return FALSE;
}

static gboolean
parse_clip (HdHypernetwork  *hn,
            JsonObject      *root,
            const char      *file,
            GError         **error)
{
  JsonObject *clip = config_object (root, file, "clip", error);
  HdClipConfig *c = &hn->clip;
  const char *name;

  if (clip == NULL ||
      (name = config_string (clip, file, "clip", "name", error)) == NULL ||
      !config_int (clip, file, "clip", "context_length", 2, &c->context_length, error) ||
      !config_int (clip, file, "clip", "vocab_size", 514, &c->vocab_size, error) ||
      !config_int (clip, file, "clip", "width", 1, &c->width, error) ||
      !config_int (clip, file, "clip", "heads", 1, &c->heads, error) ||
      !config_int (clip, file, "clip", "layers", 0, &c->layers, error) ||
      !config_int (clip, file, "clip", "embed_dim", 1, &c->embed_dim, error))
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

static gboolean
parse_mapper (HdHypernetwork  *hn,
              JsonObject      *root,
              const char      *file,
              GError         **error)
{
  static const char * const types[] = { "residual_channelin", NULL };
  static const char * const backbones[] = { "shared", NULL };
  static const char * const activations[] = { "relu", "lrelu", "prelu", "id", NULL };
  JsonObject *mapper = config_object (root, file, "mapper", error);
  HdMapperConfig *m = &hn->mapper;
  int type, backbone, activation;

  if (mapper == NULL ||
      !config_choice (mapper, file, "type", types, &type, error) ||
      !config_choice (mapper, file, "backbone_type", backbones, &backbone, error) ||
      !config_choice (mapper, file, "activation", activations, &activation, error) ||
      !config_int (mapper, file, "mapper", "input_dimension", 1, &m->input_dimension, error) ||
      !config_int (mapper, file, "mapper", "width", 1, &m->width, error) ||
      !config_int (mapper, file, "mapper", "backbone_depth", 1, &m->backbone_depth, error) ||
      !config_int (mapper, file, "mapper", "head_depth", 1, &m->head_depth, error) ||
      !config_int (mapper, file, "mapper", "inner_features", 1, &m->inner_features, error))
    return FALSE;
  m->activation = (HdMapperActivation) activation;
  if (m->input_dimension != hn->clip.embed_dim || m->input_dimension != m->width)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: the mapper’s input_dimension (%d) "
                                          "must equal the CLIP embed_dim (%d) and the mapper width (%d)"),
                           m->input_dimension, hn->clip.embed_dim, m->width);
      return FALSE;
    }
  return TRUE;
}

/* The K layer names of §4 for a generator of resolution R. */
static char **
expected_layer_names (int k)
{
  char **names = g_new0 (char *, k + 1);

  names[0] = g_strdup ("synthesis.b4.conv1");
  for (int i = 1; i < k; i++)
    names[i] = g_strdup_printf ("synthesis.b%d.conv%d", 4 << ((i + 1) / 2), i % 2 == 1 ? 0 : 1);
  return names;
}

static gboolean
parse_layers (HdHypernetwork  *hn,
              JsonObject      *root,
              const char      *file,
              GError         **error)
{
  JsonNode *node = json_object_get_member (root, "layers");
  JsonArray *array;
  g_auto(GStrv) expected = NULL;
  guint k;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      hd_set_format_error (error, file, _("hyperdomain.config: “layers” is missing or not a list"));
      return FALSE;
    }
  array = json_node_get_array (node);
  k = json_array_get_length (array);
  /* K = 2 log2 R - 3 for some R >= 8: 3, 5, 7, ... (at most 1024 px and
   * a little more). */
  if (k < 3 || k % 2 == 0 || k > 31)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: “layers” has %u names; a mapper has "
                                          "2·log2(R) − 3 heads for a generator of resolution R ≥ 8"),
                           k);
      return FALSE;
    }
  expected = expected_layer_names ((int) k);
  for (guint i = 0; i < k; i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING ||
          !g_str_equal (json_node_get_string (item), expected[i]))
        {
          hd_set_format_error (error, file, _("hyperdomain.config: entry %u of “layers” must be “%s”"),
                               i + 1, expected[i]);
          return FALSE;
        }
    }
  hn->n_layers = (int) k;
  hn->layer_names = g_steal_pointer (&expected);
  hn->layer_c_in = g_new0 (int, k);
  return TRUE;
}

static gboolean
parse_config (HdHypernetwork  *hn,
              const char      *text,
              const char      *file,
              GError         **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (text == NULL)
    {
      hd_set_format_error (error, file, _("the metadata has no hyperdomain.config"));
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, text, -1, &local_error))
    {
      hd_set_format_error (error, file, _("hyperdomain.config is not JSON: %s"), local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      hd_set_format_error (error, file, _("hyperdomain.config is not a JSON object"));
      return FALSE;
    }
  return parse_clip (hn, json_node_get_object (root), file, error) &&
         parse_mapper (hn, json_node_get_object (root), file, error) &&
         parse_layers (hn, json_node_get_object (root), file, error);
}

/* ------------------------------------------------------------------------ */
/* The tensors                                                              */

/* NAME -> its shape (gint64[3]: n_dims, d0, d1), every tensor §5 lists. */
typedef struct {
  GHashTable *shapes;
} Expected;

static void
expect (Expected *e,
        char     *name,
        gint64    d0,
        gint64    d1)
{
  gint64 *shape = g_new (gint64, 3);

  shape[0] = d1 < 0 ? 1 : 2;
  shape[1] = d0;
  shape[2] = d1;
  g_hash_table_replace (e->shapes, name, shape);
}

static void
expect_bn (Expected   *e,
           const char *prefix,
           gint64      n)
{
  static const char * const parts[] = { "weight", "bias", "running_mean", "running_var" };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    expect (e, g_strdup_printf ("%s.%s", prefix, parts[i]), n, -1);
}

static void
expect_linear (Expected   *e,
               const char *prefix,
               gint64      out,
               gint64      in)
{
  expect (e, g_strdup_printf ("%s.weight", prefix), out, in);
  expect (e, g_strdup_printf ("%s.bias", prefix), out, -1);
}

static void
expect_res_block (Expected        *e,
                  HdHypernetwork  *hn,
                  const char      *prefix)
{
  gint64 w = hn->mapper.width, n = hn->mapper.inner_features;
  g_autofree char *in0 = g_strdup_printf ("%s.input_block.0", prefix);
  g_autofree char *in1 = g_strdup_printf ("%s.input_block.1", prefix);
  g_autofree char *second0 = g_strdup_printf ("%s.second_block.0", prefix);
  g_autofree char *second1 = g_strdup_printf ("%s.second_block.1", prefix);

  expect_linear (e, in0, n, w);
  expect_bn (e, in1, n);
  expect_linear (e, second0, w, n);
  expect_bn (e, second1, w);
  if (hn->mapper.activation == HD_MAPPER_PRELU)
    {
      expect (e, g_strdup_printf ("%s.input_block.2.weight", prefix), 1, -1);
      expect (e, g_strdup_printf ("%s.out.weight", prefix), 1, -1);
    }
}

static Expected
expected_tensors (HdHypernetwork *hn)
{
  Expected e = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  gint64 w = hn->clip.width;

  expect (&e, g_strdup ("clip.token_embedding.weight"), hn->clip.vocab_size, w);
  expect (&e, g_strdup ("clip.positional_embedding"), hn->clip.context_length, w);
  for (int l = 0; l < hn->clip.layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("clip.transformer.resblocks.%d", l);

      expect (&e, g_strdup_printf ("%s.ln_1.weight", p), w, -1);
      expect (&e, g_strdup_printf ("%s.ln_1.bias", p), w, -1);
      expect (&e, g_strdup_printf ("%s.ln_2.weight", p), w, -1);
      expect (&e, g_strdup_printf ("%s.ln_2.bias", p), w, -1);
      expect (&e, g_strdup_printf ("%s.attn.in_proj_weight", p), 3 * w, w);
      expect (&e, g_strdup_printf ("%s.attn.in_proj_bias", p), 3 * w, -1);
      expect (&e, g_strdup_printf ("%s.attn.out_proj.weight", p), w, w);
      expect (&e, g_strdup_printf ("%s.attn.out_proj.bias", p), w, -1);
      expect (&e, g_strdup_printf ("%s.mlp.c_fc.weight", p), 4 * w, w);
      expect (&e, g_strdup_printf ("%s.mlp.c_fc.bias", p), 4 * w, -1);
      expect (&e, g_strdup_printf ("%s.mlp.c_proj.weight", p), w, 4 * w);
      expect (&e, g_strdup_printf ("%s.mlp.c_proj.bias", p), w, -1);
    }
  expect (&e, g_strdup ("clip.ln_final.weight"), w, -1);
  expect (&e, g_strdup ("clip.ln_final.bias"), w, -1);
  expect (&e, g_strdup ("clip.text_projection"), w, hn->clip.embed_dim);

  expect_linear (&e, "mapper.backbone.backbone.0.lin", hn->mapper.width, hn->mapper.input_dimension);
  expect_bn (&e, "mapper.backbone.backbone.0.bn", hn->mapper.input_dimension);
  if (hn->mapper.activation == HD_MAPPER_PRELU)
    expect (&e, g_strdup ("mapper.backbone.backbone.0.act.weight"), 1, -1);
  for (int i = 1; i < hn->mapper.backbone_depth; i++)
    {
      g_autofree char *p = g_strdup_printf ("mapper.backbone.backbone.%d", i);
      expect_res_block (&e, hn, p);
    }
  for (int k = 0; k < hn->n_layers; k++)
    for (int j = 0; j < hn->mapper.head_depth - 1; j++)
      {
        g_autofree char *p = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k, j);
        expect_res_block (&e, hn, p);
      }
  return e;
}

/* mapper.*.num_batches_tracked: present in converted checkpoints, unused. */
static gboolean
is_ignored_tensor (const char *name)
{
  return g_str_has_prefix (name, "mapper.") && g_str_has_suffix (name, ".num_batches_tracked");
}

static gboolean
is_float (const HdTensor *t)
{
  return t->dtype == HD_DTYPE_F32 || t->dtype == HD_DTYPE_F16 || t->dtype == HD_DTYPE_BF16;
}

/* The heads' last Linear: [C_k, W] and [C_k], C_k read from the file. */
static gboolean
check_heads (HdHypernetwork  *hn,
             Expected        *e,
             const char      *file,
             GError         **error)
{
  for (int k = 0; k < hn->n_layers; k++)
    {
      g_autofree char *prefix = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k,
                                                 hn->mapper.head_depth - 1);
      g_autofree char *weight = g_strdup_printf ("%s.weight", prefix);
      const HdTensor *t = hd_safetensors_lookup (hn->st, weight);

      if (t == NULL || t->n_dims != 2 || t->shape[0] < 1 || t->shape[0] > 65536)
        {
          hd_set_format_error (error, file, _("tensor “%s” is missing or not a [C_in, %d] matrix"),
                               weight, hn->mapper.width);
          return FALSE;
        }
      hn->layer_c_in[k] = (int) t->shape[0];
      expect_linear (e, prefix, t->shape[0], hn->mapper.width);
    }
  return TRUE;
}

static gboolean
check_tensors (HdHypernetwork  *hn,
               const char      *file,
               GError         **error)
{
  Expected e = expected_tensors (hn);
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok = check_heads (hn, &e, file, error);

  g_hash_table_iter_init (&iter, e.shapes);
  while (ok && g_hash_table_iter_next (&iter, &key, &value))
    {
      const gint64 *shape = value;
      const HdTensor *t = hd_safetensors_lookup (hn->st, key);
      gint64 want[2] = { shape[1], shape[2] };

      if (t == NULL)
        {
          hd_set_format_error (error, file, _("tensor “%s” is missing"), (const char *) key);
          ok = FALSE;
        }
      else if (!is_float (t) || t->n_dims != (guint) shape[0] || t->shape[0] != shape[1] ||
               (shape[0] == 2 && t->shape[1] != shape[2]))
        {
          g_autofree char *got = hd_shape_to_string (t->shape, t->n_dims);
          g_autofree char *wanted = hd_shape_to_string (want, (guint) shape[0]);

          hd_set_format_error (error, file,
                               is_float (t) ? _("tensor “%s” has shape %s; shape %s was expected")
                                            : _("tensor “%s” is not a float tensor (shape %s); a float "
                                                "tensor of shape %s was expected"),
                               (const char *) key, got, wanted);
          ok = FALSE;
        }
      else if (!hd_tensor_is_finite (t))
        {
          hd_set_format_error (error, file, _("tensor “%s” holds a value that is not finite"),
                               (const char *) key);
          ok = FALSE;
        }
    }

  /* Nothing else may be there. */
  for (guint i = 0; ok && i < hd_safetensors_get_n_tensors (hn->st); i++)
    {
      const HdTensor *t = hd_safetensors_get_tensor (hn->st, i);

      if (!g_hash_table_contains (e.shapes, t->name) && !is_ignored_tensor (t->name) &&
          !g_str_equal (t->name, "tokenizer.merges"))
        {
          hd_set_format_error (error, file, _("tensor “%s” does not belong in a hypernetwork file"),
                               t->name);
          ok = FALSE;
        }
    }
  g_hash_table_unref (e.shapes);
  return ok;
}

/* tokenizer.merges: U8 text; the tokenizer checks its lines. */
static gboolean
check_merges (HdHypernetwork  *hn,
              const char      *file,
              GError         **error)
{
  const HdTensor *t = hd_safetensors_lookup (hn->st, "tokenizer.merges");

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
  hn->merges = (const char *) t->data;
  hn->merges_len = t->n_bytes;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

HdHypernetwork *
hd_hypernetwork_load_from_safetensors (HdSafetensors  *st,
                                       GError        **error)
{
  g_autoptr(HdHypernetwork) hn = NULL;
  const char *file, *kind, *modulation, *name;

  g_return_val_if_fail (st != NULL, NULL);

  file = hd_safetensors_get_path (st);
  kind = hd_safetensors_get_metadata (st, "hyperdomain.kind");
  if (kind == NULL || !g_str_equal (kind, "hypernetwork"))
    {
      if (kind == NULL)
        hd_set_format_error (error, file, _("not a hypernetwork (its metadata has no hyperdomain.kind)"));
      else
        hd_set_format_error (error, file, _("not a hypernetwork (hyperdomain.kind is “%s”, not "
                                            "“hypernetwork”)"), kind);
      return NULL;
    }
  if (!hd_safetensors_check_version (st, file, error))
    return NULL;
  modulation = hd_safetensors_get_metadata (st, "hyperdomain.modulation");
  if (modulation == NULL || !g_str_equal (modulation, "input-after-demod"))
    {
      if (modulation == NULL)
        g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                     _("%s: the metadata has no hyperdomain.modulation (only “input-after-demod” is supported)"),
                     file);
      else
        g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                     _("%s: hyperdomain.modulation “%s” is not supported (only “input-after-demod” is)"),
                     file, modulation);
      return NULL;
    }
  name = hd_safetensors_get_metadata (st, "hyperdomain.name");
  if (name == NULL || name[0] == '\0')
    {
      hd_set_format_error (error, file, _("the metadata has no hyperdomain.name"));
      return NULL;
    }

  hn = g_new0 (HdHypernetwork, 1);
  hn->ref_count = 1;
  hn->st = hd_safetensors_ref (st);
  hn->path = g_canonicalize_filename (file, NULL);
  hn->name = g_strdup (name);
  hn->description = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.description"));
  hn->generator = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.generator"));
  if (!parse_config (hn, hd_safetensors_get_metadata (st, "hyperdomain.config"), file, error) ||
      !check_tensors (hn, file, error) ||
      !check_merges (hn, file, error))
    return NULL;
  return g_steal_pointer (&hn);
}

HdHypernetwork *
hd_hypernetwork_load (const char  *path,
                      GError     **error)
{
  g_autoptr(HdSafetensors) st = hd_safetensors_open_full (path, HD_SAFETENSORS_ALLOW_INTEGERS, error);

  if (st == NULL)
    return NULL;
  return hd_hypernetwork_load_from_safetensors (st, error);
}

float *
hd_hypernetwork_get_f32 (HdHypernetwork *hn,
                         const char     *name,
                         gsize          *n)
{
  const HdTensor *t = hd_safetensors_lookup (hn->st, name);
  float *out;

  g_return_val_if_fail (t != NULL && is_float (t), NULL);

  out = g_new (float, MAX (t->n_elements, 1));
  hd_tensor_to_f32 (t, out);
  if (n != NULL)
    *n = t->n_elements;
  return out;
}

float *
hd_hypernetwork_embed_tokens (HdHypernetwork  *hn,
                              const guint32   *ids,
                              guint            n_ids,
                              guint           *n_rows,
                              GError         **error)
{
  const HdTensor *tokens = hd_safetensors_lookup (hn->st, "clip.token_embedding.weight");
  gsize elem = tokens->n_bytes / tokens->n_elements, w = (gsize) hn->clip.width;
  g_autofree float *pos = NULL;
  float *x;
  guint p = 0;

  if (n_ids == 0 || n_ids > (guint) hn->clip.context_length)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The token row has %u ids, but this CLIP takes from 1 to %d"),
                   n_ids, hn->clip.context_length);
      return NULL;
    }
  for (guint i = 0; i < n_ids; i++)
    {
      if (ids[i] >= (guint) hn->clip.vocab_size)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("Token id %u is outside this CLIP’s vocabulary of %d"), ids[i], hn->clip.vocab_size);
          return NULL;
        }
      if (ids[i] > ids[p])
        p = i;
    }

  pos = hd_hypernetwork_get_f32 (hn, "clip.positional_embedding", NULL);
  x = g_new (float, (gsize) (p + 1) * w);
  for (guint i = 0; i <= p; i++)
    {
      HdTensor row = *tokens;

      row.n_elements = w;
      row.n_bytes = elem * w;
      row.data = tokens->data + (gsize) ids[i] * w * elem;
      hd_tensor_to_f32 (&row, x + (gsize) i * w);
      for (gsize c = 0; c < w; c++)
        x[i * w + c] += pos[i * w + c];
    }
  *n_rows = p + 1;
  return x;
}

float *
hd_hypernetwork_get_f32_printf (HdHypernetwork *hn,
                                gsize          *n,
                                const char     *format,
                                ...)
{
  g_autofree char *name = NULL;
  va_list args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  return hd_hypernetwork_get_f32 (hn, name, n);
}

gsize
hd_hypernetwork_output_size (HdHypernetwork *hn)
{
  gsize n = 0;

  for (int k = 0; k < hn->n_layers; k++)
    n += (gsize) hn->layer_c_in[k];
  return n;
}

gboolean
hd_hypernetwork_check (HdHypernetwork  *hn,
                       HdGenerator     *gen,
                       GError         **error)
{
  for (int k = 0; k < hn->n_layers; k++)
    {
      const HdConvLayer *conv = NULL;

      for (int c = 0; c < gen->n_convs && conv == NULL; c++)
        if (g_str_equal (gen->convs[c].name, hn->layer_names[k]))
          conv = &gen->convs[c];
      if (conv == NULL)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                       _("The hypernetwork “%s” has a head for %s, which the generator “%s” does not have"),
                       hn->path, hn->layer_names[k], gen->path != NULL ? gen->path : gen->name);
          return FALSE;
        }
      if (conv->c_in != hn->layer_c_in[k])
        {
          g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                       _("The hypernetwork “%s” does not fit the generator “%s”: layer %s has %d input "
                         "channels in the hypernetwork and %d in the generator"),
                       hn->path, gen->path != NULL ? gen->path : gen->name, hn->layer_names[k],
                       hn->layer_c_in[k], conv->c_in);
          return FALSE;
        }
    }
  return TRUE;
}

HdDomain *
hd_hypernetwork_make_domain (HdHypernetwork *hn,
                             const float    *d,
                             const char     *name)
{
  HdDomain *domain = hd_domain_new (NULL, name);
  gsize offset = 0;

  domain->generator = g_strdup (hn->generator);
  domain->prompt = g_strdup (name);
  domain->hypernetwork_path = g_strdup (hn->path);
  domain->hypernetwork_name = g_strdup (hn->name);
  for (int k = 0; k < hn->n_layers; k++)
    {
      hd_domain_add_layer (domain, hn->layer_names[k], d + offset, hn->layer_c_in[k]);
      offset += (gsize) hn->layer_c_in[k];
    }
  return domain;
}

/* ------------------------------------------------------------------------ */
/* Random hypernetworks                                                     */

typedef struct {
  HdSafetensorsWriter *writer;
  GRand               *rand;
} RandomWriter;

static void
random_tensor (RandomWriter *w,
               const char   *name,
               HdDtype       dtype,
               gint64        d0,
               gint64        d1,
               double        mean,
               double        spread)
{
  gint64 shape[2] = { d0, d1 };
  gsize n = (gsize) d0 * (d1 > 0 ? (gsize) d1 : 1);
  g_autofree float *values = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    values[i] = (float) (mean + g_rand_double_range (w->rand, -spread, spread));
  hd_safetensors_writer_add_f32 (w->writer, name, dtype, shape, d1 > 0 ? 2 : 1, values);
}

static void
random_named (RandomWriter *w,
              HdDtype       dtype,
              gint64        d0,
              gint64        d1,
              double        mean,
              double        spread,
              const char   *format,
              ...) G_GNUC_PRINTF (7, 8);

static void
random_named (RandomWriter *w,
              HdDtype       dtype,
              gint64        d0,
              gint64        d1,
              double        mean,
              double        spread,
              const char   *format,
              ...)
{
  g_autofree char *name = NULL;
  va_list args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  random_tensor (w, name, dtype, d0, d1, mean, spread);
}

static void
random_bn (RandomWriter *w,
           const char   *prefix,
           gint64        n)
{
  random_named (w, HD_DTYPE_F32, n, -1, 1.0, 0.1, "%s.weight", prefix);
  random_named (w, HD_DTYPE_F32, n, -1, 0.0, 0.1, "%s.bias", prefix);
  random_named (w, HD_DTYPE_F32, n, -1, 0.0, 0.1, "%s.running_mean", prefix);
  random_named (w, HD_DTYPE_F32, n, -1, 1.0, 0.5, "%s.running_var", prefix);
}

static void
random_res_block (RandomWriter         *w,
                  const HdMapperConfig *m,
                  const char           *r)
{
  double gain_w = 1.0 / sqrt ((double) m->width), gain_n = 1.0 / sqrt ((double) m->inner_features);
  g_autofree char *bn1 = g_strdup_printf ("%s.input_block.1", r);
  g_autofree char *bn2 = g_strdup_printf ("%s.second_block.1", r);

  random_named (w, HD_DTYPE_F32, m->inner_features, m->width, 0.0, gain_w, "%s.input_block.0.weight", r);
  random_named (w, HD_DTYPE_F32, m->inner_features, -1, 0.0, 0.1, "%s.input_block.0.bias", r);
  random_bn (w, bn1, m->inner_features);
  random_named (w, HD_DTYPE_F32, m->width, m->inner_features, 0.0, gain_n, "%s.second_block.0.weight", r);
  random_named (w, HD_DTYPE_F32, m->width, -1, 0.0, 0.1, "%s.second_block.0.bias", r);
  random_bn (w, bn2, m->width);
  if (m->activation == HD_MAPPER_PRELU)
    {
      random_named (w, HD_DTYPE_F32, 1, -1, 0.25, 0.0, "%s.input_block.2.weight", r);
      random_named (w, HD_DTYPE_F32, 1, -1, 0.25, 0.0, "%s.out.weight", r);
    }
}

GBytes *
hd_hypernetwork_random_bytes (const HdClipConfig   *clip,
                              const HdMapperConfig *mapper,
                              int                   resolution,
                              int                   channel_base,
                              int                   channel_max,
                              guint32               seed)
{
  static const char * const activations[] = { "relu", "lrelu", "prelu", "id" };
  RandomWriter w = { hd_safetensors_writer_new (), g_rand_new_with_seed (seed) };
  int k = 0, width = clip->width;
  double gain = 1.0 / sqrt ((double) width);
  g_autoptr(GString) layers = g_string_new (NULL);
  g_autofree char *config = NULL;
  GBytes *bytes;
  static const char merges[] = "#version: 0.2\n";

  for (int res = 4; res <= resolution; res *= 2)
    for (int conv = res == 4 ? 1 : 0; conv < 2; conv++, k++)
      {
        int c_in = MIN (channel_base / (conv == 0 ? res / 2 : res), channel_max);
        g_autofree char *head = g_strdup_printf ("mapper.heads.conv_%d.in", k);

        g_string_append_printf (layers, "%s\"synthesis.b%d.conv%d\"", k == 0 ? "" : ",", res, conv);
        for (int j = 0; j < mapper->head_depth - 1; j++)
          {
            g_autofree char *r = g_strdup_printf ("%s.%d", head, j);
            random_res_block (&w, mapper, r);
          }
        random_named (&w, HD_DTYPE_F32, c_in, mapper->width, 0.0, 0.01, "%s.%d.weight", head,
                      mapper->head_depth - 1);
        random_named (&w, HD_DTYPE_F32, c_in, -1, 0.0, 0.01, "%s.%d.bias", head, mapper->head_depth - 1);
      }

  random_tensor (&w, "clip.token_embedding.weight", HD_DTYPE_F16, clip->vocab_size, width, 0.0, 0.02);
  random_tensor (&w, "clip.positional_embedding", HD_DTYPE_F16, clip->context_length, width, 0.0, 0.01);
  for (int l = 0; l < clip->layers; l++)
    {
      const char *p = "clip.transformer.resblocks";

      random_named (&w, HD_DTYPE_F16, width, -1, 1.0, 0.1, "%s.%d.ln_1.weight", p, l);
      random_named (&w, HD_DTYPE_F16, width, -1, 0.0, 0.1, "%s.%d.ln_1.bias", p, l);
      random_named (&w, HD_DTYPE_F16, 3 * width, width, 0.0, gain, "%s.%d.attn.in_proj_weight", p, l);
      random_named (&w, HD_DTYPE_F16, 3 * width, -1, 0.0, 0.02, "%s.%d.attn.in_proj_bias", p, l);
      random_named (&w, HD_DTYPE_F16, width, width, 0.0, gain, "%s.%d.attn.out_proj.weight", p, l);
      random_named (&w, HD_DTYPE_F16, width, -1, 0.0, 0.02, "%s.%d.attn.out_proj.bias", p, l);
      random_named (&w, HD_DTYPE_F16, width, -1, 1.0, 0.1, "%s.%d.ln_2.weight", p, l);
      random_named (&w, HD_DTYPE_F16, width, -1, 0.0, 0.1, "%s.%d.ln_2.bias", p, l);
      random_named (&w, HD_DTYPE_F16, 4 * width, width, 0.0, gain, "%s.%d.mlp.c_fc.weight", p, l);
      random_named (&w, HD_DTYPE_F16, 4 * width, -1, 0.0, 0.02, "%s.%d.mlp.c_fc.bias", p, l);
      random_named (&w, HD_DTYPE_F16, width, 4 * width, 0.0, gain / 2, "%s.%d.mlp.c_proj.weight", p, l);
      random_named (&w, HD_DTYPE_F16, width, -1, 0.0, 0.02, "%s.%d.mlp.c_proj.bias", p, l);
    }
  random_tensor (&w, "clip.ln_final.weight", HD_DTYPE_F16, width, -1, 1.0, 0.1);
  random_tensor (&w, "clip.ln_final.bias", HD_DTYPE_F16, width, -1, 0.0, 0.1);
  random_tensor (&w, "clip.text_projection", HD_DTYPE_F16, width, clip->embed_dim, 0.0, gain);
  random_tensor (&w, "mapper.backbone.backbone.0.lin.weight", HD_DTYPE_F32, mapper->width,
                 mapper->input_dimension, 0.0, 1.0 / sqrt ((double) mapper->input_dimension));
  random_tensor (&w, "mapper.backbone.backbone.0.lin.bias", HD_DTYPE_F32, mapper->width, -1, 0.0, 0.1);
  random_bn (&w, "mapper.backbone.backbone.0.bn", mapper->input_dimension);
  if (mapper->activation == HD_MAPPER_PRELU)
    random_tensor (&w, "mapper.backbone.backbone.0.act.weight", HD_DTYPE_F32, 1, -1, 0.25, 0.0);
  for (int i = 1; i < mapper->backbone_depth; i++)
    {
      g_autofree char *r = g_strdup_printf ("mapper.backbone.backbone.%d", i);
      random_res_block (&w, mapper, r);
    }
  hd_safetensors_writer_add_u8 (w.writer, "tokenizer.merges", (const guint8 *) merges, strlen (merges));

  config = g_strdup_printf ("{\"clip\":{\"name\":\"custom\",\"context_length\":%d,\"vocab_size\":%d,"
                            "\"width\":%d,\"heads\":%d,\"layers\":%d,\"embed_dim\":%d},"
                            "\"mapper\":{\"type\":\"residual_channelin\",\"backbone_type\":\"shared\","
                            "\"activation\":\"%s\",\"input_dimension\":%d,\"width\":%d,"
                            "\"backbone_depth\":%d,\"head_depth\":%d,\"inner_features\":%d},"
                            "\"layers\":[%s]}",
                            clip->context_length, clip->vocab_size, width, clip->heads, clip->layers,
                            clip->embed_dim, activations[mapper->activation], mapper->input_dimension,
                            mapper->width, mapper->backbone_depth, mapper->head_depth,
                            mapper->inner_features, layers->str);
  hd_safetensors_writer_set_metadata (w.writer, "hyperdomain.kind", "hypernetwork");
  hd_safetensors_writer_set_metadata (w.writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (w.writer, "hyperdomain.name", "random");
  hd_safetensors_writer_set_metadata (w.writer, "hyperdomain.modulation", "input-after-demod");
  hd_safetensors_writer_set_metadata (w.writer, "hyperdomain.config", config);
  bytes = hd_safetensors_writer_to_bytes (w.writer);
  hd_safetensors_writer_free (w.writer);
  g_rand_free (w.rand);
  return bytes;
}

HdHypernetwork *
hd_hypernetwork_new_random (const HdClipConfig   *clip,
                            const HdMapperConfig *mapper,
                            int                   resolution,
                            int                   channel_base,
                            int                   channel_max,
                            guint32               seed,
                            GError              **error)
{
  g_autoptr(GBytes) bytes = hd_hypernetwork_random_bytes (clip, mapper, resolution, channel_base,
                                                          channel_max, seed);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes_full (bytes, "random-hypernetwork.safetensors",
                                                                    HD_SAFETENSORS_ALLOW_INTEGERS, error);

  if (st == NULL)
    return NULL;
  return hd_hypernetwork_load_from_safetensors (st, error);
}
