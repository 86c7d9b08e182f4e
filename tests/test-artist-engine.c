/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine side of the artist tools: blend-pad weights, contact-sheet
 * layout and keyframe interpolation. */
#include <math.h>
#include <string.h>

#include "hd-animation.h"
#include "hd-blend-weights.h"
#include "hd-cpu-reference.h"
#include "hd-test-util.h"
#include "hd-sheet.h"
#include "hd-state.h"

static double
sum_of (const double *w,
        guint         n)
{
  double s = 0;

  for (guint i = 0; i < n; i++)
    s += w[i];
  return s;
}

static void
test_blend_pad_points (void)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS];

  for (guint n = 1; n <= 8; n++)
    {
      /* The centre is the original generator. */
      hd_blend_pad_weights (n, 0, 0, w);
      for (guint i = 0; i < n; i++)
        g_assert_cmpfloat (w[i], ==, 0.0);

      /* A corner is its domain alone. */
      for (guint i = 0; i < n; i++)
        {
          double x, y;

          hd_blend_pad_corner (i, n, &x, &y);
          g_assert_cmpfloat_with_epsilon (hypot (x, y), 1.0, 1e-12);
          hd_blend_pad_weights (n, x, y, w);
          for (guint k = 0; k < n; k++)
            g_assert_cmpfloat_with_epsilon (w[k], k == i ? 1.0 : 0.0, 1e-9);
        }
    }

  /* The first corner is at the top (y down). */
  {
    double x, y;

    hd_blend_pad_corner (0, 3, &x, &y);
    g_assert_cmpfloat_with_epsilon (x, 0.0, 1e-12);
    g_assert_cmpfloat_with_epsilon (y, -1.0, 1e-12);
  }
}

static void
test_blend_pad_formula (void)
{
  double w[3];
  double x0, y0, x1, y1, x2, y2;
  double px = 0.2, py = -0.3;
  double u0, u1, u2, u3, s;

  /* Inverse squared distance over the centre and the corners. */
  hd_blend_pad_corner (0, 3, &x0, &y0);
  hd_blend_pad_corner (1, 3, &x1, &y1);
  hd_blend_pad_corner (2, 3, &x2, &y2);
  u0 = 1 / (px * px + py * py);
  u1 = 1 / ((px - x0) * (px - x0) + (py - y0) * (py - y0));
  u2 = 1 / ((px - x1) * (px - x1) + (py - y1) * (py - y1));
  u3 = 1 / ((px - x2) * (px - x2) + (py - y2) * (py - y2));
  s = u0 + u1 + u2 + u3;
  hd_blend_pad_weights (3, px, py, w);
  g_assert_cmpfloat_with_epsilon (w[0], u1 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (w[1], u2 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (w[2], u3 / s, 1e-12);
}

/* Weights the pad can show are found again, to rounding: the centre,
 * the corners and points all over the disc, for one to eight domains;
 * weights it cannot show are reported as off the pad. */
static void
test_blend_pad_locate (void)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS], back[HD_BLEND_PAD_MAX_DOMAINS];
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  double x, y;

  for (guint n = 1; n <= 8; n++)
    {
      hd_blend_pad_weights (n, 0, 0, w);
      g_assert_cmpfloat (hd_blend_pad_locate (n, w, &x, &y), <, 1e-9);
      g_assert_cmpfloat (hypot (x, y), <, 1e-6);

      for (guint i = 0; i < n; i++)
        {
          double cx, cy;

          hd_blend_pad_corner (i, n, &cx, &cy);
          hd_blend_pad_weights (n, cx, cy, w);
          g_assert_cmpfloat (hd_blend_pad_locate (n, w, &x, &y), <, 1e-9);
          g_assert_cmpfloat (hypot (x - cx, y - cy), <, 1e-4);
        }

      for (int k = 0; k < 40; k++)
        {
          double px = g_rand_double_range (rand, -1, 1), py = g_rand_double_range (rand, -1, 1);

          hd_blend_pad_clamp (&px, &py);
          hd_blend_pad_weights (n, px, py, w);
          g_assert_cmpfloat (hd_blend_pad_locate (n, w, &x, &y), <, 1e-6);
          /* One domain: every point of a circle around it has the same
           * weight; two: the mirror image across their line has the same
           * weights.  From three on, a point is its weights' only one. */
          hd_blend_pad_weights (n, x, y, back);
          for (guint i = 0; i < n; i++)
            g_assert_cmpfloat_with_epsilon (back[i], w[i], 1e-6);
          if (n >= 3)
            g_assert_cmpfloat (hypot (x - px, y - py), <, 1e-3);
        }
    }

  /* The pad's weights sum to at most 1: 1.00 and 0.95 are off it, and so
   * is a negative weight. */
  w[0] = 1.0, w[1] = 0.95, w[2] = 0.0, w[3] = 0.0;
  g_assert_cmpfloat (hd_blend_pad_locate (4, w, &x, &y), >, 0.1);
  g_assert_cmpfloat (hypot (x, y), <=, 1.0 + 1e-12);
  w[0] = -0.5, w[1] = 0.0;
  g_assert_cmpfloat (hd_blend_pad_locate (2, w, &x, &y), >=, 0.5 - 1e-9);
}

