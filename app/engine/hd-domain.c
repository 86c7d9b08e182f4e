/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-domain.h"
#include "hd-error.h"

#define MODULATION "input-after-demod"
/* The style latents of an image-driven domain (formats.md §2). */
#define STYLE_TENSOR "style.w"
#define STYLE_FROM_KEY "hyperdomain.style_from"

static void
domain_layer_free (gpointer data)
{
  HdDomainLayer *layer = data;

  g_free (layer->values);
  g_free (layer);
}

static HdDomain *
domain_new (const char *path)
{
  HdDomain *domain = g_new0 (HdDomain, 1);

  domain->ref_count = 1;
  domain->path = g_strdup (path);
  domain->style_from = -1;
  domain->layers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          domain_layer_free);
  return domain;
}

HdDomain *
hd_domain_new (const char *path,
               const char *name)
{
  HdDomain *domain = domain_new (path);

  domain->name = g_strdup (name);
  return domain;
}

void
hd_domain_add_layer (HdDomain    *domain,
                     const char  *layer_name,
                     const float *values,
                     int          length)
{
  HdDomainLayer *layer;

  g_return_if_fail (domain != NULL);
  g_return_if_fail (length >= 0 && (values != NULL || length == 0));

  layer = g_new0 (HdDomainLayer, 1);
  layer->length = length;
  layer->values = g_memdup2 (values, (gsize) length * sizeof (float));
  g_hash_table_replace (domain->layers, g_strdup (layer_name), layer);
}

void
hd_domain_set_style (HdDomain    *domain,
                     int          from,
                     int          rows,
                     int          dim,
                     const float *values)
{
  g_return_if_fail (domain != NULL);
  g_return_if_fail (from >= 0 && rows > 0 && dim > 0 && values != NULL);

  g_free (domain->style_w);
  domain->style_from = from;
  domain->style_rows = rows;
  domain->style_dim = dim;
  domain->style_w = g_memdup2 (values, (gsize) rows * dim * sizeof (float));
}

/* Synthesis conv names in generator order: by block resolution, then
 * conv0 before conv1. */
static int
compare_layer_names (gconstpointer a,
                     gconstpointer b)
{
  const char *x = *(const char * const *) a, *y = *(const char * const *) b;
  int rx = 0, ry = 0, kx = 0, ky = 0;

  sscanf (x, "synthesis.b%d.conv%d", &rx, &kx);
  sscanf (y, "synthesis.b%d.conv%d", &ry, &ky);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  if (kx != ky)
    return kx < ky ? -1 : 1;
  return strcmp (x, y);
}

gboolean
hd_domain_save (HdDomain    *domain,
                const char  *source,
                const char  *path,
                GError     **error)
{
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autofree gpointer *names = NULL;
  guint n;

  g_autofree char *text_source = NULL;
  const char *name, *description = domain->description;

  g_return_val_if_fail (domain != NULL && domain->name != NULL, FALSE);

  /* A text domain (spec/text-domains.md §7): named and described by its
   * prompt, from its hypernetwork.  formats.md requires a name, which an
   * empty prompt cannot be. */
  name = domain->name[0] != '\0' ? domain->name : "(empty prompt)";
  if (domain->prompt != NULL)
    {
      description = domain->prompt;
      if (source == NULL)
        source = text_source = g_strdup_printf ("text prompt via %s", domain->hypernetwork_name);
    }
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "domain");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.name", name);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.modulation", MODULATION);
  if (description != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.description", description);
  if (domain->generator != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.generator", domain->generator);
  if (source != NULL)
    hd_safetensors_writer_set_metadata (writer, "hyperdomain.source", source);

  names = g_hash_table_get_keys_as_array (domain->layers, &n);
  qsort (names, n, sizeof (gpointer), compare_layer_names);
  for (guint i = 0; i < n; i++)
    {
      HdDomainLayer *layer = g_hash_table_lookup (domain->layers, names[i]);
      gint64 shape[1] = { layer->length };

      hd_safetensors_writer_add_f32 (writer, names[i], HD_DTYPE_F32, shape, 1, layer->values);
    }
  if (domain->style_w != NULL)
    {
      gint64 shape[2] = { domain->style_rows, domain->style_dim };
      g_autofree char *from = g_strdup_printf ("%d", domain->style_from);

      hd_safetensors_writer_set_metadata (writer, STYLE_FROM_KEY, from);
      hd_safetensors_writer_add_f32 (writer, STYLE_TENSOR, HD_DTYPE_F32, shape, 2, domain->style_w);
    }
  return hd_safetensors_writer_write (writer, path, error);
}

HdDomain *
hd_domain_ref (HdDomain *domain)
{
  g_return_val_if_fail (domain != NULL, NULL);

  g_atomic_int_inc (&domain->ref_count);
  return domain;
}

void
hd_domain_unref (HdDomain *domain)
{
  g_return_if_fail (domain != NULL);

  if (!g_atomic_int_dec_and_test (&domain->ref_count))
    return;
  g_free (domain->path);
  g_free (domain->id);
  g_free (domain->name);
  g_free (domain->description);
  g_free (domain->generator);
  g_free (domain->prompt);
  g_free (domain->hypernetwork_path);
  g_free (domain->hypernetwork_name);
  g_free (domain->style_w);
  g_hash_table_unref (domain->layers);
  g_free (domain);
}

/* "synthesis.b<digits>.conv0" or ".conv1". */
static gboolean
is_layer_name (const char *name)
{
  const char *p;
  gsize digits = 0;

  if (!g_str_has_prefix (name, "synthesis.b"))
    return FALSE;
  p = name + strlen ("synthesis.b");
  while (g_ascii_isdigit (p[digits]))
    digits++;
  if (digits == 0 || digits > 5)
    return FALSE;
  p += digits;
  return g_str_equal (p, ".conv0") || g_str_equal (p, ".conv1");
}

/* A pack id: [a-z0-9_-]+ */
static gboolean
is_pack_id (const char *id,
            gsize       length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      char c = id[i];

      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        return FALSE;
    }
  return TRUE;
}

