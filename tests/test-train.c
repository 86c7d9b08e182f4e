/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training a domain from text (spec/domain-training.md) with the plain
 * reference: the draws (§5), every gradient case of conformance/training
 * (loss and ∂L/∂d), the trajectory with Adam (§6), and finite-difference
 * checks of the gradient.  Built a second time with HD_TEST_GPU
 * (test-train-gpu): the same cases through the device's step
 * (hd-train-gpu), and its renders and gradients against the reference's. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "hd-clip.h"
#include "hd-clip-reference.h"
#include "hd-cpu-reference.h"
#include "hd-domain.h"
#include "hd-latent.h"
#include "hd-test-util.h"
#include "hd-train-gpu.h"
#include "hd-train-reference.h"
#include "hd-trainer.h"
#include "hd-error.h"

#ifdef HD_TEST_GPU
static HdVkContext *context;

/* CLIPS, each with a tower on the device for R x R images, MAX_IMAGES a
 * pass (a new array, for device_towers_free). */
static HdTrainClip *
with_device_towers (const HdTrainClip *clips,
                    guint              n,
                    int                r,
                    int                max_images)
{
  HdTrainClip *copy = g_memdup2 (clips, sizeof (HdTrainClip) * n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;

      copy[i].device = hd_clip_train_gpu_new (context, clips[i].clip, r, max_images, &error);
      g_assert_no_error (error);
      g_assert_cmpint (hd_clip_train_gpu_get_max_images (copy[i].device), ==, max_images);
    }
  return copy;
}

static void
device_towers_free (HdTrainClip *clips,
                    guint        n)
{
  for (guint i = 0; i < n; i++)
    hd_clip_train_gpu_free (clips[i].device);
  g_free (clips);
}
#endif

/* One step of whichever implementation this binary tests: the reference,
 * or (HD_TEST_GPU) the device's step, its memory planned for the batch on
 * first use.  STEPPER keeps it between the steps of a test. */
typedef struct {
  HdTrainGpu *gpu;
  int         batch;
} Stepper;

static gboolean
stepper_step (Stepper            *stepper,
              HdGenerator        *gen,
              const HdTrainClip  *clips,
              guint               n_clips,
              const HdTrainDraws *draws,
              const float        *d,
              double             *loss,
              double             *loss_per_clip,
              float              *grad)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

#ifdef HD_TEST_GPU
  if (stepper->gpu == NULL || stepper->batch != draws->batch)
    {
      g_clear_pointer (&stepper->gpu, hd_train_gpu_free);
      stepper->gpu = hd_train_gpu_new (context, gen, draws->batch, &error);
      g_assert_no_error (error);
      stepper->batch = draws->batch;
    }
  {
    /* CLIP on the device too, as the trainer runs it. */
    HdTrainClip *device = with_device_towers (clips, n_clips, gen->config.img_resolution,
                                              2 * hd_train_gpu_get_samples_per_round (stepper->gpu));

    ok = hd_train_gpu_step (stepper->gpu, device, n_clips, draws, d, loss, loss_per_clip, grad, NULL, &error);
    device_towers_free (device, n_clips);
  }
#else
  ok = hd_train_reference_step (gen, clips, n_clips, draws, d, loss, loss_per_clip, grad, &error);
#endif
  g_assert_no_error (error);
  return ok;
}

/* Adam after a step: on the device with the device's step. */
static void
stepper_adam (Stepper     *stepper,
              HdAdam      *adam,
              float       *d,
              const float *grad)
{
#ifdef HD_TEST_GPU
  g_autoptr(GError) error = NULL;

  g_assert_true (hd_train_gpu_adam_step (stepper->gpu, adam, d, grad, &error));
  g_assert_no_error (error);
#else
  hd_adam_step (adam, d, grad);
#endif
}

static void
stepper_clear (Stepper *stepper)
{
  g_clear_pointer (&stepper->gpu, hd_train_gpu_free);
}

