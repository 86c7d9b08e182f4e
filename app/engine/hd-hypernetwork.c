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

/* One of the values §4 supports, or an error naming the value. */
static gboolean
config_choice (JsonObject          *obj,
               const char          *file,
               const char          *key,
               const char * const  *allowed,
               int                 *index,
               GError             **error)
{
  const char *value = hd_config_string (obj, file, "mapper", key, error);

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
  JsonObject *clip = hd_config_object (root, file, "clip", error);

  return clip != NULL &&
         hd_clip_parse_text_config (clip, "clip", clip, "clip", file, &hn->clip, error);
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
  JsonObject *mapper = hd_config_object (root, file, "mapper", error);
  HdMapperConfig *m = &hn->mapper;
  int type, backbone, activation;

  if (mapper == NULL ||
      !config_choice (mapper, file, "type", types, &type, error) ||
      !config_choice (mapper, file, "backbone_type", backbones, &backbone, error) ||
      !config_choice (mapper, file, "activation", activations, &activation, error) ||
      !hd_config_int (mapper, file, "mapper", "input_dimension", 1, &m->input_dimension, error) ||
      !hd_config_int (mapper, file, "mapper", "width", 1, &m->width, error) ||
      !hd_config_int (mapper, file, "mapper", "backbone_depth", 1, &m->backbone_depth, error) ||
      !hd_config_int (mapper, file, "mapper", "head_depth", 1, &m->head_depth, error) ||
      !hd_config_int (mapper, file, "mapper", "inner_features", 1, &m->inner_features, error))
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
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *root = hd_config_parse (text, file, &parser, error);

  return root != NULL &&
         parse_clip (hn, root, file, error) &&
         parse_mapper (hn, root, file, error) &&
         parse_layers (hn, root, file, error);
}

/* ------------------------------------------------------------------------ */
/* The tensors                                                              */

static void
expect_bn (HdExpected *e,
           const char *prefix,
           gint64      n)
{
  static const char * const parts[] = { "weight", "bias", "running_mean", "running_var" };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    hd_expected_add (e, g_strdup_printf ("%s.%s", prefix, parts[i]), n, -1);
}

static void
expect_linear (HdExpected *e,
               const char *prefix,
               gint64      out,
               gint64      in)
{
  hd_expected_add (e, g_strdup_printf ("%s.weight", prefix), out, in);
  hd_expected_add (e, g_strdup_printf ("%s.bias", prefix), out, -1);
}

static void
expect_res_block (HdExpected      *e,
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
      hd_expected_add (e, g_strdup_printf ("%s.input_block.2.weight", prefix), 1, -1);
      hd_expected_add (e, g_strdup_printf ("%s.out.weight", prefix), 1, -1);
    }
}

/* Every tensor §5 lists but the heads' last Linear (check_heads). */
static HdExpected *
expected_tensors (HdHypernetwork *hn)
{
  HdExpected *e = hd_expected_new ();
  gint64 w = hn->clip.width;

  hd_expected_add (e, g_strdup ("clip.token_embedding.weight"), hn->clip.vocab_size, w);
  hd_expected_add (e, g_strdup ("clip.positional_embedding"), hn->clip.context_length, w);
  hd_expected_add_resblocks (e, "clip.", w, hn->clip.layers);
  hd_expected_add (e, g_strdup ("clip.ln_final.weight"), w, -1);
  hd_expected_add (e, g_strdup ("clip.ln_final.bias"), w, -1);
  hd_expected_add (e, g_strdup ("clip.text_projection"), w, hn->clip.embed_dim);

  expect_linear (e, "mapper.backbone.backbone.0.lin", hn->mapper.width, hn->mapper.input_dimension);
  expect_bn (e, "mapper.backbone.backbone.0.bn", hn->mapper.input_dimension);
  if (hn->mapper.activation == HD_MAPPER_PRELU)
    hd_expected_add (e, g_strdup ("mapper.backbone.backbone.0.act.weight"), 1, -1);
  for (int i = 1; i < hn->mapper.backbone_depth; i++)
    {
      g_autofree char *p = g_strdup_printf ("mapper.backbone.backbone.%d", i);
      expect_res_block (e, hn, p);
    }
  for (int k = 0; k < hn->n_layers; k++)
    for (int j = 0; j < hn->mapper.head_depth - 1; j++)
      {
        g_autofree char *p = g_strdup_printf ("mapper.heads.conv_%d.in.%d", k, j);
        expect_res_block (e, hn, p);
      }
  return e;
}

/* mapper.*.num_batches_tracked: present in converted checkpoints, unused. */
static gboolean
is_ignored_tensor (const char *name)
{
  return g_str_has_prefix (name, "mapper.") && g_str_has_suffix (name, ".num_batches_tracked");
}

