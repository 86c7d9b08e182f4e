/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-sheet.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-png.h"
#include "hd-render-params.h"
#include "hd-state-render.h"

/* The built-in font: 5 × 7 cells, one byte per row, bit 4 the left
 * column. */
typedef struct
{
  char   ch;
  guint8 rows[7];
} Glyph;

static const Glyph glyphs[] = {
  { 'A', { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
  { 'B', { 0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e } },
  { 'C', { 0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e } },
  { 'D', { 0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e } },
  { 'E', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f } },
  { 'F', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10 } },
  { 'G', { 0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f } },
  { 'H', { 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
  { 'I', { 0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e } },
  { 'J', { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c } },
  { 'K', { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 } },
  { 'L', { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f } },
  { 'M', { 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 } },
  { 'N', { 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11 } },
  { 'O', { 0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
  { 'P', { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 } },
  { 'Q', { 0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d } },
  { 'R', { 0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11 } },
  { 'S', { 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e } },
  { 'T', { 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
  { 'U', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
  { 'V', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04 } },
  { 'W', { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a } },
  { 'X', { 0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11 } },
  { 'Y', { 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04 } },
  { 'Z', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f } },
  { '0', { 0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e } },
  { '1', { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e } },
  { '2', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f } },
  { '3', { 0x1e, 0x01, 0x01, 0x0e, 0x01, 0x01, 0x1e } },
  { '4', { 0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02 } },
  { '5', { 0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e } },
  { '6', { 0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e } },
  { '7', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
  { '8', { 0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e } },
  { '9', { 0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c } },
  { '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c } },
  { ',', { 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08 } },
  { '-', { 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00 } },
  { '+', { 0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00 } },
  { '=', { 0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00 } },
  { ':', { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00 } },
  { '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
  { ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } },
  { '/', { 0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10 } },
  { '_', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f } },
  { '#', { 0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a } },
  { '%', { 0x19, 0x19, 0x02, 0x04, 0x08, 0x13, 0x13 } },
  { '\'', { 0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00 } },
  { '?', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 } },
  { '!', { 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04 } },
  { '*', { 0x00, 0x15, 0x0e, 0x1f, 0x0e, 0x15, 0x00 } },
};

#define GLYPH_W 5
#define GLYPH_H 7
#define GLYPH_ADVANCE 6   /* a blank column between letters */

static const guint8 background[3] = { 0xfa, 0xfa, 0xfa };
static const guint8 ink[3] = { 0x24, 0x24, 0x24 };

static const Glyph *
find_glyph (char ch)
{
  ch = g_ascii_toupper (ch);
  if (ch == ' ')
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (glyphs); i++)
    if (glyphs[i].ch == ch)
      return &glyphs[i];
  /* Anything else shows as a question mark. */
  return find_glyph ('?');
}

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

int
hd_sheet_text_width (const char *text,
                     int         glyph_scale)
{
  int n = (int) strlen (text);

  return n > 0 ? (n * GLYPH_ADVANCE - 1) * glyph_scale : 0;
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

void
hd_sheet_get_layout (const HdSheet *sheet,
                     int            img_res,
                     HdSheetLayout *layout)
{
  int widest = 0;

  memset (layout, 0, sizeof *layout);
  layout->img_res = img_res;
  layout->scale = MAX (1, (HD_SHEET_MIN_CELL + img_res - 1) / img_res);
  layout->cell = img_res * layout->scale;
  layout->glyph_scale = layout->cell >= 256 ? 3 : 2;
  layout->gap = 4 * layout->glyph_scale;
  layout->header_h = GLYPH_H * layout->glyph_scale + 2 * layout->gap;

  for (guint r = 0; r < sheet->seeds->len; r++)
    {
      g_autofree char *label = hd_sheet_row_label (g_array_index (sheet->seeds, guint32, r));
      widest = MAX (widest, hd_sheet_text_width (label, layout->glyph_scale));
    }
  layout->row_label_w = widest + 2 * layout->gap;

  layout->width = layout->row_label_w + (int) sheet->columns->len * (layout->cell + layout->gap);
  layout->height = layout->header_h + (int) sheet->seeds->len * (layout->cell + layout->gap);
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

static void
draw_glyph (guint8       *rgb,
            int           width,
            int           height,
            int           x,
            int           y,
            const Glyph  *glyph,
            int           scale,
            const guint8  color[3])
{
  for (int gy = 0; gy < GLYPH_H * scale; gy++)
    for (int gx = 0; gx < GLYPH_W * scale; gx++)
      {
        int px = x + gx, py = y + gy;

        if (px < 0 || py < 0 || px >= width || py >= height)
          continue;
        if (glyph->rows[gy / scale] & (0x10 >> (gx / scale)))
          memcpy (rgb + ((gsize) py * width + px) * 3, color, 3);
      }
}

int
hd_sheet_draw_text (guint8       *rgb,
                    int           width,
                    int           height,
                    int           x,
                    int           y,
                    const char   *text,
                    int           max_w,
                    int           glyph_scale,
                    const guint8  color[3])
{
  int advance = GLYPH_ADVANCE * glyph_scale;
  int fits = (max_w + glyph_scale) / advance;
  int n = (int) strlen (text);
  int shown = n <= fits ? n : MAX (fits - 2, 0);
  const Glyph *dot = find_glyph ('.');

  for (int i = 0; i < shown; i++)
    {
      const Glyph *glyph = find_glyph (text[i]);

      if (glyph != NULL)
        draw_glyph (rgb, width, height, x + i * advance, y, glyph, glyph_scale, color);
    }
  if (shown < n)
    {
      /* Cut: two dots say there is more. */
      for (int i = 0; i < 2 && shown + i < fits; i++)
        draw_glyph (rgb, width, height, x + (shown + i) * advance, y, dot, glyph_scale, color);
      shown = MIN (shown + 2, fits);
    }
  return shown > 0 ? shown * advance - glyph_scale : 0;
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

  /* Labels: the blend settings over the columns, the seeds by the rows. */
  for (guint c = 0; c < n_cols; c++)
    {
      HdSheetColumn *col = g_ptr_array_index (sheet->columns, c);
      int x, y;

      hd_sheet_cell_origin (&layout, 0, c, &x, &y);
      hd_sheet_draw_text (rgb, layout.width, layout.height, x, layout.gap, col->label,
                          layout.cell, layout.glyph_scale, ink);
    }
  for (guint r = 0; r < n_rows; r++)
    {
      g_autofree char *label = hd_sheet_row_label (g_array_index (sheet->seeds, guint32, r));
      int x, y;

      hd_sheet_cell_origin (&layout, r, 0, &x, &y);
      hd_sheet_draw_text (rgb, layout.width, layout.height, layout.gap,
                          y + (layout.cell - GLYPH_H * layout.glyph_scale) / 2, label,
                          layout.row_label_w - 2 * layout.gap, layout.glyph_scale, ink);
    }

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
