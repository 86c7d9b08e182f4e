/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-LatentPanel"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "hd-latent-panel.h"
#include "hd-slider.h"

struct _HdLatentPanel
{
  GtkWidget      parent_instance;

  AdwActionRow  *seed_row;
  GtkAdjustment *seed_adjustment;
  GtkScale      *psi_scale;
  GtkAdjustment *psi_adjustment;
  GtkAdjustment *cutoff_adjustment;
  AdwComboRow   *noise_row;
  AdwActionRow  *noise_seed_row;
  GtkAdjustment *noise_seed_adjustment;
  GtkAdjustment *mix_seed_adjustment;
  GtkScale      *mix_scale;
  GtkAdjustment *mix_adjustment;
  AdwActionRow  *latent_row;
  GtkButton     *clear_latent_button;
  GtkWidget     *seed_spin;
  GtkWidget     *cutoff_spin;
  GtkWidget     *noise_seed_spin;
  GtkWidget     *mix_seed_spin;

  HdSession     *session;
  GBindingGroup *bindings;
  gboolean       sliders_ready;
};

G_DEFINE_FINAL_TYPE (HdLatentPanel, hd_latent_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The session says -1 for "every layer"; the spin button shows num_ws. */
static gboolean
cutoff_to_spin (GBinding     *binding,
                const GValue *from,
                GValue       *to,
                gpointer      user_data)
{
  HdLatentPanel *self = user_data;
  int cutoff = g_value_get_int (from);
  int num_ws = 18;

  if (self->session != NULL)
    g_object_get (self->session, "num-ws", &num_ws, NULL);
  g_value_set_double (to, cutoff < 0 ? num_ws : MIN (cutoff, num_ws));
  return TRUE;
}

static gboolean
spin_to_cutoff (GBinding     *binding,
                const GValue *from,
                GValue       *to,
                gpointer      user_data)
{
  HdLatentPanel *self = user_data;
  int value = (int) g_value_get_double (from);
  int num_ws = 18;

  if (self->session != NULL)
    g_object_get (self->session, "num-ws", &num_ws, NULL);
  g_value_set_int (to, value >= num_ws ? -1 : value);
  return TRUE;
}

static gboolean
noise_mode_to_sensitive (GBinding     *binding,
                         const GValue *from,
                         GValue       *to,
                         gpointer      user_data)
{
  g_value_set_boolean (to, g_value_get_uint (from) == HD_NOISE_RANDOM);
  return TRUE;
}

static gboolean
latent_name_to_subtitle (GBinding     *binding,
                         const GValue *from,
                         GValue       *to,
                         gpointer      user_data)
{
  const char *name = g_value_get_string (from);

  if (name != NULL)
    g_value_set_string (to, name);
  else
    g_value_set_string (to, _("None: the seed is used"));
  return TRUE;
}

/* A new generator changes the range; the value follows. */
static void
on_num_ws_changed (HdLatentPanel *self,
                   GParamSpec    *pspec,
                   HdSession     *session)
{
  int cutoff = -1, num_ws = 18;

  g_object_get (session, "cutoff", &cutoff, "num-ws", &num_ws, NULL);
  gtk_adjustment_set_upper (self->cutoff_adjustment, num_ws);
  gtk_adjustment_set_value (self->cutoff_adjustment, cutoff < 0 ? num_ws : MIN (cutoff, num_ws));
}

static void
hd_latent_panel_dispose (GObject *object)
{
  HdLatentPanel *self = (HdLatentPanel *)object;

  if (self->bindings != NULL)
    g_binding_group_set_source (self->bindings, NULL);
  g_clear_object (&self->bindings);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_LATENT_PANEL);
  {
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }

  G_OBJECT_CLASS (hd_latent_panel_parent_class)->dispose (object);
}

