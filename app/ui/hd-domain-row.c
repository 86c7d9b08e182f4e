/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-DomainRow"

#include "config.h"

#include <glib/gi18n.h>

#include "hd-domain-row.h"
#include "hd-dialogs.h"
#include "hd-slider.h"

struct _HdDomainRow
{
  GtkListBoxRow    parent_instance;

  GtkLabel        *name_label;
  GtkToggleButton *mute_button;
  GtkToggleButton *solo_button;
  GtkButton       *remove_button;
  GtkButton       *save_button;     /* text rows only */
  GtkScale        *weight_scale;
  GtkMenuButton   *range_button;
  GtkPopover      *range_popover;
  GtkCheckButton  *coarse_check;
  GtkCheckButton  *middle_check;
  GtkCheckButton  *fine_check;
  GtkDropDown     *from_dropdown;
  GtkDropDown     *to_dropdown;

  HdDomainItem    *item;
  GWeakRef         session;
  int              img_res;      /* of the generator; block sizes 4..img_res */
  gboolean         syncing;
};

/* The layer groups of the range popover (generator-math §7). */
#define COARSE_MIN 4
#define COARSE_MAX 8
#define MIDDLE_MIN 16
#define MIDDLE_MAX 32
#define FINE_MIN   64

G_DEFINE_FINAL_TYPE (HdDomainRow, hd_domain_row, GTK_TYPE_LIST_BOX_ROW)

static void
hd_domain_row_remove (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  HdDomainRow *self = HD_DOMAIN_ROW (widget);
  g_autoptr(HdSession) session = g_weak_ref_get (&self->session);

  if (session != NULL)
    hd_session_remove_domain (session, self->item);
}

static void
on_save_response (GtkNativeDialog *chooser,
                  int              response,
                  gpointer         user_data)
{
  g_autoptr(HdDomain) domain = user_data;
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))) != NULL &&
      (path = g_file_get_path (file)) != NULL &&
      !hd_domain_save (domain, NULL, path, &error))
    {
      GtkWindow *parent = gtk_native_dialog_get_transient_for (chooser);
      GtkWidget *dialog = adw_message_dialog_new (parent, _("Could Not Save the Domain"), error->message);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
    }
  g_object_unref (chooser);
}

/* A text row's domain, as a domain file that any window or
 * hyperdomain-render --domain opens. */
static void
hd_domain_row_save (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  HdDomainRow *self = HD_DOMAIN_ROW (widget);
  HdDomain *domain = hd_domain_item_get_domain (self->item);
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;

  chooser = hd_file_chooser_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Save Domain"),
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL);
  hd_file_chooser_add_filter (chooser, _("Domain Files (.safetensors)"), "*.safetensors");
  name = g_strdup_printf ("%s.safetensors", domain->prompt[0] != '\0' ? domain->prompt : "domain");
  g_strdelimit (name, "/\\", '-');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_response), hd_domain_ref (domain));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The range as block sizes LO..HI, both within 4..img_res. */
static void
hd_domain_row_get_bounds (HdDomainRow *self,
                          int         *lo,
                          int         *hi)
{
  int min_res = hd_domain_item_get_min_res (self->item);
  int max_res = hd_domain_item_get_max_res (self->item);

  *lo = min_res <= 4 ? 4 : min_res;
  *hi = max_res == 0 || max_res >= self->img_res ? self->img_res : max_res;
}

/* Sets LO..HI, stored with 0 for an open end so that a range that covers
 * every block reads 0..0 (every layer). */
static void
hd_domain_row_set_bounds (HdDomainRow *self,
                          int          lo,
                          int          hi)
{
  hd_domain_item_set_range (self->item,
                            lo <= 4 ? 0 : lo,
                            hi >= self->img_res ? 0 : hi);
}

static int
block_res_at (guint position)
{
  return 4 << position;
}

static guint
block_position (int res)
{
  guint position = 0;

  while (block_res_at (position) < res)
    position++;
  return position;
}

static char *
range_text (int lo,
            int hi,
            int img_res)
{
  if (lo <= 4 && hi >= img_res)
    return g_strdup (_("All layers"));
  if (hi >= img_res)
    return g_strdup_printf (_("%d and up"), lo);
  return g_strdup_printf (_("%d–%d"), lo, hi);
}

