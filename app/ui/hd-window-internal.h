/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Shared by the files of HdWindow (hd-window*.c) only: its instance
 * structure and the functions they call in one another. */

#include "hd-demo.h"
#include "hd-text-encoder.h"
#include "hd-window-private.h"

G_BEGIN_DECLS

/* Frames counted for the frames-per-second figure. */
#define N_FRAME_TIMES 64

typedef enum {
  OUTPUT_NONE,
  OUTPUT_EXPORT,      /* to the export folder, asking before replacing */
  OUTPUT_EXPORT_TO,   /* to a chosen path */
  OUTPUT_COPY,        /* to the clipboard */
} OutputKind;

struct _HdWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkStack             *main_stack;
  AdwFlap              *flap;
  GtkWidget            *sidebar;
  HdImageView          *image_view;
  HdLatentPanel        *latent_panel;
  GtkListBox           *domain_list;
  GtkWidget            *text_list;
  AdwEntryRow          *text_entry;
  GtkLabel             *text_message;
  GtkWidget            *blend_pad_group;
  HdBlendPad           *blend_pad;
  GtkWidget            *animation_dialog;  /* kept: it holds the keyframes */
  GtkSpinner           *spinner;
  GtkSpinner           *loading_spinner;
  AdwSplitButton       *export_button;
  int                   export_menu_res; /* the sizes its menu shows */
  GtkWidget            *compare_button;

  GSettings            *settings;
  HdSession            *session;
  HdHistory            *history;
  char                 *session_file;  /* saved to on changes, or NULL */
  guint                 session_save_id;
  HdRenderWorker       *worker;
  GtkEventController   *seed_keys;
  GCancellable         *cancellable;

  HdRenderJob          *last_job;      /* the last one submitted */
  gint64                last_change_us; /* of the state, during a drag */
  guint                 rest_id;
  HdRenderFrame        *frame;         /* on screen */
  HdRenderFrame        *full_frame;    /* the last full-resolution one */

  OutputKind            pending_output;
  char                 *pending_path;

  gint64                frame_times[N_FRAME_TIMES];
  guint                 n_frames;
  guint                 n_loading;
  char                 *last_error;
  gboolean              zoom_original;
  gboolean              comparing;     /* the original generator is shown */

  /* Text domains (hd-window-text.c). */
  HdTextEncoder        *text_encoder;  /* of the open hypernetwork, or NULL */
  HdDomainItem         *text_draft;    /* the row the prompt being typed shows */
  guint                 text_debounce_id;
  guint                 text_serial;   /* of the newest encode asked for */
  gboolean              text_clearing; /* the entry is being emptied */
  HdDomainItem         *start_item;    /* the demo's first image's row, until a prompt is typed */
  double                start_weight;  /* its weight there */

  /* Training a domain (hd-window-train.c). */
  GtkWidget            *train_dialog;  /* kept: it may be training */
  HdDomain             *train_preview; /* shown at weight 1 on the image, or NULL */
  HdGenerator          *train_preview_gen; /* the generator it fits */
  char                 *train_badge;   /* said over the image meanwhile */
};

/* hd-window-text.c */
void     _hd_window_text_init          (HdWindow      *self);
void     _hd_window_text_dispose       (HdWindow      *self);
/* Makes ENCODER (of a hypernetwork the user opened) the window's: its
 * prompts become domains.  FALSE with ERROR when it does not fit the
 * generator. */
gboolean _hd_window_set_text_encoder   (HdWindow      *self,
                                        HdTextEncoder *encoder,
                                        GError       **error);

/* hd-window-train.c */
void     _hd_window_train_dispose      (HdWindow      *self);
void     _hd_window_train_action       (GtkWidget     *widget,
                                        const char    *action_name,
                                        GVariant      *param);
/* Drops the domain in training when the generator is another now. */
void     _hd_window_train_check_generator (HdWindow   *self);
/* Adds the domain in training (when there is one, it fits the generator
 * and nothing asks for the session's own image) to JOB at weight 1. */
void     _hd_window_train_add_preview  (HdWindow      *self,
                                        HdRenderJob   *job);

/* hd-window.c */
/* The badge over the image: comparing, or a domain in training. */
void     _hd_window_update_badge       (HdWindow      *self);
void     _hd_window_toast              (HdWindow      *self,
                                        const char    *title);
void     _hd_window_show_error         (HdWindow      *self,
                                        const char    *heading,
                                        const char    *body);
void     _hd_window_update_actions     (HdWindow      *self);
void     _hd_window_update_page        (HdWindow      *self);
void     _hd_window_submit             (HdWindow      *self);
gboolean _hd_window_frame_is_current   (HdWindow      *self,
                                        HdRenderFrame *frame);

/* hd-window-actions.c */
void     _hd_window_class_actions_init (GtkWidgetClass *widget_class);
void     _hd_window_actions_init       (HdWindow      *self);

/* hd-window-dnd.c */
void     _hd_window_dnd_init           (HdWindow      *self);
/* The first prompt typed while the demo's first image is untouched (its
 * domain at the start's weight, every other row but the draft at 0) sets
 * that domain to 0, so the image shows the prompt. */
void     _hd_window_start_step_aside   (HdWindow      *self);
void     _hd_window_open_state         (HdWindow      *self,
                                        const char    *path,
                                        gboolean       is_session);

/* hd-window-export.c */
void     _hd_window_perform_output     (HdWindow      *self);
void     _hd_window_update_export_menu (HdWindow      *self);
void     _hd_window_export_action      (GtkWidget     *widget,
                                        const char    *action_name,
                                        GVariant      *param);
void     _hd_window_export_as_action   (GtkWidget     *widget,
                                        const char    *action_name,
                                        GVariant      *param);
void     _hd_window_copy_action        (GtkWidget     *widget,
                                        const char    *action_name,
                                        GVariant      *param);

G_END_DECLS
