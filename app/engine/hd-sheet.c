/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-sheet.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <pango/pangocairo.h>

#include "hd-error.h"
#include "hd-png.h"
#include "hd-render-params.h"
#include "hd-state-render.h"

static const guint8 background[3] = { 0xfa, 0xfa, 0xfa };
static const guint8 ink[3] = { 0x24, 0x24, 0x24 };

HdSheet *
hd_sheet_new (guint n_domains)
{
  HdSheet *sheet = g_new0 (HdSheet, 1);

  sheet->seeds = g_array_new (FALSE, FALSE, sizeof (guint32));
  sheet->columns = g_ptr_array_new ();
  sheet->n_domains = n_domains;
  return sheet;
}

void
hd_sheet_free (HdSheet *sheet)
{
  if (sheet == NULL)
    return;
  for (guint i = 0; i < sheet->columns->len; i++)
    {
      HdSheetColumn *col = g_ptr_array_index (sheet->columns, i);

      g_free (col->label);
      g_free (col->weights);
      g_free (col);
    }
  g_ptr_array_unref (sheet->columns);
  g_array_unref (sheet->seeds);
  g_free (sheet);
}

void
hd_sheet_add_seed (HdSheet *sheet,
                   guint32  seed)
{
  g_array_append_val (sheet->seeds, seed);
}

void
hd_sheet_add_column (HdSheet     *sheet,
                     const char  *label,
                     const float *weights)
{
  HdSheetColumn *col = g_new0 (HdSheetColumn, 1);

  col->label = g_strdup (label);
  col->weights = g_new0 (float, MAX (sheet->n_domains, 1));
  if (weights != NULL)
    memcpy (col->weights, weights, sizeof (float) * sheet->n_domains);
  g_ptr_array_add (sheet->columns, col);
}

static const char *
domain_label (const HdState *base,
              guint          index)
{
  const HdStateDomain *d = &g_array_index (base->domains, HdStateDomain, index);

  if (d->name != NULL && *d->name != '\0')
    return d->name;
  if (d->id != NULL)
    return d->id;
  return "domain";
}

void
hd_sheet_add_domain_columns (HdSheet       *sheet,
                             const HdState *base)
{
  g_autofree float *weights = g_new0 (float, MAX (sheet->n_domains, 1));

  hd_sheet_add_column (sheet, "original", weights);
  for (guint i = 0; i < sheet->n_domains; i++)
    {
      g_autofree char *label = g_strdup_printf ("%s 1", domain_label (base, i));

      memset (weights, 0, sizeof (float) * sheet->n_domains);
      weights[i] = 1.0f;
      hd_sheet_add_column (sheet, label, weights);
    }
}

gboolean
hd_sheet_add_sweep_columns (HdSheet       *sheet,
                            const HdState *base,
                            guint          index,
                            float          from,
                            float          to,
                            guint          steps,
                            GError       **error)
{
  g_autofree float *weights = NULL;

  if (index >= sheet->n_domains)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("There is no domain %u to sweep: the state has %u"), index + 1, sheet->n_domains);
      return FALSE;
    }
  if (steps < 2 || steps > 64 || !isfinite (from) || !isfinite (to))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A weight sweep takes 2 to 64 steps between two finite weights"));
      return FALSE;
    }

  weights = g_new0 (float, sheet->n_domains);
  for (guint i = 0; i < sheet->n_domains; i++)
    weights[i] = g_array_index (base->domains, HdStateDomain, i).weight;
  for (guint s = 0; s < steps; s++)
    {
      /* The same arithmetic in every program, so the same weights. */
      float w = from + (to - from) * ((float) s / (float) (steps - 1));
      char number[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *label = NULL;

      weights[index] = w;
      g_ascii_formatd (number, sizeof number, "%.2f", w);
      label = g_strdup_printf ("%s %s", domain_label (base, index), number);
      hd_sheet_add_column (sheet, label, weights);
    }
  return TRUE;
}

char *
hd_sheet_row_label (guint32 seed)
{
  return g_strdup_printf ("seed %u", seed);
}

char *
hd_sheet_cell_name (guint32 seed,
                    guint   col)
{
  return g_strdup_printf ("seed%010u-col%02u.png", seed, col);
}