static gboolean
add_layer (HdDomain        *domain,
           const char      *file,
           const char      *layer_name,
           const HdTensor  *tensor,
           GError         **error)
{
  HdDomainLayer *layer;

  if (!is_layer_name (layer_name))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: tensor “%s” is not a synthesis conv layer "
                     "(expected a name such as synthesis.b8.conv0)"),
                   file, tensor->name);
      return FALSE;
    }
  if (tensor->n_dims != 1)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("%s: tensor “%s” has %u dimensions; a domain layer is a vector (1 dimension)"),
                   file, tensor->name, tensor->n_dims);
      return FALSE;
    }
  if (tensor->n_elements > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("%s: tensor “%s” has %zu values; at most %d are supported"),
                   file, tensor->name, tensor->n_elements, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (!hd_tensor_is_finite (tensor))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: tensor “%s” contains NaN or infinite values"),
                   file, tensor->name);
      return FALSE;
    }

  layer = g_new0 (HdDomainLayer, 1);
  layer->length = (int) tensor->n_elements;
  layer->values = g_new0 (float, MAX (tensor->n_elements, 1));
  hd_tensor_to_f32 (tensor, layer->values);
  g_hash_table_insert (domain->layers, g_strdup (layer_name), layer);
  return TRUE;
}

/* The style latents of DOMAIN from TENSOR (FILE's "style.w" or
 * "<id>/style.w") and the metadata FROM_KEY, whose value is FROM_TEXT. */
static gboolean
add_style (HdDomain        *domain,
           const char      *file,
           const HdTensor  *tensor,
           const char      *from_key,
           const char      *from_text,
           GError         **error)
{
  guint64 from;

  if (domain->style_w != NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: the domain has more than one tensor “%s”"), file, tensor->name);
      return FALSE;
    }
  if (tensor->n_dims != 2 || tensor->shape[0] < 1 || tensor->shape[1] < 1 ||
      tensor->shape[0] > HD_MAX_RESOLUTION || tensor->shape[1] > HD_MAX_CHANNELS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("%s: tensor “%s” (style latents) must have the shape "
                     "[layers, w_dim], at most [%d, %d]"),
                   file, tensor->name, HD_MAX_RESOLUTION, HD_MAX_CHANNELS);
      return FALSE;
    }
  if (from_text == NULL ||
      !g_ascii_string_to_unsigned (from_text, 10, 0, HD_MAX_RESOLUTION, &from, NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: the domain has style latents (“%s”) but %s is %s; it must be "
                     "the first layer they replace, a whole number"),
                   file, tensor->name, from_key,
                   from_text != NULL ? from_text : _("(missing)"));
      return FALSE;
    }
  if (!hd_tensor_is_finite (tensor))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: tensor “%s” contains NaN or infinite values"),
                   file, tensor->name);
      return FALSE;
    }
  domain->style_from = (int) from;
  domain->style_rows = (int) tensor->shape[0];
  domain->style_dim = (int) tensor->shape[1];
  domain->style_w = g_new (float, tensor->n_elements);
  hd_tensor_to_f32 (tensor, domain->style_w);
  return TRUE;
}

