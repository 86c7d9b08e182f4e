/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip-tokenizer.h"
#include "hd-domain.h"
#include "hd-hypernetwork.h"

G_BEGIN_DECLS

/* Prompts to domains with one hypernetwork (spec/text-domains.md §1):
 * tokenize, encode, map, and keep the result, so that the same prompt is
 * never encoded twice.  The encoder and the mapper run on a Vulkan
 * device (hd-text-gpu.c), made on first use; where there is none, as
 * hd-text-reference.c writes them, on the CPU.  Thread-safe. */

typedef struct _HdTextEncoder HdTextEncoder;

/* DEVICE: as hd_vk_context_new takes it (NULL: the best one). */
HdTextEncoder  *hd_text_encoder_new    (HdHypernetwork *hn,
                                        const char     *device,
                                        GError        **error);
HdTextEncoder  *hd_text_encoder_ref    (HdTextEncoder  *encoder);
void            hd_text_encoder_unref  (HdTextEncoder  *encoder);
HdHypernetwork *hd_text_encoder_get_hypernetwork (HdTextEncoder *encoder);
/* Moves the encoder to DEVICE: prompts not encoded yet are encoded there
 * (the cached ones stay: the same maths on any device). */
void            hd_text_encoder_set_device (HdTextEncoder *encoder,
                                            const char    *device);
const char     *hd_text_encoder_get_device (HdTextEncoder *encoder);
/* Whether the last prompt encoded was encoded on a device (else on the
 * CPU); FALSE before the first. */
gboolean        hd_text_encoder_is_on_device (HdTextEncoder *encoder);

/* The domain of PROMPT (a new reference), named after it.  A prompt too
 * long or not UTF-8 is an HD_CLIP_TOKENIZER_ERROR. */
HdDomain       *hd_text_encoder_get_domain (HdTextEncoder  *encoder,
                                            const char     *prompt,
                                            GError        **error);
/* How many prompts were encoded (not taken from the cache) so far. */
guint           hd_text_encoder_get_n_encoded (HdTextEncoder *encoder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTextEncoder, hd_text_encoder_unref)

G_END_DECLS
