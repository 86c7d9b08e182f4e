/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as an exported PNG: the metadata reader, then the state it
 * holds.  The bytes go through a memory file, as the reader takes a path. */
#define _GNU_SOURCE
#include <glib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hd-png.h"
#include "hd-state.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  int fd = memfd_create ("fuzz-png", MFD_CLOEXEC);
  g_autofree char *path = NULL;
  g_autofree char *json = NULL;
  g_autoptr(HdState) state = NULL;

  if (fd < 0)
    return 0;
  if (write (fd, data, size) == (ssize_t) size)
    {
      path = g_strdup_printf ("/proc/self/fd/%d", fd);
      json = hd_png_read_metadata (path, NULL);
      if (json != NULL)
        state = hd_state_from_json (json, NULL);
    }
  close (fd);
  return 0;
}
