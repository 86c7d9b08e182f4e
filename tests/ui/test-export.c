/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exports from the window: the export scale and its filter (the menu of
 * the export button), the seed-range dialog with its progress and Cancel,
 * and where the toast and the dialogs' status line sit. */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd-domain-item.h"
#include "hd-png.h"
#include "hd-seeds-dialog.h"
#include "hd-state.h"

#include "hd-ui-test-util.h"

/* The tiny generator's images are 32x32. */
#define RES 32

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static guint8 *
png_pixels (const char *path,
            int        *width,
            int        *height)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);

  g_assert_no_error (error);
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  return hd_ui_test_texture_rgb (texture);
}

static HdState *
png_state (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = hd_png_read_metadata (path, &error);
  HdState *state;

  g_assert_no_error (error);
  state = hd_state_from_json (json, &error);
  g_assert_no_error (error);
  return state;
}

/* BIG (RES*SCALE square) is SMALL (RES square) with every pixel repeated. */
static void
assert_pixel_repeated (const guint8 *small,
                       const guint8 *big,
                       int           scale)
{
  int size = RES * scale;

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      g_assert_cmpmem (big + ((gsize) y * size + x) * 3, 3,
                       small + ((gsize) (y / scale) * RES + x / scale) * 3, 3);
}

/* Exports the window's image to DIR/NAME and waits for the file. */
static char *
export_to (HdWindow   *window,
           const char *dir,
           const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  hd_window_export_to_path (window, path);
  hd_ui_test_wait_until (file_exists, path, 30000, name);
  hd_ui_test_run_for (50);
  return path;
}


