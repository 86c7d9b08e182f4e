/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as a hypernetwork file; a small one that loads also encodes
 * a token row and maps it (the C reference), and builds its tokenizer. */
#include <glib.h>

#include "hd-hypernetwork.h"
#include "hd-text-encoder.h"
#include "hd-text-reference.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes_full (bytes, "fuzz.safetensors",
                                                                    HD_SAFETENSORS_ALLOW_INTEGERS, NULL);
  g_autoptr(HdHypernetwork) hn = NULL;
  g_autoptr(HdClipTokenizer) tokenizer = NULL;
  g_autofree float *e = NULL;
  g_autofree float *d = NULL;
  guint32 ids[2];

  if (st == NULL || (hn = hd_hypernetwork_load_from_safetensors (st, NULL)) == NULL)
    return 0;
  tokenizer = hd_clip_tokenizer_new (hn->merges, hn->merges_len, (guint) hn->clip.vocab_size,
                                     (guint) hn->clip.context_length, NULL);
  /* Keep each input fast: only small models are run. */
  if ((gsize) hn->clip.width * hn->clip.layers > 4096 || hn->mapper.width > 256 ||
      hn->mapper.inner_features > 1024 || hd_hypernetwork_output_size (hn) > 4096)
    return 0;
  ids[0] = (guint32) hn->clip.vocab_size - 2;
  ids[1] = (guint32) hn->clip.vocab_size - 1;
  e = g_new (float, hn->clip.embed_dim);
  d = g_new (float, hd_hypernetwork_output_size (hn));
  if (hd_text_reference_encode (hn, ids, 2, e, NULL))
    hd_text_reference_map (hn, e, d);
  return 0;
}
