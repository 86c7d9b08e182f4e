/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every control a person can reach has a name a screen reader can say:
 * the window with a model and two domains, the preferences, the contact
 * sheet and the blend animation, walked widget by widget.  And the blend
 * pad and the image can be reached with Tab and used from the keyboard. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "hd-animation-dialog.h"
#include "hd-blend-pad.h"
#include "hd-image-view.h"
#include "hd-preferences-window.h"
#include "hd-sheet-dialog.h"
#include "hd-train-dialog.h"

#include "hd-ui-test-util.h"

typedef struct
{
  GHashTable *widgets;    /* "%p" of every widget of the window -> widget */
  guint       n_missing;  /* controls without a name */
  guint       n_checked;
  gboolean    saw_pad;
  gboolean    saw_image;
} Walk;

/* A control: something a person can focus with the keyboard (FOCUSABLE:
 * the widget takes the focus and nothing above it keeps the focus out, as
 * libadwaita does for the display of a combo row's choice) or operate
 * with the pointer.  Not the containers GTK makes focusable only to pass
 * the focus on: a scrolled window (focused only to scroll what has no
 * control of its own) and a list box (the focus goes to its rows, which
 * are checked). */
static gboolean
is_control (GtkWidget *widget,
            gboolean   focusable)
{
  if (GTK_IS_SCROLLED_WINDOW (widget) || GTK_IS_VIEWPORT (widget) || GTK_IS_LIST_BOX (widget))
    return FALSE;
  return focusable ||
         GTK_IS_RANGE (widget) || GTK_IS_SPIN_BUTTON (widget) ||
         GTK_IS_SWITCH (widget) || GTK_IS_CHECK_BUTTON (widget) ||
         GTK_IS_DROP_DOWN (widget) || GTK_IS_MENU_BUTTON (widget) ||
         GTK_IS_BUTTON (widget) || GTK_IS_EDITABLE (widget) ||
         HD_IS_BLEND_PAD (widget) || HD_IS_IMAGE_VIEW (widget);
}

static gboolean
label_has_text (GtkWidget *widget)
{
  const char *text = gtk_label_get_text (GTK_LABEL (widget));

  return text != NULL && *text != '\0';
}

/* A label with text that is shown, anywhere inside WIDGET. */
static gboolean
has_visible_text (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!gtk_widget_get_visible (child))
        continue;
      if ((GTK_IS_LABEL (child) && label_has_text (child)) || has_visible_text (child))
        return TRUE;
    }
  return FALSE;
}

/* The accessible label property, or NULL. */
static char *
get_label_property (GtkWidget *widget)
{
  char *value;

  if (!gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL))
    return NULL;
  /* GTK 4.8 has no getter: the check returns the value when it differs. */
  value = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                              GTK_ACCESSIBLE_PROPERTY_LABEL, "\x01");
  if (value != NULL && *value == '\0')
    g_clear_pointer (&value, g_free);
  return value;
}

/* The labelled-by relation as text: a named widget of the relation has
 * text to give.  GTK prints a reference as "GtkLabel<0x55d0c0a8e2a0>"; a
 * button without a label is labelled by its image, which gives nothing. */
static gboolean
labelled_by_text (GtkWidget *widget,
                  Walk      *w)
{
  g_autofree char *refs = NULL;
  const char *p;

  if (!gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return FALSE;
  refs = gtk_test_accessible_check_relation (GTK_ACCESSIBLE (widget),
                                             GTK_ACCESSIBLE_RELATION_LABELLED_BY, NULL);
  for (p = refs != NULL ? strchr (refs, '<') : NULL; p != NULL; p = strchr (p + 1, '<'))
    {
      const char *close = strchr (p, '>');
      g_autofree char *key = close != NULL ? g_strndup (p + 1, close - p - 1) : NULL;
      GtkWidget *target = key != NULL ? g_hash_table_lookup (w->widgets, key) : NULL;
      g_autofree char *label = NULL;

      if (target == NULL || target == widget)
        continue;
      if (GTK_IS_LABEL (target) ? label_has_text (target) : has_visible_text (target))
        return TRUE;
      label = get_label_property (target);
      if (label != NULL)
        return TRUE;
    }
  return FALSE;
}

/* GTK 4.8 names a button, a check button or a menu button after its
 * label; every control can have a label property or a labelled-by
 * relation to a widget with text. */
static gboolean
has_name (GtkWidget *widget,
          Walk      *w)
{
  g_autofree char *label = get_label_property (widget);

  if (label != NULL || labelled_by_text (widget, w))
    return TRUE;
  if (GTK_IS_BUTTON (widget) || GTK_IS_CHECK_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget))
    return has_visible_text (widget);
  return FALSE;
}

