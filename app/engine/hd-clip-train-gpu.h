/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip.h"
#include "hd-vk.h"

G_BEGIN_DECLS

/* CLIP's image tower for training a domain (spec/domain-training.md §2,
 * §5) on a Vulkan device: the forward pass of several generator images,
 * keeping what the backward pass needs, and that backward pass from the
 * gradient of a loss with respect to ê to its gradient with respect to
 * the images.  On the transformer stages of hd-tower-gpu.c plus the
 * backward kernels (tower_norm_bwd, tower_attention_bwd, text_gemm's
 * QuickGELU backward and transposed copies of the matrices); matrices in
 * float, or in half where the file stores them so; activations in float.
 * The preprocessing (§2.1: resampling and normalisation) runs on the host.
 * Not thread-safe. */

typedef struct _HdClipTrainGpu HdClipTrainGpu;

/* The tower of CLIP for generator images of R x R pixels, with memory
 * for MAX_IMAGES images a pass, or as many as the device's buffers hold
 * (hd_clip_train_gpu_get_max_images; at least one, else an
 * HD_ERROR_UNSUPPORTED error). */
HdClipTrainGpu *hd_clip_train_gpu_new      (HdVkContext     *ctx,
                                            HdClip          *clip,
                                            int              r,
                                            int              max_images,
                                            GError         **error);
void            hd_clip_train_gpu_free     (HdClipTrainGpu  *tower);
int             hd_clip_train_gpu_get_max_images (HdClipTrainGpu *tower);

/* ê (N x embed_dim) of the N images IMG (N x 3 x R x R, generator range),
 * N <= the most images; what the backward needs stays on the device
 * until the next forward pass. */
gboolean        hd_clip_train_gpu_forward  (HdClipTrainGpu  *tower,
                                            int              n,
                                            const double    *img,
                                            double          *e,
                                            GError         **error);
/* The gradient with respect to images FIRST .. FIRST + N - 1 of the last
 * forward pass (N x 3 x R x R, into G_IMG) of a loss whose gradient with
 * respect to their ê is G_E (N x embed_dim). */
gboolean        hd_clip_train_gpu_backward (HdClipTrainGpu  *tower,
                                            int              first,
                                            int              n,
                                            const double    *g_e,
                                            double          *g_img,
                                            GError         **error);
guint64         hd_clip_train_gpu_get_device_bytes (HdClipTrainGpu *tower);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdClipTrainGpu, hd_clip_train_gpu_free)

G_END_DECLS
