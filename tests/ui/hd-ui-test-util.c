/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE  /* dl_iterate_phdr */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hd-export-dialog.h"
#include "hd-png.h"
#include "hd-renderer.h"
#include "hd-vk.h"

#include "hd-ui-test-util.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <link.h>
#include <sanitizer/lsan_interface.h>

/* From sanitizer/allocator_interface.h, which GCC does not install. */
int    __sanitizer_get_ownership      (const volatile void *p);
size_t __sanitizer_get_allocated_size (const volatile void *p);

/* QUARK_BLOCK_SIZE in glib/gquark.c. */
#define GLIB_QUARK_BLOCK 2048

static gboolean
is_quark_block (const char * const *block)
{
  if (!__sanitizer_get_ownership (block) ||
      __sanitizer_get_allocated_size (block) != GLIB_QUARK_BLOCK * sizeof (char *) ||
      block[0] != NULL)
    return FALSE;
  for (GQuark q = 1; q <= 3; q++)
    if (block[q] == NULL || block[q] != g_quark_to_string (q))
      return FALSE;
  return TRUE;
}

/* Looks through GLib's writable data for its pointer to the quark table. */
static int
find_quark_block (struct dl_phdr_info *info,
                  size_t               size,
                  void                *data)
{
  const char * const **found = data;

  if (strstr (info->dlpi_name, "/libglib-2.0.so") == NULL)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      guintptr start = info->dlpi_addr + ph->p_vaddr;
      guintptr end = start + ph->p_memsz;

      if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
        continue;
      start = (start + sizeof (gpointer) - 1) & ~(guintptr) (sizeof (gpointer) - 1);
      for (guintptr a = start; a + sizeof (gpointer) <= end; a += sizeof (gpointer))
        {
          const char * const *block = *(const char * const * const *) a;

          if (is_quark_block (block))
            {
              *found = block;
              return 1;
            }
        }
    }
  return 1;
}

/* GLib keeps its quarks in one table, first of 2048 entries (16 KiB,
 * made when GLib loads).  The quark after those replaces it by a bigger
 * copy and leaves the first block behind on purpose, unreferenced, for
 * readers that look quarks up without a lock (glib/gquark.c, quark_new).
 * GTK's file chooser makes that many quarks.  LeakSanitizer records the
 * block with a stack of malloc and g_malloc only (GLib has no frame
 * pointers), which no suppression can tell from any other GLib
 * allocation, so the block itself is marked as not a leak while the
 * table still points to it. */
static void
ignore_glib_quark_block (void)
{
  const char * const *block = NULL;

  dl_iterate_phdr (find_quark_block, &block);
  if (block != NULL)
    __lsan_ignore_object (block);
}
#endif

static GLogWriterOutput
fatal_own_warnings (GLogLevelFlags   log_level,
                    const GLogField *fields,
                    gsize            n_fields,
                    gpointer         user_data)
{
  GLogWriterOutput result = g_log_writer_default (log_level, fields, n_fields, user_data);

  if (log_level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN") &&
          fields[i].length < 0 &&
          g_str_has_prefix (fields[i].value, "Hyperdomain"))
        {
          g_printerr ("Hyperdomain logged a warning: failing the test\n");
          G_BREAKPOINT ();
        }

  return result;
}

void
hd_ui_test_init (int    *argc,
                 char ***argv)
{
#if defined(__SANITIZE_ADDRESS__)
  ignore_glib_quark_block ();
#endif
  g_log_set_writer_func (fatal_own_warnings, NULL, NULL);
  gtk_test_init (argc, argv, NULL);
  adw_init ();
}

char *
hd_ui_test_conformance_path (const char *name)
{
  const char *dir = g_getenv ("HD_CONFORMANCE_DIR");

  if (dir == NULL)
    dir = "tests/conformance";
  return g_canonicalize_filename (name, dir);
}

const char * const hd_ui_test_tiny_files[] = {
  "tiny.safetensors", "tiny-domain-a.safetensors", "tiny-domain-b.safetensors", NULL
};

static gboolean
on_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

guint
hd_ui_test_n_domains (HdWindow *window)
{
  return g_list_model_get_n_items (hd_session_get_domains (hd_window_get_session (window)));
}

