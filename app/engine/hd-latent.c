/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-latent.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-file.h"

/* ------------------------------------------------------------------------ */
/* Mersenne Twister MT19937 and the legacy NumPy normal distribution        */
/* (spec/generator-math.md §1).                                             */

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER_MASK 0x80000000U
#define MT_LOWER_MASK 0x7fffffffU

typedef HdRandomState HdMt;

static void
hd_mt_init (HdMt    *state,
            guint32  seed)
{
  state->mt[0] = seed;
  for (guint i = 1; i < MT_N; i++)
    {
      guint32 prev = state->mt[i - 1];
      state->mt[i] = 1812433253U * (prev ^ (prev >> 30)) + (guint32) i;
    }
  state->index = MT_N;
  state->has_gauss = FALSE;
  state->gauss = 0.0;
}

static void
hd_mt_refill (HdMt *state)
{
  for (guint k = 0; k < MT_N; k++)
    {
      guint32 y = (state->mt[k] & MT_UPPER_MASK) |
                  (state->mt[(k + 1) % MT_N] & MT_LOWER_MASK);
      guint32 next = state->mt[(k + MT_M) % MT_N] ^ (y >> 1);

      if (y & 1U)
        next ^= MT_MATRIX_A;
      state->mt[k] = next;
    }
  state->index = 0;
}

static guint32
hd_mt_next_u32 (HdMt *state)
{
  guint32 y;

  if (state->index >= MT_N)
    hd_mt_refill (state);
  y = state->mt[state->index++];

  /* Tempering */
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

/* A double in [0, 1) with 53 random bits, from two 32-bit outputs. */
static double
hd_mt_next_double (HdMt *state)
{
  guint32 a = hd_mt_next_u32 (state) >> 5;
  guint32 b = hd_mt_next_u32 (state) >> 6;

  return ((double) a * 67108864.0 + (double) b) / 9007199254740992.0;
}

/* Polar Box-Muller; each accepted pair yields two normals, the second is
 * kept for the next call. */
static double
hd_mt_next_gauss (HdMt *state)
{
  double x1, x2, r2, f;

  if (state->has_gauss)
    {
      state->has_gauss = FALSE;
      return state->gauss;
    }

  do
    {
      x1 = 2.0 * hd_mt_next_double (state) - 1.0;
      x2 = 2.0 * hd_mt_next_double (state) - 1.0;
      r2 = x1 * x1 + x2 * x2;
    }
  while (r2 >= 1.0 || r2 == 0.0);

  f = sqrt (-2.0 * log (r2) / r2);
  state->gauss = f * x1;
  state->has_gauss = TRUE;
  return f * x2;
}

/* The first N values of numpy's RandomState(SEED).randn into OUT_F64, or
 * rounded to float into OUT_F32 when OUT_F64 is NULL. */
static void
randn_fill (guint32  seed,
            double  *out_f64,
            float   *out_f32,
            gsize    n)
{
  HdMt state;

  hd_mt_init (&state, seed);
  for (gsize i = 0; i < n; i++)
    {
      double x = hd_mt_next_gauss (&state);

      if (out_f64 != NULL)
        out_f64[i] = x;
      else
        out_f32[i] = (float) x;
    }
}

void
hd_randn (guint32  seed,
          double  *out,
          gsize    n)
{
  randn_fill (seed, out, NULL, n);
}

void
hd_randn_f32 (guint32  seed,
              float   *out,
              gsize    n)
{
  randn_fill (seed, NULL, out, n);
}

void
hd_random_state_init (HdRandomState *state,
                      guint32        seed)
{
  hd_mt_init (state, seed);
}

double
hd_random_state_double (HdRandomState *state)
{
  return hd_mt_next_double (state);
}

double
hd_random_state_gauss (HdRandomState *state)
{
  return hd_mt_next_gauss (state);
}

/* ------------------------------------------------------------------------ */
/* .npy files                                                               */

/* Copies the little-endian number of SIZE bytes at P (not necessarily
 * aligned) to DEST in the byte order of this machine. */
static void
load_le (void         *dest,
         const guint8 *p,
         gsize         size)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dest, p, size);