static void
test_blend_pad_properties (void)
{
  double w[HD_BLEND_PAD_MAX_DOMAINS], prev[HD_BLEND_PAD_MAX_DOMAINS];
  guint n = 5;

  /* In [0, 1], summing to at most 1, everywhere in the disc; continuous
   * along a path that passes near every corner. */
  for (int step = 0; step <= 2000; step++)
    {
      double t = step / 2000.0 * 2 * G_PI;
      double r = 0.999 * (0.5 + 0.5 * sin (5 * t));
      double x = r * cos (t - G_PI / 2), y = r * sin (t - G_PI / 2);

      hd_blend_pad_weights (n, x, y, w);
      for (guint i = 0; i < n; i++)
        {
          g_assert_cmpfloat (w[i], >=, 0.0);
          g_assert_cmpfloat (w[i], <=, 1.0);
          if (step > 0)
            g_assert_cmpfloat (fabs (w[i] - prev[i]), <, 0.1);
        }
      g_assert_cmpfloat (sum_of (w, n), <=, 1.0 + 1e-12);
      memcpy (prev, w, sizeof w);
    }

  /* Outside the disc counts as its rim; symmetric corners share evenly. */
  {
    double a[2], b[2];

    hd_blend_pad_weights (2, 5.0, 0.0, a);
    hd_blend_pad_weights (2, 1.0, 0.0, b);
    g_assert_cmpfloat_with_epsilon (a[0], b[0], 1e-12);
    g_assert_cmpfloat_with_epsilon (a[0], a[1], 1e-12);
    hd_blend_pad_weights (2, NAN, 0.0, a);
    g_assert_cmpfloat (a[0], ==, 0.0);
  }
}

static HdState *
two_domain_state (void)
{
  HdState *state = hd_state_new ();
  HdStateDomain a = { .path = g_strdup ("/a.safetensors"), .name = g_strdup ("Pixar"), .weight = 0.25f };
  HdStateDomain b = { .path = g_strdup ("/b.safetensors"), .name = g_strdup ("Anime"), .weight = 0.5f };

  g_array_append_val (state->domains, a);
  g_array_append_val (state->domains, b);
  return state;
}

