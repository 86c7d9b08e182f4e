/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-file.h"
#include "hd-half.h"
#include "hd-safetensors.h"

/* Limits beyond which a file is refused before anything is allocated
 * for it: a header above 100 MB or nested deeper than 64 levels is not a
 * model, it is a way to exhaust memory or the stack of the JSON parser. */
#define MAX_HEADER_BYTES   (100 * 1000 * 1000)
#define MAX_JSON_DEPTH     64
#define MAX_TENSORS        100000
#define MAX_NAME_BYTES     1024
#define METADATA_KEY       "__metadata__"

struct _HdSafetensors {
  char        *path;         /* as given, or the display name */
  GBytes      *bytes;        /* the whole file; keeps the mapping alive */
  const guint8 *data;        /* start of the data area */
  gsize        data_size;
  HdTensor    *tensors;      /* sorted by data offset */
  guint        n_tensors;
  GHashTable  *by_name;      /* name -> HdTensor* */
  GHashTable  *metadata;     /* key -> value */
  char       **metadata_keys;
  HdSafetensorsFlags flags;
};

static const char *
dtype_name (HdDtype dtype)
{
  switch (dtype)
    {
    case HD_DTYPE_F32:
      return "F32";
    case HD_DTYPE_F16:
      return "F16";
    case HD_DTYPE_BF16:
      return "BF16";
    case HD_DTYPE_U8:
      return "U8";
    case HD_DTYPE_I64:
      return "I64";
    default:
      return "?";
    }
}

static gsize
dtype_size (HdDtype dtype)
{
  switch (dtype)
    {
    case HD_DTYPE_F32:
      return 4;
    case HD_DTYPE_U8:
      return 1;
    case HD_DTYPE_I64:
      return 8;
    default:
      return 2;
    }
}

static gboolean
dtype_from_name (const char         *name,
                 HdSafetensorsFlags  flags,
                 HdDtype            *dtype)
{
  if ((flags & HD_SAFETENSORS_ALLOW_INTEGERS) && g_str_equal (name, "U8"))
    *dtype = HD_DTYPE_U8;
  else if ((flags & HD_SAFETENSORS_ALLOW_INTEGERS) && g_str_equal (name, "I64"))
    *dtype = HD_DTYPE_I64;
  else if (g_str_equal (name, "F32"))
    *dtype = HD_DTYPE_F32;
  else if (g_str_equal (name, "F16"))
    *dtype = HD_DTYPE_F16;
  else if (g_str_equal (name, "BF16"))
    *dtype = HD_DTYPE_BF16;
  else
    return FALSE;
  return TRUE;
}

char *
hd_shape_to_string (const gint64 *shape,
                    guint         n_dims)
{
  GString *str = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (str, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (str, ']');
  return g_string_free (str, FALSE);
}

static void
safetensors_clear (gpointer data)
{
  HdSafetensors *st = data;

  for (guint i = 0; i < st->n_tensors; i++)
    g_free ((char *) st->tensors[i].name);
  g_free (st->tensors);
  g_clear_pointer (&st->by_name, g_hash_table_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st->metadata_keys);
  g_clear_pointer (&st->bytes, g_bytes_unref);
  g_free (st->path);
}

HdSafetensors *
hd_safetensors_ref (HdSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);

  return g_atomic_rc_box_acquire (st);
}

void
hd_safetensors_unref (HdSafetensors *st)
{
  g_return_if_fail (st != NULL);

  g_atomic_rc_box_release_full (st, safetensors_clear);
}

/* The JSON nesting depth, counted over brackets outside strings, so that
 * a deeply nested header is refused before a recursive parser sees it. */
static guint
json_max_depth (const char *text,
                gsize       length)
{
  gboolean in_string = FALSE;
  guint depth = 0, max_depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          depth++;
          max_depth = MAX (max_depth, depth);
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
  return max_depth;
}

/* A JSON integer >= 0 (floats such as 1.0 are refused). */
static gboolean
node_get_uint64 (JsonNode *node,
                 guint64  *value)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *value = (guint64) v;
  return TRUE;
}