#else
  for (gsize b = 0; b < size; b++)
    ((guint8 *) dest)[b] = p[size - 1 - b];
#endif
}

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER (1024 * 1024)
#define NPY_MAX_ELEMENTS ((guint64) 1 << 28)
#define NPY_ALIGN 64
#define NPY_MAX_DIMS 8u

G_STATIC_ASSERT (G_N_ELEMENTS (((HdNpy *) NULL)->shape) == NPY_MAX_DIMS);

/* A minimal reader of the Python dict literal that .npy headers hold, e.g.
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 32, 32), } */
typedef struct {
  const char *p;
  const char *end;
} NpyLexer;

static void
npy_skip_space (NpyLexer *lx)
{
  while (lx->p < lx->end &&
         (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
    lx->p++;
}

static gboolean
npy_accept (NpyLexer *lx,
            char      c)
{
  npy_skip_space (lx);
  if (lx->p < lx->end && *lx->p == c)
    {
      lx->p++;
      return TRUE;
    }
  return FALSE;
}

/* A quoted string without escapes (none of the values we accept need any).
 * Returns NULL when there is no string here. */
static char *
npy_parse_string (NpyLexer *lx)
{
  const char *start;
  char quote;

  npy_skip_space (lx);
  if (lx->p >= lx->end || (*lx->p != '\'' && *lx->p != '"'))
    return NULL;
  quote = *lx->p++;
  start = lx->p;
  while (lx->p < lx->end && *lx->p != quote)
    {
      if (*lx->p == '\\' || *lx->p == '\n' || *lx->p == '\0')
        return NULL;
      lx->p++;
    }
  if (lx->p >= lx->end)
    return NULL;
  lx->p++;
  return g_strndup (start, (gsize) (lx->p - 1 - start));
}

static gboolean
npy_accept_word (NpyLexer   *lx,
                 const char *word)
{
  gsize len = strlen (word);

  npy_skip_space (lx);
  if ((gsize) (lx->end - lx->p) >= len && memcmp (lx->p, word, len) == 0)
    {
      const char *after = lx->p + len;
      if (after < lx->end && (g_ascii_isalnum (*after) || *after == '_'))
        return FALSE;
      lx->p = after;
      return TRUE;
    }
  return FALSE;
}

/* A non-negative integer; an 'L' suffix (files written by Python 2) is
 * allowed.  Values above G_MAXINT64 are an error. */
static gboolean
npy_parse_dim (NpyLexer *lx,
               gint64   *out)
{
  guint64 value = 0;
  gboolean any = FALSE;

  npy_skip_space (lx);
  while (lx->p < lx->end && g_ascii_isdigit (*lx->p))
    {
      guint digit = (guint) (*lx->p - '0');
      if (value > ((guint64) G_MAXINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
      any = TRUE;
      lx->p++;
    }
  if (!any)
    return FALSE;
  if (lx->p < lx->end && (*lx->p == 'L' || *lx->p == 'l'))
    lx->p++;
  *out = (gint64) value;
  return TRUE;
}

typedef struct {
  char     *descr;
  gboolean  has_fortran_order;
  gboolean  fortran_order;
  gboolean  has_shape;
  guint     n_dims;
  gint64    shape[NPY_MAX_DIMS];
} NpyHeader;

static gboolean
npy_parse_shape (NpyLexer    *lx,
                 NpyHeader   *header,
                 const char  *name,
                 GError     **error)
{
  if (!npy_accept (lx, '('))
    {
      hd_set_format_error (error, name, _("the shape in the header is not a tuple"));
      return FALSE;
    }
  header->n_dims = 0;
  if (npy_accept (lx, ')'))
    return TRUE;
  for (;;)
    {
      gint64 dim;

      npy_skip_space (lx);
      if (lx->p < lx->end && *lx->p == '-')
        {
          hd_set_format_error (error, name, _("the shape has a negative dimension"));
          return FALSE;
        }
      if (!npy_parse_dim (lx, &dim))
        {
          hd_set_format_error (error, name,
                     _("the shape in the header is not a tuple of "
                       "non-negative integers"));
          return FALSE;
        }
      if (header->n_dims >= NPY_MAX_DIMS)
        {
          hd_set_format_error (error, name,
                     _("arrays with more than %u dimensions are not supported"),
                     NPY_MAX_DIMS);
          return FALSE;
        }
      header->shape[header->n_dims++] = dim;
      if (npy_accept (lx, ')'))
        {
          /* Python needs a trailing comma for a 1-tuple: "(n)" is an int. */
          if (header->n_dims == 1)
            {
              hd_set_format_error (error, name, _("the shape in the header is not a tuple"));
              return FALSE;
            }
          return TRUE;
        }
      if (!npy_accept (lx, ','))
        {
          hd_set_format_error (error, name, _("the shape in the header is not a tuple"));
          return FALSE;
        }
      if (npy_accept (lx, ')'))
        return TRUE;
    }
}

static gboolean
npy_parse_header (const char  *text,
                  gsize        len,
                  NpyHeader   *header,
                  const char  *name,
                  GError     **error)
{
  NpyLexer lx = { text, text + len };

  if (!npy_accept (&lx, '{'))
    {
      hd_set_format_error (error, name, _("the header is not a Python dictionary"));
      return FALSE;
    }

  while (!npy_accept (&lx, '}'))
    {
      g_autofree char *key = npy_parse_string (&lx);

      if (key == NULL)
        {
          hd_set_format_error (error, name,
                     _("the header is not a valid Python dictionary "
                       "(expected a quoted key)"));
          return FALSE;
        }
      if (!npy_accept (&lx, ':'))
        {
          hd_set_format_error (error, name,
                     _("the header is not a valid Python dictionary "
                       "(expected ‘:’ after ‘%s’)"), key);
          return FALSE;
        }

      if (strcmp (key, "descr") == 0)
        {
          if (header->descr != NULL)
            {
              hd_set_format_error (error, name, _("the header has ‘descr’ twice"));
              return FALSE;
            }
          header->descr = npy_parse_string (&lx);
          if (header->descr == NULL)
            {
              hd_set_format_error (error, name,
                         _("the dtype is not a simple type; expected "
                           "little-endian float32 or float64 ('<f4', '<f8')"));
              return FALSE;
            }
        }
      else if (strcmp (key, "fortran_order") == 0)
        {
          if (header->has_fortran_order)
            {
              hd_set_format_error (error, name, _("the header has ‘fortran_order’ twice"));
              return FALSE;
            }
          if (npy_accept_word (&lx, "False"))
            header->fortran_order = FALSE;
          else if (npy_accept_word (&lx, "True"))
            header->fortran_order = TRUE;
          else
            {
              hd_set_format_error (error, name,
                         _("‘fortran_order’ in the header is not True or False"));
              return FALSE;
            }
          header->has_fortran_order = TRUE;
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (header->has_shape)
            {
              hd_set_format_error (error, name, _("the header has ‘shape’ twice"));
              return FALSE;
            }
          if (!npy_parse_shape (&lx, header, name, error))
            return FALSE;
          header->has_shape = TRUE;
        }
      else
        {
          hd_set_format_error (error, name, _("unexpected key ‘%s’ in the header"), key);
          return FALSE;
        }

      if (npy_accept (&lx, '}'))
        break;
      if (!npy_accept (&lx, ','))
        {
          hd_set_format_error (error, name,
                     _("the header is not a valid Python dictionary "
                       "(expected ‘,’ or ‘}’)"));
          return FALSE;
        }
    }

  npy_skip_space (&lx);
  if (lx.p != lx.end)
    {
      hd_set_format_error (error, name,
                 _("the header has unexpected text after the dictionary"));
      return FALSE;
    }
  if (header->descr == NULL || !header->has_fortran_order || !header->has_shape)
    {
      hd_set_format_error (error, name,
                 /* Translators: %s is a key of the .npy header: ‘descr’, ‘fortran_order’
                    or ‘shape’. */
                 _("the header lacks %s"),
                 header->descr == NULL ? "‘descr’" :
                 !header->has_fortran_order ? "‘fortran_order’" : "‘shape’");
      return FALSE;
    }
  return TRUE;
}

void
hd_npy_free (HdNpy *npy)
{
  if (npy == NULL)
    return;
  g_free (npy->data);
  g_free (npy);
}

HdNpy *
hd_npy_read_bytes (GBytes      *bytes,
                   const char  *display_name,
                   GError     **error)
{
  g_autoptr(HdNpy) npy = NULL;
  g_autofree char *header_text = NULL;
  NpyHeader header = { 0 };
  const guint8 *data;
  gsize size, prefix_len, header_len, data_len, item_size;
  guint64 n_elements = 1;
  const char *name = display_name != NULL ? display_name : "array";

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &size);

  if (size < NPY_MAGIC_LEN + 2 || memcmp (data, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    {
      hd_set_format_error (error, name, _("not a NumPy .npy file (the magic string "
                   "\\x93NUMPY is missing)"));
      return NULL;
    }

  if (data[6] == 1 && data[7] == 0)
    prefix_len = 10;
  else if (data[6] == 2 && data[7] == 0)
    prefix_len = 12;
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: .npy format version %u.%u is not supported; "
                     "expected 1.0 or 2.0"), name, data[6], data[7]);
      return NULL;
    }
  if (size < prefix_len)
    {
      hd_set_format_error (error, name, _("the file ends inside the header"));
      return NULL;
    }
  if (prefix_len == 10)
    header_len = (gsize) data[8] | (gsize) data[9] << 8;
  else
    header_len = (gsize) data[8] | (gsize) data[9] << 8 |
                 (gsize) data[10] << 16 | (gsize) data[11] << 24;
  if (header_len > NPY_MAX_HEADER)
    {
      hd_set_format_error (error, name, _("the header is %zu bytes, "
                   "more than the limit of %d"), header_len, NPY_MAX_HEADER);
      return NULL;
    }
  if (header_len > size - prefix_len)
    {
      hd_set_format_error (error, name, _("the file ends inside the header"));
      return NULL;
    }
  if (memchr (data + prefix_len, '\0', header_len) != NULL)
    {
      hd_set_format_error (error, name, _("the header contains a NUL byte"));
      return NULL;
    }

  header_text = g_strndup ((const char *) data + prefix_len, header_len);
  if (!npy_parse_header (header_text, header_len, &header, name, error))
    {
      g_free (header.descr);
      return NULL;
    }

  if (strcmp (header.descr, "<f4") == 0)
    item_size = 4;
  else if (strcmp (header.descr, "<f8") == 0)
    item_size = 8;
  else
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: dtype '%s' is not supported; expected little-endian "
                     "float32 or float64 ('<f4', '<f8')"), name, header.descr);
      g_free (header.descr);
      return NULL;
    }
  g_clear_pointer (&header.descr, g_free);

  if (header.fortran_order)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: Fortran-order (column-major) arrays are not "
                     "supported; save the array in C order"), name);
      return NULL;
    }

  for (guint i = 0; i < header.n_dims; i++)
    {
      guint64 dim = (guint64) header.shape[i];

      if (dim != 0 && n_elements > NPY_MAX_ELEMENTS / dim)
        {
          n_elements = NPY_MAX_ELEMENTS + 1;
          break;
        }
      n_elements *= dim;
    }
  /* A zero dimension makes the array empty whatever the others are. */
  for (guint i = 0; i < header.n_dims; i++)
    if (header.shape[i] == 0)
      n_elements = 0;
  if (n_elements > NPY_MAX_ELEMENTS)
    {
      hd_set_format_error (error, name, _("the array is too large (more than %llu elements)"),
                 (unsigned long long) NPY_MAX_ELEMENTS);
      return NULL;
    }

  data_len = size - prefix_len - header_len;
  if (data_len != n_elements * item_size)
    {
      hd_set_format_error (error, name,
                 /* Translators: %s is “the file is truncated” or “extra bytes at the end”. */
                 _("the data is %zu bytes but the shape and "
                   "dtype need %llu (%s)"),
                 data_len, (unsigned long long) (n_elements * item_size),
                 data_len < n_elements * item_size ? _("the file is truncated")
                                                   : _("extra bytes at the end"));
      return NULL;
    }

  npy = g_new0 (HdNpy, 1);
  npy->n_dims = header.n_dims;
  memcpy (npy->shape, header.shape, sizeof header.shape);
  npy->n_elements = (gsize) n_elements;
  npy->data = g_new (float, MAX (n_elements, 1));

  data += prefix_len + header_len;
  for (gsize i = 0; i < n_elements; i++)
    {
      const guint8 *item = data + i * item_size;

      if (item_size == 4)
        {
          float value;

          load_le (&value, item, sizeof value);
          npy->data[i] = value;
        }
      else
        {
          double value;

          load_le (&value, item, sizeof value);
          npy->data[i] = (float) value;
        }
    }

  return g_steal_pointer (&npy);
}


