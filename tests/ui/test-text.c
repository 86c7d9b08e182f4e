/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Domains from text in the window: opening a hypernetwork shows the
 * "Describe a Domain" row; typing a prompt shows its domain as a row and
 * the image equals hyperdomain-render's for the same prompt; Enter keeps
 * the row; emptying the entry removes the draft; a prompt too long is
 * said under the entry; undo, and the PNG/state, carry the prompt. */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hd-ui-test-util.h"


static gboolean
row_is_named (gpointer data)
{
  HdUiTestCount *c = data;
  g_autoptr(HdDomainItem) item = NULL;

  if (hd_ui_test_n_domains (c->window) <= c->n)
    return FALSE;
  item = g_list_model_get_item (hd_session_get_domains (hd_window_get_session (c->window)), c->n);
  return g_strcmp0 (hd_domain_item_get_name (item), "Pixar style") == 0;
}

static gboolean
message_shown (gpointer data)
{
  return gtk_widget_get_visible (GTK_WIDGET (hd_window_get_text_message (data)));
}

static void
type_prompt (HdWindow   *window,
             const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (hd_window_get_text_entry (window)), text);
}

static void
test_text_rows (void)
{
  g_autofree char *gen = hd_ui_test_conformance_path ("tiny.safetensors");
  g_autofree char *hn = hd_ui_test_conformance_path ("text/tiny-text.safetensors");
  const char *paths[] = { hn, NULL };
  HdWindow *window = hd_ui_test_open_window ((const char *[]) { "tiny.safetensors", NULL });
  HdRenderFrame *frame;
  HdUiTestCount count = { window, 0 };
  g_autofree guint8 *shown = NULL;
  g_autofree guint8 *cli = NULL;
  g_autofree char *long_prompt = NULL;
  int res = 0, w = 0, h = 0;

  g_assert_false (gtk_widget_get_visible (gtk_widget_get_parent (hd_window_get_text_entry (window))));
  hd_ui_test_open_paths (window, paths);
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (hd_window_get_text_entry (window))));

  /* Typing: a draft row follows the prompt. */
  type_prompt (window, "Pixar");
  count.n = 1;
  hd_ui_test_wait_until (hd_ui_test_has_n_domains, &count, 30000, "the draft row");
  type_prompt (window, "Pixar style");
  count.n = 0;
  hd_ui_test_wait_until (row_is_named, &count, 30000, "the draft row renamed");
  g_assert_cmpuint (hd_ui_test_n_domains (window), ==, 1);
  hd_ui_test_wait_for_current (window, 30000);
  frame = hd_window_get_full_frame (window);
  g_assert_cmpuint (frame->job->state->domains->len, ==, 1);
  g_assert_cmpstr (g_array_index (frame->job->state->domains, HdStateDomain, 0).prompt, ==, "Pixar style");
  g_assert_nonnull (strstr (frame->job->state->hypernetwork_path, "tiny-text.safetensors"));
  hd_ui_test_assert_screen_matches_engine (window);

  /* The same pixels as the command line. */
  shown = hd_ui_test_frame_pixels (window, &res);
  {
    const char *args[] = { "--model", gen, "--seed", "0", "--hypernetwork", hn,
                           "--text", "Pixar style", NULL };
    cli = hd_ui_test_run_cli (args, &w, &h);
  }
  if (cli != NULL)
    {
      g_assert_cmpint (w, ==, res);
      g_assert_cmpmem (shown, (gsize) res * res * 3, cli, (gsize) w * h * 3);
    }

  /* Enter keeps it; the next prompt makes a second row. */
  g_signal_emit_by_name (hd_window_get_text_entry (window), "entry-activated");
  {
    gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (*gtk_editable_get_text (GTK_EDITABLE (hd_window_get_text_entry (window))) != '\0' &&
           g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (hd_window_get_text_entry (window))), ==, "");
  type_prompt (window, "пиксар");
  count.n = 2;
  hd_ui_test_wait_until (hd_ui_test_has_n_domains, &count, 30000, "a second row");
  /* Emptying the entry takes the draft away, not the kept row. */
  type_prompt (window, "");
  count.n = 1;
  hd_ui_test_wait_until (hd_ui_test_has_n_domains, &count, 30000, "the draft removed");

  /* Too long: said under the entry, no row, no dialog. */
  long_prompt = g_strnfill (400, 'a');
  for (int i = 1; i < 400; i += 2)
    long_prompt[i] = ' ';
  type_prompt (window, long_prompt);
  hd_ui_test_wait_until (message_shown, window, 30000, "the message");
  g_test_message ("too long: %s", gtk_label_get_label (hd_window_get_text_message (window)));
  g_assert_nonnull (strstr (gtk_label_get_label (hd_window_get_text_message (window)), "tokens"));
  g_assert_cmpuint (hd_ui_test_n_domains (window), ==, 1);
  type_prompt (window, "");

  /* A saved state with the prompt reopens in a new window with its row,
   * the same pixels, and the entry ready for more prompts. */
  {
    g_autofree char *dir = g_dir_make_tmp ("hd-text-XXXXXX", NULL);
    g_autofree char *state_path = g_build_filename (dir, "state.json", NULL);
    const char *state_paths[] = { state_path, NULL };
    g_autoptr(GError) error = NULL;
    HdWindow *other;
    HdRenderFrame *reopened;

    hd_ui_test_wait_for_current (window, 30000);
    frame = hd_window_get_full_frame (window);
    g_assert_true (hd_state_save_file (frame->job->state, state_path, &error));
    g_assert_no_error (error);
    other = hd_ui_test_open_window (NULL);
    hd_ui_test_open_paths (other, state_paths);
    hd_ui_test_wait_for_current (other, 30000);
    reopened = hd_window_get_full_frame (other);
    g_assert_true (hd_state_equal (reopened->job->state, frame->job->state));
    hd_ui_test_assert_screen_matches_engine (other);
    g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (hd_window_get_text_entry (other))));
    hd_ui_test_close_window (other);
    g_unlink (state_path);
    g_rmdir (dir);
  }

  hd_ui_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  hd_ui_test_init (&argc, &argv);

  g_test_add_func ("/Hyperdomain/Window/text-rows", test_text_rows);

  return g_test_run ();
}