/* The clips of case C with their directions for its prompts. */
static HdTrainClip *
case_clips (JsonObject *c,
            guint      *n)
{
  JsonArray *names = json_object_get_array_member (c, "clips");
  HdTrainClip *clips;

  *n = json_array_get_length (names);
  clips = g_new0 (HdTrainClip, *n);
  for (guint i = 0; i < *n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdClipTokenizer) tokenizer = NULL;

      clips[i].clip = hd_test_load_clip (json_array_get_string_element (names, i));
      tokenizer = hd_clip_new_tokenizer (clips[i].clip, &error);
      g_assert_no_error (error);
      clips[i].direction = g_new (float, clips[i].clip->config.embed_dim);
      g_assert_true (hd_clip_text_direction (clips[i].clip, tokenizer, hd_clip_reference_encode_func, clips[i].clip,
                                             json_object_get_string_member (c, "source"),
                                             json_object_get_string_member (c, "target"),
                                             clips[i].direction, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  return clips;
}

static void
clips_free (HdTrainClip *clips,
            guint        n)
{
  for (guint i = 0; i < n; i++)
    {
      hd_clip_unref (clips[i].clip);
      g_free (clips[i].direction);
    }
  g_free (clips);
}

/* The domain D of GEN from a domain file (NULL: zeros). */
static float *
initial_d (HdGenerator *gen,
           const char  *init)
{
  float *d = g_new0 (float, gen->domain_dim);

  if (init != NULL)
    {
      g_autofree char *rel = g_strdup (init + strlen ("{fix}/"));
      g_autofree char *file = g_strdup_printf ("training/%s", rel);
      g_autofree char *path = hd_test_conformance_path (file);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) domains = hd_domain_load_all (path, &error);
      HdBlendTerm term = { NULL, 1.0f, 0, 0 };

      g_assert_no_error (error);
      term.domain = g_ptr_array_index (domains, 0);
      hd_domain_blend (gen, &term, 1, d);
    }
  return d;
}

static double
mixing_of (JsonObject *c)
{
  return json_object_has_member (c, "mixing") ? json_object_get_double_member (c, "mixing") : 0.9;
}

/* The draws match the case's schedule and z. */
static void
check_draws (const HdTrainDraws *draws,
             JsonObject         *schedule,
             const float        *z,
             int                 z_dim)
{
  JsonArray *ns = json_object_get_array_member (schedule, "noise_src");
  JsonArray *nt = json_object_get_array_member (schedule, "noise_trg");

  g_assert_cmpint (draws->step, ==, json_object_get_int_member (schedule, "step"));
  g_assert_cmpfloat (draws->u, ==, json_object_get_double_member (schedule, "u"));
  g_assert_cmpint (draws->mix, ==, json_object_get_boolean_member (schedule, "mix"));
  g_assert_cmpint (draws->c_src, ==, json_object_get_int_member (schedule, "c_src"));
  g_assert_cmpint (draws->c_trg, ==, json_object_get_int_member (schedule, "c_trg"));
  for (int b = 0; b < draws->batch; b++)
    {
      g_assert_cmpuint (draws->noise_src[b], ==, (guint32) json_array_get_int_element (ns, b));
      g_assert_cmpuint (draws->noise_trg[b], ==, (guint32) json_array_get_int_element (nt, b));
    }
  g_assert_cmpmem (draws->z, sizeof (float) * 2 * draws->batch * z_dim,
                   z, sizeof (float) * 2 * draws->batch * z_dim);
}

static void
test_gradients (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonArray *list = json_object_get_array_member (cases, "gradients");
  JsonObject *tol = json_object_get_object_member (cases, "tolerance");
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  Stepper stepper = { 0 };

  g_assert_cmpuint (json_array_get_length (list), ==, 5);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      const char *init = json_object_get_null_member (c, "init") ? NULL
                         : json_object_get_string_member (c, "init");
      g_autofree float *d = initial_d (gen, init);
      g_autofree float *grad = g_new (float, gen->domain_dim);
      g_autoptr(HdNpy) z = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "z"));
      g_autoptr(HdNpy) expected = hd_test_load_npy ("training/%s", json_object_get_string_member (c, "expected"));
      g_autoptr(GError) error = NULL;
      HdTrainDraws draws;
      HdTrainClip *clips;
      guint n_clips;
      double loss, max_g = 0.0, max_diff = 0.0;
      g_autofree double *per_clip = NULL;

      clips = case_clips (c, &n_clips);
      per_clip = g_new (double, n_clips);
      hd_train_draws_init (&draws, (guint32) json_object_get_int_member (c, "seed"),
                           (int) json_object_get_int_member (c, "start_step"),
                           (int) json_object_get_int_member (c, "batch"), mixing_of (c), gen->num_ws,
                           gen->config.z_dim);
      check_draws (&draws, json_object_get_object_member (c, "schedule"), z->data, gen->config.z_dim);
      g_assert_true (stepper_step (&stepper, gen, clips, n_clips, &draws, d, &loss, per_clip, grad));
      g_assert_cmpuint (expected->n_elements, ==, (gsize) gen->domain_dim);
      for (int k = 0; k < gen->domain_dim; k++)
        {
          max_g = MAX (max_g, fabs (expected->data[k]));
          max_diff = MAX (max_diff, fabs ((double) grad[k] - expected->data[k]));
        }
      g_test_message ("%s: loss %.9g (expected %.9g, diff %.2g), gradient max diff / max %.3g",
                      json_object_get_string_member (c, "name"), loss,
                      json_object_get_double_member (c, "loss"),
                      fabs (loss - json_object_get_double_member (c, "loss")), max_diff / max_g);
      g_assert_cmpfloat (fabs (loss - json_object_get_double_member (c, "loss")), <=,
                         json_object_get_double_member (tol, "loss_abs"));
      g_assert_cmpfloat (max_diff / max_g, <=, json_object_get_double_member (tol, "grad_max_abs_rel"));
      hd_train_draws_clear (&draws);
      clips_free (clips, n_clips);
    }
  stepper_clear (&stepper);
}

