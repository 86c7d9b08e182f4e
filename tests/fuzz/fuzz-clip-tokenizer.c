/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Any bytes as a merges text and a prompt: MERGES [NUL PROMPT]. The
 * merges text is parsed with a vocabulary of 514 + its number of LFs
 * (so a text that ends in LF lacks a line, one that does not has just
 * enough); the prompt is encoded with that tokenizer, or with a small
 * fixed one when the text is refused. An encoded row must be SOT .. EOT
 * of ids inside the vocabulary, fit the context, and come out the same
 * from the piece cache. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "hd-clip-tokenizer.h"

#define CONTEXT_LENGTH 77

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* A few of CLIP's first merges, enough for pieces to merge. */
static const char fixed_merges[] =
  "#version: 0.2\ni n\nt h\na n\nr e\na r\ne r\nth e</w>\nin g</w>\no u\no n\n";

static void
check_row (HdClipTokenizer *tok,
           const char      *prompt)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) again = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;
  guint vocab_size = hd_clip_tokenizer_get_vocab_size (tok);
  gboolean ok;

  ok = hd_clip_tokenizer_encode (tok, prompt, ids, &error);
  if (!ok)
    {
      if (error == NULL || error->domain != HD_CLIP_TOKENIZER_ERROR || ids->len != 0)
        abort ();
      return;
    }
  if (ids->len < 2 || ids->len > CONTEXT_LENGTH ||
      g_array_index (ids, guint32, 0) != vocab_size - 2 ||
      g_array_index (ids, guint32, ids->len - 1) != vocab_size - 1)
    abort ();
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, guint32, i) >= vocab_size)
      abort ();
  if (!hd_clip_tokenizer_encode (tok, prompt, again, NULL) || again->len != ids->len ||
      memcmp (again->data, ids->data, ids->len * sizeof (guint32)) != 0)
    abort ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  const guint8 *nul = memchr (data, '\0', size);
  gsize merges_len = nul != NULL ? (gsize) (nul - data) : size;
  g_autofree char *prompt = NULL;
  g_autoptr(HdClipTokenizer) tok = NULL;
  guint n_lf = 0;

  for (gsize i = 0; i < merges_len; i++)
    n_lf += data[i] == '\n';
  tok = hd_clip_tokenizer_new ((const char *) data, merges_len, 514 + n_lf, CONTEXT_LENGTH, NULL);
  if (tok == NULL)
    tok = hd_clip_tokenizer_new (fixed_merges, sizeof fixed_merges - 1, 514 + 10,
                                 CONTEXT_LENGTH, NULL);
  if (tok == NULL)
    abort ();

  /* The prompt runs to the next NUL, as a C string would. */
  prompt = nul != NULL ? g_strndup ((const char *) nul + 1, size - merges_len - 1) : g_strdup ("");
  check_row (tok, prompt);
  if (g_utf8_validate (prompt, -1, NULL))
    {
      g_autofree char *normalized = hd_clip_normalize (prompt);

      if (normalized == NULL || !g_utf8_validate (normalized, -1, NULL))
        abort ();
    }
  return 0;
}
