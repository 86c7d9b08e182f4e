/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-state.h"

G_BEGIN_DECLS

/* One image to render: its state, the loaded generator and domains the
 * state names, and when and how the UI asked for it.  The UI fills one
 * in, hands it to the render thread and never touches it again; it holds
 * references, so it stays valid whatever the UI does next.  The render
 * thread turns the state into render parameters with hd_state_prepare ()
 * (hd-state-render.h), as the command line does. */

typedef struct _HdRenderJob HdRenderJob;

struct _HdRenderJob
{
  HdGenerator  *gen;
  HdState      *state;        /* owned: the image */
  GPtrArray    *domains;      /* HdDomain*, owned: one per state domain, in order */
  char         *latent_path;  /* where the state's latent came from, or NULL */
  guint64       serial;       /* the session's change count */
  gboolean      interactive;  /* part of a drag: a preview may do */
  gint64        submitted_us; /* monotonic time it was handed over */

  /*< private >*/
  gint          ref_count;
};

#define HD_TYPE_RENDER_JOB (hd_render_job_get_type ())

GType         hd_render_job_get_type   (void) G_GNUC_CONST;
/* A job for STATE (taken; NULL: the defaults, seed 0) of GEN, with
 * DOMAINS (may be NULL without state domains) loaded for the state's
 * domains. */
HdRenderJob  *hd_render_job_new        (HdGenerator       *gen,
                                        HdState           *state,
                                        GPtrArray         *domains);
HdRenderJob  *hd_render_job_ref        (HdRenderJob       *job);
void          hd_render_job_unref      (HdRenderJob       *job);
/* TRUE when A and B give the same image: the same generator and domains
 * and equal states (serial and interactive aside). */
gboolean      hd_render_job_same_image (const HdRenderJob *a,
                                        const HdRenderJob *b);

/* The state an exported PNG carries for JOB (spec/formats.md §5): its
 * state, a mixed latent flattened into the W it gives. */
HdState      *hd_render_job_to_state   (HdRenderJob       *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdRenderJob, hd_render_job_unref)

G_END_DECLS
