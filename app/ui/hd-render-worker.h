/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gdk/gdk.h>

#include "hd-render-job.h"

G_BEGIN_DECLS

/* The render thread.  It owns the Vulkan context and the renderer and
 * never touches GTK.  The UI submits jobs and never waits: a job that is
 * still pending when a newer one arrives is dropped, and the frame being
 * rendered is abandoned between two pieces of its work (see
 * hd_renderer_render_cancellable) so that the newer one starts at once;
 * only a drag's previews, and its full frames when they fit the preview
 * budget, finish when the newer job is of the same drag.  Finished frames
 * come back on the main context as the "frame-ready" signal.  When the device
 * is lost or runs out of memory, the thread recreates it and renders the
 * job again ("device-recovered"). */

typedef enum {
  HD_PREVIEW_AUTO,    /* preview while dragging when a full frame is slow */
  HD_PREVIEW_ALWAYS,  /* preview while dragging */
  HD_PREVIEW_NEVER,
} HdPreviewPolicy;

#define HD_TYPE_PREVIEW_POLICY (hd_preview_policy_get_type ())
GType hd_preview_policy_get_type (void) G_GNUC_CONST;

typedef struct _HdRenderFrame HdRenderFrame;

struct _HdRenderFrame
{
  HdRenderJob *job;
  int          width;        /* pixels of this frame */
  int          height;
  int          full_res;     /* the generator's full resolution */
  gboolean     preview;      /* an intermediate skip image */
  int          channels;     /* of RAW */
  GBytes      *rgb;          /* width x height RGB bytes (hd_image_to_u8) */
  GBytes      *raw;          /* channels x height x width floats */
  double       render_ms;    /* the render call, wall time */
  double       gpu_ms;       /* GPU time, 0 when unknown */
  gint64       submitted_us; /* monotonic time of submission */
  gint64       finished_us;  /* monotonic time the pixels were ready */

  /*< private >*/
  GdkTexture  *texture;
  gint         ref_count;
};

#define HD_TYPE_RENDER_FRAME (hd_render_frame_get_type ())

GType          hd_render_frame_get_type    (void) G_GNUC_CONST;
HdRenderFrame *hd_render_frame_ref         (HdRenderFrame *frame);
void           hd_render_frame_unref       (HdRenderFrame *frame);
/* The RGB pixels as a texture (main thread only). */
GdkTexture    *hd_render_frame_get_texture (HdRenderFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdRenderFrame, hd_render_frame_unref)

#define HD_TYPE_RENDER_WORKER (hd_render_worker_get_type ())

G_DECLARE_FINAL_TYPE (HdRenderWorker, hd_render_worker, HD, RENDER_WORKER, GObject)

HdRenderWorker  *hd_render_worker_new                (void);
/* "auto", "cpu" or a device index (hd_vk_context_new). */
void             hd_render_worker_set_device         (HdRenderWorker  *self,
                                                      const char      *device);
const char      *hd_render_worker_get_device         (HdRenderWorker  *self);
/* The name of the device in use, or NULL before the first frame. */
const char      *hd_render_worker_get_device_name    (HdRenderWorker  *self);
void             hd_render_worker_set_preview_policy (HdRenderWorker  *self,
                                                      HdPreviewPolicy  policy);
HdPreviewPolicy  hd_render_worker_get_preview_policy (HdRenderWorker  *self);
/* A drag preview is used when a full frame takes longer than this. */
void             hd_render_worker_set_preview_budget (HdRenderWorker  *self,
                                                      double           ms);
/* Queues JOB (takes a reference), replacing a pending one. */
void             hd_render_worker_submit             (HdRenderWorker  *self,
                                                      HdRenderJob     *job);
/* Counters, for tests and statistics. */
guint            hd_render_worker_get_n_submitted    (HdRenderWorker  *self);
guint            hd_render_worker_get_n_rendered     (HdRenderWorker  *self);
/* Jobs that never gave a frame: replaced while pending, or abandoned. */
guint            hd_render_worker_get_n_dropped      (HdRenderWorker  *self);
/* Frames abandoned while rendering, for a newer job (part of n_dropped). */
guint            hd_render_worker_get_n_abandoned    (HdRenderWorker  *self);
/* Device faults the worker got over by recreating the device. */
guint            hd_render_worker_get_n_recovered    (HdRenderWorker  *self);
/* TRUE while a job is pending or being rendered. */
gboolean         hd_render_worker_is_busy            (HdRenderWorker  *self);

G_END_DECLS
