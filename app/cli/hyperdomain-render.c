/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hyperdomain-render: the command-line renderer (spec/cli.md).  The same
 * engine as the application, so the same pixels. */
#include "config.h"

#include <glib.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hd-cli-common.h"
#include "hd-cli-tools.h"
#include "hd-demo.h"
#include "hd-domain.h"
#include "hd-hypernetwork.h"
#include "hd-text-encoder.h"
#include "hd-error.h"
#include "hd-generator.h"
#include "hd-latent.h"
#include "hd-state.h"
#include "hd-vk.h"

typedef struct {
  char    *model;
  char    *seed;
  char    *seeds;
  char    *z_path;
  char    *w_path;
  double   psi;
  int      cutoff;
  char    *noise;
  char    *noise_seed;
  char   **domains;
  char    *hypernetwork;
  char   **texts;
  char    *save_domain;
  char    *device;
  gboolean list_devices;
  char    *output;
  gboolean version;
  char    *from_png;
  gboolean other_options;  /* for --from-png: options it does not take */
  gboolean contact_sheet;
  char    *sheet_sweep;
  char    *sheet_cells;
  char   **animate;
  int      frames;
  gboolean ease;
  gboolean loop;
  int      scale;
  char    *filter_name;
  HdUpscaleFilter filter;  /* from filter_name */
} Options;

typedef struct {
  HdDomain *domain;
  float     weight;
} DomainArg;

static void
options_clear (Options *o)
{
  g_free (o->model);
  g_free (o->seed);
  g_free (o->seeds);
  g_free (o->z_path);
  g_free (o->w_path);
  g_free (o->noise);
  g_free (o->noise_seed);
  g_strfreev (o->domains);
  g_free (o->hypernetwork);
  g_strfreev (o->texts);
  g_free (o->save_domain);
  g_free (o->device);
  g_free (o->output);
  g_free (o->from_png);
  g_free (o->sheet_sweep);
  g_free (o->sheet_cells);
  g_strfreev (o->animate);
  g_free (o->filter_name);
}

/* PATH[#ID][=WEIGHT] or PROMPT[=WEIGHT]: the weight is taken from the
 * last '=' when what follows it is a number.  FALSE when what comes
 * before it is empty. */
static gboolean
parse_domain_arg (const char *arg,
                  char      **spec,
                  float      *weight)
{
  const char *eq = strrchr (arg, '=');

  *weight = 1.0f;
  if (eq != NULL && eq[1] != '\0')
    {
      char *end = NULL;
      double v = g_ascii_strtod (eq + 1, &end);
      if (end != NULL && *end == '\0' && isfinite (v))
        {
          *spec = g_strndup (arg, eq - arg);
          *weight = (float) v;
          return **spec != '\0';
        }
    }
  *spec = g_strdup (arg);
  return **spec != '\0';
}

static float *
read_latent_file (HdGenerator  *gen,
                  const char   *path,
                  gboolean      is_w,
                  GError      **error)
{
  g_autoptr(HdNpy) npy = hd_npy_read (path, error);
  int z_dim = gen->config.z_dim, w_dim = gen->config.w_dim, num_ws = gen->num_ws;
  float *out;

  if (npy == NULL)
    return NULL;

  for (gsize i = 0; i < npy->n_elements; i++)
    if (!isfinite (npy->data[i]))
      {
        g_set_error (error, HD_ERROR, HD_ERROR_FORMAT,
                     _("%s holds a NaN or infinite value"), path);
        return NULL;
      }

  if (!is_w)
    {
      if ((npy->n_dims == 1 && npy->shape[0] == z_dim) ||
          (npy->n_dims == 2 && npy->shape[0] == 1 && npy->shape[1] == z_dim))
        return g_memdup2 (npy->data, sizeof (float) * z_dim);
      g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
                   _("%s: a z latent for this generator has shape (%d,) or (1, %d)"),
                   path, z_dim, z_dim);
      return NULL;
    }

  out = g_new (float, (gsize) num_ws * w_dim);
  if (npy->n_dims == 1 && npy->shape[0] == w_dim)
    {
      for (int k = 0; k < num_ws; k++)
        memcpy (out + (gsize) k * w_dim, npy->data, sizeof (float) * w_dim);
      return out;
    }
  if ((npy->n_dims == 2 && npy->shape[0] == num_ws && npy->shape[1] == w_dim) ||
      (npy->n_dims == 3 && npy->shape[0] == 1 && npy->shape[1] == num_ws && npy->shape[2] == w_dim))
    {
      memcpy (out, npy->data, sizeof (float) * num_ws * w_dim);
      return out;
    }
  g_free (out);
  g_set_error (error, HD_ERROR, HD_ERROR_SHAPE,
               _("%s: a w latent for this generator has shape (%d,), (%d, %d) or (1, %d, %d)"),
               path, w_dim, num_ws, w_dim, num_ws, w_dim);
  return NULL;
}