/* "HdWindow > AdwToastOverlay > GtkBox > AdwHeaderBar > GtkButton#id
 * (icon list-add-symbolic, tooltip “…”)": where to look for it. */
static char *
describe (GtkWidget *widget)
{
  GString *text = g_string_new (NULL);
  GPtrArray *chain = g_ptr_array_new ();

  for (GtkWidget *w = widget; w != NULL; w = gtk_widget_get_parent (w))
    g_ptr_array_insert (chain, 0, w);
  for (guint i = 0; i < chain->len; i++)
    {
      GtkWidget *w = g_ptr_array_index (chain, i);
      const char *id = gtk_buildable_get_buildable_id (GTK_BUILDABLE (w));

      if (i > 0)
        g_string_append (text, " > ");
      g_string_append (text, G_OBJECT_TYPE_NAME (w));
      /* Not the names GtkBuilder makes up for objects without an id. */
      if (id != NULL && !g_str_has_prefix (id, "___object_"))
        g_string_append_printf (text, "#%s", id);
    }
  g_ptr_array_unref (chain);

  if (GTK_IS_BUTTON (widget) && gtk_button_get_icon_name (GTK_BUTTON (widget)) != NULL)
    g_string_append_printf (text, " (icon %s)", gtk_button_get_icon_name (GTK_BUTTON (widget)));
  if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (widget)) != NULL)
    g_string_append_printf (text, " (icon %s)", gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (widget)));
  if (gtk_widget_get_tooltip_text (widget) != NULL)
    g_string_append_printf (text, " (tooltip “%s”)", gtk_widget_get_tooltip_text (widget));
  return g_string_free (text, FALSE);
}

static void
collect (GtkWidget  *widget,
         GHashTable *widgets)
{
  g_hash_table_insert (widgets, g_strdup_printf ("%p", (void *) widget), widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, widgets);
}

static void walk (GtkWidget *widget,
                  gboolean   can_focus,
                  Walk      *w);

static void
walk_children (GtkWidget *widget,
               gboolean   can_focus,
               Walk      *w)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    walk (child, can_focus, w);
}

/* Checks WIDGET and what is inside it; CAN_FOCUS: nothing above it keeps
 * the focus out.  Hidden widgets are skipped with all they hold, and so
 * are the pages of a stack that are not shown.  A spin button (or any
 * entry), a drop-down, a menu button and a scale are one control each:
 * their insides (the text and the +/- buttons of a spin button, the
 * toggle button and list popover of a drop-down or a menu button, the
 * trough, slider and value of a scale) are GTK's own parts, named by GTK
 * through the control itself, so only the control is checked.  A scroll
 * bar is GTK's, and it cannot take the focus: the keyboard scrolls through
 * the scrolled window.  The popover of a menu button is ours, though, when
 * it is not built from a menu model (the layer range popover of a
 * domain): it is walked even while closed. */
