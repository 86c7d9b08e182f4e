/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-RenderWorker"

#include "config.h"

#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "hd-error.h"
#include "hd-png.h"
#include "hd-renderer.h"
#include "hd-state-render.h"
#include "hd-vk.h"

#include "hd-render-worker.h"

G_DEFINE_ENUM_TYPE (HdPreviewPolicy, hd_preview_policy,
                    G_DEFINE_ENUM_VALUE (HD_PREVIEW_AUTO, "auto"),
                    G_DEFINE_ENUM_VALUE (HD_PREVIEW_ALWAYS, "always"),
                    G_DEFINE_ENUM_VALUE (HD_PREVIEW_NEVER, "never"))

G_DEFINE_BOXED_TYPE (HdRenderFrame, hd_render_frame, hd_render_frame_ref, hd_render_frame_unref)

/* The smallest preview worth showing. */
#define MIN_PREVIEW_RES 16
/* Frame times kept for the estimate of a full frame's time. */
#define N_FRAME_ESTIMATES 5

/* What the UI thread and the render thread share; the render thread keeps
 * a reference, so the worker object itself may go away first. */
typedef struct
{
  gint             ref_count;
  GMutex           mutex;
  GCond            cond;
  HdRenderJob     *pending;
  char            *device;
  gboolean         device_changed;
  HdPreviewPolicy  policy;
  double           budget_ms;
  gboolean         quit;
  GWeakRef         worker;
  GMainContext    *main_context;
} Shared;

struct _HdRenderWorker
{
  GObject          parent_instance;

  Shared          *shared;
  GThread         *thread;
  char            *device;
  char            *device_name;
  HdPreviewPolicy  policy;

  guint            n_submitted;
  guint            n_dropped;
  guint            n_rendered;
  guint            n_failed;
  guint            n_recovered;
  guint            n_abandoned;
};

G_DEFINE_FINAL_TYPE (HdRenderWorker, hd_render_worker, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DEVICE,
  PROP_DEVICE_NAME,
  PROP_PREVIEW_POLICY,
  N_PROPS
};

enum {
  FRAME_READY,
  RENDER_FAILED,
  DEVICE_RECOVERED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

HdRenderFrame *
hd_render_frame_ref (HdRenderFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);

  g_atomic_int_inc (&frame->ref_count);
  return frame;
}

void
hd_render_frame_unref (HdRenderFrame *frame)
{
  g_return_if_fail (frame != NULL);

  if (!g_atomic_int_dec_and_test (&frame->ref_count))
    return;

  g_clear_pointer (&frame->job, hd_render_job_unref);
  g_clear_pointer (&frame->rgb, g_bytes_unref);
  g_clear_pointer (&frame->raw, g_bytes_unref);
  g_clear_object (&frame->texture);
  g_free (frame);
}

GdkTexture *
hd_render_frame_get_texture (HdRenderFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);

  if (frame->texture == NULL)
    frame->texture = gdk_memory_texture_new (frame->width, frame->height,
                                             GDK_MEMORY_R8G8B8, frame->rgb,
                                             (gsize) frame->width * 3);
  return frame->texture;
}

static Shared *
shared_ref (Shared *shared)
{
  g_atomic_int_inc (&shared->ref_count);
  return shared;
}

static void
shared_unref (Shared *shared)
{
  if (!g_atomic_int_dec_and_test (&shared->ref_count))
    return;

  g_clear_pointer (&shared->pending, hd_render_job_unref);
  g_free (shared->device);
  g_weak_ref_clear (&shared->worker);
  g_main_context_unref (shared->main_context);
  g_mutex_clear (&shared->mutex);
  g_cond_clear (&shared->cond);
  g_free (shared);
}

/* A message from the render thread, delivered on the main context. */
typedef struct
{
  Shared        *shared;
  HdRenderFrame *frame;
  GError        *error;
  GError        *recovered;   /* the fault a new device got over, with FRAME */
  char          *device_name;
  guint64        serial;
  gboolean       abandoned;   /* a newer job took over the frame */
} Message;

static void
message_free (gpointer data)
{
  Message *msg = data;

  shared_unref (msg->shared);
  g_clear_pointer (&msg->frame, hd_render_frame_unref);
  g_clear_error (&msg->error);
  g_clear_error (&msg->recovered);
  g_free (msg->device_name);
  g_free (msg);
}