gboolean
hd_ui_test_has_n_domains (gpointer data)
{
  HdUiTestCount *c = data;

  return hd_ui_test_n_domains (c->window) == c->n;
}

void
hd_ui_test_wait_until (HdUiTestCondition  condition,
                       gpointer           data,
                       guint              timeout_ms,
                       const char        *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_timeout, &timed_out);

  while (!condition (data))
    {
      if (timed_out)
        g_error ("Timed out after %u ms waiting for %s", timeout_ms, what);
      g_main_context_iteration (NULL, TRUE);
    }

  if (!timed_out)
    g_source_remove (id);
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

void
hd_ui_test_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_timeout, &done);
  while (!is_true (&done))
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

void
hd_ui_test_close_window (HdWindow *window)
{
  gpointer alive = window;

  g_object_add_weak_pointer (G_OBJECT (window), &alive);
  gtk_window_destroy (GTK_WINDOW (window));
  hd_ui_test_wait_until (is_null, &alive, 30000, "the closed window to be finalized");
}

static gboolean
is_current (gpointer data)
{
  HdWindow *window = data;
  HdRenderFrame *frame = hd_window_get_full_frame (window);
  g_autoptr(HdRenderJob) job = NULL;

  if (hd_window_is_loading (window) || hd_render_worker_is_busy (hd_window_get_worker (window)))
    return FALSE;
  if (frame == NULL || hd_window_get_frame (window) != frame)
    return FALSE;
  job = hd_session_create_job (hd_window_get_session (window));
  return job != NULL && hd_render_job_same_image (job, frame->job);
}

void
hd_ui_test_wait_for_current (HdWindow *window,
                             guint     timeout_ms)
{
  hd_ui_test_wait_until (is_current, window, timeout_ms, "the image of the current state");
}

void
hd_ui_test_open_paths (HdWindow           *window,
                       const char * const *paths)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; paths[i] != NULL; i++)
    g_ptr_array_add (files, g_file_new_for_path (paths[i]));

  hd_window_open_files (window, (GFile **) files->pdata, files->len);
  hd_ui_test_wait_for_current (window, 60000);
}

HdWindow *
hd_ui_test_open_window (const char * const *names)
{
  HdWindow *window = hd_window_new (NULL);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_null_terminated (4, g_free, TRUE);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_ptr_array_add (paths, hd_ui_test_conformance_path (names[i]));
  if (paths->len > 0)
    hd_ui_test_open_paths (window, (const char * const *) paths->pdata);

  return window;
}

guint8 *
hd_ui_test_texture_rgb (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  g_autofree guint8 *argb = g_malloc ((gsize) w * h * 4);
  guint8 *rgb = g_malloc ((gsize) w * h * 3);

  /* CAIRO_FORMAT_ARGB32 in native byte order; the images are opaque. */
  gdk_texture_download (texture, argb, (gsize) w * 4);
  for (gsize p = 0; p < (gsize) w * h; p++)
    {
      guint32 v;

      memcpy (&v, argb + p * 4, 4);
      g_assert_cmpuint (v >> 24, ==, 0xff);
      rgb[p * 3 + 0] = (v >> 16) & 0xff;
      rgb[p * 3 + 1] = (v >> 8) & 0xff;
      rgb[p * 3 + 2] = v & 0xff;
    }

  return rgb;
}

