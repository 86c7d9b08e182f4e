/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-png.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-file.h"

#define HD_PNG_KEYWORD "hyperdomain"

/* Limits for reading: generous for any image a person renders, small enough
 * that a hostile file cannot make libpng allocate much. */
#define HD_PNG_MAX_DIMENSION 100000
#define HD_PNG_MAX_CHUNK (16 * 1024 * 1024)
#define HD_PNG_MAX_CHUNK_COUNT 1000

static inline guint8
pixel_from_float (float x)
{
  /* The product is stored before the add so that the two operations are
   * rounded separately even where a compiler would fuse them. */
  volatile float product = x * 127.5f;
  float t = product + 128.0f;

  if (!(t >= 0.0f)) /* negative or NaN */
    return 0;
  if (t >= 255.0f)
    return 255;
  return (guint8) floorf (t);
}

void
hd_image_to_u8 (const float *img,
                int          channels,
                int          height,
                int          width,
                guint8      *out)
{
  gsize plane;

  g_return_if_fail (channels > 0 && height >= 0 && width >= 0);
  g_return_if_fail (img != NULL || height == 0 || width == 0);
  g_return_if_fail (out != NULL || height == 0 || width == 0);

  plane = (gsize) height * (gsize) width;
  for (int c = 0; c < channels; c++)
    {
      const float *src = img + (gsize) c * plane;
      guint8 *dst = out + c;

      for (gsize i = 0; i < plane; i++)
        dst[i * (gsize) channels] = pixel_from_float (src[i]);
    }
}

/* State shared with the libpng callbacks. */
typedef struct {
  int      fd;            /* read from */
  guint8  *out;           /* written to: the encoded file so far */
  gsize    out_length;
  gsize    out_allocated;
  int      saved_errno;   /* set when a read failed */
  gboolean truncated;     /* set when a read hit the end of the file */
  char     message[256];  /* the last libpng error */
  char     warning[256];  /* the last libpng warning, often the reason */
} PngIo;

static void
png_io_error (png_structp      png,
              png_const_charp  message)
{
  PngIo *io = png_get_error_ptr (png);

  /* Translators: stands for an error that libpng did not describe. */
  const char *unknown = _("unknown error");

  g_strlcpy (io->message, message != NULL ? message : unknown, sizeof io->message);
  png_longjmp (png, 1);
}

static void
png_io_warning (png_structp      png,
                png_const_charp  message)
{
  PngIo *io = png_get_error_ptr (png);

  if (message != NULL)
    g_strlcpy (io->warning, message, sizeof io->warning);
  g_debug ("libpng: %s", message);
}

/* Appends to the encoded file in memory, which hd_file_replace_contents
 * then writes in one piece. */
static void
png_io_write (png_structp png,
              png_bytep   data,
              size_t      length)
{
  PngIo *io = png_get_io_ptr (png);

  if (length > io->out_allocated - io->out_length)
    {
      gsize allocated = MAX (MAX (io->out_allocated * 2, 64 * 1024),
                             io->out_length + length);
      guint8 *grown = g_try_realloc (io->out, allocated);

      if (grown == NULL)
        png_error (png, _("not enough memory"));
      io->out = grown;
      io->out_allocated = allocated;
    }
  memcpy (io->out + io->out_length, data, length);
  io->out_length += length;
}

static void
png_io_flush (png_structp png)
{
}

static void
png_io_read (png_structp png,
             png_bytep   data,
             size_t      length)
{
  PngIo *io = png_get_io_ptr (png);
  size_t done = 0;

  while (done < length)
    {
      ssize_t got = read (io->fd, data + done, length - done);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          io->saved_errno = errno;
          png_error (png, g_strerror (io->saved_errno));
        }
      if (got == 0)
        {
          io->truncated = TRUE;
          png_error (png, _("the file ends too early"));
        }
      done += (size_t) got;
    }
}

/* Adds a text chunk KEY = TEXT with COMPRESSION (png_set_text copies the
 * strings). */
static void
set_text_chunk (png_structp  png,
                png_infop    info,
                const char  *key,
                const char  *text,
                int          compression)
{
  png_text chunk = { 0 };

  chunk.compression = compression;
  chunk.key = (png_charp) key;
  chunk.text = (png_charp) text;
  chunk.text_length = strlen (text);
  png_set_text (png, info, &chunk, 1);
}

/* All libpng calls that may fail, behind one setjmp; nothing that this
 * function changes after setjmp is used after a longjmp. */
