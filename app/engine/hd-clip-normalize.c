/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The normalisation of CLIP's tokenizer (spec/text-domains.md §2.1): ftfy's
 * fix_text with its default configuration less the mojibake repair, then
 * CLIP's double html.unescape, white-space clean-up and Python's
 * str.lower. The text is handled as an array of code points (GArray of
 * gunichar), since every rule is stated on characters. */
#include "config.h"

#include <string.h>

#include "hd-clip-private.h"
#include "hd-clip-tables.h"
#include "hd-clip-tokenizer.h"

/* Names of the HTML5 table are at most 32 characters with the ';'. */
#define NAMED_REFERENCE_MAX 32
#define EARLY_REFERENCE_MAX 24

#define AT(text, i) g_array_index ((text), gunichar, (i))

static inline gunichar
char_at (const GArray *text,
         gsize         i)
{
  return i < text->len ? AT (text, i) : 0;
}

static inline void
append (GArray   *text,
        gunichar  c)
{
  g_array_append_val (text, c);
}

static void
append_utf8 (GArray     *text,
             const char *s)
{
  for (; *s != '\0'; s = g_utf8_next_char (s))
    append (text, g_utf8_get_char (s));
}

static void
append_range (GArray       *text,
              const GArray *from,
              gsize         start,
              gsize         end)
{
  if (end > start)
    g_array_append_vals (text, &AT (from, start), end - start);
}

static gboolean
same_text (const GArray *a,
           const GArray *b)
{
  /* An empty GArray may have no data at all. */
  return a->len == b->len &&
         (a->len == 0 || memcmp (a->data, b->data, a->len * sizeof (gunichar)) == 0);
}

