/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CLIP's byte-pair tokenizer (spec/text-domains.md §2.2, §2.3): the
 * vocabulary and merge ranks built from a merges text, the splitter, and
 * the byte-pair encoding of each piece. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "hd-clip-private.h"
#include "hd-clip-tokenizer.h"
#include "hd-error.h"
#include "hd-file.h"

/* 256 byte symbols, the same with "</w>", SOT and EOT. */
#define N_FIXED_SYMBOLS    514
#define FIRST_MERGE_ID     512
#define END_OF_WORD        "</w>"
#define START_OF_TEXT      "<|startoftext|>"
#define END_OF_TEXT        "<|endoftext|>"
/* Merges files are about 1.7 MB; anything far larger is not one. */
#define MAX_MERGES_FILE    (64 * 1024 * 1024)
/* Pieces whose ids are remembered; a bound, since prompts come and go. */
#define MAX_CACHED_PIECES  8192
#define NO_ID              G_MAXUINT32

struct _HdClipTokenizer {
  gatomicrefcount  ref_count;
  guint            vocab_size;
  guint            context_length;
  guint            n_merges;
  guint32          sot, eot;
  /* Byte b's symbol id (0..255); + 256 for the symbol with "</w>". */
  guint32          byte_id[256];
  /* Rank r merges the pair merge_left[r], merge_right[r] (NO_ID when a
   * symbol of the line is no vocabulary string: it never applies) into
   * id FIRST_MERGE_ID + r. */
  guint32         *merge_left;
  guint32         *merge_right;
  /* (left << 32 | right) -> rank + 1, keys pointing into pair_keys. */
  GHashTable      *pair_ranks;
  guint64         *pair_keys;

  GMutex           cache_lock;
  /* Piece (UTF-8) -> guint32[1 + n]: n, then the piece's ids. */
  GHashTable      *cache;
};

G_DEFINE_QUARK (hd-clip-tokenizer-error-quark, hd_clip_tokenizer_error)

/* ---- the vocabulary -------------------------------------------------- */

/* CLIP's bytes_to_unicode: printable bytes stand for themselves, the 68
 * others (controls, space, NBSP, soft hyphen) are U+0100 onwards. */