static gboolean
png_encode (png_structp   png,
            png_infop     info,
            png_bytepp    rows,
            int           channels,
            int           height,
            int           width,
            const char   *metadata_json,
            const char   *export_info)
{
  if (setjmp (png_jmpbuf (png)))
    return FALSE;

  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 8,
                channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  if (metadata_json != NULL)
    set_text_chunk (png, info, HD_PNG_KEYWORD, metadata_json, PNG_ITXT_COMPRESSION_zTXt);
  /* ASCII: a plain tEXt chunk. */
  if (export_info != NULL)
    set_text_chunk (png, info, HD_PNG_EXPORT_KEYWORD, export_info, PNG_TEXT_COMPRESSION_NONE);
  png_write_info (png, info);
  png_write_image (png, rows);
  png_write_end (png, info);
  return TRUE;
}

gboolean
hd_png_write (const char  *path,
              const float *img,
              int          channels,
              int          height,
              int          width,
              const char  *metadata_json,
              GError     **error)
{
  return hd_png_write_scaled (path, img, channels, height, width, 1, HD_UPSCALE_NEAREST,
                              metadata_json, error);
}

gboolean
hd_png_write_scaled (const char      *path,
                     const float     *img,
                     int              channels,
                     int              height,
                     int              width,
                     int              scale,
                     HdUpscaleFilter  filter,
                     const char      *metadata_json,
                     GError         **error)
{
  g_autofree char *name = NULL;
  g_autofree guint8 *pixels = NULL;
  g_autofree png_bytep *rows = NULL;
  g_autofree char *export_info = NULL;
  png_structp png = NULL;
  png_infop info = NULL;
  PngIo io = { .fd = -1 };
  gsize row_bytes;
  gboolean encoded, written;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (img != NULL, FALSE);

  name = g_filename_display_name (path);

  if (scale < 1 || scale > HD_UPSCALE_MAX_SCALE)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Cannot write “%s”: the scale must be from 1 to %d, not %d"),
                   name, HD_UPSCALE_MAX_SCALE, scale);
      return FALSE;
    }

  if (channels != 1 && channels != 3)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Cannot write “%s”: a PNG needs an image with 3 channels "
                     "(RGB) or 1 (grey), not %d"), name, channels);
      return FALSE;
    }
  if (height <= 0 || width <= 0 ||
      height > HD_PNG_MAX_DIMENSION / scale || width > HD_PNG_MAX_DIMENSION / scale)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Cannot write “%s”: a %d×%d image cannot be saved as PNG"),
                   name, width * (gint64) scale > G_MAXINT ? width : width * scale,
                   height * (gint64) scale > G_MAXINT ? height : height * scale);
      return FALSE;
    }
  if (metadata_json != NULL && !g_utf8_validate (metadata_json, -1, NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Cannot write “%s”: the metadata is not valid UTF-8"), name);
      return FALSE;
    }

  row_bytes = (gsize) width * (gsize) channels;
  pixels = g_try_malloc_n ((gsize) height, row_bytes);
  rows = g_try_new (png_bytep, height * scale);
  if (pixels == NULL || rows == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   _("Cannot write “%s”: not enough memory for a %d×%d image"),
                   name, width * scale, height * scale);
      return FALSE;
    }
  hd_image_to_u8 (img, channels, height, width, pixels);
  if (scale > 1)
    {
      /* The bytes of the image at 1x, enlarged: nearest gives exactly
       * the 1x file's pixels, repeated. */
      g_autofree guint8 *small = g_steal_pointer (&pixels);

      pixels = g_try_malloc_n ((gsize) height * scale, row_bytes * scale);
      if (pixels == NULL ||
          !hd_upscale_u8 (small, channels, height, width, scale, filter, pixels))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                       _("Cannot write “%s”: not enough memory for a %d×%d image"),
                       name, width * scale, height * scale);
          return FALSE;
        }
      height *= scale;
      width *= scale;
      row_bytes *= scale;
      export_info = g_strdup_printf ("{\"scale\":%d,\"filter\":\"%s\"}", scale,
                                     hd_upscale_filter_to_string (filter));
    }
  for (int y = 0; y < height; y++)
    rows[y] = pixels + (gsize) y * row_bytes;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &io,
                                 png_io_error, png_io_warning);
  if (png != NULL)
    info = png_create_info_struct (png);
  if (png == NULL || info == NULL)
    {
      png_destroy_write_struct (&png, &info);
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   _("Cannot write “%s”: not enough memory"), name);
      return FALSE;
    }
  png_set_write_fn (png, &io, png_io_write, png_io_flush);

  encoded = png_encode (png, info, rows, channels, height, width,
                        metadata_json, export_info);
  png_destroy_write_struct (&png, &info);
  if (!encoded)
    {
      g_free (io.out);
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot write “%s”: %s"),
                   name, io.message);
      return FALSE;
    }

  written = hd_file_replace_contents (path, io.out, io.out_length, error);
  g_free (io.out);
  return written;
}

