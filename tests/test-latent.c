/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "hd-error.h"
#include "hd-latent.h"
#include "hd-test-util.h"

#define N_RANDN 512

static void
check_seed_values (JsonArray    *values,
                   const double *got,
                   gsize         offset,
                   guint32       seed,
                   const char   *which)
{
  g_assert_cmpuint (json_array_get_length (values), ==, 16);
  for (guint i = 0; i < 16; i++)
    {
      double expected = json_array_get_double_element (values, i);

      if (got[offset + i] != expected)
        g_error ("seed %u, %s[%u]: got %.17g, expected %.17g",
                 seed, which, i, got[offset + i], expected);
    }
}

static void
test_randn_seeds (void)
{
  g_autofree char *path = hd_test_conformance_path ("seeds.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *seeds;
  guint n_seeds;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "count"), ==, N_RANDN);
  seeds = json_object_get_array_member (root, "seeds");
  n_seeds = json_array_get_length (seeds);
  g_assert_cmpuint (n_seeds, ==, 7);

  for (guint s = 0; s < n_seeds; s++)
    {
      JsonObject *entry = json_array_get_object_element (seeds, s);
      gint64 seed = json_object_get_int_member (entry, "seed");
      double values[N_RANDN];
      float values_f32[N_RANDN];

      g_assert_cmpint (seed, >=, 0);
      g_assert_cmpint (seed, <=, G_MAXUINT32);
      hd_randn ((guint32) seed, values, N_RANDN);
      check_seed_values (json_object_get_array_member (entry, "first16"),
                         values, 0, (guint32) seed, "first16");
      check_seed_values (json_object_get_array_member (entry, "last16"),
                         values, N_RANDN - 16, (guint32) seed, "last16");

      hd_randn_f32 ((guint32) seed, values_f32, N_RANDN);
      for (guint i = 0; i < N_RANDN; i++)
        g_assert_true (values_f32[i] == (float) values[i]);
    }
}

static void
test_randn_prefix (void)
{
  double all[N_RANDN], some[17];

  /* A shorter draw is a prefix of a longer one (an odd count included, which
   * leaves the cached second normal unused). */
  hd_randn (4294967295u, all, N_RANDN);
  hd_randn (4294967295u, some, G_N_ELEMENTS (some));
  for (guint i = 0; i < G_N_ELEMENTS (some); i++)
    g_assert_true (some[i] == all[i]);
  hd_randn (4294967295u, NULL, 0);
}

static char *
write_tmp_file (const char *dir,
                const char *name,
                const void *contents,
                gsize       length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, (gssize) length, &error);
  g_assert_no_error (error);
  return path;
}

static void
assert_error_names (GError     *error,
                    const char *file,
                    const char *problem)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == HD_ERROR);
  g_test_message ("error: %s", error->message);
  if (strstr (error->message, file) == NULL ||
      strstr (error->message, problem) == NULL)
    g_error ("“%s” should name “%s” and “%s”", error->message, file, problem);
}