static GPtrArray *
load_single (HdSafetensors  *st,
             const char     *file,
             const char     *abs_path,
             const char     *id,
             GError        **error)
{
  g_autoptr(HdDomain) domain = NULL;
  g_autoptr(GPtrArray) result = NULL;
  const char *name = hd_safetensors_get_metadata (st, "hyperdomain.name");

  if (id != NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("%s: “#%s” selects a domain of a pack, but this file holds a single domain"),
                   file, id);
      return NULL;
    }
  if (name == NULL || *name == '\0')
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: the domain has no name (hyperdomain.name is missing from its metadata)"),
                   file);
      return NULL;
    }

  domain = domain_new (abs_path);
  domain->name = g_strdup (name);
  domain->description = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.description"));
  domain->generator = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.generator"));
  for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
    {
      const HdTensor *tensor = hd_safetensors_get_tensor (st, i);

      if (g_str_equal (tensor->name, STYLE_TENSOR)
          ? !add_style (domain, file, tensor, STYLE_FROM_KEY,
                        hd_safetensors_get_metadata (st, STYLE_FROM_KEY), error)
          : !add_layer (domain, file, tensor->name, tensor, error))
        return NULL;
    }
  if (domain->style_w == NULL && hd_safetensors_get_metadata (st, STYLE_FROM_KEY) != NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: %s is set but the file has no style latents (tensor “%s”)"),
                   file, STYLE_FROM_KEY, STYLE_TENSOR);
      return NULL;
    }

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_ptr_array_add (result, g_steal_pointer (&domain));
  return g_steal_pointer (&result);
}

/* For arrays of char*: qsort and g_ptr_array_sort pass pointers to the
 * elements. */
static int
compare_string_ptrs (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static char *
join_ids (GPtrArray *ids)
{
  GString *str = g_string_new (NULL);

  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (str, "%s%s", i ? ", " : "", (char *) g_ptr_array_index (ids, i));
  return g_string_free (str, FALSE);
}

static GPtrArray *
load_pack (HdSafetensors  *st,
           const char     *file,
           const char     *abs_path,
           const char     *id,
           GError        **error)
{
  g_autoptr(GHashTable) domains = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) hd_domain_unref);
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GPtrArray) result = NULL;
  const char *pack_generator = hd_safetensors_get_metadata (st, "hyperdomain.generator");

  for (guint i = 0; i < hd_safetensors_get_n_tensors (st); i++)
    {
      const HdTensor *tensor = hd_safetensors_get_tensor (st, i);
      const char *slash = strchr (tensor->name, '/');
      g_autofree char *tensor_id = NULL;
      HdDomain *domain;

      if (slash == NULL || !is_pack_id (tensor->name, (gsize) (slash - tensor->name)))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: tensor “%s” of a domain pack is not named <id>/<layer> "
                         "with an id of a-z, 0-9, _ and -"),
                       file, tensor->name);
          return NULL;
        }
      tensor_id = g_strndup (tensor->name, (gsize) (slash - tensor->name));
      domain = g_hash_table_lookup (domains, tensor_id);
      if (domain == NULL)
        {
          g_autofree char *name_key = g_strdup_printf ("%s.name", tensor_id);
          g_autofree char *desc_key = g_strdup_printf ("%s.description", tensor_id);
          g_autofree char *gen_key = g_strdup_printf ("%s.generator", tensor_id);
          const char *name = hd_safetensors_get_metadata (st, name_key);
          const char *generator = hd_safetensors_get_metadata (st, gen_key);

          if (name == NULL || *name == '\0')
            {
              g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                           _("%s: domain “%s” of the pack has no name (%s is missing from its metadata)"),
                           file, tensor_id, name_key);
              return NULL;
            }
          domain = domain_new (abs_path);
          domain->id = g_strdup (tensor_id);
          domain->name = g_strdup (name);
          domain->description = g_strdup (hd_safetensors_get_metadata (st, desc_key));
          domain->generator = g_strdup (generator != NULL ? generator : pack_generator);
          g_hash_table_insert (domains, domain->id, domain);
          g_ptr_array_add (ids, domain->id);
        }
      if (g_str_equal (slash + 1, STYLE_TENSOR))
        {
          g_autofree char *from_key = g_strdup_printf ("%s.style_from", tensor_id);

          if (!add_style (domain, file, tensor, from_key,
                          hd_safetensors_get_metadata (st, from_key), error))
            return NULL;
        }
      else if (!add_layer (domain, file, slash + 1, tensor, error))
        return NULL;
    }

  if (ids->len == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT, _("%s: the domain pack holds no domains"), file);
      return NULL;
    }
  g_ptr_array_sort (ids, compare_string_ptrs);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  if (id != NULL)
    {
      HdDomain *domain = g_hash_table_lookup (domains, id);

      if (domain == NULL)
        {
          g_autofree char *available = join_ids (ids);

          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("%s: the pack has no domain “%s”; it has: %s"), file, id, available);
          return NULL;
        }
      g_ptr_array_add (result, hd_domain_ref (domain));
    }
  else
    {
      for (guint i = 0; i < ids->len; i++)
        g_ptr_array_add (result, hd_domain_ref (g_hash_table_lookup (domains,
                                                                     g_ptr_array_index (ids, i))));
    }
  return g_steal_pointer (&result);
}

