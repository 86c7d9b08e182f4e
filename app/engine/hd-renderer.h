/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-vk.h"

G_BEGIN_DECLS

/* Runs the forward pass of one generator on a Vulkan device.  Weights are
 * uploaded once, in hd_renderer_new.  The mapping result (w) is cached:
 * a render that changes only the domain or noise skips mapping, styles and
 * demodulation.  Not thread-safe: one thread renders at a time. */

typedef struct _HdRenderer HdRenderer;

typedef struct {
  double   total_ms;        /* wall time of the last render call */
  double   gpu_ms;          /* GPU time of the last frame (timestamps), or 0 */
  double   mapping_ms;      /* GPU time of mapping + styles, 0 when cached */
  double   synthesis_ms;    /* GPU time of the synthesis network */
  gboolean mapping_cached;  /* the last frame reused the cached w */
  guint64  device_bytes;    /* device memory held by this renderer */
  guint    n_pieces;        /* submissions the last frame was split into */
  guint    pieces_done;     /* ... of which finished (fewer when cancelled) */
  double   done_fraction;   /* share of the frame's convolution work those
                               did (1 for a whole frame); with total_ms, an
                               estimate of a cancelled frame's full time */
} HdRenderStats;

/* Asked between the submissions of a frame: TRUE stops the frame there. */
typedef gboolean (*HdRenderCancelFunc) (gpointer user_data);

/* Which convolution kernels run: AUTO picks per device (the lanes
 * kernels on a CPU device that has what they need, the tiled kernel
 * elsewhere); a layer the chosen family cannot run falls back to the
 * tiled kernel. */
typedef enum {
  HD_CONV_KERNEL_AUTO,
  HD_CONV_KERNEL_TILED,   /* conv.comp, tiled through shared memory (GPUs) */
  HD_CONV_KERNEL_LANES,   /* conv_cpu.comp: a subgroup as one SIMD register
                             (CPU devices); an error where the device has
                             no subgroups of exactly 8 */
} HdConvKernel;

typedef struct {
  HdConvKernel conv_kernel;
  gboolean     profile;        /* log the GPU time of every dispatch, per frame */
  gboolean     force_staging;  /* upload through staging buffers and read back
                                  through a copy even where device memory is
                                  host-visible (tests of those paths) */
} HdRendererOptions;

/* Defaults: AUTO, no profile, no forced staging. */
void        hd_renderer_options_init (HdRendererOptions *options);
/* "auto", "tiled" or "lanes"; FALSE for anything else. */
gboolean    hd_conv_kernel_from_string (const char   *str,
                                        HdConvKernel *kernel);
const char *hd_conv_kernel_to_string   (HdConvKernel  kernel);

/* With the default options. */
HdRenderer *hd_renderer_new       (HdVkContext          *ctx,
                                   HdGenerator          *gen,
                                   GError              **error);
/* OPTIONS may be NULL (the defaults). */
HdRenderer *hd_renderer_new_with_options (HdVkContext             *ctx,
                                          HdGenerator             *gen,
                                          const HdRendererOptions *options,
                                          GError                 **error);
void        hd_renderer_free      (HdRenderer           *renderer);
/* The kernel family that runs conv CONV_INDEX (TILED or LANES). */
HdConvKernel hd_renderer_get_conv_kernel (HdRenderer    *renderer,
                                          int            conv_index);
HdGenerator *hd_renderer_get_generator (HdRenderer      *renderer);

/* Renders into OUT (img_channels x res x res floats, res from
 * hd_render_params_output_res), in one submission. */
gboolean    hd_renderer_render    (HdRenderer           *renderer,
                                   const HdRenderParams *params,
                                   float                *out,
                                   GError              **error);
/* The same, split into a few submissions of about equal work (one per
 * large convolution, small blocks together), with CANCEL (may be NULL)
 * called before each.  When it returns TRUE, the frame stops there and
 * this returns FALSE with G_IO_ERROR_CANCELLED, OUT untouched; the
 * renderer stays usable, and later frames give exactly the pixels they
 * would have given without the cancelled one.  Same pixels as
 * hd_renderer_render. */
gboolean    hd_renderer_render_cancellable (HdRenderer           *renderer,
                                            const HdRenderParams *params,
                                            HdRenderCancelFunc    cancel,
                                            gpointer              cancel_data,
                                            float                *out,
                                            GError              **error);
/* The smallest piece hd_renderer_render_cancellable cuts a frame into,
 * in convolution multiply-adds (default 4e8, some 30 ms on lavapipe);
 * 0 cuts before every convolution (tests). */
void        hd_renderer_set_min_piece_macs (HdRenderer  *renderer,
                                            double       macs);
void        hd_renderer_get_stats (HdRenderer           *renderer,
                                   HdRenderStats        *stats);
/* What the renderer's device memory holds, one line per kind of buffer
 * (weights, activations, noise, ...) and a total; free with g_free. */
char       *hd_renderer_get_memory_report (HdRenderer   *renderer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdRenderer, hd_renderer_free)

G_END_DECLS