static gboolean
is_printable_byte (guint b)
{
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The byte symbols in id order, and each byte's id. */
static void
byte_symbols (gunichar symbol[256],
              guint32  byte_id[256])
{
  guint next_id = 0, n_other = 0;

  for (guint b = 0; b < 256; b++)
    if (is_printable_byte (b))
      {
        byte_id[b] = next_id;
        symbol[next_id++] = b;
      }
  for (guint b = 0; b < 256; b++)
    if (!is_printable_byte (b))
      {
        byte_id[b] = next_id;
        symbol[next_id++] = 0x100 + n_other++;
      }
}

/* A line for a message: at most 40 characters of it. */
static char *
quote_line (const char *line)
{
  g_autofree char *start = NULL;

  if (g_utf8_strlen (line, -1) <= 40)
    return g_strdup (line);
  start = g_utf8_substring (line, 0, 39);
  return g_strconcat (start, "…", NULL);
}

typedef struct {
  /* Lines 0..M of the merges text, each space and LF made a NUL, so that
   * each symbol is a string. */
  char        *text;
  /* The two symbols of each merge line, and their concatenation (in
   * joined_text). */
  const char **left;
  const char **right;
  const char **joined;
  char        *joined_text;
} MergeLines;

static void
merge_lines_clear (MergeLines *lines)
{
  g_free (lines->joined_text);
  g_free (lines->joined);
  g_free (lines->left);
  g_free (lines->right);
  g_free (lines->text);
}

/* The length of lines 0..N_MERGES of TEXT, the LF that ends the last
 * included; all of TEXT when it has fewer lines. */
static gsize
used_length (const char *text,
             gsize       len,
             guint       n_merges)
{
  const char *p = text, *end = text + len;

  for (guint64 line = 0; line <= n_merges; line++)
    {
      p = memchr (p, '\n', (gsize) (end - p));
      if (p == NULL)
        return len;
      p++;
    }
  return (gsize) (p - text);
}

/* Splits lines 1..N_MERGES of MERGES_TEXT into their two symbols. Only
 * these lines are read: a hypernetwork file holds exactly them, a merges
 * file from CLIP many more. */
static gboolean
parse_merge_lines (const char  *merges_text,
                   gsize        len,
                   guint        n_merges,
                   guint        vocab_size,
                   MergeLines  *lines,
                   GError     **error)
{
  const char *invalid = NULL;
  char *p, *end, *joined;
  guint line_no = 0;

  len = used_length (merges_text, len, n_merges);
  if (!g_utf8_validate_len (merges_text, len, &invalid))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("The tokenizer merges are not UTF-8 text (byte %zu)"),
                   (gsize) (invalid - merges_text));
      return FALSE;
    }

  lines->text = g_malloc (len + 1);
  memcpy (lines->text, merges_text, len);
  lines->text[len] = '\0';
  lines->left = g_new (const char *, MAX (n_merges, 1));
  lines->right = g_new (const char *, MAX (n_merges, 1));
  lines->joined = g_new (const char *, MAX (n_merges, 1));
  /* A line's concatenation and its NUL take no more than the line. */
  lines->joined_text = joined = g_malloc (len + 1);

  p = lines->text;
  end = lines->text + len;
  /* Line 0 is a header ("#version: 0.2"), whatever it says. */
  p = memchr (p, '\n', (gsize) (end - p));
  for (line_no = 1; line_no <= n_merges; line_no++)
    {
      char *line, *line_end, *space;
      gsize left_len, right_len;

      if (p == NULL || p + 1 >= end)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("The tokenizer merges have %u merge lines; a vocabulary of %u needs %u"),
                       line_no - 1, vocab_size, n_merges);
          return FALSE;
        }
      line = p + 1;
      line_end = memchr (line, '\n', (gsize) (end - line));
      if (line_end == NULL)
        line_end = end;
      *line_end = '\0';
      space = memchr (line, ' ', (gsize) (line_end - line));
      if (space == NULL || space == line || space + 1 == line_end ||
          memchr (space + 1, ' ', (gsize) (line_end - space - 1)) != NULL)
        {
          g_autofree char *quoted = quote_line (line);

          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("Line %u of the tokenizer merges is not two symbols separated by one space: “%s”"),
                       line_no, quoted);
          return FALSE;
        }
      *space = '\0';
      left_len = (gsize) (space - line);
      right_len = (gsize) (line_end - space - 1);
      lines->left[line_no - 1] = line;
      lines->right[line_no - 1] = space + 1;
      lines->joined[line_no - 1] = joined;
      memcpy (joined, line, left_len);
      memcpy (joined + left_len, space + 1, right_len);
      joined[left_len + right_len] = '\0';
      joined += left_len + right_len + 1;
      p = line_end < end ? line_end : NULL;
    }
  return TRUE;
}

static const char *
describe_id (HdClipTokenizer *tok,
             guint32          id,
             char             buf[64])
{
  if (id < 256)
    return _("a byte symbol");
  if (id < FIRST_MERGE_ID)
    return _("a byte symbol with “</w>”");
  if (id == tok->sot)
    return _("the start-of-text token");
  if (id == tok->eot)
    return _("the end-of-text token");
  g_snprintf (buf, 64, _("merge line %u"), id - FIRST_MERGE_ID + 1);
  return buf;
}

/* Adds string S of id ID to VOCAB; two equal strings would make the ids
 * of a piece ambiguous, so that is an error. */
