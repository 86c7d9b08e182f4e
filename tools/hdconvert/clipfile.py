# SPDX-License-Identifier: GPL-3.0-or-later
"""The `clip` file of spec/domain-training.md §7: both towers of an OpenAI
CLIP (ViT image tower only) and its tokenizer merges, under OpenAI's
state-dict names with no prefix.  The text side is read exactly as for a
hypernetwork (clip.TextTower); the image tower is checked here."""

import json
import os
import re


from . import clip
from .errors import ConvertError
from .hypernetwork import merges_blob, read_merges_file
from .torchfile import Tensor

_VISUAL_BLOCK = re.compile(r"visual\.transformer\.resblocks\.(\d{1,9})\.")
RESNET_REFUSED = ("ResNet image towers (RN50, RN101, RN50x4 …) are not supported; "
                  "use a ViT CLIP")


class VisionTower:
    """A ViT image tower: sizes and float32 tensors by OpenAI's names."""

    def __init__(self, sd, source):
        self.source = source
        if any(isinstance(k, str) and k.startswith("visual.attnpool.") for k in sd):
            raise ConvertError("%s: %s" % (source, RESNET_REFUSED))
        for key in ("visual.conv1.weight", "visual.proj", "visual.positional_embedding",
                    "visual.class_embedding"):
            if not isinstance(sd.get(key), Tensor):
                raise ConvertError("%s: the CLIP has no image tower tensor %s (a ViT image "
                                   "tower is needed to train domains)" % (source, key))
        conv1 = list(sd["visual.conv1.weight"].shape)
        if len(conv1) != 4 or conv1[1] != 3 or conv1[2] != conv1[3] or conv1[2] < 1:
            raise ConvertError("%s: visual.conv1.weight has shape %s; expected [width, 3, "
                               "patch, patch]" % (source, conv1))
        self.width, self.patch = conv1[0], conv1[2]
        pos = list(sd["visual.positional_embedding"].shape)
        if len(pos) != 2 or pos[0] < 2:
            raise ConvertError("%s: visual.positional_embedding has shape %s" % (source, pos))
        grid = int(round((pos[0] - 1) ** 0.5))
        if grid * grid + 1 != pos[0]:
            raise ConvertError("%s: visual.positional_embedding has %d rows, which is not "
                               "a square grid of patches plus one" % (source, pos[0]))
        self.grid = grid
        self.resolution = self.patch * grid
        proj = list(sd["visual.proj"].shape)
        if len(proj) != 2:
            raise ConvertError("%s: visual.proj has shape %s" % (source, proj))
        self.embed_dim = proj[1]
        blocks = sorted({int(m.group(1)) for m in (_VISUAL_BLOCK.match(k) for k in sd
                                                    if isinstance(k, str)) if m})
        if blocks != list(range(len(blocks))):
            raise ConvertError("%s: the image transformer's blocks are not "
                               "visual.transformer.resblocks.0 .. %d" % (source, len(blocks) - 1))
        self.layers = len(blocks)
        # clip.model.CLIP: vision_heads = vision_width // 64
        self.heads = self.width // 64
        if self.heads < 1 or self.width % self.heads:
            raise ConvertError("%s: the image tower's width %d gives %d heads (width / 64), "
                               "which do not divide it" % (source, self.width, self.heads))
        self.tensors = clip.read_tensors(sd, self.expected_shapes(), source,
                                         "a ViT image tower of width %d" % self.width)

    def expected_shapes(self):
        W, p, g = self.width, self.patch, self.grid
        out = [("visual.conv1.weight", [W, 3, p, p]),
               ("visual.class_embedding", [W]),
               ("visual.positional_embedding", [g * g + 1, W]),
               ("visual.ln_pre.weight", [W]), ("visual.ln_pre.bias", [W])]
        out += clip.resblock_shapes("visual.", W, self.layers)
        out += [("visual.ln_post.weight", [W]), ("visual.ln_post.bias", [W]),
                ("visual.proj", [W, self.embed_dim])]
        return out

    def config(self):
        return {"type": "vit", "image_resolution": self.resolution, "patch_size": self.patch,
                "width": self.width, "heads": self.heads, "layers": self.layers}

    def describe(self):
        return "ViT width %d, %d heads, %d layers, patch %d, %d px" % (
            self.width, self.heads, self.layers, self.patch, self.resolution)


def _known(name):
    if name in ("logit_scale", "input_resolution", "context_length", "vocab_size"):
        return True
    return name.startswith("visual.") or name.startswith("transformer.") or name in (
        "token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias",
        "text_projection")


def build(ckpt, merges_path, text_heads, notes):
    """(metadata without name/description, tensors, summary) of the clip
    file of CKPT (OpenAI's TorchScript archive or a state dict)."""
    source = ckpt.path
    sd, container = clip.find_state_dict(ckpt.obj)
    if sd is None:
        raise ConvertError("%s: not a CLIP (no ln_final.weight and token_embedding.weight)"
                           % source)
    text = clip.TextTower(sd, container, source, text_heads)
    vision = VisionTower(sd, source)
    if vision.embed_dim != text.embed_dim:
        raise ConvertError("%s: the image tower's embedding size %d (visual.proj) differs "
                           "from the text tower's %d (text_projection)"
                           % (source, vision.embed_dim, text.embed_dim))
    expected = {n for n, _ in text.expected_shapes()} | {n for n, _ in vision.expected_shapes()}
    for name in sd:
        if isinstance(name, str) and name not in expected and not _known(name):
            notes.append("ignored: %s" % name)
        elif isinstance(name, str) and name.startswith("visual.") and name not in expected:
            raise ConvertError("%s: unexpected image tower tensor %s" % (source, name))
        elif isinstance(name, str) and name.startswith("transformer.") and name not in expected:
            raise ConvertError("%s: unexpected text tower tensor %s" % (source, name))
    name = text.published_name() or "custom"
    merges = merges_blob(read_merges_file(merges_path), text.vocab_size, merges_path)
    tensors = [(n, text.tensors[n]) for n, _ in text.expected_shapes()]
    tensors += [(n, vision.tensors[n]) for n, _ in vision.expected_shapes()]
    tensors.append(("tokenizer.merges", merges))
    config = {"name": name, "embed_dim": text.embed_dim,
              "text": {"context_length": text.context_length, "vocab_size": text.vocab_size,
                       "width": text.width, "heads": text.heads, "layers": text.layers},
              "vision": vision.config()}
    metadata = {
        "hyperdomain.kind": "clip",
        "hyperdomain.version": "1",
        "hyperdomain.config": json.dumps(config, separators=(",", ":")),
        "hyperdomain.source": "CLIP %s (%s), merges %s" % (os.path.basename(source), container,
                                                          os.path.basename(merges_path)),
    }
    summary = {"text": text, "vision": vision, "name": name,
               "merges": text.vocab_size - 514, "container": container}
    return metadata, tensors, summary


def describe_config(metadata):
    """--info lines of a clip file's config."""
    try:
        config = json.loads(metadata.get("hyperdomain.config", ""))
        t, v = config["text"], config["vision"]
        return ["CLIP %s, embedding %d" % (config["name"], config["embed_dim"]),
                "text: width %d, %d heads, %d layers, context %d, vocabulary %d"
                % (t["width"], t["heads"], t["layers"], t["context_length"], t["vocab_size"]),
                "vision: %s width %d, %d heads, %d layers, patch %d, %d px"
                % (v["type"], v["width"], v["heads"], v["layers"], v["patch_size"],
                   v["image_resolution"])]
    except (ValueError, KeyError, TypeError) as exc:
        return ["the config cannot be read: %s" % exc]
