/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-hypernetwork.h"

G_BEGIN_DECLS

/* A plain C implementation of spec/text-domains.md §3 (CLIP encode_text,
 * then e / ‖e‖) and §4 (the mapper), in double precision: the oracle for
 * the GPU stages, like hd-cpu-reference for the generator.  Slow for a
 * full-size CLIP (seconds), exact enough for every fixture. */

/* E (clip.embed_dim floats) of the token row IDS (SOT ... EOT, without the
 * padding; N_IDS <= context_length). */
gboolean hd_text_reference_encode (HdHypernetwork  *hn,
                                   const guint32   *ids,
                                   guint            n_ids,
                                   float           *e,
                                   GError         **error);
/* D (hd_hypernetwork_output_size floats: every head's d_k in head order)
 * of the embedding E. */
void     hd_text_reference_map    (HdHypernetwork  *hn,
                                   const float     *e,
                                   float           *d);

G_END_DECLS
