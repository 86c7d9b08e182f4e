# SPDX-License-Identifier: GPL-3.0-or-later
"""HyperDomainNet single-domain checkpoints (td_*.pt, im2im_*.pt).

Such a checkpoint is a dict with 'model_type' ('parameterization'),
'patch_key' ('cin_mult'), 'state_dict' and the parameters of the source
generator.  The state dict holds one head per synthesis convolution,
``heads.conv_{k}.params_in`` of shape [1, 1, C_in, 1, 1]: the domain
vector d_k.  With the 'cin_mult' patch the modulated, demodulated weight
is multiplied by (1 + d_k) per input channel, which is the modulation of
generator-math.md §4 ('input-after-demod').  conv_0 is synthesis.b4.conv1,
then conv_{2j-1} and conv_{2j} are conv0 and conv1 of the block of
resolution 4 * 2^j.
"""

import os
import re

import numpy as np

from .errors import ConvertError
from .torchfile import Tensor

_HEAD = re.compile(r"heads\.conv_(\d+)\.([A-Za-z_]+)$")
SUPPORTED_PATCH = "cin_mult"
# The domain modulation that 'cin_mult' is (formats.md §2).
MODULATION = "input-after-demod"
# HyperDomainNet's inference of an image-driven (im2im) domain puts the
# reference image's W+ latents in place of the sample's from this layer on
# (generator-math.md §7).
STYLE_FROM = 7
STYLE_TENSOR = "style.w"


def _state_dict(obj):
    if isinstance(obj, dict):
        sd = obj.get("state_dict")
        if isinstance(sd, dict) and any(isinstance(k, str) and k.startswith("heads.")
                                        for k in sd):
            return sd
        if any(isinstance(k, str) and _HEAD.match(k) for k in obj):
            return obj
    return None


def detect(obj):
    """True for a HyperDomainNet checkpoint (single domain or not)."""
    if _state_dict(obj) is not None:
        return True
    return isinstance(obj, dict) and obj.get("model_type") in ("mapper", "parameterization") \
        and "state_dict" in obj


def layer_name(k):
    if k == 0:
        return "synthesis.b4.conv1"
    j = (k + 1) // 2
    return "synthesis.b%d.conv%d" % (4 << j, 0 if k % 2 else 1)


def sg2_params(obj):
    for key in ("sg2_params", "sg_2_params"):
        value = obj.get(key) if isinstance(obj, dict) else None
        if isinstance(value, dict):
            return value
    return None


def default_generator_name(obj):
    """The name a generator converted from the domain's source checkpoint
    gets by default (its file name without extension), or None."""
    params = sg2_params(obj)
    path = params.get("ckpt_path") or params.get("checkpoint_path") if params else None
    if isinstance(path, str) and path:
        return os.path.splitext(os.path.basename(path))[0]
    return None


def _style_latents(value, num_ws, source):
    """The checkpoint's style_latents as the [num_ws - STYLE_FROM, w_dim]
    rows that the inference puts in layers STYLE_FROM and above.  The
    official code assigns them to latents[:, 7:, :], so any shape that
    broadcasts there is taken: [rows, w_dim] with leading 1s, all num_ws
    rows (the first ones are dropped), or one w for every row."""
    if not isinstance(value, Tensor):
        raise ConvertError("%s: style_latents is not a tensor" % source)
    arr = value.numpy().astype(np.float32)
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    rows = num_ws - STYLE_FROM
    if rows < 1:
        raise ConvertError("%s: an image-driven domain of a generator with %d layers; "
                           "HyperDomainNet replaces the latents of layers %d and above, "
                           "which this generator does not have" % (source, num_ws, STYLE_FROM))
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] < 1 or arr.shape[0] not in (1, rows, num_ws):
        raise ConvertError("%s: style_latents has shape %s; expected [%d, w_dim] (the W+ "
                           "latents of layers %d to %d), [%d, w_dim] or [1, w_dim]"
                           % (source, list(value.shape), rows, STYLE_FROM, num_ws - 1,
                              num_ws))
    if arr.shape[0] == num_ws:
        arr = arr[STYLE_FROM:]
    elif arr.shape[0] == 1 and rows > 1:
        arr = np.repeat(arr, rows, axis=0)
    if not np.all(np.isfinite(arr)):
        raise ConvertError("%s: style_latents contains NaN or infinite values" % source)
    return np.ascontiguousarray(arr)


