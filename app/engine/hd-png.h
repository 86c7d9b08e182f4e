/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

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

/* The text of the "hyperdomain" iTXt chunk of a PNG.  Errors name the file:
 * not a PNG, damaged, or no Hyperdomain metadata. */
char     *hd_png_read_metadata   (const char  *path,
                                  GError     **error);

G_END_DECLS
