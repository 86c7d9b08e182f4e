/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-state-render.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "hd-cpu-reference.h"
#include "hd-domain.h"
#include "hd-error.h"

/* The latent of STATE in PARAMS, after checking its shape against GEN. */
static gboolean
set_latent (const HdState   *state,
            HdGenerator     *gen,
            HdRenderParams  *params,
            GError         **error)
{
  gsize n = state->latent != NULL ? (gsize) state->latent_rows * state->latent_cols : 0;

  params->latent_kind = state->latent_kind;
  params->seed = state->seed;
  if (state->latent_kind == HD_LATENT_Z)
    {
      if (n != (gsize) gen->config.z_dim)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                       _("The z latent of the state has %zu numbers; the generator “%s” takes %d"),
                       n, gen->name, gen->config.z_dim);
          return FALSE;
        }
      params->z = state->latent;
    }
  else if (state->latent_kind == HD_LATENT_W)
    {
      if (n != (gsize) gen->num_ws * gen->config.w_dim)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                       _("The w latent of the state has %zu numbers; the generator “%s” takes %d × %d"),
                       n, gen->name, gen->num_ws, gen->config.w_dim);
          return FALSE;
        }
      params->w = state->latent;
    }
  return TRUE;
}

/* The blend of the domains of STATE (DOMAINS loaded) into PREPARED: the
 * domain vector and the style latents, each NULL when there is none. */
static gboolean
blend_domains (const HdState     *state,
               HdGenerator       *gen,
               GPtrArray         *domains,
               HdPreparedRender  *prepared,
               GError           **error)
{
  g_autofree HdBlendTerm *terms = NULL;

  if (domains->len == 0)
    return TRUE;

  terms = g_new0 (HdBlendTerm, domains->len);
  for (guint i = 0; i < domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);

      if (!hd_domain_check (g_ptr_array_index (domains, i), gen, NULL, error))
        return FALSE;
      terms[i].domain = g_ptr_array_index (domains, i);
      terms[i].weight = (float) sd->weight;
      terms[i].min_res = sd->min_res;
      terms[i].max_res = sd->max_res;
    }
  prepared->domain = g_new0 (float, gen->domain_dim);
  hd_domain_blend (gen, terms, domains->len, prepared->domain);
  prepared->style_alpha = g_new (float, gen->num_ws);
  prepared->style_sum = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);
  if (!hd_domain_blend_style (gen, terms, domains->len, prepared->style_alpha,
                              prepared->style_sum))
    {
      g_clear_pointer (&prepared->style_alpha, g_free);
      g_clear_pointer (&prepared->style_sum, g_free);
    }
  return TRUE;
}

/* The untruncated w of every layer for the latent of PARAMS. */
static float *
compute_raw_ws (HdGenerator          *gen,
                const HdRenderParams *params,
                GError              **error)
{
  HdRenderParams p = *params;
  g_autofree float *ws = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);

  p.psi = 1.0f;
  p.cutoff = -1;
  p.style_alpha = p.style_sum = NULL;
  if (!hd_cpu_compute_ws (gen, &p, ws, error))
    return NULL;
  return g_steal_pointer (&ws);
}

/* The w of the latent of PARAMS lerped by MIX toward the w of MIX_SEED. */
static float *
mix_ws (HdGenerator          *gen,
        const HdRenderParams *params,
        guint32               mix_seed,
        float                 mix,
        GError              **error)
{
  HdRenderParams other = *params;
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  gsize n = (gsize) gen->num_ws * gen->config.w_dim;

  other.latent_kind = HD_LATENT_SEED;
  other.seed = mix_seed;
  other.z = NULL;
  other.w = NULL;
  if (!(a = compute_raw_ws (gen, params, error)) ||
      !(b = compute_raw_ws (gen, &other, error)))
    return NULL;
  /* Truncation is affine in w, so lerping before it is the same as
   * lerping the truncated vectors; the renderer truncates. */
  for (gsize i = 0; i < n; i++)
    a[i] = a[i] + mix * (b[i] - a[i]);
  return g_steal_pointer (&a);
}

gboolean
hd_state_prepare (const HdState     *state,
                  HdGenerator       *gen,
                  GPtrArray         *domains,
                  HdPreparedRender  *prepared,
                  GError           **error)
{
  HdRenderParams *params = &prepared->params;

  g_return_val_if_fail (state != NULL && gen != NULL && domains != NULL, FALSE);
  g_return_val_if_fail (domains->len == state->domains->len, FALSE);

  memset (prepared, 0, sizeof *prepared);
  hd_render_params_init (params);

  if (!set_latent (state, gen, params, error))
    return FALSE;
  if (state->cutoff > gen->num_ws)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The cutoff %d of the state is beyond the %d layers of the generator “%s”"),
                   state->cutoff, gen->num_ws, gen->name);
      return FALSE;
    }
  params->psi = (float) state->psi;
  params->cutoff = state->cutoff;
  params->noise_mode = state->noise_mode;
  params->noise_seed = state->noise_seed;

  if (!blend_domains (state, gen, domains, prepared, error))
    return FALSE;
  params->domain = prepared->domain;
  params->style_alpha = prepared->style_alpha;
  params->style_sum = prepared->style_sum;

  if (state->mix != 0.0)
    {
      prepared->ws = mix_ws (gen, params, state->mix_seed, (float) state->mix, error);
      if (prepared->ws == NULL)
        return FALSE;
      params->latent_kind = HD_LATENT_W;
      params->z = NULL;
      params->w = prepared->ws;
    }
  return TRUE;
}

void
hd_prepared_render_clear (HdPreparedRender *prepared)
{
  g_clear_pointer (&prepared->domain, g_free);
  g_clear_pointer (&prepared->ws, g_free);
  g_clear_pointer (&prepared->style_alpha, g_free);
  g_clear_pointer (&prepared->style_sum, g_free);
}

HdState *
hd_state_flatten (const HdState  *state,
                  HdGenerator    *gen,
                  GError        **error)
{
  g_autoptr(HdState) flat = NULL;
  g_autofree float *ws = NULL;
  HdRenderParams params;

  g_return_val_if_fail (state != NULL && gen != NULL, NULL);

  flat = hd_state_copy (state);
  if (state->mix == 0.0)
    return g_steal_pointer (&flat);

  hd_render_params_init (&params);
  if (!set_latent (state, gen, &params, error))
    return NULL;
  ws = mix_ws (gen, &params, state->mix_seed, (float) state->mix, error);
  if (ws == NULL)
    return NULL;
  hd_state_set_latent (flat, HD_LATENT_W, ws, gen->num_ws, gen->config.w_dim);
  flat->mix = 0.0;
  flat->mix_seed = 0;
  return g_steal_pointer (&flat);
}
