# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenAI CLIP checkpoints: the text tower of spec/text-domains.md §3.

Two layouts are read.  OpenAI's TorchScript archive (``ViT-B-32.pt`` as
``clip.load`` downloads it) unpickles, through the restricted unpickler, to
a tree of stand-ins whose state holds each module's parameters, buffers and
submodules; a tensor's state-dict name is the path of attribute names from
the root.  A plain state dict (``torch.save(model.state_dict())``, or
``{"state_dict": ...}``) already has those names.

Only the text side is taken (the ``clip.`` rows of §5); the vision tower is
looked at only to tell which published model this is, the way
``clip.model.build_model`` derives the architecture from the shapes.
"""

import re

import numpy as np

from .errors import ConvertError
from .torchfile import Tensor, is_script_object

_RESBLOCK = re.compile(r"transformer\.resblocks\.(\d{1,9})\.")
_VISUAL_RESBLOCK = re.compile(r"visual\.transformer\.resblocks\.(\d{1,9})\.")

# name: (embed_dim, text width, heads, layers, vision tower) with the
# vision tower as build_model reads it from the shapes.
PUBLISHED = {
    "RN50": (1024, 512, 8, 12, ("resnet", (3, 4, 6, 3), 64, 224)),
    "RN101": (512, 512, 8, 12, ("resnet", (3, 4, 23, 3), 64, 224)),
    "RN50x4": (640, 640, 10, 12, ("resnet", (4, 6, 10, 6), 80, 288)),
    "RN50x16": (768, 768, 12, 12, ("resnet", (6, 8, 18, 8), 96, 384)),
    "RN50x64": (1024, 1024, 16, 12, ("resnet", (3, 15, 36, 10), 128, 448)),
    "ViT-B/32": (512, 512, 8, 12, ("vit", 768, 12, 32, 224)),
    "ViT-B/16": (512, 512, 8, 12, ("vit", 768, 12, 16, 224)),
    "ViT-L/14": (768, 768, 12, 12, ("vit", 1024, 24, 14, 224)),
    "ViT-L/14@336px": (768, 768, 12, 12, ("vit", 1024, 24, 14, 336)),
}
PUBLISHED_CONTEXT = 77
PUBLISHED_VOCAB = 49408


def _flatten_script_module(obj, prefix, out, seen, depth=0):
    """Tensors of a TorchScript module tree, by attribute path."""
    if depth > 64 or id(obj) in seen:
        return
    seen.add(id(obj))
    state = obj.state if isinstance(obj.state, dict) else {}
    for key, value in state.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, Tensor):
            out[prefix + key] = value
        elif is_script_object(value):
            _flatten_script_module(value, prefix + key + ".", out, seen, depth + 1)


def find_state_dict(obj):
    """(name -> Tensor, container description) of a CLIP, or (None, None)."""
    if is_script_object(obj):
        out = {}
        _flatten_script_module(obj, "", out, set())
        if "ln_final.weight" in out:
            return out, "TorchScript archive"
        return None, None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if isinstance(obj, dict) and isinstance(obj.get("ln_final.weight"), Tensor) \
            and isinstance(obj.get("token_embedding.weight"), Tensor):
        return obj, "state dict"
    return None, None


def detect(obj):
    return find_state_dict(obj)[0] is not None


def _count(sd, pattern):
    return len({int(m.group(1)) for m in (pattern.match(k) for k in sd
                                           if isinstance(k, str)) if m})


def vision_tower(sd):
    """The vision tower as build_model derives it, or None without one."""
    def shape(name):
        t = sd.get(name)
        return t.shape if isinstance(t, Tensor) else None

    conv1, pos = shape("visual.conv1.weight"), shape("visual.positional_embedding")
    if shape("visual.proj") is not None and conv1 is not None and pos is not None \
            and len(conv1) == 4 and pos[0] >= 1:
        grid = int(round((pos[0] - 1) ** 0.5))
        return ("vit", conv1[0], _count(sd, _VISUAL_RESBLOCK), conv1[-1], conv1[-1] * grid)
    width = shape("visual.layer1.0.conv1.weight")
    attn_pos = shape("visual.attnpool.positional_embedding")
    if width is not None and attn_pos is not None and attn_pos[0] >= 1:
        layers = tuple(_count(sd, re.compile(r"visual\.layer%d\.(\d{1,9})\." % b))
                       for b in (1, 2, 3, 4))
        grid = int(round((attn_pos[0] - 1) ** 0.5))
        return ("resnet", layers, width[0], grid * 32)
    return None


def describe_vision(vision):
    if vision is None:
        return "none"
    if vision[0] == "vit":
        return "ViT width %d, %d layers, patch %d, %d px" % vision[1:]
    return "ResNet %s, width %d, %d px" % (tuple(vision[1]), vision[2], vision[3])


def read_tensors(sd, shapes, source, what):
    """The tensors of SHAPES ((name, shape) pairs) from SD as float32
    arrays, each checked: there, of its shape (WHAT needs it), finite."""
    out = {}
    for name, shape in shapes:
        value = sd.get(name)
        if not isinstance(value, Tensor):
            raise ConvertError("%s: the CLIP has no tensor %s" % (source, name))
        if list(value.shape) != shape:
            raise ConvertError("%s: %s has shape %s; %s needs %s"
                               % (source, name, list(value.shape), what, shape))
        arr = value.numpy().astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise ConvertError("%s: %s contains NaN or infinite values" % (source, name))
        out[name] = arr
    return out


def resblock_shapes(prefix, w, layers):
    """(name, shape) of the 12 tensors of each residual block
    PREFIX + transformer.resblocks.N of width W (text-domains.md §5)."""
    out = []
    for l in range(layers):
        p = "%stransformer.resblocks.%d." % (prefix, l)
        out += [(p + "ln_1.weight", [w]), (p + "ln_1.bias", [w]),
                (p + "attn.in_proj_weight", [3 * w, w]), (p + "attn.in_proj_bias", [3 * w]),
                (p + "attn.out_proj.weight", [w, w]), (p + "attn.out_proj.bias", [w]),
                (p + "ln_2.weight", [w]), (p + "ln_2.bias", [w]),
                (p + "mlp.c_fc.weight", [4 * w, w]), (p + "mlp.c_fc.bias", [4 * w]),
                (p + "mlp.c_proj.weight", [w, 4 * w]), (p + "mlp.c_proj.bias", [w])]
    return out


class TextTower:
    """The text side of a CLIP: sizes and float32 tensors by OpenAI's names."""

    def __init__(self, sd, container, source, heads=None):
        self.source = source
        self.container = container
        for key in ("ln_final.weight", "token_embedding.weight", "positional_embedding",
                    "text_projection"):
            if not isinstance(sd.get(key), Tensor):
                raise ConvertError("%s: the CLIP has no tensor %s" % (source, key))
        self.width = _dim(sd, "ln_final.weight", 0, source)
        self.vocab_size = _dim(sd, "token_embedding.weight", 0, source)
        self.context_length = _dim(sd, "positional_embedding", 0, source)
        self.embed_dim = _dim(sd, "text_projection", 1, source)
        blocks = sorted({int(m.group(1)) for m in (_RESBLOCK.match(k) for k in sd
                                                    if isinstance(k, str)) if m})
        if blocks != list(range(len(blocks))):
            raise ConvertError("%s: the text transformer's blocks are not "
                               "transformer.resblocks.0 .. %d" % (source, len(blocks) - 1))
        self.layers = len(blocks)
        if self.layers == 0:
            raise ConvertError("%s: the CLIP has no text transformer blocks "
                               "(transformer.resblocks.*)" % source)
        self.heads_given = heads is not None
        if heads is None:
            if self.width % 64:
                raise ConvertError("%s: the text width %d is not a multiple of 64, so the "
                                   "head count is unknown: give --clip-heads N"
                                   % (source, self.width))
            heads = self.width // 64
        if heads < 1 or self.width % heads:
            raise ConvertError("%s: the text width %d is not a multiple of %d heads"
                               % (source, self.width, heads))
        self.heads = heads
        if self.context_length < 2:
            raise ConvertError("%s: context_length %d (positional_embedding) is below 2"
                               % (source, self.context_length))
        if self.vocab_size < 514:
            raise ConvertError("%s: vocab_size %d (token_embedding.weight) is below 514"
                               % (source, self.vocab_size))
        self.tensors = read_tensors(sd, self.expected_shapes(), source,
                                    "a CLIP text tower of width %d" % self.width)
        self.vision = vision_tower(sd)

    def expected_shapes(self):
        """(name, shape) of every text-side tensor, in spec order."""
        w = self.width
        out = [("token_embedding.weight", [self.vocab_size, w]),
               ("positional_embedding", [self.context_length, w])]
        out += resblock_shapes("", w, self.layers)
        out += [("ln_final.weight", [w]), ("ln_final.bias", [w]),
                ("text_projection", [w, self.embed_dim])]
        return out

    def architecture(self):
        return (self.embed_dim, self.width, self.heads, self.layers, self.vision)

    def published_name(self):
        """The published model this CLIP's architecture is, or None."""
        if (self.context_length, self.vocab_size) != (PUBLISHED_CONTEXT, PUBLISHED_VOCAB):
            return None
        for name, arch in PUBLISHED.items():
            if arch == self.architecture():
                return name
        return None

    def config(self, name):
        return {"name": name, "context_length": self.context_length,
                "vocab_size": self.vocab_size, "width": self.width, "heads": self.heads,
                "layers": self.layers, "embed_dim": self.embed_dim}

    def describe(self):
        return ["text: width %d, %d heads (%s), %d layers, context %d, vocabulary %d, "
                "embedding %d" % (self.width, self.heads,
                                  "--clip-heads" if self.heads_given else "width / 64",
                                  self.layers, self.context_length, self.vocab_size,
                                  self.embed_dim),
                "vision: %s" % describe_vision(self.vision),
                "published model: %s" % (self.published_name() or "none (custom)")]


