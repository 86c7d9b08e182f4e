/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip.h"
#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-train-reference.h"
#include "hd-vk.h"

G_BEGIN_DECLS

/* Training a domain from a source and a target prompt
 * (spec/domain-training.md): the text directions of every CLIP, then one
 * step after another, each with its draws (§5), the loss and gradient of
 * §1–§4 and Adam (§6).  The steps run on a Vulkan device (hd-train-gpu)
 * or, without one, on the CPU (hd-train-reference). */

typedef struct {
  int      steps;        /* ≥ 1; default 300 */
  int      batch;        /* ≥ 1; default 4 */
  double   lr;           /* > 0; default 0.1 */
  double   mixing;       /* 0 .. 1; default 0.9 */
  guint32  seed;         /* default 0 */
  int      start_step;   /* ≥ 1; default 1 */
  gboolean profile;      /* on a device: log the GPU time of every dispatch */
  gboolean host_clip;    /* on a device: CLIP's image towers on the host all the same
                            (to compare; default FALSE) */
} HdTrainSettings;

void hd_train_settings_init (HdTrainSettings *settings);

typedef struct _HdTrainer HdTrainer;

/* CLIPS: HdClip*, at least one.  INIT (may be NULL): the domain to start
 * from (checked against GEN: its layers and sizes).  Computes the text
 * direction of every CLIP; a prompt that makes a template too long is
 * an error naming the template. */
HdTrainer  *hd_trainer_new            (HdGenerator            *gen,
                                       GPtrArray              *clips,
                                       const char             *source,
                                       const char             *target,
                                       const HdTrainSettings  *settings,
                                       HdDomain               *init,
                                       GError                **error);
/* The same on CTX's device (may be NULL: on the CPU): the text directions
 * and the steps, the step's memory planned for settings->batch. */
HdTrainer  *hd_trainer_new_on_device  (HdVkContext            *ctx,
                                       HdGenerator            *gen,
                                       GPtrArray              *clips,
                                       const char             *source,
                                       const char             *target,
                                       const HdTrainSettings  *settings,
                                       HdDomain               *init,
                                       GError                **error);
void        hd_trainer_free           (HdTrainer              *trainer);

/* Runs the next step; its index (start_step + steps done so far) in
 * *STEP_INDEX and its loss (before the update) in *LOSS.  FALSE once
 * every step is done. */
gboolean    hd_trainer_step           (HdTrainer              *trainer,
                                       int                    *step_index,
                                       double                 *loss,
                                       GError                **error);
int         hd_trainer_get_steps_done (HdTrainer              *trainer);
/* Whether the steps run on a Vulkan device. */
gboolean    hd_trainer_is_on_device   (HdTrainer              *trainer);
/* Whether every CLIP's image tower runs on the device too. */
gboolean    hd_trainer_is_clip_on_device (HdTrainer           *trainer);
/* Given a device that cannot hold the step (its activations need a
 * larger buffer than it allows), the steps run on the CPU's reference,
 * or where it cannot hold CLIP's image tower for one image, CLIP runs on
 * the host: a sentence that says so and why, for the user; else NULL. */
const char *hd_trainer_get_note       (HdTrainer              *trainer);
/* The time of the steps so far (see HdTrainTimes), added up. */
void        hd_trainer_get_times      (HdTrainer              *trainer,
                                       HdTrainTimes           *times);
/* The index of the last step of the run: start_step + steps - 1. */
int         hd_trainer_get_last_step  (HdTrainer              *trainer);
/* The current d (gen->domain_dim floats). */
const float *hd_trainer_get_d         (HdTrainer              *trainer);
/* ∂L/∂d of the first step, at the start d (gen->domain_dim floats), and
 * that step's loss; NULL before the first step. */
const float *hd_trainer_get_first_gradient (HdTrainer         *trainer,
                                            double            *loss);

/* The current d as a domain after step STEP_INDEX (§6's metadata: named
 * by the target prompt, described "trained: SOURCE -> TARGET, N steps"). */
HdDomain   *hd_trainer_make_domain    (HdTrainer              *trainer,
                                       int                     step_index);
/* The settings and CLIPs, for hyperdomain.source. */
char       *hd_trainer_describe       (HdTrainer              *trainer);

/* Writes G (gen->domain_dim floats) as a gradient file (§8): every layer
 * F32, kind "gradient", the step index and the loss (%.9g). */
gboolean    hd_train_write_gradient   (HdGenerator            *gen,
                                       const float            *g,
                                       int                     step_index,
                                       double                  loss,
                                       const char             *path,
                                       GError                **error);

G_END_DECLS
