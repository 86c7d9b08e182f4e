/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-hypernetwork.h"
#include "hd-vk.h"

G_BEGIN_DECLS

/* The CLIP text transformer and the mapper of a hypernetwork as compute
 * stages on a Vulkan device (spec/text-domains.md §3, §4): the large
 * matrices in half precision, activations and accumulation in float.
 * Not thread-safe: one thread encodes at a time. */

typedef struct _HdTextGpu HdTextGpu;

HdTextGpu  *hd_text_gpu_new     (HdVkContext     *ctx,
                                 HdHypernetwork  *hn,
                                 GError         **error);
void        hd_text_gpu_free    (HdTextGpu       *gpu);

/* D (hd_hypernetwork_output_size floats) of the token row IDS (SOT ...
 * EOT, no padding); E (embed_dim floats, the unit embedding) may be
 * NULL.  Only the rows up to the first EOT are computed. */
gboolean    hd_text_gpu_encode  (HdTextGpu       *gpu,
                                 const guint32   *ids,
                                 guint            n_ids,
                                 float           *d,
                                 float           *e,
                                 GError         **error);

/* Device memory held, and the GPU time of the last encode (0 without
 * timestamps). */
guint64     hd_text_gpu_get_device_bytes (HdTextGpu *gpu);
double      hd_text_gpu_get_gpu_ms       (HdTextGpu *gpu);
char       *hd_text_gpu_get_memory_report (HdTextGpu *gpu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTextGpu, hd_text_gpu_free)

G_END_DECLS
