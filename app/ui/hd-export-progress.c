/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Export"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hd-dialogs.h"
#include "hd-export-progress.h"

struct _HdExportProgress
{
  GWeakRef              bar;
  HdExportProgressLabel label;
  GMainContext *context;
  gint          stopped;   /* atomic */
};

typedef struct
{
  HdExportProgress *progress;
  guint             done;
  guint             total;
} Post;

static void
export_progress_clear (HdExportProgress *progress)
{
  g_weak_ref_clear (&progress->bar);
  g_main_context_unref (progress->context);
}

HdExportProgress *
hd_export_progress_new (GtkProgressBar        *bar,
                        HdExportProgressLabel  label)
{
  HdExportProgress *progress = g_atomic_rc_box_new0 (HdExportProgress);

  g_weak_ref_init (&progress->bar, bar);
  progress->label = label;
  progress->context = g_main_context_ref_thread_default ();
  return progress;
}

HdExportProgress *
hd_export_progress_ref (HdExportProgress *progress)
{
  return g_atomic_rc_box_acquire (progress);
}

void
hd_export_progress_unref (HdExportProgress *progress)
{
  g_atomic_rc_box_release_full (progress, (GDestroyNotify) export_progress_clear);
}

static gboolean
post_deliver (gpointer data)
{
  Post *p = data;
  g_autoptr(GtkProgressBar) bar = g_weak_ref_get (&p->progress->bar);

  if (bar != NULL && !g_atomic_int_get (&p->progress->stopped))
    {
      g_autofree char *text = p->progress->label (p->done, p->total);

      gtk_progress_bar_set_fraction (bar, (double) p->done / p->total);
      gtk_progress_bar_set_text (bar, text);
    }
  return G_SOURCE_REMOVE;
}

static void
post_free (gpointer data)
{
  Post *p = data;

  hd_export_progress_unref (p->progress);
  g_free (p);
}

void
hd_export_progress_post (guint    done,
                         guint    total,
                         gpointer progress)
{
  Post *p = g_new0 (Post, 1);
  GSource *source;

  p->progress = hd_export_progress_ref (progress);
  p->done = done;
  p->total = total;
  /* An idle source, not g_main_context_invoke: that could run the
   * callback here, off the main thread. */
  source = g_idle_source_new ();
  g_source_set_callback (source, post_deliver, p, post_free);
  g_source_attach (source, p->progress->context);
  g_source_unref (source);
}

void
hd_export_progress_stop (HdExportProgress *progress)
{
  g_atomic_int_set (&progress->stopped, TRUE);
}

static GtkScrolledWindow *
find_scrolled_window (GtkWidget *widget)
{
  if (GTK_IS_SCROLLED_WINDOW (widget))
    return GTK_SCROLLED_WINDOW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkScrolledWindow *found = find_scrolled_window (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Scrolls to the end on every frame for a while: what is shown under the
 * page shrinks it at the next layout, or over the revealer's slide. */
#define SCROLL_TO_END_US (400 * G_TIME_SPAN_MILLISECOND)

static gboolean
scroll_to_end_tick (GtkWidget     *widget,
                    GdkFrameClock *clock,
                    gpointer       data)
{
  gint64 *until = data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (widget));

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  if (*until == 0)
    *until = now + SCROLL_TO_END_US;
  return now < *until ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void
hd_export_scroll_to_end (GtkWidget *page)
{
  GtkScrolledWindow *scrolled = find_scrolled_window (page);

  if (scrolled != NULL)
    gtk_widget_add_tick_callback (GTK_WIDGET (scrolled), scroll_to_end_tick, g_new0 (gint64, 1), g_free);
}

void
hd_export_show_status (GtkLabel   *label,
                       GtkWidget  *page,
                       const char *text,
                       gboolean    is_error)
{
  gtk_label_set_label (label, text);
  gtk_widget_set_visible (GTK_WIDGET (label), TRUE);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (label), "error");
  if (page != NULL)
    hd_export_scroll_to_end (page);
}

char *
hd_export_default_folder (GSettings *settings)
{
  g_autofree char *folder = g_settings_get_string (settings, "export-folder");
  const char *pictures;

  if (folder != NULL && *folder != '\0')
    return g_steal_pointer (&folder);
  pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  return g_build_filename (pictures != NULL ? pictures : g_get_home_dir (), "Hyperdomain", NULL);
}

static void
on_folder_chosen (GtkNativeDialog *chooser,
                  int              response,
                  gpointer         func)
{
  GtkWindow *parent = gtk_native_dialog_get_transient_for (chooser);

  if (response == GTK_RESPONSE_ACCEPT && parent != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      ((HdExportFolderFunc) func) (parent, path);
    }
  g_object_unref (chooser);
}

void
hd_export_choose_folder (GtkWindow          *parent,
                         const char         *title,
                         const char         *current,
                         HdExportFolderFunc  func)
{
  GtkFileChooserNative *chooser;

  chooser = hd_file_chooser_new (parent, title, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                 _("_Select"), current);
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_chosen), func);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
hd_export_remove_partial (const char *dir,
                          const char *prefix)
{
  g_autoptr(GDir) folder = NULL;
  const char *name;

  if (dir == NULL || (folder = g_dir_open (dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (folder)) != NULL)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, ".png"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
  g_rmdir (dir);
}

static const int export_scales[HD_EXPORT_N_SCALES] = { 1, 2, 4, 8 };

int
hd_export_scale_at (guint index)
{
  return export_scales[MIN (index, HD_EXPORT_N_SCALES - 1)];
}

guint
hd_export_scale_index (int scale)
{
  for (guint i = 0; i < HD_EXPORT_N_SCALES; i++)
    if (export_scales[i] >= scale)
      return i;
  return HD_EXPORT_N_SCALES - 1;
}

char *
hd_export_scale_label (int scale,
                       int res)
{
  if (res <= 0)
    /* Translators: an export scale, such as 2×. */
    return g_strdup_printf (_("%d×"), scale);
  /* Translators: an export scale and the size of the image it gives, such
     as 2× (128 × 128). */
  return g_strdup_printf (_("%d× (%d × %d)"), scale, res * scale, res * scale);
}

const char *
hd_export_filter_label (HdUpscaleFilter filter)
{
  if (filter == HD_UPSCALE_LANCZOS3)
    return _("Lanczos (smooth)");
  return _("Nearest (pixel-exact)");
}
