/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by the CLIP tokenizer's normalisation and its splitter. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The normalised, lower-cased text of TEXT (valid UTF-8) as code points
 * (a GArray of gunichar). COMPLETE (may be NULL) is set to FALSE when a
 * line needed more than HD_CLIP_MAX_FIX_PASSES passes of fixes. */
GArray   *hd_clip_normalize_chars (const char *text,
                                   gboolean   *complete);

/* The Unicode White_Space property (the spec's W). */
gboolean  hd_clip_is_white_space  (gunichar    c);

G_END_DECLS
