/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Clip files: spec/domain-training.md §7; the text direction of §3. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "hd-clip.h"
#include "hd-error.h"

static void
clip_free (HdClip *clip)
{
  g_free (clip->path);
  g_free (clip->name);
  g_free (clip->description);
  g_free (clip->config.name);
  g_clear_pointer (&clip->st, hd_safetensors_unref);
  g_free (clip);
}

HdClip *
hd_clip_ref (HdClip *clip)
{
  g_return_val_if_fail (clip != NULL, NULL);

  g_atomic_int_inc (&clip->ref_count);
  return clip;
}

void
hd_clip_unref (HdClip *clip)
{
  g_return_if_fail (clip != NULL);

  if (g_atomic_int_dec_and_test (&clip->ref_count))
    clip_free (clip);
}

static gboolean
parse_vision (HdClip      *clip,
              JsonObject  *root,
              const char  *file,
              GError     **error)
{
  JsonObject *vision = hd_config_object (root, file, "vision", error);
  HdClipVisionConfig *v = &clip->vision;
  const HdTensor *pos;
  const char *type;

  if (vision == NULL || (type = hd_config_string (vision, file, "vision", "type", error)) == NULL)
    return FALSE;
  if (!g_str_equal (type, "vit"))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_UNSUPPORTED,
                   _("%s: the image tower is “%s”; only ViT image towers are supported "
                     "(vision.type “vit”)"), file, type);
      return FALSE;
    }
  if (!hd_config_int (vision, file, "vision", "image_resolution", 1, &v->resolution, error) ||
      !hd_config_int (vision, file, "vision", "patch_size", 1, &v->patch, error) ||
      !hd_config_int (vision, file, "vision", "width", 1, &v->width, error) ||
      !hd_config_int (vision, file, "vision", "heads", 1, &v->heads, error) ||
      !hd_config_int (vision, file, "vision", "layers", 0, &v->layers, error))
    return FALSE;
  v->embed_dim = clip->config.embed_dim;
  if (v->heads != v->width / 64 || v->width % v->heads != 0)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: vision.heads is %d; a ViT of width %d "
                                          "has width / 64 heads, which must divide the width"),
                           v->heads, v->width);
      return FALSE;
    }
  pos = hd_safetensors_lookup (clip->st, "visual.positional_embedding");
  if (pos == NULL || pos->n_dims != 2 || pos->shape[0] < 2 || pos->shape[0] > 1 + 1024 * 1024)
    {
      hd_set_format_error (error, file, _("tensor “visual.positional_embedding” is missing or not a "
                                          "[patches + 1, width] matrix"));
      return FALSE;
    }
  v->grid = (int) floor (sqrt ((double) (pos->shape[0] - 1)) + 0.5);
  if ((gint64) v->grid * v->grid + 1 != pos->shape[0])
    {
      hd_set_format_error (error, file, _("tensor “visual.positional_embedding” has %lld rows, not a "
                                          "square grid of patches plus one"),
                           (long long) pos->shape[0]);
      return FALSE;
    }
  if (v->resolution != v->patch * v->grid)
    {
      hd_set_format_error (error, file, _("hyperdomain.config: vision.image_resolution is %d, but "
                                          "the patch size %d and the grid of %d × %d patches "
                                          "make %d"),
                           v->resolution, v->patch, v->grid, v->grid, v->patch * v->grid);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_ignored_tensor (const char *name)
{
  return g_str_equal (name, "logit_scale");
}

static gboolean
check_tensors (HdClip      *clip,
               GError     **error)
{
  const HdClipConfig *c = &clip->config;
  const HdClipVisionConfig *v = &clip->vision;
  HdExpected *e = hd_expected_new ();
  gint64 w = c->width, W = v->width, conv1[4] = { W, 3, v->patch, v->patch };
  const HdTensor *scale = hd_safetensors_lookup (clip->st, "logit_scale");
  gboolean ok;

  hd_expected_add (e, g_strdup ("token_embedding.weight"), c->vocab_size, w);
  hd_expected_add (e, g_strdup ("positional_embedding"), c->context_length, w);
  hd_expected_add_resblocks (e, "", w, c->layers);
  hd_expected_add (e, g_strdup ("ln_final.weight"), w, -1);
  hd_expected_add (e, g_strdup ("ln_final.bias"), w, -1);
  hd_expected_add (e, g_strdup ("text_projection"), w, c->embed_dim);
  hd_expected_add_shape (e, g_strdup ("visual.conv1.weight"), conv1, 4);
  hd_expected_add (e, g_strdup ("visual.class_embedding"), W, -1);
  hd_expected_add (e, g_strdup ("visual.positional_embedding"), (gint64) v->grid * v->grid + 1, W);
  hd_expected_add (e, g_strdup ("visual.ln_pre.weight"), W, -1);
  hd_expected_add (e, g_strdup ("visual.ln_pre.bias"), W, -1);
  hd_expected_add_resblocks (e, "visual.", W, v->layers);
  hd_expected_add (e, g_strdup ("visual.ln_post.weight"), W, -1);
  hd_expected_add (e, g_strdup ("visual.ln_post.bias"), W, -1);
  hd_expected_add (e, g_strdup ("visual.proj"), W, c->embed_dim);
  ok = hd_expected_check (e, clip->st, is_ignored_tensor,
                          _("tensor “%s” does not belong in a clip file"), error);
  hd_expected_free (e);
  if (ok && scale != NULL && (scale->n_dims != 0 || scale->dtype != HD_DTYPE_F32))
    {
      hd_set_format_error (error, hd_safetensors_get_path (clip->st),
                           _("tensor “logit_scale” is not an F32 scalar"));
      return FALSE;
    }
  return ok;
}

HdClip *
hd_clip_load_from_safetensors (HdSafetensors  *st,
                               GError        **error)
{
  g_autoptr(HdClip) clip = NULL;
  g_autoptr(JsonParser) parser = NULL;
  const char *file, *kind, *name;
  JsonObject *root, *text;

  g_return_val_if_fail (st != NULL, NULL);

  file = hd_safetensors_get_path (st);
  kind = hd_safetensors_get_metadata (st, "hyperdomain.kind");
  if (kind == NULL || !g_str_equal (kind, "clip"))
    {
      if (kind == NULL)
        hd_set_format_error (error, file, _("not a clip file (its metadata has no hyperdomain.kind)"));
      else
        hd_set_format_error (error, file, _("not a clip file (hyperdomain.kind is “%s”, not “clip”)"),
                             kind);
      return NULL;
    }
  if (!hd_safetensors_check_version (st, file, error))
    return NULL;
  name = hd_safetensors_get_metadata (st, "hyperdomain.name");
  if (name == NULL || name[0] == '\0')
    {
      hd_set_format_error (error, file, _("the metadata has no hyperdomain.name"));
      return NULL;
    }

  clip = g_new0 (HdClip, 1);
  clip->ref_count = 1;
  clip->st = hd_safetensors_ref (st);
  clip->path = g_canonicalize_filename (file, NULL);
  clip->name = g_strdup (name);
  clip->description = g_strdup (hd_safetensors_get_metadata (st, "hyperdomain.description"));
  clip->text.st = clip->st;
  clip->text.prefix = "";
  clip->text.config = &clip->config;

  root = hd_config_parse (hd_safetensors_get_metadata (st, "hyperdomain.config"), file, &parser,
                          error);
  if (root == NULL ||
      (text = hd_config_object (root, file, "text", error)) == NULL ||
      !hd_clip_parse_text_config (text, "text", root, "config", file, &clip->config, error) ||
      !parse_vision (clip, root, file, error) ||
      !check_tensors (clip, error) ||
      !hd_clip_text_check_merges (&clip->text, error))
    return NULL;
  return g_steal_pointer (&clip);
}

HdClip *
hd_clip_load (const char  *path,
              GError     **error)
{
  g_autoptr(HdSafetensors) st = hd_safetensors_open_full (path, HD_SAFETENSORS_ALLOW_INTEGERS, error);

  if (st == NULL)
    return NULL;
  return hd_clip_load_from_safetensors (st, error);
}

HdClip *
hd_clip_new_random (const char  *shape,
                    guint32      seed,
                    GError     **error)
{
  /* ViT-B/32 and ViT-B/16 of OpenAI's CLIP, with a text tower of their
   * size but a vocabulary of 768 (made of 254 merges of two letters). */
  int patch = g_str_equal (shape, "vit-b32") ? 32 : g_str_equal (shape, "vit-b16") ? 16 : 0;
  int W = 768, w = 512, E = 512, n = 224, grid = n / MAX (patch, 1), vocab = 768, ctx = 77;
  HdRandomWriter rw;
  g_autoptr(GString) merges = g_string_new ("#version: 0.2\n");
  g_autofree char *config = NULL;
  g_autofree char *display = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HdSafetensors) st = NULL;
  gint64 conv1[4] = { W, 3, patch, patch };
  g_autofree float *conv = NULL;

  if (patch == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_ARGUMENT,
                   _("There is no random CLIP of shape “%s” (vit-b32, vit-b16)"), shape);
      return NULL;
    }
  rw.writer = hd_safetensors_writer_new ();
  rw.rand = g_rand_new_with_seed (seed);
  for (int i = 0; i < vocab - 514; i++)
    g_string_append_printf (merges, "%c %c\n", 'a' + i / 26, 'a' + i % 26);
  hd_random_tensor (&rw, "token_embedding.weight", HD_DTYPE_F16, vocab, w, 0.0, 0.02);
  hd_random_tensor (&rw, "positional_embedding", HD_DTYPE_F16, ctx, w, 0.0, 0.01);
  hd_random_resblocks (&rw, "", w, 12);
  hd_random_tensor (&rw, "ln_final.weight", HD_DTYPE_F16, w, -1, 1.0, 0.1);
  hd_random_tensor (&rw, "ln_final.bias", HD_DTYPE_F16, w, -1, 0.0, 0.1);
  hd_random_tensor (&rw, "text_projection", HD_DTYPE_F16, w, E, 0.0, 1.0 / sqrt (w));
  conv = g_new (float, (gsize) W * 3 * patch * patch);
  for (gsize i = 0; i < (gsize) W * 3 * patch * patch; i++)
    conv[i] = (float) g_rand_double_range (rw.rand, -0.02, 0.02);
  hd_safetensors_writer_add_f32 (rw.writer, "visual.conv1.weight", HD_DTYPE_F16, conv1, 4, conv);
  hd_random_tensor (&rw, "visual.class_embedding", HD_DTYPE_F16, W, -1, 0.0, 0.05);
  hd_random_tensor (&rw, "visual.positional_embedding", HD_DTYPE_F16, grid * grid + 1, W, 0.0, 0.05);
  hd_random_tensor (&rw, "visual.ln_pre.weight", HD_DTYPE_F16, W, -1, 1.0, 0.1);
  hd_random_tensor (&rw, "visual.ln_pre.bias", HD_DTYPE_F16, W, -1, 0.0, 0.1);
  hd_random_resblocks (&rw, "visual.", W, 12);
  hd_random_tensor (&rw, "visual.ln_post.weight", HD_DTYPE_F16, W, -1, 1.0, 0.1);
  hd_random_tensor (&rw, "visual.ln_post.bias", HD_DTYPE_F16, W, -1, 0.0, 0.1);
  hd_random_tensor (&rw, "visual.proj", HD_DTYPE_F16, W, E, 0.0, 1.0 / sqrt (W));
  hd_safetensors_writer_add_u8 (rw.writer, "tokenizer.merges", (const guint8 *) merges->str, merges->len);
  config = g_strdup_printf ("{\"name\":\"custom\",\"embed_dim\":%d,"
                            "\"text\":{\"context_length\":%d,\"vocab_size\":%d,\"width\":%d,"
                            "\"heads\":8,\"layers\":12},"
                            "\"vision\":{\"type\":\"vit\",\"image_resolution\":%d,\"patch_size\":%d,"
                            "\"width\":%d,\"heads\":12,\"layers\":12}}",
                            E, ctx, vocab, w, n, patch, W);
  hd_safetensors_writer_set_metadata (rw.writer, "hyperdomain.kind", "clip");
  hd_safetensors_writer_set_metadata (rw.writer, "hyperdomain.version", "1");
  hd_safetensors_writer_set_metadata (rw.writer, "hyperdomain.name", shape);
  hd_safetensors_writer_set_metadata (rw.writer, "hyperdomain.config", config);
  bytes = hd_safetensors_writer_to_bytes (rw.writer);
  hd_safetensors_writer_free (rw.writer);
  g_rand_free (rw.rand);
  display = g_strdup_printf ("random-%s.safetensors", shape);
  st = hd_safetensors_new_from_bytes_full (bytes, display, HD_SAFETENSORS_ALLOW_INTEGERS, error);
  return st != NULL ? hd_clip_load_from_safetensors (st, error) : NULL;
}

