/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The CLIP tokenizer against the ids and normalised texts of openai/CLIP
 * (conformance/text/tokens.json, cases.json) and the rules of
 * spec/text-domains.md §2 that the fixtures do not reach. */
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-clip-tokenizer.h"
#include "hd-error.h"
#include "hd-test-util.h"

#define MERGES_FILE "text/bpe_simple_vocab_16e6.txt.gz"

static HdClipTokenizer *
load_tokenizer (guint vocab_size)
{
  g_autofree char *path = hd_test_conformance_path (MERGES_FILE);
  g_autoptr(GError) error = NULL;
  HdClipTokenizer *tok;

  tok = hd_clip_tokenizer_new_from_file (path, vocab_size, HD_CLIP_CONTEXT_LENGTH, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tok);
  return tok;
}

static JsonParser *
load_json (const char *name)
{
  g_autofree char *path = hd_test_conformance_path (name);
  g_autoptr(GError) error = NULL;
  JsonParser *parser = json_parser_new ();

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return parser;
}

static char *
ids_to_string (const guint32 *ids,
               guint          n)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%u", i > 0 ? ", " : "", ids[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Whether the ids of PROMPT are EXPECTED (a JSON array); logs a mismatch. */
static gboolean
check_ids (HdClipTokenizer *tok,
           const char      *name,
           const char      *prompt,
           JsonArray       *expected)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;
  guint n = json_array_get_length (expected);
  gboolean same;

  if (!hd_clip_tokenizer_encode (tok, prompt, ids, &error))
    {
      g_test_message ("%s: %s", name, error->message);
      return FALSE;
    }
  same = ids->len == n;
  for (guint i = 0; same && i < n; i++)
    same = g_array_index (ids, guint32, i) == (guint32) json_array_get_int_element (expected, i);
  if (!same)
    {
      g_autofree char *got = ids_to_string ((const guint32 *) (void *) ids->data, ids->len);

      g_test_message ("%s: ids %s", name, got);
    }
  return same;
}

/* tokens.json, less its "\u0000" escapes: a C string cannot hold U+0000.
 * Step 1.8 deletes it, and the one prompt with one ("controls") has it
 * first, where deleting it before normalising changes nothing. */
