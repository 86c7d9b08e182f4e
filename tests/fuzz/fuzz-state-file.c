/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as a session or preset file: hd_state_load_file with its
 * file-level checks (size limit, binary data, the error wrapping), then,
 * for a state it accepts, an atomic save and a reload that must give the
 * same state back. */
#define _GNU_SOURCE
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hd-state.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static char *save_dir;

static void
remove_save_dir (void)
{
  g_autofree char *path = g_build_filename (save_dir, "state.json", NULL);

  g_unlink (path);
  g_rmdir (save_dir);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  int fd = memfd_create ("fuzz-state", MFD_CLOEXEC);
  g_autofree char *path = NULL;
  g_autofree char *saved = NULL;
  g_autoptr(HdState) state = NULL;
  g_autoptr(HdState) again = NULL;
  g_autoptr(GError) error = NULL;

  if (fd < 0)
    return 0;
  if (write (fd, data, size) != (ssize_t) size)
    {
      close (fd);
      return 0;
    }
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
  state = hd_state_load_file (path, &error);
  close (fd);
  if (state == NULL)
    {
      /* A refusal always says what is wrong. */
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      g_assert_cmpstr (error->message, !=, "");
      return 0;
    }

  if (save_dir == NULL)
    {
      save_dir = g_dir_make_tmp ("hd-fuzz-state-XXXXXX", NULL);
      g_assert_nonnull (save_dir);
      atexit (remove_save_dir);
    }
  saved = g_build_filename (save_dir, "state.json", NULL);
  g_assert_true (hd_state_save_file (state, saved, &error));
  again = hd_state_load_file (saved, &error);
  g_assert_no_error (error);
  {
    g_autofree char *json1 = hd_state_to_json (state);
    g_autofree char *json2 = hd_state_to_json (again);

    g_assert_cmpstr (json1, ==, json2);
  }
  return 0;
}