/* The heads' last Linear: [C_k, W] and [C_k], C_k read from the file. */
static gboolean
check_heads (HdHypernetwork  *hn,
             HdExpected      *e,
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
  HdExpected *e = expected_tensors (hn);
  gboolean ok = check_heads (hn, e, file, error) &&
                hd_expected_check (e, hn->st, is_ignored_tensor,
                                   _("tensor “%s” does not belong in a hypernetwork file"), error);

  hd_expected_free (e);
  return ok;
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
  hn->text.st = hn->st;
  hn->text.prefix = "clip.";
  hn->text.config = &hn->clip;
  if (!parse_config (hn, hd_safetensors_get_metadata (st, "hyperdomain.config"), file, error) ||
      !check_tensors (hn, file, error) ||
      !hd_clip_text_check_merges (&hn->text, error))
    return NULL;
  hn->merges = hn->text.merges;
  hn->merges_len = hn->text.merges_len;
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
  return hd_clip_get_f32 (hn->st, n, "%s", name);
}

float *
hd_hypernetwork_embed_tokens (HdHypernetwork  *hn,
                              const guint32   *ids,
                              guint            n_ids,
                              guint           *n_rows,
                              GError         **error)
{
  return hd_clip_text_embed_tokens (&hn->text, ids, n_ids, n_rows, error);
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

static void
random_bn (HdRandomWriter *w,
           const char   *prefix,
           gint64        n)
{
  hd_random_named (w, HD_DTYPE_F32, n, -1, 1.0, 0.1, "%s.weight", prefix);
  hd_random_named (w, HD_DTYPE_F32, n, -1, 0.0, 0.1, "%s.bias", prefix);
  hd_random_named (w, HD_DTYPE_F32, n, -1, 0.0, 0.1, "%s.running_mean", prefix);
  hd_random_named (w, HD_DTYPE_F32, n, -1, 1.0, 0.5, "%s.running_var", prefix);
}

static void
random_res_block (HdRandomWriter         *w,
                  const HdMapperConfig *m,
                  const char           *r)
{
  double gain_w = 1.0 / sqrt ((double) m->width), gain_n = 1.0 / sqrt ((double) m->inner_features);
  g_autofree char *bn1 = g_strdup_printf ("%s.input_block.1", r);
  g_autofree char *bn2 = g_strdup_printf ("%s.second_block.1", r);

  hd_random_named (w, HD_DTYPE_F32, m->inner_features, m->width, 0.0, gain_w, "%s.input_block.0.weight", r);
  hd_random_named (w, HD_DTYPE_F32, m->inner_features, -1, 0.0, 0.1, "%s.input_block.0.bias", r);
  random_bn (w, bn1, m->inner_features);
  hd_random_named (w, HD_DTYPE_F32, m->width, m->inner_features, 0.0, gain_n, "%s.second_block.0.weight", r);
  hd_random_named (w, HD_DTYPE_F32, m->width, -1, 0.0, 0.1, "%s.second_block.0.bias", r);
  random_bn (w, bn2, m->width);
  if (m->activation == HD_MAPPER_PRELU)
    {
      hd_random_named (w, HD_DTYPE_F32, 1, -1, 0.25, 0.0, "%s.input_block.2.weight", r);
      hd_random_named (w, HD_DTYPE_F32, 1, -1, 0.25, 0.0, "%s.out.weight", r);
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
  HdRandomWriter w = { hd_safetensors_writer_new (), g_rand_new_with_seed (seed) };
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
        hd_random_named (&w, HD_DTYPE_F32, c_in, mapper->width, 0.0, 0.01, "%s.%d.weight", head,
                      mapper->head_depth - 1);
        hd_random_named (&w, HD_DTYPE_F32, c_in, -1, 0.0, 0.01, "%s.%d.bias", head, mapper->head_depth - 1);
      }

  hd_random_tensor (&w, "clip.token_embedding.weight", HD_DTYPE_F16, clip->vocab_size, width, 0.0, 0.02);
  hd_random_tensor (&w, "clip.positional_embedding", HD_DTYPE_F16, clip->context_length, width, 0.0, 0.01);
  hd_random_resblocks (&w, "clip.", width, clip->layers);
  hd_random_tensor (&w, "clip.ln_final.weight", HD_DTYPE_F16, width, -1, 1.0, 0.1);
  hd_random_tensor (&w, "clip.ln_final.bias", HD_DTYPE_F16, width, -1, 0.0, 0.1);
  hd_random_tensor (&w, "clip.text_projection", HD_DTYPE_F16, width, clip->embed_dim, 0.0, gain);
  hd_random_tensor (&w, "mapper.backbone.backbone.0.lin.weight", HD_DTYPE_F32, mapper->width,
                 mapper->input_dimension, 0.0, 1.0 / sqrt ((double) mapper->input_dimension));
  hd_random_tensor (&w, "mapper.backbone.backbone.0.lin.bias", HD_DTYPE_F32, mapper->width, -1, 0.0, 0.1);
  random_bn (&w, "mapper.backbone.backbone.0.bn", mapper->input_dimension);
  if (mapper->activation == HD_MAPPER_PRELU)
    hd_random_tensor (&w, "mapper.backbone.backbone.0.act.weight", HD_DTYPE_F32, 1, -1, 0.25, 0.0);
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
