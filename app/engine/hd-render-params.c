/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-render-params.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "hd-error.h"
#include "hd-latent.h"

void
hd_render_params_init (HdRenderParams *params)
{
  memset (params, 0, sizeof *params);
  params->latent_kind = HD_LATENT_SEED;
  params->seed = 0;
  params->psi = 1.0f;
  params->cutoff = -1;
  params->noise_mode = HD_NOISE_CONST;
}

int
hd_render_params_output_res (const HdRenderParams *params,
                             HdGenerator          *gen,
                             GError              **error)
{
  int res = gen->config.img_resolution;

  if (params->stop_res == 0 || params->stop_res == res)
    return res;
  for (int r = 4; r < res; r *= 2)
    if (r == params->stop_res)
      return r;
  g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
               _("A preview at %d×%d is not possible: the generator’s blocks "
                 "are 4×4 to %d×%d in powers of two"),
               params->stop_res, params->stop_res, res, res);
  return -1;
}

gsize
hd_noise_total_size (HdGenerator *gen)
{
  gsize total = 0;

  for (int i = 0; i < gen->n_convs; i++)
    total += (gsize) gen->convs[i].block_res * (gsize) gen->convs[i].block_res;
  return total;
}

void
hd_noise_generate (HdGenerator *gen,
                   guint32      noise_seed,
                   float       *out)
{
  /* One NumPy-compatible stream for all layers, so that a noise seed means
   * the same images in any tool that follows generator-math.md. */
  hd_randn_f32 (noise_seed, out, hd_noise_total_size (gen));
}

static const char * const noise_mode_names[] = {
  [HD_NOISE_CONST] = "const",
  [HD_NOISE_RANDOM] = "random",
  [HD_NOISE_NONE] = "none",
};

const char *
hd_noise_mode_to_string (HdNoiseMode mode)
{
  if ((guint) mode < G_N_ELEMENTS (noise_mode_names))
    return noise_mode_names[mode];
  return "const";
}

gboolean
hd_noise_mode_from_string (const char  *str,
                           HdNoiseMode *mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (noise_mode_names); i++)
    if (g_strcmp0 (str, noise_mode_names[i]) == 0)
      {
        *mode = (HdNoiseMode) i;
        return TRUE;
      }
  return FALSE;
}