static gboolean
add_vocabulary_string (HdClipTokenizer  *tok,
                       GHashTable       *vocab,
                       const char       *s,
                       guint32           id,
                       GError          **error)
{
  gpointer other;

  if (g_hash_table_lookup_extended (vocab, s, NULL, &other))
    {
      char buf_a[64], buf_b[64];
      g_autofree char *quoted = quote_line (s);

      g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                   _("The tokenizer vocabulary has “%s” twice: %s and %s"), quoted,
                   describe_id (tok, GPOINTER_TO_UINT (other), buf_a),
                   describe_id (tok, id, buf_b));
      return FALSE;
    }
  g_hash_table_insert (vocab, (gpointer) s, GUINT_TO_POINTER (id));
  return TRUE;
}

/* g_int64_hash keeps the low 32 bits only: the right symbol alone. */
static guint
pair_hash (gconstpointer key)
{
  guint64 k = *(const guint64 *) key;

  k ^= k >> 31;
  k *= G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  return (guint) (k >> 32);
}

static gboolean
build_vocabulary (HdClipTokenizer  *tok,
                  const MergeLines *lines,
                  GError          **error)
{
  g_autoptr(GHashTable) vocab = g_hash_table_new (g_str_hash, g_str_equal);
  char fixed[N_FIXED_SYMBOLS][16];
  gunichar symbol[256];

  byte_symbols (symbol, tok->byte_id);
  for (guint id = 0; id < 256; id++)
    {
      int n = g_unichar_to_utf8 (symbol[id], fixed[id]);

      fixed[id][n] = '\0';
      g_snprintf (fixed[256 + id], sizeof fixed[0], "%s" END_OF_WORD, fixed[id]);
    }
  for (guint id = 0; id < 512; id++)
    if (!add_vocabulary_string (tok, vocab, fixed[id], id, error))
      return FALSE;
  for (guint r = 0; r < tok->n_merges; r++)
    if (!add_vocabulary_string (tok, vocab, lines->joined[r], FIRST_MERGE_ID + r, error))
      return FALSE;
  if (!add_vocabulary_string (tok, vocab, START_OF_TEXT, tok->sot, error) ||
      !add_vocabulary_string (tok, vocab, END_OF_TEXT, tok->eot, error))
    return FALSE;

  /* Ranks by pair of ids: every symbol of a word is a vocabulary string,
   * so a line naming anything else can never apply. */
  tok->merge_left = g_new (guint32, MAX (tok->n_merges, 1));
  tok->merge_right = g_new (guint32, MAX (tok->n_merges, 1));
  tok->pair_keys = g_new (guint64, MAX (tok->n_merges, 1));
  tok->pair_ranks = g_hash_table_new (pair_hash, g_int64_equal);
  for (guint r = 0; r < tok->n_merges; r++)
    {
      gpointer left, right;

      if (!g_hash_table_lookup_extended (vocab, lines->left[r], NULL, &left) ||
          !g_hash_table_lookup_extended (vocab, lines->right[r], NULL, &right))
        {
          tok->merge_left[r] = tok->merge_right[r] = NO_ID;
          continue;
        }
      tok->merge_left[r] = GPOINTER_TO_UINT (left);
      tok->merge_right[r] = GPOINTER_TO_UINT (right);
      tok->pair_keys[r] = (guint64) tok->merge_left[r] << 32 | tok->merge_right[r];
      /* Equal pairs would have equal strings: refused above. */
      g_hash_table_insert (tok->pair_ranks, &tok->pair_keys[r], GUINT_TO_POINTER (r + 1));
    }
  return TRUE;
}

