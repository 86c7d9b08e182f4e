/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-train: trains a domain from a source and a target prompt
 * (spec/domain-training.md §8). */
#include "config.h"

#include <glib.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hd-cli-common.h"
#include "hd-clip.h"
#include "hd-demo.h"
#include "hd-domain.h"
#include "hd-error.h"
#include "hd-generator.h"
#include "hd-trainer.h"
#include "hd-vk.h"

typedef struct {
  char    *model;
  char   **clips;
  char    *source;
  char    *target;
  int      steps;
  int      batch;
  double   lr;
  double   mixing;
  char    *seed;
  int      save_every;
  char    *init;
  int      start_step;
  char    *grad_out;
  char    *device;
  char    *output;
  gboolean version;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->model);
  g_strfreev (o->clips);
  g_free (o->source);
  g_free (o->target);
  g_free (o->seed);
  g_free (o->init);
  g_free (o->grad_out);
  g_free (o->device);
  g_free (o->output);
}

/* OUT with its .safetensors suffix replaced by -stepNNNN.safetensors. */
static char *
step_path (const char *out,
           int         step)
{
  g_autofree char *stem = g_str_has_suffix (out, ".safetensors")
                          ? g_strndup (out, strlen (out) - strlen (".safetensors"))
                          : g_strdup (out);

  return g_strdup_printf ("%s-step%04d.safetensors", stem, step);
}

static gboolean
save_domain (HdTrainer   *trainer,
             int          step,
             const char  *path,
             GError     **error)
{
  g_autoptr(HdDomain) domain = hd_trainer_make_domain (trainer, step);
  g_autofree char *source = hd_trainer_describe (trainer);

  return hd_domain_save (domain, source, path, error);
}