static void
walk (GtkWidget *widget,
      gboolean   can_focus,
      Walk      *w)
{
  if ((!gtk_widget_get_visible (widget) && !GTK_IS_POPOVER (widget)) ||
      !gtk_widget_get_child_visible (widget) || GTK_IS_SCROLLBAR (widget))
    return;
  can_focus = can_focus && gtk_widget_get_can_focus (widget);

  if (is_control (widget, can_focus && gtk_widget_get_focusable (widget)))
    {
      w->n_checked++;
      w->saw_pad |= HD_IS_BLEND_PAD (widget);
      w->saw_image |= HD_IS_IMAGE_VIEW (widget);
      if (g_test_verbose ())
        {
          g_autofree char *text = describe (widget);
          g_autofree char *label = get_label_property (widget);
          g_autofree char *refs = gtk_test_accessible_check_relation (GTK_ACCESSIBLE (widget),
                                                                      GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                                                      NULL);

          g_test_message ("%s: label “%s”, labelled by %s", text,
                          label != NULL ? label : "", refs != NULL ? refs : "nothing");
        }
      if (!has_name (widget, w))
        {
          g_autofree char *text = describe (widget);

          g_test_message ("no accessible name: %s", text);
          w->n_missing++;
        }
    }

  if (GTK_IS_MENU_BUTTON (widget))
    {
      GtkPopover *popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (widget));

      if (popover != NULL && !GTK_IS_POPOVER_MENU (popover) &&
          gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget)) == NULL)
        walk_children (GTK_WIDGET (popover), can_focus, w);
      return;
    }
  if (GTK_IS_EDITABLE (widget) || GTK_IS_DROP_DOWN (widget) || GTK_IS_SCALE (widget))
    return;
  /* Closed popovers elsewhere (a combo row's list) are GTK's or
   * libadwaita's. */
  if (GTK_IS_POPOVER (widget) && !gtk_widget_get_visible (widget))
    return;

  walk_children (widget, can_focus, w);
}

/* Walks WINDOW; the number of controls without a name. */
static guint
count_unnamed (GtkWidget *window,
               Walk      *w)
{
  w->widgets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  collect (window, w->widgets);
  walk (window, TRUE, w);
  g_hash_table_unref (w->widgets);
  return w->n_missing;
}

/* Walks WINDOW and fails with every control that has no name. */
static void
assert_all_named (GtkWidget  *window,
                  const char *what,
                  Walk       *w)
{
  count_unnamed (window, w);
  g_test_message ("%s: %u controls checked", what, w->n_checked);
  if (w->n_missing > 0)
    g_test_fail_printf ("%s: %u controls without an accessible name (no label property, "
                        "no labelled-by relation, no visible label): see above",
                        what, w->n_missing);
}

/* The check itself: it finds what has no name, and only that. */
static void
test_checker (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *label = gtk_label_new ("Weight");
  GtkWidget *icon_only = gtk_button_new_from_icon_name ("list-add-symbolic");
  GtkWidget *icon_named = gtk_button_new_from_icon_name ("list-add-symbolic");
  GtkWidget *scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.1);
  GtkWidget *scale_labelled = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.1);
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 10, 1);
  GtkWidget *hidden = gtk_switch_new ();
  Walk w = { 0 };

  gtk_widget_set_tooltip_text (icon_only, "A tooltip is a description, not a name");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon_named), GTK_ACCESSIBLE_PROPERTY_LABEL, "Add", -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (scale_labelled), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_widget_set_visible (hidden, FALSE);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), gtk_button_new_with_label ("Open"));
  gtk_box_append (GTK_BOX (box), gtk_check_button_new_with_label ("Loop"));
  gtk_box_append (GTK_BOX (box), icon_only);
  gtk_box_append (GTK_BOX (box), icon_named);
  gtk_box_append (GTK_BOX (box), scale);
  gtk_box_append (GTK_BOX (box), scale_labelled);
  gtk_box_append (GTK_BOX (box), spin);
  gtk_box_append (GTK_BOX (box), hidden);
  gtk_window_set_child (GTK_WINDOW (window), box);

  /* The icon-only button, the scale and the spin button; not the hidden
   * switch, nor the parts inside the scale and the spin button. */
  g_test_message ("Three controls without a name, on purpose:");
  g_assert_cmpuint (count_unnamed (box, &w), ==, 3);
  g_assert_cmpuint (w.n_checked, ==, 7);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_names (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  Walk w = { 0 };

  /* Random noise shows the noise seed too. */
  g_object_set (hd_window_get_session (window), "noise-mode", (guint) HD_NOISE_RANDOM, NULL);
  hd_ui_test_run_for (100);
  assert_all_named (GTK_WIDGET (window), "window", &w);
  g_assert_true (w.saw_pad);
  g_assert_true (w.saw_image);
  hd_ui_test_close_window (window);
}

