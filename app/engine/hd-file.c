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

/* The errno value that the GFileError CODE stands for, or 0 for
 * G_FILE_ERROR_FAILED, which stands for every errno without a code of its
 * own (EFBIG, EDQUOT, ...). */
static int
errno_from_file_error (int code)
{
  static const int errnos[] = {
    EEXIST, EISDIR, EACCES, ENAMETOOLONG, ENOENT, ENOTDIR, ENXIO, ENODEV,
    EROFS, ETXTBSY, EFAULT, ELOOP, ENOSPC, ENOMEM, EMFILE, ENFILE, EBADF,
    EINVAL, EPIPE, EAGAIN, EINTR, EIO, EPERM, ENOSYS,
  };

  for (guint i = 0; i < G_N_ELEMENTS (errnos); i++)
    if ((int) g_file_error_from_errno (errnos[i]) == code)
      return errnos[i];
  return 0;
}

/* g_file_set_contents_full does the work (a temporary file beside PATH,
 * flushed before it replaces a file, then renamed over it).  Its messages
 * name the temporary file; this one names PATH, the file a person chose. */
gboolean
hd_file_replace_contents (const char    *path,
                          const guint8  *contents,
                          gsize          length,
                          GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  int errnum;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (contents != NULL || length == 0, FALSE);
  g_return_val_if_fail (length <= G_MAXSSIZE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_file_set_contents_full (path, (const char *) contents, (gssize) length,
                                G_FILE_SET_CONTENTS_CONSISTENT, 0666, &local_error))
    return TRUE;

  name = g_filename_display_name (path);
  errnum = errno_from_file_error (local_error->code);
  g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot write “%s”: %s"), name,
               errnum != 0 ? g_strerror (errnum) : local_error->message);
  return FALSE;
}
