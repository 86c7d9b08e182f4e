/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "hd-animation.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "hd-cpu-reference.h"
#include "hd-error.h"
#include "hd-png.h"
#include "hd-render-params.h"
#include "hd-state-render.h"

typedef struct
{
  float  *ws;        /* num_ws × w_dim, before truncation */
  float   psi;
  int     cutoff;
  HdNoiseMode noise_mode;
  guint32 noise_seed;
  float  *weights;   /* one per domain of the union (0 where absent) */
} Key;

struct _HdAnimation
{
  HdGenerator *gen;
  guint        frames_per_segment;
  gboolean     ease;
  gboolean     loop;
  GPtrArray   *keys;     /* Key* */
  GPtrArray   *domains;  /* HdDomain*: the union, in order of appearance */
  GArray      *ranges;   /* int pairs of the union */
};

static void
key_free (Key *key)
{
  g_free (key->ws);
  g_free (key->weights);
  g_free (key);
}

HdAnimation *
hd_animation_new (HdGenerator *gen,
                  guint        frames_per_segment,
                  gboolean     ease,
                  gboolean     loop)
{
  HdAnimation *anim = g_new0 (HdAnimation, 1);

  anim->gen = hd_generator_ref (gen);
  anim->frames_per_segment = MAX (frames_per_segment, 1);
  anim->ease = ease;
  anim->loop = loop;
  anim->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) key_free);
  anim->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  anim->ranges = g_array_new (FALSE, FALSE, sizeof (int));
  return anim;
}

void
hd_animation_free (HdAnimation *anim)
{
  if (anim == NULL)
    return;
  hd_generator_unref (anim->gen);
  g_ptr_array_unref (anim->keys);
  g_ptr_array_unref (anim->domains);
  g_array_unref (anim->ranges);
  g_free (anim);
}

static gboolean
same_domain (HdDomain *a,
             HdDomain *b)
{
  return a == b || (g_strcmp0 (a->path, b->path) == 0 && g_strcmp0 (a->id, b->id) == 0);
}

/* The index of DOMAIN in the union, adding it (with its range) first. */
static guint
union_index (HdAnimation *anim,
             HdDomain    *domain,
             int          min_res,
             int          max_res)
{
  for (guint i = 0; i < anim->domains->len; i++)
    if (same_domain (g_ptr_array_index (anim->domains, i), domain))
      return i;

  g_ptr_array_add (anim->domains, hd_domain_ref (domain));
  g_array_append_val (anim->ranges, min_res);
  g_array_append_val (anim->ranges, max_res);
  /* Earlier keys do not have it: weight 0 there. */
  for (guint k = 0; k < anim->keys->len; k++)
    {
      Key *key = g_ptr_array_index (anim->keys, k);
      key->weights = g_renew (float, key->weights, anim->domains->len);
      key->weights[anim->domains->len - 1] = 0.0f;
    }
  return anim->domains->len - 1;
}

gboolean
hd_animation_add_key (HdAnimation   *anim,
                      const HdState *state,
                      GPtrArray     *domains,
                      GError       **error)
{
  HdGenerator *gen = anim->gen;
  g_autoptr(GPtrArray) no_domains = g_ptr_array_new ();
  g_autoptr(HdState) latent_only = hd_state_new ();
  g_auto(HdPreparedRender) prepared = { 0 };
  HdRenderParams params;
  Key *key;

  g_return_val_if_fail (domains->len == state->domains->len, FALSE);

  /* The key's latent alone, untruncated: what the frames interpolate. */
  latent_only->latent_kind = state->latent_kind;
  latent_only->seed = state->seed;
  latent_only->latent = state->latent;
  latent_only->latent_rows = state->latent_rows;
  latent_only->latent_cols = state->latent_cols;
  if (!hd_state_prepare (latent_only, gen, no_domains, &prepared, error))
    {
      latent_only->latent = NULL;
      return FALSE;
    }
  latent_only->latent = NULL;
  params = prepared.params;
  params.psi = 1.0f;
  params.cutoff = -1;

  key = g_new0 (Key, 1);
  key->ws = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);
  if (!hd_cpu_compute_ws (gen, &params, key->ws, error))
    {
      key_free (key);
      return FALSE;
    }
  key->psi = state->psi;
  key->cutoff = state->cutoff;
  key->noise_mode = state->noise_mode;
  key->noise_seed = state->noise_seed;

  for (guint i = 0; i < domains->len; i++)
    if (!hd_domain_check (g_ptr_array_index (domains, i), gen, NULL, error))
      {
        key_free (key);
        return FALSE;
      }

  key->weights = g_new0 (float, MAX (anim->domains->len, 1));
  g_ptr_array_add (anim->keys, key);
  for (guint i = 0; i < domains->len; i++)
    {
      const HdStateDomain *sd = &g_array_index (state->domains, HdStateDomain, i);
      guint j = union_index (anim, g_ptr_array_index (domains, i), sd->min_res, sd->max_res);

      key->weights[j] = sd->weight;
    }
  return TRUE;
}