/* Reads the chunks up to the image data, behind one setjmp like
 * png_encode.  Returns the bytes of one row, or 0 on error. */
static gsize
png_decode_start (png_structp png,
                  png_infop   info,
                  int        *n_rows)
{
  if (setjmp (png_jmpbuf (png)))
    return 0;

  png_set_sig_bytes (png, 8);
  png_set_user_limits (png, HD_PNG_MAX_DIMENSION, HD_PNG_MAX_DIMENSION);
  png_set_chunk_malloc_max (png, HD_PNG_MAX_CHUNK);
  png_set_chunk_cache_max (png, HD_PNG_MAX_CHUNK_COUNT);
  png_read_info (png, info);
  *n_rows = (int) png_get_image_height (png, info) *
            png_set_interlace_handling (png);
  png_start_read_image (png);
  return png_get_rowbytes (png, info);
}

/* Reads (and drops) the image data, then the chunks up to IEND.  libpng
 * needs the rows decoded to get past the image data; this also checks
 * that the file is intact.  Returns FALSE on error. */
static gboolean
png_decode_finish (png_structp png,
                   png_infop   end_info,
                   png_bytep   row,
                   int         n_rows)
{
  if (setjmp (png_jmpbuf (png)))
    return FALSE;

  for (int y = 0; y < n_rows; y++)
    png_read_row (png, row, NULL);
  png_read_end (png, end_info);
  return TRUE;
}

/* The text with KEYWORD of INFO as UTF-8, or NULL.  Sets *FOUND when there
 * is such a chunk, even when it cannot be converted. */
static char *
find_metadata (png_structp  png,
               png_infop    info,
               const char  *keyword,
               gboolean    *found)
{
  png_textp texts = NULL;
  int n_texts = png_get_text (png, info, &texts, NULL);

  for (int i = 0; i < n_texts; i++)
    {
      const png_text *text = &texts[i];

      if (text->key == NULL || strcmp (text->key, keyword) != 0 ||
          text->text == NULL)
        continue;
      *found = TRUE;
      if (text->compression == PNG_TEXT_COMPRESSION_NONE ||
          text->compression == PNG_TEXT_COMPRESSION_zTXt)
        /* tEXt and zTXt are Latin-1 */
        return g_convert (text->text, -1, "UTF-8", "ISO-8859-1",
                          NULL, NULL, NULL);
      if (g_utf8_validate (text->text, -1, NULL))
        return g_strdup (text->text);
    }
  return NULL;
}

/* Walks the chunk headers from the current offset (just past the
 * signature) and refuses a chunk longer than HD_PNG_MAX_CHUNK before
 * libpng sees it: some libpng versions allocate a text chunk's full
 * declared length before checking it.  Leaves the offset where it was. */
static gboolean
png_check_chunk_sizes (int          fd,
                       const char  *name,
                       GError     **error)
{
  off_t start = lseek (fd, 0, SEEK_CUR);
  off_t pos = start;
  guint n_chunks = 0;
  gboolean ok = TRUE;

  if (start < 0)
    return TRUE; /* not seekable: rely on libpng's own limits */

  for (;;)
    {
      guint8 header[8];
      guint32 length;

      if (pread (fd, header, sizeof header, pos) != (ssize_t) sizeof header)
        break; /* libpng reports the truncation */
      length = ((guint32) header[0] << 24) | ((guint32) header[1] << 16) |
               ((guint32) header[2] << 8) | header[3];
      if (length > HD_PNG_MAX_CHUNK)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       /* Translators: %.4s is the four-letter type of a PNG chunk, such as
                          IDAT. */
                       _("%s is damaged or hostile: a “%.4s” chunk claims %u bytes "
                         "(at most %d are accepted)"),
                       name, g_ascii_isalpha (header[4]) ? (const char *) header + 4 : "????",
                       length, HD_PNG_MAX_CHUNK);
          ok = FALSE;
          break;
        }
      if (memcmp (header + 4, "IEND", 4) == 0 || ++n_chunks > 100000)
        break;
      pos += 12 + (off_t) length;
    }
  lseek (fd, start, SEEK_SET);
  return ok;
}