/* Before a generator is open: the page that asks for one. */
static void
test_empty_window_names (void)
{
  HdWindow *window = hd_ui_test_open_window (NULL);
  Walk w = { 0 };

  assert_all_named (GTK_WIDGET (window), "empty window", &w);
  g_assert_cmpuint (w.n_checked, >, 0);
  hd_ui_test_close_window (window);
}

static void
test_preferences_names (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  GtkWidget *prefs = hd_preferences_window_new (GTK_WINDOW (window));
  Walk w = { 0 };

  gtk_window_present (GTK_WINDOW (prefs));
  hd_ui_test_run_for (100);
  assert_all_named (prefs, "preferences", &w);
  g_assert_cmpuint (w.n_checked, >, 0);
  gtk_window_destroy (GTK_WINDOW (prefs));
  hd_ui_test_close_window (window);
}

static HdSheetDialog *
find_sheet_dialog (void)
{
  return (HdSheetDialog *) hd_ui_test_find_window (HD_TYPE_SHEET_DIALOG);
}

static void
test_sheet_names (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSheetDialog *dialog;
  Walk w = { 0 };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.contact-sheet", NULL));
  dialog = find_sheet_dialog ();
  g_assert_nonnull (dialog);
  /* The weight sweep shows every row. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (hd_ui_test_dialog_part (dialog, "mode_row")), 1);
  hd_ui_test_run_for (100);
  assert_all_named (GTK_WIDGET (dialog), "contact sheet", &w);
  g_assert_cmpuint (w.n_checked, >, 0);
  gtk_window_destroy (GTK_WINDOW (dialog));
  hd_ui_test_close_window (window);
}

static void
test_animation_names (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  GtkWidget *dialog;
  Walk w = { 0 };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.animation", NULL));
  dialog = hd_window_get_animation_dialog (window);
  g_assert_nonnull (dialog);
  /* Two keyframes, each with its remove button. */
  g_assert_true (gtk_widget_activate_action (dialog, "anim.add-key", NULL));
  g_assert_true (gtk_widget_activate_action (dialog, "anim.add-key", NULL));
  g_assert_cmpuint (hd_animation_dialog_get_n_keys (HD_ANIMATION_DIALOG (dialog)), ==, 2);
  hd_ui_test_run_for (100);
  assert_all_named (dialog, "animation", &w);
  g_assert_cmpuint (w.n_checked, >, 0);
  hd_ui_test_close_window (window);
}

/* New Domain from Text, with a CLIP file and its remove button. */
static void
test_train_names (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autofree char *clip = hd_ui_test_conformance_path ("training/clip-train.safetensors");
  const char *clips[] = { clip, NULL };
  GtkWidget *dialog;
  Walk w = { 0 };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-domain", NULL));
  dialog = hd_window_get_train_dialog (window);
  g_assert_nonnull (dialog);
  hd_train_dialog_set_clips (HD_TRAIN_DIALOG (dialog), clips);
  hd_ui_test_run_for (100);
  assert_all_named (dialog, "train", &w);
  g_assert_cmpuint (w.n_checked, >, 0);
  hd_ui_test_close_window (window);
}

static gboolean
is_comparing (gpointer data)
{
  return hd_window_get_comparing (data);
}

static gboolean
is_not_comparing (gpointer data)
{
  return !hd_window_get_comparing (data);
}

/* Presses KEYS (Tab, shift+Tab) until TARGET has the focus; the names of
 * the widgets passed on the way go to TRAIL. */
static gboolean
tab_to (HdWindow   *window,
        GtkWidget  *target,
        const char *keys,
        GString    *trail)
{
  for (guint i = 0; i < 80; i++)
    {
      GtkWidget *focus;

      hd_ui_test_key (keys);
      focus = gtk_root_get_focus (GTK_ROOT (window));
      if (focus == target)
        return TRUE;
      g_string_append_printf (trail, " %s", focus != NULL ? G_OBJECT_TYPE_NAME (focus) : "(none)");
    }
  return FALSE;
}

/* With the keyboard alone, under the X server: Tab reaches the blend pad
 * and the image; on the pad the arrows, Home and 1-9 set the weights and
 * leave the seed alone; on the image at 1:1 the arrows pan (the seed
 * stays), at fit they step the seed, and O held shows the original. */
