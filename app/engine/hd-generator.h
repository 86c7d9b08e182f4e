/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-safetensors.h"

G_BEGIN_DECLS

/* A StyleGAN2 generator (spec/formats.md §1, spec/generator-math.md) held
 * in host memory as float32.  Immutable once built, reference counted, so
 * a render thread can hold it while the UI opens another. */

#define HD_MAX_RESOLUTION 4096
#define HD_MAX_CHANNELS   4096

typedef struct {
  int z_dim;
  int w_dim;
  int c_dim;              /* always 0 in version 1 */
  int img_resolution;     /* power of two, 8..4096 */
  int img_channels;
  int mapping_layers;
  float lr_multiplier;
  int channel_base;
  int channel_max;
  gboolean has_conv_clamp;
  float conv_clamp;       /* valid when has_conv_clamp */
} HdGeneratorConfig;

/* One modulated 3x3 convolution: b4.conv1, bR.conv0 (up), bR.conv1. */
typedef struct {
  char        *name;           /* "synthesis.b8.conv0" */
  int          block_res;      /* R of its block; also its output size */
  gboolean     up;             /* conv0 of blocks 8.. */
  int          in_res;         /* block_res / 2 when up, else block_res */
  int          c_in;
  int          c_out;
  int          w_index;        /* which w feeds it (generator-math §3) */
  int          domain_offset;  /* where its d_l starts in a flat domain vector */
  const float *weight;         /* [c_out][c_in][3][3] */
  const float *affine_weight;  /* [c_in][w_dim] */
  const float *affine_bias;    /* [c_in] */
  const float *bias;           /* [c_out] */
  float        noise_strength;
  const float *noise_const;    /* [block_res][block_res] */
} HdConvLayer;

/* One ToRGB 1x1 layer (no demodulation, no domain). */
typedef struct {
  char        *name;           /* "synthesis.b8.torgb" */
  int          block_res;
  int          c_in;
  int          c_out;          /* img_channels */
  int          w_index;
  const float *weight;         /* [c_out][c_in] */
  const float *affine_weight;  /* [c_in][w_dim] */
  const float *affine_bias;    /* [c_in] */
  const float *bias;           /* [c_out] */
} HdRgbLayer;

typedef struct {
  const float *weight;         /* [out][in] */
  const float *bias;           /* [out] */
  int          in_features;
  int          out_features;
} HdMappingLayer;

typedef struct _HdGenerator HdGenerator;

struct _HdGenerator {
  HdGeneratorConfig config;
  int num_ws;                  /* 2 log2(R) - 2 */
  int n_blocks;                /* log2(R) - 1: b4, b8, ..., bR */

  HdMappingLayer *mapping;     /* config.mapping_layers entries */
  const float *w_avg;          /* [w_dim] */
  const float *const_input;    /* [ch(4)][4][4] */

  int n_convs;                 /* b4.conv1, b8.conv0, b8.conv1, ... */
  HdConvLayer *convs;
  int n_rgbs;                  /* one per block, in block order */
  HdRgbLayer *rgbs;

  int domain_dim;              /* sum of c_in over the convs */

  char *path;                  /* absolute path as opened, or NULL */
  char *name;                  /* hyperdomain.name, or the file's basename */
  char *description;
  char *license;
  char *source;

  /*< private >*/
  GPtrArray *owned;            /* float buffers the pointers above use */
  HdSafetensors *file;         /* keeps the mapping alive, or NULL */
};

/* Channel count of the block of resolution RES: min(base / res, max). */
int           hd_generator_config_channels (const HdGeneratorConfig *config,
                                            int                      res);
/* Checks the values of a config (powers of two, sane bounds, c_dim 0). */
gboolean      hd_generator_config_validate (const HdGeneratorConfig *config,
                                            GError                 **error);

/* Loads and validates a generator file (kind "generator"). */
HdGenerator  *hd_generator_load         (const char   *path,
                                         GError      **error);
HdGenerator  *hd_generator_new_from_safetensors (HdSafetensors *st,
                                                 GError       **error);
/* A generator with random weights of the given shape (tests, benchmarks).
 * Deterministic for a given SEED. */
HdGenerator  *hd_generator_new_random   (const HdGeneratorConfig *config,
                                         guint32                  seed);
/* Writes it as a generator file storing weights as DTYPE. */
gboolean      hd_generator_save         (HdGenerator  *gen,
                                         const char   *path,
                                         HdDtype       dtype,
                                         GError      **error);

HdGenerator  *hd_generator_ref          (HdGenerator  *gen);
void          hd_generator_unref        (HdGenerator  *gen);

/* The conv named "synthesis.bR.convX", or NULL. */
const HdConvLayer *hd_generator_find_conv (HdGenerator *gen,
                                           const char  *name);
/* Multiply-accumulates of one synthesis pass (for GFLOP/s figures). */
double        hd_generator_synthesis_macs (HdGenerator *gen);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdGenerator, hd_generator_unref)

G_END_DECLS
