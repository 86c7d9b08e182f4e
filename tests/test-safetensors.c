/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "hd-error.h"
#include "hd-half.h"
#include "hd-safetensors.h"
#include "hd-test-util.h"

#define BAD_NAME "bad.safetensors"

/* A file of HEADER (used as given, no padding) followed by DATA_SIZE
 * bytes 0, 1, 2, ... */
static GBytes *
make_file (const char *header,
           gsize       data_size)
{
  gsize header_len = strlen (header);
  guint64 len_le = GUINT64_TO_LE ((guint64) header_len);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) &len_le, 8);
  g_byte_array_append (out, (const guint8 *) header, header_len);
  for (gsize i = 0; i < data_size; i++)
    {
      guint8 b = (guint8) i;
      g_byte_array_append (out, &b, 1);
    }
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
make_raw (const void *data,
          gsize       size)
{
  return g_bytes_new (data, size);
}

/* Asserts that BYTES is refused as HD_ERROR_FORMAT with a message that
 * names the file and contains NEEDLE; returns the message. */
static char *
expect_format_error (GBytes     *bytes,
                     const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, BAD_NAME, &error);

  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, BAD_NAME ": "));
  if (strstr (error->message, needle) == NULL)
    g_error ("expected “%s” in “%s”", needle, error->message);
  return g_strdup (error->message);
}

static void
check_bad_header (const char *header,
                  gsize       data_size,
                  const char *needle)
{
  g_autoptr(GBytes) bytes = make_file (header, data_size);

  g_free (expect_format_error (bytes, needle));
}

static void
test_valid_minimal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = make_file ("{\"__metadata__\":{\"b\":\"2\",\"a\":\"1\"},"
                                       "\"y\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                                       "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                       "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[12,14]},"
                                       "\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[14,14]}}",
                                       14);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, "ok.safetensors", &error);
  const char **keys;
  const HdTensor *t;

  g_assert_no_error (error);
  g_assert_cmpstr (hd_safetensors_get_path (st), ==, "ok.safetensors");
  g_assert_cmpuint (hd_safetensors_get_n_tensors (st), ==, 4);
  /* In order of data offsets. */
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 0)->name, ==, "x");
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 1)->name, ==, "y");
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 2)->name, ==, "s");
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 3)->name, ==, "z");

  t = hd_safetensors_lookup (st, "s");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, HD_DTYPE_BF16);
  g_assert_cmpuint (t->n_dims, ==, 0);
  g_assert_cmpuint (t->n_elements, ==, 1);
  g_assert_cmpuint (t->n_bytes, ==, 2);
  t = hd_safetensors_lookup (st, "z");
  g_assert_cmpuint (t->n_elements, ==, 0);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_null (hd_safetensors_lookup (st, "__metadata__"));
  g_assert_null (hd_safetensors_lookup (st, "nope"));

  g_assert_cmpstr (hd_safetensors_get_metadata (st, "a"), ==, "1");
  g_assert_cmpstr (hd_safetensors_get_metadata (st, "b"), ==, "2");
  g_assert_null (hd_safetensors_get_metadata (st, "c"));
  keys = hd_safetensors_get_metadata_keys (st);
  g_assert_cmpuint (g_strv_length ((char **) keys), ==, 2);
  g_assert_true (g_strv_contains (keys, "a"));
  g_assert_true (g_strv_contains (keys, "b"));
}

static void
test_no_metadata (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = make_file ("{}", 0);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, "empty-header", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (hd_safetensors_get_n_tensors (st), ==, 0);
  g_assert_nonnull (hd_safetensors_get_metadata_keys (st));
  g_assert_null (hd_safetensors_get_metadata_keys (st)[0]);
}

static void
test_empty_file (void)
{
  g_autoptr(GBytes) bytes = make_raw ("", 0);

  g_free (expect_format_error (bytes, "empty"));
}

static void
test_too_short (void)
{
  g_autoptr(GBytes) bytes = make_raw ("\x02\0\0\0\0", 5);

  g_free (expect_format_error (bytes, "too short"));
}

static void
test_header_larger_than_file (void)
{
  guint8 raw[20] = { 100, 0, };
  g_autoptr(GBytes) bytes = make_raw (raw, sizeof raw);

  g_free (expect_format_error (bytes, "larger than the file"));
}

