/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render: what it does once its command line is read. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hd-animation.h"
#include "hd-cli-tools.h"
#include "hd-error.h"
#include "hd-latent.h"
#include "hd-png.h"
#include "hd-renderer.h"
#include "hd-sheet.h"
#include "hd-state-files.h"
#include "hd-state-render.h"
#include "hd-vk.h"

gboolean
hd_cli_parse_uint32 (const char *text,
                     guint32    *out)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &v, NULL))
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

GArray *
hd_cli_parse_seeds (const char *text,
                    gboolean    allow_list,
                    const char *option,
                    GError    **error)
{
  g_autoptr(GArray) seeds = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_auto(GStrv) items = g_strsplit (text, ",", allow_list ? -1 : 1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      const char *dash = strchr (item, '-');
      guint32 a, b;

      if (dash != NULL)
        {
          g_autofree char *first = g_strndup (item, dash - item);
          if (!hd_cli_parse_uint32 (first, &a) || !hd_cli_parse_uint32 (dash + 1, &b) || a > b)
            goto bad;
        }
      else
        {
          if (!hd_cli_parse_uint32 (item, &a))
            goto bad;
          b = a;
        }
      if ((guint64) b - a + 1 + seeds->len > HD_CLI_MAX_OUTPUTS)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("%s %s asks for more than %d images in one run"), option, text, HD_CLI_MAX_OUTPUTS);
          return NULL;
        }
      for (guint64 s = a; s <= b; s++)
        {
          guint32 v = (guint32) s;
          g_array_append_val (seeds, v);
        }
    }
  return g_steal_pointer (&seeds);

bad:
  if (allow_list)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                 _("%s “%s” is not a seed (0 to 4294967295), a range A-B or a list 1,5,9"),
                 option, text);
  else
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                 _("%s “%s” is not a seed (0 to 4294967295) or a range A-B"), option, text);
  return NULL;
}

/* An output pattern holds at most one integer conversion (%d, %u, %05d,
 * ...) and %% for a percent sign.  It is expanded here, never handed to
 * printf, so a pattern cannot read or write memory. */
gboolean
hd_cli_output_pattern_check (const char *pattern,
                             gboolean   *has_conversion,
                             GError    **error)
{
  int conversions = 0;

  for (const char *p = pattern; *p != '\0'; p++)
    {
      if (*p != '%')
        continue;
      p++;
      if (*p == '%')
        continue;
      if (*p == '0')
        p++;
      while (g_ascii_isdigit (*p))
        p++;
      if (*p != 'd' && *p != 'u')
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("The output pattern “%s” may only hold %%d (or %%05d and the like) for the seed, and %%%% for a percent sign"),
                       pattern);
          return FALSE;
        }
      conversions++;
    }
  if (conversions > 1)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The output pattern “%s” holds more than one %%d"), pattern);
      return FALSE;
    }
  *has_conversion = conversions == 1;
  return TRUE;
}

char *
hd_cli_output_pattern_expand (const char *pattern,
                              guint32     number)
{
  GString *out = g_string_new (NULL);

  for (const char *p = pattern; *p != '\0'; p++)
    {
      gboolean zero = FALSE;
      int width = 0;
      char digits[16];
      int len;

      if (*p != '%')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      if (*p == '%')
        {
          g_string_append_c (out, '%');
          continue;
        }
      if (*p == '0')
        {
          zero = TRUE;
          p++;
        }
      while (g_ascii_isdigit (*p))
        {
          width = MIN (width * 10 + (*p - '0'), 64);
          p++;
        }
      len = g_snprintf (digits, sizeof digits, "%u", number);
      for (int i = len; i < width; i++)
        g_string_append_c (out, zero ? '0' : ' ');
      g_string_append (out, digits);
    }
  return g_string_free (out, FALSE);
}

gboolean
hd_cli_has_suffix (const char *s,
                   const char *suffix)
{
  gsize n = strlen (s), m = strlen (suffix);
  return n >= m && g_ascii_strcasecmp (s + n - m, suffix) == 0;
}

/* Writes IMG (RES x RES, of GEN) to PATH: a .npy of the floats, or a PNG
 * enlarged SCALE times by FILTER that carries STATE. */
