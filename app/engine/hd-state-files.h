/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-render-params.h"
#include "hd-state.h"
#include "hd-text-encoder.h"

G_BEGIN_DECLS

/* Reopening a state: from an exported PNG (spec/formats.md §5) or a state
 * file (session, preset) and finding the files it names.  Shared by the
 * application and the command line. */

/* The state in PATH: the "hyperdomain" metadata of a PNG, or a JSON state
 * file.  Errors name PATH. */
HdState   *hd_state_read_any       (const char    *path,
                                    GError       **error);

/* Where the file RECORDED (an absolute path in a state read from ORIGIN)
 * is now: RECORDED itself when it exists, else the file of the same name
 * next to ORIGIN, else NULL. */
char      *hd_state_find_file      (const char    *recorded,
                                    const char    *origin);

/* "PATH" or "PATH#ID" for hd_domain_load_all. */
char      *hd_state_domain_spec    (const char    *path,
                                    const char    *id);

/* Loads the domain SPEC and returns the one it names (a pack without an ID
 * must hold exactly one domain). */
HdDomain  *hd_state_load_domain    (const char    *path,
                                    const char    *id,
                                    GError       **error);

/* Records in STATE where its files were found: GEN's path, each domain's
 * (DOMAINS: the loaded HdDomain* of STATE's domains, in order) and the
 * hypernetwork of its text domains, so that what is written next names
 * real files. */
void       hd_state_record_found   (HdState       *state,
                                    HdGenerator   *gen,
                                    GPtrArray     *domains);

/* The encoder of STATE's hypernetwork (looked for next to ORIGIN when it
 * moved), checked against GEN, encoding on the Vulkan device DEVICE (as
 * hd_vk_context_new takes it). */
HdTextEncoder *hd_state_open_hypernetwork (const HdState *state,
                                           const char    *origin,
                                           HdGenerator   *gen,
                                           const char    *device,
                                           GError       **error);

/* Loads the generator and the domains STATE names, looking for moved
 * files next to ORIGIN; a file found nowhere is an error naming it.
 * *DOMAINS gets one HdDomain* per state domain, in order; text domains
 * are encoded with the state's hypernetwork on DEVICE. */
gboolean   hd_state_open_files     (const HdState *state,
                                    const char    *origin,
                                    const char    *device,
                                    HdGenerator  **gen,
                                    GPtrArray    **domains,
                                    GError       **error);

G_END_DECLS
