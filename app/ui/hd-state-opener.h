/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-state.h"
#include "hd-text-encoder.h"

G_BEGIN_DECLS

/* Reopening a saved state (an exported PNG, a preset, the last session):
 * reads the state, finds the generator and domain files it names (moved
 * files are looked for next to the state's file; a file found nowhere is
 * asked for, with PARENT as the dialogs' window) and loads them off the
 * main thread. */

typedef struct
{
  HdState     *state;
  char        *origin;     /* the file the state was read from */
  HdGenerator *generator;
  GPtrArray   *domains;    /* HdDomain*, one per state domain */
  HdTextEncoder *text_encoder; /* of the state's text domains, or NULL */
} HdOpenedState;

void            hd_opened_state_free      (HdOpenedState       *opened);

/* CURRENT (may be NULL) is reused when the state names its file, and so
 * is CURRENT_ENCODER (may be NULL) when the state's text domains come
 * from its hypernetwork; a new encoder uses the Vulkan device DEVICE.  The task fails with G_IO_ERROR_CANCELLED when
 * the person declines to locate a missing file. */
void            hd_state_open_async       (GtkWindow           *parent,
                                           const char          *path,
                                           HdGenerator         *current,
                                           HdTextEncoder       *current_encoder,
                                           const char          *device,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
HdOpenedState  *hd_state_open_finish      (GAsyncResult        *result,
                                           GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdOpenedState, hd_opened_state_free)

G_END_DECLS