guint8 *
hd_ui_test_render_oracle (HdRenderJob *job,
                          int         *res)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree float *img = NULL;
  g_autofree float *domain = NULL;
  g_autofree HdBlendTerm *terms = NULL;
  HdGenerator *gen = job->gen;
  HdRenderParams params;
  guint8 *rgb;
  int r;

  /* Built directly from the job's fields, as the command line does, not
   * through the code the window uses. */
  hd_render_params_init (&params);
  params.latent_kind = job->state->latent_kind;
  params.seed = job->state->seed;
  params.psi = (float) job->state->psi;
  params.cutoff = job->state->cutoff;
  params.noise_mode = job->state->noise_mode;
  params.noise_seed = job->state->noise_seed;
  g_assert_true (job->state->mix == 0.0);
  if (job->state->latent_kind == HD_LATENT_Z)
    params.z = job->state->latent;
  else if (job->state->latent_kind == HD_LATENT_W)
    params.w = job->state->latent;
  if (job->domains->len > 0)
    {
      terms = g_new0 (HdBlendTerm, job->domains->len);
      for (guint i = 0; i < job->domains->len; i++)
        {
          const HdStateDomain *sd = &g_array_index (job->state->domains, HdStateDomain, i);

          terms[i].domain = g_ptr_array_index (job->domains, i);
          terms[i].weight = (float) sd->weight;
          terms[i].min_res = sd->min_res;
          terms[i].max_res = sd->max_res;
        }
      domain = g_new0 (float, gen->domain_dim);
      hd_domain_blend (gen, terms, job->domains->len, domain);
      params.domain = domain;
    }

  ctx = hd_vk_context_new ("auto", &error);
  g_assert_no_error (error);
  renderer = hd_renderer_new (ctx, gen, &error);
  g_assert_no_error (error);
  r = hd_render_params_output_res (&params, gen, &error);
  g_assert_no_error (error);
  img = g_new (float, (gsize) 3 * r * r);
  hd_renderer_render (renderer, &params, img, &error);
  g_assert_no_error (error);

  rgb = g_malloc ((gsize) r * r * 3);
  hd_image_to_u8 (img, 3, r, r, rgb);
  *res = r;
  return rgb;
}

guint8 *
hd_ui_test_frame_pixels (HdWindow *window,
                         int      *res)
{
  GdkTexture *texture = hd_image_view_get_texture (hd_window_get_image_view (window));

  g_assert_nonnull (texture);
  *res = gdk_texture_get_width (texture);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, *res);
  return hd_ui_test_texture_rgb (texture);
}

void
hd_ui_test_assert_same_rgb (const guint8 *a,
                            int           res_a,
                            const guint8 *b,
                            int           res_b)
{
  g_assert_cmpint (res_a, ==, res_b);
  g_assert_cmpmem (a, (gsize) res_a * res_a * 3, b, (gsize) res_b * res_b * 3);
}

void
hd_ui_test_assert_screen_matches_engine (HdWindow *window)
{
  g_autoptr(HdRenderJob) job = hd_session_create_job (hd_window_get_session (window));
  int res, expected_res;
  g_autofree guint8 *shown = hd_ui_test_frame_pixels (window, &res);
  g_autofree guint8 *expected = hd_ui_test_render_oracle (job, &expected_res);

  hd_ui_test_assert_same_rgb (shown, res, expected, expected_res);
}

guint8 *
hd_ui_test_run_cli (const char * const *args,
                    int                *width,
                    int                *height)
{
  const char *render = g_getenv ("HD_RENDER");
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *out = NULL;
  g_autofree char *std_err = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int status = 0;

  if (render == NULL || !g_file_test (render, G_FILE_TEST_IS_EXECUTABLE))
    return NULL;

  dir = g_dir_make_tmp ("hyperdomain-ui-test-XXXXXX", &error);
  g_assert_no_error (error);
  out = g_build_filename (dir, "cli.png", NULL);

  g_ptr_array_add (argv, g_strdup (render));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_strdup (out));
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &std_err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("hyperdomain-render failed: %s", std_err);

  texture = gdk_texture_new_from_filename (out, &error);
  g_assert_no_error (error);
  g_unlink (out);
  g_rmdir (dir);

  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  return hd_ui_test_texture_rgb (texture);
}