/* Checks what the command line says, before anything is loaded. */
static gboolean
check_options (Options          *o,
               HdTrainSettings  *settings,
               GError          **error)
{
  guint64 seed = 0;

  /* The demo model trains with the demo's own CLIP unless told otherwise. */
  if ((o->clips == NULL || o->clips[0] == NULL) && o->model == NULL)
    {
      char *demo_clip = hd_demo_clip_find ();

      if (demo_clip != NULL)
        {
          g_strfreev (o->clips);
          o->clips = g_new0 (char *, 2);
          o->clips[0] = demo_clip;
        }
    }

  if (o->clips == NULL || o->clips[0] == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--clip is missing: give a clip file (hyperdomain-convert CLIP.pt --bpe MERGES makes one)"));
  else if (o->source == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--source is missing: the prompt that describes the generator’s images, such as “photo”"));
  else if (o->target == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--target is missing: the prompt of the domain to train"));
  else if (o->output == NULL)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("-o is missing: the domain file to write"));
  else if (o->steps < 1)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--steps %d: at least 1 step is needed"), o->steps);
  else if (o->batch < 1)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--batch %d: at least 1 image per step is needed"), o->batch);
  else if (o->start_step < 1)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--start-step %d: steps are counted from 1"), o->start_step);
  else if (!isfinite (o->lr) || o->lr <= 0.0)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--lr %g: the learning rate must be a finite number above 0"), o->lr);
  else if (!(o->mixing >= 0.0 && o->mixing <= 1.0))
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--mixing %g: a probability from 0 to 1"), o->mixing);
  else if (o->seed != NULL && !g_ascii_string_to_unsigned (o->seed, 10, 0, G_MAXUINT32, &seed, NULL))
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--seed %s: a whole number from 0 to 4294967295"), o->seed);
  else if (o->save_every < 0)
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--save-every %d: a number of steps above 0"), o->save_every);
  else if (o->device != NULL && !g_str_equal (o->device, "auto") && !g_str_equal (o->device, "cpu") &&
           !g_ascii_string_to_unsigned (o->device, 10, 0, 1024, NULL, NULL))
    g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--device %s: auto, cpu or a device index"), o->device);
  if (error != NULL && *error != NULL)
    return FALSE;

  hd_train_settings_init (settings);
  settings->steps = o->steps;
  settings->batch = o->batch;
  settings->lr = o->lr;
  settings->mixing = o->mixing;
  settings->seed = (guint32) seed;
  settings->start_step = o->start_step;
  return TRUE;
}

static int
run (Options  *o,
     GError  **error)
{
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(HdDomain) init = NULL;
  g_autofree char *model = NULL;
  g_autoptr(HdVkContext) ctx = NULL;
  g_autoptr(GError) device_error = NULL;
  HdTrainSettings settings;
  HdTrainer *trainer;
  int step = 0, last;
  double loss;
  gboolean ok = TRUE;

  if (!check_options (o, &settings, error))
    return 2;
  if (o->model != NULL)
    model = g_strdup (o->model);
  else if (!hd_demo_model_find (&model, NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--model is missing, and there is no bundled demo model"));
      return 2;
    }
  if ((gen = hd_generator_load (model, error)) == NULL)
    return 1;
  for (int i = 0; o->clips[i] != NULL; i++)
    {
      HdClip *clip = hd_clip_load (o->clips[i], error);

      if (clip == NULL)
        return 1;
      g_ptr_array_add (clips, clip);
    }
  if (o->init != NULL)
    {
      g_autoptr(GPtrArray) loaded = hd_domain_load_all (o->init, error);

      if (loaded == NULL)
        return 1;
      if (loaded->len != 1)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("--init %s is a pack of %u domains; give one of them as FILE#ID"),
                       o->init, loaded->len);
          return 2;
        }
      init = hd_domain_ref (g_ptr_array_index (loaded, 0));
    }

  /* The text directions (79 templates per prompt and CLIP) and the steps
   * run on the device; without one, on the CPU's reference. */
  ctx = hd_vk_context_new (o->device, o->device != NULL ? error : &device_error);
  if (ctx == NULL && o->device != NULL)
    return 1;
  if (ctx == NULL)
    fprintf (stderr, _("hyperdomain-train: no Vulkan device (%s); training runs on the CPU’s "
                       "reference, much slower\n"), device_error->message);
  trainer = hd_trainer_new_on_device (ctx, gen, clips, o->source, o->target, &settings, init, error);
  if (trainer == NULL)
    return 1;
  if (hd_trainer_get_note (trainer) != NULL)
    fprintf (stderr, "hyperdomain-train: %s\n", hd_trainer_get_note (trainer));
  last = hd_trainer_get_last_step (trainer);
  while (ok && hd_trainer_get_steps_done (trainer) < settings.steps)
    {
      if (!hd_trainer_step (trainer, &step, &loss, error))
        {
          ok = FALSE;
          break;
        }
      fprintf (stderr, "step %d/%d loss %.9g\n", step, last, loss);
      fflush (stderr);
      if (hd_trainer_get_steps_done (trainer) == 1 && o->grad_out != NULL)
        {
          double first_loss;
          const float *g = hd_trainer_get_first_gradient (trainer, &first_loss);

          ok = hd_train_write_gradient (gen, g, step, first_loss, o->grad_out, error);
        }
      if (ok && o->save_every > 0 && step % o->save_every == 0 && step != last)
        {
          g_autofree char *path = step_path (o->output, step);
          ok = save_domain (trainer, step, path, error);
        }
    }
  if (ok)
    {
      if (o->save_every > 0 && step % o->save_every == 0)
        {
          g_autofree char *path = step_path (o->output, step);
          ok = save_domain (trainer, step, path, error);
        }
      if (ok)
        ok = save_domain (trainer, step, o->output, error);
    }
  hd_trainer_free (trainer);
  return ok ? 0 : 1;
}

int
main (int    argc,
      char **argv)
{
  Options o = { .steps = 300, .batch = 4, .lr = 0.1, .mixing = 0.9, .start_step = 1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  int status;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &o.model, N_("The generator (default: the bundled demo model)"), N_("G.safetensors") },
    { "clip", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.clips, N_("A clip file (both CLIP towers, from hyperdomain-convert); give several to sum their losses (default with the demo model: the demo’s own CLIP)"), N_("C.safetensors") },
    { "source", 0, 0, G_OPTION_ARG_STRING, &o.source, N_("What the generator makes, such as “photo”"), N_("TEXT") },
    { "target", 0, 0, G_OPTION_ARG_STRING, &o.target, N_("The domain to train, such as “3D render in the style of Pixar”"), N_("TEXT") },
    { "steps", 0, 0, G_OPTION_ARG_INT, &o.steps, N_("Steps; default 300"), N_("N") },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch, N_("Images per step; default 4"), N_("B") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, N_("Adam’s learning rate; default 0.1"), N_("LR") },
    { "mixing", 0, 0, G_OPTION_ARG_DOUBLE, &o.mixing, N_("Probability of style mixing per step; default 0.9"), N_("P") },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o.seed, N_("Seed of the random draws (0 to 4294967295); default 0"), N_("S") },
    { "save-every", 0, 0, G_OPTION_ARG_INT, &o.save_every, N_("Also write the domain after every K-th step, as OUT-stepNNNN.safetensors"), N_("K") },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &o.init, N_("Start from this domain instead of zero"), N_("D.safetensors") },
    { "start-step", 0, 0, G_OPTION_ARG_INT, &o.start_step, N_("Index of the first step (its random draws); default 1"), N_("K") },
    { "grad-out", 0, 0, G_OPTION_ARG_FILENAME, &o.grad_out, N_("Also write the gradient of the first step’s loss with respect to the domain"), N_("GRAD.safetensors") },
    { "device", 0, 0, G_OPTION_ARG_STRING, &o.device, N_("Vulkan device: auto (default), cpu (lavapipe) or an index; the text directions and the steps run on it"), N_("DEVICE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, N_("The domain file to write"), N_("OUT.safetensors") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o.version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  hd_cli_init_locale ();

  context = g_option_context_new (N_("— train a domain from a source and a target prompt"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, N_(
    "Trains a HyperDomainNet domain vector so that the CLIP direction from the\n"
    "generator’s images to the trained ones follows the direction from the\n"
    "source prompt to the target prompt.  Progress goes to stderr, one line per\n"
    "step: step S/LAST loss L."));
  g_option_context_set_description (context, N_(
    "Example:\n"
    "  hyperdomain-train --model ffhq.safetensors --clip vit-b-32.safetensors \\\n"
    "                    --clip vit-b-16.safetensors --source photo \\\n"
    "                    --target \"3D render in the style of Pixar\" -o pixar.safetensors\n"
    "\n"
    "Exit status: 0 on success, 1 when a file fails, 2 on a wrong command line.\n"));

  status = hd_cli_parse ("hyperdomain-train", context, &argc, &argv, &o.version);
  if (status >= 0)
    {
      options_clear (&o);
      return status;
    }
  status = run (&o, &error);
  if (status != 0)
    fprintf (stderr, "hyperdomain-train: %s\n", error != NULL ? error->message : _("failed"));
  options_clear (&o);
  return status;
}
