/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-state.h"

G_BEGIN_DECLS

/* A self-contained snapshot of everything that decides one image.  The
 * UI fills one in, hands it to the render thread and never touches it
 * again; it holds references (generator, domains, latent bytes), so it
 * stays valid whatever the UI does next. */

typedef struct _HdRenderJob HdRenderJob;

struct _HdRenderJob
{
  HdGenerator  *gen;
  guint64       serial;       /* the session's change count */
  gboolean      interactive;  /* part of a drag: a preview may do */
  gint64        submitted_us; /* monotonic time it was handed over */

  HdLatentKind  latent_kind;
  guint32       seed;
  GBytes       *latent;       /* z (z_dim) or w (num_ws x w_dim) floats */
  char         *latent_path;  /* where LATENT came from, or NULL */
  guint32       mix_seed;     /* lerp in w toward this seed ... */
  float         mix;          /* ... by this amount (0: none) */

  float         psi;
  int           cutoff;       /* < 0: every layer */
  HdNoiseMode   noise_mode;
  guint32       noise_seed;

  GPtrArray    *domains;      /* HdDomain*, owned */
  GArray       *weights;      /* float, effective weight of each */
  GArray       *ranges;       /* int pairs: min_res, max_res of each */

  /*< private >*/
  gint          ref_count;
};

/* The render parameters of a job plus the buffers they point to. */
typedef struct
{
  HdRenderParams params;
  float         *domain;      /* blended d, or NULL */
  float         *ws;          /* num_ws x w_dim when the latent is mixed */
} HdPreparedJob;

#define HD_TYPE_RENDER_JOB (hd_render_job_get_type ())

GType         hd_render_job_get_type   (void) G_GNUC_CONST;
HdRenderJob  *hd_render_job_new        (HdGenerator       *gen);
HdRenderJob  *hd_render_job_ref        (HdRenderJob       *job);
void          hd_render_job_unref      (HdRenderJob       *job);
void          hd_render_job_add_domain (HdRenderJob       *job,
                                        HdDomain          *domain,
                                        float              weight);
/* The same, limited to blocks MIN_RES..MAX_RES (0 = open). */
void          hd_render_job_add_domain_range (HdRenderJob *job,
                                              HdDomain    *domain,
                                              float        weight,
                                              int          min_res,
                                              int          max_res);
/* TRUE when A and B give the same image (serial and interactive aside). */
gboolean      hd_render_job_same_image (const HdRenderJob *a,
                                        const HdRenderJob *b);

/* Fills PREPARED for rendering JOB: blends the domains and, when the
 * latent is mixed with a second seed, computes both w on the CPU and
 * lerps them (before truncation, which the renderer applies). */
gboolean      hd_render_job_prepare    (HdRenderJob       *job,
                                        HdPreparedJob     *prepared,
                                        GError           **error);
void          hd_prepared_job_clear    (HdPreparedJob     *prepared);

/* The state an exported PNG carries for JOB (spec/formats.md §5). */
HdState      *hd_render_job_to_state   (HdRenderJob       *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdRenderJob, hd_render_job_unref)

G_END_DECLS
