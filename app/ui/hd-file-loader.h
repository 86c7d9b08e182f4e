/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-text-encoder.h"
#include "hd-latent.h"

G_BEGIN_DECLS

/* Opens files off the main thread and sorts them by what they hold: a
 * generator, domains or domain packs, a hypernetwork (*.safetensors, told
 * apart by their hyperdomain.kind), latents (*.npy). */

typedef struct
{
  HdGenerator *generator;      /* the first generator among the files */
  GPtrArray   *domains;        /* HdDomain*, in file order */
  HdNpy       *latent;         /* the last latent among the files */
  char        *latent_path;
  HdTextEncoder *text_encoder; /* of the last hypernetwork among the files */
  GPtrArray   *errors;         /* GError*, one per file that failed */
} HdLoadResult;

void          hd_load_result_free   (HdLoadResult        *result);

/* What a file holds, from its name and (for safetensors) its metadata. */
typedef enum {
  HD_FILE_UNKNOWN,
  HD_FILE_GENERATOR,
  HD_FILE_DOMAIN,
  HD_FILE_LATENT,
  HD_FILE_HYPERNETWORK,
} HdFileKind;

HdFileKind    hd_file_kind_guess    (const char          *path,
                                     GError             **error);

/* DEVICE: the Vulkan device (as hd_vk_context_new takes it) that a
 * hypernetwork among the files encodes prompts on. */
void          hd_load_files_async   (GFile              **files,
                                     guint                n_files,
                                     const char          *device,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
HdLoadResult *hd_load_files_finish  (GAsyncResult        *result,
                                     GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdLoadResult, hd_load_result_free)

G_END_DECLS