static JsonParser *
load_tokens_json (void)
{
  g_autofree char *path = hd_test_conformance_path ("text/tokens.json");
  g_autofree char *contents = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *joined = NULL;
  g_autoptr(GError) error = NULL;
  JsonParser *parser = json_parser_new ();

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  parts = g_strsplit (contents, "\\u0000", -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  joined = g_strjoinv ("", parts);
  json_parser_load_from_data (parser, joined, -1, &error);
  g_assert_no_error (error);
  return parser;
}

static void
test_tokens_json (void)
{
  g_autoptr(JsonParser) parser = load_tokens_json ();
  g_autoptr(HdClipTokenizer) tok = load_tokenizer (HD_CLIP_VOCAB_SIZE);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *cases = json_object_get_array_member (root, "cases");
  guint n_cases = json_array_get_length (cases), n_passed = 0, n_too_long = 0;

  g_assert_cmpint (json_object_get_int_member (root, "vocab_size"), ==, HD_CLIP_VOCAB_SIZE);
  g_assert_cmpint (json_object_get_int_member (root, "context_length"), ==, HD_CLIP_CONTEXT_LENGTH);
  g_assert_cmpuint (n_cases, ==, 58);

  for (guint c = 0; c < n_cases; c++)
    {
      JsonObject *tc = json_array_get_object_element (cases, c);
      const char *name = json_object_get_string_member (tc, "name");
      const char *prompt = json_object_get_string_member (tc, "prompt");
      gboolean ok = TRUE;

      if (json_object_has_member (tc, "normalized"))
        {
          const char *expected = json_object_get_string_member (tc, "normalized");
          g_autofree char *got = hd_clip_normalize (prompt);

          if (g_strcmp0 (got, expected) != 0)
            {
              g_test_message ("%s: normalised to “%s”, expected “%s”", name, got, expected);
              ok = FALSE;
            }
        }
      if (json_object_has_member (tc, "tokens"))
        ok &= check_ids (tok, name, prompt, json_object_get_array_member (tc, "tokens"));
      else
        {
          g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
          g_autoptr(GError) error = NULL;

          g_assert_cmpstr (json_object_get_string_member (tc, "error"), ==, "too-long");
          n_too_long++;
          if (hd_clip_tokenizer_encode (tok, prompt, ids, &error) ||
              !g_error_matches (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG))
            {
              g_test_message ("%s: not refused as too long", name);
              ok = FALSE;
            }
          else
            {
              g_assert_cmpuint (ids->len, ==, 0);
              g_assert_cmpstr (error->message, ==, "The prompt is 76 tokens; at most 75 fit");
            }
        }
      n_passed += ok;
    }
  g_test_message ("tokens.json: %u of %u cases exact", n_passed, n_cases);
  g_assert_cmpuint (n_too_long, ==, 1);
  g_assert_cmpuint (n_passed, ==, n_cases);
}

/* cases.json's embeddings: vocabulary 768, i.e. the first 254 merges. */
static void
test_small_vocabulary (void)
{
  g_autoptr(JsonParser) parser = load_json ("text/cases.json");
  g_autoptr(HdClipTokenizer) tok = load_tokenizer (768);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *cases = json_object_get_array_member (root, "embeddings");
  guint n_cases = json_array_get_length (cases), n_passed = 0;

  g_assert_cmpuint (n_cases, >=, 9);
  for (guint c = 0; c < n_cases; c++)
    {
      JsonObject *tc = json_array_get_object_element (cases, c);

      n_passed += check_ids (tok, json_object_get_string_member (tc, "name"),
                             json_object_get_string_member (tc, "prompt"),
                             json_object_get_array_member (tc, "tokens"));
    }
  g_assert_cmpuint (n_passed, ==, n_cases);
}

static void
assert_normalizes (const char *prompt,
                   const char *expected)
{
  g_autofree char *got = hd_clip_normalize (prompt);

  g_assert_cmpstr (got, ==, expected);
}

static GArray *
encode (HdClipTokenizer *tok,
        const char      *prompt)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;

  hd_clip_tokenizer_encode (tok, prompt, ids, &error);
  g_assert_no_error (error);
  return ids;
}

/* The ids of PROMPT are those of the pieces, each encoded on its own:
 * the split of the spec, seen through the ids. */
static void
assert_pieces (HdClipTokenizer    *tok,
               const char         *prompt,
               const char * const *pieces)
{
  g_autoptr(GArray) ids = encode (tok, prompt);
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 sot = HD_CLIP_VOCAB_SIZE - 2, eot = HD_CLIP_VOCAB_SIZE - 1;

  g_array_append_val (expected, sot);
  for (guint p = 0; pieces[p] != NULL; p++)
    {
      g_autoptr(GArray) piece = NULL;

      if (strcmp (pieces[p], "<|endoftext|>") == 0)
        {
          g_array_append_val (expected, eot);
          continue;
        }
      piece = encode (tok, pieces[p]);
      g_array_append_vals (expected, &g_array_index (piece, guint32, 1), piece->len - 2);
    }
  g_array_append_val (expected, eot);
  g_assert_cmpmem (ids->data, ids->len * 4, expected->data, expected->len * 4);
}

static void
test_final_sigma (void)
{
  /* Σ is final after a cased letter (skipping case-ignorable ones) and
   * before none; a lone Σ is σ, unlike GLib's g_utf8_strdown. */
  assert_normalizes ("Σ", "σ");
  assert_normalizes ("ΑΣ", "ας");
  assert_normalizes ("ΑΣΑ", "ασα");
  assert_normalizes ("ΑΣ.", "ας.");
  assert_normalizes ("Α'Σ", "α'ς");
  assert_normalizes ("ΑΣ'Α", "ασ'α");
  assert_normalizes ("ΑΣ\u0301", "ας\u0301");
  assert_normalizes ("1Σ", "1σ");
  assert_normalizes ("ΣΣ", "σς");
  assert_normalizes ("ΟΔΥΣΣΕΥΣ Σ ΑΣ.Σ", "οδυσσευς σ ασ.ς");
}

