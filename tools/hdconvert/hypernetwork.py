# SPDX-License-Identifier: GPL-3.0-or-later
"""HyperDomainNet hypernetworks ("mappers") with their CLIP text tower and
tokenizer: the ``hypernetwork`` file of spec/text-domains.md §5, written as
§6 says.

A mapper checkpoint is the dict HyperDomainNet's trainer saves:
``model_type`` 'mapper', ``mapper_config`` (a dict, or an OmegaConf
DictConfig read as data), ``patch_key`` 'cin_mult', ``state_dict``,
``sg2_params`` and ``da_type``, optionally ``clip_encoder``.  Only the
``residual_channelin`` mapper with a ``shared`` backbone is supported.
"""

import gzip
import io
import json
import math
import os
import re
import zlib

import numpy as np

from . import clip, hyperdomainnet
from .errors import ConvertError
from .torchfile import Tensor, omegaconf_to_data

MAPPER_TYPE = "residual_channelin"
BACKBONE_TYPE = "shared"
ACTIVATIONS = ("relu", "lrelu", "prelu", "id")
DEFAULT_INNER = 512          # DummyResBlock's inner size in HyperDomainNet
MAX_MERGES_BYTES = 64 << 20
SUPPORTED = "only %s / %s / %s are supported" % (MAPPER_TYPE, BACKBONE_TYPE,
                                                 hyperdomainnet.SUPPORTED_PATCH)
NO_CLIP = "a HyperDomainNet hypernetwork: give --clip CLIP.pt and --bpe MERGES"
_HEAD = re.compile(r"heads\.conv_(\d{1,9})\.")


def detect(obj):
    """True for a HyperDomainNet mapper checkpoint."""
    return isinstance(obj, dict) and obj.get("model_type") == "mapper"


def mapper_config(obj, source):
    """The checkpoint's mapper_config as a plain dict."""
    cfg = omegaconf_to_data(obj.get("mapper_config"), source)
    if not isinstance(cfg, dict):
        raise ConvertError("%s: mapper_config is %s, not a dict or an OmegaConf DictConfig"
                           % (source, type(cfg).__name__ if cfg is not None else "missing"))
    return cfg


def _int_entry(cfg, key, source, minimum=1):
    value = cfg.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConvertError("%s: mapper_config %s is %r; a whole number of at least %d is "
                           "needed" % (source, key, value, minimum))
    return value


def head_count(img_size, source):
    """K = 2 log2(img_size) - 3, or an error naming img_size."""
    if not isinstance(img_size, int) or isinstance(img_size, bool) or img_size < 8 \
            or img_size & (img_size - 1):
        raise ConvertError("%s: sg2_params img_size %r is not a power of two of at least 8"
                           % (source, img_size))
    return 2 * int(math.log2(img_size)) - 3


