/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <png.h>

#include "hd-error.h"
#include "hd-png.h"
#include "hd-test-util.h"

static guint8
one_pixel (float x)
{
  guint8 out;

  hd_image_to_u8 (&x, 1, 1, 1, &out);
  return out;
}

static float
float_from_bits (guint32 bits)
{
  float x;

  memcpy (&x, &bits, sizeof x);
  return x;
}

static void
test_pixel_formula (void)
{
  g_assert_cmpuint (one_pixel (-1.0f), ==, 0);
  g_assert_cmpuint (one_pixel (1.0f), ==, 255);
  g_assert_cmpuint (one_pixel (0.0f), ==, 128);
  g_assert_cmpuint (one_pixel (-0.0f), ==, 128);
  g_assert_cmpuint (one_pixel (0.5f), ==, 191);
  g_assert_cmpuint (one_pixel (-0.5f), ==, 64);
  g_assert_cmpuint (one_pixel (10.0f), ==, 255);
  g_assert_cmpuint (one_pixel (-10.0f), ==, 0);
  g_assert_cmpuint (one_pixel (NAN), ==, 0);
  g_assert_cmpuint (one_pixel (-NAN), ==, 0);
  g_assert_cmpuint (one_pixel (INFINITY), ==, 255);
  g_assert_cmpuint (one_pixel (-INFINITY), ==, 0);
  g_assert_cmpuint (one_pixel (FLT_MAX), ==, 255);
  /* Just below the boundaries. */
  g_assert_cmpuint (one_pixel (nextafterf (-1.0f, -2.0f)), ==, 0);
  g_assert_cmpuint (one_pixel (127.0f / 127.5f), ==, 255);
}

static void
test_pixel_no_fma (void)
{
  /* x = (k - 128) / 127.5 in float32: x * 127.5 rounds up to exactly
   * k - 128, so the two-step result is k, while a fused multiply-add would
   * see the exact product just below it and give k - 1. */
  const struct { guint32 bits; guint8 expected; } cases[] = {
    { 0xbf7cfcfd, 2 },  /* -0.988235295 */
    { 0xbf7afafb, 3 },  /* -0.980392158 */
    { 0xbf78f8f9, 4 },  /* -0.972549021 */
    { 0xbf6eeeef, 9 },  /* -0.933333337 */
    { 0xbf6aeaeb, 11 }, /* -0.917647064 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      float x = float_from_bits (cases[i].bits);

      g_assert_cmpuint (one_pixel (x), ==, cases[i].expected);
      /* Make sure the case really tells the two apart. */
      g_assert_cmpfloat (floorf (fmaf (x, 127.5f, 128.0f)), ==,
                         (float) cases[i].expected - 1.0f);
    }
}

static void
test_pixel_layout (void)
{
  /* 3 x 2 x 2 planar -> 2 x 2 x 3 interleaved */
  const float img[12] = {
    -1.0f, 0.0f, 1.0f, 0.5f,   /* R */
    1.0f, 1.0f, -1.0f, -1.0f,  /* G */
    0.0f, -1.0f, 0.0f, 1.0f,   /* B */
  };
  const guint8 expected[12] = {
    0, 255, 128,    128, 255, 0,
    255, 0, 128,    191, 0, 255,
  };
  guint8 out[12];

  hd_image_to_u8 (img, 3, 2, 2, out);
  g_assert_cmpmem (out, sizeof out, expected, sizeof expected);
}

static float *
make_image (int      channels,
            int      height,
            int      width,
            guint32  seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  gsize n = (gsize) channels * (gsize) height * (gsize) width;
  float *img = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    img[i] = (float) g_rand_double_range (rand, -1.2, 1.2);
  if (n > 3)
    {
      img[0] = NAN;
      img[1] = -1.0f;
      img[2] = 1.0f;
    }
  return img;
}

/* The pixels of PATH, read with libpng's simplified API. */
static guint8 *
read_pixels (const char *path,
             int         channels,
             int         height,
             int         width)
{
  png_image image = { 0 };
  guint8 *pixels;

  image.version = PNG_IMAGE_VERSION;
  g_assert_true (png_image_begin_read_from_file (&image, path));
  g_assert_cmpuint (image.width, ==, (guint) width);
  g_assert_cmpuint (image.height, ==, (guint) height);
  g_assert_cmpuint (PNG_IMAGE_PIXEL_CHANNELS (image.format), ==,
                    (guint) channels);
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  pixels = g_malloc (PNG_IMAGE_SIZE (image));
  g_assert_true (png_image_finish_read (&image, NULL, pixels, 0, NULL));
  png_image_free (&image);
  return pixels;
}