static void
test_header_length_huge (void)
{
  guint8 raw[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' };
  g_autoptr(GBytes) bytes = make_raw (raw, sizeof raw);

  g_free (expect_format_error (bytes, "larger than the file"));
}

/* A header length above 100 MB in a (sparse) file that is large enough. */
static void
test_header_above_limit (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "huge.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  guint64 len = GUINT64_TO_LE ((guint64) 100 * 1000 * 1000 + 1);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, &len, 8), ==, 8);
  g_assert_cmpint (ftruncate (fd, 8 + 100 * 1000 * 1000 + 64), ==, 0);
  close (fd);

  st = hd_safetensors_open (path, &error);
  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "100 MB"));
  hd_test_rmdir_recursive (dir);
}

static char *
nested_json (guint depth)
{
  /* {"x": [[...[]...]]}: the object is level 1. */
  GString *str = g_string_new ("{\"x\":");

  for (guint i = 1; i < depth; i++)
    g_string_append_c (str, '[');
  for (guint i = 1; i < depth; i++)
    g_string_append_c (str, ']');
  g_string_append_c (str, '}');
  return g_string_free (str, FALSE);
}

static void
test_nesting_too_deep (void)
{
  g_autofree char *json = nested_json (65);

  check_bad_header (json, 0, "nested deeper than 64");
}

static void
test_nesting_at_limit (void)
{
  g_autofree char *json = nested_json (64);
  g_autoptr(GBytes) bytes = make_file (json, 0);
  /* Parses; refused only because the entry is no tensor. */
  g_autofree char *message = expect_format_error (bytes, "“x” is not a JSON object");

  g_assert_null (strstr (message, "nested"));
}

static void
test_brackets_in_strings (void)
{
  GString *json = g_string_new ("{\"__metadata__\":{\"k\":\"\\\"");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HdSafetensors) st = NULL;

  for (int i = 0; i < 200; i++)
    g_string_append (json, "[{");
  g_string_append (json, "\"}}");
  bytes = make_file (json->str, 0);
  st = hd_safetensors_new_from_bytes (bytes, "strings", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (hd_safetensors_get_metadata (st, "k"), "\"[{[{"));
  g_string_free (json, TRUE);
}

static void
test_invalid_json (void)
{
  check_bad_header ("{\"x\": ", 0, "does not parse");
  check_bad_header ("{\"x\": {\"dtype\": \"F32\",}}", 0, "does not parse");
}

static void
test_invalid_utf8 (void)
{
  check_bad_header ("{\"\xff\xfe\": 1}", 0, "UTF-8");
}

static void
test_not_object (void)
{
  check_bad_header ("[1, 2]", 0, "not an object");
  check_bad_header ("\"text\"", 0, "not an object");
  check_bad_header ("        ", 0, "not an object");
}

static void
test_entry_not_object (void)
{
  check_bad_header ("{\"w\": 3}", 0, "tensor “w” is not a JSON object");
}

static void
test_bad_dtype (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                    "tensor “x” has dtype I64; only F32, F16 and BF16 are supported");
  check_bad_header ("{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                    "dtype F64");
  check_bad_header ("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has no dtype");
  check_bad_header ("{\"x\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has no dtype");
}

static void
test_bad_shape (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has no shape");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has a shape entry");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has a shape entry");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4,
                    "tensor “x” has a shape entry");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                    "\"data_offsets\":[0,4]}}", 4, "9 dimensions");
}

static void
test_shape_overflow (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],"
                    "\"data_offsets\":[0,4]}}", 4, "overflows");
  /* Fits in 64 bits as elements, not as bytes. */
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                    "\"data_offsets\":[0,4]}}", 4, "tensor “x” has 4 bytes");
}

static void
test_offsets_outside (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                    "tensor “x” has data_offsets [0, 16] outside the data area of 8 bytes");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[12,12]}}", 8,
                    "outside the data area");
}

static void
test_offsets_reversed (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                    "tensor “x” has data_offsets [4, 0]");
}

static void
test_offsets_malformed (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                    "data_offsets");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4,
                    "data_offsets");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
                    "data_offsets");
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}}", 4,
                    "data_offsets");
}

