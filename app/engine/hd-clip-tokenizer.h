/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's byte-pair tokenizer (spec/text-domains.md §2): exactly what
 * clip.tokenize (truncate=False) gives, for any vocabulary size. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_CLIP_TOKENIZER_ERROR (hd_clip_tokenizer_error_quark ())

/* Errors of hd_clip_tokenizer_encode: the prompt is the user's, so these
 * are shown next to it rather than as a failure of a file. */
typedef enum {
  HD_CLIP_TOKENIZER_ERROR_NOT_UTF8, /* the prompt is not valid UTF-8 */
  HD_CLIP_TOKENIZER_ERROR_TOO_LONG, /* more tokens than fit, or too many bytes */
  HD_CLIP_TOKENIZER_ERROR_TOO_NESTED, /* references nested past HD_CLIP_MAX_FIX_PASSES */
} HdClipTokenizerError;

/* Every published CLIP: 48,894 merges, 77 positions. */
#define HD_CLIP_VOCAB_SIZE     49408
#define HD_CLIP_CONTEXT_LENGTH 77
/* Prompts longer than this are refused before they are normalised. */
#define HD_CLIP_MAX_PROMPT_BYTES 65536
/* Normalisation fixes a line until a pass changes nothing; a line that
 * still changes after this many passes ("&amp;amp;amp;..." nested 64
 * deep) is refused, so that no prompt costs more than 64 passes over its
 * text. No prompt of 75 tokens written by a person comes near it. */
#define HD_CLIP_MAX_FIX_PASSES   64

typedef struct _HdClipTokenizer HdClipTokenizer;

GQuark            hd_clip_tokenizer_error_quark    (void);

/* A tokenizer for a vocabulary of VOCAB_SIZE ids (at least 514: 512 byte
 * symbols, SOT and EOT), from MERGES_TEXT: a header line then at least
 * VOCAB_SIZE - 514 merge lines "A B", as the hypernetwork file's
 * tokenizer.merges holds it (§5); lines after those are ignored.
 * CONTEXT_LENGTH (at least 2) bounds the ids of a prompt, SOT and EOT
 * included. A text that is not UTF-8, has too few merge lines, a line
 * that is not two non-empty symbols separated by one space, or gives two
 * equal vocabulary strings is an HD_ERROR_FORMAT error that says where. */
HdClipTokenizer  *hd_clip_tokenizer_new            (const char      *merges_text,
                                                    gsize            len,
                                                    guint            vocab_size,
                                                    guint            context_length,
                                                    GError         **error);
/* The same from a merges file, plain text or gzip (told by its first
 * bytes), such as OpenAI's bpe_simple_vocab_16e6.txt.gz. Errors name
 * the file. */
HdClipTokenizer  *hd_clip_tokenizer_new_from_file  (const char      *path,
                                                    guint            vocab_size,
                                                    guint            context_length,
                                                    GError         **error);
HdClipTokenizer  *hd_clip_tokenizer_ref            (HdClipTokenizer *tokenizer);
void              hd_clip_tokenizer_unref          (HdClipTokenizer *tokenizer);

guint             hd_clip_tokenizer_get_vocab_size     (HdClipTokenizer *tokenizer);
guint             hd_clip_tokenizer_get_context_length (HdClipTokenizer *tokenizer);

/* Replaces the contents of IDS_OUT (guint32) with the ids of PROMPT: SOT,
 * the ids of its pieces, EOT; no padding. A prompt that is not UTF-8,
 * longer than HD_CLIP_MAX_PROMPT_BYTES, of more than context_length - 2
 * ids or nested past HD_CLIP_MAX_FIX_PASSES is an HD_CLIP_TOKENIZER_ERROR;
 * IDS_OUT is then empty. Safe to call from several threads at once. */
gboolean          hd_clip_tokenizer_encode         (HdClipTokenizer *tokenizer,
                                                    const char      *prompt,
                                                    GArray          *ids_out,
                                                    GError         **error);

/* The text the splitter sees (§2.1): PROMPT normalised, white space
 * cleaned and lower-cased. PROMPT must be valid UTF-8. A line that needs
 * more than HD_CLIP_MAX_FIX_PASSES passes is left as it stands then. */
char             *hd_clip_normalize                (const char      *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdClipTokenizer, hd_clip_tokenizer_unref)

G_END_DECLS