static void
check_write_read (const char *dir,
                  int         channels,
                  int         height,
                  int         width,
                  const char *metadata)
{
  g_autofree char *path = g_build_filename (dir, "image.png", NULL);
  g_autofree float *img = make_image (channels, height, width, 42);
  g_autofree guint8 *expected = g_malloc ((gsize) channels * height * width);
  g_autofree guint8 *got = NULL;
  g_autofree char *read_back = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (hd_png_write (path, img, channels, height, width, metadata,
                               &error));
  g_assert_no_error (error);

  hd_image_to_u8 (img, channels, height, width, expected);
  got = read_pixels (path, channels, height, width);
  g_assert_cmpmem (got, (gsize) channels * height * width,
                   expected, (gsize) channels * height * width);

  read_back = hd_png_read_metadata (path, &error);
  if (metadata != NULL)
    {
      g_assert_no_error (error);
      g_assert_cmpstr (read_back, ==, metadata);
    }
  else
    {
      g_assert_null (read_back);
      g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_FORMAT));
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "has no Hyperdomain metadata"));
    }
}

static guint
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint count = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    count++;
  g_dir_close (d);
  return count;
}

static void
test_write_read (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autoptr(GString) big = g_string_new ("{\"w\": [");
  const char *metadata =
    "{\"generator\": {\"name\": \"Ffhq – Gesichter\", "
    "\"path\": \"/home/zoë/モデル/ffhq.safetensors\"}, \"seed\": 42, "
    "\"psi\": 0.7, \"note\": \"😀 \\\"quoted\\\"\\n\"}";

  check_write_read (dir, 3, 32, 32, metadata);
  check_write_read (dir, 1, 17, 9, metadata);
  check_write_read (dir, 3, 1, 1, "{}");
  check_write_read (dir, 3, 8, 8, NULL);

  /* Many IDAT chunks and large metadata (a W+ latent written out). */
  for (int i = 0; i < 18 * 512; i++)
    g_string_append_printf (big, "%s%.9g", i > 0 ? ", " : "",
                            sin (i * 0.37) * 1.7);
  g_string_append (big, "]}");
  check_write_read (dir, 3, 300, 200, big->str);

  /* Writing over an existing image replaces it, leaving no temporary. */
  check_write_read (dir, 3, 4, 4, "{\"second\": true}");
  g_assert_cmpuint (count_entries (dir), ==, 1);

  hd_test_rmdir_recursive (dir);
}

/* Nearest enlarges every pixel to a SCALE x SCALE square of it. */
static void
test_upscale_nearest (void)
{
  const guint8 src[2 * 3 * 3] = {
    1, 2, 3,     4, 5, 6,     7, 8, 9,
    10, 11, 12,  13, 14, 15,  16, 17, 18,
  };

  for (int scale = 1; scale <= HD_UPSCALE_MAX_SCALE; scale++)
    {
      int w = 3 * scale, h = 2 * scale;
      g_autofree guint8 *dst = g_malloc ((gsize) w * h * 3);

      g_assert_true (hd_upscale_u8 (src, 3, 2, 3, scale, HD_UPSCALE_NEAREST, dst));
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          g_assert_cmpmem (dst + ((gsize) y * w + x) * 3, 3,
                           src + ((gsize) (y / scale) * 3 + x / scale) * 3, 3);
    }
}

/* Lanczos-3: a flat image stays flat, the mean of an image is kept, an odd
 * scale keeps the source pixel at the centre of its square, a step edge
 * rises monotonically up to the ringing, and 1x copies. */
