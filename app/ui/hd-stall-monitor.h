/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Measures main-loop iterations: the time from the end of one poll to the
 * start of the next, which is everything the loop dispatched in between
 * (event handling, layout, painting, our callbacks).  A long iteration is
 * a stall the user feels. */

typedef struct _HdStallMonitor HdStallMonitor;

HdStallMonitor *hd_stall_monitor_new           (GMainContext   *context);
void            hd_stall_monitor_free          (HdStallMonitor *monitor);
/* Longest iteration and number of iterations since the last reset. */
double          hd_stall_monitor_get_max_ms    (HdStallMonitor *monitor);
guint64         hd_stall_monitor_get_n_iterations (HdStallMonitor *monitor);
/* Iterations longer than THRESHOLD_MS since the last reset. */
guint           hd_stall_monitor_count_over    (HdStallMonitor *monitor,
                                                double          threshold_ms);
/* The same for the processor time the main thread itself spent in an
 * iteration (the wall-clock figures include time it was preempted). */
double          hd_stall_monitor_get_max_cpu_ms (HdStallMonitor *monitor);
guint           hd_stall_monitor_count_cpu_over (HdStallMonitor *monitor,
                                                 double          threshold_ms);
void            hd_stall_monitor_reset         (HdStallMonitor *monitor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdStallMonitor, hd_stall_monitor_free)

G_END_DECLS