def standard_cin(img_size, channel_multiplier=2):
    """C_in of each conv of a rosinality generator (HyperDomainNet's
    get_stylegan_conv_dimensions)."""
    ch = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier,
          128: 128 * channel_multiplier, 256: 64 * channel_multiplier,
          512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    out, r = [ch[4]], 8
    while r <= img_size:
        out += [ch.get(r // 2, 0), ch.get(r, 0)]
        r *= 2
    return out


class Mapper:
    """A checked mapper checkpoint: its config and its tensors by name."""

    def __init__(self, obj, source, notes):
        self.source = source
        self.obj = obj
        patch = obj.get("patch_key")
        if patch is None:
            notes.append("no patch_key in the checkpoint; assumed %r"
                         % hyperdomainnet.SUPPORTED_PATCH)
        elif patch != hyperdomainnet.SUPPORTED_PATCH:
            raise ConvertError("%s: patch_key %r is not supported; %s" % (source, patch,
                                                                         SUPPORTED))
        cfg = mapper_config(obj, source)
        for key, want in (("mapper_type", MAPPER_TYPE), ("backbone_type", BACKBONE_TYPE)):
            if cfg.get(key) != want:
                raise ConvertError("%s: mapper_config %s %r is not supported; %s"
                                   % (source, key, cfg.get(key), SUPPORTED))
        self.activation = cfg.get("activation")
        if self.activation not in ACTIVATIONS:
            raise ConvertError("%s: mapper_config activation %r is not supported; the "
                               "activations are %s" % (source, self.activation,
                                                       ", ".join(ACTIVATIONS)))
        self.input_dimension = _int_entry(cfg, "input_dimension", source)
        self.width = _int_entry(cfg, "width", source)
        self.backbone_depth = _int_entry(cfg, "backbone_depth", source)
        self.head_depth = _int_entry(cfg, "head_depth", source)
        params = hyperdomainnet.sg2_params(obj) or {}
        self.img_size = params.get("img_size")
        self.channel_multiplier = params.get("channel_multiplier", 2)
        self.generator = hyperdomainnet.default_generator_name(obj)
        self.clip_encoder = obj.get("clip_encoder")
        sd = obj.get("state_dict")
        if not isinstance(sd, dict):
            raise ConvertError("%s: the mapper checkpoint has no state_dict" % source)
        self.state_dict = sd
        self.heads_cin = self._head_sizes()
        self.inner_features = self._inner_features()

    def _head_sizes(self):
        """C_in of each head, from the last Linear of conv_k; the heads
        must be conv_0 .. conv_{K-1}."""
        last = "heads.conv_%d.in." + str(self.head_depth - 1) + ".weight"
        heads = sorted({int(m.group(1)) for m in (_HEAD.match(k) for k in self.state_dict
                                                   if isinstance(k, str)) if m})
        k_want = head_count(self.img_size, self.source)
        if heads != list(range(k_want)):
            raise ConvertError("%s: img_size %r needs K = %d heads conv_0 .. conv_%d; the "
                               "checkpoint has %s" % (self.source, self.img_size, k_want,
                                                      k_want - 1, _describe_heads(heads)))
        sizes = []
        for k in heads:
            weight = self.state_dict.get(last % k)
            if not isinstance(weight, Tensor) or len(weight.shape) != 2:
                raise ConvertError("%s: head conv_%d has no tensor %s of shape [C_in, %d]"
                                   % (self.source, k, last % k, self.width))
            sizes.append(int(weight.shape[0]))
        return sizes

    def _inner_features(self):
        sizes = {int(v.shape[0]) for k, v in self.state_dict.items()
                 if isinstance(k, str) and k.endswith(".input_block.0.weight")
                 and isinstance(v, Tensor) and len(v.shape) == 2}
        if len(sizes) > 1:
            raise ConvertError("%s: the residual blocks have different inner sizes %s"
                               % (self.source, sorted(sizes)))
        return sizes.pop() if sizes else DEFAULT_INNER

    def res_blocks(self):
        out = ["backbone.backbone.%d" % i for i in range(1, self.backbone_depth)]
        for k in range(len(self.heads_cin)):
            out += ["heads.conv_%d.in.%d" % (k, j) for j in range(self.head_depth - 1)]
        return out

    def expected_shapes(self):
        """(name, shape) of every mapper tensor, in spec order."""
        W, I, N = self.width, self.input_dimension, self.inner_features
        prelu = self.activation == "prelu"
        b = "backbone.backbone.0."
        out = [(b + "lin.weight", [W, I]), (b + "lin.bias", [W])]
        out += [(b + "bn." + p, [I]) for p in ("weight", "bias", "running_mean", "running_var")]
        if prelu:
            out.append((b + "act.weight", [1]))
        for r in self.res_blocks():
            out += [(r + ".input_block.0.weight", [N, W]), (r + ".input_block.0.bias", [N])]
            out += [(r + ".input_block.1." + p, [N])
                    for p in ("weight", "bias", "running_mean", "running_var")]
            out += [(r + ".second_block.0.weight", [W, N]), (r + ".second_block.0.bias", [W])]
            out += [(r + ".second_block.1." + p, [W])
                    for p in ("weight", "bias", "running_mean", "running_var")]
            if prelu:
                out += [(r + ".input_block.2.weight", [1]), (r + ".out.weight", [1])]
        for k, cin in enumerate(self.heads_cin):
            h = "heads.conv_%d.in.%d." % (k, self.head_depth - 1)
            out += [(h + "weight", [cin, W]), (h + "bias", [cin])]
        return out

    def tensors(self):
        """(name, float32 array) of every mapper tensor, checked against
        §5's table; num_batches_tracked is dropped, anything else extra is
        an error."""
        expected = self.expected_shapes()
        names = {name for name, _ in expected}
        for key in self.state_dict:
            if key in names:
                continue
            if isinstance(key, str) and key.endswith(".num_batches_tracked"):
                continue
            raise ConvertError("%s: unexpected tensor %s in the mapper's state dict (a %s "
                               "mapper with %s activation, backbone_depth %d, head_depth %d)"
                               % (self.source, key, MAPPER_TYPE, self.activation,
                                  self.backbone_depth, self.head_depth))
        out = []
        for name, shape in expected:
            value = self.state_dict.get(name)
            if not isinstance(value, Tensor):
                raise ConvertError("%s: the mapper has no tensor %s" % (self.source, name))
            if list(value.shape) != shape:
                raise ConvertError("%s: %s has shape %s; expected %s"
                                   % (self.source, name, list(value.shape), shape))
            arr = value.numpy().astype(np.float32)
            if not np.all(np.isfinite(arr)):
                raise ConvertError("%s: %s contains NaN or infinite values"
                                   % (self.source, name))
            out.append((name, arr))
        return out

    def layers(self):
        return [hyperdomainnet.layer_name(k) for k in range(len(self.heads_cin))]

    def config(self):
        return {"type": MAPPER_TYPE, "backbone_type": BACKBONE_TYPE,
                "activation": self.activation, "input_dimension": self.input_dimension,
                "width": self.width, "backbone_depth": self.backbone_depth,
                "head_depth": self.head_depth, "inner_features": self.inner_features}

    def cin_notes(self):
        """A note where the heads' C_in differ from a standard generator's."""
        if not isinstance(self.channel_multiplier, int):
            return []
        std = standard_cin(self.img_size, self.channel_multiplier)
        if std == self.heads_cin:
            return []
        return ["the heads' C_in %s differ from a standard %dx%d rosinality generator's %s; "
                "the generator is checked when rendering"
                % (self.heads_cin, self.img_size, self.img_size, std)]


def _describe_heads(heads):
    if not heads:
        return "none"
    if heads == list(range(len(heads))):
        return "conv_0 .. conv_%d (%d)" % (heads[-1], len(heads))
    return ", ".join("conv_%d" % k for k in heads)


# --------------------------------------------------------------------------
# Tokenizer merges


def _read_limited(stream, path):
    data = stream.read(MAX_MERGES_BYTES + 1)
    if len(data) > MAX_MERGES_BYTES:
        raise ConvertError("%s: larger than %d MiB; not a merges file"
                           % (path, MAX_MERGES_BYTES >> 20))
    return data


def read_merges_file(path):
    """The merges text's bytes: gunzipped when the file starts with gzip's
    magic bytes, else as it is."""
    try:
        with open(path, "rb") as f:
            data = _read_limited(f, path)
    except OSError as exc:
        raise ConvertError("%s: %s" % (path, exc.strerror or exc))
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                data = _read_limited(g, path)
        except (OSError, EOFError, zlib.error) as exc:
            raise ConvertError("%s: a damaged gzip file (%s)" % (path, exc))
    return data


def byte_symbols():
    """The 256 byte symbols in vocabulary order (§2.3)."""
    printable = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC
                 or 0xAE <= b <= 0xFF]
    rest = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(0x100 + i) for i in range(len(rest))]


