/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-StallMonitor"

#include "config.h"

#include <string.h>
#include <time.h>

#include "hd-stall-monitor.h"

/* Iteration lengths are kept in buckets of 1 ms, up to this many. */
#define N_BUCKETS 1000

typedef struct
{
  GSource  source;
  gint64   poll_end_us;    /* when the last poll returned, 0 = not yet */
  gint64   poll_end_cpu_us; /* this thread's processor time then */
  gint64   max_us;
  gint64   max_cpu_us;
  guint64  n_iterations;
  guint    histogram[N_BUCKETS + 1];
  guint    cpu_histogram[N_BUCKETS + 1];
} StallSource;

struct _HdStallMonitor
{
  StallSource *source;
};

/* Processor time of the calling thread: an iteration that is long in wall
 * time but short in processor time was preempted (the machine was busy),
 * not blocked by work of its own. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
stall_source_prepare (GSource *source,
                      int     *timeout)
{
  StallSource *ss = (StallSource *) source;

  if (ss->poll_end_us != 0)
    {
      gint64 busy = g_get_monotonic_time () - ss->poll_end_us;
      gint64 cpu = thread_cpu_us () - ss->poll_end_cpu_us;

      ss->max_us = MAX (ss->max_us, busy);
      ss->max_cpu_us = MAX (ss->max_cpu_us, cpu);
      ss->n_iterations++;
      ss->histogram[MIN (busy / 1000, N_BUCKETS)]++;
      ss->cpu_histogram[CLAMP (cpu / 1000, 0, N_BUCKETS)]++;
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
  ss->poll_end_cpu_us = thread_cpu_us ();
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

static guint
count_over (const guint *histogram,
            double       threshold_ms)
{
  guint count = 0;

  for (guint i = 0; i <= N_BUCKETS; i++)
    if (i >= threshold_ms)
      count += histogram[i];
  return count;
}

guint
hd_stall_monitor_count_over (HdStallMonitor *monitor,
                             double          threshold_ms)
{
  return count_over (monitor->source->histogram, threshold_ms);
}

double
hd_stall_monitor_get_max_cpu_ms (HdStallMonitor *monitor)
{
  return monitor->source->max_cpu_us / 1000.0;
}

guint
hd_stall_monitor_count_cpu_over (HdStallMonitor *monitor,
                                 double          threshold_ms)
{
  return count_over (monitor->source->cpu_histogram, threshold_ms);
}

void
hd_stall_monitor_reset (HdStallMonitor *monitor)
{
  StallSource *ss = monitor->source;

  ss->max_us = 0;
  ss->max_cpu_us = 0;
  ss->n_iterations = 0;
  memset (ss->histogram, 0, sizeof ss->histogram);
  memset (ss->cpu_histogram, 0, sizeof ss->cpu_histogram);
}