/* The Unicode White_Space property: the spec's W. */
gboolean
hd_clip_is_white_space (gunichar c)
{
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* What Python's str.strip removes: W and the information separators. */
static gboolean
is_strippable (gunichar c)
{
  return hd_clip_is_white_space (c) || (c >= 0x1C && c <= 0x1F);
}

static gboolean
is_ascii_alnum (gunichar c)
{
  return c < 0x80 && g_ascii_isalnum ((char) c);
}

/* The windows-1252 character of byte 0x80 + i; the five bytes it leaves
 * undefined stay the C1 control they are. */
static const gunichar windows_1252[32] = {
  0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
  0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Whether some character of TEXT satisfies PRED: most steps change
 * nothing in most text, and then need not copy it. */
static gboolean
any_char (const GArray *text,
          gboolean    (*pred) (gunichar c))
{
  for (gsize i = 0; i < text->len; i++)
    if (pred (AT (text, i)))
      return TRUE;
  return FALSE;
}

static gboolean
is_ampersand (gunichar c)
{
  return c == '&';
}

/* ---- HTML character references ---------------------------------------- */

static int
compare_entity (const void *key,
                const void *member)
{
  const char *name = key;
  const HdClipEntity *entity = member;

  return strcmp (name, entity->name);
}

static const char *
lookup_entity (const HdClipEntity *table,
               guint               n,
               const char         *name)
{
  const HdClipEntity *found = bsearch (name, table, n, sizeof *table, compare_entity);

  return found != NULL ? found->value : NULL;
}

/* Python's html.unescape of a numeric reference of value N (saturated
 * above U+10FFFF). */
static void
append_numeric_reference (GArray  *out,
                          guint32  n)
{
  if (n == 0)
    append (out, 0xFFFD);
  else if (n == 0x0D)
    append (out, 0x0D);
  else if (n >= 0x80 && n <= 0x9F)
    append (out, windows_1252[n - 0x80]);
  else if ((n >= 0xD800 && n <= 0xDFFF) || n > 0x10FFFF)
    append (out, 0xFFFD);
  else if ((n >= 0x01 && n <= 0x08) || n == 0x0B || (n >= 0x0E && n <= 0x1F) ||
           (n >= 0x7F && n <= 0x9F) || (n >= 0xFDD0 && n <= 0xFDEF) ||
           (n & 0xFFFE) == 0xFFFE)
    return; /* the HTML5 "invalid code points": dropped */
  else
    append (out, n);
}

static gboolean
is_named_reference_char (gunichar c)
{
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' &&
         c != '&' && c != '#' && c != ';';
}

/* A numeric reference at IN[i] ('&' '#'): appends its value and returns the
 * index past it, or returns I when there is none. */
static gsize
decode_numeric_reference (const GArray *in,
                          gsize         i,
                          GArray       *out)
{
  gsize j = i + 2;
  guint base = 10;
  guint32 n = 0;
  gsize digits_start;

  if ((char_at (in, j) == 'x' || char_at (in, j) == 'X') && j + 1 < in->len &&
      AT (in, j + 1) < 0x80 && g_ascii_isxdigit ((char) AT (in, j + 1)))
    {
      base = 16;
      j++;
    }
  digits_start = j;
  for (; j < in->len && AT (in, j) < 0x80; j++)
    {
      char c = (char) AT (in, j);
      int digit;

      if (base == 16 ? !g_ascii_isxdigit (c) : !g_ascii_isdigit (c))
        break;
      digit = base == 16 ? g_ascii_xdigit_value (c) : g_ascii_digit_value (c);
      /* However many digits: anything past U+10FFFF is U+FFFD. */
      n = n > 0x10FFFF ? 0x110000 : n * base + (guint32) digit;
    }
  if (j == digits_start)
    return i;
  if (char_at (in, j) == ';')
    j++;
  append_numeric_reference (out, n);
  return j;
}

/* A named reference at IN[i] ('&'): the longest run of up to 32 name
 * characters and an optional ';'; the whole run if it is a name, else its
 * longest prefix of at least 2 characters that is, else the run unchanged.
 * Returns the index past the run, or I when there is no run. */
static gsize
decode_named_reference (const GArray *in,
                        gsize         i,
                        GArray       *out)
{
  char name[NAMED_REFERENCE_MAX + 2];
  gsize start = i + 1, end = start, ascii_len = 0;
  gboolean ascii = TRUE;
  const char *value = NULL;
  gsize x = 0;

  while (end < in->len && end - start < NAMED_REFERENCE_MAX &&
         is_named_reference_char (AT (in, end)))
    {
      gunichar c = AT (in, end);

      if (c >= 0x80)
        ascii = FALSE;
      if (ascii)
        name[ascii_len++] = (char) c;
      end++;
    }
  if (end == start)
    return i;
  if (char_at (in, end) == ';')
    {
      if (ascii)
        name[ascii_len++] = ';';
      end++;
    }
  name[ascii_len] = '\0';

  /* Every name is ASCII: only an ASCII prefix can match. */
  if (ascii)
    value = lookup_entity (hd_clip_html5_entities, hd_clip_n_html5_entities, name);
  if (value != NULL)
    {
      append_utf8 (out, value);
      return end;
    }
  for (x = MIN (ascii_len, end - start - 1); x >= 2 && value == NULL; x--)
    {
      name[x] = '\0';
      value = lookup_entity (hd_clip_html5_entities, hd_clip_n_html5_entities, name);
      if (value != NULL)
        {
          append_utf8 (out, value);
          append_range (out, in, start + x, end);
          return end;
        }
    }
  append_range (out, in, i, end);
  return end;
}

/* Python's html.unescape: replaces the character references of IN, left
 * to right and without overlap. Returns whether anything changed. */
static gboolean
decode_references (const GArray *in,
                   GArray       *out)
{
  gsize i = 0;

  g_array_set_size (out, 0);
  if (!any_char (in, is_ampersand))
    {
      append_range (out, in, 0, in->len);
      return FALSE;
    }
  while (i < in->len)
    {
      gsize next = i;

      if (AT (in, i) == '&')
        next = char_at (in, i + 1) == '#'
               ? decode_numeric_reference (in, i, out)
               : decode_named_reference (in, i, out);
      if (next == i)
        append (out, AT (in, i++));
      else
        i = next;
    }
  return !same_text (in, out);
}

static gboolean
contains_char (const GArray *text,
               gunichar      c)
{
  for (gsize i = 0; i < text->len; i++)
    if (AT (text, i) == c)
      return TRUE;
  return FALSE;
}

/* ftfy's unescape_html (step 1.1): each "&" "#"? [0-9A-Za-z]{1,24} ";" is
 * replaced when it is a name of the table E, or a numeric reference whose
 * value has no ';'; anything else stays. */
static gboolean
fix_early_references (const GArray *in,
                      GArray       *out)
{
  g_autoptr(GArray) reference = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr(GArray) decoded = g_array_new (FALSE, FALSE, sizeof (gunichar));
  gsize i = 0;

  if (!any_char (in, is_ampersand))
    return FALSE;
  while (i < in->len)
    {
      char name[EARLY_REFERENCE_MAX + 3];
      gboolean numeric = FALSE;
      const char *value = NULL;
      gsize j = i + 1, k, n = 0;

      if (AT (in, i) != '&')
        {
          append (out, AT (in, i++));
          continue;
        }
      if (char_at (in, j) == '#')
        {
          numeric = TRUE;
          name[n++] = '#';
          j++;
        }
      for (k = j; k < in->len && k - j <= EARLY_REFERENCE_MAX && is_ascii_alnum (AT (in, k)); k++)
        name[n++] = (char) AT (in, k);
      if (k == j || k - j > EARLY_REFERENCE_MAX || char_at (in, k) != ';')
        {
          append (out, AT (in, i++));
          continue;
        }
      name[n++] = ';';
      name[n] = '\0';

      if (!numeric)
        {
          value = lookup_entity (hd_clip_html5_entities, hd_clip_n_html5_entities, name);
          if (value == NULL)
            value = lookup_entity (hd_clip_early_upper_entities,
                                   hd_clip_n_early_upper_entities, name);
          if (value != NULL)
            append_utf8 (out, value);
          else
            append_range (out, in, i, k + 1);
        }
      else
        {
          g_array_set_size (reference, 0);
          append_range (reference, in, i, k + 1);
          decode_references (reference, decoded);
          if (!contains_char (decoded, ';'))
            append_range (out, decoded, 0, decoded->len);
          else
            append_range (out, in, i, k + 1);
        }
      i = k + 1;
    }
  return !same_text (in, out);
}

/* ---- the other steps of one pass over a line -------------------------- */

static gboolean
is_c1 (gunichar c)
{
  return c >= 0x80 && c <= 0x9F;
}

/* Step 1.2: C1 controls to the windows-1252 characters of their bytes. */
static gboolean
fix_c1_controls (const GArray *in,
                 GArray       *out)
{
  gboolean changed = FALSE;

  if (!any_char (in, is_c1))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    {
      gunichar c = AT (in, i);

      if (c >= 0x80 && c <= 0x9F && windows_1252[c - 0x80] != c)
        {
          c = windows_1252[c - 0x80];
          changed = TRUE;
        }
      append (out, c);
    }
  return changed;
}

/* Step 1.3: ftfy's ligatures; exactly these (not every compatibility
 * ligature: ﬅ keeps its long s). */
static const struct {
  gunichar    from;
  const char *to;
} ligatures[] = {
  { 0x0132, "IJ" }, { 0x0133, "ij" }, { 0x0149, "\u02BCn" },
  { 0x01C4, "D\u017D" }, { 0x01C5, "D\u017E" }, { 0x01C6, "d\u017E" },
  { 0x01C7, "LJ" }, { 0x01C8, "Lj" }, { 0x01C9, "lj" },
  { 0x01CA, "NJ" }, { 0x01CB, "Nj" }, { 0x01CC, "nj" },
  { 0x01F1, "DZ" }, { 0x01F2, "Dz" }, { 0x01F3, "dz" },
  { 0xFB00, "ff" }, { 0xFB01, "fi" }, { 0xFB02, "fl" }, { 0xFB03, "ffi" },
  { 0xFB04, "ffl" }, { 0xFB05, "\u017Ft" }, { 0xFB06, "st" },
};

static const char *
ligature_of (gunichar c)
{
  if (c < 0x0132 || (c > 0x01F3 && c < 0xFB00) || c > 0xFB06)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (ligatures); i++)
    if (ligatures[i].from == c)
      return ligatures[i].to;
  return NULL;
}

static gboolean
is_ligature (gunichar c)
{
  return ligature_of (c) != NULL;
}

static gboolean
fix_ligatures (const GArray *in,
               GArray       *out)
{
  gboolean changed = FALSE;

  if (!any_char (in, is_ligature))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    {
      const char *to = ligature_of (AT (in, i));

      if (to != NULL)
        {
          append_utf8 (out, to);
          changed = TRUE;
        }
      else
        append (out, AT (in, i));
    }
  return changed;
}

/* Step 1.4: the ideographic space and the NFKC forms of the full- and
 * half-width block. */
static gboolean
is_wide (gunichar c)
{
  return c == 0x3000 || (c >= 0xFF01 && c <= 0xFFEF);
}

static gboolean
fix_width (const GArray *in,
           GArray       *out)
{
  gboolean changed = FALSE;

  if (!any_char (in, is_wide))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    {
      gunichar c = AT (in, i);

      if (c == 0x3000)
        {
          append (out, ' ');
          changed = TRUE;
        }
      else if (c >= 0xFF01 && c <= 0xFFEF && hd_clip_width_nfkc[c - 0xFF01] != NULL)
        {
          append_utf8 (out, hd_clip_width_nfkc[c - 0xFF01]);
          changed = TRUE;
        }
      else
        append (out, c);
    }
  return changed;
}

/* Step 1.5: curly quotes and the modifier apostrophe to ASCII; primes and
 * guillemets stay. */
static gboolean
is_fancy_quote (gunichar c)
{
  return c == 0x02BC || (c >= 0x2018 && c <= 0x201F);
}

static gboolean
fix_quotes (const GArray *in,
            GArray       *out)
{
  if (!any_char (in, is_fancy_quote))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    {
      gunichar c = AT (in, i);

      if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B))
        c = '\'';
      else if (c >= 0x201C && c <= 0x201F)
        c = '"';
      append (out, c);
    }
  return TRUE;
}