static void
run_xdotool (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *std_err = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup ("xdotool"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &std_err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("xdotool failed: %s", std_err);
  /* xdotool has gone, so the server has handled its requests; a round
   * trip brings every event they made for this client into GDK's queue,
   * and the loop below handles them. */
  gdk_display_sync (gdk_display_get_default ());
  /* Bounded: an animation keeps the loop busy for ever. */
  for (guint i = 0; i < 200 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

gboolean
hd_ui_test_pointer_available (void)
{
  g_autofree char *xdotool = g_find_program_in_path ("xdotool");

#ifdef GDK_WINDOWING_X11
  return xdotool != NULL && GDK_IS_X11_DISPLAY (gdk_display_get_default ());
#else
  return FALSE;
#endif
}

gboolean
hd_ui_test_need_pointer (void)
{
  if (hd_ui_test_pointer_available ())
    return TRUE;
  g_test_skip ("xdotool or an X11 display is missing");
  return FALSE;
}

void
hd_ui_test_pointer_move (GtkWidget *widget,
                         double     x,
                         double     y)
{
#ifdef GDK_WINDOWING_X11
  GtkNative *native = gtk_widget_get_native (widget);
  graphene_point_t in = GRAPHENE_POINT_INIT ((float) x, (float) y), out;
  g_autofree char *xid = NULL, *sx = NULL, *sy = NULL;
  double tx = 0, ty = 0;

  g_assert_nonnull (native);
  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native), &in, &out));
  gtk_native_get_surface_transform (native, &tx, &ty);
  xid = g_strdup_printf ("%lu", (unsigned long) gdk_x11_surface_get_xid (gtk_native_get_surface (native)));
  sx = g_strdup_printf ("%d", (int) lround (out.x + tx));
  sy = g_strdup_printf ("%d", (int) lround (out.y + ty));
  run_xdotool ((const char *[]) { "mousemove", "--sync", "--window", xid, sx, sy, NULL });
#else
  g_assert_not_reached ();
#endif
}

void
hd_ui_test_pointer_button (gboolean pressed)
{
  run_xdotool ((const char *[]) { pressed ? "mousedown" : "mouseup", "1", NULL });
}

void
hd_ui_test_pointer_scroll (int clicks)
{
  g_autofree char *repeat = g_strdup_printf ("%d", ABS (clicks));

  if (clicks != 0)
    run_xdotool ((const char *[]) { "click", "--repeat", repeat, "--delay", "30",
                                    clicks > 0 ? "5" : "4", NULL });
}

void
hd_ui_test_key (const char *keys)
{
  run_xdotool ((const char *[]) { "key", "--clearmodifiers", keys, NULL });
  hd_ui_test_run_for (30);
}

void
hd_ui_test_key_hold (const char *key,
                     gboolean    down)
{
  run_xdotool ((const char *[]) { down ? "keydown" : "keyup", key, NULL });
  hd_ui_test_run_for (30);
}

GtkWindow *
hd_ui_test_find_window (GType type)
{
  GList *toplevels = gtk_window_list_toplevels ();
  GtkWindow *found = NULL;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (toplevels);
  return found;
}

char *
hd_ui_test_private_state_home (void)
{
  g_autoptr(GError) error = NULL;
  char *state_home = g_dir_make_tmp ("hyperdomain-state-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("XDG_STATE_HOME", state_home, TRUE);
  return state_home;
}

void
hd_ui_test_remove_state_home (const char *state_home)
{
  g_autofree char *dir = g_build_filename (state_home, "hyperdomain", NULL);
  g_autofree char *session = g_build_filename (dir, "session.json", NULL);

  g_unlink (session);
  g_rmdir (dir);
  g_rmdir (state_home);
}

void
hd_ui_test_remove_dir (const char *dir)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  g_assert_cmpint (system (cmd), ==, 0);
}

GtkWidget *
hd_ui_test_find_css_name (GtkWidget  *root,
                          const char *name)
{
  if (g_strcmp0 (gtk_widget_get_css_name (root), name) == 0 && gtk_widget_get_mapped (root))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = hd_ui_test_find_css_name (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

gboolean
hd_ui_test_export_finished (gpointer dialog)
{
  return !hd_export_dialog_is_running (HD_EXPORT_DIALOG (dialog));
}

GtkWidget *
hd_ui_test_dialog_part (gpointer    dialog,
                        const char *name)
{
  return hd_export_dialog_get_part (HD_EXPORT_DIALOG (dialog), name);
}

gboolean
hd_ui_test_export_progressed (gpointer dialog)
{
  GtkWidget *bar = hd_ui_test_dialog_part (dialog, "progress_bar");

  return gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (bar)) > 0 ||
         hd_ui_test_export_finished (dialog);
}