static GtkWidget *
find_widget (GtkWidget  *root,
             GType       type,
             const char *action_name)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type) &&
      (action_name == NULL ||
       (GTK_IS_ACTIONABLE (root) &&
        g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type, action_name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static graphene_rect_t
bounds_in (GtkWidget *widget,
           GtkWidget *target)
{
  graphene_rect_t r;

  g_assert_true (gtk_widget_compute_bounds (widget, target, &r));
  return r;
}

/* 1x, 2x and 4x nearest exports: the 2x and 4x images are the 1x image
 * with every pixel repeated, all three carry the same state, and the
 * larger ones name their scale; reopening the 4x file renders the 1x
 * image.  Lanczos gives what the engine's filter gives.  The scale and
 * filter are the window's actions, remembered in the settings, and the
 * export button's menu shows the sizes. */
static void
test_export_scale (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;
  g_autofree char *four = NULL;
  g_autofree char *smooth = NULL;
  g_autofree guint8 *p1 = NULL;
  g_autofree guint8 *p2 = NULL;
  g_autofree guint8 *p4 = NULL;
  g_autofree guint8 *ps = NULL;
  g_autofree char *json1 = NULL;
  g_autofree char *info = NULL;
  int w, h;

  g_assert_no_error (error);
  hd_session_set_seed (session, 11);
  hd_session_set_psi (session, 0.8);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), 0.5);
  hd_ui_test_wait_for_current (window, 30000);

  g_assert_cmpint (g_settings_get_int (settings, "export-scale"), ==, 1);
  one = export_to (window, dir, "one.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-scale", "i", 2));
  g_assert_cmpint (g_settings_get_int (settings, "export-scale"), ==, 2);
  two = export_to (window, dir, "two.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-scale", "i", 4));
  four = export_to (window, dir, "four.png");

  p1 = png_pixels (one, &w, &h);
  g_assert_cmpint (w, ==, RES);
  p2 = png_pixels (two, &w, &h);
  g_assert_cmpint (w, ==, 2 * RES);
  g_assert_cmpint (h, ==, 2 * RES);
  p4 = png_pixels (four, &w, &h);
  g_assert_cmpint (w, ==, 4 * RES);
  assert_pixel_repeated (p1, p2, 2);
  assert_pixel_repeated (p1, p4, 4);

  /* The same state in all three; the scale in its own chunk. */
  json1 = hd_png_read_metadata (one, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *json = hd_png_read_metadata (i == 0 ? two : four, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (json, ==, json1);
    }
  info = hd_png_read_text (one, HD_PNG_EXPORT_KEYWORD, NULL);
  g_assert_null (info);
  info = hd_png_read_text (four, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info, ==, "{\"scale\":4,\"filter\":\"nearest\"}");
  g_clear_pointer (&info, g_free);

  /* Reopened, the 4x file renders the state at the generator's size. */
  {
    HdWindow *other = hd_ui_test_open_window (NULL);
    const char *paths[] = { four, NULL };
    GdkTexture *texture;
    g_autofree guint8 *shown = NULL;
    g_autoptr(HdState) state = png_state (four);

    hd_ui_test_open_paths (other, paths);
    hd_ui_test_wait_for_current (other, 30000);
    g_assert_cmpuint (hd_session_get_seed (hd_window_get_session (other)), ==, 11);
    texture = hd_image_view_get_texture (hd_window_get_image_view (other));
    g_assert_cmpint (gdk_texture_get_width (texture), ==, RES);
    shown = hd_ui_test_texture_rgb (texture);
    g_assert_cmpmem (shown, RES * RES * 3, p1, RES * RES * 3);
    g_assert_cmpuint (state->seed, ==, 11);
    /* The state carries psi as set; the renderer takes it as a float. */
    g_assert_cmpfloat (state->psi, ==, 0.8);
    hd_ui_test_close_window (other);
  }
  /* Settings changed after a window went must not reach its actions. */
  g_settings_set_boolean (settings, "show-stats", TRUE);
  hd_ui_test_run_for (50);
  g_settings_reset (settings, "show-stats");

  /* Lanczos, 2x. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-scale", "i", 2));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export-filter", "s", "lanczos3"));
  {
    g_autofree char *filter = g_settings_get_string (settings, "export-filter");

    g_assert_cmpstr (filter, ==, "lanczos3");
  }
  smooth = export_to (window, dir, "smooth.png");
  ps = png_pixels (smooth, &w, &h);
  g_assert_cmpint (w, ==, 2 * RES);
  {
    g_autofree guint8 *expected = g_malloc (2 * RES * 2 * RES * 3);

    g_assert_true (hd_upscale_u8 (p1, 3, RES, RES, 2, HD_UPSCALE_LANCZOS3, expected));
    g_assert_cmpmem (ps, 2 * RES * 2 * RES * 3, expected, 2 * RES * 2 * RES * 3);
  }
  info = hd_png_read_text (smooth, HD_PNG_EXPORT_KEYWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info, ==, "{\"scale\":2,\"filter\":\"lanczos3\"}");

  /* The export button's menu: the scales with the sizes they give. */
  {
    AdwSplitButton *button = ADW_SPLIT_BUTTON (find_widget (GTK_WIDGET (window), ADW_TYPE_SPLIT_BUTTON,
                                                            "win.export"));
    GMenuModel *menu = adw_split_button_get_menu_model (button);
    g_autoptr(GMenuModel) scales = NULL;
    g_autofree char *label = NULL;

    g_assert_nonnull (menu);
    scales = g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION);
    g_assert_cmpint (g_menu_model_get_n_items (scales), ==, 4);
    g_assert_true (g_menu_model_get_item_attribute (scales, 1, G_MENU_ATTRIBUTE_LABEL, "s", &label));
    g_assert_cmpstr (label, ==, "2× (64 × 64)");
  }

  g_settings_reset (settings, "export-scale");
  g_settings_reset (settings, "export-filter");
  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

/* After an export, the toast sits above the round buttons at the bottom
 * of the image (the 1:1 zoom button among them), not over them. */
static void
test_toast_clear_of_buttons (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *path = NULL;
  GtkWidget *zoom = find_widget (GTK_WIDGET (window), GTK_TYPE_TOGGLE_BUTTON, "win.zoom-original");
  GtkWidget *toast;
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  graphene_rect_t zr, tr;

  g_assert_no_error (error);
  /* The application's style sheet, as AdwApplication loads it. */
  gtk_css_provider_load_from_resource (css, "/io/github/hyperdomain/Hyperdomain/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_assert_nonnull (zoom);
  /* A window as narrow as the toast is wide puts the toast over the
   * image's bottom right corner. */
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  hd_ui_test_run_for (200);
  path = export_to (window, dir, "toast.png");
  hd_ui_test_run_for (700);  /* the toast's entrance */
  toast = hd_ui_test_find_css_name (GTK_WIDGET (window), "toast");
  g_assert_nonnull (toast);
  zr = bounds_in (zoom, GTK_WIDGET (window));
  tr = bounds_in (toast, GTK_WIDGET (window));
  g_test_message ("zoom button %g,%g %gx%g; toast %g,%g %gx%g",
                  zr.origin.x, zr.origin.y, zr.size.width, zr.size.height,
                  tr.origin.x, tr.origin.y, tr.size.width, tr.size.height);
  g_assert_false (graphene_rect_intersection (&zr, &tr, NULL));
  g_assert_cmpfloat (tr.origin.y + tr.size.height, <=, zr.origin.y);

  gtk_style_context_remove_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css));
  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