static int
list_devices (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = hd_vk_list_devices (&error);

  if (devices == NULL)
    {
      fprintf (stderr, "hyperdomain-render: %s\n", error->message);
      return 1;
    }
  if (devices->len == 0)
    {
      fprintf (stderr, "hyperdomain-render: %s\n",
               _("No Vulkan device found. Install a Vulkan driver, "
                 "e.g. mesa-vulkan-drivers for rendering on the CPU"));
      return 1;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      HdVkDeviceInfo *info = g_ptr_array_index (devices, i);
      printf ("%u: %s (%s, Vulkan %u.%u)\n", info->index, info->name, info->type_name,
               VK_API_VERSION_MAJOR (info->api_version), VK_API_VERSION_MINOR (info->api_version));
    }
  return 0;
}

static void
tools_args_init (Options     *o,
                 GArray      *seeds,
                 HdCliTools  *args)
{
  args->from_png = o->from_png;
  args->seeds = seeds;
  args->output = o->output;
  args->device = o->device;
  args->contact_sheet = o->contact_sheet;
  args->sheet_sweep = o->sheet_sweep;
  args->sheet_cells = o->sheet_cells;
  args->animate = (const char * const *) o->animate;
  args->frames = o->frames;
  args->ease = o->ease;
  args->loop = o->loop;
  args->scale = o->scale;
  args->filter = o->filter;
}

/* --scale and --filter: PNG images only, not sheets or animations. */
static gboolean
check_scale (Options  *o,
             GError  **error)
{
  if (o->scale < 1 || o->scale > HD_UPSCALE_MAX_SCALE)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--scale must be a whole number from 1 to %d"), HD_UPSCALE_MAX_SCALE);
      return FALSE;
    }
  if (o->filter_name != NULL && !hd_upscale_filter_from_string (o->filter_name, &o->filter))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--filter “%s” is not one of nearest, lanczos3"), o->filter_name);
      return FALSE;
    }
  if (o->scale > 1 && (o->contact_sheet || o->animate != NULL))
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--scale does not go with --contact-sheet or --animate"));
      return FALSE;
    }
  if (o->scale > 1 && o->output != NULL && hd_cli_has_suffix (o->output, ".npy"))
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--scale enlarges PNG images; a .npy output holds the raw image at the generator’s size"));
      return FALSE;
    }
  return TRUE;
}

/* -o is given and names a .png or .npy. */
static gboolean
check_output (Options  *o,
              GError  **error)
{
  if (o->output == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT, _("No output given: use -o OUT.png or -o OUT.npy"));
      return FALSE;
    }
  if (!hd_cli_has_suffix (o->output, ".png") && !hd_cli_has_suffix (o->output, ".npy"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("The output “%s” must end in .png or .npy"), o->output);
      return FALSE;
    }
  return TRUE;
}

/* Whether an option that describes the image was given: a saved state
 * or keyframes describe it all. */
static gboolean
image_options_given (Options *o)
{
  return o->other_options || o->model != NULL || o->z_path != NULL ||
         o->w_path != NULL || o->domains != NULL || o->noise != NULL ||
         o->hypernetwork != NULL || o->texts != NULL || o->save_domain != NULL ||
         o->noise_seed != NULL;
}

/* --from-png (hd-cli-tools.c). */
static int
run_saved_state (Options  *o,
                 GError  **error)
{
  g_autoptr(GArray) seeds = NULL;
  HdCliTools args = { 0 };

  if (!check_output (o, error))
    return 2;
  if (o->seed != NULL && o->seeds != NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT, _("Give only one of --seed and --seeds"));
      return 2;
    }
  if (o->seed != NULL || o->seeds != NULL)
    {
      seeds = o->seeds != NULL ? hd_cli_parse_seeds (o->seeds, TRUE, "--seeds", error)
                               : hd_cli_parse_seeds (o->seed, FALSE, "--seed", error);
      if (seeds == NULL)
        return 2;
    }
  if (!hd_cli_output_pattern_check (o->output, &args.has_conversion, error))
    return 2;

  tools_args_init (o, seeds, &args);
  args.other_options = image_options_given (o);
  return hd_cli_run_from_state (&args, error);
}