HdClipTokenizer *
hd_clip_new_tokenizer (HdClip  *clip,
                       GError **error)
{
  return hd_clip_tokenizer_new (clip->text.merges, clip->text.merges_len,
                                (guint) clip->config.vocab_size,
                                (guint) clip->config.context_length, error);
}

/* ------------------------------------------------------------------------ */
/* The text direction                                                       */

static const char * const templates[] = {
    "a bad photo of a {}.",
    "a sculpture of a {}.",
    "a photo of the hard to see {}.",
    "a low resolution photo of the {}.",
    "a rendering of a {}.",
    "graffiti of a {}.",
    "a bad photo of the {}.",
    "a cropped photo of the {}.",
    "a tattoo of a {}.",
    "the embroidered {}.",
    "a photo of a hard to see {}.",
    "a bright photo of a {}.",
    "a photo of a clean {}.",
    "a photo of a dirty {}.",
    "a dark photo of the {}.",
    "a drawing of a {}.",
    "a photo of my {}.",
    "the plastic {}.",
    "a photo of the cool {}.",
    "a close-up photo of a {}.",
    "a black and white photo of the {}.",
    "a painting of the {}.",
    "a painting of a {}.",
    "a pixelated photo of the {}.",
    "a sculpture of the {}.",
    "a bright photo of the {}.",
    "a cropped photo of a {}.",
    "a plastic {}.",
    "a photo of the dirty {}.",
    "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.",
    "a photo of the {}.",
    "a good photo of the {}.",
    "a rendering of the {}.",
    "a {} in a video game.",
    "a photo of one {}.",
    "a doodle of a {}.",
    "a close-up photo of the {}.",
    "a photo of a {}.",
    "the origami {}.",
    "the {} in a video game.",
    "a sketch of a {}.",
    "a doodle of the {}.",
    "a origami {}.",
    "a low resolution photo of a {}.",
    "the toy {}.",
    "a rendition of the {}.",
    "a photo of the clean {}.",
    "a photo of a large {}.",
    "a rendition of a {}.",
    "a photo of a nice {}.",
    "a photo of a weird {}.",
    "a blurry photo of a {}.",
    "a cartoon {}.",
    "art of a {}.",
    "a sketch of the {}.",
    "a embroidered {}.",
    "a pixelated photo of a {}.",
    "itap of the {}.",
    "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.",
    "a plushie {}.",
    "a photo of the nice {}.",
    "a photo of the small {}.",
    "a photo of the weird {}.",
    "the cartoon {}.",
    "art of the {}.",
    "a drawing of the {}.",
    "a photo of the large {}.",
    "a black and white photo of a {}.",
    "the plushie {}.",
    "a dark photo of a {}.",
    "itap of a {}.",
    "graffiti of the {}.",
    "a toy {}.",
    "itap of my {}.",
    "a photo of a cool {}.",
    "a photo of a small {}.",
    "a tattoo of the {}.",
    NULL
};