static HdSeedsDialog *
find_seeds_dialog (void)
{
  return (HdSeedsDialog *) hd_ui_test_find_window (HD_TYPE_SEEDS_DIALOG);
}

static gboolean
seeds_progressed (gpointer data)
{
  return hd_seeds_dialog_get_n_saved (data) > 0 || hd_ui_test_export_progressed (data);
}

static HdSeedsDialog *
open_seeds_dialog (HdWindow   *window,
                   const char *folder)
{
  HdSeedsDialog *dialog;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.seed-range", NULL));
  dialog = find_seeds_dialog ();
  g_assert_nonnull (dialog);
  hd_export_dialog_set_folder (HD_EXPORT_DIALOG (dialog), folder);
  return dialog;
}

/* The folder row is whole on screen and the status line under it. */
static void
assert_status_clear_of_folder_row (GtkWidget *dialog,
                                   GtkWidget *page,
                                   GtkWidget *folder_row,
                                   GtkWidget *status)
{
  graphene_rect_t fr, sr, pr;

  hd_ui_test_run_for (600);
  g_assert_true (gtk_widget_get_visible (status));
  fr = bounds_in (folder_row, dialog);
  sr = bounds_in (status, dialog);
  pr = bounds_in (page, dialog);
  g_test_message ("folder row y %g–%g, page y %g–%g, status y %g–%g",
                  fr.origin.y, fr.origin.y + fr.size.height, pr.origin.y, pr.origin.y + pr.size.height,
                  sr.origin.y, sr.origin.y + sr.size.height);
  g_assert_cmpfloat (fr.origin.y, >=, pr.origin.y);
  g_assert_cmpfloat (fr.origin.y + fr.size.height, <=, pr.origin.y + pr.size.height);
  g_assert_cmpfloat (fr.origin.y + fr.size.height, <=, sr.origin.y);
}

/* Seeds 3 to 6 at 2x: four files whose states are the window's with
 * their seeds, whose pixels are hyperdomain-render's for the window's
 * state at those seeds and 2x; the status line leaves the folder row in
 * view. */
static void
test_seed_range (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  HdSession *session = hd_window_get_session (window);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *base = NULL;
  g_autoptr(HdState) window_state = NULL;
  HdSeedsDialog *dialog;
  const char *seeds_dir;

  g_assert_no_error (error);
  hd_session_set_seed (session, 40);
  hd_session_set_psi (session, 0.7);
  gtk_range_set_value (hd_window_get_domain_scale (window, 1), -0.5);
  hd_ui_test_wait_for_current (window, 30000);
  base = export_to (window, dir, "window.png");
  window_state = png_state (base);

  dialog = open_seeds_dialog (window, dir);
  /* It starts at the window's seed. */
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "from_spin"))), ==, 40);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "from_spin")), 3);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "to_spin")), 6);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (hd_ui_test_dialog_part (dialog, "to_row"))),
                   ==, "4 images");
  /* The scale row is the export-scale setting. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (hd_ui_test_dialog_part (dialog, "scale_row")), 1);
  g_assert_cmpint (g_settings_get_int (settings, "export-scale"), ==, 2);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "seeds.export", NULL));
  g_assert_true (hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (hd_ui_test_dialog_part (dialog, "progress_revealer"))));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 60000, "the seed range");
  g_test_message ("%s", gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))));
  g_assert_cmpuint (hd_seeds_dialog_get_n_saved (dialog), ==, 4);
  seeds_dir = hd_seeds_dialog_get_dir (dialog);
  g_assert_nonnull (seeds_dir);
  g_assert_true (g_str_has_suffix (seeds_dir, "seeds-1"));

  {
    g_autoptr(GDir) d = g_dir_open (seeds_dir, 0, &error);
    guint n = 0;

    g_assert_no_error (error);
    while (g_dir_read_name (d) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 4);
  }
  for (guint32 seed = 3; seed <= 6; seed++)
    {
      g_autofree char *name = hd_seeds_dialog_file_name (seed);
      g_autofree char *path = g_build_filename (seeds_dir, name, NULL);
      g_autoptr(HdState) state = png_state (path);
      g_autofree char *seed_arg = g_strdup_printf ("%u", seed);
      const char *args[] = { "--from-png", base, "--seed", seed_arg, "--scale", "2", NULL };
      g_autofree guint8 *pixels = NULL;
      g_autofree guint8 *cli = NULL;
      int w, h, cw, ch;

      g_assert_cmpint (state->latent_kind, ==, HD_LATENT_SEED);
      g_assert_cmpuint (state->seed, ==, seed);
      g_assert_cmpfloat (state->psi, ==, window_state->psi);
      g_assert_cmpuint (state->domains->len, ==, window_state->domains->len);
      for (guint i = 0; i < state->domains->len; i++)
        g_assert_cmpfloat (g_array_index (state->domains, HdStateDomain, i).weight, ==,
                           g_array_index (window_state->domains, HdStateDomain, i).weight);

      pixels = png_pixels (path, &w, &h);
      g_assert_cmpint (w, ==, 2 * RES);
      g_assert_cmpint (h, ==, 2 * RES);
      cli = hd_ui_test_run_cli (args, &cw, &ch);
      if (cli == NULL)
        g_test_message ("HD_RENDER is not set: skipping the comparison with hyperdomain-render");
      else
        {
          g_assert_cmpint (cw, ==, w);
          g_assert_cmpmem (pixels, (gsize) w * h * 3, cli, (gsize) cw * ch * 3);
        }
    }

  assert_status_clear_of_folder_row (GTK_WIDGET (dialog), hd_ui_test_dialog_part (dialog, "page"),
                                     hd_ui_test_dialog_part (dialog, "folder_row"),
                                     hd_ui_test_dialog_part (dialog, "status_label"));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_settings_reset (settings, "export-scale");
  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

/* A long range at 8x, cancelled once some images are done: it stops
 * soon, and what is left are whole images of consecutive seeds from the
 * first, no temporary files. */