static gboolean
parse_metadata (HdSafetensors  *st,
                JsonNode       *node,
                GPtrArray      *keys,
                GError        **error)
{
  JsonObject *object;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      hd_set_format_error (error, st->path,
                           /* Translators: %s is __metadata__, the metadata entry of a
                              safetensors header. */
                           _("“%s” is not a JSON object"), METADATA_KEY);
      return FALSE;
    }
  object = json_node_get_object (node);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *value = json_object_get_member (object, key);

      if (!JSON_NODE_HOLDS_VALUE (value) ||
          json_node_get_value_type (value) != G_TYPE_STRING)
        {
          hd_set_format_error (error, st->path,
                            _("metadata value of “%s” is not a string"), key);
          return FALSE;
        }
      if (!g_hash_table_contains (st->metadata, key))
        {
          char *owned_key = g_strdup (key);

          g_hash_table_insert (st->metadata, owned_key,
                               g_strdup (json_node_get_string (value)));
          g_ptr_array_add (keys, owned_key);
        }
    }
  return TRUE;
}

static gboolean
parse_tensor (HdSafetensors  *st,
              const char     *name,
              JsonNode       *node,
              HdTensor       *tensor,
              guint64        *begin_out,
              GError        **error)
{
  JsonObject *object;
  JsonNode *member;
  JsonArray *array;
  const char *dtype_str;
  guint64 n_elements = 1, n_bytes, begin, end;

  if (strlen (name) == 0 || strlen (name) > MAX_NAME_BYTES)
    {
      hd_set_format_error (error, st->path, _("a tensor name is empty or longer than %d bytes"),
                        MAX_NAME_BYTES);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      hd_set_format_error (error, st->path, _("entry of tensor “%s” is not a JSON object"), name);
      return FALSE;
    }
  object = json_node_get_object (node);

  member = json_object_get_member (object, "dtype");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    {
      hd_set_format_error (error, st->path, _("tensor “%s” has no dtype string"), name);
      return FALSE;
    }
  dtype_str = json_node_get_string (member);
  if (!dtype_from_name (dtype_str, st->flags, &tensor->dtype))
    {
      if (st->flags & HD_SAFETENSORS_ALLOW_INTEGERS)
        hd_set_format_error (error, st->path,
                             _("tensor “%s” has dtype %s; only F32, F16, BF16, U8 and I64 are supported"),
                             name, dtype_str);
      else
        hd_set_format_error (error, st->path,
                             _("tensor “%s” has dtype %s; only F32, F16 and BF16 are supported"),
                             name, dtype_str);
      return FALSE;
    }

  member = json_object_get_member (object, "shape");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    {
      hd_set_format_error (error, st->path, _("tensor “%s” has no shape array"), name);
      return FALSE;
    }
  array = json_node_get_array (member);
  if (json_array_get_length (array) > HD_TENSOR_MAX_DIMS)
    {
      hd_set_format_error (error, st->path,
                        _("tensor “%s” has %u dimensions; at most %d are supported"),
                        name, json_array_get_length (array), HD_TENSOR_MAX_DIMS);
      return FALSE;
    }
  tensor->n_dims = json_array_get_length (array);
  for (guint i = 0; i < tensor->n_dims; i++)
    {
      guint64 dim;

      if (!node_get_uint64 (json_array_get_element (array, i), &dim))
        {
          hd_set_format_error (error, st->path,
                            _("tensor “%s” has a shape entry that is not a non-negative integer"),
                            name);
          return FALSE;
        }
      tensor->shape[i] = (gint64) dim;
      if (!g_uint64_checked_mul (&n_elements, n_elements, dim) ||
          n_elements > G_MAXSIZE)
        {
          hd_set_format_error (error, st->path,
                            _("tensor “%s” has a shape whose size overflows"), name);
          return FALSE;
        }
    }

  member = json_object_get_member (object, "data_offsets");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member) ||
      json_array_get_length (json_node_get_array (member)) != 2 ||
      !node_get_uint64 (json_array_get_element (json_node_get_array (member), 0), &begin) ||
      !node_get_uint64 (json_array_get_element (json_node_get_array (member), 1), &end))
    {
      hd_set_format_error (error, st->path,
                        _("tensor “%s” has no data_offsets pair of non-negative integers"),
                        name);
      return FALSE;
    }
  if (begin > end || end > st->data_size)
    {
      hd_set_format_error (error, st->path,
                        _("tensor “%s” has data_offsets [%llu, %llu] "
                          "outside the data area of %zu bytes"),
                        name, (unsigned long long) begin, (unsigned long long) end, st->data_size);
      return FALSE;
    }
  if (!g_uint64_checked_mul (&n_bytes, n_elements, dtype_size (tensor->dtype)) ||
      n_bytes != end - begin)
    {
      g_autofree char *shape = hd_shape_to_string (tensor->shape, tensor->n_dims);

      hd_set_format_error (error, st->path,
                        _("tensor “%s” has %llu bytes of data, but dtype %s "
                          "and shape %s need %llu × %zu"),
                        name, (unsigned long long) (end - begin), dtype_str, shape,
                        (unsigned long long) n_elements,
                        dtype_size (tensor->dtype));
      return FALSE;
    }

  tensor->name = g_strdup (name);
  tensor->n_elements = (gsize) n_elements;
  tensor->n_bytes = (gsize) n_bytes;
  tensor->data = st->data + begin;
  *begin_out = begin;
  return TRUE;
}