static void
hd_domain_row_sync_range (HdDomainRow *self)
{
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;
  int lo, hi;

  hd_domain_row_get_bounds (self, &lo, &hi);
  text = range_text (lo, hi, self->img_res);
  tooltip = g_strdup_printf (_("Layers the domain acts on: %s"), text);

  self->syncing = TRUE;
  gtk_menu_button_set_label (self->range_button, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->range_button), tooltip);
  gtk_check_button_set_active (self->coarse_check, lo <= COARSE_MIN && hi >= COARSE_MAX);
  gtk_check_button_set_active (self->middle_check,
                               lo <= MIDDLE_MIN && hi >= MIN (MIDDLE_MAX, self->img_res) &&
                               self->img_res >= MIDDLE_MIN);
  gtk_check_button_set_active (self->fine_check, lo <= FINE_MIN && hi >= self->img_res &&
                                                 self->img_res >= FINE_MIN);
  gtk_widget_set_sensitive (GTK_WIDGET (self->middle_check), self->img_res >= MIDDLE_MIN);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fine_check), self->img_res >= FINE_MIN);
  gtk_drop_down_set_selected (self->from_dropdown, block_position (lo));
  gtk_drop_down_set_selected (self->to_dropdown, block_position (hi));
  self->syncing = FALSE;
}

static void
on_range_notify (HdDomainRow *self)
{
  hd_domain_row_sync_range (self);
}

/* The checked groups, from the coarsest to the finest, give the range;
 * a range is contiguous, so coarse and fine together take middle too. */
static void
on_group_toggled (HdDomainRow *self)
{
  gboolean groups[3];
  int mins[3] = { COARSE_MIN, MIDDLE_MIN, FINE_MIN };
  int maxs[3] = { COARSE_MAX, MIDDLE_MAX, G_MAXINT };
  int lo = 0, hi = 0;

  if (self->syncing)
    return;

  groups[0] = gtk_check_button_get_active (self->coarse_check);
  groups[1] = gtk_check_button_get_active (self->middle_check);
  groups[2] = gtk_check_button_get_active (self->fine_check);
  for (int g = 0; g < 3; g++)
    if (groups[g])
      {
        if (lo == 0)
          lo = mins[g];
        hi = maxs[g];
      }

  if (lo == 0)
    {
      /* Nothing checked: the domain acts nowhere is no useful range;
       * go back to what the row shows. */
      hd_domain_row_sync_range (self);
      return;
    }
  hd_domain_row_set_bounds (self, lo, MIN (hi, self->img_res));
  /* The item may not have changed (a group beyond this generator). */
  hd_domain_row_sync_range (self);
}

static void
on_dropdown_selected (HdDomainRow *self,
                      GParamSpec  *pspec,
                      GtkDropDown *dropdown)
{
  int lo, hi;

  if (self->syncing)
    return;

  lo = block_res_at (gtk_drop_down_get_selected (self->from_dropdown));
  hi = block_res_at (gtk_drop_down_get_selected (self->to_dropdown));
  if (lo > hi)
    {
      /* Keep the end just chosen; move the other. */
      if (dropdown == self->from_dropdown)
        hi = lo;
      else
        lo = hi;
    }
  hd_domain_row_set_bounds (self, lo, hi);
  hd_domain_row_sync_range (self);
}

static void
hd_domain_row_all_layers (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  HdDomainRow *self = HD_DOMAIN_ROW (widget);

  hd_domain_item_set_range (self->item, 0, 0);
  gtk_popover_popdown (self->range_popover);
}

static void
hd_domain_row_dispose (GObject *object)
{
  HdDomainRow *self = (HdDomainRow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), HD_TYPE_DOMAIN_ROW);
  g_clear_object (&self->item);

  G_OBJECT_CLASS (hd_domain_row_parent_class)->dispose (object);
}

static void
hd_domain_row_finalize (GObject *object)
{
  HdDomainRow *self = (HdDomainRow *)object;

  g_weak_ref_clear (&self->session);

  G_OBJECT_CLASS (hd_domain_row_parent_class)->finalize (object);
}

static void
hd_domain_row_class_init (HdDomainRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hd_domain_row_dispose;
  object_class->finalize = hd_domain_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hyperdomain/Hyperdomain/hd-domain-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, mute_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, solo_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, remove_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, save_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, weight_scale);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, range_button);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, range_popover);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, coarse_check);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, middle_check);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, fine_check);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, from_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HdDomainRow, to_dropdown);

  gtk_widget_class_install_action (widget_class, "row.remove", NULL, hd_domain_row_remove);
  gtk_widget_class_install_action (widget_class, "row.save", NULL, hd_domain_row_save);
  gtk_widget_class_install_action (widget_class, "row.all-layers", NULL, hd_domain_row_all_layers);
}