static void
test_lowercase (void)
{
  /* Python's full mapping: İ is i + U+0307, with no Turkish tailoring. */
  assert_normalizes ("İstanbul", "i\u0307stanbul");
  assert_normalizes ("I ı", "i ı");
  assert_normalizes ("ǅ", "dž");        /* a ligature first, then lowered */
  assert_normalizes ("ᾼ", "ᾳ");         /* titlecase to lower */
  assert_normalizes ("ẞ", "ß");
  assert_normalizes ("Ω K Å", "ω k å"); /* Ohm, Kelvin and Ångström signs */
  assert_normalizes ("ⓐⒶ Ⅻ", "ⓐⓐ ⅻ");
}

static void
test_split (void)
{
  g_autoptr(HdClipTokenizer) tok = load_tokenizer (HD_CLIP_VOCAB_SIZE);
  g_autoptr(GArray) empty = encode (tok, "");
  g_autoptr(GArray) spaces = encode (tok, " \t\u3000 ");
  g_autoptr(GArray) eot = encode (tok, "a<|endoftext|>b");
  g_autoptr(GArray) long_s = encode (tok, "<|ſtartoftext|>");

  g_assert_cmpuint (empty->len, ==, 2);
  g_assert_cmpuint (g_array_index (empty, guint32, 0), ==, 49406);
  g_assert_cmpuint (g_array_index (empty, guint32, 1), ==, 49407);
  g_assert_cmpuint (spaces->len, ==, 2);

  /* A typed EOT is the EOT token, in the middle of the row. */
  {
    const guint32 expected[] = { 49406, 320, 49407, 321, 49407 };

    g_assert_cmpmem (eot->data, eot->len * 4, expected, sizeof expected);
  }
  /* Matched through ſ, a special token is text. */
  g_assert_cmpuint (long_s->len, >, 3);
  for (guint i = 1; i + 1 < long_s->len; i++)
    g_assert_cmpuint (g_array_index (long_s, guint32, i), <, 49406);

  {
    const char *const sa[] = { "'s", "a", NULL };
    const char *const bang[] = { "!!'", "s", NULL };
    const char *const x_y[] = { "x", "y", NULL };
    const char *const digits[] = { "1", "2", "3", NULL };
    const char *const special[] = { "a", "<|endoftext|>", "b", NULL };

    assert_pieces (tok, "'sa", sa);
    assert_pieces (tok, "!!'s", bang);
    /* U+0345 is in no class: it is dropped like white space. */
    assert_pieces (tok, "x\u0345y", x_y);
    assert_pieces (tok, "123", digits);
    assert_pieces (tok, "a<|endoftext|>b", special);
  }
  {
    /* it'ſ: "it", then "'ſ" (rule 2 through ſ), not "'" and "ſ". */
    g_autoptr(GArray) ids = encode (tok, "it'ſ");
    g_autoptr(GArray) contraction = encode (tok, "'ſ");
    g_autoptr(GArray) separate = encode (tok, "it' ſ");

    g_assert_cmpuint (g_array_index (ids, guint32, 1), ==, 585);
    g_assert_cmpuint (ids->len, ==, contraction->len + 1);
    g_assert_cmpmem (&g_array_index (ids, guint32, 2), (ids->len - 2) * 4,
                     &g_array_index (contraction, guint32, 1), (ids->len - 2) * 4);
    g_assert_false (ids->len == separate->len &&
                    memcmp (ids->data, separate->data, ids->len * 4) == 0);
  }
}

