/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as a safetensors file, then as a generator and as a domain or
 * domain pack. */
#include <glib.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-safetensors.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes (bytes, "fuzz.safetensors", NULL);
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) domains = NULL;

  if (st == NULL)
    return 0;
  gen = hd_generator_new_from_safetensors (st, NULL);
  domains = hd_domain_load_from_safetensors (st, NULL, NULL);
  return 0;
}