typedef struct {
  guint64 begin;
  guint   index;
} TensorOrder;

static int
compare_tensor_order (gconstpointer a,
                      gconstpointer b)
{
  const TensorOrder *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return (int) x->index - (int) y->index;
}

/* Sorts the tensors by offset and checks that they tile the data area:
 * no overlap, no gap, nothing left over. */
static gboolean
check_coverage (HdSafetensors  *st,
                HdTensor       *unsorted,
                guint64        *begins,
                GError        **error)
{
  g_autofree TensorOrder *order = g_new (TensorOrder, MAX (st->n_tensors, 1));
  guint64 pos = 0;
  const char *previous = NULL;

  for (guint i = 0; i < st->n_tensors; i++)
    {
      order[i].begin = begins[i];
      order[i].index = i;
    }
  qsort (order, st->n_tensors, sizeof *order, compare_tensor_order);

  st->tensors = g_new0 (HdTensor, MAX (st->n_tensors, 1));
  for (guint i = 0; i < st->n_tensors; i++)
    st->tensors[i] = unsorted[order[i].index];

  for (guint i = 0; i < st->n_tensors; i++)
    {
      const HdTensor *t = &st->tensors[i];
      guint64 begin = order[i].begin;

      if (begin < pos)
        {
          hd_set_format_error (error, st->path, _("tensors “%s” and “%s” overlap"),
                            previous, t->name);
          return FALSE;
        }
      if (begin > pos)
        {
          hd_set_format_error (error, st->path,
                            _("bytes %llu to %llu"
                              " of the data area belong to no tensor (a gap before “%s”)"),
                            (unsigned long long) pos, (unsigned long long) begin, t->name);
          return FALSE;
        }
      pos = begin + t->n_bytes;
      previous = t->name;
    }
  if (pos != st->data_size)
    {
      hd_set_format_error (error, st->path,
                        _("the data area has %zu bytes but the tensors cover "
                          "only %llu (trailing bytes)"),
                        st->data_size, (unsigned long long) pos);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_header (HdSafetensors  *st,
              const char     *header,
              gsize           header_len,
              GError        **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) json_error = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  g_autoptr(GList) members = NULL;
  g_autofree HdTensor *unsorted = NULL;
  g_autofree guint64 *begins = NULL;
  JsonNode *root;
  JsonObject *object;
  guint n_entries, n = 0;
  gboolean ok = TRUE;

  if (!g_utf8_validate_len (header, header_len, NULL))
    {
      hd_set_format_error (error, st->path, _("the JSON header is not valid UTF-8 text"));
      return FALSE;
    }
  if (json_max_depth (header, header_len) > MAX_JSON_DEPTH)
    {
      hd_set_format_error (error, st->path, _("the JSON header is nested deeper than %d levels"),
                        MAX_JSON_DEPTH);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, header, (gssize) header_len, &json_error))
    {
      hd_set_format_error (error, st->path, _("the JSON header does not parse: %s"),
                        json_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      hd_set_format_error (error, st->path, _("the JSON header is not an object"));
      return FALSE;
    }
  object = json_node_get_object (root);
  n_entries = json_object_get_size (object);
  if (n_entries - (json_object_has_member (object, METADATA_KEY) ? 1 : 0) > MAX_TENSORS)
    {
      hd_set_format_error (error, st->path, _("the file has %u tensors; at most %d are supported"),
                        n_entries, MAX_TENSORS);
      return FALSE;
    }

  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  unsorted = g_new0 (HdTensor, MAX (n_entries, 1));
  begins = g_new0 (guint64, MAX (n_entries, 1));

  members = json_object_get_members (object);
  for (GList *l = members; l != NULL && ok; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (object, name);

      if (g_str_equal (name, METADATA_KEY))
        ok = parse_metadata (st, node, keys, error);
      else if (parse_tensor (st, name, node, &unsorted[n], &begins[n], error))
        n++;
      else
        ok = FALSE;
    }
  g_ptr_array_add (keys, NULL);
  /* The strings belong to st->metadata. */
  st->metadata_keys = (char **) g_ptr_array_free (g_steal_pointer (&keys), FALSE);

  if (!ok)
    {
      for (guint i = 0; i < n; i++)
        g_free ((char *) unsorted[i].name);
      return FALSE;
    }

  st->n_tensors = n;
  if (!check_coverage (st, unsorted, begins, error))
    return FALSE;
  for (guint i = 0; i < st->n_tensors; i++)
    g_hash_table_insert (st->by_name, (char *) st->tensors[i].name, &st->tensors[i]);
  return TRUE;
}

HdSafetensors *
hd_safetensors_new_from_bytes (GBytes      *bytes,
                               const char  *display_name,
                               GError     **error)
{
  return hd_safetensors_new_from_bytes_full (bytes, display_name, HD_SAFETENSORS_FLOATS_ONLY, error);
}

HdSafetensors *
hd_safetensors_new_from_bytes_full (GBytes              *bytes,
                                    const char          *display_name,
                                    HdSafetensorsFlags   flags,
                                    GError             **error)
{
  g_autoptr(HdSafetensors) st = NULL;
  const guint8 *contents;
  gsize size;
  guint64 header_len;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (display_name == NULL)
    display_name = "(memory)";
  st = g_atomic_rc_box_new0 (HdSafetensors);
  st->path = g_strdup (display_name);
  st->flags = flags;
  st->bytes = g_bytes_ref (bytes);
  contents = g_bytes_get_data (bytes, &size);

  if (size == 0)
    {
      hd_set_format_error (error, st->path, _("the file is empty"));
      return NULL;
    }
  if (size < 8)
    {
      hd_set_format_error (error, st->path,
                        _("the file is too short (%zu bytes) for a safetensors header"),
                        size);
      return NULL;
    }
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > size - 8)
    {
      hd_set_format_error (error, st->path,
                        _("the header length %llu is larger than the file "
                          "(%zu bytes); the file is truncated or not a safetensors file"),
                        (unsigned long long) header_len, size);
      return NULL;
    }
  if (header_len > MAX_HEADER_BYTES)
    {
      hd_set_format_error (error, st->path,
                        _("the header length %llu is above the limit of 100 MB"),
                        (unsigned long long) header_len);
      return NULL;
    }
  st->data = contents + 8 + header_len;
  st->data_size = size - 8 - (gsize) header_len;

  if (!parse_header (st, (const char *) contents + 8, (gsize) header_len, error))
    return NULL;
  return g_steal_pointer (&st);
}

