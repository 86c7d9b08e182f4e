/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as a clip file; a small one that loads also builds its
 * tokenizer, encodes a token row and an image (the C reference) and the
 * text direction's first template. */
#include <glib.h>

#include "hd-clip.h"
#include "hd-clip-reference.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(HdSafetensors) st = hd_safetensors_new_from_bytes_full (bytes, "fuzz.safetensors",
                                                                    HD_SAFETENSORS_ALLOW_INTEGERS, NULL);
  g_autoptr(HdClip) clip = NULL;
  g_autoptr(HdClipTokenizer) tokenizer = NULL;
  g_autofree float *e = NULL;
  g_autofree float *img = NULL;
  g_autofree float *pre = NULL;
  guint32 ids[2];
  int n;

  if (st == NULL || (clip = hd_clip_load_from_safetensors (st, NULL)) == NULL)
    return 0;
  tokenizer = hd_clip_new_tokenizer (clip, NULL);
  /* Keep each input fast: only small models are run. */
  if ((gsize) clip->config.width * clip->config.layers > 4096 ||
      (gsize) clip->vision.width * (clip->vision.layers + 1) > 8192 ||
      clip->vision.resolution > 32 || clip->config.embed_dim > 256)
    return 0;
  ids[0] = (guint32) clip->config.vocab_size - 2;
  ids[1] = (guint32) clip->config.vocab_size - 1;
  e = g_new (float, clip->config.embed_dim);
  hd_clip_reference_encode_text (&clip->text, ids, 2, e, NULL);
  n = clip->vision.resolution;
  img = g_new0 (float, (gsize) 3 * 8 * 8);
  pre = g_new (float, (gsize) 3 * n * n);
  hd_clip_reference_preprocess (img, 8, n, pre);
  hd_clip_reference_encode_image (clip, pre, e);
  return 0;
}