/* Step 1.6: every line break to LF. */
static gboolean
is_other_line_break (gunichar c)
{
  return c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85;
}

static gboolean
fix_line_breaks (const GArray *in,
                 GArray       *out)
{
  gboolean changed = FALSE;

  if (!any_char (in, is_other_line_break))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    {
      gunichar c = AT (in, i);

      if (c == '\r' && char_at (in, i + 1) == '\n')
        continue; /* the LF follows */
      if (c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85)
        {
          c = '\n';
          changed = TRUE;
        }
      append (out, c);
    }
  /* Dropping the CR of a CR LF changes the text too. */
  return changed || in->len != out->len;
}

/* Step 1.7: ANSI terminal escapes, ESC '[' (';' | Nd)* letter. */
static gboolean
is_escape (gunichar c)
{
  return c == 0x1B;
}

static gboolean
fix_terminal_escapes (const GArray *in,
                      GArray       *out)
{
  gboolean changed = FALSE;
  gsize i = 0;

  if (!any_char (in, is_escape))
    return FALSE;
  while (i < in->len)
    {
      gsize j = i + 2;

      if (AT (in, i) == 0x1B && char_at (in, i + 1) == '[')
        {
          while (j < in->len && (AT (in, j) == ';' || g_unichar_isdigit (AT (in, j))))
            j++;
          if (j < in->len && AT (in, j) < 0x80 && g_ascii_isalpha ((char) AT (in, j)))
            {
              i = j + 1;
              changed = TRUE;
              continue;
            }
        }
      append (out, AT (in, i++));
    }
  return changed;
}

