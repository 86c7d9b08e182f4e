/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Prompt -> token ids -> e -> d, cached by prompt.  The encoder and the
 * mapper run as hd-text-reference.c writes them. */
#include "hd-text-encoder.h"

#include "hd-text-gpu.h"
#include "hd-text-reference.h"

struct _HdTextEncoder {
  HdHypernetwork  *hn;
  HdClipTokenizer *tokenizer;
  GMutex           lock;
  GHashTable      *cache;      /* prompt -> HdDomain* */
  char            *device;
  gboolean         tried_gpu;
  HdTextGpu       *gpu;        /* NULL: the CPU reference */
  guint            n_encoded;
  gint             ref_count;
};

HdTextEncoder *
hd_text_encoder_new (HdHypernetwork  *hn,
                     const char      *device,
                     GError         **error)
{
  g_autoptr(HdClipTokenizer) tokenizer = NULL;
  HdTextEncoder *encoder;

  g_return_val_if_fail (hn != NULL, NULL);

  tokenizer = hd_clip_tokenizer_new (hn->merges, hn->merges_len, (guint) hn->clip.vocab_size,
                                     (guint) hn->clip.context_length, error);
  if (tokenizer == NULL)
    {
      g_prefix_error (error, "%s: ", hn->path);
      return NULL;
    }
  encoder = g_new0 (HdTextEncoder, 1);
  encoder->ref_count = 1;
  encoder->hn = hd_hypernetwork_ref (hn);
  encoder->tokenizer = g_steal_pointer (&tokenizer);
  encoder->device = g_strdup (device);
  encoder->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) hd_domain_unref);
  g_mutex_init (&encoder->lock);
  return encoder;
}

HdTextEncoder *
hd_text_encoder_ref (HdTextEncoder *encoder)
{
  g_return_val_if_fail (encoder != NULL, NULL);

  g_atomic_int_inc (&encoder->ref_count);
  return encoder;
}

void
hd_text_encoder_unref (HdTextEncoder *encoder)
{
  g_return_if_fail (encoder != NULL);

  if (!g_atomic_int_dec_and_test (&encoder->ref_count))
    return;
  g_hash_table_unref (encoder->cache);
  g_clear_pointer (&encoder->gpu, hd_text_gpu_free);
  g_free (encoder->device);
  hd_clip_tokenizer_unref (encoder->tokenizer);
  hd_hypernetwork_unref (encoder->hn);
  g_mutex_clear (&encoder->lock);
  g_free (encoder);
}

void
hd_text_encoder_set_device (HdTextEncoder *encoder,
                            const char    *device)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_if_fail (encoder != NULL);

  locker = g_mutex_locker_new (&encoder->lock);
  if (g_strcmp0 (encoder->device, device) == 0)
    return;
  g_free (encoder->device);
  encoder->device = g_strdup (device);
  g_clear_pointer (&encoder->gpu, hd_text_gpu_free);
  encoder->tried_gpu = FALSE;
}

const char *
hd_text_encoder_get_device (HdTextEncoder *encoder)
{
  return encoder->device;
}

gboolean
hd_text_encoder_is_on_device (HdTextEncoder *encoder)
{
  return encoder->gpu != NULL;
}

HdHypernetwork *
hd_text_encoder_get_hypernetwork (HdTextEncoder *encoder)
{
  return encoder->hn;
}

guint
hd_text_encoder_get_n_encoded (HdTextEncoder *encoder)
{
  return encoder->n_encoded;
}

HdDomain *
hd_text_encoder_get_domain (HdTextEncoder  *encoder,
                            const char     *prompt,
                            GError        **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree float *e = NULL;
  g_autofree float *d = NULL;
  HdDomain *domain;

  g_return_val_if_fail (encoder != NULL, NULL);
  g_return_val_if_fail (prompt != NULL, NULL);

  locker = g_mutex_locker_new (&encoder->lock);
  domain = g_hash_table_lookup (encoder->cache, prompt);
  if (domain != NULL)
    return hd_domain_ref (domain);

  if (!hd_clip_tokenizer_encode (encoder->tokenizer, prompt, ids, error))
    return NULL;
  e = g_new (float, encoder->hn->clip.embed_dim);
  d = g_new (float, hd_hypernetwork_output_size (encoder->hn));
  if (!encoder->tried_gpu)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(HdVkContext) ctx = hd_vk_context_new (encoder->device, &local_error);

      encoder->tried_gpu = TRUE;
      if (ctx != NULL)
        encoder->gpu = hd_text_gpu_new (ctx, encoder->hn, &local_error);
      if (encoder->gpu == NULL)
        g_debug ("Text prompts are encoded on the CPU: %s", local_error->message);
    }
  if (encoder->gpu != NULL)
    {
      if (!hd_text_gpu_encode (encoder->gpu, (const guint32 *) ids->data, ids->len, d, e, error))
        return NULL;
    }
  else
    {
      if (!hd_text_reference_encode (encoder->hn, (const guint32 *) ids->data, ids->len, e, error))
        return NULL;
      hd_text_reference_map (encoder->hn, e, d);
    }
  domain = hd_hypernetwork_make_domain (encoder->hn, d, prompt);
  encoder->n_encoded++;
  g_hash_table_insert (encoder->cache, g_strdup (prompt), hd_domain_ref (domain));
  return domain;
}
