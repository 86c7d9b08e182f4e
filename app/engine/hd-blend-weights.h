/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The geometry and the weighting of the blend pad.
 *
 * N domains sit on the corners of a regular polygon inscribed in the unit
 * circle (the first at the top, then clockwise); the original generator
 * sits at the centre.  A point p of the disc gets inverse-distance
 * (Shepard) weights over all N + 1 points, P_0 being the centre:
 *
 *   u_j = 1 / |p - P_j|²,   weight_j = u_j / (u_0 + u_1 + ... + u_N)
 *
 * and domain j takes weight_j (j = 1..N; the centre's share is the
 * original generator).  So the weights are smooth, lie in [0, 1], sum to
 * at most 1, are all 0 at the centre and 1 for domain j (0 for the others)
 * on its corner. */

#define HD_BLEND_PAD_MAX_DOMAINS 64

/* The corner of domain I (0-based) of N, on the unit circle; y points
 * down, as on screen. */
void  hd_blend_pad_corner   (guint   i,
                             guint   n,
                             double *x,
                             double *y);

/* Moves (X, Y) into the unit disc. */
void  hd_blend_pad_clamp    (double *x,
                             double *y);

/* The weights of the N domains at (X, Y) (clamped to the disc). */
void  hd_blend_pad_weights  (guint   n,
                             double  x,
                             double  y,
                             double *weights);

/* The point of the disc whose weights come closest to WEIGHTS (the N
 * domains' weights, least squares), in (*X, *Y).  Returns the largest
 * difference between WEIGHTS and the weights of that point: 0 (to
 * rounding) when the pad can show WEIGHTS, more when they are off its
 * surface (the pad's weights are at least 0 and sum to at most 1, and
 * for three or more domains only some such mixes lie on it). */
double hd_blend_pad_locate  (guint         n,
                             const double *weights,
                             double       *x,
                             double       *y);

G_END_DECLS