GPtrArray *
hd_domain_load_from_safetensors (HdSafetensors  *st,
                                 const char     *id,
                                 GError        **error)
{
  const char *file, *kind, *modulation;
  g_autofree char *abs_path = NULL;

  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = hd_safetensors_get_path (st);
  abs_path = g_canonicalize_filename (file, NULL);
  kind = hd_safetensors_get_metadata (st, "hyperdomain.kind");
  modulation = hd_safetensors_get_metadata (st, "hyperdomain.modulation");

  if (kind == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: not a Hyperdomain domain (hyperdomain.kind is missing from its metadata)"),
                   file);
      return NULL;
    }
  if (g_str_equal (kind, "generator"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: this file is a generator, not a domain"), file);
      return NULL;
    }
  if (!g_str_equal (kind, "domain") && !g_str_equal (kind, "domain-pack"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: hyperdomain.kind is “%s”; a domain file has kind “domain” or “domain-pack”"),
                   file, kind);
      return NULL;
    }
  if (!hd_safetensors_check_version (st, file, error))
    return NULL;
  if (modulation == NULL || !g_str_equal (modulation, MODULATION))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   /* Translators: a file name, then the modulation found in its metadata,
                      in quotes, or “(missing)”; the last %s is the one supported,
                      input-after-demod. */
                   _("%s: hyperdomain.modulation %s%s%s is not supported (only “%s” is)"),
                   file, modulation ? "“" : "",
                   /* Translators: stands for a metadata value that the file lacks. */
                   modulation ? modulation : _("(missing)"),
                   modulation ? "”" : "", MODULATION);
      return NULL;
    }

  if (g_str_equal (kind, "domain"))
    return load_single (st, file, abs_path, id, error);
  return load_pack (st, file, abs_path, id, error);
}

GPtrArray *
hd_domain_load_all (const char  *spec,
                    GError     **error)
{
  g_autoptr(HdSafetensors) st = NULL;
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  const char *hash;

  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* "PATH#ID", unless a file is really named with the '#'.  What follows
   * the '#' is taken as an id when it has no '/' (else it is part of a
   * folder name). */
  hash = strrchr (spec, '#');
  if (hash != NULL && strchr (hash, G_DIR_SEPARATOR) == NULL &&
      !g_file_test (spec, G_FILE_TEST_EXISTS))
    {
      path = g_strndup (spec, (gsize) (hash - spec));
      id = g_strdup (hash + 1);
      if (!is_pack_id (id, strlen (id)))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("%s: “%s” is not a valid domain id (a-z, 0-9, _ and - only)"),
                       path, id);
          return NULL;
        }
    }
  else
    {
      path = g_strdup (spec);
    }

  st = hd_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  return hd_domain_load_from_safetensors (st, id, error);
}

