/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render: rendering saved states (--from-png). */
#include "config.h"

#include <glib/gi18n.h>

#include "hd-cli-tools.h"
#include "hd-error.h"
#include "hd-render-params.h"
#include "hd-renderer.h"
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

/* Replaces the latent of STATE and PARAMS by SEED. */
static void
use_seed (HdState        *state,
          HdRenderParams *params,
          guint32         seed)
{
  params->latent_kind = HD_LATENT_SEED;
  params->seed = seed;
  params->z = NULL;
  params->w = NULL;
  state->latent_kind = HD_LATENT_SEED;
  state->seed = seed;
  g_clear_pointer (&state->latent, g_free);
  state->latent_rows = 0;
  state->latent_cols = 0;
}

int
hd_cli_run_from_state (const HdCliTools  *args,
                       GError           **error)
{
  g_autoptr(HdState) state = NULL;
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) domains = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(HdRenderer) renderer = NULL;
  g_autofree float *domain = NULL;
  g_autofree float *img = NULL;
  HdRenderParams params;
  guint n_outputs;
  int res;

  if (args->other_options)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--from-png takes the generator, latent, psi, cutoff, noise and domains "
                             "from the file; only --seed/--seeds, --device and -o go with it"));
      return 2;
    }
  n_outputs = args->seeds != NULL ? args->seeds->len : 1;
  if (n_outputs > 1 && !args->has_conversion)
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
  if (!hd_state_to_params (state, gen, domains, &params, &domain, error))
    return 1;

  ctx = hd_vk_context_new (args->device, error);
  if (ctx == NULL)
    return 1;
  renderer = hd_renderer_new (ctx, gen, error);
  if (renderer == NULL)
    return 1;
  res = hd_render_params_output_res (&params, gen, error);
  if (res < 0)
    return 1;
  img = g_new (float, (gsize) gen->config.img_channels * res * res);

  for (guint i = 0; i < n_outputs; i++)
    {
      g_autofree char *path = NULL;
      guint32 seed = state->seed;

      if (args->seeds != NULL)
        {
          seed = g_array_index (args->seeds, guint32, i);
          use_seed (state, &params, seed);
        }
      if (!hd_renderer_render (renderer, &params, img, error))
        return 1;
      path = args->has_conversion ? output_pattern_expand (args->output, seed) : g_strdup (args->output);
      if (!write_output (path, gen, img, res, state, error))
        return 1;
    }
  return 0;
}