static void
test_references (void)
{
  /* html.unescape: numeric edge cases, prefixes without ';', and names
   * with ';' only as a whole. */
  assert_normalizes ("&#65;&#x42;&#X43", "abc");
  assert_normalizes ("&#99999999999999999999;", "\uFFFD");
  assert_normalizes ("&#x110000; &#xDFFF; &#0;", "\uFFFD \uFFFD \uFFFD");
  assert_normalizes ("a&#1;b&#xFFFE;c&#x1FFFF;d&#xFDD0;e&#127;f", "abcdef");
  assert_normalizes ("&#129;&#x9D;", "\xc2\x81\xc2\x9d"); /* U+0081 U+009D */
  assert_normalizes ("&#x;&#;&#xg;", "&#x;&#;&#xg;");
  assert_normalizes ("&copy2024 &ampx &notin &noti &notin;", "©2024 &x ¬in ¬i ∉");
  assert_normalizes ("&unknown; & &&amp;", "&unknown; & &&");
  /* Early references (before any '<'): upper-cased names. */
  assert_normalizes ("&EACUTE;&SZLIG;&AMP;", "éss&");
  /* After a '<' the early pass stops: &ldquo; decodes only at the end,
   * after the quotes were fixed. */
  assert_normalizes ("<&ldquo;>", "<\u201c>");
  assert_normalizes ("&ldquo;x&rdquo;", "\"x\"");
  /* Only two rounds at the end. */
  assert_normalizes ("<&amp;amp;amp;", "<&amp;");
}

static void
test_fixes (void)
{
  assert_normalizes ("\xc2\x80 \xc2\x81 \xc2\x9f", "€ \xc2\x81 ÿ"); /* C1 */
  assert_normalizes ("ﬅ ﬆ ŉ", "ſt st 'n");
  assert_normalizes ("ｶﾞ ￣", "ガ \u0304");
  assert_normalizes ("a\r\nb\rc\u2028d", "a b c d");
  assert_normalizes ("\x1b[1;31mred\x1b[0m \x1b[x\x1b[5;!", "red [5;!");
  assert_normalizes ("a\u200db\u200ec\U000E0041", "a\u200db\u200ec\U000E0041");
  assert_normalizes ("e\u0301\u0327", "ȩ\u0301");
  assert_normalizes ("\x1c x \x1f", "x");
  /* One fix uncovers another: the control splits the reference. */
  assert_normalizes ("&am\x01p;", "&");
}

static void
test_prompt_errors (void)
{
  g_autoptr(HdClipTokenizer) tok = load_tokenizer (768);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) huge = g_string_new (NULL);

  g_assert_false (hd_clip_tokenizer_encode (tok, "caf\xe9", ids, &error));
  g_assert_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_NOT_UTF8);
  g_clear_error (&error);
  g_assert_false (hd_clip_tokenizer_encode (tok, "\xed\xa0\x80", ids, &error));
  g_assert_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_NOT_UTF8);
  g_clear_error (&error);

  for (guint i = 0; i < HD_CLIP_MAX_PROMPT_BYTES / 2 + 1; i++)
    g_string_append (huge, "a ");
  g_assert_false (hd_clip_tokenizer_encode (tok, huge->str, ids, &error));
  g_assert_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG);
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_error (&error);

  /* References nested deeper than the passes allowed. */
  g_string_assign (huge, "&");
  for (guint i = 0; i < 50; i++)
    g_string_append (huge, "amp;");
  g_assert_true (hd_clip_tokenizer_encode (tok, huge->str, ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 3);
  for (guint i = 0; i < 20; i++)
    g_string_append (huge, "amp;");
  g_assert_false (hd_clip_tokenizer_encode (tok, huge->str, ids, &error));
  g_assert_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_NESTED);
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_error (&error);

  /* 76 single-token pieces at most 75 fit; 75 do. */
  g_string_truncate (huge, 0);
  for (guint i = 0; i < 75; i++)
    g_string_append (huge, "a ");
  g_assert_true (hd_clip_tokenizer_encode (tok, huge->str, ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 77);
  g_string_append (huge, "a");
  g_assert_false (hd_clip_tokenizer_encode (tok, huge->str, ids, &error));
  g_assert_error (error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG);
  g_assert_cmpstr (error->message, ==, "The prompt is 76 tokens; at most 75 fit");
}

static void
assert_merges_error (const char *text,
                     guint       vocab_size,
                     guint       context_length,
                     int         code,
                     const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdClipTokenizer) tok =
    hd_clip_tokenizer_new (text, strlen (text), vocab_size, context_length, &error);

  g_assert_null (tok);
  g_assert_error (error, HD_ERROR, code);
  if (strstr (error->message, message_part) == NULL)
    g_error ("“%s” does not say “%s”", error->message, message_part);
}