/* How messages name DOMAIN: its file, or its name when it has none (a
 * domain made from a prompt or by training). */
static const char *
domain_file (HdDomain *domain)
{
  return domain->path != NULL ? domain->path : domain->name;
}

static const char *
generator_file (HdGenerator *gen)
{
  if (gen->path != NULL)
    return gen->path;
  if (gen->name != NULL)
    return gen->name;
  /* Translators: stands for a generator that has neither a file name nor a name. */
  return _("(generator)");
}

/* A layer of DOMAIN that GEN lacks, or whose length is not GEN's: the
 * domain was made for another generator. The message says so first,
 * naming both generators when the domain records the name of its own,
 * then which layer shows it. CONV is GEN's layer, or NULL. */
static void
set_other_generator_error (GError            **error,
                           HdDomain           *domain,
                           HdGenerator        *gen,
                           const char         *layer_name,
                           int                 length,
                           const HdConvLayer  *conv)
{
  gboolean names_known = domain->generator != NULL && gen->name != NULL &&
                         !g_str_equal (domain->generator, gen->name);

  if (conv == NULL && names_known)
    g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                 /* Translators: the domain’s file, the name of the generator it
                    was made for, the name of the loaded generator, a layer name
                    such as synthesis.b8.conv0, then the loaded generator’s file. */
                 _("“%s” was made for another generator (“%s”, not “%s”): "
                   "layer “%s” does not exist in “%s”"),
                 domain_file (domain), domain->generator, gen->name, layer_name,
                 generator_file (gen));
  else if (conv == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                 /* Translators: the domain’s file, the generator’s file, then a
                    layer name such as synthesis.b8.conv0. */
                 _("“%s” was made for another generator than “%s”: "
                   "layer “%s” does not exist in that generator"),
                 domain_file (domain), generator_file (gen), layer_name);
  else if (names_known)
    g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                 /* Translators: the domain’s file, the name of the generator it
                    was made for, the name of the loaded generator, a layer name
                    such as synthesis.b8.conv0, its number of values, the loaded
                    generator’s file, then the number of values it needs (the
                    input channels of that layer). */
                 _("“%s” was made for another generator (“%s”, not “%s”): "
                   "layer “%s” has %d values where “%s” needs %d"),
                 domain_file (domain), domain->generator, gen->name, layer_name, length,
                 generator_file (gen), conv->c_in);
  else
    g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                 /* Translators: the domain’s file, the generator’s file, a layer
                    name such as synthesis.b8.conv0, its number of values, then
                    the number of values the generator needs (the input channels
                    of that layer). */
                 _("“%s” was made for another generator than “%s”: "
                   "layer “%s” has %d values where that generator needs %d"),
                 domain_file (domain), generator_file (gen), layer_name, length, conv->c_in);
}

gboolean
hd_domain_check (HdDomain     *domain,
                 HdGenerator  *gen,
                 char        **warning,
                 GError      **error)
{
  g_autofree gpointer *names = NULL;
  guint n_names;

  g_return_val_if_fail (domain != NULL, FALSE);
  g_return_val_if_fail (gen != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (warning != NULL)
    *warning = NULL;

  /* Sorted, so that the first bad layer reported is always the same. */
  names = g_hash_table_get_keys_as_array (domain->layers, &n_names);
  qsort (names, n_names, sizeof (gpointer), compare_string_ptrs);

  for (guint i = 0; i < n_names; i++)
    {
      const char *layer_name = names[i];
      const HdDomainLayer *layer = g_hash_table_lookup (domain->layers, layer_name);
      const HdConvLayer *conv = hd_generator_find_conv (gen, layer_name);

      if (conv == NULL || layer->length != conv->c_in)
        {
          set_other_generator_error (error, domain, gen, layer_name, layer->length, conv);
          return FALSE;
        }
    }

  if (domain->style_w != NULL &&
      (domain->style_dim != gen->config.w_dim ||
       domain->style_from + domain->style_rows != gen->num_ws))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   /* Translators: the domain’s file, its number of style-latent rows,
                      their length, the first layer they replace, then the generator’s
                      file, its number of layers (w vectors) and w_dim. */
                   _("“%s” was made for another generator than “%s”: its style latents "
                     "are %d × %d from layer %d, where that generator takes %d layers "
                     "of %d"),
                   domain_file (domain), generator_file (gen), domain->style_rows,
                   domain->style_dim, domain->style_from, gen->num_ws, gen->config.w_dim);
      return FALSE;
    }

  if (warning != NULL && domain->generator != NULL && gen->name != NULL &&
      !g_str_equal (domain->generator, gen->name))
    *warning = g_strdup_printf (_("%s: the domain “%s” was made for the generator “%s”, "
                                  "but the generator “%s” is loaded; it may not look as intended"),
                                domain_file (domain), domain->name, domain->generator, gen->name);
  return TRUE;
}