PangoContext *
hd_sheet_text_context_new (void)
{
  PangoFontMap *map = pango_cairo_font_map_new ();
  PangoContext *context = pango_font_map_create_context (map);
  cairo_font_options_t *options = cairo_font_options_create ();

  /* Fixed rendering options rather than the desktop's, so the labels come
   * out the same in the application, on its worker thread, and in
   * hyperdomain-render without a display: greyscale antialiasing, no
   * hinting, unhinted metrics.  The font map is our own (not Pango's
   * per-thread default, which GTK configures). */
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options (context, options);
  pango_cairo_context_set_resolution (context, 96.0);
  cairo_font_options_destroy (options);
  g_object_unref (map);
  return context;
}

/* One line of TEXT at FONT_PX pixels, cut with an ellipsis at MAX_W
 * pixels when MAX_W > 0. */
static PangoLayout *
label_layout (PangoContext *context,
              const char   *text,
              int           font_px,
              int           max_w)
{
  PangoLayout *layout = pango_layout_new (context);
  PangoFontDescription *desc = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (desc, (double) font_px * PANGO_SCALE);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  /* A prompt with a line break still makes one line. */
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  if (max_w > 0)
    {
      pango_layout_set_width (layout, max_w * PANGO_SCALE);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  pango_layout_set_text (layout, text, -1);
  return layout;
}

void
hd_sheet_text_size (PangoContext *context,
                    const char   *text,
                    int           font_px,
                    int          *width,
                    int          *height)
{
  g_autoptr(PangoLayout) layout = label_layout (context, text, font_px, 0);
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  if (width != NULL)
    *width = logical.width;
  if (height != NULL)
    *height = logical.height;
}

int
hd_sheet_draw_text (PangoContext *context,
                    guint8       *rgb,
                    int           width,
                    int           height,
                    int           box_x,
                    int           box_y,
                    int           box_w,
                    int           box_h,
                    const char   *text,
                    int           font_px,
                    const guint8  color[3])
{
  g_autoptr(PangoLayout) layout = NULL;
  cairo_surface_t *mask;
  cairo_t *cr;
  PangoRectangle logical;
  const guint8 *alpha;
  int stride;

  if (box_w <= 0 || box_h <= 0)
    return 0;

  /* The text becomes coverage in an alpha mask the size of the box, so
   * nothing can land outside it; then COLOR is laid over the image
   * through the mask. */
  layout = label_layout (context, text, font_px, box_w);
  pango_layout_get_pixel_extents (layout, NULL, &logical);
  mask = cairo_image_surface_create (CAIRO_FORMAT_A8, box_w, box_h);
  cr = cairo_create (mask);
  cairo_set_source_rgba (cr, 0, 0, 0, 1);
  cairo_move_to (cr, 0, (box_h - logical.height) / 2);
  pango_cairo_show_layout (cr, layout);
  cairo_destroy (cr);
  cairo_surface_flush (mask);

  alpha = cairo_image_surface_get_data (mask);
  stride = cairo_image_surface_get_stride (mask);
  for (int y = MAX (0, -box_y); y < box_h && box_y + y < height; y++)
    for (int x = MAX (0, -box_x); x < box_w && box_x + x < width; x++)
      {
        guint a = alpha[(gsize) y * stride + x];
        guint8 *px = rgb + ((gsize) (box_y + y) * width + box_x + x) * 3;

        if (a == 0)
          continue;
        for (int c = 0; c < 3; c++)
          px[c] = (guint8) ((px[c] * (255 - a) + color[c] * a + 127) / 255);
      }
  cairo_surface_destroy (mask);
  return MAX (logical.x + logical.width, 0);
}

static void
compute_layout (const HdSheet *sheet,
                int            img_res,
                PangoContext  *context,
                HdSheetLayout *layout)
{
  int widest = 0, text_h = 0;

  memset (layout, 0, sizeof *layout);
  layout->img_res = img_res;
  layout->scale = MAX (1, (HD_SHEET_MIN_CELL + img_res - 1) / img_res);
  layout->cell = img_res * layout->scale;
  layout->font_px = CLAMP (layout->cell / 8, 16, 32);
  layout->gap = layout->font_px / 2;

  /* The header is as tall as the tallest label line (a fallback font for
   * another script may be taller than Sans). */
  for (guint c = 0; c < sheet->columns->len; c++)
    {
      HdSheetColumn *col = g_ptr_array_index (sheet->columns, c);
      int h;

      hd_sheet_text_size (context, col->label, layout->font_px, NULL, &h);
      text_h = MAX (text_h, h);
    }
  for (guint r = 0; r < sheet->seeds->len; r++)
    {
      g_autofree char *label = hd_sheet_row_label (g_array_index (sheet->seeds, guint32, r));
      int w, h;

      hd_sheet_text_size (context, label, layout->font_px, &w, &h);
      widest = MAX (widest, w);
      text_h = MAX (text_h, h);
    }
  layout->header_h = text_h + 2 * layout->gap;
  layout->row_label_w = widest + 2 * layout->gap;

  layout->width = layout->row_label_w + (int) sheet->columns->len * (layout->cell + layout->gap);
  layout->height = layout->header_h + (int) sheet->seeds->len * (layout->cell + layout->gap);
}

void
hd_sheet_get_layout (const HdSheet *sheet,
                     int            img_res,
                     HdSheetLayout *layout)
{
  PangoContext *context = hd_sheet_text_context_new ();

  compute_layout (sheet, img_res, context, layout);
  g_object_unref (context);
}

void
hd_sheet_cell_origin (const HdSheetLayout *layout,
                      guint                row,
                      guint                col,
                      int                 *x,
                      int                 *y)
{
  *x = layout->row_label_w + (int) col * (layout->cell + layout->gap);
  *y = layout->header_h + (int) row * (layout->cell + layout->gap);
}

/* Labels: the blend settings over the columns, the seeds by the rows;
 * each in its box (a column's is the cell's width by the header's
 * height; a row's is the label column, less its margins, by the cell's
 * height), left-aligned and centred vertically. */
static void
draw_labels (const HdSheet       *sheet,
             const HdSheetLayout *layout,
             guint8              *rgb)
{
  PangoContext *context = hd_sheet_text_context_new ();

  for (guint c = 0; c < sheet->columns->len; c++)
    {
      HdSheetColumn *col = g_ptr_array_index (sheet->columns, c);
      int x, y;

      hd_sheet_cell_origin (layout, 0, c, &x, &y);
      hd_sheet_draw_text (context, rgb, layout->width, layout->height, x, 0, layout->cell,
                          layout->header_h, col->label, layout->font_px, ink);
    }
  for (guint r = 0; r < sheet->seeds->len; r++)
    {
      g_autofree char *label = hd_sheet_row_label (g_array_index (sheet->seeds, guint32, r));
      int x, y;

      hd_sheet_cell_origin (layout, r, 0, &x, &y);
      hd_sheet_draw_text (context, rgb, layout->width, layout->height, layout->gap, y,
                          layout->row_label_w - 2 * layout->gap, layout->cell, label,
                          layout->font_px, ink);
    }
  g_object_unref (context);
}

/* Copies an image (CHANNELS interleaved bytes, RES × RES) into the sheet,
 * SCALE times larger. */
static void
blit_cell (guint8              *sheet_rgb,
           const HdSheetLayout *layout,
           int                  x0,
           int                  y0,
           const guint8        *img,
           int                  channels)
{
  for (int y = 0; y < layout->cell; y++)
    {
      const guint8 *src_row = img + (gsize) (y / layout->scale) * layout->img_res * channels;
      guint8 *dst = sheet_rgb + ((gsize) (y0 + y) * layout->width + x0) * 3;

      for (int x = 0; x < layout->cell; x++)
        {
          const guint8 *src = src_row + (gsize) (x / layout->scale) * channels;

          dst[x * 3 + 0] = src[0];
          dst[x * 3 + 1] = src[channels > 1 ? 1 : 0];
          dst[x * 3 + 2] = src[channels > 2 ? 2 : 0];
        }
    }
}

/* An 8-bit RGB image as the floats that hd_png_write turns back into the
 * same bytes: (b - 127.5) / 127.5 lies in the middle of b's interval. */
static float *
u8_to_planar (const guint8 *rgb,
              int           width,
              int           height)
{
  gsize n = (gsize) width * height;
  float *planar = g_new (float, n * 3);

  for (gsize p = 0; p < n; p++)
    for (int c = 0; c < 3; c++)
      planar[c * n + p] = ((float) rgb[p * 3 + c] - 127.5f) / 127.5f;
  return planar;
}

static HdState *
copy_state (const HdState *state)
{
  g_autofree char *json = hd_state_to_json (state);
  HdState *copy = hd_state_from_json (json, NULL);

  /* The text was written by hd_state_to_json; reading it cannot fail. */
  g_assert (copy != NULL);
  return copy;
}

gboolean
hd_sheet_render (const HdSheet        *sheet,
                 const HdState        *base,
                 HdGenerator          *gen,
                 GPtrArray            *domains,
                 HdRenderer           *renderer,
                 const char           *sheet_path,
                 const char           *cells_dir,
                 HdSheetProgressFunc   progress,
                 gpointer              user_data,
                 GCancellable         *cancellable,
                 GError              **error)
{
  g_autoptr(HdState) cell_state = NULL;
  g_autoptr(HdState) first_state = NULL;
  g_autofree float *img = NULL;
  g_autofree guint8 *cell_u8 = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree float *planar = NULL;
  g_autofree char *sheet_json = NULL;
  HdSheetLayout layout;
  int channels = gen->config.img_channels;
  int res = gen->config.img_resolution;
  guint n_rows = sheet->seeds->len, n_cols = sheet->columns->len;
  guint total = n_rows * n_cols, done = 0;

  g_return_val_if_fail (sheet->n_domains == base->domains->len, FALSE);
  g_return_val_if_fail (domains->len == base->domains->len, FALSE);

  if (n_rows == 0 || n_cols == 0)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("A contact sheet needs at least one seed and one column"));
      return FALSE;
    }
  if (total > HD_SHEET_MAX_CELLS)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A contact sheet of %u × %u images is more than the %d it may hold"),
                   n_rows, n_cols, HD_SHEET_MAX_CELLS);
      return FALSE;
    }
  hd_sheet_get_layout (sheet, res, &layout);
  if ((gint64) layout.width * layout.height > (gint64) 30000 * 30000)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A contact sheet of %d × %d pixels is too large: use fewer seeds or columns"),
                   layout.width, layout.height);
      return FALSE;
    }
  if (cells_dir != NULL && g_mkdir_with_parents (cells_dir, 0777) != 0)
    {
      int saved = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot create the folder “%s”: %s"),
                   cells_dir, g_strerror (saved));
      return FALSE;
    }

  rgb = g_malloc ((gsize) layout.width * layout.height * 3);
  for (gsize p = 0; p < (gsize) layout.width * layout.height; p++)
    memcpy (rgb + p * 3, background, 3);

  draw_labels (sheet, &layout, rgb);

  img = g_new (float, (gsize) channels * res * res);
  cell_u8 = g_malloc ((gsize) channels * res * res);
  cell_state = copy_state (base);

  for (guint r = 0; r < n_rows; r++)
    for (guint c = 0; c < n_cols; c++)
      {
        HdSheetColumn *col = g_ptr_array_index (sheet->columns, c);
        guint32 seed = g_array_index (sheet->seeds, guint32, r);
        g_auto(HdPreparedRender) prepared = { 0 };
        int x, y;

        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;

        cell_state->latent_kind = HD_LATENT_SEED;
        cell_state->seed = seed;
        g_clear_pointer (&cell_state->latent, g_free);
        cell_state->latent_rows = 0;
        cell_state->latent_cols = 0;
        for (guint d = 0; d < cell_state->domains->len; d++)
          g_array_index (cell_state->domains, HdStateDomain, d).weight = col->weights[d];

        if (!hd_state_prepare (cell_state, gen, domains, &prepared, error))
          return FALSE;
        if (!hd_renderer_render (renderer, &prepared.params, img, error))
          return FALSE;

        if (cells_dir != NULL)
          {
            g_autofree char *name = hd_sheet_cell_name (seed, c);
            g_autofree char *path = g_build_filename (cells_dir, name, NULL);
            g_autofree char *json = hd_state_to_json (cell_state);

            if (!hd_png_write (path, img, channels, res, res, json, error))
              return FALSE;
          }
        if (r == 0 && c == 0)
          first_state = copy_state (cell_state);

        hd_image_to_u8 (img, channels, res, res, cell_u8);
        hd_sheet_cell_origin (&layout, r, c, &x, &y);
        blit_cell (rgb, &layout, x, y, cell_u8, channels);

        done++;
        if (progress != NULL)
          progress (done, total, user_data);
      }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* The sheet carries the state of its first cell: reopening it restores
   * the settings it was made with. */
  planar = u8_to_planar (rgb, layout.width, layout.height);
  sheet_json = hd_state_to_json (first_state);
  return hd_png_write (sheet_path, planar, 3, layout.height, layout.width, sheet_json, error);
}
