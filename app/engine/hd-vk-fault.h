/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fault injection (HYPERDOMAIN_FAULT, described in hd-vk.h): the plan the
 * variable describes, kept once per process.  Internal to hd-vk*.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads HYPERDOMAIN_FAULT, the first time only. */
void      hd_vk_fault_load        (void);
/* Counts one device allocation; TRUE when it is the one to fail. */
gboolean  hd_vk_fault_take_oom    (void);
/* Counts one frame on a context that is not lost; TRUE when its device is
 * to be lost now, instead of rendering the frame. */
gboolean  hd_vk_fault_count_frame (void);

G_END_DECLS