HdSafetensors *
hd_safetensors_open (const char  *path,
                     GError     **error)
{
  return hd_safetensors_open_full (path, HD_SAFETENSORS_FLOATS_ONLY, error);
}

HdSafetensors *
hd_safetensors_open_full (const char          *path,
                          HdSafetensorsFlags   flags,
                          GError             **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Not g_mapped_file_new (): its open () would block for ever on a FIFO
   * without a writer. */
  name = g_filename_display_name (path);
  fd = hd_file_open_regular (path, name, NULL, error);
  if (fd < 0)
    return NULL;
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  close (fd); /* the mapping does not need it */
  if (mapped == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("%s: cannot read the file: %s"),
                   path, local_error->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  return hd_safetensors_new_from_bytes_full (bytes, path, flags, error);
}

const char *
hd_safetensors_get_path (HdSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);

  return st->path;
}

guint
hd_safetensors_get_n_tensors (HdSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);

  return st->n_tensors;
}

const HdTensor *
hd_safetensors_get_tensor (HdSafetensors *st,
                           guint          index)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (index < st->n_tensors, NULL);

  return &st->tensors[index];
}

const HdTensor *
hd_safetensors_lookup (HdSafetensors *st,
                       const char    *name)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (st->by_name, name);
}

const char *
hd_safetensors_get_metadata (HdSafetensors *st,
                             const char    *key)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (st->metadata, key);
}

