/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-StallMonitor"

#include "config.h"

#include <string.h>

#include "hd-stall-monitor.h"

/* Iteration lengths are kept in buckets of 1 ms, up to this many. */
#define N_BUCKETS 1000

typedef struct
{
  GSource  source;
  gint64   poll_end_us;    /* when the last poll returned, 0 = not yet */
  gint64   max_us;
  guint64  n_iterations;
  guint    histogram[N_BUCKETS + 1];
} StallSource;

struct _HdStallMonitor
{
  StallSource *source;
};

static gboolean
stall_source_prepare (GSource *source,
                      int     *timeout)
{
  StallSource *ss = (StallSource *) source;

  if (ss->poll_end_us != 0)
    {
      gint64 busy = g_get_monotonic_time () - ss->poll_end_us;

      ss->max_us = MAX (ss->max_us, busy);
      ss->n_iterations++;
      ss->histogram[MIN (busy / 1000, N_BUCKETS)]++;
      ss->poll_end_us = 0;
    }

  *timeout = -1;
  return FALSE;
}

static gboolean
stall_source_check (GSource *source)
{
  StallSource *ss = (StallSource *) source;

  ss->poll_end_us = g_get_monotonic_time ();
  return FALSE;
}

static GSourceFuncs stall_source_funcs = {
  .prepare = stall_source_prepare,
  .check = stall_source_check,
};

HdStallMonitor *
hd_stall_monitor_new (GMainContext *context)
{
  HdStallMonitor *monitor = g_new0 (HdStallMonitor, 1);

  monitor->source = (StallSource *) g_source_new (&stall_source_funcs, sizeof (StallSource));
  /* Before every other source, so it is prepared and checked in every
   * iteration whatever else is ready. */
  g_source_set_priority ((GSource *) monitor->source, G_MININT / 2);
  g_source_set_static_name ((GSource *) monitor->source, "HdStallMonitor");
  g_source_attach ((GSource *) monitor->source, context);

  return monitor;
}

void
hd_stall_monitor_free (HdStallMonitor *monitor)
{
  if (monitor == NULL)
    return;

  g_source_destroy ((GSource *) monitor->source);
  g_source_unref ((GSource *) monitor->source);
  g_free (monitor);
}

double
hd_stall_monitor_get_max_ms (HdStallMonitor *monitor)
{
  return monitor->source->max_us / 1000.0;
}

guint64
hd_stall_monitor_get_n_iterations (HdStallMonitor *monitor)
{
  return monitor->source->n_iterations;
}

guint
hd_stall_monitor_count_over (HdStallMonitor *monitor,
                             double          threshold_ms)
{
  guint count = 0;

  for (guint i = 0; i <= N_BUCKETS; i++)
    if (i >= threshold_ms)
      count += monitor->source->histogram[i];
  return count;
}

void
hd_stall_monitor_reset (HdStallMonitor *monitor)
{
  StallSource *ss = monitor->source;

  ss->max_us = 0;
  ss->n_iterations = 0;
  memset (ss->histogram, 0, sizeof ss->histogram);
}
