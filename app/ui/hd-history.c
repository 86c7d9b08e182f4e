/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-History"

#include "config.h"

#include "hd-history.h"

/* Steps kept; the oldest go first. */
#define MAX_STEPS 500

struct _HdHistory
{
  GObject            parent_instance;

  GWeakRef           session;
  HdSessionSnapshot *current;   /* the state as last recorded */
  GQueue             undo;      /* HdSessionSnapshot*, newest at the head */
  GQueue             redo;
  guint              idle_id;
  gboolean           restoring;
};

G_DEFINE_FINAL_TYPE (HdHistory, hd_history, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
clear_queue (GQueue *queue)
{
  g_queue_clear_full (queue, (GDestroyNotify) hd_session_snapshot_free);
}

static void
hd_history_notify_state (HdHistory *self,
                         gboolean   could_undo,
                         gboolean   could_redo)
{
  if (could_undo != hd_history_can_undo (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  if (could_redo != hd_history_can_redo (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

/* Compares the session with the last recorded state and makes a step of
 * the difference. */
static void
hd_history_record (HdHistory *self)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  gboolean could_undo = hd_history_can_undo (self);
  gboolean could_redo = hd_history_can_redo (self);
  HdSessionSnapshot *snap;

  g_clear_handle_id (&self->idle_id, g_source_remove);
  if (session == NULL || hd_session_get_interactive (session))
    return;

  snap = hd_session_snapshot (session);
  if (self->current != NULL && hd_session_snapshot_equal (snap, self->current))
    {
      hd_session_snapshot_free (snap);
      return;
    }

  if (self->current == NULL ||
      hd_session_snapshot_get_generator (snap) != hd_session_snapshot_get_generator (self->current))
    {
      /* Another generator: a new history. */
      clear_queue (&self->undo);
      clear_queue (&self->redo);
      hd_session_snapshot_free (self->current);
      self->current = snap;
    }
  else
    {
      g_queue_push_head (&self->undo, self->current);
      self->current = snap;
      while (self->undo.length > MAX_STEPS)
        hd_session_snapshot_free (g_queue_pop_tail (&self->undo));
      clear_queue (&self->redo);
    }

  hd_history_notify_state (self, could_undo, could_redo);
}

static gboolean
on_idle (gpointer data)
{
  HdHistory *self = data;

  self->idle_id = 0;
  hd_history_record (self);
  return G_SOURCE_REMOVE;
}

static void
hd_history_schedule (HdHistory *self)
{
  if (self->idle_id == 0)
    self->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, on_idle, self, NULL);
}

static void
on_session_changed (HdHistory *self,
                    HdSession *session)
{
  if (self->restoring || hd_session_get_interactive (session))
    return;
  hd_history_schedule (self);
}

static void
on_session_interactive (HdHistory  *self,
                        GParamSpec *pspec,
                        HdSession  *session)
{
  if (!hd_session_get_interactive (session) && !self->restoring)
    hd_history_schedule (self);
}

static void
hd_history_dispose (GObject *object)
{
  HdHistory *self = (HdHistory *)object;

  g_clear_handle_id (&self->idle_id, g_source_remove);
  clear_queue (&self->undo);
  clear_queue (&self->redo);
  g_clear_pointer (&self->current, hd_session_snapshot_free);

  G_OBJECT_CLASS (hd_history_parent_class)->dispose (object);
}

static void
hd_history_finalize (GObject *object)
{
  HdHistory *self = (HdHistory *)object;

  g_weak_ref_clear (&self->session);

  G_OBJECT_CLASS (hd_history_parent_class)->finalize (object);
}

static void
hd_history_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  HdHistory *self = HD_HISTORY (object);

  switch (prop_id)
    {
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, hd_history_can_undo (self));
      break;

    case PROP_CAN_REDO:
      g_value_set_boolean (value, hd_history_can_redo (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_history_class_init (HdHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hd_history_dispose;
  object_class->finalize = hd_history_finalize;
  object_class->get_property = hd_history_get_property;

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hd_history_init (HdHistory *self)
{
  g_weak_ref_init (&self->session, NULL);
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);
}

HdHistory *
hd_history_new (HdSession *session)
{
  HdHistory *self;

  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_HISTORY, NULL);
  g_weak_ref_set (&self->session, session);
  self->current = hd_session_snapshot (session);
  g_signal_connect_object (session, "changed", G_CALLBACK (on_session_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::interactive", G_CALLBACK (on_session_interactive), self, G_CONNECT_SWAPPED);

  return self;
}

gboolean
hd_history_can_undo (HdHistory *self)
{
  g_return_val_if_fail (HD_IS_HISTORY (self), FALSE);

  return self->undo.length > 0;
}

gboolean
hd_history_can_redo (HdHistory *self)
{
  g_return_val_if_fail (HD_IS_HISTORY (self), FALSE);

  return self->redo.length > 0;
}

guint
hd_history_get_n_undo (HdHistory *self)
{
  g_return_val_if_fail (HD_IS_HISTORY (self), 0);

  return self->undo.length;
}

void
hd_history_flush (HdHistory *self)
{
  g_return_if_fail (HD_IS_HISTORY (self));

  if (self->idle_id != 0)
    hd_history_record (self);
}

/* Moves from the state on top of FROM to it, keeping the current one on TO. */
static gboolean
hd_history_step (HdHistory *self,
                 GQueue    *from,
                 GQueue    *to)
{
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);
  gboolean could_undo, could_redo;
  HdSessionSnapshot *target;

  if (session == NULL || hd_session_get_interactive (session))
    return FALSE;

  hd_history_flush (self);
  could_undo = hd_history_can_undo (self);
  could_redo = hd_history_can_redo (self);
  if (from->length == 0)
    return FALSE;

  target = g_queue_pop_head (from);
  self->restoring = TRUE;
  if (!hd_session_restore_snapshot (session, target))
    {
      self->restoring = FALSE;
      hd_session_snapshot_free (target);
      return FALSE;
    }
  self->restoring = FALSE;

  g_queue_push_head (to, self->current);
  self->current = target;

  hd_history_notify_state (self, could_undo, could_redo);
  return TRUE;
}

gboolean
hd_history_undo (HdHistory *self)
{
  g_return_val_if_fail (HD_IS_HISTORY (self), FALSE);

  return hd_history_step (self, &self->undo, &self->redo);
}

gboolean
hd_history_redo (HdHistory *self)
{
  g_return_val_if_fail (HD_IS_HISTORY (self), FALSE);

  return hd_history_step (self, &self->redo, &self->undo);
}