static void
test_merges_errors (void)
{
  const char bad_utf8[] = "#version: 0.2\nh \xff\n";

  assert_merges_error ("#version: 0.2\ni n\nt h\n", 517, 77, HD_ERROR_FORMAT,
                       "have 2 merge lines; a vocabulary of 517 needs 3");
  assert_merges_error ("#version: 0.2\n", 515, 77, HD_ERROR_FORMAT, "have 0 merge lines");
  assert_merges_error ("#version: 0.2\ni n\nth\n", 516, 77, HD_ERROR_FORMAT,
                       "Line 2 of the tokenizer merges is not two symbols separated by one space: “th”");
  assert_merges_error ("#version: 0.2\ni  n\n", 515, 77, HD_ERROR_FORMAT, "Line 1 ");
  assert_merges_error ("#version: 0.2\n i\n", 515, 77, HD_ERROR_FORMAT, "Line 1 ");
  assert_merges_error ("#version: 0.2\ni \n", 515, 77, HD_ERROR_FORMAT, "Line 1 ");
  assert_merges_error ("#version: 0.2\na b c\n", 515, 77, HD_ERROR_FORMAT, "Line 1 ");
  assert_merges_error ("#version: 0.2\n\n", 515, 77, HD_ERROR_FORMAT, "Line 1 ");
  assert_merges_error ("#version: 0.2\ni n\nin g\ni ng\n", 517, 77, HD_ERROR_FORMAT,
                       "has “ing” twice: merge line 2 and merge line 3");
  assert_merges_error ("#version: 0.2\n< |startoftext|>\n", 515, 77, HD_ERROR_FORMAT,
                       "merge line 1 and the start-of-text token");
  assert_merges_error ("#version: 0.2\na </w>\n", 515, 77, HD_ERROR_FORMAT,
                       "a byte symbol with “</w>” and merge line 1");
  assert_merges_error (bad_utf8, 515, 77, HD_ERROR_FORMAT, "not UTF-8 text (byte 16)");
  assert_merges_error ("#version: 0.2\n", 513, 77, HD_ERROR_ARGUMENT, "at least 514");
  assert_merges_error ("#version: 0.2\n", 514, 1, HD_ERROR_ARGUMENT, "at least 2");

  /* Lines past the vocabulary's merges are not read; no final LF is needed. */
  {
    const char *text = "#version: 0.2\ni n\nnot a merge line";
    g_autoptr(GError) error = NULL;
    g_autoptr(HdClipTokenizer) tok = hd_clip_tokenizer_new (text, strlen (text), 515, 77, &error);
    g_autoptr(HdClipTokenizer) header_only = hd_clip_tokenizer_new ("#v", 2, 514, 2, &error);

    g_assert_no_error (error);
    g_assert_nonnull (tok);
    g_assert_nonnull (header_only);
    g_assert_cmpuint (hd_clip_tokenizer_get_vocab_size (tok), ==, 515);
    g_assert_cmpuint (hd_clip_tokenizer_get_context_length (tok), ==, 77);
  }
}

