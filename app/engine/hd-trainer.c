/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip-gpu.h"
#include "hd-clip-reference.h"
#include "hd-error.h"
#include "hd-train-gpu.h"
#include "hd-train-reference.h"
#include "hd-trainer.h"

struct _HdTrainer {
  HdGenerator     *gen;
  HdTrainSettings  settings;
  char            *source;
  char            *target;
  HdTrainClip     *clips;
  guint            n_clips;
  float           *d;
  float           *grad;
  float           *first_grad;
  double           first_loss;
  HdAdam           adam;
  HdTrainGpu      *gpu;          /* NULL: the steps run on the reference */
  char            *note;         /* why they do, given a device */
  int              done;
  HdTrainTimes     times;
};

void
hd_train_settings_init (HdTrainSettings *settings)
{
  settings->steps = 300;
  settings->batch = 4;
  settings->lr = 0.1;
  settings->mixing = 0.9;
  settings->seed = 0;
  settings->start_step = 1;
  settings->profile = FALSE;
  settings->host_clip = FALSE;
}

void
hd_trainer_free (HdTrainer *trainer)
{
  if (trainer == NULL)
    return;
  for (guint i = 0; i < trainer->n_clips; i++)
    {
      g_clear_pointer (&trainer->clips[i].tower, hd_clip_image_tower_free);
      g_clear_pointer (&trainer->clips[i].device, hd_clip_train_gpu_free);
      g_clear_pointer (&trainer->clips[i].clip, hd_clip_unref);
      g_free (trainer->clips[i].direction);
    }
  g_free (trainer->clips);
  g_free (trainer->source);
  g_free (trainer->target);
  g_free (trainer->d);
  g_free (trainer->grad);
  g_free (trainer->first_grad);
  hd_adam_clear (&trainer->adam);
  g_clear_pointer (&trainer->gpu, hd_train_gpu_free);
  g_free (trainer->note);
  hd_generator_unref (trainer->gen);
  g_free (trainer);
}

HdTrainer *
hd_trainer_new (HdGenerator            *gen,
                GPtrArray              *clips,
                const char             *source,
                const char             *target,
                const HdTrainSettings  *settings,
                HdDomain               *init,
                GError                **error)
{
  return hd_trainer_new_on_device (NULL, gen, clips, source, target, settings, init, error);
}

