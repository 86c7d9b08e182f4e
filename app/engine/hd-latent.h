/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NumPy's legacy RandomState(seed).randn(n), bit for bit
 * (spec/generator-math.md §1). */
void      hd_randn            (guint32   seed,
                               double   *out,
                               gsize     n);

/* One numpy.random.RandomState stream, for schedules that draw doubles
 * and normals in turn (spec/domain-training.md §5). */
typedef struct {
  guint32  mt[624];
  guint    index;
  gboolean has_gauss;
  double   gauss;
} HdRandomState;

void      hd_random_state_init   (HdRandomState *state,
                                  guint32        seed);
/* random_sample(): a double in [0, 1). */
double    hd_random_state_double (HdRandomState *state);
/* standard_normal(): the legacy polar method; the second normal of a
 * pair is kept for the next call. */
double    hd_random_state_gauss  (HdRandomState *state);

/* The same stream as float32 (what z = randn(z_dim).astype(float32) is). */
void      hd_randn_f32        (guint32   seed,
                               float    *out,
                               gsize     n);

/* A NumPy array read from a .npy file, converted to float32. */
typedef struct {
  guint   n_dims;
  gint64  shape[8];
  gsize   n_elements;
  float  *data;
} HdNpy;

/* Reads a .npy version 1.0/2.0 file, little-endian <f4 or <f8, C order.
 * Errors name the file and the problem. */
HdNpy    *hd_npy_read          (const char   *path,
                                GError      **error);
HdNpy    *hd_npy_read_bytes    (GBytes       *bytes,
                                const char   *display_name,
                                GError      **error);
void      hd_npy_free          (HdNpy        *npy);
/* Writes float32 (<f4, C order) atomically. */
gboolean  hd_npy_write_f32     (const char   *path,
                                const gint64 *shape,
                                guint         n_dims,
                                const float  *data,
                                GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdNpy, hd_npy_free)

G_END_DECLS