static void
hd_latent_panel_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  HdLatentPanel *self = HD_LATENT_PANEL (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_latent_panel_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  HdLatentPanel *self = HD_LATENT_PANEL (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      hd_latent_panel_set_session (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_latent_panel_class_init (HdLatentPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_latent_panel_dispose;
  object_class->get_property = hd_latent_panel_get_property;
  object_class->set_property = hd_latent_panel_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, HD_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-latent-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, seed_row);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, psi_scale);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, psi_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, cutoff_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, noise_row);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, noise_seed_row);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, noise_seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, mix_seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, mix_scale);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, mix_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, latent_row);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, clear_latent_button);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, cutoff_spin);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, noise_seed_spin);
  gtk_widget_class_bind_template_child (widget_class, HdLatentPanel, mix_seed_spin);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hd_latent_panel_init (HdLatentPanel *self)
{
  GBindingGroup *b;

  gtk_widget_init_template (GTK_WIDGET (self));
  hd_widget_pass_wheel (self->seed_spin);
  hd_widget_pass_wheel (self->cutoff_spin);
  hd_widget_pass_wheel (self->noise_seed_spin);
  hd_widget_pass_wheel (self->mix_seed_spin);

  self->bindings = b = g_binding_group_new ();
  /* Order matters: the spin button's range must be set before its value. */
  g_binding_group_bind (b, "num-ws", self->cutoff_adjustment, "upper", G_BINDING_SYNC_CREATE);
  /* (notify::num-ws also resets the value, see on_num_ws_changed) */
  g_binding_group_bind_full (b, "cutoff", self->cutoff_adjustment, "value",
                             G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                             cutoff_to_spin, spin_to_cutoff, self, NULL);
  g_binding_group_bind (b, "seed", self->seed_adjustment, "value",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind (b, "psi", self->psi_adjustment, "value",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind (b, "noise-mode", self->noise_row, "selected",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind_full (b, "noise-mode", self->noise_seed_row, "visible",
                             G_BINDING_SYNC_CREATE,
                             noise_mode_to_sensitive, NULL, NULL, NULL);
  g_binding_group_bind (b, "noise-seed", self->noise_seed_adjustment, "value",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind (b, "mix-seed", self->mix_seed_adjustment, "value",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind (b, "mix", self->mix_adjustment, "value",
                        G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_binding_group_bind (b, "has-latent-file", self->seed_row, "sensitive",
                        G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  g_binding_group_bind (b, "has-latent-file", self->clear_latent_button, "visible",
                        G_BINDING_SYNC_CREATE);
  g_binding_group_bind_full (b, "latent-name", self->latent_row, "subtitle",
                             G_BINDING_SYNC_CREATE,
                             latent_name_to_subtitle, NULL, NULL, NULL);
}

GtkWidget *
hd_latent_panel_new (void)
{
  return g_object_new (HD_TYPE_LATENT_PANEL, NULL);
}

void
hd_latent_panel_set_session (HdLatentPanel *self,
                             HdSession     *session)
{
  g_return_if_fail (HD_IS_LATENT_PANEL (self));
  g_return_if_fail (session == NULL || HD_IS_SESSION (session));

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_func (self->session, on_num_ws_changed, self);
  if (!g_set_object (&self->session, session))
    return;

  g_binding_group_set_source (self->bindings, session);
  if (session != NULL)
    g_signal_connect_object (session, "notify::num-ws", G_CALLBACK (on_num_ws_changed), self, G_CONNECT_SWAPPED);
  if (session != NULL && !self->sliders_ready)
    {
      self->sliders_ready = TRUE;
      hd_slider_setup (GTK_RANGE (self->psi_scale), session, 1.0);
      hd_slider_setup (GTK_RANGE (self->mix_scale), session, 0.0);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

HdSession *
hd_latent_panel_get_session (HdLatentPanel *self)
{
  g_return_val_if_fail (HD_IS_LATENT_PANEL (self), NULL);

  return self->session;
}

GtkRange *
hd_latent_panel_get_psi_scale (HdLatentPanel *self)
{
  g_return_val_if_fail (HD_IS_LATENT_PANEL (self), NULL);

  return GTK_RANGE (self->psi_scale);
}

GtkRange *
hd_latent_panel_get_mix_scale (HdLatentPanel *self)
{
  g_return_val_if_fail (HD_IS_LATENT_PANEL (self), NULL);

  return GTK_RANGE (self->mix_scale);
}
