/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs a fuzz target over every file of a corpus folder, so that the
 * corpora are replayed by `meson test` with any compiler. */
#include <glib.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
main (int    argc,
      char **argv)
{
  int n = 0;

  for (int a = 1; a < argc; a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (argv[a], 0, &error);
      const char *name;

      if (dir == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[a], name, NULL);
          g_autofree char *contents = NULL;
          gsize len;

          if (!g_file_get_contents (path, &contents, &len, &error))
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
          LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
          n++;
        }
    }
  printf ("1..1\nok 1 replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
