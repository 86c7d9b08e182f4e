/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reading and writing safetensors files (spec/formats.md).  A reader maps
 * the file (GMappedFile) and validates the whole header before anything
 * else looks at it; tensors point into the mapping, no copies. */

typedef enum {
  HD_DTYPE_F32,
  HD_DTYPE_F16,
  HD_DTYPE_BF16,
  /* Read only with HD_SAFETENSORS_ALLOW_INTEGERS (hypernetwork files:
   * the tokenizer's merges text as U8, BatchNorm counters as I64); never
   * converted to float. */
  HD_DTYPE_U8,
  HD_DTYPE_I64,
} HdDtype;

typedef enum {
  HD_SAFETENSORS_FLOATS_ONLY     = 0,
  HD_SAFETENSORS_ALLOW_INTEGERS  = 1 << 0,
} HdSafetensorsFlags;

#define HD_TENSOR_MAX_DIMS 8

typedef struct {
  const char   *name;
  HdDtype       dtype;
  guint         n_dims;
  gint64        shape[HD_TENSOR_MAX_DIMS];
  gsize         n_elements;  /* product of shape; 1 for a scalar */
  const guint8 *data;        /* points into the mapping, n_bytes long */
  gsize         n_bytes;
} HdTensor;

typedef struct _HdSafetensors HdSafetensors;

/* Opens and validates PATH.  Errors (HD_ERROR_IO, HD_ERROR_FORMAT) name the
 * file and the problem. */
HdSafetensors  *hd_safetensors_open          (const char     *path,
                                              GError        **error);
/* Same checks over bytes in memory (tests, fuzzing).  DISPLAY_NAME is used
 * in messages in place of a path. */
HdSafetensors  *hd_safetensors_new_from_bytes (GBytes        *bytes,
                                               const char    *display_name,
                                               GError       **error);
/* The same, with FLAGS (by default only F32, F16 and BF16 tensors). */
HdSafetensors  *hd_safetensors_open_full     (const char          *path,
                                              HdSafetensorsFlags   flags,
                                              GError             **error);
HdSafetensors  *hd_safetensors_new_from_bytes_full (GBytes             *bytes,
                                                    const char         *display_name,
                                                    HdSafetensorsFlags  flags,
                                                    GError            **error);
HdSafetensors  *hd_safetensors_ref           (HdSafetensors  *st);
void            hd_safetensors_unref         (HdSafetensors  *st);

/* The path as opened (or the display name). */
const char     *hd_safetensors_get_path      (HdSafetensors  *st);
guint           hd_safetensors_get_n_tensors (HdSafetensors  *st);
/* Tensors in file order of their data offsets. */
const HdTensor *hd_safetensors_get_tensor    (HdSafetensors  *st,
                                              guint           index);
const HdTensor *hd_safetensors_lookup        (HdSafetensors  *st,
                                              const char     *name);
/* NULL when the key is absent. */
const char     *hd_safetensors_get_metadata  (HdSafetensors  *st,
                                              const char     *key);
/* Every metadata key, NULL-terminated, owned by ST. */
const char    **hd_safetensors_get_metadata_keys (HdSafetensors *st);

/* "[2, 3, 4]", for messages. */
char           *hd_shape_to_string           (const gint64   *shape,
                                              guint           n_dims);
/* Checks hyperdomain.version: only "1" is supported.  FILE is the name
 * used in the message. */
gboolean        hd_safetensors_check_version (HdSafetensors  *st,
                                              const char     *file,
                                              GError        **error);

/* Converts a float dtype (F32, F16, BF16) to float32; OUT holds
 * tensor->n_elements floats. */
void            hd_tensor_to_f32             (const HdTensor *tensor,
                                              float          *out);
/* True when every element is finite. */
gboolean        hd_tensor_is_finite          (const HdTensor *tensor);

/* Writer: collects tensors and metadata and writes the file atomically
 * (temporary file + rename).  Tensors are written in the order added. */
typedef struct _HdSafetensorsWriter HdSafetensorsWriter;

HdSafetensorsWriter *hd_safetensors_writer_new     (void);
void                 hd_safetensors_writer_free    (HdSafetensorsWriter *writer);
void                 hd_safetensors_writer_set_metadata (HdSafetensorsWriter *writer,
                                                         const char          *key,
                                                         const char          *value);
/* Adds float32 data, stored as DTYPE (F32, F16 or BF16, rounded to nearest
 * even).  DATA is copied. */
void                 hd_safetensors_writer_add_f32 (HdSafetensorsWriter *writer,
                                                    const char          *name,
                                                    HdDtype              dtype,
                                                    const gint64        *shape,
                                                    guint                n_dims,
                                                    const float         *data);
/* A U8 vector of N bytes (text such as a tokenizer's merges). */
void                 hd_safetensors_writer_add_u8  (HdSafetensorsWriter *writer,
                                                    const char          *name,
                                                    const guint8        *data,
                                                    gsize                n);
gboolean             hd_safetensors_writer_write   (HdSafetensorsWriter *writer,
                                                    const char          *path,
                                                    GError             **error);
/* The serialized file in memory (tests, fuzz corpora). */
GBytes              *hd_safetensors_writer_to_bytes (HdSafetensorsWriter *writer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdSafetensors, hd_safetensors_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdSafetensorsWriter, hd_safetensors_writer_free)

G_END_DECLS