#ifndef HD_TEST_GPU
/* The reference render of the trainable branch is the renderer's image
 * of the same latents, noise and domain (the C reference renderer). */
static void
test_render_matches (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autofree float *d = initial_d (gen, "{fix}/init-d.safetensors");
  int R = gen->config.img_resolution;
  gsize n = (gsize) 3 * R * R;
  g_autofree float *a = g_new (float, n), *b = g_new (float, n);
  g_autofree float *ws = g_new (float, (gsize) gen->num_ws * gen->config.w_dim);
  g_autoptr(GError) error = NULL;
  HdTrainDraws draws;
  HdRenderParams params;
  double max = 0.0;

  hd_train_draws_init (&draws, 9, 1, 2, 0.0, gen->num_ws, gen->config.z_dim);
  hd_train_reference_render (gen, &draws, 1, TRUE, d, a);
  hd_render_params_init (&params);
  params.latent_kind = HD_LATENT_Z;
  params.z = draws.z + gen->config.z_dim;
  params.noise_mode = HD_NOISE_RANDOM;
  params.noise_seed = draws.noise_trg[1];
  params.domain = d;
  g_assert_true (hd_cpu_render (gen, &params, b, &error));
  for (gsize i = 0; i < n; i++)
    max = MAX (max, fabs ((double) a[i] - b[i]));
  g_test_message ("trainable render vs hd_cpu_render: %.3g", max);
  g_assert_cmpfloat (max, <, 1e-4);
  hd_train_draws_clear (&draws);
}
#endif

#ifndef HD_TEST_GPU
/* ∂L/∂d against central differences of the loss, on a few elements. */
static void
test_finite_differences (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (cases, "gradients"), 1);
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autofree float *d = initial_d (gen, "{fix}/init-d.safetensors");
  g_autofree float *grad = g_new (float, gen->domain_dim);
  g_autofree float *scratch = g_new (float, gen->domain_dim);
  HdTrainDraws draws;
  HdTrainClip *clips;
  guint n_clips;
  double loss, max_g = 0.0;
  const int picks[] = { 0, 17, 64, 130, 200, 250, 300, 335 };

  clips = case_clips (c, &n_clips);
  hd_train_draws_init (&draws, 42, 1, 2, 0.9, gen->num_ws, gen->config.z_dim);
  g_assert_true (hd_train_reference_step (gen, clips, n_clips, &draws, d, &loss, NULL, grad, NULL));
  for (int k = 0; k < gen->domain_dim; k++)
    max_g = MAX (max_g, fabs (grad[k]));
  for (guint i = 0; i < G_N_ELEMENTS (picks); i++)
    {
      int k = picks[i];
      float keep = d[k];
      double up, down, fd, h = 1e-3;

      d[k] = keep + (float) h;
      hd_train_reference_step (gen, clips, n_clips, &draws, d, &up, NULL, scratch, NULL);
      d[k] = keep - (float) h;
      hd_train_reference_step (gen, clips, n_clips, &draws, d, &down, NULL, scratch, NULL);
      d[k] = keep;
      fd = (up - down) / (2 * h);
      g_test_message ("d[%d]: analytic %.6g, central difference %.6g", k, grad[k], fd);
      g_assert_cmpfloat (fabs (fd - grad[k]), <, 2e-3 * max_g + 1e-2 * fabs (grad[k]));
    }
  hd_train_draws_clear (&draws);
  clips_free (clips, n_clips);
}
#endif