static gboolean
write_image (const char      *path,
             HdGenerator     *gen,
             const float     *img,
             int              res,
             const HdState   *state,
             int              scale,
             HdUpscaleFilter  filter,
             GError         **error)
{
  int channels = gen->config.img_channels;
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_IO, _("Cannot create the folder “%s”: %s"),
                   dir, g_strerror (saved));
      return FALSE;
    }
  if (hd_cli_has_suffix (path, ".npy"))
    {
      gint64 shape[3] = { channels, res, res };
      return hd_npy_write_f32 (path, shape, 3, img, error);
    }
  else
    {
      g_autofree char *json = hd_state_to_json (state);
      return hd_png_write_scaled (path, img, channels, res, res, scale, filter, json, error);
    }
}

/* A renderer of GEN on DEVICE. */
static HdRenderer *
open_renderer (const char   *device,
               HdGenerator  *gen,
               GError      **error)
{
  g_autoptr(HdVkContext) ctx = hd_vk_context_new (device, error);

  return ctx != NULL ? hd_renderer_new (ctx, gen, error) : NULL;
}

int
hd_cli_render_state (const HdCliTools  *args,
                     HdState           *state,
                     HdGenerator       *gen,
                     GPtrArray         *domains,
                     GError           **error)
{
  g_auto(HdPreparedRender) check = { 0 };
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree float *img = NULL;
  int res = gen->config.img_resolution;

  /* A state that does not fit fails before the device starts. */
  if (!hd_state_prepare (state, gen, domains, &check, error))
    return 1;
  renderer = open_renderer (args->device, gen, error);
  if (renderer == NULL)
    return 1;
  img = g_new (float, (gsize) gen->config.img_channels * res * res);

  for (guint i = 0; i < (args->seeds != NULL ? args->seeds->len : 1); i++)
    {
      g_auto(HdPreparedRender) prepared = { 0 };
      g_autofree char *path = NULL;

      if (args->seeds != NULL)
        hd_state_use_seed (state, g_array_index (args->seeds, guint32, i));
      if (!hd_state_prepare (state, gen, domains, &prepared, error) ||
          !hd_renderer_render (renderer, &prepared.params, img, error))
        return 1;
      path = args->has_conversion ? hd_cli_output_pattern_expand (args->output, state->seed)
                                  : g_strdup (args->output);
      if (!write_image (path, gen, img, res, state, args->scale, args->filter, error))
        return 1;
    }
  return 0;
}

/* Opens the files STATE names (looking next to ORIGIN for moved ones) and
 * records where they were found, so written metadata names real files. */
static gboolean
open_state (HdState      *state,
            const char   *origin,
            const char   *device,
            HdGenerator **gen,
            GPtrArray   **domains,
            GError      **error)
{
  if (!hd_state_open_files (state, origin, device, gen, domains, error))
    return FALSE;
  hd_state_record_found (state, *gen, *domains);
  return TRUE;
}

/* FALSE with MESSAGE when ARGS holds options that describe the image,
 * which the saved states replace. */
static gboolean
check_no_other_options (const HdCliTools  *args,
                        const char        *message,
                        GError           **error)
{
  if (!args->other_options)
    return TRUE;
  g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT, message);
  return FALSE;
}

int
hd_cli_run_from_state (const HdCliTools  *args,
                       GError           **error)
{
  g_autoptr(HdState) state = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) domains = NULL;

  if (!check_no_other_options (args, _("--from-png takes the generator, latent, psi, cutoff, noise and domains "
                                      "from the file; only --seed/--seeds, --scale, --filter, --device and -o go with it"),
                               error))
    return 2;
  if (args->seeds != NULL && args->seeds->len > 1 && !args->has_conversion && !args->contact_sheet)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("Several seeds need an output pattern with %d for the seed, such as out/%05d.png"));
      return 2;
    }

  state = hd_state_read_any (args->from_png, error);
  if (state == NULL)
    return 1;
  if (!open_state (state, args->from_png, args->device, &gen, &domains, error))
    return 1;
  if (args->contact_sheet)
    return hd_cli_run_sheet (args, state, gen, domains, error);
  return hd_cli_render_state (args, state, gen, domains, error);
}

/* I:FROM:TO:STEPS */
static gboolean
parse_sweep (const char  *text,
             guint       *index,
             float       *from,
             float       *to,
             guint       *steps)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", -1);
  guint64 i, n;
  char *end;
  double a, b;

  if (g_strv_length (parts) != 4)
    return FALSE;
  if (!g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXUINT, &i, NULL) ||
      !g_ascii_string_to_unsigned (parts[3], 10, 2, 64, &n, NULL))
    return FALSE;
  a = g_ascii_strtod (parts[1], &end);
  if (end == parts[1] || *end != '\0' || !isfinite (a))
    return FALSE;
  b = g_ascii_strtod (parts[2], &end);
  if (end == parts[2] || *end != '\0' || !isfinite (b))
    return FALSE;
  *index = (guint) i - 1;
  *from = (float) a;
  *to = (float) b;
  *steps = (guint) n;
  return TRUE;
}

