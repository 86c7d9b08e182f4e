/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "hd-generator.h"

/* Absolute path of a file in tests/conformance. */
char     *hd_test_conformance_path (const char *name);
/* The tiny generator of tests/conformance, loaded. */
HdGenerator *hd_test_load_tiny     (void);
/* The hypernetwork NAME of tests/conformance/text, loaded. */
struct _HdHypernetwork *hd_test_load_hypernetwork (const char *name);

/* max |a - b| and PSNR = 10 log10(4 / MSE) over N floats. */
void      hd_test_compare          (const float *got,
                                    const float *expected,
                                    gsize        n,
                                    double      *max_abs,
                                    double      *psnr_db);

/* A new empty temporary folder (removed by hd_test_rmdir_recursive). */
char     *hd_test_make_tmpdir      (void);
void      hd_test_rmdir_recursive  (const char *path);

/* A new FIFO NAME in DIR that nothing writes to: a reader that opens it
 * in blocking mode hangs. Tests that read it call hd_test_hang_guard ()
 * first, so that such a regression fails instead of hanging. */
char     *hd_test_make_fifo        (const char *dir,
                                    const char *name);
/* Kills this test with SIGALRM after SECONDS; 0 disarms it. */
void      hd_test_hang_guard       (guint       seconds);

/* A config for a random generator: resolution RES, with channel counts
 * from BASE/MAX, z_dim and w_dim as given, 2 mapping layers. */
HdGeneratorConfig hd_test_config   (int      res,
                                    int      channel_base,
                                    int      channel_max,
                                    int      z_dim,
                                    int      w_dim,
                                    gboolean conv_clamp);

#include "hd-domain.h"
#include "hd-latent.h"
#include "hd-render-params.h"

/* One case of conformance/cases.json, loaded through the engine. */
typedef struct {
  char           *name;
  HdGenerator    *gen;
  HdRenderParams  params;
  float          *latent;     /* z or ws the params point to, or NULL */
  float          *domain;     /* blended d the params point to, or NULL */
  HdNpy          *expected;   /* (C, H, W) */
  GPtrArray      *cli_args;   /* the case as hyperdomain-render arguments */
} HdTestCase;

/* The JSON object of conformance file RELATIVE (e.g. "training/cases.json"),
 * owned by PARSER. */
struct _JsonParser;
struct _JsonObject *hd_test_load_json (struct _JsonParser *parser,
                                       const char         *relative);
/* max |A[i] - B[i]| over N floats (hd_test_compare's; a NaN counts as
 * infinite). */
double     hd_test_max_abs_diff (const float *a,
                                 const float *b,
                                 gsize        n);

/* The clip file NAME of conformance/training. */
struct _HdClip *hd_test_load_clip (const char *name);

/* The .npy conformance file whose relative path FORMAT makes. */
HdNpy     *hd_test_load_npy               (const char *format,
                                           ...) G_GNUC_PRINTF (1, 2);

/* Every case, with the tolerance of cases.json. */
GPtrArray *hd_test_load_conformance_cases (double *max_abs_tolerance,
                                           double *min_psnr_db);
/* Compares OUT, a render of TC, with its expected image: logs the
 * figures, fails beyond the tolerance (MAX_ABS_TOLERANCE, MIN_PSNR_DB) and
 * keeps the worst figures so far in WORST_ABS and WORST_PSNR. */
void       hd_test_check_case             (const HdTestCase *tc,
                                           const float      *out,
                                           double            max_abs_tolerance,
                                           double            min_psnr_db,
                                           double           *worst_abs,
                                           double           *worst_psnr);

/* hyperdomain-render ($HD_RENDER) run to the end. */
typedef struct {
  int   status;     /* exit status, or -1 when killed by a signal */
  char *out;
  char *err;
} HdTestCliResult;

void      hd_test_cli_result_clear (HdTestCliResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdTestCliResult, hd_test_cli_result_clear)

/* Runs it with ARGS (char *), in the environment ENVP (NULL: this one);
 * stderr goes to the test log when it fails. */
void      hd_test_run_cli_argv     (HdTestCliResult *r,
                                    char           **envp,
                                    GPtrArray       *args);
/* The same with the NULL-terminated arguments. */
void      hd_test_run_cli          (HdTestCliResult *r,
                                    const char      *first,
                                    ...) G_GNUC_NULL_TERMINATED;

/* hd_test_run_cli () under timeout(1): killed after SECONDS, when its
 * status is 124 (or 137 if it ignored SIGTERM). */
void      hd_test_run_cli_timeout  (HdTestCliResult *r,
                                    guint            seconds,
                                    const char      *first,
                                    ...) G_GNUC_NULL_TERMINATED;

/* The number of '\n' in TEXT. */
int       hd_test_count_lines      (const char *text);