static gboolean
term_covers (const HdBlendTerm *term,
             int                block_res)
{
  if (term->min_res > 0 && block_res < term->min_res)
    return FALSE;
  if (term->max_res > 0 && block_res > term->max_res)
    return FALSE;
  return TRUE;
}

void
hd_domain_blend (HdGenerator       *gen,
                 const HdBlendTerm *terms,
                 guint              n_terms,
                 float             *out)
{
  g_return_if_fail (gen != NULL);
  g_return_if_fail (terms != NULL || n_terms == 0);
  g_return_if_fail (out != NULL);

  memset (out, 0, sizeof (float) * (gsize) gen->domain_dim);
  for (guint t = 0; t < n_terms; t++)
    {
      const HdBlendTerm *term = &terms[t];

      g_return_if_fail (term->domain != NULL);
      for (int c = 0; c < gen->n_convs; c++)
        {
          const HdConvLayer *conv = &gen->convs[c];
          const HdDomainLayer *layer;
          float *dst = out + conv->domain_offset;

          if (!term_covers (term, conv->block_res))
            continue;
          layer = g_hash_table_lookup (term->domain->layers, conv->name);
          if (layer == NULL)
            continue;
          if (layer->length != conv->c_in)
            {
              g_critical ("hd_domain_blend: layer %s of %s has %d values, not %d; "
                          "hd_domain_check was not called",
                          conv->name, term->domain->path, layer->length, conv->c_in);
              continue;
            }
          for (int i = 0; i < conv->c_in; i++)
            dst[i] += term->weight * layer->values[i];
        }
    }
}

/* The resolution of the block whose first conv reads w_K (the ToRGB
 * layer's block for a w only a ToRGB reads). */
static int
w_block_res (HdGenerator *gen,
             int          k)
{
  for (int c = 0; c < gen->n_convs; c++)
    if (gen->convs[c].w_index == k)
      return gen->convs[c].block_res;
  for (int b = 0; b < gen->n_rgbs; b++)
    if (gen->rgbs[b].w_index == k)
      return gen->rgbs[b].block_res;
  return 0;
}

gboolean
hd_domain_blend_style (HdGenerator       *gen,
                       const HdBlendTerm *terms,
                       guint              n_terms,
                       float             *alpha,
                       float             *sum)
{
  int w_dim = gen->config.w_dim;
  gboolean any = FALSE;

  g_return_val_if_fail (gen != NULL, FALSE);
  g_return_val_if_fail (terms != NULL || n_terms == 0, FALSE);
  g_return_val_if_fail (alpha != NULL && sum != NULL, FALSE);

  for (guint t = 0; t < n_terms && !any; t++)
    any = terms[t].domain->style_w != NULL;
  if (!any)
    return FALSE;

  memset (alpha, 0, sizeof (float) * (gsize) gen->num_ws);
  memset (sum, 0, sizeof (float) * (gsize) gen->num_ws * w_dim);
  for (guint t = 0; t < n_terms; t++)
    {
      const HdBlendTerm *term = &terms[t];
      const HdDomain *domain = term->domain;

      if (domain->style_w == NULL)
        continue;
      if (domain->style_dim != w_dim || domain->style_from + domain->style_rows != gen->num_ws)
        {
          g_critical ("hd_domain_blend_style: the style latents of %s do not fit; "
                      "hd_domain_check was not called", domain->path);
          continue;
        }
      for (int r = 0; r < domain->style_rows; r++)
        {
          int k = domain->style_from + r;
          const float *src = domain->style_w + (gsize) r * w_dim;
          float *dst = sum + (gsize) k * w_dim;

          if (!term_covers (term, w_block_res (gen, k)))
            continue;
          alpha[k] += term->weight;
          for (int j = 0; j < w_dim; j++)
            dst[j] += term->weight * src[j];
        }
    }
  return TRUE;
}