static void
test_size_mismatch (void)
{
  check_bad_header ("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                    "tensor “x” has 8 bytes of data, but dtype F32 and shape [3] need 3 × 4");
  check_bad_header ("{\"x\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16,
                    "shape [2, 2]");
}

static void
test_overlap (void)
{
  check_bad_header ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                    "tensors “a” and “b” overlap");
  /* Two entries over the same bytes. */
  check_bad_header ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                    "overlap");
}

static void
test_gap (void)
{
  check_bad_header ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                    "bytes 4 to 8 of the data area belong to no tensor");
  check_bad_header ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                    "bytes 0 to 4");
}

static void
test_trailing_bytes (void)
{
  check_bad_header ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8,
                    "trailing bytes");
  check_bad_header ("{}", 3, "trailing bytes");
}

static void
test_metadata_bad (void)
{
  check_bad_header ("{\"__metadata__\":{\"k\":1}}", 0,
                    "metadata value of “k” is not a string");
  check_bad_header ("{\"__metadata__\":{\"k\":null}}", 0, "not a string");
  check_bad_header ("{\"__metadata__\":{\"k\":{\"a\":\"b\"}}}", 0, "not a string");
  check_bad_header ("{\"__metadata__\":[\"k\"]}", 0, "“__metadata__” is not a JSON object");
}

static void
test_name_too_long (void)
{
  g_autofree char *name = g_strnfill (2000, 'n');
  g_autofree char *json = g_strdup_printf ("{\"%s\":{\"dtype\":\"F32\",\"shape\":[0],"
                                           "\"data_offsets\":[0,0]}}", name);

  check_bad_header (json, 0, "longer than 1024 bytes");
  check_bad_header ("{\"\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
                    "empty");
}

static void
test_too_many_tensors (void)
{
  GString *json = g_string_new ("{");
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *message = NULL;

  for (int i = 0; i <= 100000; i++)
    g_string_append_printf (json, "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                            i ? "," : "", i);
  g_string_append_c (json, '}');
  bytes = make_file (json->str, 0);
  message = expect_format_error (bytes, "100001 tensors; at most 100000");
  g_string_free (json, TRUE);
}

static void
test_open_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_open ("/nonexistent/dir/x.safetensors", &error);

  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dir/x.safetensors"));
}

static void
test_open_folder (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_open (dir, &error);

  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_nonnull (strstr (error->message, "it is a folder, not a regular file"));
  hd_test_rmdir_recursive (dir);
}

/* A FIFO without a writer is refused at once, not waited on for ever;
 * so is a device. */
static void
test_open_special (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *fifo = hd_test_make_fifo (dir, "x.safetensors");
  g_autoptr(GError) error = NULL;
  HdSafetensors *st;

  hd_test_hang_guard (10);
  st = hd_safetensors_open (fifo, &error);
  hd_test_hang_guard (0);
  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, fifo));
  g_assert_nonnull (strstr (error->message, "named pipe (FIFO), not a regular file"));
  g_clear_error (&error);

  st = hd_safetensors_open ("/dev/null", &error);
  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "“/dev/null”: it is a device, not a regular file"));
  hd_test_rmdir_recursive (dir);
}

static void
test_open_empty_file (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "empty.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = NULL;

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  st = hd_safetensors_open (path, &error);
  g_assert_null (st);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "empty"));
  hd_test_rmdir_recursive (dir);
}

static const float sample_values[] = {
  0.0f, -0.0f, 1.0f, -2.25f, 0.333333343f, 65504.0f, 1e-5f, -3.0e-8f,
  123456.789f, 1e30f, -7.5e-39f, 0.1f,
};

static HdSafetensorsWriter *
sample_writer (HdDtype dtype)
{
  HdSafetensorsWriter *writer = hd_safetensors_writer_new ();
  gint64 shape_a[2] = { 3, 4 };
  gint64 shape_b[1] = { 5 };
  gint64 shape_empty[2] = { 0, 7 };
  float scalar = 0.75f;

  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "test");
  hd_safetensors_writer_set_metadata (writer, "quote", "a \"quoted\" value\nwith ünïcode");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "test-again");
  hd_safetensors_writer_add_f32 (writer, "second/a", dtype, shape_a, 2, sample_values);
  hd_safetensors_writer_add_f32 (writer, "first.b", dtype, shape_b, 1, sample_values + 2);
  hd_safetensors_writer_add_f32 (writer, "scalar", dtype, NULL, 0, &scalar);
  hd_safetensors_writer_add_f32 (writer, "empty", dtype, shape_empty, 2, NULL);
  return writer;
}

