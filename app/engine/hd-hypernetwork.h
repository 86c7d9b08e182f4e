/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip-model.h"
#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-safetensors.h"

G_BEGIN_DECLS

/* A hypernetwork file (spec/text-domains.md §5): a CLIP text transformer
 * and a HyperDomainNet mapper that turn a prompt into a domain.  Loading
 * checks everything §5 lists (every tensor and its shape, the config,
 * the merges text, finite values) with messages that name the file and
 * the tensor or key. */

typedef enum {
  HD_MAPPER_RELU,
  HD_MAPPER_LRELU,
  HD_MAPPER_PRELU,
  HD_MAPPER_ID,
} HdMapperActivation;

typedef struct {
  HdMapperActivation activation;
  int   input_dimension;
  int   width;
  int   backbone_depth;
  int   head_depth;
  int   inner_features;
} HdMapperConfig;

typedef struct _HdHypernetwork HdHypernetwork;

struct _HdHypernetwork {
  char           *path;         /* absolute */
  char           *name;
  char           *description;  /* may be NULL */
  char           *generator;    /* hyperdomain.generator, may be NULL */
  HdClipConfig    clip;
  HdMapperConfig  mapper;
  int             n_layers;     /* K heads */
  char          **layer_names;  /* K synthesis conv names, head order */
  int            *layer_c_in;   /* C_k of each head */
  const char     *merges;       /* tokenizer.merges, in the file's mapping */
  gsize           merges_len;
  HdSafetensors  *st;
  HdClipText      text;         /* the CLIP's tensors: prefix "clip." */

  /*< private >*/
  gint            ref_count;
};

HdHypernetwork *hd_hypernetwork_load (const char      *path,
                                      GError         **error);
/* Same over an opened file (opened with HD_SAFETENSORS_ALLOW_INTEGERS). */
HdHypernetwork *hd_hypernetwork_load_from_safetensors (HdSafetensors  *st,
                                                       GError        **error);
HdHypernetwork *hd_hypernetwork_ref   (HdHypernetwork *hn);
void            hd_hypernetwork_unref (HdHypernetwork *hn);

/* The tensor NAME as float32 (a new array of its n_elements), and its
 * element count in N (may be NULL).  NAME must be one of §5's float
 * tensors (loading checked that it exists). */
float          *hd_hypernetwork_get_f32 (HdHypernetwork *hn,
                                         const char     *name,
                                         gsize          *n);

/* The same, the name made by FORMAT as printf does. */
float          *hd_hypernetwork_get_f32_printf (HdHypernetwork *hn,
                                                gsize          *n,
                                                const char     *format,
                                                ...) G_GNUC_PRINTF (3, 4);

/* The input of the text transformer for the token row IDS (SOT ... EOT,
 * no padding; spec/text-domains.md §3): checks the ids, finds p, the
 * first occurrence of the largest id (the first EOT), and returns the
 * (p + 1) x width floats token_embedding[id_i] + positional_embedding[i]
 * of rows 0 .. p (*N_ROWS = p + 1): later rows cannot reach row p. */
float          *hd_hypernetwork_embed_tokens (HdHypernetwork  *hn,
                                              const guint32   *ids,
                                              guint            n_ids,
                                              guint           *n_rows,
                                              GError         **error);

/* Checks that every head's layer is a conv of GEN with the head's C_in.
 * The error names the layer, both sizes and both files. */
gboolean        hd_hypernetwork_check  (HdHypernetwork *hn,
                                        HdGenerator    *gen,
                                        GError        **error);

/* The domain of the prompt NAME (its name and prompt) from the mapper's
 * output: D holds the K heads' vectors concatenated in head order (Σ C_k
 * floats). */
HdDomain       *hd_hypernetwork_make_domain (HdHypernetwork *hn,
                                             const float    *d,
                                             const char     *name);
/* Σ C_k: the length of the mapper's output. */
gsize           hd_hypernetwork_output_size (HdHypernetwork *hn);

/* A hypernetwork of random weights in memory (benchmarks, tests): a CLIP
 * text tower of CLIP's sizes and a mapper of MAPPER's, with K heads for
 * the layers of a generator of resolution RESOLUTION whose channel count
 * at resolution r is min (CHANNEL_BASE / r, CHANNEL_MAX).  F16 stores
 * the CLIP's matrices in half precision, as OpenAI's files do.  The
 * merges text is a header only (encode token ids directly). */
HdHypernetwork *hd_hypernetwork_new_random (const HdClipConfig   *clip,
                                            const HdMapperConfig *mapper,
                                            int                   resolution,
                                            int                   channel_base,
                                            int                   channel_max,
                                            guint32               seed,
                                            GError              **error);

/* The file bytes of such a hypernetwork. */
GBytes         *hd_hypernetwork_random_bytes (const HdClipConfig   *clip,
                                              const HdMapperConfig *mapper,
                                              int                   resolution,
                                              int                   channel_base,
                                              int                   channel_max,
                                              guint32               seed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdHypernetwork, hd_hypernetwork_unref)

G_END_DECLS