HdNpy *
hd_npy_read (const char  *path,
             GError     **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GBytes) bytes = NULL;
  /* The largest valid file, plus one byte so that extra data is reported
   * as such rather than as a size limit. */
  const gsize max_size = 12 + NPY_MAX_HEADER + NPY_MAX_ELEMENTS * 8 + 1;

  g_return_val_if_fail (path != NULL, NULL);

  name = g_filename_display_name (path);
  bytes = hd_file_read_limited (path, name, max_size, error);
  if (bytes == NULL)
    return NULL;
  return hd_npy_read_bytes (bytes, name, error);
}


gboolean
hd_npy_write_f32 (const char   *path,
                  const gint64 *shape,
                  guint         n_dims,
                  const float  *data,
                  GError      **error)
{
  g_autoptr(GString) header = NULL;
  g_autofree guint8 *contents = NULL;
  g_autofree char *name = NULL;
  guint64 n_elements = 1;
  gsize total, prefix_len = 10;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (n_dims == 0 || shape != NULL, FALSE);

  name = g_filename_display_name (path);
  if (n_dims > NPY_MAX_DIMS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Cannot write “%s”: arrays with more than %u dimensions "
                     "are not supported"), name, NPY_MAX_DIMS);
      return FALSE;
    }
  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("Cannot write “%s”: dimension %u of the shape is "
                         "negative"), name, i);
          return FALSE;
        }
      if (shape[i] != 0 && n_elements > NPY_MAX_ELEMENTS / (guint64) shape[i])
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("Cannot write “%s”: the array is too large"), name);
          return FALSE;
        }
      n_elements *= (guint64) shape[i];
    }
  for (guint i = 0; i < n_dims; i++)
    if (shape[i] == 0)
      n_elements = 0;
  g_return_val_if_fail (n_elements == 0 || data != NULL, FALSE);

  header = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (guint i = 0; i < n_dims; i++)
    {
      g_string_append_printf (header, "%" G_GINT64_FORMAT, shape[i]);
      if (n_dims == 1 || i + 1 < n_dims)
        g_string_append (header, n_dims == 1 ? "," : ", ");
    }
  g_string_append (header, "), }");

  /* Pad with spaces and end with a newline so that the data is aligned. */
  if (prefix_len + header->len + 1 > G_MAXUINT16)
    prefix_len = 12;
  while ((prefix_len + header->len + 1) % NPY_ALIGN != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');

  total = prefix_len + header->len + (gsize) n_elements * 4;
  contents = g_malloc (total);
  memcpy (contents, NPY_MAGIC, NPY_MAGIC_LEN);
  if (prefix_len == 10)
    {
      contents[6] = 1;
      contents[7] = 0;
      contents[8] = header->len & 0xff;
      contents[9] = (header->len >> 8) & 0xff;
    }
  else
    {
      contents[6] = 2;
      contents[7] = 0;
      for (int i = 0; i < 4; i++)
        contents[8 + i] = (header->len >> (8 * i)) & 0xff;
    }
  memcpy (contents + prefix_len, header->str, header->len);

  for (gsize i = 0; i < n_elements; i++)
    {
      guint32 bits;

      memcpy (&bits, &data[i], 4);
      bits = GUINT32_TO_LE (bits);
      memcpy (contents + prefix_len + header->len + i * 4, &bits, 4);
    }

  return hd_file_replace_contents (path, contents, total, error);
}