static float
round_trip_value (float value,
                  HdDtype dtype)
{
  switch (dtype)
    {
    case HD_DTYPE_F16:
      return hd_half_to_float (hd_float_to_half (value));
    case HD_DTYPE_BF16:
      return hd_bf16_to_float (hd_float_to_bf16 (value));
    case HD_DTYPE_F32:
    default:
      return value;
    }
}

static void
check_sample (HdSafetensors *st,
              HdDtype        dtype)
{
  const HdTensor *a, *b, *s, *e;
  float out[12];

  g_assert_cmpuint (hd_safetensors_get_n_tensors (st), ==, 4);
  /* Written in the order added. */
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 0)->name, ==, "second/a");
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 1)->name, ==, "first.b");
  g_assert_cmpstr (hd_safetensors_get_tensor (st, 2)->name, ==, "scalar");
  g_assert_cmpstr (hd_safetensors_get_metadata (st, "hyperdomain.kind"), ==, "test-again");
  g_assert_cmpstr (hd_safetensors_get_metadata (st, "quote"), ==,
                   "a \"quoted\" value\nwith ünïcode");

  a = hd_safetensors_lookup (st, "second/a");
  g_assert_cmpint (a->dtype, ==, dtype);
  g_assert_cmpuint (a->n_dims, ==, 2);
  g_assert_cmpint (a->shape[0], ==, 3);
  g_assert_cmpint (a->shape[1], ==, 4);
  g_assert_cmpuint (a->n_elements, ==, 12);
  /* 123456.789 and 1e30 overflow to infinity in F16 only. */
  g_assert_cmpint (hd_tensor_is_finite (a), ==, dtype != HD_DTYPE_F16);
  hd_tensor_to_f32 (a, out);
  for (int i = 0; i < 12; i++)
    {
      float expected = round_trip_value (sample_values[i], dtype);
      g_assert_cmpmem (&out[i], sizeof (float), &expected, sizeof (float));
    }
  if (dtype == HD_DTYPE_F32)
    g_assert_cmpmem (out, sizeof out, sample_values, sizeof out);

  b = hd_safetensors_lookup (st, "first.b");
  hd_tensor_to_f32 (b, out);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (out[i], ==, round_trip_value (sample_values[i + 2], dtype));

  s = hd_safetensors_lookup (st, "scalar");
  g_assert_cmpuint (s->n_dims, ==, 0);
  hd_tensor_to_f32 (s, out);
  g_assert_cmpfloat (out[0], ==, 0.75f);

  e = hd_safetensors_lookup (st, "empty");
  g_assert_cmpuint (e->n_elements, ==, 0);
  g_assert_cmpuint (e->n_bytes, ==, 0);
}

static void
check_round_trip (HdDtype dtype)
{
  g_autoptr(HdSafetensorsWriter) writer = sample_writer (dtype);
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "round-trip.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  g_autoptr(HdSafetensors) mem = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  guint64 header_len;

  g_assert_true (hd_safetensors_writer_write (writer, path, &error));
  g_assert_no_error (error);
  st = hd_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hd_safetensors_get_path (st), ==, path);
  check_sample (st, dtype);

  /* The file is exactly the bytes of to_bytes, the header a multiple of 8. */
  bytes = hd_safetensors_writer_to_bytes (writer);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpmem (contents, length, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_true (contents[8 + header_len - 1] == ' ' || contents[8 + header_len - 1] == '}');

  mem = hd_safetensors_new_from_bytes (bytes, "memory", &error);
  g_assert_no_error (error);
  check_sample (mem, dtype);

  /* Overwriting an existing file works too (temporary file + rename). */
  g_assert_true (hd_safetensors_writer_write (writer, path, &error));
  g_assert_no_error (error);
  hd_test_rmdir_recursive (dir);
}

static void
test_round_trip_f32 (void)
{
  check_round_trip (HD_DTYPE_F32);
}

static void
test_round_trip_f16 (void)
{
  check_round_trip (HD_DTYPE_F16);
}