def convert(obj, source, notes):
    """Returns (layers: list of (layer name, float32 vector), description,
    style: None or (first layer, float32 [rows, w_dim]))."""
    if isinstance(obj, dict):
        model_type = obj.get("model_type")
        if model_type == "mapper":
            raise ConvertError("%s: a HyperDomainNet hypernetwork (mapper) checkpoint: it "
                               "predicts domains from text or images and is not a single "
                               "domain; convert its single-domain checkpoints (td_*.pt, "
                               "im2im_*.pt) instead" % source)
        if model_type == "original":
            raise ConvertError("%s: a HyperDomainNet checkpoint of a whole fine-tuned "
                               "generator (model_type 'original'), not a domain" % source)
        patch = obj.get("patch_key")
        if patch is not None and patch != SUPPORTED_PATCH:
            raise ConvertError("%s: HyperDomainNet parameterization %r is not supported; "
                               "only %r (the domain vector of the paper) can be converted"
                               % (source, patch, SUPPORTED_PATCH))
        if patch is None:
            notes.append("no patch_key in the checkpoint; assumed %r" % SUPPORTED_PATCH)
    sd = _state_dict(obj)
    if sd is None:
        raise ConvertError("%s: no heads.conv_k.params_in tensors: not a HyperDomainNet "
                           "domain" % source)
    vectors = {}
    for key, value in sd.items():
        m = _HEAD.match(key) if isinstance(key, str) else None
        if m is None:
            raise ConvertError("%s: unexpected entry %s in the HyperDomainNet state dict"
                               % (source, key))
        if m.group(2) != "params_in":
            raise ConvertError("%s: %s belongs to a parameterization other than %r; it "
                               "cannot be written as a domain vector"
                               % (source, key, SUPPORTED_PATCH))
        if not isinstance(value, Tensor):
            raise ConvertError("%s: %s is not a tensor" % (source, key))
        arr = value.numpy().astype(np.float32)
        if arr.ndim != 5 or arr.shape[0] != 1 or arr.shape[1] != 1 or arr.shape[3:] != (1, 1):
            raise ConvertError("%s: %s has shape %s; expected [1, 1, C_in, 1, 1]"
                               % (source, key, list(arr.shape)))
        vectors[int(m.group(1))] = arr.reshape(-1)
    count = len(vectors)
    if sorted(vectors) != list(range(count)):
        raise ConvertError("%s: the heads are not conv_0 .. conv_%d" % (source, count - 1))
    if count < 3 or count % 2 == 0:
        raise ConvertError("%s: %d heads do not match a StyleGAN2 synthesis network "
                           "(2 log2(resolution) - 3 convs)" % (source, count))
    for k in range(0, count - 1, 2):
        if vectors[k].shape != vectors[k + 1].shape:
            raise ConvertError("%s: conv_%d and conv_%d should have the same number of input "
                               "channels (%d and %d)" % (source, k, k + 1, vectors[k].size,
                                                         vectors[k + 1].size))
    for k, v in vectors.items():
        if not np.all(np.isfinite(v)):
            raise ConvertError("%s: conv_%d contains NaN or infinite values" % (source, k))
    resolution = 4 << ((count - 1) // 2)
    layers = [(layer_name(k), vectors[k]) for k in range(count)]
    description = "HyperDomainNet domain"
    style = None
    if isinstance(obj, dict):
        da_type = obj.get("da_type")
        if "style_latents" in obj:
            description = "HyperDomainNet one-shot (image) domain"
            rows = _style_latents(obj["style_latents"], count + 1, source)
            style = (STYLE_FROM, rows)
            notes.append("an image-driven domain: the reference image's latents of layers "
                         "%d to %d (w_dim %d) are kept as %s and mixed in as HyperDomainNet's "
                         "inference does" % (STYLE_FROM, count, rows.shape[1], STYLE_TENSOR))
        elif da_type == "im2im":
            description = "HyperDomainNet one-shot (image) domain"
            notes.append("warning: an image-driven domain without style_latents: HyperDomainNet "
                         "mixes the reference image's latents into layers %d and above, and "
                         "this checkpoint does not have them; it will not look as in the "
                         "paper" % STYLE_FROM)
        elif da_type == "td":
            description = "HyperDomainNet text-driven domain"
    notes.append("%d layers (a %dx%d generator), %d values"
                 % (count, resolution, resolution, sum(v.size for v in vectors.values())))
    return layers, description, style


def describe(obj):
    lines = []
    if isinstance(obj, dict):
        lines.append("top level: " + ", ".join(
            "%s (%s)" % (k, type(v).__name__) for k, v in obj.items()))
        for key in ("model_type", "patch_key", "da_type"):
            if key in obj:
                lines.append("%s: %r" % (key, obj[key]))
        params = sg2_params(obj)
        if params:
            lines.append("source generator: %s" % {k: v for k, v in params.items()
                                                   if isinstance(v, (str, int, float))})
    sd = _state_dict(obj)
    if sd is not None:
        for key, value in sd.items():
            if isinstance(value, Tensor):
                lines.append("  %s %s" % (key, list(value.shape)))
    return lines
