/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fault injection for tests of the error paths and of recovery: which
 * device allocation fails and after how many frames the device is lost,
 * as HYPERDOMAIN_FAULT asks.  Each fault happens once per process. */
#include "config.h"

#include "hd-vk-fault.h"

#include <string.h>

#include "hd-vk.h"

typedef struct {
  gboolean oom_armed;       /* an allocation is still to fail */
  guint64  oom_at;          /* ... the how-manieth device allocation */
  gboolean lost_armed;      /* a device loss is still to happen */
  guint64  lost_after;      /* ... after this many frames */
  guint64  allocations;     /* device allocations so far */
  guint64  frames;          /* frames so far */
  guint    injected;        /* faults injected so far */
} FaultPlan;

static GMutex fault_mutex;
static FaultPlan fault_plan;

static gboolean
parse_fault_count (const char *item,
                   const char *value,
                   guint64     min,
                   guint64    *out)
{
  if (value != NULL && g_ascii_string_to_unsigned (value, 10, min, G_MAXUINT32, out, NULL))
    return TRUE;
  g_warning ("HYPERDOMAIN_FAULT: “%s” needs a whole number of at least %" G_GUINT64_FORMAT
             " after “=”; ignored", item, min);
  return FALSE;
}

void
hd_vk_fault_load (void)
{
  static gsize loaded = 0;

  if (g_once_init_enter (&loaded))
    {
      const char *env = g_getenv ("HYPERDOMAIN_FAULT");
      g_auto(GStrv) items = g_strsplit (env != NULL ? env : "", ",", -1);

      g_mutex_lock (&fault_mutex);
      for (guint i = 0; items[i] != NULL; i++)
        {
          char *item = g_strstrip (items[i]);
          char *value = strchr (item, '=');

          if (value != NULL)
            *value++ = '\0';
          if (*item == '\0')
            continue;
          if (strcmp (item, "oom-at-load") == 0)
            {
              fault_plan.oom_at = 1;
              fault_plan.oom_armed = value == NULL ||
                                     parse_fault_count (item, value, 1, &fault_plan.oom_at);
            }
          else if (strcmp (item, "device-lost-after") == 0)
            fault_plan.lost_armed = parse_fault_count (item, value, 0, &fault_plan.lost_after);
          else
            g_warning ("HYPERDOMAIN_FAULT: unknown fault “%s” ignored; known: "
                       "oom-at-load[=N], device-lost-after=N", item);
        }
      if (fault_plan.oom_armed || fault_plan.lost_armed)
        g_message ("HYPERDOMAIN_FAULT=%s: injecting faults", env);
      g_mutex_unlock (&fault_mutex);
      g_once_init_leave (&loaded, 1);
    }
}

gboolean
hd_vk_fault_take_oom (void)
{
  gboolean fail = FALSE;

  g_mutex_lock (&fault_mutex);
  fault_plan.allocations++;
  if (fault_plan.oom_armed && fault_plan.allocations == fault_plan.oom_at)
    {
      fault_plan.oom_armed = FALSE;
      fault_plan.injected++;
      fail = TRUE;
    }
  g_mutex_unlock (&fault_mutex);
  return fail;
}

gboolean
hd_vk_fault_count_frame (void)
{
  gboolean lose = FALSE;

  g_mutex_lock (&fault_mutex);
  if (fault_plan.lost_armed && fault_plan.frames >= fault_plan.lost_after)
    {
      fault_plan.lost_armed = FALSE;
      fault_plan.injected++;
      lose = TRUE;
      g_message ("HYPERDOMAIN_FAULT: the device is lost after %" G_GUINT64_FORMAT " frames",
                 fault_plan.frames);
    }
  else
    fault_plan.frames++;
  g_mutex_unlock (&fault_mutex);
  return lose;
}

guint
hd_vk_get_faults_injected (void)
{
  guint n;

  hd_vk_fault_load ();
  g_mutex_lock (&fault_mutex);
  n = fault_plan.injected;
  g_mutex_unlock (&fault_mutex);
  return n;
}