static void
test_seed_range_cancel (void)
{
  HdWindow *window = hd_ui_test_open_window (hd_ui_test_tiny_files);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_autofree char *seeds_dir = NULL;
  HdSeedsDialog *dialog;
  guint n_saved, n = 0;
  gint64 cancelled_at;

  g_assert_no_error (error);
  g_settings_set_int (settings, "export-scale", 8);
  dialog = open_seeds_dialog (window, dir);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "from_spin")), 100);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (hd_ui_test_dialog_part (dialog, "to_spin")), 100 + 99999);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "seeds.export", NULL));
  hd_ui_test_wait_until (seeds_progressed, dialog, 60000, "progress");
  g_assert_true (hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog)));
  seeds_dir = g_strdup (hd_seeds_dialog_get_dir (dialog));
  cancelled_at = g_get_monotonic_time ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "seeds.cancel", NULL));
  hd_ui_test_wait_until (hd_ui_test_export_finished, dialog, 10000, "the cancelled range to stop");
  g_test_message ("stopped in %.0f ms: %s", (g_get_monotonic_time () - cancelled_at) / 1000.0,
                  gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (hd_ui_test_dialog_part (dialog, "status_label"))),
                            "Cancelled"));

  n_saved = hd_seeds_dialog_get_n_saved (dialog);
  g_assert_cmpuint (n_saved, >, 0);
  g_assert_cmpuint (n_saved, <, 100000);
  {
    g_autoptr(GDir) d = g_dir_open (seeds_dir, 0, &error);
    const char *name;

    g_assert_no_error (error);
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (seeds_dir, name, NULL);
        g_autoptr(HdState) state = NULL;
        int w, h;
        g_autofree guint8 *pixels = NULL;
        guint seed;

        g_assert_true (g_str_has_prefix (name, "seed-") && g_str_has_suffix (name, ".png"));
        seed = (guint) g_ascii_strtoull (name + 5, NULL, 10);
        g_assert_cmpuint (seed, >=, 100);
        g_assert_cmpuint (seed, <, 100 + n_saved);
        /* Whole: it decodes, with its state. */
        pixels = png_pixels (path, &w, &h);
        g_assert_cmpint (w, ==, 8 * RES);
        state = png_state (path);
        g_assert_cmpuint (state->seed, ==, seed);
        n++;
      }
  }
  g_assert_cmpuint (n, ==, n_saved);

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_settings_reset (settings, "export-scale");
  hd_ui_test_close_window (window);
  hd_ui_test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  /* The session file goes to a folder of this test, never the user's. */
  g_autofree char *state_home = hd_ui_test_private_state_home ();
  int status;

  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Export/scale", test_export_scale);
  g_test_add_func ("/Hyperdomain/Export/toast-clear-of-buttons", test_toast_clear_of_buttons);
  g_test_add_func ("/Hyperdomain/Export/seed-range", test_seed_range);
  g_test_add_func ("/Hyperdomain/Export/seed-range-cancel", test_seed_range_cancel);

  status = g_test_run ();
  hd_ui_test_remove_state_home (state_home);
  return status;
}
