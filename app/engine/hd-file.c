/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"

/* Why a file that is not a regular one cannot be read, naming it. */
static void
set_not_regular_error (GError     **error,
                       const char  *name,
                       mode_t       mode)
{
  if (S_ISDIR (mode))
    g_set_error (error, HD_ERROR, HD_ERROR_IO,
                 _("Cannot read “%s”: it is a folder, not a regular file"), name);
  else if (S_ISFIFO (mode))
    g_set_error (error, HD_ERROR, HD_ERROR_IO,
                 _("Cannot read “%s”: it is a named pipe (FIFO), not a regular file"), name);
  else if (S_ISCHR (mode) || S_ISBLK (mode))
    g_set_error (error, HD_ERROR, HD_ERROR_IO,
                 _("Cannot read “%s”: it is a device, not a regular file"), name);
  else if (S_ISSOCK (mode))
    g_set_error (error, HD_ERROR, HD_ERROR_IO,
                 _("Cannot read “%s”: it is a socket, not a regular file"), name);
  else
    g_set_error (error, HD_ERROR, HD_ERROR_IO,
                 _("Cannot read “%s”: it is not a regular file"), name);
}

/* Opens PATH with O_NONBLOCK, so that a FIFO without a writer or a device
 * cannot block the open, then refuses anything but a regular file and
 * returns the descriptor in blocking mode. */
int
hd_file_open_regular (const char  *path,
                      const char  *name,
                      goffset     *size,
                      GError     **error)
{
  struct stat st;
  int fd, flags, saved_errno;

  g_return_val_if_fail (path != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot open “%s”: %s"),
                   name, g_strerror (saved_errno));
      return -1;
    }
  if (fstat (fd, &st) != 0)
    goto read_error;
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      set_not_regular_error (error, name, st.st_mode);
      return -1;
    }
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    goto read_error;

  if (size != NULL)
    *size = (goffset) st.st_size;
  return fd;

read_error:
  saved_errno = errno;
  close (fd);
  g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot read “%s”: %s"),
               name, g_strerror (saved_errno));
  return -1;
}

/* Reads a whole regular file, refusing anything larger than MAX_SIZE. */
GBytes *
hd_file_read_limited (const char  *path,
                      const char  *name,
                      gsize        max_size,
                      GError     **error)
{
  g_autofree guint8 *buffer = NULL;
  goffset file_size;
  gsize size, done = 0;
  int fd, saved_errno;

  fd = hd_file_open_regular (path, name, &file_size, error);
  if (fd < 0)
    return NULL;
  if ((guint64) file_size > max_size)
    {
      close (fd);
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("%s: the file is too large (%llu bytes)"),
                   name, (unsigned long long) file_size);
      return NULL;
    }

  size = (gsize) file_size;
  buffer = g_malloc (MAX (size, 1));
  while (done < size)
    {
      gssize got = read (fd, buffer + done, size - done);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          saved_errno = errno;
          close (fd);
          g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot read “%s”: %s"),
                       name, g_strerror (saved_errno));
          return NULL;
        }
      if (got == 0)
        break; /* shrank while reading: the format check reports it */
      done += (gsize) got;
    }
  close (fd);

  return g_bytes_new_take (g_steal_pointer (&buffer), done);
}

/* Writes CONTENTS to a temporary file beside PATH and renames it over PATH,
 * so PATH holds either the old or the new contents, never a mix. */
gboolean
hd_file_replace_contents (const char    *path,
                          const guint8  *contents,
                          gsize          length,
                          GError       **error)
{
  g_autofree char *tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  g_autofree char *name = g_filename_display_name (path);
  gsize done = 0;
  int fd, saved_errno;

  fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot write “%s”: %s"),
                   name, g_strerror (saved_errno));
      return FALSE;
    }

  while (done < length)
    {
      gssize written = write (fd, contents + done, length - done);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        goto fail;
      done += (gsize) written;
    }
  /* Flush before the rename when replacing a file, so that a crash cannot
   * leave an empty file where the old one was. */
  if (g_file_test (path, G_FILE_TEST_EXISTS) && fsync (fd) != 0)
    goto fail;
  if (close (fd) != 0)
    {
      fd = -1;
      goto fail;
    }
  fd = -1;
  if (g_rename (tmp_path, path) != 0)
    goto fail;
  return TRUE;

fail:
  saved_errno = errno;
  if (fd >= 0)
    close (fd);
  g_unlink (tmp_path);
  g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot write “%s”: %s"),
               name, g_strerror (saved_errno));
  return FALSE;
}
