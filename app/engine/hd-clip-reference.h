/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-clip.h"
#include "hd-clip-model.h"

G_BEGIN_DECLS

/* A plain C implementation of CLIP's two towers (spec/text-domains.md §3,
 * spec/domain-training.md §2), in double precision: the oracle for the
 * GPU stages, like hd-cpu-reference for the generator.  Slow for a
 * full-size CLIP (seconds), exact enough for every fixture. */

/* E (embed_dim floats, unit length) of the token row IDS (SOT ... EOT,
 * without the padding; N_IDS <= context_length). */
gboolean hd_clip_reference_encode_text  (const HdClipText *text,
                                         const guint32    *ids,
                                         guint             n_ids,
                                         float            *e,
                                         GError          **error);

/* The same as an HdClipTextEncodeFunc; USER_DATA is the HdClip. */
gboolean hd_clip_reference_encode_func  (const guint32    *ids,
                                         guint             n_ids,
                                         float            *e,
                                         gpointer          clip,
                                         GError          **error);

/* The CLIP input of a generator image IMG (3 x R x R, range [-1, 1]):
 * (x + 1) / 2, bicubic resampling to N x N when R != N, the centre crop
 * (nothing at a square image) and CLIP's normalisation; OUT holds
 * 3 x N x N floats (domain-training.md §2.1). */
void     hd_clip_reference_preprocess   (const float      *img,
                                         int               r,
                                         int               n,
                                         float            *out);

/* The same in double precision: IMG (3 x R x R) into PRE (3 x N x N)
 * with M the resampling matrix (hd_clip_resize_matrix; NULL when R = N);
 * and its backward, the gradient G_PRE with respect to PRE into G_IMG's
 * with respect to IMG. */
void     hd_clip_preprocess_image       (const double     *img,
                                         int               r,
                                         int               n,
                                         const double     *m,
                                         double           *pre);
void     hd_clip_preprocess_grad        (const double     *g_pre,
                                         int               r,
                                         int               n,
                                         const double     *m,
                                         double           *g_img);

/* CLIP's normalisation of §2.1, per channel: (x − mean) / std. */
extern const double hd_clip_image_mean[3];
extern const double hd_clip_image_std[3];

/* The N x R bicubic resampling matrix of §2.1 (rows sum to 1). */
void     hd_clip_resize_matrix          (int               n,
                                         int               r,
                                         double           *m);

/* Ê (embed_dim floats, unit length) of the preprocessed image PRE
 * (3 x n x n, n = CLIP's image_resolution; §2.2). */
void     hd_clip_reference_encode_image (HdClip           *clip,
                                         const float      *pre,
                                         float            *e);

/* CLIP's image tower with its weights as doubles, for many images of
 * R x R pixels (generator range): the preprocessing of §2.1 and the ViT of
 * §2.2, forward and backward. */
typedef struct _HdClipImageTower HdClipImageTower;

HdClipImageTower *hd_clip_image_tower_new  (HdClip           *clip,
                                            int               r);
void              hd_clip_image_tower_free (HdClipImageTower *tower);
/* From ê (embed_dim doubles), the gradient of a loss with respect to it
 * into G_E. */
typedef void (*HdClipImageGradFunc) (const double *e,
                                     double       *g_e,
                                     gpointer      data);
/* hd_clip_image_tower_run with one forward pass for both: ê into E, then
 * GRAD (may be NULL: the forward pass only) gives the loss's gradient
 * from it, and the gradient with respect to IMG goes into G_IMG. */
void              hd_clip_image_tower_run_grad (HdClipImageTower    *tower,
                                                const double        *img,
                                                double              *e,
                                                HdClipImageGradFunc  grad,
                                                gpointer             data,
                                                double              *g_img);
/* The floats of one image it takes: 3 x R x R. */
gsize             hd_clip_image_tower_image_size (HdClipImageTower *tower);
/* Ê (embed_dim doubles) of IMG (3 x R x R doubles); with G_E (the
 * gradient of a loss with respect to ê; may be NULL), the gradient with
 * respect to IMG into G_IMG. */
void              hd_clip_image_tower_run  (HdClipImageTower *tower,
                                            const double     *img,
                                            double           *e,
                                            const double     *g_e,
                                            double           *g_img);

/* Y[r] = X[r] · Wᵀ + b for ROWS rows: X [rows, in], W [out, in], B may be
 * NULL.  The one linear layer of every reference. */
void     hd_reference_linear            (const double     *x,
                                         int               rows,
                                         int               in,
                                         const double     *w,
                                         const double     *b,
                                         int               out,
                                         double           *y);

/* A float array (N floats, freed) as doubles. */
double  *hd_reference_to_doubles        (float            *f,
                                         gsize             n);

G_END_DECLS