/* The 10-step trajectory with Adam, within the case's tolerances. */
static void
test_trajectory (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  JsonObject *c = json_array_get_object_element (json_object_get_array_member (cases, "trajectories"), 0);
  JsonObject *tol = json_object_get_object_member (c, "tolerance");
  JsonObject *expected = json_object_get_object_member (c, "expected");
  JsonArray *losses = json_object_get_array_member (c, "losses");
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autofree float *d = g_new0 (float, gen->domain_dim);
  g_autofree float *grad = g_new (float, gen->domain_dim);
  double lr = json_object_get_double_member (c, "lr");
  int steps = (int) json_object_get_int_member (c, "steps");
  HdTrainClip *clips;
  guint n_clips;
  HdAdam adam;
  Stepper stepper = { 0 };

  clips = case_clips (c, &n_clips);
  hd_adam_init (&adam, gen->domain_dim, lr);
  for (int s = 1; s <= steps; s++)
    {
      g_autofree char *key = g_strdup_printf ("%d", s);
      HdTrainDraws draws;
      double loss, want = json_array_get_double_element (losses, s - 1);

      hd_train_draws_init (&draws, (guint32) json_object_get_int_member (c, "seed"), s,
                           (int) json_object_get_int_member (c, "batch"), 0.9, gen->num_ws,
                           gen->config.z_dim);
      g_assert_true (stepper_step (&stepper, gen, clips, n_clips, &draws, d, &loss, NULL, grad));
      stepper_adam (&stepper, &adam, d, grad);
      g_test_message ("step %d: loss %.9g (expected %.9g)", s, loss, want);
      g_assert_cmpfloat (fabs (loss - want), <=,
                         json_array_get_double_element (json_object_get_array_member (tol, "loss_abs"), s - 1));
      if (json_object_has_member (expected, key))
        {
          g_autoptr(HdNpy) e = hd_test_load_npy ("training/%s", json_object_get_string_member (expected, key));
          double max = 0.0, rms = 0.0;

          for (int k = 0; k < gen->domain_dim; k++)
            {
              double diff = fabs ((double) d[k] - e->data[k]) / lr;
              max = MAX (max, diff);
              rms += diff * diff;
            }
          rms = sqrt (rms / gen->domain_dim);
          g_test_message ("  d: max %.3g lr, rms %.3g lr", max, rms);
          g_assert_cmpfloat (max, <=, json_object_get_double_member (json_object_get_object_member (tol, "d_max_over_lr"), key));
          g_assert_cmpfloat (rms, <=, json_object_get_double_member (json_object_get_object_member (tol, "d_rms_over_lr"), key));
        }
      hd_train_draws_clear (&draws);
    }
  hd_adam_clear (&adam);
  clips_free (clips, n_clips);
  stepper_clear (&stepper);
}