/* The text with KEYWORD of the PNG PATH, or NULL: with ERROR set when the
 * file cannot be read or is damaged, else with *FOUND telling whether
 * there is such a chunk (whose text is then not valid). */
static char *
png_read_text (const char  *path,
               const char  *keyword,
               gboolean    *found_out,
               GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *metadata = NULL;
  png_structp png = NULL;
  png_infop info = NULL, end_info = NULL;
  PngIo io = { .fd = -1 };
  guint8 signature[8];
  g_autofree png_bytep row = NULL;
  gsize got = 0, row_bytes;
  int n_rows = 0;
  gboolean decoded, found = FALSE;

  g_return_val_if_fail (path != NULL, NULL);

  name = g_filename_display_name (path);

  io.fd = hd_file_open_regular (path, name, NULL, error);
  if (io.fd < 0)
    return NULL;

  while (got < sizeof signature)
    {
      ssize_t n = read (io.fd, signature + got, sizeof signature - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          close (io.fd);
          g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot read “%s”: %s"),
                       name, g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      got += (gsize) n;
    }
  if (got < sizeof signature || png_sig_cmp (signature, 0, sizeof signature) != 0)
    {
      close (io.fd);
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s is not a PNG image"), name);
      return NULL;
    }

  if (!png_check_chunk_sizes (io.fd, name, error))
    {
      close (io.fd);
      return NULL;
    }

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &io,
                                png_io_error, png_io_warning);
  if (png != NULL)
    info = png_create_info_struct (png);
  if (info != NULL)
    end_info = png_create_info_struct (png);
  if (png == NULL || info == NULL || end_info == NULL)
    {
      png_destroy_read_struct (&png, &info, &end_info);
      close (io.fd);
      g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                   _("Cannot read “%s”: not enough memory"), name);
      return NULL;
    }
  png_set_read_fn (png, &io, png_io_read);

  row_bytes = png_decode_start (png, info, &n_rows);
  decoded = row_bytes > 0;
  if (decoded)
    {
      row = g_try_malloc (row_bytes);
      if (row == NULL)
        {
          png_destroy_read_struct (&png, &info, &end_info);
          close (io.fd);
          g_set_error (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY,
                       _("Cannot read “%s”: not enough memory"), name);
          return NULL;
        }
      decoded = png_decode_finish (png, end_info, row, n_rows);
    }
  if (decoded)
    {
      metadata = find_metadata (png, info, keyword, &found);
      if (metadata == NULL && !found)
        metadata = find_metadata (png, end_info, keyword, &found);
    }
  png_destroy_read_struct (&png, &info, &end_info);
  close (io.fd);

  if (!decoded)
    {
      if (io.saved_errno != 0)
        g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot read “%s”: %s"),
                     name, g_strerror (io.saved_errno));
      else
        g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                     /* Translators: a file name, the error from libpng, then libpng’s last
                        warning, if any, as “ (”, the warning, “)”. */
                     _("%s is a damaged PNG image: %s%s%s%s"), name, io.message,
                     io.warning[0] != '\0' ? " (" : "", io.warning,
                     io.warning[0] != '\0' ? ")" : "");
      return NULL;
    }
  *found_out = found;
  return g_steal_pointer (&metadata);
}

char *
hd_png_read_metadata (const char  *path,
                      GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *metadata = NULL;
  GError *local_error = NULL;
  gboolean found = FALSE;

  g_return_val_if_fail (path != NULL, NULL);

  metadata = png_read_text (path, HD_PNG_KEYWORD, &found, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  name = g_filename_display_name (path);
  if (metadata == NULL)
    {
      if (found)
        g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                     _("%s has damaged Hyperdomain metadata (the text is not "
                       "valid UTF-8)"), name);
      else
        g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                     _("%s has no Hyperdomain metadata"), name);
      return NULL;
    }
  return g_steal_pointer (&metadata);
}

char *
hd_png_read_text (const char  *path,
                  const char  *keyword,
                  GError     **error)
{
  g_autofree char *name = NULL;
  char *text;
  GError *local_error = NULL;
  gboolean found = FALSE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (keyword != NULL, NULL);

  text = png_read_text (path, keyword, &found, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (text == NULL)
    {
      name = g_filename_display_name (path);
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   found ? _("%s has a damaged “%s” text (it is not valid UTF-8)")
                         : _("%s has no “%s” text"),
                   name, keyword);
    }
  return text;
}
