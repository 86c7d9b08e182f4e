/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_ERROR (hd_error_quark ())

typedef enum {
  HD_ERROR_FAILED,
  HD_ERROR_IO,          /* a file could not be read or written */
  HD_ERROR_FORMAT,      /* a file is malformed */
  HD_ERROR_UNSUPPORTED, /* well-formed, but a feature we do not support */
  HD_ERROR_SHAPE,       /* a tensor or latent has the wrong shape */
  HD_ERROR_ARGUMENT,    /* a bad parameter from the user */
  HD_ERROR_NO_DEVICE,   /* no usable Vulkan device */
  HD_ERROR_DEVICE,      /* a Vulkan call failed */
  HD_ERROR_DEVICE_LOST, /* the device was lost while rendering */
  HD_ERROR_OUT_OF_MEMORY,
} HdError;

GQuark hd_error_quark (void);

/* Sets an HD_ERROR_FORMAT error "FILE: message". */
void   hd_set_format_error (GError     **error,
                            const char  *file,
                            const char  *format,
                            ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
