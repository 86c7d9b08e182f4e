/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render: rendering saved states (--from-png). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "hd-animation.h"
#include "hd-cli-tools.h"
#include "hd-error.h"
#include "hd-render-params.h"
#include "hd-renderer.h"
#include "hd-sheet.h"
#include "hd-state-files.h"
#include "hd-vk.h"

/* Opens the files STATE names (looking next to ORIGIN for moved ones) and
 * records where they were found, so written metadata names real files. */
static gboolean
open_state (HdState      *state,
            const char   *origin,
            HdGenerator **gen,
            GPtrArray   **domains,
            GError      **error)
{
  if (!hd_state_open_files (state, origin, gen, domains, error))
    return FALSE;

  g_free (state->generator_path);
  state->generator_path = g_strdup ((*gen)->path);
  for (guint i = 0; i < (*domains)->len; i++)
    {
      HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);

      g_free (sd->path);
      sd->path = g_strdup (((HdDomain *) g_ptr_array_index (*domains, i))->path);
    }
  return TRUE;
}

int
hd_cli_run_from_state (const HdCliTools  *args,
                       GError           **error)
{
  g_autoptr(HdState) state = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) domains = NULL;
  g_autofree float *domain = NULL;
  HdRenderParams params;
  guint n_outputs;

  if (args->other_options)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--from-png takes the generator, latent, psi, cutoff, noise and domains "
                             "from the file; only --seed/--seeds, --scale, --filter, --device and -o go with it"));
      return 2;
    }
  n_outputs = args->seeds != NULL ? args->seeds->len : 1;
  if (n_outputs > 1 && !args->has_conversion && !args->contact_sheet)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("Several seeds need an output pattern with %d for the seed, such as out/%05d.png"));
      return 2;
    }

  state = hd_state_read_any (args->from_png, error);
  if (state == NULL)
    return 1;
  if (!open_state (state, args->from_png, &gen, &domains, error))
    return 1;
  if (args->contact_sheet)
    return hd_cli_run_sheet (args, state, gen, domains, error);
  if (!hd_state_to_params (state, gen, domains, &params, &domain, error))
    return 1;

  return render_outputs (args->device, gen, &params, state, args->seeds, args->output,
                         args->has_conversion, args->scale, args->filter, error);
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
  g_autoptr(HdVkContext) ctx = NULL;
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

  ctx = hd_vk_context_new (args->device, error);
  if (ctx == NULL)
    return 1;
  renderer = hd_renderer_new (ctx, gen, error);
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
  return output_pattern_expand (data, frame);
}

int
hd_cli_run_animation (const HdCliTools  *args,
                      GError           **error)
{
  g_autoptr(HdAnimation) anim = NULL;
  g_autoptr(HdGenerator) first_gen = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  guint n_keys = args->animate != NULL ? g_strv_length ((char **) args->animate) : 0;

  if (args->other_options)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--animate takes everything from its keyframes; only --frames, --ease, --loop, --device and -o go with it"));
      return 2;
    }
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

      if (state == NULL || !open_state (state, args->animate[i], &gen, &domains, error))
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

  ctx = hd_vk_context_new (args->device, error);
  if (ctx == NULL)
    return 1;
  renderer = hd_renderer_new (ctx, first_gen, error);
  if (renderer == NULL)
    return 1;
  if (!hd_animation_render (anim, renderer, frame_path, (gpointer) args->output, NULL, NULL, NULL, error))
    return 1;
  return 0;
}