static void
hd_domain_row_init (HdDomainRow *self)
{
  g_weak_ref_init (&self->session, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* Sets WIDGET's accessible name to LABEL, and frees LABEL. */
static void
set_accessible_label (gpointer  widget,
                      char     *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  g_free (label);
}

/* Names for a screen reader that say which domain a control is for: in a
 * list of domains, "Mute" alone does not say which. */
static void
hd_domain_row_name_controls (HdDomainRow *self,
                             const char  *name)
{
  /* TRANSLATORS: accessible names of a domain's controls, read by a
   * screen reader; %s is the domain's name */
  set_accessible_label (self->weight_scale, g_strdup_printf (_("Weight of %s"), name));
  set_accessible_label (self->range_button, g_strdup_printf (_("Layers of %s"), name));
  set_accessible_label (self->mute_button, g_strdup_printf (_("Mute %s"), name));
  set_accessible_label (self->solo_button, g_strdup_printf (_("Solo %s"), name));
  set_accessible_label (self->remove_button, g_strdup_printf (_("Remove %s"), name));
  set_accessible_label (self->save_button, g_strdup_printf (_("Save %s as a domain file"), name));
}

static void
hd_domain_row_show_name (HdDomainRow *self)
{
  HdDomain *domain = hd_domain_item_get_domain (self->item);

  gtk_label_set_label (self->name_label, hd_domain_item_get_name (self->item));
  if (domain->prompt != NULL)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), domain->hypernetwork_name);
  else if (domain->description != NULL && *domain->description != '\0')
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), domain->description);
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), domain->path);
  hd_domain_row_name_controls (self, hd_domain_item_get_name (self->item));
  gtk_widget_set_visible (GTK_WIDGET (self->save_button), domain->prompt != NULL);
}

GtkWidget *
hd_domain_row_new (HdDomainItem *item,
                   HdSession    *session)
{
  HdDomainRow *self;

  g_return_val_if_fail (HD_IS_DOMAIN_ITEM (item), NULL);
  g_return_val_if_fail (HD_IS_SESSION (session), NULL);

  self = g_object_new (HD_TYPE_DOMAIN_ROW, NULL);
  self->item = g_object_ref (item);
  g_weak_ref_set (&self->session, session);

  hd_domain_row_show_name (self);
  /* A text row's prompt may change under it. */
  g_signal_connect_object (item, "notify::name", G_CALLBACK (hd_domain_row_show_name), self,
                           G_CONNECT_SWAPPED);

  g_object_bind_property (item, "weight",
                          gtk_range_get_adjustment (GTK_RANGE (self->weight_scale)), "value",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (item, "muted", self->mute_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (item, "solo", self->solo_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  hd_slider_setup (GTK_RANGE (self->weight_scale), session, 0.0);

  /* Block sizes 4, 8, ... up to the generator's image size. */
  {
    HdGenerator *gen = hd_session_get_generator (session);
    g_autoptr(GtkStringList) sizes = gtk_string_list_new (NULL);

    self->img_res = gen != NULL ? gen->config.img_resolution : 1024;
    for (guint i = 0; block_res_at (i) <= self->img_res; i++)
      {
        g_autofree char *label = g_strdup_printf (_("%d px"), block_res_at (i));
        gtk_string_list_append (sizes, label);
      }
    gtk_drop_down_set_model (self->from_dropdown, G_LIST_MODEL (sizes));
    gtk_drop_down_set_model (self->to_dropdown, G_LIST_MODEL (sizes));
  }
  hd_domain_row_sync_range (self);

  g_signal_connect_object (item, "notify::min-res", G_CALLBACK (on_range_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (item, "notify::max-res", G_CALLBACK (on_range_notify), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->coarse_check, "toggled", G_CALLBACK (on_group_toggled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->middle_check, "toggled", G_CALLBACK (on_group_toggled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->fine_check, "toggled", G_CALLBACK (on_group_toggled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->from_dropdown, "notify::selected", G_CALLBACK (on_dropdown_selected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->to_dropdown, "notify::selected", G_CALLBACK (on_dropdown_selected), self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (self);
}

HdDomainItem *
hd_domain_row_get_item (HdDomainRow *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);

  return self->item;
}

GtkCheckButton *
hd_domain_row_get_group_check (HdDomainRow *self,
                               guint        group)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);
  g_return_val_if_fail (group < 3, NULL);

  return group == 0 ? self->coarse_check : group == 1 ? self->middle_check : self->fine_check;
}

GtkMenuButton *
hd_domain_row_get_range_button (HdDomainRow *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);

  return self->range_button;
}

GtkRange *
hd_domain_row_get_scale (HdDomainRow *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_ROW (self), NULL);

  return GTK_RANGE (self->weight_scale);
}