HdClipTokenizer *
hd_clip_tokenizer_new (const char  *merges_text,
                       gsize        len,
                       guint        vocab_size,
                       guint        context_length,
                       GError     **error)
{
  g_autoptr(HdClipTokenizer) tok = NULL;
  MergeLines lines = { NULL, };
  gboolean ok;

  g_return_val_if_fail (merges_text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (vocab_size < N_FIXED_SYMBOLS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A CLIP vocabulary of %u ids is too small: it needs at least %u"),
                   vocab_size, N_FIXED_SYMBOLS);
      return NULL;
    }
  if (context_length < 2)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A CLIP context of %u positions is too short: it needs at least 2"),
                   context_length);
      return NULL;
    }

  tok = g_new0 (HdClipTokenizer, 1);
  g_atomic_ref_count_init (&tok->ref_count);
  g_mutex_init (&tok->cache_lock);
  tok->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  tok->vocab_size = vocab_size;
  tok->context_length = context_length;
  tok->n_merges = vocab_size - N_FIXED_SYMBOLS;
  tok->sot = vocab_size - 2;
  tok->eot = vocab_size - 1;

  ok = parse_merge_lines (merges_text != NULL ? merges_text : "", len, tok->n_merges,
                          vocab_size, &lines, error) &&
       build_vocabulary (tok, &lines, error);
  merge_lines_clear (&lines);
  if (!ok)
    return NULL;
  return g_steal_pointer (&tok);
}

/* A gzip stream decompressed up to the end of its line N_LINES - 1 (the
 * rest would be ignored: CLIP's file has 262,145 lines, a vocabulary of
 * 49,408 reads 48,895), refusing more than MAX_MERGES_FILE bytes. */
static GBytes *
gunzip_lines (GBytes      *compressed,
              guint64      n_lines,
              const char  *name,
              GError     **error)
{
  guint64 n_seen = 0;
  g_autoptr(GZlibDecompressor) decompressor =
    g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_bytes (compressed);
  g_autoptr(GInputStream) stream =
    g_converter_input_stream_new (raw, G_CONVERTER (decompressor));
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;
  guint8 buffer[65536];

  for (;;)
    {
      gssize got = g_input_stream_read (stream, buffer, sizeof buffer, NULL, &local_error);

      if (got < 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: the gzip data does not decompress: %s"),
                       name, local_error->message);
          return NULL;
        }
      if (got == 0)
        break;
      if (out->len + (gsize) got > MAX_MERGES_FILE)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                       _("%s: decompressed, the file is larger than %d MiB; it is not a merges file"),
                       name, MAX_MERGES_FILE / (1024 * 1024));
          return NULL;
        }
      g_byte_array_append (out, buffer, (guint) got);
      for (const guint8 *p = buffer; (p = memchr (p, '\n', (gsize) (buffer + got - p))) != NULL; p++)
        n_seen++;
      if (n_seen >= n_lines)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

HdClipTokenizer *
hd_clip_tokenizer_new_from_file (const char  *path,
                                 guint        vocab_size,
                                 guint        context_length,
                                 GError     **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GError *local_error = NULL;
  HdClipTokenizer *tok;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = g_filename_display_name (path);
  bytes = hd_file_read_limited (path, name, MAX_MERGES_FILE, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (len >= 2 && data[0] == 0x1F && data[1] == 0x8B)
    {
      guint64 n_lines = vocab_size >= N_FIXED_SYMBOLS ? vocab_size - N_FIXED_SYMBOLS + 1 : 1;
      GBytes *plain = gunzip_lines (bytes, n_lines,
                                    name, error);

      if (plain == NULL)
        return NULL;
      g_bytes_unref (bytes);
      bytes = plain;
      data = g_bytes_get_data (bytes, &len);
    }

  tok = hd_clip_tokenizer_new ((const char *) data, len, vocab_size, context_length,
                               &local_error);
  if (tok == NULL)
    {
      g_prefix_error (&local_error, "%s: ", name);
      g_propagate_error (error, local_error);
    }
  return tok;
}

HdClipTokenizer *
hd_clip_tokenizer_ref (HdClipTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, NULL);

  g_atomic_ref_count_inc (&tokenizer->ref_count);
  return tokenizer;
}

