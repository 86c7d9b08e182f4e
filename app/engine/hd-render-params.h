/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"

G_BEGIN_DECLS

/* Everything that decides one rendered image, given a generator.  Pointers
 * are borrowed for the duration of a render call. */

typedef enum {
  HD_NOISE_CONST,   /* the generator's noise_const buffers (default) */
  HD_NOISE_RANDOM,  /* fresh N(0,1) images from noise_seed */
  HD_NOISE_NONE,    /* no noise */
} HdNoiseMode;

typedef enum {
  HD_LATENT_SEED,   /* z = RandomState(seed).randn(z_dim) */
  HD_LATENT_Z,      /* z given */
  HD_LATENT_W,      /* w given for every layer: num_ws x w_dim floats */
} HdLatentKind;

typedef struct {
  HdLatentKind latent_kind;
  guint32      seed;
  const float *z;           /* z_dim floats, for HD_LATENT_Z */
  const float *w;           /* num_ws * w_dim floats, for HD_LATENT_W */
  float        psi;         /* truncation; 1 = none */
  int          cutoff;      /* truncate w_k for k < cutoff; < 0 = every k */
  HdNoiseMode  noise_mode;
  guint32      noise_seed;  /* for HD_NOISE_RANDOM */
  const float *domain;      /* gen->domain_dim floats (blended d), or NULL = 0 */
  /* Style latents (generator-math §7), or both NULL: after truncation,
   * w_k becomes (1 - style_alpha[k]) w_k + style_sum[k] where style_alpha
   * (num_ws floats) is Σ α_j over the domains j with style latents for
   * layer k and style_sum (num_ws x w_dim floats) is Σ α_j S_j,k. */
  const float *style_alpha;
  const float *style_sum;
  int          stop_res;    /* 0: full image; else the skip image after
                               block stop_res (a drag preview), stop_res x
                               stop_res pixels */
} HdRenderParams;

/* Defaults: seed 0, psi 1, no cutoff, const noise, no domain, full size. */
void         hd_render_params_init        (HdRenderParams *params);

/* The output resolution PARAMS asks of GEN, or -1 with ERROR set when
 * stop_res is not one of the generator's block resolutions. */
int          hd_render_params_output_res  (const HdRenderParams *params,
                                           HdGenerator          *gen,
                                           GError              **error);

/* Total noise floats of all convs: Σ block_res² over gen->convs. */
gsize        hd_noise_total_size          (HdGenerator *gen);
/* Random noise images for every conv, in conv order, each block_res²
 * floats: RandomState(noise_seed).randn(hd_noise_total_size(gen)) as
 * float32, consumed layer by layer.  OUT holds hd_noise_total_size floats. */
void         hd_noise_generate            (HdGenerator *gen,
                                           guint32      noise_seed,
                                           float       *out);

const char  *hd_noise_mode_to_string      (HdNoiseMode  mode);
gboolean     hd_noise_mode_from_string    (const char  *str,
                                           HdNoiseMode *mode);

G_END_DECLS