#ifndef HD_TEST_GPU
/* What cannot be trained is refused with a message, before any step. */
static void
test_refusals (void)
{
  HdGeneratorConfig config = hd_test_config (16, 64, 32, 8, 8, FALSE);
  g_autoptr(HdGenerator) gray = NULL;
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDomain) other = hd_domain_new (NULL, "other");
  HdTrainSettings settings;
  float values[3] = { 0 };

  config.img_channels = 1;
  gray = hd_generator_new_random (&config, 3);
  g_ptr_array_add (clips, hd_test_load_clip ("clip-train.safetensors"));
  hd_train_settings_init (&settings);
  g_assert_null (hd_trainer_new (gray, clips, "a", "b", &settings, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "makes 1 channels"));
  g_clear_error (&error);

  settings.batch = 0;
  g_assert_null (hd_trainer_new (gen, clips, "a", "b", &settings, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_clear_error (&error);
  hd_train_settings_init (&settings);
  settings.lr = NAN;
  g_assert_null (hd_trainer_new (gen, clips, "a", "b", &settings, NULL, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT);
  g_clear_error (&error);

  /* An --init domain of another generator: the layer and sizes named. */
  hd_train_settings_init (&settings);
  hd_domain_add_layer (other, "synthesis.b8.conv0", values, 3);
  g_assert_null (hd_trainer_new (gen, clips, "a", "b", &settings, other, &error));
  g_assert_error (error, HD_ERROR, HD_ERROR_SHAPE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "synthesis.b8.conv0"));
}
#endif

#ifdef HD_TEST_GPU
/* The device's renders (both branches) and gradient against the
 * reference's, on a generator with every layer kind (up-sampling convs,
 * the skip path, the clamp), at a domain that is not zero; CLIP's towers
 * on the device, CLIP_IMAGES images a pass (0: on the host). */
static void
check_device_against_reference (HdGenerator *gen,
                                const char  *what,
                                int          batch,
                                int          max_round,
                                gboolean     storage_only,
                                double       mixing,
                                int          clip_images)
{
  int R = gen->config.img_resolution;
  gsize n = (gsize) 3 * R * R;
  g_autofree float *d = g_new (float, gen->domain_dim);
  g_autofree float *images = g_new (float, n * 2 * batch);
  g_autofree float *ref = g_new (float, n);
  g_autofree float *grad = g_new (float, gen->domain_dim);
  g_autofree float *want = g_new (float, gen->domain_dim);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTrainGpu) gpu = NULL;
  HdTrainGpuOptions options = { 0 };
  HdTrainClip *clips;
  HdTrainDraws draws;
  double max_img = 0.0, max_px = 0.0, max_g = 0.0, max_diff = 0.0, loss, want_loss;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cases = hd_test_load_json (parser, "training/cases.json");
  guint n_clips;

  for (int k = 0; k < gen->domain_dim; k++)
    d[k] = 0.3f * sinf (0.7f * k);
  options.max_round = max_round;
  options.storage_only = storage_only;
  gpu = hd_train_gpu_new_full (context, gen, batch, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hd_train_gpu_get_samples_per_round (gpu), ==, max_round > 0 ? MIN (max_round, batch) : batch);
  hd_train_draws_init (&draws, 5, 3, batch, mixing, gen->num_ws, gen->config.z_dim);
  g_assert_true (hd_train_gpu_render (gpu, &draws, d, images, &error));
  g_assert_no_error (error);
  for (int r = 0; r < 2 * batch; r++)
    {
      hd_train_reference_render (gen, &draws, r % batch, r >= batch, d, ref);
      for (gsize i = 0; i < n; i++)
        {
          max_img = MAX (max_img, fabs ((double) images[r * n + i] - ref[i]));
          max_px = MAX (max_px, fabs ((double) ref[i]));
        }
    }
  g_test_message ("%s: renders, device vs reference: max %.3g (pixels up to %.3g)", what, max_img, max_px);
  g_assert_cmpfloat (max_img, <=, 1e-4 * MAX (max_px, 1.0));

  clips = case_clips (json_array_get_object_element (json_object_get_array_member (cases, "gradients"), 1),
                      &n_clips);
  {
    HdTrainClip *device = clip_images > 0 ? with_device_towers (clips, n_clips, R, clip_images) : NULL;

    g_assert_true (hd_train_gpu_step (gpu, device != NULL ? device : clips, n_clips, &draws, d, &loss, NULL,
                                      grad, NULL, &error));
    g_assert_no_error (error);
    /* The reference runs every CLIP on the host, device tower or not. */
    g_assert_true (hd_train_reference_step (gen, device != NULL ? device : clips, n_clips, &draws, d,
                                            &want_loss, NULL, want, &error));
    if (device != NULL)
      device_towers_free (device, n_clips);
  }
  for (int k = 0; k < gen->domain_dim; k++)
    {
      max_g = MAX (max_g, fabs (want[k]));
      max_diff = MAX (max_diff, fabs ((double) grad[k] - want[k]));
    }
  g_test_message ("%s: loss %.9g vs %.9g; gradient max diff / max %.3g", what, loss, want_loss,
                  max_diff / max_g);
  g_assert_cmpfloat (fabs (loss - want_loss), <=, 1e-5);
  g_assert_cmpfloat (max_diff / max_g, <=, 1e-4);
  hd_train_draws_clear (&draws);
  clips_free (clips, n_clips);
}