const char **
hd_safetensors_get_metadata_keys (HdSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);

  return (const char **) st->metadata_keys;
}

/* Little-endian loads that do not assume any alignment. */
static inline guint16
load_u16 (const guint8 *p)
{
  guint16 v;

  memcpy (&v, p, sizeof v);
  return GUINT16_FROM_LE (v);
}

static inline guint32
load_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_LE (v);
}

void
hd_tensor_to_f32 (const HdTensor *tensor,
                  float          *out)
{
  const guint8 *p;
  gsize n;

  g_return_if_fail (tensor != NULL);
  g_return_if_fail (out != NULL || tensor->n_elements == 0);

  p = tensor->data;
  n = tensor->n_elements;
  switch (tensor->dtype)
    {
    case HD_DTYPE_F32:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      if (n > 0)
        memcpy (out, p, n * sizeof (float));
#else
      for (gsize i = 0; i < n; i++)
        {
          guint32 bits = load_u32 (p + 4 * i);
          memcpy (&out[i], &bits, sizeof bits);
        }
#endif
      break;
    case HD_DTYPE_F16:
      for (gsize i = 0; i < n; i++)
        out[i] = hd_half_to_float (load_u16 (p + 2 * i));
      break;
    case HD_DTYPE_BF16:
      for (gsize i = 0; i < n; i++)
        out[i] = hd_bf16_to_float (load_u16 (p + 2 * i));
      break;
    default:
      g_return_if_reached ();
    }
}

gboolean
hd_tensor_is_finite (const HdTensor *tensor)
{
  const guint8 *p;

  g_return_val_if_fail (tensor != NULL, FALSE);

  p = tensor->data;
  switch (tensor->dtype)
    {
    case HD_DTYPE_F32:
      for (gsize i = 0; i < tensor->n_elements; i++)
        if ((load_u32 (p + 4 * i) & 0x7f800000u) == 0x7f800000u)
          return FALSE;
      return TRUE;
    case HD_DTYPE_F16:
      for (gsize i = 0; i < tensor->n_elements; i++)
        if ((load_u16 (p + 2 * i) & 0x7c00u) == 0x7c00u)
          return FALSE;
      return TRUE;
    case HD_DTYPE_BF16:
      for (gsize i = 0; i < tensor->n_elements; i++)
        if ((load_u16 (p + 2 * i) & 0x7f80u) == 0x7f80u)
          return FALSE;
      return TRUE;
    case HD_DTYPE_U8:
    case HD_DTYPE_I64:
      return TRUE;
    default:
      g_return_val_if_reached (FALSE);
    }
}

/* Writer */