static void
test_files (void)
{
  g_autofree char *gz = hd_test_conformance_path (MERGES_FILE);
  g_autofree char *dir = hd_test_make_tmpdir ();
  g_autofree char *plain = g_build_filename (dir, "merges.txt", NULL);
  g_autofree char *broken = g_build_filename (dir, "broken.gz", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.txt", NULL);
  g_autoptr(HdClipTokenizer) from_gz = load_tokenizer (1000);
  g_autoptr(HdClipTokenizer) from_plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) a = NULL;
  g_autoptr(GArray) b = NULL;
  const char *text = "#version: 0.2\ni n\nt h\nth e</w>\n";
  const char gzip_garbage[] = "\x1f\x8b\x08\x00garbage";

  g_file_set_contents (plain, text, -1, &error);
  g_assert_no_error (error);
  from_plain = hd_clip_tokenizer_new_from_file (plain, 517, 77, &error);
  g_assert_no_error (error);
  a = encode (from_plain, "the thing");
  {
    /* the</w>, th, in, g</w>: the three merges at work. */
    const guint32 expected[] = { 515, 514, 513, 512, 326, 516 };

    g_assert_cmpmem (a->data, a->len * 4, expected, sizeof expected);
  }
  b = encode (from_gz, "the thing");
  g_assert_cmpuint (b->len, >, 2);

  from_plain = (hd_clip_tokenizer_unref (from_plain), NULL);
  from_plain = hd_clip_tokenizer_new_from_file (plain, 600, 77, &error);
  g_assert_null (from_plain);
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_true (strstr (error->message, "merges.txt: ") != NULL);
  g_clear_error (&error);

  g_file_set_contents (broken, gzip_garbage, sizeof gzip_garbage - 1, &error);
  g_assert_no_error (error);
  g_assert_null (hd_clip_tokenizer_new_from_file (broken, 600, 77, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_FORMAT);
  g_assert_true (strstr (error->message, "broken.gz: the gzip data does not decompress") != NULL);
  g_clear_error (&error);

  g_assert_null (hd_clip_tokenizer_new_from_file (missing, 600, 77, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_IO);
  g_clear_error (&error);

  {
    /* ref/unref keep it alive. */
    HdClipTokenizer *extra = hd_clip_tokenizer_ref (from_gz);

    hd_clip_tokenizer_unref (extra);
    g_assert_cmpuint (hd_clip_tokenizer_get_vocab_size (from_gz), ==, 1000);
  }
  hd_test_rmdir_recursive (dir);
}

/* ---- byte-pair encoding against CLIP's own loop ----------------------- */

/* openai/CLIP's SimpleTokenizer.bpe, on strings, for ASCII words. */
static void
reference_bpe (GHashTable *ranks,
               GHashTable *vocab,
               const char *word,
               GArray     *ids)
{
  g_autoptr(GPtrArray) symbols = g_ptr_array_new_with_free_func (g_free);
  gsize n = strlen (word);

  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (symbols, i + 1 < n ? g_strndup (word + i, 1)
                                        : g_strdup_printf ("%c</w>", word[i]));
  while (symbols->len > 1)
    {
      g_autoptr(GPtrArray) merged = g_ptr_array_new_with_free_func (g_free);
      guint best = G_MAXUINT;
      const char *first = NULL, *second = NULL;
      guint i = 0;

      for (guint k = 0; k + 1 < symbols->len; k++)
        {
          g_autofree char *key = g_strdup_printf ("%s %s", (char *) symbols->pdata[k],
                                                  (char *) symbols->pdata[k + 1]);
          guint rank = GPOINTER_TO_UINT (g_hash_table_lookup (ranks, key));

          if (rank != 0 && rank - 1 < best)
            {
              best = rank - 1;
              first = symbols->pdata[k];
              second = symbols->pdata[k + 1];
            }
        }
      if (best == G_MAXUINT)
        break;
      first = g_strdup (first);
      second = g_strdup (second);
      while (i < symbols->len)
        {
          if (i + 1 < symbols->len && strcmp (symbols->pdata[i], first) == 0 &&
              strcmp (symbols->pdata[i + 1], second) == 0)
            {
              g_ptr_array_add (merged, g_strconcat (first, second, NULL));
              i += 2;
            }
          else
            g_ptr_array_add (merged, g_strdup (symbols->pdata[i++]));
        }
      g_free ((char *) first);
      g_free ((char *) second);
      g_ptr_array_set_size (symbols, 0);
      for (guint k = 0; k < merged->len; k++)
        g_ptr_array_add (symbols, g_strdup (merged->pdata[k]));
    }
  for (guint k = 0; k < symbols->len; k++)
    {
      guint32 id = GPOINTER_TO_UINT (g_hash_table_lookup (vocab, symbols->pdata[k])) - 1;

      g_array_append_val (ids, id);
    }
}

/* Random merges over a three-letter alphabet, in an order that is not
 * the order their symbols appear in (a merge may need a symbol that only
 * a later one makes, so newly made pairs can outrank the current one),
 * against CLIP's loop on random words. */
static void
test_bpe_matches_reference (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);

  for (guint round = 0; round < 40; round++)
    {
      g_autoptr(GHashTable) vocab = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GHashTable) ranks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GString) text = g_string_new ("#version: 0.2\n");
      g_autoptr(HdClipTokenizer) tok = NULL;
      g_autoptr(GError) error = NULL;
      guint n_merges;

      for (const char *c = "abc"; *c != '\0'; c++)
        {
          g_ptr_array_add (pool, g_strndup (c, 1));
          g_ptr_array_add (pool, g_strdup_printf ("%c</w>", *c));
        }
      /* Every vocabulary string the test words can reach, with its id. */
      for (guint b = 'a'; b <= 'c'; b++)
        {
          g_hash_table_insert (vocab, g_strdup_printf ("%c", b), GUINT_TO_POINTER (b - 0x21 + 1));
          g_hash_table_insert (vocab, g_strdup_printf ("%c</w>", b), GUINT_TO_POINTER (b - 0x21 + 256 + 1));
        }
      while (lines->len < 60)
        {
          const char *left = pool->pdata[g_rand_int_range (rand, 0, (gint32) pool->len)];
          const char *right = pool->pdata[g_rand_int_range (rand, 0, (gint32) pool->len)];
          g_autofree char *joined = g_strconcat (left, right, NULL);

          /* "</w>" only at the end; no string twice. */
          if (g_str_has_suffix (left, "</w>") || g_hash_table_contains (vocab, joined) ||
              strlen (joined) > 40)
            continue;
          g_hash_table_insert (vocab, g_strdup (joined), GUINT_TO_POINTER (1));
          g_ptr_array_add (pool, g_strdup (joined));
          g_ptr_array_add (lines, g_strdup_printf ("%s %s", left, right));
        }
      /* Shuffle the ranks. */
      for (guint i = lines->len - 1; i > 0; i--)
        {
          guint j = (guint) g_rand_int_range (rand, 0, (gint32) i + 1);
          gpointer t = lines->pdata[i];

          lines->pdata[i] = lines->pdata[j];
          lines->pdata[j] = t;
        }
      n_merges = lines->len;
      for (guint r = 0; r < n_merges; r++)
        {
          const char *line = lines->pdata[r];
          const char *space = strchr (line, ' ');
          g_autofree char *left = g_strndup (line, (gsize) (space - line));
          g_autofree char *joined = g_strconcat (left, space + 1, NULL);

          g_hash_table_insert (ranks, g_strdup (line), GUINT_TO_POINTER (r + 1));
          g_hash_table_insert (vocab, g_steal_pointer (&joined), GUINT_TO_POINTER (512 + r + 1));
          g_string_append_printf (text, "%s\n", line);
        }
      tok = hd_clip_tokenizer_new (text->str, text->len, 514 + n_merges, 77, &error);
      g_assert_no_error (error);

      for (guint w = 0; w < 50; w++)
        {
          g_autoptr(GArray) got = g_array_new (FALSE, FALSE, sizeof (guint32));
          g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint32));
          char word[41];
          guint len = (guint) g_rand_int_range (rand, 1, 41);

          for (guint i = 0; i < len; i++)
            word[i] = "abc"[g_rand_int_range (rand, 0, 3)];
          word[len] = '\0';
          reference_bpe (ranks, vocab, word, expected);
          hd_clip_tokenizer_encode (tok, word, got, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (got->len, ==, expected->len + 2);
          g_assert_cmpmem (&g_array_index (got, guint32, 1), expected->len * 4,
                           expected->data, expected->len * 4);
        }
    }
}

