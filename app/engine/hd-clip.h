/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip-model.h"
#include "hd-clip-tokenizer.h"
#include "hd-safetensors.h"

G_BEGIN_DECLS

/* A clip file (spec/domain-training.md §7): both towers of a CLIP (a ViT
 * image tower) and its tokenizer merges, for training domains.  Loading
 * checks everything §7 lists, with messages that name the file and the
 * tensor or key. */

typedef struct _HdClip HdClip;

struct _HdClip {
  char               *path;          /* absolute */
  char               *name;          /* hyperdomain.name */
  char               *description;   /* may be NULL */
  HdClipConfig        config;        /* config.name, embed_dim and the text sizes */
  HdClipVisionConfig  vision;
  HdClipText          text;          /* prefix "" */
  HdSafetensors      *st;

  /*< private >*/
  gint                ref_count;
};

HdClip     *hd_clip_load                   (const char      *path,
                                            GError         **error);
/* Same over an opened file (opened with HD_SAFETENSORS_ALLOW_INTEGERS). */
HdClip     *hd_clip_load_from_safetensors  (HdSafetensors   *st,
                                            GError         **error);
/* A CLIP of random weights in memory, of OpenAI's SHAPE ("vit-b32" or
 * "vit-b16": a ViT-B image tower at 224 pixels, a text tower of width
 * 512 with a small vocabulary), for benchmarks. */
HdClip     *hd_clip_new_random             (const char      *shape,
                                            guint32          seed,
                                            GError         **error);
HdClip     *hd_clip_ref                    (HdClip          *clip);
void        hd_clip_unref                  (HdClip          *clip);

/* The tokenizer of CLIP's merges and sizes. */
HdClipTokenizer *hd_clip_new_tokenizer     (HdClip          *clip,
                                            GError         **error);

/* The K = 79 prompt templates of spec/domain-training.md §3, in order
 * (each has one "{}"), NULL-terminated. */
const char * const *hd_clip_templates      (void);
/* TEMPLATE with "{}" replaced by TEXT, verbatim. */
char       *hd_clip_format_template        (const char      *template_,
                                            const char      *text);

/* Encodes the token row IDS (SOT ... EOT) to a unit vector E. */
typedef gboolean (*HdClipTextEncodeFunc) (const guint32  *ids,
                                          guint           n_ids,
                                          float          *e,
                                          gpointer        user_data,
                                          GError        **error);

/* The text direction t of §3: (1/K) Σ_k (ê(T_k(TARGET)) − ê(T_k(SOURCE)))
 * (embed_dim floats), each template prompt tokenized with TOKENIZER and
 * encoded with ENCODE.  SOURCE_EMB and TARGET_EMB (K x embed_dim floats
 * each) receive the template embeddings when not NULL.  A template
 * prompt of more than context_length - 2 tokens is an error naming the
 * template. */
gboolean    hd_clip_text_direction         (HdClip               *clip,
                                            HdClipTokenizer      *tokenizer,
                                            HdClipTextEncodeFunc  encode,
                                            gpointer              user_data,
                                            const char           *source,
                                            const char           *target,
                                            float                *t,
                                            float                *source_emb,
                                            float                *target_emb,
                                            GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdClip, hd_clip_unref)

G_END_DECLS
