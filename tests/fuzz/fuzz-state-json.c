/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any text as the state JSON of an exported PNG or a preset. */
#include <glib.h>

#include "hd-state.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(HdState) state = hd_state_from_json (text, NULL);

  if (state != NULL)
    {
      g_autofree char *again = hd_state_to_json (state);
      g_autoptr(HdState) state2 = hd_state_from_json (again, NULL);
      g_assert_nonnull (state2);
    }
  return 0;
}