/* Adam on the device against the host's, step by step, with gradients
 * of very different sizes (the root and ε matter). */
static void
test_device_adam (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTrainGpu) gpu = hd_train_gpu_new (context, gen, 1, &error);
  int n = gen->domain_dim;
  g_autofree float *d = g_new (float, n), *d_host = g_new (float, n), *grad = g_new (float, n);
  HdAdam adam, host;
  double worst = 0.0;
  guint32 state = 3;

  g_assert_no_error (error);
  hd_adam_init (&adam, n, 0.05);
  hd_adam_init (&host, n, 0.05);
  for (int i = 0; i < n; i++)
    d[i] = d_host[i] = 0.1f * sinf ((float) i);
  for (int step = 0; step < 20; step++)
    {
      for (int i = 0; i < n; i++)
        {
          state = state * 1664525u + 1013904223u;
          grad[i] = ((state >> 8) / (float) (1u << 24) - 0.5f) * powf (10.0f, (float) (i % 9) - 6.0f);
        }
      g_assert_true (hd_train_gpu_adam_step (gpu, &adam, d, grad, &error));
      g_assert_no_error (error);
      hd_adam_step (&host, d_host, grad);
      g_assert_cmpint (adam.t, ==, host.t);
      for (int i = 0; i < n; i++)
        worst = MAX (worst, fabs ((double) d[i] - d_host[i]));
    }
  g_test_message ("Adam, device against host over 20 steps: max |d - d_host| %.3g (lr 0.05)", worst);
  /* Bit for bit on lavapipe; a GPU's square root and division may round
   * otherwise. */
  g_assert_cmpfloat (worst, <=, 1e-6);
  hd_adam_clear (&adam);
  hd_adam_clear (&host);
}

static void
test_device_matches (void)
{
  g_autoptr(HdGenerator) tiny = hd_test_load_tiny ();
  HdGeneratorConfig config = hd_test_config (16, 64, 32, 8, 8, FALSE);
  g_autoptr(HdGenerator) clamped = NULL;
  g_autoptr(HdGenerator) odd = NULL;

  check_device_against_reference (tiny, "tiny", 3, 0, FALSE, 0.9, 6);
  check_device_against_reference (tiny, "tiny, CLIP on the host", 3, 0, FALSE, 0.9, 0);
  /* Rounds of two samples, the second padded; CLIP one image a pass. */
  check_device_against_reference (tiny, "tiny, rounds of 2, CLIP one image a pass", 3, 2, FALSE, 0.9, 1);
  /* The kernels GPUs run (storage buffers, no texel reads); CLIP two
   * pairs a pass, the second pass one pair. */
  check_device_against_reference (tiny, "tiny, storage-buffer kernels", 3, 0, TRUE, 0.9, 4);
  /* A clamp the activations reach, and no mixing. */
  config.has_conv_clamp = TRUE;
  config.conv_clamp = 0.5f;
  clamped = hd_generator_new_random (&config, 11);
  check_device_against_reference (clamped, "clamp 0.5", 2, 0, FALSE, 0.0, 4);
  check_device_against_reference (clamped, "clamp 0.5, storage-buffer kernels", 2, 0, TRUE, 0.0, 4);
  /* Odd channel counts (13, 7, 3) and a row length that is not a whole
   * number of the kernels' runs of pixels (the 16-pixel layers are). */
  config = hd_test_config (16, 52, 52, 8, 8, FALSE);
  odd = hd_generator_new_random (&config, 12);
  g_assert_cmpint (odd->convs[odd->n_convs - 1].c_out, ==, 3);
  check_device_against_reference (odd, "odd channels", 1, 0, FALSE, 0.5, 2);
  check_device_against_reference (odd, "odd channels, storage-buffer kernels", 1, 0, TRUE, 0.5, 2);
}

