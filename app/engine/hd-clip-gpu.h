/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip.h"
#include "hd-vk.h"

G_BEGIN_DECLS

/* Both towers of a clip file as compute stages on a Vulkan device
 * (spec/domain-training.md §2, spec/text-domains.md §3), on the shared
 * transformer stages of hd-tower-gpu.c: CLIP's matrices in half
 * precision, activations and accumulation in float.  Not thread-safe:
 * one thread encodes at a time. */

typedef struct _HdClipGpu HdClipGpu;

HdClipGpu *hd_clip_gpu_new          (HdVkContext   *ctx,
                                     HdClip        *clip,
                                     GError       **error);
/* The text tower alone (for text directions: half the weights). */
HdClipGpu *hd_clip_gpu_new_text     (HdVkContext   *ctx,
                                     HdClip        *clip,
                                     GError       **error);
void       hd_clip_gpu_free         (HdClipGpu     *gpu);

/* (Not with hd_clip_gpu_new_text.)  Ê (embed_dim floats, unit length)
 * of the preprocessed image PRE
 * (3 x n x n, n = the tower's image_resolution; hd_clip_reference_preprocess
 * makes it from a generator image). */
gboolean   hd_clip_gpu_encode_image (HdClipGpu     *gpu,
                                     const float   *pre,
                                     float         *e,
                                     GError       **error);
/* E (embed_dim floats, unit length) of the token row IDS (SOT ... EOT);
 * only the rows up to the first EOT are computed. */
gboolean   hd_clip_gpu_encode_text  (HdClipGpu     *gpu,
                                     const guint32 *ids,
                                     guint          n_ids,
                                     float         *e,
                                     GError       **error);
/* The same as an HdClipTextEncodeFunc; USER_DATA is the HdClipGpu. */
gboolean   hd_clip_gpu_encode_func  (const guint32 *ids,
                                     guint          n_ids,
                                     float         *e,
                                     gpointer       gpu,
                                     GError       **error);
guint64    hd_clip_gpu_get_device_bytes (HdClipGpu *gpu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdClipGpu, hd_clip_gpu_free)

G_END_DECLS
