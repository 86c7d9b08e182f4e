/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-upscale.h"

G_BEGIN_DECLS

/* 8-bit export (spec/formats.md §5, generator-math.md §8). */

/* pixel = clamp(floor(x * 127.5 + 128), 0, 255), multiply and add rounded
 * separately.  IMG is CHANNELS x HEIGHT x WIDTH (planar); OUT is
 * interleaved HEIGHT x WIDTH x CHANNELS bytes. */
void      hd_image_to_u8         (const float *img,
                                  int          channels,
                                  int          height,
                                  int          width,
                                  guint8      *out);

/* Writes an RGB (3 channels) or grey (1 channel) PNG atomically, with
 * METADATA_JSON (may be NULL) in an iTXt chunk with keyword "hyperdomain". */
gboolean  hd_png_write           (const char  *path,
                                  const float *img,
                                  int          channels,
                                  int          height,
                                  int          width,
                                  const char  *metadata_json,
                                  GError     **error);

/* hd_png_write with the 8-bit image enlarged SCALE times (1 to
 * HD_UPSCALE_MAX_SCALE) by FILTER.  METADATA_JSON is the state as ever: it
 * renders at the generator's size.  Above 1x, a tEXt chunk with keyword
 * HD_PNG_EXPORT_KEYWORD names the enlargement, as JSON
 * {"scale":N,"filter":"nearest"}; at 1x the file is what hd_png_write
 * writes. */
#define HD_PNG_EXPORT_KEYWORD "hyperdomain-export"

gboolean  hd_png_write_scaled    (const char      *path,
                                  const float     *img,
                                  int              channels,
                                  int              height,
                                  int              width,
                                  int              scale,
                                  HdUpscaleFilter  filter,
                                  const char      *metadata_json,
                                  GError         **error);

/* The text of the "hyperdomain" iTXt chunk of a PNG.  Errors name the file:
 * not a PNG, damaged, or no Hyperdomain metadata. */
char     *hd_png_read_metadata   (const char  *path,
                                  GError     **error);
/* The text of the chunk with KEYWORD (tEXt, zTXt or iTXt), or NULL with
 * ERROR set, also when there is none. */
char     *hd_png_read_text       (const char  *path,
                                  const char  *keyword,
                                  GError     **error);

G_END_DECLS