static gboolean
is_deleted_control (gunichar c)
{
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
         (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

/* Step 1.8: control characters that mean nothing in text. Zero-width
 * joiners, bidi marks and tag characters stay: they are part of emoji and
 * scripts. */
static gboolean
fix_controls (const GArray *in,
              GArray       *out)
{
  if (!any_char (in, is_deleted_control))
    return FALSE;
  for (gsize i = 0; i < in->len; i++)
    if (!is_deleted_control (AT (in, i)))
      append (out, AT (in, i));
  return out->len != in->len;
}

/* Step 1.9: NFC (GLib's tables agree with Python's on every character
 * that Unicode 14 assigns). */
static gboolean
fix_nfc (const GArray *in,
         GArray       *out)
{
  g_autofree char *utf8 = NULL;
  g_autofree char *nfc = NULL;
  gboolean below_combining = TRUE;

  /* Nothing below U+0300 decomposes or composes with its neighbours. */
  for (gsize i = 0; i < in->len && below_combining; i++)
    below_combining = AT (in, i) < 0x300;
  if (below_combining)
    return FALSE;

  utf8 = g_ucs4_to_utf8 ((const gunichar *) (const void *) in->data, (glong) in->len,
                         NULL, NULL, NULL);
  nfc = g_utf8_normalize (utf8, -1, G_NORMALIZE_NFC);
  append_utf8 (out, nfc);
  return !same_text (in, out);
}

typedef gboolean (*FixStep) (const GArray *in,
                             GArray       *out);

/* Steps 1.2 .. 1.9, in this order. */
static const FixStep line_steps[] = {
  fix_c1_controls, fix_ligatures, fix_width, fix_quotes, fix_line_breaks,
  fix_terminal_escapes, fix_controls, fix_nfc,
};

/* Runs STEP on *TEXT; keeps its result when it changed something. */
static gboolean
run_step (FixStep   step,
          GArray  **text,
          GArray  **scratch)
{
  GArray *swap;

  g_array_set_size (*scratch, 0);
  if (!step (*text, *scratch))
    return FALSE;
  swap = *text;
  *text = *scratch;
  *scratch = swap;
  return TRUE;
}

/* Repeats the steps until a whole pass leaves LINE as it is: ftfy fixes
 * until nothing changes, since one fix can uncover another ("&amp;lt;").
 * Each pass costs the line's length, and each can uncover just one more
 * reference ("&amp;amp;amp;..."), so passes are bounded: past
 * HD_CLIP_MAX_FIX_PASSES the line is left as it stands and FALSE
 * returned. */
static gboolean
fix_line (GArray   **line,
          GArray   **scratch,
          gboolean   early)
{
  gboolean changed = TRUE;
  guint n_passes = 0;

  while (changed)
    {
      if (n_passes++ == HD_CLIP_MAX_FIX_PASSES)
        return FALSE;
      changed = FALSE;
      if (early)
        changed |= run_step (fix_early_references, line, scratch);
      for (guint s = 0; s < G_N_ELEMENTS (line_steps); s++)
        changed |= run_step (line_steps[s], line, scratch);
    }
  return TRUE;
}

/* ---- Python's str.lower ----------------------------------------------- */

static gboolean
in_ranges (const HdClipRange *table,
           guint              n,
           gunichar           c)
{
  guint lo = 0, hi = n;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (c < table[mid].first)
        hi = mid;
      else if (c > table[mid].last)
        lo = mid + 1;
      else
        return TRUE;
    }
  return FALSE;
}

static gunichar
lower_one (gunichar c)
{
  guint lo = 0, hi = hd_clip_n_lower_pairs;

  if (c < 0x80)
    return g_ascii_tolower ((char) c);
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (c < hd_clip_lower_pairs[mid].from)
        hi = mid;
      else if (c > hd_clip_lower_pairs[mid].from)
        lo = mid + 1;
      else
        return hd_clip_lower_pairs[mid].to;
    }
  return c;
}