const char * const *
hd_clip_templates (void)
{
  return templates;
}

char *
hd_clip_format_template (const char *template_,
                         const char *text)
{
  const char *hole = strstr (template_, "{}");

  g_return_val_if_fail (hole != NULL, NULL);
  return g_strdup_printf ("%.*s%s%s", (int) (hole - template_), template_, text, hole + 2);
}

/* The sum of the K template embeddings of TEXT into SUM, each into EMB
 * (K rows) when not NULL. */
static gboolean
encode_templates (HdClip               *clip,
                  HdClipTokenizer      *tokenizer,
                  HdClipTextEncodeFunc  encode,
                  gpointer              user_data,
                  const char           *text,
                  double               *sum,
                  float                *emb,
                  GError              **error)
{
  int embed = clip->config.embed_dim;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree float *e = g_new (float, embed);

  for (int k = 0; templates[k] != NULL; k++)
    {
      g_autofree char *prompt = hd_clip_format_template (templates[k], text);
      g_autoptr(GError) local_error = NULL;

      if (!hd_clip_tokenizer_encode (tokenizer, prompt, ids, &local_error))
        {
          g_set_error (error, local_error->domain, local_error->code,
                       /* Translators: a template such as “a photo of a {}.”, then the reason. */
                       _("The prompt template “%s” with this text cannot be encoded: %s"),
                       templates[k], local_error->message);
          return FALSE;
        }
      if (!encode ((const guint32 *) ids->data, ids->len, e, user_data, error))
        return FALSE;
      for (int j = 0; j < embed; j++)
        sum[j] += e[j];
      if (emb != NULL)
        memcpy (emb + (gsize) k * embed, e, sizeof (float) * embed);
    }
  return TRUE;
}

gboolean
hd_clip_text_direction (HdClip               *clip,
                        HdClipTokenizer      *tokenizer,
                        HdClipTextEncodeFunc  encode,
                        gpointer              user_data,
                        const char           *source,
                        const char           *target,
                        float                *t,
                        float                *source_emb,
                        float                *target_emb,
                        GError              **error)
{
  int embed = clip->config.embed_dim;
  g_autofree double *target_sum = g_new0 (double, embed);
  g_autofree double *source_sum = g_new0 (double, embed);
  int k = (int) g_strv_length ((char **) templates);

  if (!encode_templates (clip, tokenizer, encode, user_data, target, target_sum, target_emb,
                         error) ||
      !encode_templates (clip, tokenizer, encode, user_data, source, source_sum, source_emb,
                         error))
    return FALSE;
  for (int j = 0; j < embed; j++)
    t[j] = (float) ((target_sum[j] - source_sum[j]) / k);
  return TRUE;
}