/* --animate (hd-cli-tools.c). */
static int
run_animation (Options  *o,
               GError  **error)
{
  HdCliTools args = { 0 };

  if (o->output == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("No output given: use -o with a pattern such as frames/%05d.png"));
      return 2;
    }
  if (!hd_cli_output_pattern_check (o->output, &args.has_conversion, error))
    return 2;
  tools_args_init (o, NULL, &args);
  args.other_options = image_options_given (o) || o->seed != NULL || o->seeds != NULL ||
                       o->from_png != NULL || o->contact_sheet;
  return hd_cli_run_animation (&args, error);
}

/* Whether ARGV holds the option NAME ("--psi" or "--psi=..."). */
static gboolean
argv_has_option (int          argc,
                 char       **argv,
                 const char  *name)
{
  gsize len = strlen (name);

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--"))
        break;
      if (strncmp (argv[i], name, len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '='))
        return TRUE;
    }
  return FALSE;
}

/* The --domain options: every domain they name, loaded into LOADED and
 * added to STATE with its weight.  Returns the exit status. */
static int
add_domains (Options      *o,
             HdGenerator  *gen,
             HdState      *state,
             GPtrArray    *loaded,
             GError      **error)
{
  for (guint i = 0; o->domains != NULL && o->domains[i] != NULL; i++)
    {
      g_autofree char *spec = NULL;
      g_autoptr(GPtrArray) domains = NULL;
      float weight;

      if (!parse_domain_arg (o->domains[i], &spec, &weight))
        {
          g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                       _("--domain “%s” names no file"), o->domains[i]);
          return 2;
        }
      domains = hd_domain_load_all (spec, error);
      if (domains == NULL)
        return 1;
      for (guint j = 0; j < domains->len; j++)
        {
          HdDomain *d = g_ptr_array_index (domains, j);
          g_autofree char *warning = NULL;

          if (!hd_domain_check (d, gen, &warning, error))
            return 1;
          if (warning != NULL)
            fprintf (stderr, _("hyperdomain-render: warning: %s\n"), warning);
          g_ptr_array_add (loaded, hd_domain_ref (d));
          hd_state_add_domain (state, d, weight, 0, 0);
        }
    }
  return 0;
}

/* The --hypernetwork and --text options: the encoder of the
 * hypernetwork, checked against GEN (NULL without texts), and every
 * prompt's domain in LOADED and STATE.  Returns the exit status. */
static int
add_texts (Options        *o,
           HdGenerator    *gen,
           HdState        *state,
           GPtrArray      *loaded,
           HdTextEncoder **encoder_out,
           GError        **error)
{
  g_autoptr(HdHypernetwork) hn = NULL;
  g_autoptr(HdTextEncoder) encoder = NULL;

  if (o->texts == NULL && o->hypernetwork == NULL)
    return 0;
  if (o->hypernetwork == NULL || o->texts == NULL)
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           o->hypernetwork == NULL ? _("--text needs --hypernetwork FILE")
                                                   : _("--hypernetwork needs at least one --text PROMPT"));
      return 2;
    }
  hn = hd_hypernetwork_load (o->hypernetwork, error);
  if (hn == NULL)
    return 1;
  if (gen != NULL)
    {
      if (!hd_hypernetwork_check (hn, gen, error))
        return 1;
      if (hn->generator != NULL && g_strcmp0 (hn->generator, gen->name) != 0)
        fprintf (stderr, _("hyperdomain-render: warning: the hypernetwork “%s” was made for the "
                           "generator “%s”, not “%s”\n"), hn->name, hn->generator, gen->name);
    }
  encoder = hd_text_encoder_new (hn, o->device, error);
  if (encoder == NULL)
    return 1;
  for (guint i = 0; o->texts[i] != NULL; i++)
    {
      g_autofree char *prompt = NULL;
      float weight;
      HdDomain *domain;

      parse_domain_arg (o->texts[i], &prompt, &weight);
      domain = hd_text_encoder_get_domain (encoder, prompt, error);
      if (domain == NULL)
        {
          g_autofree char *shown = g_utf8_make_valid (prompt, -1);

          g_prefix_error (error, _("--text “%s”: "), shown);
          return g_error_matches (*error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_TOO_LONG) ||
                 g_error_matches (*error, HD_CLIP_TOKENIZER_ERROR, HD_CLIP_TOKENIZER_ERROR_NOT_UTF8) ? 2 : 1;
        }
      g_ptr_array_add (loaded, domain);
      hd_state_add_domain (state, domain, weight, 0, 0);
    }
  if (encoder_out != NULL)
    *encoder_out = g_steal_pointer (&encoder);
  return 0;
}