void
hd_clip_tokenizer_unref (HdClipTokenizer *tokenizer)
{
  if (tokenizer == NULL || !g_atomic_ref_count_dec (&tokenizer->ref_count))
    return;
  g_clear_pointer (&tokenizer->pair_ranks, g_hash_table_unref);
  g_clear_pointer (&tokenizer->cache, g_hash_table_unref);
  g_mutex_clear (&tokenizer->cache_lock);
  g_free (tokenizer->pair_keys);
  g_free (tokenizer->merge_left);
  g_free (tokenizer->merge_right);
  g_free (tokenizer);
}

guint
hd_clip_tokenizer_get_vocab_size (HdClipTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, 0);
  return tokenizer->vocab_size;
}

guint
hd_clip_tokenizer_get_context_length (HdClipTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, 0);
  return tokenizer->context_length;
}

/* ---- byte-pair encoding ---------------------------------------------- */

static gboolean
pair_rank (HdClipTokenizer *tok,
           guint32          left,
           guint32          right,
           guint32         *rank)
{
  guint64 key = (guint64) left << 32 | right;
  gpointer value = g_hash_table_lookup (tok->pair_ranks, &key);

  if (value == NULL)
    return FALSE;
  *rank = GPOINTER_TO_UINT (value) - 1;
  return TRUE;
}

typedef struct {
  guint32 rank;
  guint32 pos;
} Candidate;

