/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "hd-domain-item.h"
#include "hd-generator.h"
#include "hd-latent.h"
#include "hd-render-job.h"

G_BEGIN_DECLS

/* The one state object of a window: the generator, the latent controls
 * and the loaded domains.  Every control is bound to its properties; any
 * change that alters the image emits "changed". */

#define HD_TYPE_SESSION (hd_session_get_type ())

G_DECLARE_FINAL_TYPE (HdSession, hd_session, HD, SESSION, GObject)

#define HD_SESSION_PSI_MIN (-1.0)
#define HD_SESSION_PSI_MAX 2.0

HdSession    *hd_session_new                (void);

HdGenerator  *hd_session_get_generator      (HdSession    *self);
/* Replaces the generator.  Domains that do not fit it are removed, and so
 * is a latent file of the wrong shape; *N_REMOVED (may be NULL) counts
 * what went. */
void          hd_session_set_generator      (HdSession    *self,
                                             HdGenerator  *gen,
                                             guint        *n_removed);

/* Adds every domain of DOMAINS (HdDomain*) that fits the generator.  On a
 * domain that does not fit, returns FALSE with ERROR naming it; the ones
 * before it stay added.  *WARNINGS (may be NULL) gets notes for a person
 * (such as a generator-name mismatch), or NULL. */
gboolean      hd_session_add_domains        (HdSession    *self,
                                             GPtrArray    *domains,
                                             char        **warnings,
                                             GError      **error);
void          hd_session_remove_domain      (HdSession    *self,
                                             HdDomainItem *item);
GListModel   *hd_session_get_domains        (HdSession    *self);
void          hd_session_reset_weights      (HdSession    *self);
void          hd_session_normalize_weights  (HdSession    *self);
/* Sets the weight of every domain (N_WEIGHTS must be the number of
 * domains) and emits "changed" once. */
void          hd_session_set_weights        (HdSession    *self,
                                             const double *weights,
                                             guint         n_weights);

guint32       hd_session_get_seed           (HdSession    *self);
void          hd_session_set_seed           (HdSession    *self,
                                             guint32       seed);
/* Adds DELTA to the seed, wrapping around at 0 and 2^32 - 1. */
void          hd_session_step_seed          (HdSession    *self,
                                             int           delta);
void          hd_session_random_seed        (HdSession    *self);
double        hd_session_get_psi            (HdSession    *self);
void          hd_session_set_psi            (HdSession    *self,
                                             double        psi);

/* A W, W+ or z latent read from NPY (taken from PATH), checked against
 * the generator's shape. */
gboolean      hd_session_set_latent_file    (HdSession    *self,
                                             HdNpy        *npy,
                                             const char   *path,
                                             GError      **error);
void          hd_session_clear_latent_file  (HdSession    *self);

/* While TRUE (a slider is held), jobs are marked interactive. */
void          hd_session_set_interactive    (HdSession    *self,
                                             gboolean      interactive);
gboolean      hd_session_get_interactive    (HdSession    *self);

/* Counts the changes that alter the image. */
guint64       hd_session_get_serial         (HdSession    *self);
/* A job for the render thread: the session's state as heard (muted
 * domains at weight 0) with the loaded domains, or NULL when no
 * generator is open. */
HdRenderJob  *hd_session_create_job         (HdSession    *self);

/* Everything the user can change, for undo and redo: the session's state
 * with the controls as set (weights before mute and solo, the cutoff as
 * set), the list of domains (by identity) and their mute and solo
 * switches.  Opaque. */
typedef struct _HdSessionSnapshot HdSessionSnapshot;

HdSessionSnapshot *hd_session_snapshot      (HdSession               *self);
void          hd_session_snapshot_free      (HdSessionSnapshot       *snapshot);
gboolean      hd_session_snapshot_equal     (const HdSessionSnapshot *a,
                                             const HdSessionSnapshot *b);
HdGenerator  *hd_session_snapshot_get_generator (const HdSessionSnapshot *snapshot);
const HdState *hd_session_snapshot_get_state (const HdSessionSnapshot *snapshot);
/* FALSE when SNAPSHOT belongs to another generator (nothing changes). */
gboolean      hd_session_restore_snapshot   (HdSession               *self,
                                             const HdSessionSnapshot *snapshot);

/* The state of the current image (spec/formats.md §5), or NULL without
 * a generator. */
HdState      *hd_session_to_state           (HdSession    *self);
/* Replaces latent, psi, cutoff, noise and the domains by those of STATE.
 * DOMAINS holds the HdDomain* of STATE's domains, in order; the
 * generator must already be the one of STATE.  SOURCE (may be NULL)
 * names where a latent of STATE came from.  "changed" is emitted once. */
gboolean      hd_session_apply_state        (HdSession    *self,
                                             const HdState *state,
                                             GPtrArray    *domains,
                                             const char   *source,
                                             GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdSessionSnapshot, hd_session_snapshot_free)

G_END_DECLS
