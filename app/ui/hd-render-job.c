/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-RenderJob"

#include "config.h"

#include <string.h>

#include "hd-cpu-reference.h"
#include "hd-render-job.h"

G_DEFINE_BOXED_TYPE (HdRenderJob, hd_render_job, hd_render_job_ref, hd_render_job_unref)

HdRenderJob *
hd_render_job_new (HdGenerator *gen)
{
  HdRenderJob *job = g_new0 (HdRenderJob, 1);

  g_return_val_if_fail (gen != NULL, NULL);

  job->ref_count = 1;
  job->gen = hd_generator_ref (gen);
  job->latent_kind = HD_LATENT_SEED;
  job->psi = 1.0f;
  job->cutoff = -1;
  job->noise_mode = HD_NOISE_CONST;
  job->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  job->weights = g_array_new (FALSE, FALSE, sizeof (float));
  job->ranges = g_array_new (FALSE, FALSE, sizeof (int));

  return job;
}

HdRenderJob *
hd_render_job_ref (HdRenderJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  g_atomic_int_inc (&job->ref_count);
  return job;
}

void
hd_render_job_unref (HdRenderJob *job)
{
  g_return_if_fail (job != NULL);

  if (!g_atomic_int_dec_and_test (&job->ref_count))
    return;

  hd_generator_unref (job->gen);
  g_clear_pointer (&job->latent, g_bytes_unref);
  g_free (job->latent_path);
  g_ptr_array_unref (job->domains);
  g_array_unref (job->weights);
  g_array_unref (job->ranges);
  g_free (job);
}

void
hd_render_job_add_domain (HdRenderJob *job,
                          HdDomain    *domain,
                          float        weight)
{
  hd_render_job_add_domain_range (job, domain, weight, 0, 0);
}

void
hd_render_job_add_domain_range (HdRenderJob *job,
                                HdDomain    *domain,
                                float        weight,
                                int          min_res,
                                int          max_res)
{
  g_return_if_fail (job != NULL);
  g_return_if_fail (domain != NULL);

  g_ptr_array_add (job->domains, hd_domain_ref (domain));
  g_array_append_val (job->weights, weight);
  g_array_append_val (job->ranges, min_res);
  g_array_append_val (job->ranges, max_res);
}

gboolean
hd_render_job_same_image (const HdRenderJob *a,
                          const HdRenderJob *b)
{
  if (a->gen != b->gen ||
      a->latent_kind != b->latent_kind ||
      a->seed != b->seed ||
      a->latent != b->latent ||
      a->mix != b->mix ||
      (a->mix != 0.0f && a->mix_seed != b->mix_seed) ||
      a->psi != b->psi ||
      a->cutoff != b->cutoff ||
      a->noise_mode != b->noise_mode ||
      (a->noise_mode == HD_NOISE_RANDOM && a->noise_seed != b->noise_seed) ||
      a->domains->len != b->domains->len)
    return FALSE;

  for (guint i = 0; i < a->domains->len; i++)
    if (g_ptr_array_index (a->domains, i) != g_ptr_array_index (b->domains, i) ||
        g_array_index (a->weights, float, i) != g_array_index (b->weights, float, i) ||
        g_array_index (a->ranges, int, 2 * i) != g_array_index (b->ranges, int, 2 * i) ||
        g_array_index (a->ranges, int, 2 * i + 1) != g_array_index (b->ranges, int, 2 * i + 1))
      return FALSE;

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
  if (!hd_cpu_compute_ws (gen, &p, ws, error))
    return NULL;

  return g_steal_pointer (&ws);
}