static void
test_upscale_lanczos (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 flat[4 * 5 * 3], noise[9 * 9];
  g_autofree guint8 *dst = g_malloc (9 * 8 * 9 * 8 * 3);
  HdUpscaleFilter filter;

  memset (flat, 173, sizeof flat);
  for (int scale = 2; scale <= HD_UPSCALE_MAX_SCALE; scale *= 2)
    {
      g_assert_true (hd_upscale_u8 (flat, 3, 4, 5, scale, HD_UPSCALE_LANCZOS3, dst));
      for (gsize i = 0; i < (gsize) 4 * 5 * 3 * scale * scale; i++)
        g_assert_cmpuint (dst[i], ==, 173);
    }

  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_true (hd_upscale_u8 (noise, 1, 9, 9, 3, HD_UPSCALE_LANCZOS3, dst));
  for (int y = 0; y < 9; y++)
    for (int x = 0; x < 9; x++)
      g_assert_cmpuint (dst[(gsize) (3 * y + 1) * 27 + 3 * x + 1], ==, noise[y * 9 + x]);

  g_assert_true (hd_upscale_u8 (noise, 1, 9, 9, 1, HD_UPSCALE_LANCZOS3, dst));
  g_assert_cmpmem (dst, sizeof noise, noise, sizeof noise);

  /* A black-to-white step, 4x: black far left, white far right, and
   * rising across the edge. */
  {
    guint8 step[8];

    for (int x = 0; x < 8; x++)
      step[x] = x < 4 ? 0 : 255;
    g_assert_true (hd_upscale_u8 (step, 1, 1, 8, 4, HD_UPSCALE_LANCZOS3, dst));
    g_assert_cmpuint (dst[0], ==, 0);
    g_assert_cmpuint (dst[31], ==, 255);
    for (int x = 13; x < 17; x++)
      g_assert_cmpuint (dst[x], <, dst[x + 1]);
    /* Symmetric about the edge. */
    g_assert_cmpuint (dst[15] + dst[16], ==, 255);
    g_assert_cmpuint (dst[14] + dst[17], ==, 255);
  }

  g_assert_true (hd_upscale_filter_from_string ("lanczos", &filter));
  g_assert_cmpint (filter, ==, HD_UPSCALE_LANCZOS3);
  g_assert_true (hd_upscale_filter_from_string ("nearest", &filter));
  g_assert_cmpint (filter, ==, HD_UPSCALE_NEAREST);
  g_assert_false (hd_upscale_filter_from_string ("bilinear", &filter));
  g_assert_cmpstr (hd_upscale_filter_to_string (HD_UPSCALE_LANCZOS3), ==, "lanczos3");
  g_assert_cmpstr (hd_upscale_filter_to_string (HD_UPSCALE_NEAREST), ==, "nearest");
}

/* A scaled export: the 1x pixels repeated (nearest), the same state, and
 * the scale and filter in their own text chunk; 1x writes the same file
 * as hd_png_write. */
