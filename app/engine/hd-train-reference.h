/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip.h"
#include "hd-clip-reference.h"
#include "hd-clip-train-gpu.h"
#include "hd-generator.h"

G_BEGIN_DECLS

/* Training a domain from text (spec/domain-training.md): the random
 * draws of a step (§5), Adam (§6) and a plain double-precision reference
 * of one step's loss and its gradient with respect to d (§1–§4): the
 * generator's synthesis forward and backward, CLIP's preprocessing and
 * image tower forward and backward, and the direction loss.  The oracle
 * for the GPU stages; slow, exact enough for every fixture. */

/* The draws of step index STEP for seed SEED (§5). */
typedef struct {
  int       step;
  double    u;
  gboolean  mix;
  int       c_src, c_trg;    /* crossovers, 1 .. num_ws - 1 */
  int       batch;
  float    *z;               /* [2][batch][z_dim]: z1 of every sample, then z2 */
  guint32  *noise_src;       /* batch seeds */
  guint32  *noise_trg;
} HdTrainDraws;

void      hd_train_draws_init   (HdTrainDraws  *draws,
                                 guint32        seed,
                                 int            step,
                                 int            batch,
                                 double         mixing,
                                 int            num_ws,
                                 int            z_dim);
void      hd_train_draws_clear  (HdTrainDraws  *draws);

/* One CLIP of the loss: its file, its text direction t (§3) and, to keep
 * between steps, its image tower for the generator's images (NULL: made
 * for the step); or, for hd_train_gpu_step, its tower on the step's device
 * (NULL: the tower on the host; hd_train_clip_loss skips the CLIPs that
 * have one). */
typedef struct {
  HdClip           *clip;
  float            *direction;   /* embed_dim floats */
  HdClipImageTower *tower;
  HdClipTrainGpu   *device;
} HdTrainClip;

/* L = Σ_v ℓ_v of the step with DRAWS at the domain D (gen->domain_dim
 * floats) into *LOSS (and each ℓ_v into LOSS_PER_CLIP when not NULL), and
 * ∂L/∂d into GRAD (gen->domain_dim floats).  The samples run on as many
 * threads as there are cores; the result does not depend on them. */
gboolean  hd_train_reference_step (HdGenerator          *gen,
                                   const HdTrainClip    *clips,
                                   guint                 n_clips,
                                   const HdTrainDraws   *draws,
                                   const float          *d,
                                   double               *loss,
                                   double               *loss_per_clip,
                                   float                *grad,
                                   GError              **error);

/* Where a step's time goes, in ms: the phases of all its samples added
 * up (they run on several threads, so the sum exceeds the wall time). */
typedef struct {
  double generator_forward;   /* both renders of every sample */
  double clip;                /* image tower forward (and backward, trainable) */
  double generator_backward;
  double adam;                /* the update (hd_trainer) */
  double wall;                /* the whole step */
} HdTrainTimes;

/* hd_train_reference_step, adding its times to TIMES (may be NULL). */
gboolean  hd_train_reference_step_timed (HdGenerator          *gen,
                                         const HdTrainClip    *clips,
                                         guint                 n_clips,
                                         const HdTrainDraws   *draws,
                                         const float          *d,
                                         double               *loss,
                                         double               *loss_per_clip,
                                         float                *grad,
                                         HdTrainTimes         *times,
                                         GError              **error);

/* The rendered image of the trainable branch of sample B of DRAWS at D
 * (img_channels x R x R), the forward pass the step differentiates; for
 * checking it against the renderer. */
void      hd_train_reference_render (HdGenerator        *gen,
                                     const HdTrainDraws *draws,
                                     int                 b,
                                     gboolean            trainable,
                                     const float        *d,
                                     float              *img);

/* The pieces of a step that the device's step (hd-train-gpu) shares:
 * the w of every layer of sample B of DRAWS for the frozen or the
 * trainable branch (num_ws x w_dim floats, a new array); a conv's
 * demodulation coefficients (c_out) for its styles S (c_in, without d);
 * and the CLIP part of one sample: the loss of every CLIP without a
 * device tower (LOSS, n_clips values, each already divided by BATCH) for
 * its frozen and trainable images (3 x R x R each) and the gradient of
 * their sum with respect to the trainable image, added to G_IMG (3 x R x
 * R). */
float    *hd_train_sample_ws   (HdGenerator        *gen,
                                const HdTrainDraws *draws,
                                int                 b,
                                gboolean            trainable);
void      hd_train_conv_dcoef  (const HdConvLayer  *layer,
                                const double       *s,
                                double             *dcoef);
/* ℓ = (1 − cos (ê_trg − ê_src, t)) / BATCH of one CLIP for one sample
 * (§4), and its gradient with respect to ê_trg into G_E (E values). */
double    hd_train_direction_loss (const float     *t,
                                   const double    *e_src,
                                   const double    *e_trg,
                                   int              E,
                                   int              batch,
                                   double          *g_e);
void      hd_train_clip_loss   (HdClipImageTower  **towers,
                                const HdTrainClip  *clips,
                                guint               n_clips,
                                int                 batch,
                                const double       *src_img,
                                const double       *trg_img,
                                double             *loss,
                                double             *g_img);

/* More pieces both steps share: the milliseconds since *START (which
 * moves to now); the image tower of every CLIP for R x R images (a
 * clip's own tower when it has one, else one made for the step, which
 * hd_train_towers_free frees); and the sum over the samples of LOSSES
 * ([batch][n_clips]) per CLIP into LOSS_PER_CLIP (may be NULL), in sample
 * order, returning the total. */
double             hd_train_ms_since    (gint64             *start);
HdClipImageTower **hd_train_towers_new  (const HdTrainClip  *clips,
                                         guint               n_clips,
                                         int                 r);
void               hd_train_towers_free (HdClipImageTower  **towers,
                                         const HdTrainClip  *clips,
                                         guint               n_clips);
double             hd_train_add_losses  (const double       *losses,
                                         int                 batch,
                                         guint               n_clips,
                                         double             *loss_per_clip);

/* Adam (§6): lr, β = (0.9, 0.999), ε = 1e-8 outside the root, state from
 * zero; float32 m, v and d. */
#define HD_ADAM_BETA1 0.9f
#define HD_ADAM_BETA2 0.999f
#define HD_ADAM_EPS   1e-8f
typedef struct {
  gsize  n;
  int    t;
  double lr;
  float *m;
  float *v;
} HdAdam;

void      hd_adam_init   (HdAdam       *adam,
                          gsize         n,
                          double        lr);
void      hd_adam_step   (HdAdam       *adam,
                          float        *d,
                          const float  *grad);
void      hd_adam_clear  (HdAdam       *adam);
/* The next step's number (adam->t + 1, stored) and its scalars: lr /
 * (1 − β1^t) and √(1 − β2^t) (hd_adam_step's, for the device's step). */
void      hd_adam_next   (HdAdam       *adam,
                          float        *step,
                          float        *root_bc2);

G_END_DECLS
