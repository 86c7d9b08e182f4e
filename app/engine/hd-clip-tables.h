/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Character data of the CLIP tokenizer's normalisation that GLib lacks
 * (spec/text-domains.md §2.1), generated into hd-clip-tables.c by
 * tools/gen-clip-tables.py from Python's standard library. Internal to the
 * engine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;   /* without the '&'; with the ';' where it has one */
  const char *value;  /* UTF-8 */
} HdClipEntity;

typedef struct {
  guint32 from;
  guint32 to;
} HdClipCasePair;

typedef struct {
  guint32 first;
  guint32 last;
} HdClipRange;

/* html.entities.html5: 2231 names, sorted by strcmp. */
extern const HdClipEntity   hd_clip_html5_entities[];
extern const guint          hd_clip_n_html5_entities;
/* ftfy's early references of upper-cased names ("EACUTE;" -> "É"). */
extern const HdClipEntity   hd_clip_early_upper_entities[];
extern const guint          hd_clip_n_early_upper_entities;
/* NFKC of U+FF01 + i, or NULL where it is the character itself. */
extern const char *const    hd_clip_width_nfkc[];
/* Python's one-to-one lower-case mappings, sorted by code point. */
extern const HdClipCasePair hd_clip_lower_pairs[];
extern const guint          hd_clip_n_lower_pairs;
/* What Python's Final_Sigma rule skips, and what it counts as cased. */
extern const HdClipRange    hd_clip_case_ignorable[];
extern const guint          hd_clip_n_case_ignorable;
extern const HdClipRange    hd_clip_cased[];
extern const guint          hd_clip_n_cased;

G_END_DECLS
