/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-render-params.h"

G_BEGIN_DECLS

/* A plain, obviously correct C implementation of spec/generator-math.md:
 * the oracle for the GPU renderer.  Slow on purpose: no tricks. */

/* §4.1, §5: the styles s = w · (A / sqrt(w_dim))ᵀ + a of a layer with
 * C_IN inputs, affine weight A [c_in, w_dim] and bias a, in double. */
void      hd_cpu_compute_style (const float  *w,
                                int           w_dim,
                                const float  *affine_weight,
                                const float  *affine_bias,
                                int           c_in,
                                double       *s);

/* The per-layer w vectors after mapping and truncation: num_ws x w_dim. */
gboolean  hd_cpu_compute_ws  (HdGenerator          *gen,
                              const HdRenderParams *params,
                              float                *ws,
                              GError              **error);

/* Renders into OUT: img_channels x res x res floats, res as given by
 * hd_render_params_output_res. */
gboolean  hd_cpu_render      (HdGenerator          *gen,
                              const HdRenderParams *params,
                              float                *out,
                              GError              **error);

G_END_DECLS
