/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>

#include "hd-latent.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(HdNpy) npy = hd_npy_read_bytes (bytes, "fuzz.npy", NULL);

  return 0;
}
