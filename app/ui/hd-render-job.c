/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "Hyperdomain-RenderJob"

#include "config.h"

#include "hd-render-job.h"
#include "hd-state-render.h"

G_DEFINE_BOXED_TYPE (HdRenderJob, hd_render_job, hd_render_job_ref, hd_render_job_unref)

HdRenderJob *
hd_render_job_new (HdGenerator *gen,
                   HdState     *state,
                   GPtrArray   *domains)
{
  HdRenderJob *job;

  g_return_val_if_fail (gen != NULL, NULL);
  g_return_val_if_fail ((domains != NULL ? domains->len : 0) ==
                        (state != NULL ? state->domains->len : 0), NULL);

  job = g_new0 (HdRenderJob, 1);
  job->ref_count = 1;
  job->gen = hd_generator_ref (gen);
  if (state == NULL)
    {
      state = hd_state_new ();
      state->generator_path = g_strdup (gen->path);
      state->generator_name = g_strdup (gen->name);
    }
  job->state = state;
  job->domains = domains != NULL ? g_ptr_array_ref (domains)
                                 : g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
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
  hd_state_free (job->state);
  g_ptr_array_unref (job->domains);
  g_free (job->latent_path);
  g_free (job);
}

gboolean
hd_render_job_same_image (const HdRenderJob *a,
                          const HdRenderJob *b)
{
  if (a->gen != b->gen || a->domains->len != b->domains->len)
    return FALSE;
  for (guint i = 0; i < a->domains->len; i++)
    if (g_ptr_array_index (a->domains, i) != g_ptr_array_index (b->domains, i))
      return FALSE;
  return hd_state_equal (a->state, b->state);
}

HdState *
hd_render_job_to_state (HdRenderJob *job)
{
  g_autoptr(GError) error = NULL;
  HdState *state = hd_state_flatten (job->state, job->gen, &error);

  if (state == NULL)
    g_warning ("Cannot compute the mixed latent: %s", error->message);
  return state;
}
