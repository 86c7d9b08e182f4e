/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-renderer.h"
#include "hd-state.h"

G_BEGIN_DECLS

/* Blend animations: the path through keyframes (states of one generator)
 * as a sequence of frames.  Between two keyframes, with t going from 0 to
 * 1 over the frames of the segment (eased with smoothstep 3t² − 2t³ when
 * asked):
 *   - w of every layer, before truncation, moves linearly (the latents of
 *     the keys mapped on the processor, as the renderer would);
 *   - psi and every domain weight move linearly (a domain missing from a
 *     key counts as weight 0 there; its layer range is the one of the
 *     first key that has it);
 *   - cutoff and noise are those of the segment's first key.
 * Without a loop the last frame is the last keyframe; with a loop a
 * segment from the last keyframe back to the first closes the path (and
 * the first frame is not repeated at the end).  Shared by the application
 * and hyperdomain-render. */

typedef struct _HdAnimation HdAnimation;

HdAnimation *hd_animation_new            (HdGenerator   *gen,
                                          guint          frames_per_segment,
                                          gboolean       ease,
                                          gboolean       loop);
void         hd_animation_free           (HdAnimation   *anim);

/* Adds a keyframe: STATE with its domains loaded (DOMAINS, one HdDomain*
 * per state domain).  Fails when its latent does not fit the generator. */
gboolean     hd_animation_add_key        (HdAnimation   *anim,
                                          const HdState *state,
                                          GPtrArray     *domains,
                                          GError       **error);
guint        hd_animation_get_n_keys     (HdAnimation   *anim);
/* 0 without two keyframes. */
guint        hd_animation_get_n_frames   (HdAnimation   *anim);

/* smoothstep: 3t² − 2t³ */
double       hd_animation_ease           (double         t);
/* Which segment FRAME lies in and how far along it (before easing). */
void         hd_animation_frame_position (HdAnimation   *anim,
                                          guint          frame,
                                          guint         *segment,
                                          double        *t);
/* The state of FRAME (a W latent) and, in *DOMAINS, the domains it names
 * (borrowed: the union of the keys' domains). */
HdState     *hd_animation_get_frame      (HdAnimation   *anim,
                                          guint          frame,
                                          GPtrArray    **domains);

typedef char *(*HdAnimationPathFunc)     (guint          frame,
                                          gpointer       user_data);
typedef void  (*HdAnimationProgressFunc) (guint          done,
                                          guint          total,
                                          gpointer       user_data);

/* Renders every frame to the PNG PATH_FUNC names for it, each with its
 * state.  Stops with G_IO_ERROR_CANCELLED when CANCELLABLE is cancelled. */
gboolean     hd_animation_render         (HdAnimation             *anim,
                                          HdRenderer              *renderer,
                                          HdAnimationPathFunc      path_func,
                                          gpointer                 path_data,
                                          HdAnimationProgressFunc  progress,
                                          gpointer                 progress_data,
                                          GCancellable            *cancellable,
                                          GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdAnimation, hd_animation_free)

G_END_DECLS