static void
test_npy_read_fixtures (void)
{
  g_autofree char *z_path = hd_test_conformance_path ("tiny-z.npy");
  g_autofree char *w_path = hd_test_conformance_path ("tiny-w.npy");
  g_autofree char *base_path = hd_test_conformance_path ("expected/base.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNpy) z = NULL;
  g_autoptr(HdNpy) w = NULL;
  g_autoptr(HdNpy) base = NULL;
  double sum = 0.0;

  z = hd_npy_read (z_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (z->n_dims, ==, 1);
  g_assert_cmpint (z->shape[0], ==, 32);
  g_assert_cmpuint (z->n_elements, ==, 32);
  for (gsize i = 0; i < z->n_elements; i++)
    {
      g_assert_true (isfinite (z->data[i]));
      sum += z->data[i] * z->data[i];
    }
  g_assert_cmpfloat (sum, >, 0.0);

  w = hd_npy_read (w_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (w->n_dims, ==, 2);
  g_assert_cmpint (w->shape[0], ==, 8);
  g_assert_cmpint (w->shape[1], ==, 48);
  g_assert_cmpuint (w->n_elements, ==, 8 * 48);

  base = hd_npy_read (base_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (base->n_dims, ==, 3);
  g_assert_cmpint (base->shape[0], ==, 3);
  g_assert_cmpint (base->shape[1], ==, 32);
  g_assert_cmpint (base->shape[2], ==, 32);
  g_assert_cmpuint (base->n_elements, ==, 3 * 32 * 32);
}

static void
test_npy_round_trip (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.npy", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 shape[] = { 3, 4, 5 };
  float data[60];
  gsize length;
  guint header_len;

  for (guint i = 0; i < G_N_ELEMENTS (data); i++)
    data[i] = (float) i * 0.25f - 7.0f;
  data[7] = -0.0f;
  data[8] = 1e-40f; /* subnormal */

  for (guint n_dims = 0; n_dims <= 3; n_dims++)
    {
      g_autoptr(HdNpy) npy = NULL;
      const char *expected_header;
      gsize n = 1;

      for (guint d = 0; d < n_dims; d++)
        n *= (gsize) shape[d];

      g_assert_true (hd_npy_write_f32 (path, shape, n_dims, data, &error));
      g_assert_no_error (error);

      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);
      g_assert_true (memcmp (contents, "\x93NUMPY\x01\x00", 8) == 0);
      header_len = (guint8) contents[8] | (guint) (guint8) contents[9] << 8;
      g_assert_cmpuint ((10 + header_len) % 64, ==, 0);
      g_assert_cmpint (contents[10 + header_len - 1], ==, '\n');
      g_assert_cmpuint (length, ==, 10 + header_len + 4 * n);
      if (n_dims == 1)
        expected_header = "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (3,), }";
      else if (n_dims == 3)
        expected_header = "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (3, 4, 5), }";
      else if (n_dims == 0)
        expected_header = "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (), }";
      else
        expected_header = "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (3, 4), }";
      g_assert_true (strncmp (contents + 10, expected_header,
                              strlen (expected_header)) == 0);
      g_clear_pointer (&contents, g_free);

      npy = hd_npy_read (path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (npy->n_dims, ==, n_dims);
      for (guint d = 0; d < n_dims; d++)
        g_assert_cmpint (npy->shape[d], ==, shape[d]);
      g_assert_cmpuint (npy->n_elements, ==, n);
      g_assert_true (memcmp (npy->data, data, n * sizeof (float)) == 0);
    }

  /* Empty arrays are valid. */
  {
    const gint64 empty_shape[] = { 0, 512 };
    g_autoptr(HdNpy) npy = NULL;

    g_assert_true (hd_npy_write_f32 (path, empty_shape, 2, NULL, &error));
    g_assert_no_error (error);
    npy = hd_npy_read (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (npy->n_elements, ==, 0);
    g_assert_cmpint (npy->shape[1], ==, 512);
  }

  /* No temporary file is left behind. */
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *entry;
    guint count = 0;

    while ((entry = g_dir_read_name (d)) != NULL)
      count++;
    g_dir_close (d);
    g_assert_cmpuint (count, ==, 1);
  }

  hd_test_rmdir_recursive (dir);
}

/* A .npy file made by hand: HEADER padded to 64 bytes, then DATA. */
static GBytes *
make_npy (guint         major,
          const char   *header,
          const void   *data,
          gsize         data_len)
{
  GByteArray *array = g_byte_array_new ();
  gsize prefix = major == 1 ? 10 : 12;
  gsize len = strlen (header);
  gsize padded = len + 1;
  guint8 bytes[4];

  while ((prefix + padded) % 64 != 0)
    padded++;
  g_byte_array_append (array, (const guint8 *) "\x93NUMPY", 6);
  bytes[0] = (guint8) major;
  bytes[1] = 0;
  g_byte_array_append (array, bytes, 2);
  for (guint i = 0; i < prefix - 8; i++)
    bytes[i] = (guint8) (padded >> (8 * i));
  g_byte_array_append (array, bytes, (guint) (prefix - 8));
  g_byte_array_append (array, (const guint8 *) header, (guint) len);
  for (gsize i = len; i + 1 < padded; i++)
    g_byte_array_append (array, (const guint8 *) " ", 1);
  g_byte_array_append (array, (const guint8 *) "\n", 1);
  if (data_len > 0)
    g_byte_array_append (array, data, (guint) data_len);
  return g_byte_array_free_to_bytes (array);
}

static void
test_npy_read_f8 (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) bytes_v2 = NULL;
  g_autoptr(HdNpy) npy = NULL;
  g_autoptr(HdNpy) npy_v2 = NULL;
  g_autoptr(GError) error = NULL;
  guint8 data[6 * 8];
  const double values[6] = { 0.1, -2.5, 1e300, 3.0, -0.0, 1.0 / 3.0 };

  for (guint i = 0; i < 6; i++)
    {
      guint64 bits;
      memcpy (&bits, &values[i], 8);
      bits = GUINT64_TO_LE (bits);
      memcpy (data + 8 * i, &bits, 8);
    }

  bytes = make_npy (1, "{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (1, 2L, 3), }", data, sizeof data);
  path = write_tmp_file (dir, "w64.npy", g_bytes_get_data (bytes, NULL),
                         g_bytes_get_size (bytes));
  npy = hd_npy_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npy->n_dims, ==, 3);
  g_assert_cmpint (npy->shape[0], ==, 1);
  g_assert_cmpint (npy->shape[1], ==, 2);
  g_assert_cmpint (npy->shape[2], ==, 3);
  g_assert_cmpuint (npy->n_elements, ==, 6);
  for (guint i = 0; i < 6; i++)
    g_assert_true (npy->data[i] == (float) values[i] ||
                   (isinf (npy->data[i]) && values[i] > 3.4e38));

  /* Version 2.0, double quotes, no trailing comma, odd spacing. */
  bytes_v2 = make_npy (2, "{ \"shape\" : (6,) ,\"fortran_order\":False,"
                          "\"descr\":\"<f8\"}", data, sizeof data);
  npy_v2 = hd_npy_read_bytes (bytes_v2, "v2.npy", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npy_v2->n_dims, ==, 1);
  g_assert_cmpint (npy_v2->shape[0], ==, 6);
  g_assert_true (memcmp (npy_v2->data, npy->data, 6 * sizeof (float)) == 0);

  hd_test_rmdir_recursive (dir);
}

typedef struct {
  const char *header;
  gsize       data_len;
  const char *problem;
} BadHeader;

static void
test_npy_errors (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autoptr(GError) error = NULL;
  guint8 zeros[256] = { 0 };
  const BadHeader cases[] = {
    { "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", 16,
      "dtype '>f4' is not supported; expected little-endian float32 or "
      "float64 ('<f4', '<f8')" },
    { "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", 16,
      "dtype '<i4' is not supported" },
    { "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", 4,
      "dtype '|u1' is not supported" },
    { "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", 16,
      "not a simple type" },
    { "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16,
      "Fortran-order" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 12,
      "truncated" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 20,
      "extra bytes" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 0,
      "truncated" },
    { "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (4294967296, 4294967296, 4294967296), }", 16,
      "too large" },
    { "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (99999999999999999999999,), }", 16,
      "not a tuple of non-negative integers" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", 16,
      "negative" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", 16,
      "not a tuple" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': [4], }", 16,
      "not a tuple" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,4), }",
      16, "more than 8 dimensions" },
    { "{'descr': '<f4', 'fortran_order': False 'shape': (4,), }", 16,
      "expected ‘,’ or ‘}’" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), ", 16,
      "expected a quoted key" },
    { "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (4,), }", 16,
      "not True or False" },
    { "{'descr': '<f4', 'shape': (4,), }", 16, "lacks ‘fortran_order’" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", 16,
      "unexpected key ‘x’" },
    { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
      "'shape': (4,), }", 16, "‘descr’ twice" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } x", 16,
      "unexpected text after the dictionary" },
    { "{'descr: '<f4', 'fortran_order': False, 'shape': (4,), }", 16,
      "expected ‘:’" },
    { "['descr', '<f4']", 16, "not a Python dictionary" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = make_npy (1, cases[i].header, zeros,
                                          cases[i].data_len);
      g_autofree char *name = g_strdup_printf ("case%u.npy", i);
      g_autofree char *path = write_tmp_file (dir, name,
                                              g_bytes_get_data (bytes, NULL),
                                              g_bytes_get_size (bytes));
      HdNpy *npy = hd_npy_read (path, &error);

      g_assert_null (npy);
      assert_error_names (error, path, cases[i].problem);
      g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_FORMAT));
      g_clear_error (&error);
    }

  /* Bad magic, short files, versions. */
  {
    const struct { const char *bytes; gsize len; const char *problem; } raw[] = {
      { "", 0, "not a NumPy .npy file" },
      { "\x93NUMPY", 6, "not a NumPy .npy file" },
      { "\x89PNG\r\n\x1a\n\0\0\0\0", 12, "not a NumPy .npy file" },
      { "\x93NUMPY\x03\x00\x10\x00\x00\x00", 12, "version 3.0 is not supported" },
      { "\x93NUMPY\x01\x00\x40\x00{", 11, "ends inside the header" },
      { "\x93NUMPY\x01\x00", 8, "ends inside the header" },
      { "\x93NUMPY\x02\x00\x00\x00\x20\x00", 12, "more than the limit" },
      { "\x93NUMPY\x01\x00\x02\x00{\0", 12, "NUL byte" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
      {
        g_autofree char *name = g_strdup_printf ("raw%u.npy", i);
        g_autofree char *path = write_tmp_file (dir, name, raw[i].bytes,
                                                raw[i].len);
        HdNpy *npy = hd_npy_read (path, &error);

        g_assert_null (npy);
        assert_error_names (error, path, raw[i].problem);
        g_clear_error (&error);
      }
  }

  /* In memory, the display name is used. */
  {
    g_autoptr(GBytes) bytes = make_npy (1, "{'descr': '>f4', 'fortran_order': "
                                           "False, 'shape': (4,), }", zeros, 16);
    HdNpy *npy = hd_npy_read_bytes (bytes, "z.npy", &error);

    g_assert_null (npy);
    g_assert_cmpstr (error->message, ==,
                     "z.npy: dtype '>f4' is not supported; expected "
                     "little-endian float32 or float64 ('<f4', '<f8')");
    g_clear_error (&error);
  }

  /* Missing files and folders. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing.npy", NULL);
    HdNpy *npy = hd_npy_read (missing, &error);

    g_assert_null (npy);
    assert_error_names (error, missing, "No such file or directory");
    g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
    g_clear_error (&error);

    npy = hd_npy_read (dir, &error);
    g_assert_null (npy);
    assert_error_names (error, dir, "it is a folder, not a regular file");
    g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
    g_clear_error (&error);
  }

  /* A FIFO without a writer: refused at once, not waited on. */
  {
    g_autofree char *fifo = hd_test_make_fifo (dir, "fifo.npy");
    HdNpy *npy;

    hd_test_hang_guard (10);
    npy = hd_npy_read (fifo, &error);
    hd_test_hang_guard (0);
    g_assert_null (npy);
    assert_error_names (error, fifo, "it is a named pipe (FIFO), not a regular file");
    g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
    g_clear_error (&error);
  }

  hd_test_rmdir_recursive (dir);
}

static void
test_npy_write_errors (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *file = write_tmp_file (dir, "plain-file", "x", 1);
  g_autofree char *under_file = g_build_filename (file, "x.npy", NULL);
  g_autofree char *missing_dir = g_build_filename (dir, "no-such-folder",
                                                   "x.npy", NULL);
  g_autofree char *existing = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 shape[] = { 2 };
  const float data[] = { 1.0f, 2.0f };

  g_assert_false (hd_npy_write_f32 (under_file, shape, 1, data, &error));
  assert_error_names (error, under_file, "Not a directory");
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
  g_clear_error (&error);

  g_assert_false (hd_npy_write_f32 (missing_dir, shape, 1, data, &error));
  assert_error_names (error, missing_dir, "No such file or directory");
  g_clear_error (&error);

  /* Replacing a folder fails and leaves it (and nothing else) there. */
  existing = g_build_filename (dir, "folder.npy", NULL);
  g_assert_cmpint (g_mkdir (existing, 0700), ==, 0);
  g_assert_false (hd_npy_write_f32 (existing, shape, 1, data, &error));
  assert_error_names (error, existing, "Cannot write");
  g_clear_error (&error);
  g_assert_true (g_file_test (existing, G_FILE_TEST_IS_DIR));

  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *entry;
    guint count = 0;

    while ((entry = g_dir_read_name (d)) != NULL)
      count++;
    g_dir_close (d);
    g_assert_cmpuint (count, ==, 2); /* plain-file and folder.npy */
  }

  /* An existing file is never left half-written: make the write of the new
   * one fail part way (the file size limit works for root too). */
  {
    g_autofree char *target = g_build_filename (dir, "keep.npy", NULL);
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree float *big = g_new0 (float, 4096);
    const gint64 big_shape[] = { 4096 };
    struct rlimit saved, small;
    void (*saved_handler) (int);
    gsize before_len, after_len;
    gboolean ok;

    g_assert_true (hd_npy_write_f32 (target, shape, 1, data, &error));
    g_assert_no_error (error);
    g_file_get_contents (target, &before, &before_len, &error);
    g_assert_no_error (error);

    saved_handler = signal (SIGXFSZ, SIG_IGN);
    g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
    small = saved;
    small.rlim_cur = 1000;
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
    ok = hd_npy_write_f32 (target, big_shape, 1, big, &error);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
    signal (SIGXFSZ, saved_handler);

    g_assert_false (ok);
    assert_error_names (error, target, g_strerror (EFBIG));
    g_clear_error (&error);
    g_file_get_contents (target, &after, &after_len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (after, after_len, before, before_len);
  }

  /* No temporary file is left: plain-file, folder.npy and keep.npy. */
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *entry;
    guint count = 0;

    while ((entry = g_dir_read_name (d)) != NULL)
      count++;
    g_dir_close (d);
    g_assert_cmpuint (count, ==, 3);
  }

  /* The file in the way of the folder is untouched. */
  g_file_get_contents (file, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "x");

  hd_test_rmdir_recursive (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Latent/randn-seeds", test_randn_seeds);
  g_test_add_func ("/Hyperdomain/Latent/randn-prefix", test_randn_prefix);
  g_test_add_func ("/Hyperdomain/Latent/npy-read-fixtures", test_npy_read_fixtures);
  g_test_add_func ("/Hyperdomain/Latent/npy-round-trip", test_npy_round_trip);
  g_test_add_func ("/Hyperdomain/Latent/npy-read-f8", test_npy_read_f8);
  g_test_add_func ("/Hyperdomain/Latent/npy-errors", test_npy_errors);
  g_test_add_func ("/Hyperdomain/Latent/npy-write-errors", test_npy_write_errors);

  return g_test_run ();
}