guint
hd_animation_get_n_keys (HdAnimation *anim)
{
  return anim->keys->len;
}

guint
hd_animation_get_n_frames (HdAnimation *anim)
{
  guint k = anim->keys->len;

  if (k < 2)
    return 0;
  return anim->loop ? k * anim->frames_per_segment
                    : (k - 1) * anim->frames_per_segment + 1;
}

double
hd_animation_ease (double t)
{
  t = CLAMP (t, 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

void
hd_animation_frame_position (HdAnimation *anim,
                             guint        frame,
                             guint       *segment,
                             double      *t)
{
  guint n = anim->frames_per_segment;
  guint last_segment = anim->loop ? anim->keys->len - 1 : anim->keys->len - 2;

  *segment = frame / n;
  *t = (double) (frame % n) / n;
  if (*segment > last_segment)
    {
      /* The closing frame of an open path: the last keyframe. */
      *segment = last_segment;
      *t = 1.0;
    }
}

/* Exactly A at t = 0 and exactly B at t = 1. */
static inline float
lerp (float a,
      float b,
      float t)
{
  return (1.0f - t) * a + t * b;
}

HdState *
hd_animation_get_frame (HdAnimation  *anim,
                        guint         frame,
                        GPtrArray   **domains)
{
  HdGenerator *gen = anim->gen;
  HdState *state;
  Key *a, *b;
  guint segment;
  double t;
  float tf;
  gsize n = (gsize) gen->num_ws * gen->config.w_dim;

  g_return_val_if_fail (frame < hd_animation_get_n_frames (anim), NULL);

  hd_animation_frame_position (anim, frame, &segment, &t);
  if (anim->ease)
    t = hd_animation_ease (t);
  tf = (float) t;
  a = g_ptr_array_index (anim->keys, segment);
  b = g_ptr_array_index (anim->keys, (segment + 1) % anim->keys->len);

  state = hd_state_new ();
  state->generator_path = g_strdup (gen->path);
  state->generator_name = g_strdup (gen->name);
  state->latent_kind = HD_LATENT_W;
  state->latent_rows = gen->num_ws;
  state->latent_cols = gen->config.w_dim;
  state->latent = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    state->latent[i] = lerp (a->ws[i], b->ws[i], tf);
  state->psi = lerp (a->psi, b->psi, tf);
  state->cutoff = a->cutoff;
  state->noise_mode = a->noise_mode;
  state->noise_seed = a->noise_seed;
  for (guint d = 0; d < anim->domains->len; d++)
    hd_state_add_domain (state, g_ptr_array_index (anim->domains, d),
                         lerp (a->weights[d], b->weights[d], tf),
                         g_array_index (anim->ranges, int, 2 * d),
                         g_array_index (anim->ranges, int, 2 * d + 1));

  if (domains != NULL)
    *domains = anim->domains;
  return state;
}

gboolean
hd_animation_render (HdAnimation             *anim,
                     HdRenderer              *renderer,
                     HdAnimationPathFunc      path_func,
                     gpointer                 path_data,
                     HdAnimationProgressFunc  progress,
                     gpointer                 progress_data,
                     GCancellable            *cancellable,
                     GError                 **error)
{
  HdGenerator *gen = anim->gen;
  guint total = hd_animation_get_n_frames (anim);
  int res = gen->config.img_resolution, channels = gen->config.img_channels;
  g_autofree float *img = g_new (float, (gsize) channels * res * res);

  if (total == 0)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("An animation needs at least two keyframes"));
      return FALSE;
    }

  for (guint f = 0; f < total; f++)
    {
      GPtrArray *domains = NULL;
      g_autoptr(HdState) state = NULL;
      g_auto(HdPreparedRender) prepared = { 0 };
      g_autofree char *path = NULL;
      g_autofree char *json = NULL;
      g_autofree char *dir = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      state = hd_animation_get_frame (anim, f, &domains);
      if (!hd_state_prepare (state, gen, domains, &prepared, error) ||
          !hd_renderer_render (renderer, &prepared.params, img, error))
        return FALSE;

      path = path_func (f, path_data);
      dir = g_path_get_dirname (path);
      if (g_mkdir_with_parents (dir, 0777) != 0)
        {
          int saved = errno;
          g_set_error (error, HD_ERROR, HD_ERROR_IO,
                       /* Translators: a folder, then the reason from the system. */
                       _("Cannot create the folder “%s”: %s"),
                       dir, g_strerror (saved));
          return FALSE;
        }
      json = hd_state_to_json (state);
      if (!hd_png_write (path, img, channels, res, res, json, error))
        return FALSE;
      if (progress != NULL)
        progress (f + 1, total, progress_data);
    }
  return TRUE;
}