static gboolean
is_case_ignorable (gunichar c)
{
  return in_ranges (hd_clip_case_ignorable, hd_clip_n_case_ignorable, c);
}

static gboolean
is_cased (gunichar c)
{
  return in_ranges (hd_clip_cased, hd_clip_n_cased, c);
}

/* Python's Final_Sigma: a cased letter before the Σ (skipping
 * case-ignorable characters) and none after it. */
static gboolean
is_final_sigma (const GArray *text,
                gsize         i)
{
  gsize j;

  for (j = i; j > 0 && is_case_ignorable (AT (text, j - 1)); j--)
    ;
  if (j == 0 || !is_cased (AT (text, j - 1)))
    return FALSE;
  for (j = i + 1; j < text->len && is_case_ignorable (AT (text, j)); j++)
    ;
  return j == text->len || !is_cased (AT (text, j));
}

static void
lowercase (const GArray *in,
           GArray       *out)
{
  for (gsize i = 0; i < in->len; i++)
    {
      gunichar c = AT (in, i);

      if (c == 0x03A3)
        append (out, is_final_sigma (in, i) ? 0x03C2 : 0x03C3);
      else if (c == 0x0130)
        {
          /* SpecialCasing's one unconditional mapping that is not one to
           * one: İ is i and a combining dot. */
          append (out, 'i');
          append (out, 0x0307);
        }
      else
        append (out, lower_one (c));
    }
}