static void
test_round_trip_bf16 (void)
{
  check_round_trip (HD_DTYPE_BF16);
}

static void
test_write_error (void)
{
  g_autoptr(HdSafetensorsWriter) writer = sample_writer (HD_DTYPE_F32);
  g_autoptr(GError) error = NULL;

  g_assert_false (hd_safetensors_writer_write (writer, "/nonexistent/dir/out.safetensors", &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dir/out.safetensors"));
}

/* Truncating a valid file anywhere gives an error, never a crash. */
static void
test_truncated (void)
{
  g_autoptr(HdSafetensorsWriter) writer = sample_writer (HD_DTYPE_F32);
  g_autoptr(GBytes) whole = hd_safetensors_writer_to_bytes (writer);
  gsize size = g_bytes_get_size (whole);

  for (gsize cut = 0; cut < size; cut++)
    {
      g_autoptr(GBytes) part = g_bytes_new_from_bytes (whole, 0, cut);
      g_autoptr(GError) error = NULL;
      g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (part, BAD_NAME, &error);

      g_assert_null (st);
      g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
      g_assert_true (g_str_has_prefix (error->message, BAD_NAME ": "));
    }
}

/* Data at an odd address: conversions must not assume alignment. */
static void
test_unaligned_data (void)
{
  g_autoptr(HdSafetensorsWriter) writer = sample_writer (HD_DTYPE_F32);
  g_autoptr(GBytes) bytes = hd_safetensors_writer_to_bytes (writer);
  gsize size = g_bytes_get_size (bytes);
  g_autofree guint8 *buffer = g_malloc (size + 1);
  g_autoptr(GBytes) shifted = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = NULL;

  memcpy (buffer + 1, g_bytes_get_data (bytes, NULL), size);
  shifted = g_bytes_new_static (buffer + 1, size);
  st = hd_safetensors_new_from_bytes (shifted, "unaligned", &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((guintptr) hd_safetensors_lookup (st, "second/a")->data % 4, !=, 0);
  check_sample (st, HD_DTYPE_F32);
}

/* The reader keeps the bytes alive on its own. */
static void
test_keeps_bytes (void)
{
  g_autoptr(HdSafetensorsWriter) writer = sample_writer (HD_DTYPE_F16);
  GBytes *bytes = hd_safetensors_writer_to_bytes (writer);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, "kept", &error);

  g_assert_no_error (error);
  g_bytes_unref (bytes);
  check_sample (st, HD_DTYPE_F16);
  g_assert_true (hd_safetensors_ref (st) == st);
  hd_safetensors_unref (st);
}

static void
test_finite (void)
{
  const struct {
    const char *dtype;
    guint8 bytes[4];
    gboolean finite;
  } cases[] = {
    { "F32", { 0x00, 0x00, 0x80, 0x3f }, TRUE },   /* 1.0 */
    { "F32", { 0x00, 0x00, 0x80, 0x7f }, FALSE },  /* +inf */
    { "F32", { 0x01, 0x00, 0xc0, 0xff }, FALSE },  /* NaN */
    { "F16", { 0x00, 0x3c, 0x00, 0x3c }, TRUE },   /* 1.0, 1.0 */
    { "F16", { 0x00, 0x3c, 0x00, 0xfc }, FALSE },  /* 1.0, -inf */
    { "F16", { 0xff, 0x7b, 0x01, 0x7e }, FALSE },  /* 65504, NaN */
    { "BF16", { 0x80, 0x3f, 0x80, 0x7f }, FALSE }, /* 1.0, +inf */
    { "BF16", { 0x80, 0x3f, 0x7f, 0x7f }, TRUE },  /* 1.0, max */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = NULL;
      g_autoptr(GByteArray) file = g_byte_array_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(HdSafetensors) st = NULL;
      guint64 len_le;
      int n = g_str_equal (cases[i].dtype, "F32") ? 1 : 2;

      json = g_strdup_printf ("{\"v\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[0,4]}}",
                              cases[i].dtype, n);
      len_le = GUINT64_TO_LE ((guint64) strlen (json));
      g_byte_array_append (file, (const guint8 *) &len_le, 8);
      g_byte_array_append (file, (const guint8 *) json, strlen (json));
      g_byte_array_append (file, cases[i].bytes, 4);
      bytes = g_bytes_new (file->data, file->len);
      st = hd_safetensors_new_from_bytes (bytes, "finite", &error);
      g_assert_no_error (error);
      g_assert_cmpint (hd_tensor_is_finite (hd_safetensors_lookup (st, "v")), ==, cases[i].finite);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Safetensors/valid-minimal", test_valid_minimal);
  g_test_add_func ("/Hyperdomain/Safetensors/no-metadata", test_no_metadata);
  g_test_add_func ("/Hyperdomain/Safetensors/empty-file", test_empty_file);
  g_test_add_func ("/Hyperdomain/Safetensors/too-short", test_too_short);
  g_test_add_func ("/Hyperdomain/Safetensors/header-larger-than-file", test_header_larger_than_file);
  g_test_add_func ("/Hyperdomain/Safetensors/header-length-huge", test_header_length_huge);
  g_test_add_func ("/Hyperdomain/Safetensors/header-above-limit", test_header_above_limit);
  g_test_add_func ("/Hyperdomain/Safetensors/nesting-too-deep", test_nesting_too_deep);
  g_test_add_func ("/Hyperdomain/Safetensors/nesting-at-limit", test_nesting_at_limit);
  g_test_add_func ("/Hyperdomain/Safetensors/brackets-in-strings", test_brackets_in_strings);
  g_test_add_func ("/Hyperdomain/Safetensors/invalid-json", test_invalid_json);
  g_test_add_func ("/Hyperdomain/Safetensors/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/Hyperdomain/Safetensors/not-object", test_not_object);
  g_test_add_func ("/Hyperdomain/Safetensors/entry-not-object", test_entry_not_object);
  g_test_add_func ("/Hyperdomain/Safetensors/bad-dtype", test_bad_dtype);
  g_test_add_func ("/Hyperdomain/Safetensors/bad-shape", test_bad_shape);
  g_test_add_func ("/Hyperdomain/Safetensors/shape-overflow", test_shape_overflow);
  g_test_add_func ("/Hyperdomain/Safetensors/offsets-outside", test_offsets_outside);
  g_test_add_func ("/Hyperdomain/Safetensors/offsets-reversed", test_offsets_reversed);
  g_test_add_func ("/Hyperdomain/Safetensors/offsets-malformed", test_offsets_malformed);
  g_test_add_func ("/Hyperdomain/Safetensors/size-mismatch", test_size_mismatch);
  g_test_add_func ("/Hyperdomain/Safetensors/overlap", test_overlap);
  g_test_add_func ("/Hyperdomain/Safetensors/gap", test_gap);
  g_test_add_func ("/Hyperdomain/Safetensors/trailing-bytes", test_trailing_bytes);
  g_test_add_func ("/Hyperdomain/Safetensors/metadata-bad", test_metadata_bad);
  g_test_add_func ("/Hyperdomain/Safetensors/name-too-long", test_name_too_long);
  g_test_add_func ("/Hyperdomain/Safetensors/too-many-tensors", test_too_many_tensors);
  g_test_add_func ("/Hyperdomain/Safetensors/open-missing", test_open_missing);
  g_test_add_func ("/Hyperdomain/Safetensors/open-folder", test_open_folder);
  g_test_add_func ("/Hyperdomain/Safetensors/open-special", test_open_special);
  g_test_add_func ("/Hyperdomain/Safetensors/open-empty-file", test_open_empty_file);
  g_test_add_func ("/Hyperdomain/Safetensors/round-trip-f32", test_round_trip_f32);
  g_test_add_func ("/Hyperdomain/Safetensors/round-trip-f16", test_round_trip_f16);
  g_test_add_func ("/Hyperdomain/Safetensors/round-trip-bf16", test_round_trip_bf16);
  g_test_add_func ("/Hyperdomain/Safetensors/write-error", test_write_error);
  g_test_add_func ("/Hyperdomain/Safetensors/truncated", test_truncated);
  g_test_add_func ("/Hyperdomain/Safetensors/unaligned-data", test_unaligned_data);
  g_test_add_func ("/Hyperdomain/Safetensors/keeps-bytes", test_keeps_bytes);
  g_test_add_func ("/Hyperdomain/Safetensors/finite", test_finite);

  return g_test_run ();
}