/* --save-domain OUT: the domain of the one --text, written as a domain
 * file (spec/text-domains.md §7). */
static int
run_save_domain (Options  *o,
                 GError  **error)
{
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(HdState) state = hd_state_new ();
  g_autoptr(GPtrArray) loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_autoptr(HdTextEncoder) encoder = NULL;
  g_autofree char *prompt = NULL;
  HdDomain *domain;
  float weight;
  int status;

  if (o->texts == NULL || o->texts[0] == NULL || o->texts[1] != NULL || o->domains != NULL ||
      o->output != NULL || (parse_domain_arg (o->texts[0], &prompt, &weight), weight != 1.0f))
    {
      g_set_error_literal (error, HD_ERROR, HD_ERROR_ARGUMENT,
                           _("--save-domain takes exactly one --text (of weight 1), and neither "
                             "--domain nor -o"));
      return 2;
    }
  if (!hd_cli_has_suffix (o->save_domain, ".safetensors"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--save-domain “%s” must end in .safetensors"), o->save_domain);
      return 2;
    }
  if (o->model != NULL && (gen = hd_generator_load (o->model, error)) == NULL)
    return 1;
  status = add_texts (o, gen, state, loaded, &encoder, error);
  if (status != 0)
    return status;
  domain = g_ptr_array_index (loaded, 0);
  return hd_domain_save (domain, NULL, o->save_domain, error) ? 0 : 1;
}

/* The options that describe the image, checked, in STATE. */
static gboolean
read_image_options (Options  *o,
                    HdState  *state,
                    GError  **error)
{
  if ((o->seed != NULL) + (o->seeds != NULL) + (o->z_path != NULL) + (o->w_path != NULL) > 1)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Give only one of --seed, --seeds, --z and --w"));
      return FALSE;
    }
  if (!isfinite (o->psi))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--psi must be a finite number"));
      return FALSE;
    }
  state->psi = o->psi;
  if (o->cutoff < -1)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT, _("--cutoff must be 0 or more"));
      return FALSE;
    }
  state->cutoff = o->cutoff;
  if (o->noise != NULL && !hd_noise_mode_from_string (o->noise, &state->noise_mode))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--noise “%s” is not one of const, random, none"), o->noise);
      return FALSE;
    }
  if (o->noise_seed != NULL && !hd_cli_parse_uint32 (o->noise_seed, &state->noise_seed))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--noise-seed “%s” is not a number from 0 to 4294967295"), o->noise_seed);
      return FALSE;
    }
  return TRUE;
}

/* Renders the image the options describe: builds its state and hands it
 * to hd-cli-tools.c, as --from-png does with a saved one. */
static int
run_new_state (Options  *o,
               GError  **error)
{
  g_autoptr(HdGenerator) gen = NULL;
  g_autoptr(GArray) seeds = NULL;
  g_autoptr(GPtrArray) loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_autoptr(HdState) state = hd_state_new ();
  HdCliTools args = { 0 };
  int status;

  /* Without --model: the bundled demo model. */
  if (o->model == NULL && !hd_demo_model_find (&o->model, NULL))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("No generator given and no demo model installed: use --model GEN.safetensors"));
      return 2;
    }
  if (!check_output (o, error) || !read_image_options (o, state, error))
    return 2;

  if (o->seeds != NULL)
    seeds = hd_cli_parse_seeds (o->seeds, TRUE, "--seeds", error);
  else if (o->z_path == NULL && o->w_path == NULL)
    seeds = hd_cli_parse_seeds (o->seed != NULL ? o->seed : "0", FALSE, "--seed", error);
  if ((o->seeds != NULL || (o->z_path == NULL && o->w_path == NULL)) && seeds == NULL)
    return 2;

  if (!hd_cli_output_pattern_check (o->output, &args.has_conversion, error))
    return 2;
  if (seeds != NULL && seeds->len > 1 && !args.has_conversion && !o->contact_sheet)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("Several seeds need an output pattern with %%d for the seed, such as out/%%05d.png"));
      return 2;
    }

  gen = hd_generator_load (o->model, error);
  if (gen == NULL)
    return 1;
  state->generator_path = g_strdup (gen->path);
  state->generator_name = g_strdup (gen->name);
  if (state->cutoff > gen->num_ws)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("--cutoff %d is beyond the %d layers of the generator “%s”"),
                   state->cutoff, gen->num_ws, gen->name);
      return 2;
    }
  status = add_domains (o, gen, state, loaded, error);
  if (status == 0)
    status = add_texts (o, gen, state, loaded, NULL, error);
  if (status != 0)
    return status;

  if (o->z_path != NULL || o->w_path != NULL)
    {
      gboolean is_w = o->w_path != NULL;
      g_autofree float *latent = read_latent_file (gen, is_w ? o->w_path : o->z_path, is_w, error);

      if (latent == NULL)
        return 1;
      if (is_w)
        hd_state_set_latent (state, HD_LATENT_W, latent, gen->num_ws, gen->config.w_dim);
      else
        hd_state_set_latent (state, HD_LATENT_Z, latent, 1, gen->config.z_dim);
    }

  tools_args_init (o, seeds, &args);
  if (o->contact_sheet)
    return hd_cli_run_sheet (&args, state, gen, loaded, error);
  return hd_cli_render_state (&args, state, gen, loaded, error);
}