/* ---- the whole normalisation ----------------------------------------- */

static void
strip (GArray *text)
{
  gsize start = 0, end = text->len;

  while (start < end && is_strippable (AT (text, start)))
    start++;
  while (end > start && is_strippable (AT (text, end - 1)))
    end--;
  if (start > 0)
    memmove (text->data, &AT (text, start), (end - start) * sizeof (gunichar));
  g_array_set_size (text, end - start);
}

static void
collapse_white_space (const GArray *in,
                      GArray       *out)
{
  for (gsize i = 0; i < in->len; i++)
    {
      if (!hd_clip_is_white_space (AT (in, i)))
        append (out, AT (in, i));
      else if (i == 0 || !hd_clip_is_white_space (AT (in, i - 1)))
        append (out, ' ');
    }
}

GArray *
hd_clip_normalize_chars (const char *text,
                         gboolean   *complete)
{
  g_autoptr(GArray) joined = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr(GArray) line = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr(GArray) scratch = g_array_new (FALSE, FALSE, sizeof (gunichar));
  GArray *lower;
  gboolean early = TRUE;
  const char *p = text;

  g_return_val_if_fail (g_utf8_validate (text, -1, NULL), NULL);

  if (complete != NULL)
    *complete = TRUE;
  /* ftfy fixes line by line, each keeping its LF; once a line has a '<'
   * it takes the text for HTML and stops decoding references early. */
  while (*p != '\0')
    {
      const char *lf = strchr (p, '\n');
      const char *end = lf != NULL ? lf + 1 : p + strlen (p);

      if (early && memchr (p, '<', (gsize) (end - p)) != NULL)
        early = FALSE;
      g_array_set_size (line, 0);
      for (const char *q = p; q < end; q = g_utf8_next_char (q))
        append (line, g_utf8_get_char (q));
      if (!fix_line (&line, &scratch, early) && complete != NULL)
        *complete = FALSE;
      append_range (joined, line, 0, line->len);
      p = end;
    }

  /* CLIP's html.unescape(html.unescape(text)).strip(). */
  g_array_set_size (scratch, 0);
  decode_references (joined, scratch);
  g_array_set_size (joined, 0);
  decode_references (scratch, joined);
  strip (joined);

  /* whitespace_clean, then .lower(). */
  g_array_set_size (scratch, 0);
  collapse_white_space (joined, scratch);
  strip (scratch);
  lower = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), scratch->len + 8);
  lowercase (scratch, lower);
  return lower;
}

char *
hd_clip_normalize (const char *text)
{
  g_autoptr(GArray) chars = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  chars = hd_clip_normalize_chars (text, NULL);
  if (chars == NULL)
    return NULL;
  return g_ucs4_to_utf8 ((const gunichar *) (const void *) chars->data,
                         (glong) chars->len, NULL, NULL, NULL);
}