static gboolean
message_deliver (gpointer data)
{
  Message *msg = data;
  g_autoptr(HdRenderWorker) self = g_weak_ref_get (&msg->shared->worker);

  if (self == NULL)
    return G_SOURCE_REMOVE;

  if (msg->device_name != NULL && g_strcmp0 (msg->device_name, self->device_name) != 0)
    {
      g_free (self->device_name);
      self->device_name = g_strdup (msg->device_name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_NAME]);
    }

  if (msg->recovered != NULL)
    {
      self->n_recovered++;
      g_signal_emit (self, signals[DEVICE_RECOVERED], 0, msg->recovered);
    }

  if (msg->frame != NULL)
    {
      self->n_rendered++;
      g_signal_emit (self, signals[FRAME_READY], 0, msg->frame);
    }
  else if (msg->error != NULL)
    {
      self->n_failed++;
      g_signal_emit (self, signals[RENDER_FAILED], 0, msg->error, msg->serial);
    }
  else if (msg->abandoned)
    {
      /* Nothing to show: the newer job's frame follows. */
      self->n_abandoned++;
      self->n_dropped++;
    }

  return G_SOURCE_REMOVE;
}

static void
post (Shared  *shared,
      Message *msg)
{
  GSource *source = g_idle_source_new ();

  msg->shared = shared_ref (shared);
  /* Always through the main context: g_main_context_invoke would run
   * message_deliver right here, on the render thread, whenever the main
   * thread is not iterating the default context at that moment. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, message_deliver, msg, message_free);
  g_source_set_static_name (source, "[hyperdomain] render message");
  g_source_attach (source, shared->main_context);
  g_source_unref (source);
}

/* Render-thread state: only the render thread touches it. */
typedef struct
{
  HdVkContext *ctx;
  HdRenderer  *renderer;
  char        *device;
  /* Recent frames' times, each scaled to a full frame (ms), newest at
   * N_ESTIMATES % N_FRAME_ESTIMATES. */
  double       estimates[N_FRAME_ESTIMATES];
  guint        n_estimates;
} ThreadState;

static void
thread_state_forget_times (ThreadState *ts)
{
  ts->n_estimates = 0;
}

static void
thread_state_drop_device (ThreadState *ts)
{
  g_clear_pointer (&ts->renderer, hd_renderer_free);
  g_clear_pointer (&ts->ctx, hd_vk_context_unref);
  thread_state_forget_times (ts);
}

/* The expected time of a full frame: the median of the recent frames'
 * times, so one slow frame (the machine busy for a moment) does not turn
 * a fast model into previews, nor one fast frame a slow model into full
 * frames; 0 while nothing is known. */
static double
thread_state_full_ms (ThreadState *ts)
{
  double sorted[N_FRAME_ESTIMATES];
  guint n = MIN (ts->n_estimates, N_FRAME_ESTIMATES);

  if (n == 0)
    return 0.0;
  memcpy (sorted, ts->estimates, n * sizeof (double));
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && sorted[j - 1] > sorted[j]; j--)
      {
        double t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void
thread_state_add_time (ThreadState *ts,
                       double       full_ms)
{
  ts->estimates[ts->n_estimates++ % N_FRAME_ESTIMATES] = full_ms;
}

static gboolean
thread_state_prepare (ThreadState  *ts,
                      Shared       *shared,
                      HdRenderJob  *job,
                      GError      **error)
{
  if (ts->ctx == NULL)
    {
      ts->ctx = hd_vk_context_new (ts->device, error);
      if (ts->ctx == NULL)
        return FALSE;
      {
        const HdVkDeviceInfo *info = hd_vk_context_get_device_info (ts->ctx);
        Message *msg = g_new0 (Message, 1);

        msg->device_name = g_strdup (info != NULL ? info->name : "");
        post (shared, msg);
      }
    }

  if (ts->renderer != NULL && hd_renderer_get_generator (ts->renderer) != job->gen)
    {
      g_clear_pointer (&ts->renderer, hd_renderer_free);
      thread_state_forget_times (ts);
    }
  if (ts->renderer == NULL)
    {
      ts->renderer = hd_renderer_new (ts->ctx, job->gen, error);
      if (ts->renderer == NULL)
        return FALSE;
    }

  return TRUE;
}

/* The convolutions' multiply-accumulates up to the block of resolution
 * STOP_RES (0: all of them). */
static double
conv_macs (HdGenerator *gen,
           int          stop_res)
{
  double macs = 0.0;

  for (int i = 0; i < gen->n_convs; i++)
    {
      const HdConvLayer *conv = &gen->convs[i];

      if (stop_res == 0 || conv->block_res <= stop_res)
        macs += (double) conv->c_in * conv->c_out * 9.0 * conv->in_res * conv->in_res;
    }
  return macs;
}

/* Block resolution at which to stop for a drag preview, or 0 for the full
 * image.  The cost of each block is estimated from its convolutions'
 * multiply-accumulates, scaled by the expected time of a full frame. */
static int
choose_stop_res (HdGenerator     *gen,
                 HdPreviewPolicy  policy,
                 double           budget_ms,
                 double           full_ms)
{
  int r_max = gen->config.img_resolution;
  int min_res = MIN (MIN_PREVIEW_RES, r_max / 2);
  double total;
  int best = 0;

  if (policy == HD_PREVIEW_NEVER)
    return 0;
  if (policy == HD_PREVIEW_AUTO && (full_ms <= 0.0 || full_ms <= budget_ms))
    return 0;

  total = conv_macs (gen, 0);
  if (total <= 0.0)
    return 0;

  for (int res = min_res; res < r_max; res *= 2)
    if (best == 0 || full_ms <= 0.0 || full_ms * conv_macs (gen, res) / total <= budget_ms)
      best = res;

  return best;
}

/* Asked by the renderer between the pieces of a frame. */
typedef struct
{
  Shared   *shared;
  /* The frame is one of a drag that does not starve a drag of frames:
   * a preview, or a full frame expected within the budget. */
  gboolean  drag_frame;
} CancelCheck;

/* TRUE when the frame being rendered should give way: the worker is
 * quitting, or a newer job is pending, except that a drag's preview (or
 * a full frame expected within the budget) finishes when the newer job
 * is part of the drag too.  Those frames are short, and abandoning them
 * would show nothing for as long as the pointer keeps moving faster than
 * they render (the smallest preview of a 1024 generator on lavapipe
 * takes longer than the 16 ms between pointer events). */
static gboolean
newer_job_pending (gpointer data)
{
  CancelCheck *check = data;
  Shared *shared = check->shared;
  gboolean stop;

  g_mutex_lock (&shared->mutex);
  stop = shared->quit ||
         (shared->pending != NULL &&
          !(check->drag_frame && shared->pending->interactive));
  g_mutex_unlock (&shared->mutex);
  return stop;
}

static gboolean
error_is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static HdRenderFrame *
render_job (ThreadState  *ts,
            HdRenderJob  *job,
            int           stop_res,
            CancelCheck  *check,
            GError      **error)
{
  HdGenerator *gen = job->gen;
  g_autoptr(HdRenderFrame) frame = g_new0 (HdRenderFrame, 1);
  g_auto(HdPreparedRender) prepared = { 0 };
  HdRenderStats stats;
  int channels = gen->config.img_channels;
  gsize n_pixels;
  float *raw;
  guint8 *rgb;
  gint64 start;
  int res;

  frame->ref_count = 1;
  frame->job = hd_render_job_ref (job);
  frame->full_res = gen->config.img_resolution;
  frame->channels = channels;
  frame->submitted_us = job->submitted_us;

  if (!hd_state_prepare (job->state, gen, job->domains, &prepared, error))
    return NULL;
  prepared.params.stop_res = stop_res;
  res = hd_render_params_output_res (&prepared.params, gen, error);
  if (res < 0)
    return NULL;

  n_pixels = (gsize) res * res;
  raw = g_new (float, n_pixels * channels);
  start = g_get_monotonic_time ();
  if (!hd_renderer_render_cancellable (ts->renderer, &prepared.params,
                                       newer_job_pending, check, raw, error))
    {
      g_free (raw);
      /* What an abandoned frame did still tells how long a whole one
       * takes (the pieces it finished, scaled up by the work they were):
       * without it, a slow model abandoned at every change would never
       * learn that it needs previews. */
      if (error != NULL && error_is_cancelled (*error))
        {
          hd_renderer_get_stats (ts->renderer, &stats);
          if (stats.done_fraction > 0.0)
            thread_state_add_time (ts, stats.total_ms / stats.done_fraction *
                                       conv_macs (gen, 0) / MAX (conv_macs (gen, stop_res), 1.0));
        }
      return NULL;
    }
  hd_renderer_get_stats (ts->renderer, &stats);

  rgb = g_malloc (n_pixels * 3);
  if (channels == 3)
    hd_image_to_u8 (raw, channels, res, res, rgb);
  else
    {
      /* Grey or extra channels: show the first (up to three) as RGB. */
      g_autofree guint8 *tmp = g_malloc (n_pixels * channels);

      hd_image_to_u8 (raw, channels, res, res, tmp);
      for (gsize p = 0; p < n_pixels; p++)
        for (int c = 0; c < 3; c++)
          rgb[p * 3 + c] = tmp[p * channels + MIN (c, channels - 1)];
    }

  frame->width = res;
  frame->height = res;
  frame->preview = stop_res != 0;
  frame->rgb = g_bytes_new_take (rgb, n_pixels * 3);
  frame->raw = g_bytes_new_take (raw, n_pixels * channels * sizeof (float));
  frame->render_ms = (g_get_monotonic_time () - start) / 1000.0;
  frame->gpu_ms = stats.gpu_ms;
  frame->finished_us = g_get_monotonic_time ();

  /* A preview's time, scaled up by the work it left out, estimates a
   * full frame too (a little high: some work does not scale), so a drag
   * that went to previews comes back to full frames once they are fast. */
  if (frame->preview)
    thread_state_add_time (ts, frame->render_ms * conv_macs (gen, 0) / MAX (conv_macs (gen, stop_res), 1.0));
  else
    thread_state_add_time (ts, frame->render_ms);

  return g_steal_pointer (&frame);
}

/* A fault that a new device may get over: a lost device (a driver reset)
 * or a device that ran out of memory (a new one starts with all of it). */
static gboolean
error_is_device_fault (const GError *error)
{
  return g_error_matches (error, HD_ERROR, HD_ERROR_DEVICE_LOST) ||
         g_error_matches (error, HD_ERROR, HD_ERROR_OUT_OF_MEMORY);
}

static HdRenderFrame *
prepare_and_render (ThreadState      *ts,
                    Shared           *shared,
                    HdRenderJob      *job,
                    HdPreviewPolicy   policy,
                    double            budget_ms,
                    GError          **error)
{
  CancelCheck check = { shared, FALSE };
  double full_ms;
  int stop_res;

  if (!thread_state_prepare (ts, shared, job, error))
    return NULL;
  full_ms = thread_state_full_ms (ts);
  stop_res = job->interactive ? choose_stop_res (job->gen, policy, budget_ms, full_ms) : 0;
  check.drag_frame = job->interactive && (stop_res != 0 || (full_ms > 0.0 && full_ms <= budget_ms));
  return render_job (ts, job, stop_res, &check, error);
}

static gpointer
render_thread (gpointer data)
{
  Shared *shared = data;
  ThreadState ts = { 0 };

#ifdef __linux__
  /* When rendering and the interface compete for the processor (always,
   * on a CPU Vulkan device), the interface must win.  Threads the driver
   * starts from this one inherit the lower priority. */
  if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 5) != 0)
    g_debug ("Cannot lower the priority of the render thread");
#endif

  for (;;)
    {
      g_autoptr(HdRenderJob) job = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) fault = NULL;
      HdRenderFrame *frame;
      HdPreviewPolicy policy;
      double budget_ms;

      g_mutex_lock (&shared->mutex);
      while (shared->pending == NULL && !shared->quit)
        g_cond_wait (&shared->cond, &shared->mutex);
      if (shared->quit)
        {
          g_mutex_unlock (&shared->mutex);
          break;
        }
      job = g_steal_pointer (&shared->pending);
      if (shared->device_changed || ts.device == NULL)
        {
          g_free (ts.device);
          ts.device = g_strdup (shared->device);
          shared->device_changed = FALSE;
          thread_state_drop_device (&ts);
        }
      policy = shared->policy;
      budget_ms = shared->budget_ms;
      g_mutex_unlock (&shared->mutex);

      frame = prepare_and_render (&ts, shared, job, policy, budget_ms, &error);
      /* A cancelled frame is no fault: the device is fine. */
      if (frame == NULL && !error_is_cancelled (error) && error_is_device_fault (error))
        {
          /* Everything on the device is gone or unusable: recreate the
           * device and the renderer from the job, which holds the whole
           * state, and render it again, once. */
          g_message ("Recreating the Vulkan device after: %s", error->message);
          fault = g_steal_pointer (&error);
          thread_state_drop_device (&ts);
          frame = prepare_and_render (&ts, shared, job, policy, budget_ms, &error);
        }

      if (frame != NULL)
        {
          Message *msg = g_new0 (Message, 1);

          msg->frame = frame;
          msg->recovered = g_steal_pointer (&fault);
          post (shared, msg);
        }
      else if (error_is_cancelled (error))
        {
          /* Abandoned for a newer job (or the worker is going away): no
           * frame, no error; only the counters learn of it (and of a
           * device recovered on the way). */
          Message *msg = g_new0 (Message, 1);

          msg->abandoned = TRUE;
          msg->recovered = g_steal_pointer (&fault);
          post (shared, msg);
        }
      else
        {
          Message *msg = g_new0 (Message, 1);

          /* A lost device cannot be used again: start afresh next time. */
          if (g_error_matches (error, HD_ERROR, HD_ERROR_DEVICE_LOST) ||
              g_error_matches (error, HD_ERROR, HD_ERROR_DEVICE) ||
              g_error_matches (error, HD_ERROR, HD_ERROR_NO_DEVICE))
            thread_state_drop_device (&ts);
          msg->error = g_steal_pointer (&error);
          msg->serial = job->serial;
          post (shared, msg);
        }
    }

  thread_state_drop_device (&ts);
  g_free (ts.device);
  shared_unref (shared);

  return NULL;
}