/* Encodes from several threads at once (the piece cache is shared). */
typedef struct {
  HdClipTokenizer *tok;
  JsonArray       *cases;
  gint             failures;
} ThreadsData;

static gpointer
encode_all (gpointer user_data)
{
  ThreadsData *data = user_data;

  for (guint round = 0; round < 20; round++)
    for (guint c = 0; c < json_array_get_length (data->cases); c++)
      {
        JsonObject *tc = json_array_get_object_element (data->cases, c);
        g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
        JsonArray *expected;

        if (!json_object_has_member (tc, "tokens"))
          continue;
        expected = json_object_get_array_member (tc, "tokens");
        hd_clip_tokenizer_encode (data->tok, json_object_get_string_member (tc, "prompt"), ids, NULL);
        if (ids->len != json_array_get_length (expected) ||
            g_array_index (ids, guint32, ids->len - 1) != (guint32) json_array_get_int_element (expected, ids->len - 1))
          g_atomic_int_inc (&data->failures);
      }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(JsonParser) parser = load_tokens_json ();
  g_autoptr(HdClipTokenizer) tok = load_tokenizer (HD_CLIP_VOCAB_SIZE);
  ThreadsData data = {
    tok,
    json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases"),
    0,
  };
  GThread *threads[4];

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("encode", encode_all, &data);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (data.failures, ==, 0);
}

