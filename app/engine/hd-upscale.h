/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Enlarging an exported image by a whole factor, for generators whose
 * images are small (the demo model's are 64x64).  The state in the PNG
 * still renders at the generator's own size; the filter and factor only
 * change the pixels written. */

typedef enum {
  HD_UPSCALE_NEAREST,   /* every pixel repeated scale x scale times: exact */
  HD_UPSCALE_LANCZOS3,  /* separable Lanczos (a = 3): smooth, sharp edges */
} HdUpscaleFilter;

#define HD_UPSCALE_MAX_SCALE 8

/* "nearest", "lanczos3": the names in the PNG metadata, the settings and
 * the command line. */
const char *hd_upscale_filter_to_string   (HdUpscaleFilter  filter);
/* Also takes "lanczos".  FALSE for an unknown NAME. */
gboolean    hd_upscale_filter_from_string (const char      *name,
                                           HdUpscaleFilter *filter);

/* SRC is HEIGHT x WIDTH x CHANNELS interleaved bytes; DST gets
 * (HEIGHT * SCALE) x (WIDTH * SCALE) x CHANNELS.  Output pixel X samples
 * the source at (X + 0.5) / SCALE - 0.5, edges clamped.  SCALE 1 copies.
 * FALSE when there is not enough memory for the intermediate rows. */
gboolean    hd_upscale_u8                 (const guint8    *src,
                                           int              channels,
                                           int              height,
                                           int              width,
                                           int              scale,
                                           HdUpscaleFilter  filter,
                                           guint8          *dst);

G_END_DECLS