static int
run (Options  *o,
     GError  **error)
{
  if (!check_scale (o, error))
    return 2;
  if (o->animate != NULL)
    return run_animation (o, error);
  if (o->from_png != NULL)
    return run_saved_state (o, error);
  if (o->save_domain != NULL)
    return run_save_domain (o, error);
  return run_new_state (o, error);
}

int
main (int    argc,
      char **argv)
{
  Options o = { .psi = 1.0, .cutoff = -1, .frames = 24, .scale = 1, .filter = HD_UPSCALE_NEAREST };
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  int status;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &o.model, N_("The generator to render (default: the bundled demo model)"), N_("GEN.safetensors") },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o.seed, N_("Seed S (0 to 4294967295) or a range A-B; default 0"), N_("S") },
    { "seeds", 0, 0, G_OPTION_ARG_STRING, &o.seeds, N_("A list of seeds or ranges: 1,5,9 or 0-9,20"), N_("LIST") },
    { "z", 0, 0, G_OPTION_ARG_FILENAME, &o.z_path, N_("A z latent: .npy of shape (z_dim,) or (1, z_dim)"), N_("Z.npy") },
    { "w", 0, 0, G_OPTION_ARG_FILENAME, &o.w_path, N_("A W or W+ latent: .npy of shape (w_dim,), (num_ws, w_dim) or (1, num_ws, w_dim)"), N_("W.npy") },
    { "psi", 0, 0, G_OPTION_ARG_DOUBLE, &o.psi, N_("Truncation psi; default 1 (none)"), N_("F") },
    { "cutoff", 0, 0, G_OPTION_ARG_INT, &o.cutoff, N_("Truncate only the first N layers' w; default every layer"), N_("N") },
    { "noise", 0, 0, G_OPTION_ARG_STRING, &o.noise, N_("Noise: const (default), random or none"), N_("MODE") },
    { "noise-seed", 0, 0, G_OPTION_ARG_STRING, &o.noise_seed, N_("Seed of the random noise; default 0"), N_("S") },
    { "domain", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.domains, N_("Blend in a domain or a domain pack (every domain of it, or one with #ID) with WEIGHT (default 1); may repeat"), N_("PATH[#ID][=WEIGHT]") },
    { "device", 0, 0, G_OPTION_ARG_STRING, &o.device, N_("Vulkan device: auto (default), cpu or an index from --list-devices"), N_("DEVICE") },
    { "list-devices", 0, 0, G_OPTION_ARG_NONE, &o.list_devices, N_("Print the Vulkan devices with their index and exit"), NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, N_("Write the image: .png (8-bit with the state as metadata) or .npy (raw float32, shape (C, H, W)); with several seeds a pattern such as out/%05d.png"), N_("OUT") },
    { "hypernetwork", 0, 0, G_OPTION_ARG_FILENAME, &o.hypernetwork, N_("A hypernetwork file (a CLIP text encoder and a HyperDomainNet mapper) that turns the --text prompts into domains"), N_("FILE") },
    { "text", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.texts, N_("Blend in the domain of a text prompt with WEIGHT (default 1); needs --hypernetwork; may repeat"), N_("PROMPT[=WEIGHT]") },
    { "save-domain", 0, 0, G_OPTION_ARG_FILENAME, &o.save_domain, N_("Write the domain of the one --text to a domain file instead of rendering"), N_("OUT.safetensors") },
    { "from-png", 0, 0, G_OPTION_ARG_FILENAME, &o.from_png, N_("Render the state saved in an image exported by Hyperdomain (or in a state or preset .json): generator, latent, psi, cutoff, noise, domains with weights and layer ranges. --seed/--seeds replace its latent. Files that moved are looked for next to FILE"), N_("FILE") },
    { "contact-sheet", 0, 0, G_OPTION_ARG_NONE, &o.contact_sheet, N_("Write a contact sheet to -o OUT.png: a labelled grid with a row per seed (--seed A-B or --seeds) and a column per blend setting: the original and each domain alone at weight 1, or the steps of --sheet-sweep"), NULL },
    { "sheet-sweep", 0, 0, G_OPTION_ARG_STRING, &o.sheet_sweep, N_("Columns of the contact sheet: the weight of domain I (1 = the first) from FROM to TO in STEPS steps, the other weights as given"), N_("I:FROM:TO:STEPS") },
    { "sheet-cells", 0, 0, G_OPTION_ARG_FILENAME, &o.sheet_cells, N_("Also write each cell of the contact sheet as its own PNG, with its state, into DIR"), N_("DIR") },
    { "animate", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.animate, N_("A keyframe of a blend animation: an image exported by Hyperdomain or a state .json; give two or more, in order. The frames go to -o, a pattern such as frames/%05d.png (the frame number fills it)"), N_("FILE") },
    { "frames", 0, 0, G_OPTION_ARG_INT, &o.frames, N_("Frames from one keyframe to the next; default 24"), N_("N") },
    { "ease", 0, 0, G_OPTION_ARG_NONE, &o.ease, N_("Ease in and out of every keyframe (smoothstep) instead of moving at a constant speed"), NULL },
    { "loop", 0, 0, G_OPTION_ARG_NONE, &o.loop, N_("Go from the last keyframe back to the first, for an animation that loops"), NULL },
    { "scale", 0, 0, G_OPTION_ARG_INT, &o.scale, N_("Write PNG images N times the generator’s size (1 to 8; default 1); the state in them still renders at the generator’s size"), N_("N") },
    { "filter", 0, 0, G_OPTION_ARG_STRING, &o.filter_name, N_("How --scale enlarges: nearest (default: every pixel repeated, pixel-exact) or lanczos3 (smooth)"), N_("NAME") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o.version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  hd_cli_init_locale ();

  /* The context translates the texts given to it with this domain. */
  context = g_option_context_new (N_("— render images of a StyleGAN2 generator with domains"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, N_(
    "Renders images of a StyleGAN2 generator, optionally blended with\n"
    "HyperDomainNet domains: d = Σ weight_j · domain_j.  Seed S gives the same\n"
    "image as NVIDIA's generate.py --seeds S for the same network."));
  g_option_context_set_description (context, N_(
    "Examples:\n"
    "  hyperdomain-render --model gen.safetensors --seed 42 -o out.png\n"
    "  hyperdomain-render --model gen.safetensors --seed 0-99 --psi 0.7 -o out/%05d.png\n"
    "  hyperdomain-render --model gen.safetensors --domain pixar.safetensors=0.5 \\\n"
    "                     --domain pack.safetensors#anime=0.5 -o blend.npy\n"
    "  hyperdomain-render --from-png exported.png -o again.png\n"
    "  hyperdomain-render --from-png exported.png --contact-sheet --seeds 0-7 -o sheet.png\n"
    "  hyperdomain-render --animate a.png --animate b.png --frames 30 --ease --loop -o frames/%05d.png\n"
    "\n"
    "Exit status: 0 on success, 1 when a file or the device fails, 2 on a\n"
    "wrong command line.\n"));

  o.other_options = argv_has_option (argc, argv, "--psi") || argv_has_option (argc, argv, "--cutoff");
  status = hd_cli_parse ("hyperdomain-render", context, &argc, &argv, &o.version);
  if (status >= 0)
    {
      options_clear (&o);
      return status;
    }
  if (o.list_devices)
    {
      status = list_devices ();
      options_clear (&o);
      return status;
    }

  status = run (&o, &error);
  if (status != 0)
    fprintf (stderr, "hyperdomain-render: %s\n",
                error != NULL ? error->message : _("failed"));
  options_clear (&o);
  return status;
}