typedef struct {
  char    *name;
  HdDtype  dtype;
  guint    n_dims;
  gint64   shape[HD_TENSOR_MAX_DIMS];
  guint8  *data;
  gsize    n_bytes;
} WriterTensor;

struct _HdSafetensorsWriter {
  GPtrArray  *tensors;        /* WriterTensor*, in the order added */
  GHashTable *tensor_names;   /* set of names, to refuse duplicates */
  GPtrArray  *metadata_keys;  /* in the order first set */
  GHashTable *metadata;       /* key -> value */
};

static void
writer_tensor_free (gpointer data)
{
  WriterTensor *t = data;

  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

HdSafetensorsWriter *
hd_safetensors_writer_new (void)
{
  HdSafetensorsWriter *writer = g_new0 (HdSafetensorsWriter, 1);

  writer->tensors = g_ptr_array_new_with_free_func (writer_tensor_free);
  writer->tensor_names = g_hash_table_new (g_str_hash, g_str_equal);
  writer->metadata_keys = g_ptr_array_new_with_free_func (g_free);
  writer->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  return writer;
}

void
hd_safetensors_writer_free (HdSafetensorsWriter *writer)
{
  if (writer == NULL)
    return;
  g_hash_table_unref (writer->metadata);
  g_ptr_array_unref (writer->metadata_keys);
  g_hash_table_unref (writer->tensor_names);
  g_ptr_array_unref (writer->tensors);
  g_free (writer);
}

void
hd_safetensors_writer_set_metadata (HdSafetensorsWriter *writer,
                                    const char          *key,
                                    const char          *value)
{
  char *owned_key;

  g_return_if_fail (writer != NULL);
  g_return_if_fail (key != NULL && value != NULL);

  if (!g_hash_table_lookup_extended (writer->metadata, key, (gpointer *) &owned_key, NULL))
    {
      owned_key = g_strdup (key);
      g_ptr_array_add (writer->metadata_keys, owned_key);
    }
  g_hash_table_insert (writer->metadata, owned_key, g_strdup (value));
}

void
hd_safetensors_writer_add_f32 (HdSafetensorsWriter *writer,
                               const char          *name,
                               HdDtype              dtype,
                               const gint64        *shape,
                               guint                n_dims,
                               const float         *data)
{
  WriterTensor *t;
  gsize n = 1;

  g_return_if_fail (writer != NULL);
  g_return_if_fail (name != NULL && !g_str_equal (name, METADATA_KEY));
  g_return_if_fail (n_dims <= HD_TENSOR_MAX_DIMS);
  g_return_if_fail (shape != NULL || n_dims == 0);
  g_return_if_fail (dtype == HD_DTYPE_F32 || dtype == HD_DTYPE_F16 || dtype == HD_DTYPE_BF16);
  g_return_if_fail (!g_hash_table_contains (writer->tensor_names, name));

  for (guint i = 0; i < n_dims; i++)
    {
      g_return_if_fail (shape[i] >= 0);
      n *= (gsize) shape[i];
    }
  g_return_if_fail (data != NULL || n == 0);

  t = g_new0 (WriterTensor, 1);
  t->name = g_strdup (name);
  t->dtype = dtype;
  t->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++)
    t->shape[i] = shape[i];
  t->n_bytes = n * dtype_size (dtype);
  t->data = g_malloc (MAX (t->n_bytes, 1));
  for (gsize i = 0; i < n; i++)
    {
      if (dtype == HD_DTYPE_F32)
        {
          guint32 bits;

          memcpy (&bits, &data[i], sizeof bits);
          bits = GUINT32_TO_LE (bits);
          memcpy (t->data + 4 * i, &bits, sizeof bits);
        }
      else
        {
          guint16 bits = dtype == HD_DTYPE_F16 ? hd_float_to_half (data[i])
                                               : hd_float_to_bf16 (data[i]);
          bits = GUINT16_TO_LE (bits);
          memcpy (t->data + 2 * i, &bits, sizeof bits);
        }
    }
  g_ptr_array_add (writer->tensors, t);
  g_hash_table_add (writer->tensor_names, t->name);
}