/* A batch whose buffers do not fit the device goes through in rounds; a
 * generator whose one sample does not fit is refused with a message, not
 * a crash, and the trainer falls back to the CPU's reference. */
static void
test_device_memory (void)
{
  g_autoptr(HdGenerator) gen = hd_test_load_tiny ();
  HdGeneratorConfig config = hd_test_config (4096, 4096, 1, 8, 8, FALSE);
  g_autoptr(HdGenerator) big = hd_generator_new_random (&config, 5);
  g_autoptr(GPtrArray) clips = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_clip_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTrainGpu) gpu = hd_train_gpu_new (context, gen, 2, &error);
  g_autofree char *report = NULL;
  HdTrainSettings settings;
  HdTrainer *trainer;

  g_assert_no_error (error);
  report = hd_train_gpu_get_memory_report (gpu);
  g_test_message ("%s", report);
  g_assert_nonnull (strstr (report, "training: activations"));
  g_clear_pointer (&gpu, hd_train_gpu_free);

  gpu = hd_train_gpu_new (context, gen, 1 << 22, &error);
  g_assert_no_error (error);
  g_test_message ("batch %d: %d samples a round", 1 << 22, hd_train_gpu_get_samples_per_round (gpu));
  g_assert_cmpint (hd_train_gpu_get_samples_per_round (gpu), <, 1 << 22);
  g_clear_pointer (&gpu, hd_train_gpu_free);

  g_ptr_array_add (clips, hd_test_load_clip ("clip-train.safetensors"));
  hd_train_settings_init (&settings);
  trainer = hd_trainer_new_on_device (context, gen, clips, "photo", "sketch", &settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hd_trainer_is_on_device (trainer));
  g_assert_null (hd_trainer_get_note (trainer));
  hd_trainer_free (trainer);

  /* 4096 x 4096 with one channel: 268 MB of activations a render. */
  gpu = hd_train_gpu_new (context, big, 1, &error);
  if (gpu != NULL)
    {
      g_test_message ("this device holds a 4096 render's training step");
      return;
    }
  g_assert_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  settings.batch = 1;
  trainer = hd_trainer_new_on_device (context, big, clips, "photo", "sketch", &settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (hd_trainer_is_on_device (trainer));
  g_assert_nonnull (hd_trainer_get_note (trainer));
  g_test_message ("%s", hd_trainer_get_note (trainer));
  hd_trainer_free (trainer);
}
#endif

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

#ifdef HD_TEST_GPU
  {
    g_autoptr(GError) error = NULL;

    context = hd_vk_context_new (NULL, &error);
    g_assert_no_error (error);
  }
  g_test_add_func ("/Hyperdomain/TrainGpu/matches-reference", test_device_matches);
  g_test_add_func ("/Hyperdomain/TrainGpu/memory", test_device_memory);
  g_test_add_func ("/Hyperdomain/TrainGpu/gradients", test_gradients);
  g_test_add_func ("/Hyperdomain/TrainGpu/trajectory", test_trajectory);
  g_test_add_func ("/Hyperdomain/TrainGpu/adam", test_device_adam);
#else
  g_test_add_func ("/Hyperdomain/Train/render-matches", test_render_matches);
  g_test_add_func ("/Hyperdomain/Train/gradients", test_gradients);
  g_test_add_func ("/Hyperdomain/Train/finite-differences", test_finite_differences);
  g_test_add_func ("/Hyperdomain/Train/trajectory", test_trajectory);
  g_test_add_func ("/Hyperdomain/Train/refusals", test_refusals);
#endif
  status = g_test_run ();
#ifdef HD_TEST_GPU
  g_assert_cmpuint (hd_vk_context_get_validation_messages (context), ==, 0);
  hd_vk_context_unref (context);
#endif
  return status;
}