static gboolean
candidate_before (const Candidate *a,
                  const Candidate *b)
{
  return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void
heap_push (GArray    *heap,
           Candidate  c)
{
  Candidate *h;
  guint i;

  g_array_append_val (heap, c);
  h = (Candidate *) (void *) heap->data;
  for (i = heap->len - 1; i > 0 && candidate_before (&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2)
    {
      Candidate t = h[i];

      h[i] = h[(i - 1) / 2];
      h[(i - 1) / 2] = t;
    }
}

static Candidate
heap_pop (GArray *heap)
{
  Candidate *h = (Candidate *) (void *) heap->data;
  Candidate top = h[0];
  guint i = 0, n;

  h[0] = h[heap->len - 1];
  g_array_set_size (heap, heap->len - 1);
  n = heap->len;
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      Candidate t;

      if (l < n && candidate_before (&h[l], &h[m]))
        m = l;
      if (r < n && candidate_before (&h[r], &h[m]))
        m = r;
      if (m == i)
        break;
      t = h[i];
      h[i] = h[m];
      h[m] = t;
      i = m;
    }
  return top;
}

static void
push_pair (HdClipTokenizer *tok,
           GArray          *heap,
           const guint32   *id,
           guint32          left_pos,
           guint32          right_pos)
{
  Candidate c = { 0, left_pos };

  if (pair_rank (tok, id[left_pos], id[right_pos], &c.rank))
    heap_push (heap, c);
}

/* CLIP's bpe: while some adjacent pair is a merge, take the one of lowest
 * rank and merge all its occurrences left to right. Done with a heap of
 * candidate pairs rather than CLIP's scans, so that a long piece costs
 * n log n rather than n²; a rank's occurrences are merged together and
 * the pairs they make are queued after them, as CLIP's loop does. The
 * symbols are a linked list over POS, the position of their first byte. */
static void
encode_word (HdClipTokenizer *tok,
             const guint8    *bytes,
             guint32          n,
             GArray          *ids_out)
{
  g_autofree guint32 *id = g_new (guint32, n);
  g_autofree guint32 *next = g_new (guint32, n);
  g_autofree guint32 *prev = g_new (guint32, n);
  g_autofree gboolean *alive = g_new (gboolean, n);
  g_autoptr(GArray) heap = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_autoptr(GArray) merged = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 i;

  for (i = 0; i < n; i++)
    {
      id[i] = tok->byte_id[bytes[i]];
      next[i] = i + 1;
      prev[i] = i == 0 ? NO_ID : i - 1;
      alive[i] = TRUE;
    }
  id[n - 1] += 256; /* the last symbol ends the word: "</w>" */
  for (i = 0; i + 1 < n; i++)
    push_pair (tok, heap, id, i, i + 1);

  while (heap->len > 0)
    {
      guint32 rank = ((Candidate *) (void *) heap->data)[0].rank;

      g_array_set_size (merged, 0);
      while (heap->len > 0 && ((Candidate *) (void *) heap->data)[0].rank == rank)
        {
          Candidate c = heap_pop (heap);
          guint32 left = c.pos, right = next[left];

          /* A candidate is stale once either symbol has changed. */
          if (!alive[left] || right >= n || id[left] != tok->merge_left[rank] ||
              id[right] != tok->merge_right[rank])
            continue;
          id[left] = FIRST_MERGE_ID + rank;
          alive[right] = FALSE;
          next[left] = next[right];
          if (next[right] < n)
            prev[next[right]] = left;
          g_array_append_val (merged, left);
        }
      for (guint k = 0; k < merged->len; k++)
        {
          guint32 pos = g_array_index (merged, guint32, k);

          if (prev[pos] != NO_ID)
            push_pair (tok, heap, id, prev[pos], pos);
          if (next[pos] < n)
            push_pair (tok, heap, id, pos, next[pos]);
        }
    }
  for (i = 0; i < n; i = next[i])
    g_array_append_val (ids_out, id[i]);
}

/* The ids of one piece, through the cache. */
static void
encode_piece (HdClipTokenizer *tok,
              const char      *piece,
              gsize            len,
              GArray          *ids_out)
{
  g_autofree char *key = g_strndup (piece, len);
  const guint32 *cached;
  guint32 *entry;
  guint start = ids_out->len;

  if (strcmp (key, START_OF_TEXT) == 0 || strcmp (key, END_OF_TEXT) == 0)
    {
      guint32 special = strcmp (key, START_OF_TEXT) == 0 ? tok->sot : tok->eot;

      g_array_append_val (ids_out, special);
      return;
    }

  g_mutex_lock (&tok->cache_lock);
  cached = g_hash_table_lookup (tok->cache, key);
  if (cached != NULL)
    g_array_append_vals (ids_out, cached + 1, cached[0]);
  g_mutex_unlock (&tok->cache_lock);
  if (cached != NULL)
    return;

  encode_word (tok, (const guint8 *) piece, (guint32) len, ids_out);

  entry = g_new (guint32, 1 + ids_out->len - start);
  entry[0] = ids_out->len - start;
  memcpy (entry + 1, &g_array_index (ids_out, guint32, start), entry[0] * sizeof (guint32));
  g_mutex_lock (&tok->cache_lock);
  if (g_hash_table_size (tok->cache) >= MAX_CACHED_PIECES)
    g_hash_table_remove_all (tok->cache);
  g_hash_table_replace (tok->cache, g_steal_pointer (&key), entry);
  g_mutex_unlock (&tok->cache_lock);
}

/* ---- the splitter ---------------------------------------------------- */

static gboolean
is_letter (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_number (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return TRUE;
    default:
      return FALSE;
    }
}

/* U+0345 folds to ι, so the case-insensitive pattern leaves it out of the
 * negated class too, and nothing matches it. */
static gboolean
is_other (gunichar c)
{
  return c < 0x80
         ? !g_ascii_isalnum ((char) c) && !hd_clip_is_white_space (c)
         : !hd_clip_is_white_space (c) && !is_letter (c) && !is_number (c) && c != 0x0345;
}

/* The pattern is matched with IGNORECASE (simple case folding); of the
 * letters of the special tokens and contractions only s has another
 * lower-case form, ſ. */
static gboolean
matches_folded (gunichar    c,
                const char *pattern_char)
{
  return c == (gunichar) *pattern_char || (*pattern_char == 's' && c == 0x017F);
}

/* The length of LITERAL at TEXT[i], or 0. */
static gsize
match_literal (const GArray *text,
               gsize         i,
               const char   *literal)
{
  gsize n = strlen (literal);

  if (i + n > text->len)
    return 0;
  for (gsize k = 0; k < n; k++)
    if (!matches_folded (g_array_index (text, gunichar, i + k), literal + k))
      return 0;
  return n;
}

/* The length of the piece at TEXT[i], or 0 when the character there
 * starts none (white space, U+0345). */
static gsize
match_piece (const GArray *text,
             gsize         i)
{
  static const char *const specials[] = { START_OF_TEXT, END_OF_TEXT };
  static const char *const contractions[] = { "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };
  gunichar c = g_array_index (text, gunichar, i);
  gsize n;

  if (c == '<')
    for (guint k = 0; k < G_N_ELEMENTS (specials); k++)
      if ((n = match_literal (text, i, specials[k])) > 0)
        return n;
  if (c == '\'')
    for (guint k = 0; k < G_N_ELEMENTS (contractions); k++)
      if ((n = match_literal (text, i, contractions[k])) > 0)
        return n;
  if (is_letter (c))
    {
      for (n = 1; i + n < text->len && is_letter (g_array_index (text, gunichar, i + n)); n++)
        ;
      return n;
    }
  if (is_number (c))
    return 1;
  if (is_other (c))
    {
      for (n = 1; i + n < text->len && is_other (g_array_index (text, gunichar, i + n)); n++)
        ;
      return n;
    }
  return 0;
}

gboolean
hd_clip_tokenizer_encode (HdClipTokenizer  *tokenizer,
                          const char       *prompt,
                          GArray           *ids_out,
                          GError          **error)
{
  g_autoptr(GArray) text = NULL;
  g_autoptr(GString) piece = g_string_new (NULL);
  gsize prompt_len, i = 0;
  gboolean complete;
  guint n_tokens;

  g_return_val_if_fail (tokenizer != NULL, FALSE);
  g_return_val_if_fail (prompt != NULL, FALSE);
  g_return_val_if_fail (ids_out != NULL && g_array_get_element_size (ids_out) == sizeof (guint32), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_array_set_size (ids_out, 0);
  prompt_len = strlen (prompt);
  if (prompt_len > HD_CLIP_MAX_PROMPT_BYTES)
    {
      g_set_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG,
                   _("The prompt is %zu bytes long; at most %d fit"),
                   prompt_len, HD_CLIP_MAX_PROMPT_BYTES);
      return FALSE;
    }
  if (!g_utf8_validate (prompt, (gssize) prompt_len, NULL))
    {
      g_set_error_literal (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_NOT_UTF8,
                           _("The prompt is not valid UTF-8 text"));
      return FALSE;
    }

  text = hd_clip_normalize_chars (prompt, &complete);
  if (!complete)
    {
      g_set_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_NESTED,
                   _("The prompt nests HTML character references (such as “&amp;amp;”) "
                     "more than %d deep"), HD_CLIP_MAX_FIX_PASSES);
      return FALSE;
    }
  g_array_append_val (ids_out, tokenizer->sot);
  while (i < text->len)
    {
      gsize n = match_piece (text, i);

      if (n == 0)
        {
          i++;
          continue;
        }
      g_string_truncate (piece, 0);
      for (gsize k = i; k < i + n; k++)
        g_string_append_unichar (piece, g_array_index (text, gunichar, k));
      encode_piece (tokenizer, piece->str, piece->len, ids_out);
      i += n;
    }

  n_tokens = ids_out->len - 1;
  if (n_tokens > tokenizer->context_length - 2)
    {
      g_array_set_size (ids_out, 0);
      g_set_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG,
                   _("The prompt is %u tokens; at most %u fit"),
                   n_tokens, tokenizer->context_length - 2);
      return FALSE;
    }
  g_array_append_val (ids_out, tokenizer->eot);
  return TRUE;
}