static void
test_write_scaled (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *one = g_build_filename (dir, "one.png", NULL);
  g_autofree char *one_scaled = g_build_filename (dir, "one-scaled.png", NULL);
  g_autofree char *four = g_build_filename (dir, "four.png", NULL);
  g_autofree char *smooth = g_build_filename (dir, "smooth.png", NULL);
  g_autofree float *img = make_image (3, 6, 5, 3);
  g_autofree guint8 *small = NULL;
  g_autofree guint8 *big = NULL;
  g_autofree guint8 *soft = NULL;
  g_autofree char *json = NULL;
  g_autofree char *info = NULL;
  g_autofree char *contents_a = NULL;
  g_autofree char *contents_b = NULL;
  g_autoptr(GError) error = NULL;
  const char *metadata = "{\"seed\": 5}";
  gsize len_a, len_b;

  g_assert_true (hd_png_write (one, img, 3, 6, 5, metadata, &error));
  g_assert_true (hd_png_write_scaled (one_scaled, img, 3, 6, 5, 1, HD_UPSCALE_LANCZOS3,
                                      metadata, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (one, &contents_a, &len_a, NULL));
  g_assert_true (g_file_get_contents (one_scaled, &contents_b, &len_b, NULL));
  g_assert_cmpmem (contents_a, len_a, contents_b, len_b);
  info = hd_png_read_text (one, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_null (info);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_clear_error (&error);

  g_assert_true (hd_png_write_scaled (four, img, 3, 6, 5, 4, HD_UPSCALE_NEAREST,
                                      metadata, &error));
  g_assert_no_error (error);
  small = read_pixels (one, 3, 6, 5);
  big = read_pixels (four, 3, 24, 20);
  for (int y = 0; y < 24; y++)
    for (int x = 0; x < 20; x++)
      g_assert_cmpmem (big + ((gsize) y * 20 + x) * 3, 3,
                       small + ((gsize) (y / 4) * 5 + x / 4) * 3, 3);
  json = hd_png_read_metadata (four, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json, ==, metadata);
  info = hd_png_read_text (four, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info, ==, "{\"scale\":4,\"filter\":\"nearest\"}");
  g_clear_pointer (&info, g_free);

  g_assert_true (hd_png_write_scaled (smooth, img, 3, 6, 5, 2, HD_UPSCALE_LANCZOS3,
                                      metadata, &error));
  g_assert_no_error (error);
  soft = read_pixels (smooth, 3, 12, 10);
  {
    g_autofree guint8 *expected = g_malloc (12 * 10 * 3);

    g_assert_true (hd_upscale_u8 (small, 3, 6, 5, 2, HD_UPSCALE_LANCZOS3, expected));
    g_assert_cmpmem (soft, 12 * 10 * 3, expected, 12 * 10 * 3);
  }
  info = hd_png_read_text (smooth, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info, ==, "{\"scale\":2,\"filter\":\"lanczos3\"}");

  /* Out of range, nothing written. */
  g_assert_false (hd_png_write_scaled (smooth, img, 3, 6, 5, 9, HD_UPSCALE_NEAREST,
                                       metadata, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hd_png_write_scaled (smooth, img, 3, 6, 5, 0, HD_UPSCALE_NEAREST,
                                       metadata, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_assert_cmpuint (count_entries (dir), ==, 4);

  hd_test_rmdir_recursive (dir);
}

/* A PNG with TEXT (key KEY) after the image data, written with libpng. */
static void
write_png_text_after_idat (const char *path,
                           const char *key,
                           const char *text,
                           int         compression)
{
  FILE *file = g_fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING,
                                             NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  png_infop end_info = png_create_info_struct (png);
  guint8 row[3 * 16] = { 0 };
  png_text chunk = { 0 };

  g_assert_nonnull (file);
  g_assert_false (setjmp (png_jmpbuf (png)));
  png_init_io (png, file);
  png_set_IHDR (png, info, 16, 16, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  for (int y = 0; y < 16; y++)
    png_write_row (png, row);
  chunk.compression = compression;
  chunk.key = (png_charp) key;
  chunk.text = (png_charp) text;
  png_set_text (png, end_info, &chunk, 1);
  png_write_end (png, end_info);
  png_destroy_info_struct (png, &end_info);
  png_destroy_write_struct (&png, &info);
  g_assert_cmpint (fclose (file), ==, 0);
}

static void
test_read_metadata_variants (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "after-idat.png", NULL);
  g_autoptr(GError) error = NULL;
  char *metadata;

  /* After the image data, as iTXt. */
  write_png_text_after_idat (path, "hyperdomain", "{\"seed\": \"ÿ€\"}",
                             PNG_ITXT_COMPRESSION_NONE);
  metadata = hd_png_read_metadata (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (metadata, ==, "{\"seed\": \"ÿ€\"}");
  g_free (metadata);

  /* As Latin-1 tEXt (a tool that rewrote the chunk). */
  write_png_text_after_idat (path, "hyperdomain", "{\"name\": \"caf\xe9\"}",
                             PNG_TEXT_COMPRESSION_NONE);
  metadata = hd_png_read_metadata (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (metadata, ==, "{\"name\": \"café\"}");
  g_free (metadata);

  /* Other text, but not ours. */
  write_png_text_after_idat (path, "Comment", "hello",
                             PNG_TEXT_COMPRESSION_zTXt);
  metadata = hd_png_read_metadata (path, &error);
  g_assert_null (metadata);
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_FORMAT));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "has no Hyperdomain metadata"));
  g_clear_error (&error);

  /* iTXt that is not UTF-8. */
  write_png_text_after_idat (path, "hyperdomain", "{\"x\": \"\xff\xfe\"}",
                             PNG_ITXT_COMPRESSION_zTXt);
  metadata = hd_png_read_metadata (path, &error);
  g_assert_null (metadata);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "not valid UTF-8"));
  g_clear_error (&error);

  hd_test_rmdir_recursive (dir);
}

static void
assert_read_fails (const char *path,
                   gint        code,
                   const char *problem)
{
  g_autoptr(GError) error = NULL;
  char *metadata = hd_png_read_metadata (path, &error);

  g_assert_null (metadata);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_true (g_error_matches (error, HD_ERROR, code));
  if (strstr (error->message, path) == NULL ||
      strstr (error->message, problem) == NULL)
    g_error ("“%s” should name “%s” and “%s”", error->message, path, problem);
}

/* The CRC-32 of PNG chunks (ISO 3309), bit by bit. */
static guint32
chunk_crc (const guint8 *data,
           gsize         length)
{
  guint32 crc = 0xffffffffU;

  for (gsize i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (int bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
    }
  return crc ^ 0xffffffffU;
}

static void
test_read_errors (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *good = g_build_filename (dir, "good.png", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_autofree float *img = make_image (3, 64, 64, 7);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_assert_true (hd_png_write (good, img, 3, 64, 64, "{\"seed\": 7}", &error));
  g_assert_no_error (error);
  g_file_get_contents (good, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 1000);

  assert_read_fails (missing, HD_ERROR_IO, "No such file or directory");

  g_file_set_contents (bad, "GIF89a not a png at all", -1, &error);
  g_assert_no_error (error);
  assert_read_fails (bad, HD_ERROR_FORMAT, "is not a PNG image");

  g_file_set_contents (bad, "", 0, &error);
  g_assert_no_error (error);
  assert_read_fails (bad, HD_ERROR_FORMAT, "is not a PNG image");

  /* Truncated: right after the signature, inside IHDR, inside the image
   * data, and before IEND. */
  {
    const gsize cuts[] = { 8, 20, length / 2, length - 6 };

    for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
      {
        g_file_set_contents (bad, contents, (gssize) cuts[i], &error);
        g_assert_no_error (error);
        assert_read_fails (bad, HD_ERROR_FORMAT, "is a damaged PNG image");
        assert_read_fails (bad, HD_ERROR_FORMAT, "ends too early");
      }
  }

  /* A damaged IHDR (its CRC no longer matches). */
  {
    g_autofree char *damaged = g_memdup2 (contents, length);

    damaged[8 + 8 + 3] ^= 0x01; /* width */
    g_file_set_contents (bad, damaged, (gssize) length, &error);
    g_assert_no_error (error);
    assert_read_fails (bad, HD_ERROR_FORMAT, "is a damaged PNG image");
  }

  /* A damaged byte in the image data. */
  {
    g_autofree char *damaged = g_memdup2 (contents, length);

    damaged[length / 2] ^= 0x10;
    g_file_set_contents (bad, damaged, (gssize) length, &error);
    g_assert_no_error (error);
    assert_read_fails (bad, HD_ERROR_FORMAT, "is a damaged PNG image");
  }

  /* A huge width in IHDR, with a correct CRC. */
  {
    g_autofree char *damaged = g_memdup2 (contents, length);
    guint32 crc;

    /* width = 0x7fffffff */
    memcpy (damaged + 16, "\x7f\xff\xff\xff", 4);
    crc = chunk_crc ((const guint8 *) damaged + 12, 4 + 13);
    damaged[29] = (char) (crc >> 24);
    damaged[30] = (char) (crc >> 16);
    damaged[31] = (char) (crc >> 8);
    damaged[32] = (char) crc;
    g_file_set_contents (bad, damaged, (gssize) length, &error);
    g_assert_no_error (error);
    assert_read_fails (bad, HD_ERROR_FORMAT, "is a damaged PNG image");
  }

  assert_read_fails (dir, HD_ERROR_IO, "Cannot read");
  assert_read_fails (dir, HD_ERROR_IO, "it is a folder, not a regular file");

  /* A FIFO without a writer: refused at once, not waited on. */
  {
    g_autofree char *fifo = hd_test_make_fifo (dir, "fifo.png");

    hd_test_hang_guard (10);
    assert_read_fails (fifo, HD_ERROR_IO, "it is a named pipe (FIFO), not a regular file");
    hd_test_hang_guard (0);
  }

  hd_test_rmdir_recursive (dir);
}

static void
test_write_errors (void)
{
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *file = g_build_filename (dir, "plain-file", NULL);
  g_autofree char *under_file = g_build_filename (file, "x.png", NULL);
  g_autofree char *target = g_build_filename (dir, "keep.png", NULL);
  g_autofree char *folder = g_build_filename (dir, "folder.png", NULL);
  g_autofree float *img = make_image (3, 64, 64, 3);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  gsize before_len, after_len;

  g_file_set_contents (file, "x", 1, &error);
  g_assert_no_error (error);

  g_assert_false (hd_png_write (under_file, img, 3, 64, 64, "{}", &error));
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
  g_test_message ("error: %s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot write “"));
  g_assert_nonnull (strstr (error->message, under_file));
  g_assert_nonnull (strstr (error->message, "Not a directory"));
  g_clear_error (&error);

  g_assert_false (hd_png_write (target, img, 2, 64, 64, "{}", &error));
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_ARGUMENT));
  g_assert_nonnull (strstr (error->message, target));
  g_assert_nonnull (strstr (error->message, "3 channels"));
  g_clear_error (&error);

  g_assert_false (hd_png_write (target, img, 3, 64, 64, "{\"x\": \"\xff\"}",
                                &error));
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_ARGUMENT));
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_clear_error (&error);

  /* A folder in the way: the rename fails, the folder stays. */
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_false (hd_png_write (folder, img, 3, 64, 64, "{}", &error));
  g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
  g_assert_nonnull (strstr (error->message, folder));
  g_clear_error (&error);
  g_assert_true (g_file_test (folder, G_FILE_TEST_IS_DIR));

  /* An existing image is never left half-written: make the write of the
   * new one fail part way (the file size limit works for root too). */
  g_assert_true (hd_png_write (target, img, 3, 8, 8, "{\"old\": 1}", &error));
  g_assert_no_error (error);
  g_file_get_contents (target, &before, &before_len, &error);
  g_assert_no_error (error);
  {
    struct rlimit saved, small;
    void (*saved_handler) (int) = signal (SIGXFSZ, SIG_IGN);
    gboolean ok;

    g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
    small = saved;
    small.rlim_cur = 2000;
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
    ok = hd_png_write (target, img, 3, 64, 64, "{\"new\": 1}", &error);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
    signal (SIGXFSZ, saved_handler);

    g_assert_false (ok);
    g_assert_true (g_error_matches (error, HD_ERROR, HD_ERROR_IO));
    g_test_message ("error: %s", error->message);
    g_assert_nonnull (strstr (error->message, target));
    g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
    g_clear_error (&error);
  }
  g_file_get_contents (target, &after, &after_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (after, after_len, before, before_len);

  /* Where the folder is read-only (not for root, who may write anyway). */
  if (geteuid () != 0)
    {
      g_clear_pointer (&after, g_free);
      g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
      g_assert_false (hd_png_write (target, img, 3, 64, 64, "{}", &error));
      g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
      g_assert_nonnull (strstr (error->message, target));
      g_assert_nonnull (strstr (error->message, g_strerror (EACCES)));
      g_clear_error (&error);
      g_file_get_contents (target, &after, &after_len, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (after, after_len, before, before_len);
    }

  /* No temporary files are left: plain-file, folder.png and keep.png. */
  g_assert_cmpuint (count_entries (dir), ==, 3);

  hd_test_rmdir_recursive (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Png/pixel-formula", test_pixel_formula);
  g_test_add_func ("/Hyperdomain/Png/pixel-no-fma", test_pixel_no_fma);
  g_test_add_func ("/Hyperdomain/Png/pixel-layout", test_pixel_layout);
  g_test_add_func ("/Hyperdomain/Png/write-read", test_write_read);
  g_test_add_func ("/Hyperdomain/Png/upscale-nearest", test_upscale_nearest);
  g_test_add_func ("/Hyperdomain/Png/upscale-lanczos", test_upscale_lanczos);
  g_test_add_func ("/Hyperdomain/Png/write-scaled", test_write_scaled);
  g_test_add_func ("/Hyperdomain/Png/read-metadata-variants",
                   test_read_metadata_variants);
  g_test_add_func ("/Hyperdomain/Png/read-errors", test_read_errors);
  g_test_add_func ("/Hyperdomain/Png/write-errors", test_write_errors);

  return g_test_run ();
}
