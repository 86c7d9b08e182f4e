/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"

G_BEGIN_DECLS

/* Domains and domain packs (spec/formats.md §2, §3) and their blend
 * (spec/generator-math.md §7). */

typedef struct _HdDomain HdDomain;

struct _HdDomain {
  char       *path;         /* absolute path of the file */
  char       *id;           /* pack id, NULL for a single-domain file */
  char       *name;         /* display name */
  char       *description;  /* may be NULL */
  char       *generator;    /* hyperdomain.generator, may be NULL */
  /* A domain made from a text prompt (hd_hypernetwork_make_domain): the
   * prompt and the hypernetwork that encoded it; NULL for a file. */
  char       *prompt;
  char       *hypernetwork_path;
  char       *hypernetwork_name;
  /* layer name ("synthesis.b8.conv0") -> HdDomainLayer* */
  GHashTable *layers;
  /* Style latents of an image-driven domain (formats.md §2 `style.w`):
   * style_rows x style_dim floats, the w of layers style_from and above;
   * style_w is NULL (and style_from -1) for a domain without them. */
  int         style_from;
  int         style_rows;
  int         style_dim;
  float      *style_w;

  /*< private >*/
  gint        ref_count;
};

typedef struct {
  int    length;
  float *values;
} HdDomainLayer;

/* Loads a domain file or a domain pack.  SPEC is "PATH" or "PATH#ID".
 * Returns an array of HdDomain* (one for a domain or for PATH#ID, every
 * domain for a pack), with hd_domain_unref as free func. */
GPtrArray  *hd_domain_load_all   (const char   *spec,
                                  GError      **error);
/* Same over an already opened file (tests, fuzzing); ID may be NULL. */
GPtrArray  *hd_domain_load_from_safetensors (HdSafetensors *st,
                                             const char    *id,
                                             GError       **error);

/* An empty domain (no layers) made in memory, e.g. from a prompt; PATH
 * may be NULL. */
HdDomain   *hd_domain_new        (const char   *path,
                                  const char   *name);
/* Adds (or replaces) layer LAYER_NAME with a copy of LENGTH values. */
void        hd_domain_add_layer  (HdDomain     *domain,
                                  const char   *layer_name,
                                  const float  *values,
                                  int           length);
/* Gives DOMAIN style latents: ROWS x DIM floats for the w of layers FROM
 * and above (a copy); replaces any it had. */
void        hd_domain_set_style  (HdDomain     *domain,
                                  int           from,
                                  int           rows,
                                  int           dim,
                                  const float  *values);
/* Writes DOMAIN as a domain file (spec/formats.md §2): every layer as
 * F32, in the order of the generator's convs, and its style latents; the metadata from DOMAIN's
 * name, description and generator, and SOURCE (may be NULL).  A text
 * domain is described by its prompt and, without SOURCE, says which
 * hypernetwork made it (spec/text-domains.md §7). */
gboolean    hd_domain_save       (HdDomain     *domain,
                                  const char   *source,
                                  const char   *path,
                                  GError      **error);
HdDomain   *hd_domain_ref        (HdDomain     *domain);
void        hd_domain_unref      (HdDomain     *domain);

/* Checks that every layer of DOMAIN exists in GEN with the right length.
 * The error names the domain file, the generator file and the layer.
 * A generator-name mismatch is not an error: *WARNING (if not NULL) is set
 * to a message for a person, or NULL. */
gboolean    hd_domain_check      (HdDomain     *domain,
                                  HdGenerator  *gen,
                                  char        **warning,
                                  GError      **error);

/* A domain's contribution may be limited to blocks of resolution
 * min_res..max_res (inclusive).  0..0 means every layer. */
typedef struct {
  HdDomain *domain;
  float     weight;
  int       min_res;
  int       max_res;
} HdBlendTerm;

/* d = Σ weight_j · D_j per layer (generator-math §7) into OUT, a flat
 * vector of gen->domain_dim floats laid out by HdConvLayer.domain_offset.
 * Every domain must have passed hd_domain_check. */
void        hd_domain_blend      (HdGenerator       *gen,
                                  const HdBlendTerm *terms,
                                  guint              n_terms,
                                  float             *out);
/* The style-latent part of the blend (generator-math §7): for every w
 * index k, ALPHA[k] = Σ weight_j and SUM[k] = Σ weight_j · S_j,k over the
 * terms whose domain has style latents for k and whose range covers the
 * block that first reads w_k (ALPHA: gen->num_ws floats, SUM: num_ws x
 * w_dim).  FALSE (and both untouched) when no term has style latents. */
gboolean    hd_domain_blend_style (HdGenerator       *gen,
                                   const HdBlendTerm *terms,
                                   guint              n_terms,
                                   float             *alpha,
                                   float             *sum);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdDomain, hd_domain_unref)

G_END_DECLS