gboolean
hd_render_job_prepare (HdRenderJob    *job,
                       HdPreparedJob  *prepared,
                       GError        **error)
{
  HdGenerator *gen = job->gen;
  HdRenderParams *params = &prepared->params;

  memset (prepared, 0, sizeof *prepared);
  hd_render_params_init (params);

  params->latent_kind = job->latent_kind;
  params->seed = job->seed;
  if (job->latent_kind == HD_LATENT_Z)
    params->z = g_bytes_get_data (job->latent, NULL);
  else if (job->latent_kind == HD_LATENT_W)
    params->w = g_bytes_get_data (job->latent, NULL);
  params->psi = job->psi;
  params->cutoff = job->cutoff;
  params->noise_mode = job->noise_mode;
  params->noise_seed = job->noise_seed;

  if (job->domains->len > 0)
    {
      g_autofree HdBlendTerm *terms = g_new0 (HdBlendTerm, job->domains->len);

      for (guint i = 0; i < job->domains->len; i++)
        {
          terms[i].domain = g_ptr_array_index (job->domains, i);
          terms[i].weight = g_array_index (job->weights, float, i);
          terms[i].min_res = g_array_index (job->ranges, int, 2 * i);
          terms[i].max_res = g_array_index (job->ranges, int, 2 * i + 1);
        }
      prepared->domain = g_new0 (float, gen->domain_dim);
      hd_domain_blend (gen, terms, job->domains->len, prepared->domain);
      params->domain = prepared->domain;
    }

  if (job->mix != 0.0f)
    {
      HdRenderParams other = *params;
      g_autofree float *a = NULL;
      g_autofree float *b = NULL;
      gsize n = (gsize) gen->num_ws * gen->config.w_dim;
      float t = job->mix;

      other.latent_kind = HD_LATENT_SEED;
      other.seed = job->mix_seed;
      if (!(a = compute_raw_ws (gen, params, error)) ||
          !(b = compute_raw_ws (gen, &other, error)))
        {
          hd_prepared_job_clear (prepared);
          return FALSE;
        }
      /* Truncation is affine in w, so lerping before it is the same as
       * lerping the truncated vectors; the renderer truncates. */
      for (gsize i = 0; i < n; i++)
        a[i] = a[i] + t * (b[i] - a[i]);
      prepared->ws = g_steal_pointer (&a);
      params->latent_kind = HD_LATENT_W;
      params->z = NULL;
      params->w = prepared->ws;
    }

  return TRUE;
}

void
hd_prepared_job_clear (HdPreparedJob *prepared)
{
  g_clear_pointer (&prepared->domain, g_free);
  g_clear_pointer (&prepared->ws, g_free);
}

HdState *
hd_render_job_to_state (HdRenderJob *job)
{
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(GError) error = NULL;
  HdPreparedJob prepared;
  HdGenerator *gen = job->gen;

  state->generator_path = g_strdup (gen->path);
  state->generator_name = g_strdup (gen->name);
  state->latent_kind = job->latent_kind;
  state->seed = job->seed;
  state->psi = job->psi;
  state->cutoff = job->cutoff;
  state->noise_mode = job->noise_mode;
  state->noise_seed = job->noise_seed;

  if (job->mix != 0.0f)
    {
      if (!hd_render_job_prepare (job, &prepared, &error))
        {
          g_warning ("Cannot compute the mixed latent: %s", error->message);
          return NULL;
        }
      state->latent_kind = HD_LATENT_W;
      state->latent_rows = gen->num_ws;
      state->latent_cols = gen->config.w_dim;
      state->latent = g_steal_pointer (&prepared.ws);
      hd_prepared_job_clear (&prepared);
    }
  else if (job->latent_kind == HD_LATENT_Z)
    {
      state->latent_rows = 1;
      state->latent_cols = gen->config.z_dim;
      state->latent = g_memdup2 (g_bytes_get_data (job->latent, NULL),
                                 sizeof (float) * state->latent_cols);
    }
  else if (job->latent_kind == HD_LATENT_W)
    {
      state->latent_rows = gen->num_ws;
      state->latent_cols = gen->config.w_dim;
      state->latent = g_memdup2 (g_bytes_get_data (job->latent, NULL),
                                 sizeof (float) * state->latent_rows * state->latent_cols);
    }

  for (guint i = 0; i < job->domains->len; i++)
    hd_state_add_domain (state, g_ptr_array_index (job->domains, i),
                         g_array_index (job->weights, float, i),
                         g_array_index (job->ranges, int, 2 * i),
                         g_array_index (job->ranges, int, 2 * i + 1));

  return g_steal_pointer (&state);
}