int
hd_cli_run_sheet (const HdCliTools  *args,
                  HdState           *state,
                  HdGenerator       *gen,
                  GPtrArray         *domains,
                  GError           **error)
{
  g_autoptr(HdSheet) sheet = hd_sheet_new (state->domains->len);
  g_autoptr(HdRenderer) renderer = NULL;

  if (args->has_conversion || !g_str_has_suffix (args->output, ".png"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("A contact sheet is one PNG: give -o SHEET.png (not “%s”)"), args->output);
      return 2;
    }
  if (args->seeds != NULL)
    for (guint i = 0; i < args->seeds->len; i++)
      hd_sheet_add_seed (sheet, g_array_index (args->seeds, guint32, i));
  else if (state->latent_kind == HD_LATENT_SEED)
    hd_sheet_add_seed (sheet, state->seed);
  else
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("The rows of a contact sheet are seeds: give --seeds or --seed A-B"));
      return 2;
    }

  if (args->sheet_sweep != NULL)
    {
      guint index, steps;
      float from, to;

      if (!parse_sweep (args->sheet_sweep, &index, &from, &to, &steps))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("--sheet-sweep “%s” is not I:FROM:TO:STEPS (domain I from 1, 2 to 64 steps), such as 1:0:1.5:4"),
                       args->sheet_sweep);
          return 2;
        }
      if (!hd_sheet_add_sweep_columns (sheet, state, index, from, to, steps, error))
        return 2;
    }
  else
    hd_sheet_add_domain_columns (sheet, state);

  renderer = open_renderer (args->device, gen, error);
  if (renderer == NULL)
    return 1;
  if (!hd_sheet_render (sheet, state, gen, domains, renderer, args->output, args->sheet_cells,
                        NULL, NULL, NULL, error))
    return g_error_matches (*error, HD_ERROR, HD_ERROR_ARGUMENT) ? 2 : 1;
  return 0;
}

static char *
frame_path (guint    frame,
            gpointer data)
{
  return hd_cli_output_pattern_expand (data, frame);
}

int
hd_cli_run_animation (const HdCliTools  *args,
                      GError           **error)
{
  g_autoptr(HdAnimation) anim = NULL;
  g_autoptr(HdGenerator) first_gen = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  guint n_keys = args->animate != NULL ? g_strv_length ((char **) args->animate) : 0;

  if (!check_no_other_options (args, _("--animate takes everything from its keyframes; "
                                      "only --frames, --ease, --loop, --device and -o go with it"),
                               error))
    return 2;
  if (n_keys < 2)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("An animation needs at least two keyframes: give --animate twice or more"));
      return 2;
    }
  if (args->frames < 1 || args->frames > 10000)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--frames %d: give 1 to 10000 frames from one keyframe to the next"), args->frames);
      return 2;
    }
  if (!args->has_conversion || !g_str_has_suffix (args->output, ".png"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The frames need an output pattern ending in .png with %%d for the frame number, such as frames/%%05d.png (not “%s”)"),
                   args->output);
      return 2;
    }

  for (guint i = 0; i < n_keys; i++)
    {
      g_autoptr(HdState) state = hd_state_read_any (args->animate[i], error);
      g_autoptr(HdGenerator) gen = NULL;
      g_autoptr(GPtrArray) domains = NULL;

      if (state == NULL || !open_state (state, args->animate[i], args->device, &gen, &domains, error))
        return 1;
      if (first_gen == NULL)
        {
          first_gen = hd_generator_ref (gen);
          anim = hd_animation_new (gen, (guint) args->frames, args->ease, args->loop);
        }
      else if (g_strcmp0 (gen->path, first_gen->path) != 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("The keyframe “%s” uses the generator “%s”, the first one “%s”: an animation stays with one generator"),
                       args->animate[i], gen->path, first_gen->path);
          return 2;
        }
      if (!hd_animation_add_key (anim, state, domains, error))
        return 1;
    }

  renderer = open_renderer (args->device, first_gen, error);
  if (renderer == NULL)
    return 1;
  if (!hd_animation_render (anim, renderer, frame_path, (gpointer) args->output, NULL, NULL, NULL, error))
    return 1;
  return 0;
}