def merges_blob(data, vocab_size, path):
    """The bytes of tokenizer.merges: the header line and the first
    vocab_size - 514 merge lines, each ending in LF, checked as §5's loader
    checks them."""
    count = vocab_size - 514
    end, lines = 0, 0
    while lines <= count:
        at = data.find(b"\n", end)
        if at < 0:
            if lines == count and end < len(data):    # the last line lacks its LF
                data, at = data + b"\n", len(data)
            else:
                break
        end = at + 1
        lines += 1
    if lines <= count:
        have = max(lines - 1 + (end < len(data)), 0)   # the last line may lack its LF
        raise ConvertError("%s has %d merge lines; the CLIP's vocabulary of %d needs %d"
                           % (path, have, vocab_size, count))
    blob = data[:end]
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConvertError("%s: not UTF-8 text (byte %d)" % (path, exc.start))
    vocab = byte_symbols()
    vocab += [s + "</w>" for s in vocab]
    for i, line in enumerate(text.split("\n")[1:count + 1], start=1):
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ConvertError("%s: line %d is not two symbols separated by one space: %r"
                               % (path, i + 1, line[:80]))
        vocab.append(parts[0] + parts[1])
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    if len(set(vocab)) != len(vocab):
        seen = set()
        for i, s in enumerate(vocab):
            if s in seen:
                raise ConvertError("%s: the vocabulary has %r twice (id %d)" % (path, s, i))
            seen.add(s)
    return np.frombuffer(blob, np.uint8)


