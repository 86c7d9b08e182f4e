/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "hd-safetensors.h"

G_BEGIN_DECLS

/* What the two files that hold a CLIP share: a hypernetwork holds its
 * text tower (spec/text-domains.md §5, names prefixed "clip."), a clip
 * file both towers (spec/domain-training.md §7, OpenAI's names).  The
 * towers are views into the loaded file; the checks of their tensors,
 * the merges and the JSON config are done here for both kinds. */

typedef struct {
  char *name;             /* "ViT-B/32", "custom", ... */
  int   context_length;
  int   vocab_size;
  int   width;
  int   heads;
  int   layers;
  int   embed_dim;
} HdClipConfig;

/* The text tower of a loaded file: its tensors are PREFIX + OpenAI's
 * name (token_embedding.weight, transformer.resblocks.N..., ln_final,
 * text_projection). */
typedef struct {
  HdSafetensors      *st;      /* borrowed from the file's owner */
  const char         *prefix;
  const HdClipConfig *config;
  const char         *merges;  /* tokenizer.merges, in the file's mapping */
  gsize               merges_len;
} HdClipText;

/* A ViT image tower (spec/domain-training.md §2.2): tensors "visual.*". */
typedef struct {
  int width;
  int heads;
  int layers;
  int patch;
  int resolution;   /* n = patch · grid */
  int grid;         /* g: g² patches */
  int embed_dim;
} HdClipVisionConfig;

/* The tensor PREFIX-less NAME made by FORMAT, as float32 (a new array of
 * its n_elements, in *N when N is not NULL).  The loader checked that it
 * exists and is a float tensor. */
float    *hd_clip_get_f32          (HdSafetensors      *st,
                                    gsize              *n,
                                    const char         *format,
                                    ...) G_GNUC_PRINTF (3, 4);

/* The input of the text transformer for the token row IDS (SOT ... EOT,
 * no padding; spec/text-domains.md §3): checks the ids, finds p, the
 * first occurrence of the largest id (the first EOT), and returns the
 * (p + 1) x width floats token_embedding[id_i] + positional_embedding[i]
 * of rows 0 .. p (*N_ROWS = p + 1). */
float    *hd_clip_text_embed_tokens (const HdClipText  *text,
                                     const guint32     *ids,
                                     guint              n_ids,
                                     guint             *n_rows,
                                     GError           **error);

/* Expected tensors: name -> shape, checked against a file at once. */
typedef struct _HdExpected HdExpected;

HdExpected *hd_expected_new        (void);
void        hd_expected_free       (HdExpected *e);
/* A float tensor NAME of shape [D0] (D1 < 0) or [D0, D1]; NAME is taken. */
void        hd_expected_add        (HdExpected *e,
                                    char       *name,
                                    gint64      d0,
                                    gint64      d1);
/* The same with up to 4 dimensions (N_DIMS of SHAPE). */
void        hd_expected_add_shape  (HdExpected   *e,
                                    char         *name,
                                    const gint64 *shape,
                                    guint         n_dims);
/* The 12 tensors of each of LAYERS residual blocks
 * PREFIX"transformer.resblocks.N." of width W (spec/text-domains.md §5). */
void        hd_expected_add_resblocks (HdExpected *e,
                                       const char *prefix,
                                       gint64      w,
                                       int         layers);
/* Every expected tensor is in ST, a float tensor of its shape, finite;
 * and ST has no other tensor than these, tokenizer.merges and those
 * IGNORED accepts (may be NULL).  Errors name the file and the tensor;
 * STRAY (a translated format with one %s, the tensor's name) says that a
 * tensor does not belong in this kind of file. */
gboolean    hd_expected_check      (HdExpected      *e,
                                    HdSafetensors   *st,
                                    gboolean       (*ignored) (const char *name),
                                    const char      *stray,
                                    GError         **error);

/* tokenizer.merges: a UTF-8 U8 vector; sets TEXT's merges. */
gboolean  hd_clip_text_check_merges (HdClipText      *text,
                                     GError         **error);

/* The text sizes of a config into CONFIG: context_length, vocab_size,
 * width, heads and layers from OBJ (called SECTION in messages), name and
 * embed_dim from ROOT (called ROOT_SECTION). */
gboolean  hd_clip_parse_text_config (JsonObject    *obj,
                                     const char    *section,
                                     JsonObject    *root,
                                     const char    *root_section,
                                     const char    *file,
                                     HdClipConfig  *config,
                                     GError       **error);

/* JSON config helpers: a member that must be there, with a message that
 * names FILE, SECTION and KEY. */
gboolean     hd_config_int    (JsonObject  *obj,
                               const char  *file,
                               const char  *section,
                               const char  *key,
                               int          min,
                               int         *out,
                               GError     **error);
const char  *hd_config_string (JsonObject  *obj,
                               const char  *file,
                               const char  *section,
                               const char  *key,
                               GError     **error);
JsonObject  *hd_config_object (JsonObject  *obj,
                               const char  *file,
                               const char  *key,
                               GError     **error);
/* The root object of the JSON TEXT (hyperdomain.config of FILE); the
 * caller unrefs *PARSER. */
JsonObject  *hd_config_parse  (const char  *text,
                               const char  *file,
                               JsonParser **parser,
                               GError     **error);

/* Files of random weights (benchmarks, tests): a writer and its random
 * numbers; a tensor of [D0] (D1 < 0) or [D0, D1] values uniform in
 * MEAN ± SPREAD, stored as DTYPE; the same named as printf makes it; the
 * LAYERS residual blocks PREFIX"transformer.resblocks.N" of width W (in
 * F16, scaled like a trained CLIP's). */
typedef struct {
  HdSafetensorsWriter *writer;
  GRand               *rand;
} HdRandomWriter;

void        hd_random_tensor       (HdRandomWriter *w,
                                    const char     *name,
                                    HdDtype         dtype,
                                    gint64          d0,
                                    gint64          d1,
                                    double          mean,
                                    double          spread);
void        hd_random_named        (HdRandomWriter *w,
                                    HdDtype         dtype,
                                    gint64          d0,
                                    gint64          d1,
                                    double          mean,
                                    double          spread,
                                    const char     *format,
                                    ...) G_GNUC_PRINTF (7, 8);
void        hd_random_resblocks    (HdRandomWriter *w,
                                    const char     *prefix,
                                    int             width,
                                    int             layers);

G_END_DECLS
