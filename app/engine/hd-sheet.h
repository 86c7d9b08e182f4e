/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <pango/pango.h>

#include "hd-domain.h"
#include "hd-generator.h"
#include "hd-renderer.h"
#include "hd-state.h"

G_BEGIN_DECLS

/* Contact sheets: a grid of seeds (rows) × blend settings (columns) in one
 * labelled PNG, and each cell as its own PNG with its state.  The
 * application and hyperdomain-render share this code, so they write the
 * same bytes.  The labels (domain names and prompts in any script) are
 * drawn with Pango and cairo in the generic "Sans" family, as fontconfig
 * resolves it, with fixed rendering options: the same bytes for the same
 * input on one machine, with or without a display. */

typedef struct
{
  char  *label;
  float *weights;     /* one per domain of the base state */
} HdSheetColumn;

typedef struct
{
  GArray    *seeds;   /* guint32, one per row */
  GPtrArray *columns; /* HdSheetColumn* */
  guint      n_domains;
} HdSheet;

HdSheet  *hd_sheet_new                 (guint          n_domains);
void      hd_sheet_free                (HdSheet       *sheet);
void      hd_sheet_add_seed            (HdSheet       *sheet,
                                        guint32        seed);
void      hd_sheet_add_column          (HdSheet       *sheet,
                                        const char    *label,
                                        const float   *weights);
/* The original generator (every weight 0), then each domain of BASE alone
 * at weight 1. */
void      hd_sheet_add_domain_columns  (HdSheet       *sheet,
                                        const HdState *base);
/* STEPS columns sweeping the weight of domain INDEX from FROM to TO
 * (inclusive), the other domains keeping their weights in BASE. */
gboolean  hd_sheet_add_sweep_columns   (HdSheet       *sheet,
                                        const HdState *base,
                                        guint          index,
                                        float          from,
                                        float          to,
                                        guint          steps,
                                        GError       **error);

/* Where everything goes, in pixels. */
typedef struct
{
  int img_res;        /* of one rendered image */
  int scale;          /* whole-number upscaling of a cell (nearest) */
  int cell;           /* img_res * scale */
  int gap;
  int font_px;        /* the labels' font size in pixels, from the cell size */
  int header_h;       /* the row of column labels: a line of text and a gap
                       * above and below */
  int row_label_w;    /* the column of row labels: the widest and a gap
                       * either side */
  int width;
  int height;
} HdSheetLayout;

#define HD_SHEET_MIN_CELL 128
#define HD_SHEET_MAX_CELLS 4096

void      hd_sheet_get_layout          (const HdSheet *sheet,
                                        int            img_res,
                                        HdSheetLayout *layout);
void      hd_sheet_cell_origin         (const HdSheetLayout *layout,
                                        guint          row,
                                        guint          col,
                                        int           *x,
                                        int           *y);
/* "seed 7" */
char     *hd_sheet_row_label           (guint32        seed);
/* The file name of a cell: "seed0000000007-col02.png". */
char     *hd_sheet_cell_name           (guint32        seed,
                                        guint          col);
/* A Pango context for measuring and drawing labels: its own font map and
 * fixed font options (greyscale antialiasing, no hinting), so the pixels
 * do not depend on the desktop's settings.  Use it on one thread. */
PangoContext *hd_sheet_text_context_new (void);
/* The size in pixels of TEXT (UTF-8, one line) at FONT_PX. */
void      hd_sheet_text_size           (PangoContext  *context,
                                        const char    *text,
                                        int            font_px,
                                        int           *width,
                                        int           *height);
/* Draws TEXT (UTF-8, one line) at FONT_PX pixels in COLOR over an RGB
 * image WIDTH × HEIGHT, inside the box at (BOX_X, BOX_Y) of BOX_W × BOX_H:
 * left-aligned (right-aligned for right-to-left text), centred
 * vertically, ending in an ellipsis when it is wider than the box.
 * Nothing is drawn outside the box or the image.  Returns the right edge
 * of the text drawn, from the box's left (more than BOX_W only when not
 * even the ellipsis fits). */
int       hd_sheet_draw_text           (PangoContext  *context,
                                        guint8        *rgb,
                                        int            width,
                                        int            height,
                                        int            box_x,
                                        int            box_y,
                                        int            box_w,
                                        int            box_h,
                                        const char    *text,
                                        int            font_px,
                                        const guint8   color[3]);

/* Called after each cell, on the thread that renders. */
typedef void (*HdSheetProgressFunc) (guint    done,
                                     guint    total,
                                     gpointer user_data);

/* Renders every cell of SHEET with BASE's generator settings (the rows
 * replace its latent by their seed, the columns its weights), writes the
 * sheet to SHEET_PATH and, when CELLS_DIR is not NULL, each cell to
 * CELLS_DIR with its state.  DOMAINS are BASE's domains, loaded.  Stops
 * with G_IO_ERROR_CANCELLED when CANCELLABLE is cancelled (the sheet is
 * then not written). */
gboolean  hd_sheet_render              (const HdSheet        *sheet,
                                        const HdState        *base,
                                        HdGenerator          *gen,
                                        GPtrArray            *domains,
                                        HdRenderer           *renderer,
                                        const char           *sheet_path,
                                        const char           *cells_dir,
                                        HdSheetProgressFunc   progress,
                                        gpointer              user_data,
                                        GCancellable         *cancellable,
                                        GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdSheet, hd_sheet_free)

G_END_DECLS