static void
hd_render_worker_dispose (GObject *object)
{
  HdRenderWorker *self = (HdRenderWorker *)object;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->shared->mutex);
      self->shared->quit = TRUE;
      g_cond_signal (&self->shared->cond);
      g_mutex_unlock (&self->shared->mutex);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  G_OBJECT_CLASS (hd_render_worker_parent_class)->dispose (object);
}

static void
hd_render_worker_finalize (GObject *object)
{
  HdRenderWorker *self = (HdRenderWorker *)object;

  g_clear_pointer (&self->shared, shared_unref);
  g_free (self->device);
  g_free (self->device_name);

  G_OBJECT_CLASS (hd_render_worker_parent_class)->finalize (object);
}

static void
hd_render_worker_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  HdRenderWorker *self = HD_RENDER_WORKER (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;

    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device_name);
      break;

    case PROP_PREVIEW_POLICY:
      g_value_set_enum (value, self->policy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_render_worker_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  HdRenderWorker *self = HD_RENDER_WORKER (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      hd_render_worker_set_device (self, g_value_get_string (value));
      break;

    case PROP_PREVIEW_POLICY:
      hd_render_worker_set_preview_policy (self, g_value_get_enum (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_render_worker_class_init (HdRenderWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hd_render_worker_dispose;
  object_class->finalize = hd_render_worker_finalize;
  object_class->get_property = hd_render_worker_get_property;
  object_class->set_property = hd_render_worker_set_property;

  properties[PROP_DEVICE] =
    g_param_spec_string ("device", NULL, NULL, "auto",
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_DEVICE_NAME] =
    g_param_spec_string ("device-name", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_PREVIEW_POLICY] =
    g_param_spec_enum ("preview-policy", NULL, NULL,
                       HD_TYPE_PREVIEW_POLICY, HD_PREVIEW_AUTO,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HdRenderWorker::frame-ready:
   * @frame: the finished frame
   *
   * A frame is ready, in the order the jobs were rendered.
   */
  signals[FRAME_READY] =
    g_signal_new ("frame-ready",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, HD_TYPE_RENDER_FRAME);

  /**
   * HdRenderWorker::render-failed:
   * @error: what went wrong
   * @serial: the serial of the job that failed
   */
  signals[RENDER_FAILED] =
    g_signal_new ("render-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_ERROR, G_TYPE_UINT64);

  /**
   * HdRenderWorker::device-recovered:
   * @error: the fault (HD_ERROR_DEVICE_LOST or HD_ERROR_OUT_OF_MEMORY)
   *
   * The device failed, the worker recreated it and rendered the job
   * again; the frame follows as "frame-ready".
   */
  signals[DEVICE_RECOVERED] =
    g_signal_new ("device-recovered",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
hd_render_worker_init (HdRenderWorker *self)
{
  self->device = g_strdup ("auto");
  self->policy = HD_PREVIEW_AUTO;

  self->shared = g_new0 (Shared, 1);
  self->shared->ref_count = 1;
  g_mutex_init (&self->shared->mutex);
  g_cond_init (&self->shared->cond);
  self->shared->device = g_strdup (self->device);
  self->shared->policy = self->policy;
  self->shared->budget_ms = 40.0;
  self->shared->main_context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&self->shared->worker, self);
}

HdRenderWorker *
hd_render_worker_new (void)
{
  return g_object_new (HD_TYPE_RENDER_WORKER, NULL);
}

void
hd_render_worker_set_device (HdRenderWorker *self,
                             const char     *device)
{
  g_return_if_fail (HD_IS_RENDER_WORKER (self));

  if (device == NULL || *device == '\0')
    device = "auto";
  if (g_strcmp0 (device, self->device) == 0)
    return;

  g_free (self->device);
  self->device = g_strdup (device);

  g_mutex_lock (&self->shared->mutex);
  g_free (self->shared->device);
  self->shared->device = g_strdup (device);
  self->shared->device_changed = TRUE;
  g_mutex_unlock (&self->shared->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

const char *
hd_render_worker_get_device (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), NULL);

  return self->device;
}

const char *
hd_render_worker_get_device_name (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), NULL);

  return self->device_name;
}

void
hd_render_worker_set_preview_policy (HdRenderWorker  *self,
                                     HdPreviewPolicy  policy)
{
  g_return_if_fail (HD_IS_RENDER_WORKER (self));

  if (policy == self->policy)
    return;

  self->policy = policy;
  g_mutex_lock (&self->shared->mutex);
  self->shared->policy = policy;
  g_mutex_unlock (&self->shared->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PREVIEW_POLICY]);
}

HdPreviewPolicy
hd_render_worker_get_preview_policy (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), HD_PREVIEW_AUTO);

  return self->policy;
}

void
hd_render_worker_set_preview_budget (HdRenderWorker *self,
                                     double          ms)
{
  g_return_if_fail (HD_IS_RENDER_WORKER (self));

  g_mutex_lock (&self->shared->mutex);
  self->shared->budget_ms = ms;
  g_mutex_unlock (&self->shared->mutex);
}

void
hd_render_worker_submit (HdRenderWorker *self,
                         HdRenderJob    *job)
{
  HdRenderJob *dropped;

  g_return_if_fail (HD_IS_RENDER_WORKER (self));
  g_return_if_fail (job != NULL);

  if (self->thread == NULL)
    self->thread = g_thread_new ("hd-render", render_thread, shared_ref (self->shared));

  self->n_submitted++;
  job->submitted_us = g_get_monotonic_time ();

  g_mutex_lock (&self->shared->mutex);
  dropped = g_steal_pointer (&self->shared->pending);
  self->shared->pending = hd_render_job_ref (job);
  g_cond_signal (&self->shared->cond);
  g_mutex_unlock (&self->shared->mutex);

  if (dropped != NULL)
    {
      self->n_dropped++;
      hd_render_job_unref (dropped);
    }
}

guint
hd_render_worker_get_n_submitted (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), 0);

  return self->n_submitted;
}

guint
hd_render_worker_get_n_rendered (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), 0);

  return self->n_rendered;
}

guint
hd_render_worker_get_n_recovered (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), 0);

  return self->n_recovered;
}

guint
hd_render_worker_get_n_abandoned (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), 0);

  return self->n_abandoned;
}

guint
hd_render_worker_get_n_dropped (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), 0);

  return self->n_dropped;
}

gboolean
hd_render_worker_is_busy (HdRenderWorker *self)
{
  g_return_val_if_fail (HD_IS_RENDER_WORKER (self), FALSE);

  return self->n_submitted != self->n_rendered + self->n_dropped + self->n_failed;
}