# --------------------------------------------------------------------------
# The file


def build(mapper_ckpt, clip_ckpt, merges_path, clip_heads, notes):
    """Returns (metadata without name/description, tensors) of the
    hypernetwork file."""
    msrc, csrc = mapper_ckpt.path, clip_ckpt.path
    mapper = Mapper(mapper_ckpt.obj, msrc, notes)
    sd, container = clip.find_state_dict(clip_ckpt.obj)
    if sd is None:
        raise ConvertError("%s: not a CLIP (no ln_final.weight and token_embedding.weight): "
                           "give OpenAI's TorchScript archive or a CLIP state dict with "
                           "--clip" % csrc)
    tower = clip.TextTower(sd, container, csrc, clip_heads)
    if mapper.input_dimension != tower.embed_dim:
        raise ConvertError("%s: mapper input_dimension %d differs from the embedding size %d "
                           "of the CLIP %s" % (msrc, mapper.input_dimension, tower.embed_dim,
                                               csrc))
    if mapper.width != mapper.input_dimension:
        raise ConvertError("%s: mapper width %d differs from its input_dimension %d (the "
                           "embedding size of the CLIP %s); HyperDomainNet's mapper needs "
                           "them equal" % (msrc, mapper.width, mapper.input_dimension, csrc))
    name = clip.clip_name(tower, mapper.clip_encoder, msrc, notes)
    merges = merges_blob(read_merges_file(merges_path), tower.vocab_size, merges_path)
    tensors = [("clip." + n, tower.tensors[n]) for n, _ in tower.expected_shapes()]
    tensors += [("mapper." + n, a) for n, a in mapper.tensors()]
    tensors.append(("tokenizer.merges", merges))
    notes.extend(mapper.cin_notes())
    config = {"clip": tower.config(name), "mapper": mapper.config(), "layers": mapper.layers()}
    metadata = {
        "hyperdomain.kind": "hypernetwork",
        "hyperdomain.version": "1",
        "hyperdomain.config": json.dumps(config, separators=(",", ":")),
        "hyperdomain.modulation": hyperdomainnet.MODULATION,
        "hyperdomain.source": "HyperDomainNet mapper %s, CLIP %s (%s), merges %s"
                              % (os.path.basename(msrc), os.path.basename(csrc), container,
                                 os.path.basename(merges_path)),
    }
    if mapper.generator:
        metadata["hyperdomain.generator"] = mapper.generator
    summary = {"clip": tower, "mapper": mapper, "clip_name": name,
               "merges": tower.vocab_size - 514}
    return metadata, tensors, summary


def describe_mapper(obj, source):
    """--info lines of a mapper checkpoint."""
    lines = []
    for key in ("model_type", "patch_key", "da_type", "clip_encoder"):
        lines.append("%s: %r" % (key, obj.get(key)))
    try:
        lines.insert(1, "mapper_config: %s" % json.dumps(mapper_config(obj, source)))
    except ConvertError as exc:
        lines.insert(1, "mapper_config: unreadable (%s)" % exc)
    params = hyperdomainnet.sg2_params(obj)
    lines.append("sg2_params: %s" % ({k: v for k, v in params.items()
                                      if isinstance(v, (str, int, float))} if params else None))
    notes = []
    try:
        mapper = Mapper(obj, source, notes)
        lines.append("heads' C_in: %s (%d heads, layers %s .. %s)"
                     % (mapper.heads_cin, len(mapper.heads_cin), mapper.layers()[0],
                        mapper.layers()[-1]))
        mapper.tensors()
        lines.append("would write a hypernetwork with --clip CLIP.pt --bpe MERGES")
        notes += mapper.cin_notes()
    except ConvertError as exc:
        lines.append("cannot be converted: %s" % exc)
    return lines + ["note: %s" % n for n in notes]


def describe_clip(obj, source, heads):
    sd, container = clip.find_state_dict(obj)
    lines = ["container: %s" % container]
    try:
        tower = clip.TextTower(sd, container, source, heads)
    except ConvertError as exc:
        return lines + ["vision: %s" % clip.describe_vision(clip.vision_tower(sd)),
                        "text: cannot be read: %s" % exc]
    return lines + tower.describe()