/* Figures, and bounds loose enough for a sanitizer build on a busy
 * machine: construction is done once per hypernetwork, encoding once per
 * prompt edit. */
static void
test_speed (void)
{
  g_autofree char *path = hd_test_conformance_path (MERGES_FILE);
  g_autoptr(JsonParser) parser = load_json ("text/tokens.json");
  JsonArray *cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  const char *prompt = NULL;
  g_autoptr(HdClipTokenizer) tok = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  gint64 start, built, first, repeated;
  const guint n_repeats = 1000;

  for (guint c = 0; c < json_array_get_length (cases); c++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (cases, c), "name"),
                   "exactly-75-tokens") == 0)
      prompt = json_object_get_string_member (json_array_get_object_element (cases, c), "prompt");
  g_assert_nonnull (prompt);

  start = g_get_monotonic_time ();
  tok = hd_clip_tokenizer_new_from_file (path, HD_CLIP_VOCAB_SIZE, HD_CLIP_CONTEXT_LENGTH, NULL);
  built = g_get_monotonic_time ();
  g_assert_nonnull (tok);
  g_assert_true (hd_clip_tokenizer_encode (tok, prompt, ids, NULL));
  first = g_get_monotonic_time ();
  g_assert_cmpuint (ids->len, ==, 77);
  for (guint i = 0; i < n_repeats; i++)
    hd_clip_tokenizer_encode (tok, prompt, ids, NULL);
  repeated = g_get_monotonic_time ();

  g_test_message ("construction from the gzip file (48,894 merges): %.1f ms",
                  (built - start) / 1000.0);
  g_test_message ("75-token prompt: first encode %.1f us, then %.1f us each",
                  (double) (first - built), (double) (repeated - first) / n_repeats);
  g_assert_cmpint (built - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint ((repeated - first) / n_repeats, <, 20000);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/Tokenizer/tokens-json", test_tokens_json);
  g_test_add_func ("/Hyperdomain/Tokenizer/small-vocabulary", test_small_vocabulary);
  g_test_add_func ("/Hyperdomain/Tokenizer/final-sigma", test_final_sigma);
  g_test_add_func ("/Hyperdomain/Tokenizer/lowercase", test_lowercase);
  g_test_add_func ("/Hyperdomain/Tokenizer/split", test_split);
  g_test_add_func ("/Hyperdomain/Tokenizer/references", test_references);
  g_test_add_func ("/Hyperdomain/Tokenizer/fixes", test_fixes);
  g_test_add_func ("/Hyperdomain/Tokenizer/prompt-errors", test_prompt_errors);
  g_test_add_func ("/Hyperdomain/Tokenizer/merges-errors", test_merges_errors);
  g_test_add_func ("/Hyperdomain/Tokenizer/files", test_files);
  g_test_add_func ("/Hyperdomain/Tokenizer/bpe-matches-reference", test_bpe_matches_reference);
  g_test_add_func ("/Hyperdomain/Tokenizer/threads", test_threads);
  g_test_add_func ("/Hyperdomain/Tokenizer/speed", test_speed);

  return g_test_run ();
}