static void
test_sheet_columns (void)
{
  g_autoptr(HdState) base = two_domain_state ();
  g_autoptr(HdSheet) domains = hd_sheet_new (2);
  g_autoptr(HdSheet) sweep = hd_sheet_new (2);
  g_autoptr(GError) error = NULL;
  HdSheetColumn *col;

  hd_sheet_add_domain_columns (domains, base);
  g_assert_cmpuint (domains->columns->len, ==, 3);
  col = g_ptr_array_index (domains->columns, 0);
  g_assert_cmpstr (col->label, ==, "original");
  g_assert_cmpfloat (col->weights[0], ==, 0.0f);
  g_assert_cmpfloat (col->weights[1], ==, 0.0f);
  col = g_ptr_array_index (domains->columns, 2);
  g_assert_cmpstr (col->label, ==, "Anime 1");
  g_assert_cmpfloat (col->weights[0], ==, 0.0f);
  g_assert_cmpfloat (col->weights[1], ==, 1.0f);

  /* A sweep of the second domain keeps the first at its weight. */
  g_assert_true (hd_sheet_add_sweep_columns (sweep, base, 1, -0.5f, 1.5f, 5, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sweep->columns->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      col = g_ptr_array_index (sweep->columns, i);
      g_assert_cmpfloat (col->weights[0], ==, 0.25f);
      g_assert_cmpfloat_with_epsilon (col->weights[1], -0.5 + 0.5 * i, 1e-6);
    }
  g_assert_cmpstr (((HdSheetColumn *) g_ptr_array_index (sweep->columns, 4))->label, ==, "Anime 1.50");

  g_assert_false (hd_sheet_add_sweep_columns (sweep, base, 2, 0, 1, 3, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (hd_sheet_add_sweep_columns (sweep, base, 0, 0, 1, 1, &error));
  g_assert_nonnull (error);
}

static void
test_sheet_layout (void)
{
  g_autoptr(HdSheet) sheet = hd_sheet_new (0);
  PangoContext *context = hd_sheet_text_context_new ();
  HdSheetLayout small, large;
  int x0, y0, x1, y1, label_w, label_h;

  for (guint32 s = 0; s < 3; s++)
    hd_sheet_add_seed (sheet, s * 1000);
  hd_sheet_add_column (sheet, "original", NULL);
  hd_sheet_add_column (sheet, "two", NULL);

  /* Small images are enlarged to at least 128 pixels, by a whole factor. */
  hd_sheet_get_layout (sheet, 32, &small);
  g_assert_cmpint (small.scale, ==, 4);
  g_assert_cmpint (small.cell, ==, 128);
  hd_sheet_get_layout (sheet, 1024, &large);
  g_assert_cmpint (large.scale, ==, 1);
  g_assert_cmpint (large.cell, ==, 1024);

  /* The font grows with the cell, within readable bounds. */
  g_assert_cmpint (small.font_px, >=, 12);
  g_assert_cmpint (large.font_px, >, small.font_px);
  g_assert_cmpint (large.font_px, <=, 64);

  /* Row labels fit their column, a line of text fits the header; cells
   * follow with a gap, within the image. */
  hd_sheet_text_size (context, "seed 2000", small.font_px, &label_w, &label_h);
  g_assert_cmpint (label_w, >, 0);
  g_assert_cmpint (label_h, >=, small.font_px);
  g_assert_cmpint (small.row_label_w, >=, label_w + 2 * small.gap);
  g_assert_cmpint (small.header_h, >=, label_h + 2 * small.gap);
  hd_sheet_cell_origin (&small, 0, 0, &x0, &y0);
  hd_sheet_cell_origin (&small, 2, 1, &x1, &y1);
  g_assert_cmpint (x0, ==, small.row_label_w);
  g_assert_cmpint (y0, ==, small.header_h);
  g_assert_cmpint (x1 - x0, ==, small.cell + small.gap);
  g_assert_cmpint (y1 - y0, ==, 2 * (small.cell + small.gap));
  g_assert_cmpint (x1 + small.cell, <=, small.width);
  g_assert_cmpint (y1 + small.cell, <=, small.height);
  g_object_unref (context);
}

#define TEXT_W 240
#define TEXT_H 80

static const guint8 paper[3] = { 0xfa, 0xfa, 0xfa };
static const guint8 dark[3] = { 0x24, 0x24, 0x24 };

static void
fill_paper (guint8 *img)
{
  for (gsize p = 0; p < (gsize) TEXT_W * TEXT_H; p++)
    memcpy (img + p * 3, paper, 3);
}

/* Pixels that are not the background, inside and outside a box. */
static void
count_ink (const guint8 *img,
           int           bx,
           int           by,
           int           bw,
           int           bh,
           int          *inside,
           int          *outside,
           int          *right_edge)
{
  *inside = *outside = 0;
  *right_edge = -1;
  for (int y = 0; y < TEXT_H; y++)
    for (int x = 0; x < TEXT_W; x++)
      {
        gboolean in_box = x >= bx && x < bx + bw && y >= by && y < by + bh;

        if (memcmp (img + ((gsize) y * TEXT_W + x) * 3, paper, 3) == 0)
          continue;
        if (in_box)
          {
            (*inside)++;
            *right_edge = MAX (*right_edge, x - bx);
          }
        else
          (*outside)++;
      }
}

/* Labels in any script: ink inside the box, none outside; the same pixels
 * twice; dark on light. */
static void
test_sheet_text_scripts (void)
{
  const char *labels[] = { "пиксар 1", "日本の絵 0.50", "seed 7", "Ünïcödé «пиксар» 日本" };
  PangoContext *context = hd_sheet_text_context_new ();
  g_autofree guint8 *img = g_malloc ((gsize) TEXT_W * TEXT_H * 3);
  g_autofree guint8 *again = g_malloc ((gsize) TEXT_W * TEXT_H * 3);
  g_autofree char *name = hd_sheet_cell_name (7, 2);

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      const int bx = 30, by = 20, bw = 200, bh = 36;
      int inside, outside, edge, drawn, darkest = 0xff;

      fill_paper (img);
      drawn = hd_sheet_draw_text (context, img, TEXT_W, TEXT_H, bx, by, bw, bh, labels[i], 16, dark);
      count_ink (img, bx, by, bw, bh, &inside, &outside, &edge);
      g_test_message ("“%s”: %d pixels of ink, %d wide", labels[i], inside, drawn);
      g_assert_cmpint (inside, >, 20);
      g_assert_cmpint (outside, ==, 0);
      g_assert_cmpint (drawn, >, 0);
      g_assert_cmpint (drawn, <=, bw);
      for (gsize p = 0; p < (gsize) TEXT_W * TEXT_H * 3; p++)
        darkest = MIN (darkest, img[p]);
      g_assert_cmpint (darkest, <, 0x80);

      fill_paper (again);
      hd_sheet_draw_text (context, again, TEXT_W, TEXT_H, bx, by, bw, bh, labels[i], 16, dark);
      g_assert_cmpmem (img, (gsize) TEXT_W * TEXT_H * 3, again, (gsize) TEXT_W * TEXT_H * 3);
    }

  /* A box over the image's edge draws only what is inside the image. */
  fill_paper (img);
  hd_sheet_draw_text (context, img, TEXT_W, TEXT_H, TEXT_W - 20, TEXT_H - 10, 100, 40, "WWWW", 24, dark);
  hd_sheet_draw_text (context, img, TEXT_W, TEXT_H, -10, -10, 60, 30, "WWWW", 24, dark);
  /* An empty box draws nothing. */
  g_assert_cmpint (hd_sheet_draw_text (context, img, TEXT_W, TEXT_H, 0, 0, 0, 20, "W", 16, dark), ==, 0);

  g_assert_cmpstr (name, ==, "seed0000000007-col02.png");
  g_object_unref (context);
}

/* A label wider than its cell ends in an ellipsis within the cell. */
static void
test_sheet_text_ellipsis (void)
{
  const char *long_label = "очень длинное название домена, которое не помещается 長い名前 1.00";
  PangoContext *context = hd_sheet_text_context_new ();
  g_autofree guint8 *img = g_malloc ((gsize) TEXT_W * TEXT_H * 3);
  const int bx = 10, by = 10, bw = 128, bh = 30;
  int natural_w, inside, outside, edge, drawn;

  hd_sheet_text_size (context, long_label, 16, &natural_w, NULL);
  g_assert_cmpint (natural_w, >, 2 * bw);

  fill_paper (img);
  drawn = hd_sheet_draw_text (context, img, TEXT_W, TEXT_H, bx, by, bw, bh, long_label, 16, dark);
  count_ink (img, bx, by, bw, bh, &inside, &outside, &edge);
  g_assert_cmpint (outside, ==, 0);
  g_assert_cmpint (drawn, <=, bw);
  /* Shortened, not dropped: the text and its ellipsis fill most of the
   * cell, and the ink stops within it. */
  g_assert_cmpint (drawn, >, bw / 2);
  g_assert_cmpint (inside, >, 50);
  g_assert_cmpint (edge, <, bw);
  g_object_unref (context);
}

static void
test_animation_ease (void)
{
  double prev = 0;

  g_assert_cmpfloat (hd_animation_ease (0), ==, 0);
  g_assert_cmpfloat (hd_animation_ease (1), ==, 1);
  g_assert_cmpfloat (hd_animation_ease (0.5), ==, 0.5);
  g_assert_cmpfloat_with_epsilon (hd_animation_ease (0.25), 0.15625, 1e-12);
  g_assert_cmpfloat (hd_animation_ease (-1), ==, 0);
  g_assert_cmpfloat (hd_animation_ease (2), ==, 1);
  /* Rising, flat at both ends. */
  for (int i = 1; i <= 100; i++)
    {
      double v = hd_animation_ease (i / 100.0);
      g_assert_cmpfloat (v, >, prev);
      prev = v;
    }
  g_assert_cmpfloat (hd_animation_ease (0.001) / 0.001, <, 0.01);
  g_assert_cmpfloat ((1 - hd_animation_ease (0.999)) / 0.001, <, 0.01);
}

static HdDomain *
load_domain (const char *name)
{
  g_autofree char *path = hd_test_conformance_path (name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hd_domain_load_all (path, &error);

  g_assert_no_error (error);
  return hd_domain_ref (g_ptr_array_index (all, 0));
}

static float *
raw_ws (HdGenerator *gen,
        guint32      seed)
{
  HdRenderParams params;
  g_autoptr(GError) error = NULL;
  float *ws = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);

  hd_render_params_init (&params);
  params.seed = seed;
  g_assert_true (hd_cpu_compute_ws (gen, &params, ws, &error));
  return ws;
}

static void
test_animation_frames (void)
{
  g_autofree char *gen_path = hd_test_conformance_path ("tiny.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdGenerator) gen = hd_generator_load (gen_path, &error);
  g_autoptr(HdDomain) dom_a = load_domain ("tiny-domain-a.safetensors");
  g_autoptr(HdDomain) dom_b = load_domain ("tiny-domain-b.safetensors");
  g_autoptr(HdState) k1 = hd_state_new ();
  g_autoptr(HdState) k2 = hd_state_new ();
  g_autoptr(GPtrArray) d1 = g_ptr_array_new ();
  g_autoptr(GPtrArray) d2 = g_ptr_array_new ();
  g_autoptr(HdAnimation) open = NULL;
  g_autoptr(HdAnimation) loop = NULL;
  g_autofree float *ws1 = NULL;
  g_autofree float *ws2 = NULL;
  gsize n;
  guint segment;
  double t;

  g_assert_no_error (error);
  n = (gsize) gen->num_ws * gen->config.w_dim;
  ws1 = raw_ws (gen, 1);
  ws2 = raw_ws (gen, 2);

  /* Key 1: seed 1, psi 1, A at 1 on the coarse layers; key 2: seed 2,
   * psi 0.5, B at 1. */
  k1->seed = 1;
  hd_state_add_domain (k1, dom_a, 1.0f, 0, 8);
  g_ptr_array_add (d1, dom_a);
  k2->seed = 2;
  k2->psi = 0.5f;
  k2->cutoff = 4;
  hd_state_add_domain (k2, dom_b, 1.0f, 0, 0);
  g_ptr_array_add (d2, dom_b);

  open = hd_animation_new (gen, 4, FALSE, FALSE);
  g_assert_cmpuint (hd_animation_get_n_frames (open), ==, 0);
  g_assert_true (hd_animation_add_key (open, k1, d1, &error));
  g_assert_true (hd_animation_add_key (open, k2, d2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (hd_animation_get_n_frames (open), ==, 5);

  hd_animation_frame_position (open, 4, &segment, &t);
  g_assert_cmpuint (segment, ==, 0);
  g_assert_cmpfloat (t, ==, 1.0);

  {
    GPtrArray *domains = NULL;
    g_autoptr(HdState) first = hd_animation_get_frame (open, 0, &domains);
    g_autoptr(HdState) mid = hd_animation_get_frame (open, 2, NULL);
    g_autoptr(HdState) last = hd_animation_get_frame (open, 4, NULL);

    /* The union of the domains, in order; A keeps its range. */
    g_assert_cmpuint (domains->len, ==, 2);
    g_assert_cmpuint (first->domains->len, ==, 2);
    g_assert_cmpint (g_array_index (first->domains, HdStateDomain, 0).max_res, ==, 8);
    g_assert_cmpfloat (g_array_index (first->domains, HdStateDomain, 0).weight, ==, 1.0f);
    g_assert_cmpfloat (g_array_index (first->domains, HdStateDomain, 1).weight, ==, 0.0f);
    g_assert_cmpmem (first->latent, n * sizeof (float), ws1, n * sizeof (float));
    g_assert_cmpint (first->latent_kind, ==, HD_LATENT_W);
    g_assert_cmpfloat (first->psi, ==, 1.0f);
    g_assert_cmpint (first->cutoff, ==, -1);

    g_assert_cmpfloat (g_array_index (mid->domains, HdStateDomain, 0).weight, ==, 0.5f);
    g_assert_cmpfloat (g_array_index (mid->domains, HdStateDomain, 1).weight, ==, 0.5f);
    g_assert_cmpfloat (mid->psi, ==, 0.75f);
    for (gsize i = 0; i < n; i += 97)
      g_assert_cmpfloat_with_epsilon (mid->latent[i], 0.5f * (ws1[i] + ws2[i]), 1e-5);

    g_assert_cmpmem (last->latent, n * sizeof (float), ws2, n * sizeof (float));
    g_assert_cmpfloat (last->psi, ==, 0.5f);
    g_assert_cmpfloat (g_array_index (last->domains, HdStateDomain, 1).weight, ==, 1.0f);
  }

  /* A loop with easing: 8 frames, back toward the first key. */
  loop = hd_animation_new (gen, 4, TRUE, TRUE);
  g_assert_true (hd_animation_add_key (loop, k1, d1, &error));
  g_assert_true (hd_animation_add_key (loop, k2, d2, &error));
  g_assert_cmpuint (hd_animation_get_n_frames (loop), ==, 8);
  hd_animation_frame_position (loop, 5, &segment, &t);
  g_assert_cmpuint (segment, ==, 1);
  g_assert_cmpfloat (t, ==, 0.25);
  {
    g_autoptr(HdState) f1 = hd_animation_get_frame (loop, 1, NULL);
    g_autoptr(HdState) f5 = hd_animation_get_frame (loop, 5, NULL);

    /* Eased: a quarter of the way in time is 0.15625 of the way. */
    g_assert_cmpfloat_with_epsilon (g_array_index (f1->domains, HdStateDomain, 1).weight, 0.15625, 1e-6);
    g_assert_cmpfloat_with_epsilon (g_array_index (f5->domains, HdStateDomain, 1).weight, 1 - 0.15625, 1e-6);
    /* The second segment starts from key 2: its cutoff. */
    g_assert_cmpint (f5->cutoff, ==, 4);
  }

  /* A latent of the wrong size is refused. */
  {
    g_autoptr(HdAnimation) bad = hd_animation_new (gen, 4, FALSE, FALSE);
    g_autoptr(HdState) k3 = hd_state_new ();
    g_autoptr(GPtrArray) none = g_ptr_array_new ();

    k3->latent_kind = HD_LATENT_Z;
    k3->latent_rows = 1;
    k3->latent_cols = 3;
    k3->latent = g_new0 (float, 3);
    g_assert_false (hd_animation_add_key (bad, k3, none, &error));
    g_assert_nonnull (error);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/points", test_blend_pad_points);
  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/formula", test_blend_pad_formula);
  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/properties", test_blend_pad_properties);
  g_test_add_func ("/Hyperdomain/ArtistEngine/blend-pad/locate", test_blend_pad_locate);
  g_test_add_func ("/Hyperdomain/ArtistEngine/sheet/columns", test_sheet_columns);
  g_test_add_func ("/Hyperdomain/ArtistEngine/sheet/layout", test_sheet_layout);
  g_test_add_func ("/Hyperdomain/ArtistEngine/sheet/text/scripts", test_sheet_text_scripts);
  g_test_add_func ("/Hyperdomain/ArtistEngine/sheet/text/ellipsis", test_sheet_text_ellipsis);
  g_test_add_func ("/Hyperdomain/ArtistEngine/animation/ease", test_animation_ease);
  g_test_add_func ("/Hyperdomain/ArtistEngine/animation/frames", test_animation_frames);

  return g_test_run ();
}