HdTrainer *
hd_trainer_new_on_device (HdVkContext            *ctx,
                          HdGenerator            *gen,
                          GPtrArray              *clips,
                          const char             *source,
                          const char             *target,
                          const HdTrainSettings  *settings,
                          HdDomain               *init,
                          GError                **error)
{
  HdTrainer *trainer;

  g_return_val_if_fail (gen != NULL && clips != NULL && clips->len > 0, NULL);
  g_return_val_if_fail (source != NULL && target != NULL && settings != NULL, NULL);

  if (settings->steps < 1 || settings->batch < 1 || settings->start_step < 1 ||
      !(settings->lr > 0.0) || !isfinite (settings->lr) ||
      !(settings->mixing >= 0.0 && settings->mixing <= 1.0))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Training needs steps, batch and start step of at least 1, a finite learning "
                     "rate above 0 and a mixing probability from 0 to 1"));
      return NULL;
    }
  if (gen->config.img_channels != 3)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("CLIP needs RGB images; the generator “%s” makes %d channels"),
                   gen->name, gen->config.img_channels);
      return NULL;
    }

  trainer = g_new0 (HdTrainer, 1);
  trainer->gen = hd_generator_ref (gen);
  trainer->settings = *settings;
  trainer->source = g_strdup (source);
  trainer->target = g_strdup (target);
  trainer->d = g_new0 (float, MAX (gen->domain_dim, 1));
  trainer->grad = g_new0 (float, MAX (gen->domain_dim, 1));
  hd_adam_init (&trainer->adam, gen->domain_dim, settings->lr);
  if (init != NULL)
    {
      HdBlendTerm term = { init, 1.0f, 0, 0 };

      if (!hd_domain_check (init, gen, NULL, error))
        {
          hd_trainer_free (trainer);
          return NULL;
        }
      hd_domain_blend (gen, &term, 1, trainer->d);
    }

  trainer->clips = g_new0 (HdTrainClip, clips->len);
  trainer->n_clips = clips->len;
  for (guint i = 0; i < clips->len; i++)
    {
      HdClip *clip = g_ptr_array_index (clips, i);
      g_autoptr(HdClipTokenizer) tokenizer = NULL;
      g_autoptr(HdClipGpu) clip_gpu = NULL;
      g_autoptr(GError) local_error = NULL;

      trainer->clips[i].clip = hd_clip_ref (clip);
      trainer->clips[i].direction = g_new (float, clip->config.embed_dim);
      /* The text directions on the device's text tower, or on the
       * reference where the device cannot hold it (seconds, once). */
      if (ctx != NULL && (clip_gpu = hd_clip_gpu_new_text (ctx, clip, &local_error)) == NULL)
        {
          if (!g_error_matches (local_error, HD_ERROR, HD_ERROR_UNSUPPORTED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              hd_trainer_free (trainer);
              return NULL;
            }
          g_clear_error (&local_error);
        }
      if ((tokenizer = hd_clip_new_tokenizer (clip, &local_error)) == NULL ||
          !hd_clip_text_direction (clip, tokenizer,
                                   clip_gpu != NULL ? hd_clip_gpu_encode_func : hd_clip_reference_encode_func,
                                   clip_gpu != NULL ? (gpointer) clip_gpu : (gpointer) clip, source, target,
                                   trainer->clips[i].direction, NULL, NULL, &local_error))
        {
          g_set_error (error, local_error->domain, local_error->code, "%s: %s", clip->path,
                       local_error->message);
          hd_trainer_free (trainer);
          return NULL;
        }
    }
  if (ctx != NULL)
    {
      HdTrainGpuOptions options = { .compute.profile = settings->profile };
      g_autoptr(GError) local_error = NULL;

      trainer->gpu = hd_train_gpu_new_full (ctx, gen, settings->batch, &options, &local_error);
      /* What the device cannot hold (a buffer larger than it allows)
       * trains on the CPU's reference, slowly, with a note; any other
       * failure is the run's. */
      if (trainer->gpu == NULL && g_error_matches (local_error, HD_ERROR, HD_ERROR_UNSUPPORTED))
        trainer->note = g_strdup_printf (_("The steps run on the CPU, much more slowly: %s"),
                                         local_error->message);
      else if (trainer->gpu == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          hd_trainer_free (trainer);
          return NULL;
        }
    }
  /* CLIP's image towers on the same device, memory for a round's frozen
   * and trainable images; on the host where the device cannot hold one
   * image (or without a device). */
  for (guint i = 0; i < trainer->n_clips; i++)
    {
      HdTrainClip *tc = &trainer->clips[i];
      g_autoptr(GError) local_error = NULL;

      if (trainer->gpu != NULL && !settings->host_clip)
        {
          tc->device = hd_clip_train_gpu_new (ctx, tc->clip, gen->config.img_resolution,
                                              2 * hd_train_gpu_get_samples_per_round (trainer->gpu),
                                              &local_error);
          if (tc->device == NULL && !g_error_matches (local_error, HD_ERROR, HD_ERROR_UNSUPPORTED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              hd_trainer_free (trainer);
              return NULL;
            }
          if (tc->device == NULL && trainer->note == NULL)
            trainer->note = g_strdup_printf (_("CLIP runs on the CPU, more slowly: %s"), local_error->message);
        }
      if (tc->device == NULL)
        tc->tower = hd_clip_image_tower_new (tc->clip, gen->config.img_resolution);
    }
  return trainer;
}

gboolean
hd_trainer_step (HdTrainer  *trainer,
                 int        *step_index,
                 double     *loss,
                 GError    **error)
{
  HdGenerator *gen = trainer->gen;
  HdTrainDraws draws;
  int index;
  gboolean ok;

  if (trainer->done >= trainer->settings.steps)
    return FALSE;
  index = trainer->settings.start_step + trainer->done;
  hd_train_draws_init (&draws, trainer->settings.seed, index, trainer->settings.batch,
                       trainer->settings.mixing, gen->num_ws, gen->config.z_dim);
  if (trainer->gpu != NULL)
    ok = hd_train_gpu_step (trainer->gpu, trainer->clips, trainer->n_clips, &draws, trainer->d, loss, NULL,
                            trainer->grad, &trainer->times, error);
  else
    ok = hd_train_reference_step_timed (gen, trainer->clips, trainer->n_clips, &draws, trainer->d,
                                        loss, NULL, trainer->grad, &trainer->times, error);
  hd_train_draws_clear (&draws);
  if (!ok)
    return FALSE;
  if (trainer->done == 0)
    {
      trainer->first_grad = g_memdup2 (trainer->grad, sizeof (float) * MAX (gen->domain_dim, 1));
      trainer->first_loss = *loss;
    }
  {
    gint64 start = g_get_monotonic_time ();

    if (trainer->gpu != NULL)
      ok = hd_train_gpu_adam_step (trainer->gpu, &trainer->adam, trainer->d, trainer->grad, error);
    else
      hd_adam_step (&trainer->adam, trainer->d, trainer->grad);
    if (!ok)
      return FALSE;
    trainer->times.adam += (g_get_monotonic_time () - start) / 1000.0;
    trainer->times.wall += (g_get_monotonic_time () - start) / 1000.0;
  }
  trainer->done++;
  *step_index = index;
  return TRUE;
}

void
hd_trainer_get_times (HdTrainer    *trainer,
                      HdTrainTimes *times)
{
  *times = trainer->times;
}

int
hd_trainer_get_steps_done (HdTrainer *trainer)
{
  return trainer->done;
}

int
hd_trainer_get_last_step (HdTrainer *trainer)
{
  return trainer->settings.start_step + trainer->settings.steps - 1;
}

const float *
hd_trainer_get_d (HdTrainer *trainer)
{
  return trainer->d;
}

const float *
hd_trainer_get_first_gradient (HdTrainer *trainer,
                               double    *loss)
{
  if (loss != NULL)
    *loss = trainer->first_loss;
  return trainer->first_grad;
}

gboolean
hd_trainer_is_on_device (HdTrainer *trainer)
{
  return trainer->gpu != NULL;
}

gboolean
hd_trainer_is_clip_on_device (HdTrainer *trainer)
{
  for (guint i = 0; i < trainer->n_clips; i++)
    if (trainer->clips[i].device == NULL)
      return FALSE;
  return TRUE;
}

const char *
hd_trainer_get_note (HdTrainer *trainer)
{
  return trainer->note;
}

HdDomain *
hd_trainer_make_domain (HdTrainer *trainer,
                        int        step_index)
{
  HdGenerator *gen = trainer->gen;
  HdDomain *domain = hd_domain_new (NULL, trainer->target);

  domain->description = g_strdup_printf ("trained: %s -> %s, %d steps", trainer->source,
                                         trainer->target, step_index);
  domain->generator = g_strdup (gen->name);
  for (int c = 0; c < gen->n_convs; c++)
    hd_domain_add_layer (domain, gen->convs[c].name, trainer->d + gen->convs[c].domain_offset,
                         gen->convs[c].c_in);
  return domain;
}

char *
hd_trainer_describe (HdTrainer *trainer)
{
  const HdTrainSettings *s = &trainer->settings;
  GString *str = g_string_new (NULL);

  g_string_append_printf (str, "hyperdomain-train: batch %d, lr %g, mixing %g, seed %u, steps %d-%d; CLIP",
                          s->batch, s->lr, s->mixing, s->seed, s->start_step,
                          hd_trainer_get_last_step (trainer));
  for (guint i = 0; i < trainer->n_clips; i++)
    g_string_append_printf (str, "%s %s (%s)", i ? "," : "", trainer->clips[i].clip->name,
                            trainer->clips[i].clip->config.name);
  return g_string_free (str, FALSE);
}

gboolean
hd_train_write_gradient (HdGenerator  *gen,
                         const float  *g,
                         int           step_index,
                         double        loss,
                         const char   *path,
                         GError      **error)
{
  g_autoptr(HdSafetensorsWriter) writer = hd_safetensors_writer_new ();
  g_autofree char *step = g_strdup_printf ("%d", step_index);
  char loss_text[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (loss_text, sizeof loss_text, "%.9g", loss);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.kind", "gradient");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.step", step);
  hd_safetensors_writer_set_metadata (writer, "hyperdomain.loss", loss_text);
  for (int c = 0; c < gen->n_convs; c++)
    {
      gint64 shape[1] = { gen->convs[c].c_in };

      hd_safetensors_writer_add_f32 (writer, gen->convs[c].name, HD_DTYPE_F32, shape, 1,
                                     g + gen->convs[c].domain_offset);
    }
  return hd_safetensors_writer_write (writer, path, error);
}