void
hd_safetensors_writer_add_u8 (HdSafetensorsWriter *writer,
                              const char          *name,
                              const guint8        *data,
                              gsize                n)
{
  WriterTensor *t;

  g_return_if_fail (writer != NULL);
  g_return_if_fail (name != NULL && !g_str_equal (name, METADATA_KEY));
  g_return_if_fail (!g_hash_table_contains (writer->tensor_names, name));

  t = g_new0 (WriterTensor, 1);
  t->name = g_strdup (name);
  t->dtype = HD_DTYPE_U8;
  t->n_dims = 1;
  t->shape[0] = (gint64) n;
  t->n_bytes = n;
  t->data = g_malloc (MAX (n, 1));
  if (n > 0)
    memcpy (t->data, data, n);
  g_ptr_array_add (writer->tensors, t);
  g_hash_table_add (writer->tensor_names, t->name);
}

static char *
writer_header_json (HdSafetensorsWriter *writer)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  guint64 offset = 0;

  json_builder_begin_object (builder);
  if (writer->metadata_keys->len > 0)
    {
      json_builder_set_member_name (builder, METADATA_KEY);
      json_builder_begin_object (builder);
      for (guint i = 0; i < writer->metadata_keys->len; i++)
        {
          const char *key = g_ptr_array_index (writer->metadata_keys, i);

          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, g_hash_table_lookup (writer->metadata, key));
        }
      json_builder_end_object (builder);
    }
  for (guint i = 0; i < writer->tensors->len; i++)
    {
      WriterTensor *t = g_ptr_array_index (writer->tensors, i);

      json_builder_set_member_name (builder, t->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, dtype_name (t->dtype));
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (guint d = 0; d < t->n_dims; d++)
        json_builder_add_int_value (builder, t->shape[d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, (gint64) offset);
      json_builder_add_int_value (builder, (gint64) (offset + t->n_bytes));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      offset += t->n_bytes;
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

GBytes *
hd_safetensors_writer_to_bytes (HdSafetensorsWriter *writer)
{
  g_autofree char *json = NULL;
  GByteArray *out;
  gsize json_len, header_len;
  guint64 header_len_le;

  g_return_val_if_fail (writer != NULL, NULL);

  json = writer_header_json (writer);
  json_len = strlen (json);
  /* Pad with spaces so that the data area starts 8-byte aligned. */
  header_len = (json_len + 7) & ~(gsize) 7;
  header_len_le = GUINT64_TO_LE ((guint64) header_len);

  out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) &header_len_le, 8);
  g_byte_array_append (out, (const guint8 *) json, json_len);
  for (gsize i = json_len; i < header_len; i++)
    g_byte_array_append (out, (const guint8 *) " ", 1);
  for (guint i = 0; i < writer->tensors->len; i++)
    {
      WriterTensor *t = g_ptr_array_index (writer->tensors, i);
      g_byte_array_append (out, t->data, t->n_bytes);
    }
  return g_byte_array_free_to_bytes (out);
}

gboolean
hd_safetensors_writer_write (HdSafetensorsWriter  *writer,
                             const char           *path,
                             GError              **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize size;
  const char *data;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  bytes = hd_safetensors_writer_to_bytes (writer);
  data = g_bytes_get_data (bytes, &size);
  /* Writes a temporary file beside PATH and renames it over PATH. */
  if (!g_file_set_contents_full (path, data, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local_error))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("%s: cannot write the file: %s"),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
hd_safetensors_check_version (HdSafetensors  *st,
                              const char     *file,
                              GError        **error)
{
  const char *version = hd_safetensors_get_metadata (st, "hyperdomain.version");

  if (version != NULL && g_str_equal (version, "1"))
    return TRUE;
  g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
               /* Translators: a file name, then the version found in its metadata, in
                  quotes, or “(missing)”. */
               _("%s: hyperdomain.version %s%s%s is not supported (only version 1 is)"),
               file, version ? "“" : "", version ? version : _("(missing)"), version ? "”" : "");
  return FALSE;
}