static void
test_keyboard (void)
{
  HdWindow *window;
  HdSession *session;
  GtkWidget *pad, *image;
  GtkRange *scale_a, *scale_b;
  g_autoptr(GString) trail = g_string_new (NULL);
  guint seed;

  if (!hd_ui_test_pointer_available ())
    {
      g_test_skip ("xdotool or an X11 display is missing");
      return;
    }
  window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  session = hd_window_get_session (window);
  pad = GTK_WIDGET (hd_window_get_blend_pad (window));
  image = GTK_WIDGET (hd_window_get_image_view (window));
  scale_a = hd_window_get_domain_scale (window, 0);
  scale_b = hd_window_get_domain_scale (window, 1);
  /* The keys go to the window under the pointer's X focus. */
  hd_ui_test_pointer_move (image, 20, 20);

  /* The blend pad. */
  if (!tab_to (window, pad, "Tab", trail))
    g_error ("Tab never reached the blend pad; it went through%s", trail->str);
  g_test_message ("Tab to the blend pad:%s", trail->str);
  seed = hd_session_get_seed (session);
  hd_ui_test_key ("Home");
  g_assert_cmpfloat (gtk_range_get_value (scale_a), ==, 0.0);
  g_assert_cmpfloat (gtk_range_get_value (scale_b), ==, 0.0);
  hd_ui_test_key ("Right");
  hd_ui_test_key ("shift+Down");
  g_assert_cmpfloat (gtk_range_get_value (scale_a) + gtk_range_get_value (scale_b), >, 0.0);
  g_assert_cmpuint (hd_session_get_seed (session), ==, seed);
  hd_ui_test_key ("2");
  g_assert_cmpfloat (gtk_range_get_value (scale_b), >, gtk_range_get_value (scale_a));
  g_assert_cmpuint (hd_session_get_seed (session), ==, seed);
  g_assert_true (gtk_widget_has_visible_focus (pad));

  /* The image. */
  g_string_truncate (trail, 0);
  if (!tab_to (window, image, "shift+Tab", trail))
    g_error ("Shift+Tab never reached the image; it went through%s", trail->str);
  g_test_message ("Shift+Tab to the image:%s", trail->str);
  hd_ui_test_key ("ctrl+1");
  g_assert_true (hd_image_view_get_zoom_original (HD_IMAGE_VIEW (image)));
  hd_ui_test_key ("Right");
  hd_ui_test_key ("Down");
  g_assert_cmpuint (hd_session_get_seed (session), ==, seed);
  hd_ui_test_key ("ctrl+0");
  g_assert_false (hd_image_view_get_zoom_original (HD_IMAGE_VIEW (image)));
  hd_ui_test_key ("Right");
  g_assert_cmpuint (hd_session_get_seed (session), ==, seed + 1);
  g_assert_true (gtk_root_get_focus (GTK_ROOT (window)) == image);
  hd_ui_test_key_hold ("o", TRUE);
  hd_ui_test_wait_until (is_comparing, window, 10000, "the original generator");
  hd_ui_test_key_hold ("o", FALSE);
  hd_ui_test_wait_until (is_not_comparing, window, 10000, "the end of the comparison");

  hd_ui_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  /* The session file goes to a folder of this test, never the user's. */
  g_autofree char *state_home = hd_ui_test_private_state_home ();
  int status;

  /* GTK keeps the accessible properties and relations only with an
   * accessibility backend; with GTK_A11Y=none there is none, and "test"
   * is GTK's own, which needs no accessibility bus. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Accessibility/checker", test_checker);
  g_test_add_func ("/Hyperdomain/Accessibility/empty-window", test_empty_window_names);
  g_test_add_func ("/Hyperdomain/Accessibility/window", test_window_names);
  g_test_add_func ("/Hyperdomain/Accessibility/preferences", test_preferences_names);
  g_test_add_func ("/Hyperdomain/Accessibility/contact-sheet", test_sheet_names);
  g_test_add_func ("/Hyperdomain/Accessibility/animation", test_animation_names);
  g_test_add_func ("/Hyperdomain/Accessibility/train", test_train_names);
  g_test_add_func ("/Hyperdomain/Accessibility/keyboard", test_keyboard);

  status = g_test_run ();
  hd_ui_test_remove_state_home (state_home);
  return status;
}
