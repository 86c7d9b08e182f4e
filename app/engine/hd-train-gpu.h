/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-train-reference.h"
#include "hd-vk.h"
#include "hd-vk-compute.h"

G_BEGIN_DECLS

/* A training step (spec/domain-training.md) with the generator on the
 * device: the synthesis forward pass of the batch's frozen and trainable
 * renders, keeping what the backward pass needs, and that backward pass
 * from the trainable images' gradient to ∂L/∂d, as compute kernels
 * (shaders/train_*.comp) in float32.  The host does what is small: the
 * draws' w (mapping), the styles and demodulation coefficients, the
 * noise, CLIP's part of the loss (hd_train_clip_loss) and the sum of the
 * samples' gradients.  Memory is planned once, for one batch size: the
 * batch's samples go through in rounds, all in one where the device's
 * buffers hold them, else as many a round as they hold (each sample's
 * loss is its own, so rounds change nothing but the time). */

typedef struct _HdTrainGpu HdTrainGpu;

HdTrainGpu *hd_train_gpu_new     (HdVkContext        *ctx,
                                  HdGenerator        *gen,
                                  int                 batch,
                                  GError            **error);
typedef struct {
  int              max_round;      /* at most this many samples a round; 0: the batch */
  gboolean         storage_only;   /* the storage-buffer kernels even on a CPU device
                                      (they are what GPUs run; for tests) */
  HdComputeOptions compute;        /* profile: the GPU time of every dispatch is logged */
} HdTrainGpuOptions;

/* The same with OPTIONS (may be NULL: the defaults). */
HdTrainGpu *hd_train_gpu_new_full (HdVkContext              *ctx,
                                   HdGenerator              *gen,
                                   int                       batch,
                                   const HdTrainGpuOptions  *options,
                                   GError                  **error);
void        hd_train_gpu_free    (HdTrainGpu         *gpu);

/* hd_train_reference_step_timed on the device: the same arguments, the
 * same results within float32's precision. */
gboolean    hd_train_gpu_step    (HdTrainGpu         *gpu,
                                  const HdTrainClip  *clips,
                                  guint               n_clips,
                                  const HdTrainDraws *draws,
                                  const float        *d,
                                  double             *loss,
                                  double             *loss_per_clip,
                                  float              *grad,
                                  HdTrainTimes       *times,
                                  GError            **error);

/* The forward pass alone: the images of the frozen renders of DRAWS, then
 * the trainable ones at D, into IMAGES (2 x batch x 3 x R x R floats). */
gboolean    hd_train_gpu_render  (HdTrainGpu         *gpu,
                                  const HdTrainDraws *draws,
                                  const float        *d,
                                  float              *images,
                                  GError            **error);

/* hd_adam_step on the device (train_adam): ADAM's moments, D and GRAD
 * (gen->domain_dim floats) go through the host-visible buffer; D and the
 * moments come back updated. */
gboolean    hd_train_gpu_adam_step (HdTrainGpu       *gpu,
                                    HdAdam           *adam,
                                    float            *d,
                                    const float      *grad,
                                    GError          **error);
/* The samples a round. */
int         hd_train_gpu_get_samples_per_round (HdTrainGpu *gpu);

/* The device memory the step holds, one line per kind. */
char       *hd_train_gpu_get_memory_report (HdTrainGpu *gpu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdTrainGpu, hd_train_gpu_free)

G_END_DECLS