def _dim(sd, name, axis, source):
    shape = sd[name].shape
    if len(shape) != 2 - (name == "ln_final.weight"):
        raise ConvertError("%s: %s has shape %s" % (source, name, list(shape)))
    return int(shape[axis])


def clip_name(tower, clip_encoder, mapper_source, notes):
    """clip.name of the config (§6): the checkpoint's clip_encoder, checked
    against the CLIP's architecture where it names a published model, else
    the published model the CLIP is, else 'custom'."""
    if clip_encoder is None:
        return tower.published_name() or "custom"
    if not isinstance(clip_encoder, str) or not clip_encoder:
        raise ConvertError("%s: clip_encoder %r is not a model name"
                           % (mapper_source, clip_encoder))
    if clip_encoder not in PUBLISHED:
        notes.append("clip_encoder %r is not a published CLIP; its architecture is not "
                     "checked" % clip_encoder)
        return clip_encoder
    if tower.published_name() != clip_encoder:
        E, w, H, L, vision = PUBLISHED[clip_encoder]
        raise ConvertError(
            "%s was trained with CLIP %s (embedding %d, text %d/%d/%d, vision %s), but %s "
            "is embedding %d, text %d/%d/%d, vision %s"
            % (mapper_source, clip_encoder, E, w, H, L, describe_vision(vision), tower.source,
               tower.embed_dim, tower.width, tower.heads, tower.layers,
               describe_vision(tower.vision)))
    return clip_encoder
