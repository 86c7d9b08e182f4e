/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-window-private.h"

G_BEGIN_DECLS

/* Sets up GTK and libadwaita for a test program and makes warnings and
 * criticals from Hyperdomain's own log domains fatal. */
void           hd_ui_test_init             (int          *argc,
                                            char       ***argv);

/* Absolute path of a file in tests/conformance. */
char          *hd_ui_test_conformance_path (const char   *name);
/* The tiny generator and its two domains (NULL-terminated), in
 * tests/conformance: what most tests open. */
extern const char * const hd_ui_test_tiny_files[];

/* Runs the main loop until CONDITION (DATA) holds; fails the test after
 * TIMEOUT_MS. */
typedef gboolean (*HdUiTestCondition) (gpointer data);
void           hd_ui_test_wait_until       (HdUiTestCondition condition,
                                            gpointer          data,
                                            guint             timeout_ms,
                                            const char       *what);
/* The window's domain rows, and a condition for hd_ui_test_wait_until:
 * the window has N rows. */
guint          hd_ui_test_n_domains        (HdWindow     *window);
typedef struct {
  HdWindow *window;
  guint     n;
} HdUiTestCount;
gboolean       hd_ui_test_has_n_domains    (gpointer      count);
/* Runs the main loop for MS milliseconds. */
void           hd_ui_test_run_for          (guint         ms);

/* A shown window with the given conformance files opened, its first
 * frame rendered. */
HdWindow      *hd_ui_test_open_window      (const char  * const *names);
/* Opens absolute PATHS in an existing window and waits for the frame. */
void           hd_ui_test_open_paths       (HdWindow     *window,
                                            const char  * const *paths);
/* Waits until the full-resolution image of the current state is on
 * screen and nothing is left to render. */
void           hd_ui_test_wait_for_current (HdWindow     *window,
                                            guint         timeout_ms);

/* Destroys WINDOW and runs the main loop until it is finalized: what it
 * started (a render, an export) is over, and its render thread and Vulkan
 * device are gone, so nothing of it is left running when the test ends.
 * Fails the test when something still holds the window after 30 s. */
void           hd_ui_test_close_window     (HdWindow     *window);

/* The RGB bytes of TEXTURE (width x height x 3). */
guint8        *hd_ui_test_texture_rgb      (GdkTexture   *texture);
/* The RGB bytes of the (square) image WINDOW shows, RES x RES x 3. */
guint8        *hd_ui_test_frame_pixels     (HdWindow     *window,
                                            int          *res);
/* The square RGB images A and B, RES_A and RES_B pixels wide, are the
 * same. */
void           hd_ui_test_assert_same_rgb  (const guint8 *a,
                                            int           res_a,
                                            const guint8 *b,
                                            int           res_b);
/* The image on screen equals the engine's render of the window's state. */
void           hd_ui_test_assert_screen_matches_engine (HdWindow *window);

/* Renders JOB with the engine alone, as hyperdomain-render does, and
 * returns the 8-bit RGB pixels (res x res x 3). */
guint8        *hd_ui_test_render_oracle    (HdRenderJob  *job,
                                            int          *res);

/* Runs hyperdomain-render ($HD_RENDER) with ARGS (NULL-terminated, -o is
 * added) and returns the RGB bytes of the PNG it wrote, or NULL when
 * HD_RENDER is not set. */
guint8        *hd_ui_test_run_cli          (const char  * const *args,
                                            int          *width,
                                            int          *height);

/* Points $XDG_STATE_HOME (where the session is kept) at a new temporary
 * folder, so a test never touches the user's; returns that folder, for
 * hd_ui_test_remove_state_home () once the tests have run. */
char          *hd_ui_test_private_state_home (void);
void           hd_ui_test_remove_state_home  (const char  *state_home);
/* Removes DIR and everything in it (rm -rf). */
void           hd_ui_test_remove_dir       (const char   *dir);

/* The first mapped widget of CSS name NAME: ROOT or one inside it. */
GtkWidget     *hd_ui_test_find_css_name    (GtkWidget    *root,
                                            const char   *name);

/* An HdUiTestCondition: the export of DIALOG (an HdExportDialog: contact
 * sheet, animation, seed range) is over, or was never started. */
gboolean       hd_ui_test_export_finished  (gpointer      dialog);
/* The widget NAME of the template of DIALOG (an HdExportDialog or one of
 * its subclasses). */
GtkWidget     *hd_ui_test_dialog_part      (gpointer      dialog,
                                            const char   *name);
/* An HdUiTestCondition: the progress bar of DIALOG (an HdExportDialog)
 * has moved, or its export is over. */
gboolean       hd_ui_test_export_progressed (gpointer     dialog);

/* The last visible toplevel window of TYPE, or NULL. */
GtkWindow     *hd_ui_test_find_window      (GType         type);

/* Real pointer input through the X server (XTEST, driven by xdotool), as
 * a person's mouse would give it: FALSE when xdotool or X11 is missing. */
gboolean       hd_ui_test_pointer_available (void);
/* hd_ui_test_pointer_available (), marking the test skipped when not. */
gboolean       hd_ui_test_need_pointer     (void);
/* Moves the pointer to (X, Y) in WIDGET's coordinates. */
void           hd_ui_test_pointer_move     (GtkWidget    *widget,
                                            double        x,
                                            double        y);
/* Presses (TRUE) or releases the first button. */
void           hd_ui_test_pointer_button   (gboolean      pressed);
/* Types KEYS (xdotool's names: "ctrl+z", "Escape") to the window that
 * has the keyboard focus. */
void           hd_ui_test_key              (const char   *keys);
/* Presses (TRUE) or releases KEY (an xdotool key name). */
void           hd_ui_test_key_hold         (const char   *key,
                                            gboolean      down);
/* Turns the wheel CLICKS steps down (negative: up) where the pointer is. */
void           hd_ui_test_pointer_scroll   (int           clicks);

G_END_DECLS
