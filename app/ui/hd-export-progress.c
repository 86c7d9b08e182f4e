/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-Export"

#include "config.h"

#include <glib/gstdio.h>

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

void
hd_export_show_status (GtkLabel   *label,
                       const char *text,
                       gboolean    is_error)
{
  gtk_label_set_label (label, text);
  gtk_widget_set_visible (GTK_WIDGET (label), TRUE);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (label), "error");
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
