# SPDX-License-Identifier: GPL-3.0-or-later
"""The generator layout of spec/formats.md §1: which tensors a StyleGAN2
skip generator of a given config has, the config JSON, channel-count
inference, and the mapping network (for an average w)."""

import json
import math

import numpy as np

from .errors import ConvertError

# outer([1,3,3,1], [1,3,3,1]) / 64: the only resample filter Hyperdomain supports
_K = np.array([1.0, 3.0, 3.0, 1.0])
STANDARD_FILTER = (np.outer(_K, _K) / 64.0).astype(np.float32)


class Config:
    def __init__(self, z_dim, w_dim, img_resolution, img_channels, mapping_layers,
                 lr_multiplier, channel_base, channel_max, conv_clamp, c_dim=0,
                 architecture="skip"):
        self.z_dim = int(z_dim)
        self.w_dim = int(w_dim)
        self.c_dim = int(c_dim)
        self.img_resolution = int(img_resolution)
        self.img_channels = int(img_channels)
        self.mapping_layers = int(mapping_layers)
        self.lr_multiplier = float(lr_multiplier)
        self.channel_base = int(channel_base)
        self.channel_max = int(channel_max)
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        self.architecture = architecture

    def validate(self, source):
        if self.c_dim != 0:
            raise ConvertError("%s: a conditional generator (c_dim %d) is not supported; "
                               "Hyperdomain renders unconditional generators only"
                               % (source, self.c_dim))
        if self.architecture != "skip":
            raise ConvertError("%s: architecture %r is not supported; only 'skip' generators "
                               "(the StyleGAN2 default) are" % (source, self.architecture))
        r = self.img_resolution
        if r < 8 or r > 4096 or r & (r - 1):
            raise ConvertError("%s: img_resolution %d is not supported (a power of two from "
                               "8 to 4096)" % (source, r))
        if not 1 <= self.img_channels <= 4:
            raise ConvertError("%s: img_channels %d is not supported (1 to 4)"
                               % (source, self.img_channels))
        for name in ("z_dim", "w_dim", "channel_max"):
            if not 1 <= getattr(self, name) <= 4096:
                raise ConvertError("%s: %s %d is out of range (1 to 4096)"
                                   % (source, name, getattr(self, name)))
        if not 1 <= self.mapping_layers <= 64:
            raise ConvertError("%s: %d mapping layers are not supported (1 to 64)"
                               % (source, self.mapping_layers))
        if not (self.lr_multiplier > 0 and math.isfinite(self.lr_multiplier)):
            raise ConvertError("%s: the mapping lr multiplier must be positive" % source)
        if self.channel_base < 1:
            raise ConvertError("%s: channel_base %d is invalid" % (source, self.channel_base))

    def channels(self, res):
        return min(self.channel_base // res, self.channel_max)

    def resolutions(self):
        res, out = 4, []
        while res <= self.img_resolution:
            out.append(res)
            res *= 2
        return out

    def to_json(self):
        return json.dumps({
            "z_dim": self.z_dim, "w_dim": self.w_dim, "c_dim": 0,
            "img_resolution": self.img_resolution, "img_channels": self.img_channels,
            "mapping": {"num_layers": self.mapping_layers,
                        "lr_multiplier": _number(self.lr_multiplier)},
            "synthesis": {"channel_base": self.channel_base,
                          "channel_max": self.channel_max,
                          "conv_clamp": None if self.conv_clamp is None
                          else _number(self.conv_clamp),
                          "architecture": "skip"},
        }, separators=(",", ":"))

    def describe(self):
        chans = " ".join("%d:%d" % (r, self.channels(r)) for r in self.resolutions())
        clamp = "none" if self.conv_clamp is None else "%g" % self.conv_clamp
        return ("%dx%d, %d channel%s, z_dim %d, w_dim %d, %d mapping layers (lr multiplier %g), "
                "channels %s (channel_base %d, channel_max %d), conv_clamp %s"
                % (self.img_resolution, self.img_resolution, self.img_channels,
                   "" if self.img_channels == 1 else "s", self.z_dim, self.w_dim,
                   self.mapping_layers, self.lr_multiplier, chans, self.channel_base,
                   self.channel_max, clamp))


def _number(value):
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value


def infer_channel_config(channels, source):
    """CHANNELS: dict resolution -> channel count, read from shapes.
    Returns (channel_base, channel_max) such that
    min(channel_base // r, channel_max) == channels[r] for every r."""
    cmax = max(channels.values())
    lo, hi = 1, None
    for r, c in sorted(channels.items()):
        if c == cmax:
            lo = max(lo, c * r)
        else:
            lo = max(lo, c * r)
            hi = c * r + r - 1 if hi is None else min(hi, c * r + r - 1)
    if hi is not None and lo > hi:
        listing = " ".join("%d:%d" % kv for kv in sorted(channels.items()))
        raise ConvertError("%s: the channel counts %s cannot be written as "
                           "min(channel_base // resolution, channel_max), which the "
                           "generator format requires" % (source, listing))
    for cand in (32768, 16384, 65536):
        if cand >= lo and (hi is None or cand <= hi):
            return cand, cmax
    p = 1
    while p < lo:
        p *= 2
    if hi is None or p <= hi:
        return p, cmax
    return lo, cmax


def conv_names(config):
    """[(name, block resolution, c_in, c_out, up)] for every synthesis conv."""
    out = []
    for r in config.resolutions():
        if r == 4:
            out.append(("synthesis.b4.conv1", 4, config.channels(4), config.channels(4), False))
        else:
            out.append(("synthesis.b%d.conv0" % r, r, config.channels(r // 2),
                        config.channels(r), True))
            out.append(("synthesis.b%d.conv1" % r, r, config.channels(r),
                        config.channels(r), False))
    return out


def expected_tensors(config):
    """Ordered {name: (shape, optional)} of a generator file."""
    w = config.w_dim
    t = {}
    for i in range(config.mapping_layers):
        t["mapping.fc%d.weight" % i] = ((w, config.z_dim if i == 0 else w), False)
        t["mapping.fc%d.bias" % i] = ((w,), False)
    t["mapping.w_avg"] = ((w,), False)
    convs = conv_names(config)
    for r in config.resolutions():
        block = "synthesis.b%d" % r
        c = config.channels(r)
        if r == 4:
            t[block + ".const"] = ((c, 4, 4), False)
        for name, res, cin, cout, _up in convs:
            if res != r:
                continue
            t[name + ".affine.weight"] = ((cin, w), False)
            t[name + ".affine.bias"] = ((cin,), False)
            t[name + ".weight"] = ((cout, cin, 3, 3), False)
            t[name + ".bias"] = ((cout,), False)
            t[name + ".noise_strength"] = ((), False)
            t[name + ".noise_const"] = ((r, r), False)
            t[name + ".resample_filter"] = ((4, 4), True)
        t[block + ".torgb.affine.weight"] = ((c, w), False)
        t[block + ".torgb.affine.bias"] = ((c,), False)
        t[block + ".torgb.weight"] = ((config.img_channels, c, 1, 1), False)
        t[block + ".torgb.bias"] = ((config.img_channels,), False)
        t[block + ".resample_filter"] = ((4, 4), True)
    return t


def check_filter(name, array, source):
    array = np.asarray(array, dtype=np.float64)
    if array.shape != (4, 4) or np.max(np.abs(array - STANDARD_FILTER)) > 1e-6:
        raise ConvertError("%s: %s is not the standard [1, 3, 3, 1] resample filter; "
                           "other filters are not supported" % (source, name))


def assemble(tensors, config, source):
    """Checks TENSORS (dict name -> array) against CONFIG and returns them
    as an ordered list, float32, with the standard resample filter added
    where a filter is missing.  Unknown or missing tensors are errors."""
    config.validate(source)
    expected = expected_tensors(config)
    for name in tensors:
        if name not in expected:
            raise ConvertError("%s: unexpected tensor %s: it is not part of a StyleGAN2 skip "
                               "generator with this config (%s)" % (source, name,
                                                                    config.describe()))
    out = []
    for name, (shape, optional) in expected.items():
        arr = tensors.get(name)
        if arr is None:
            if optional:
                arr = STANDARD_FILTER
            else:
                raise ConvertError("%s: tensor %s is missing (the config describes a "
                                   "generator that needs it)" % (source, name))
        arr = np.asarray(arr, dtype=np.float32)
        if tuple(arr.shape) != tuple(shape):
            if arr.size == int(np.prod(shape)) and shape == ():
                arr = arr.reshape(())
            else:
                raise ConvertError("%s: tensor %s has shape %s, but the config (%s) needs %s"
                                   % (source, name, list(arr.shape), config.describe(),
                                      list(shape)))
        if not np.all(np.isfinite(arr)):
            raise ConvertError("%s: tensor %s contains NaN or infinite values" % (source, name))
        if optional:
            check_filter(name, arr, source)
        out.append((name, arr))
    return out


def count_parameters(tensor_list):
    return sum(int(np.asarray(a).size) for n, a in tensor_list
               if not n.endswith("resample_filter") and not n.endswith("noise_const")
               and n != "mapping.w_avg")


# Mapping network, for an average w when a checkpoint has none

W_AVG_SAMPLES = 10000
W_AVG_SEED = 0


def mapping_forward(tensors, config, z):
    """The mapping network of generator-math.md §2 on a batch of z
    (float32 [N, z_dim]) -> w [N, w_dim]."""
    x = z.astype(np.float32)
    x = x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + np.float32(1e-8))
    lr = np.float32(config.lr_multiplier)
    for i in range(config.mapping_layers):
        weight = np.asarray(tensors["mapping.fc%d.weight" % i], np.float32)
        bias = np.asarray(tensors["mapping.fc%d.bias" % i], np.float32)
        gain = np.float32(config.lr_multiplier / math.sqrt(weight.shape[1]))
        x = x @ (weight * gain).T + bias * lr
        x = np.where(x >= 0, x, x * np.float32(0.2)) * np.float32(math.sqrt(2))
    return x


def average_w(tensors, config, samples=W_AVG_SAMPLES, seed=W_AVG_SEED):
    rng = np.random.RandomState(seed)
    total = np.zeros(config.w_dim, np.float64)
    done = 0
    while done < samples:
        n = min(1000, samples - done)
        z = rng.randn(n, config.z_dim).astype(np.float32)
        total += mapping_forward(tensors, config, z).astype(np.float64).sum(axis=0)
        done += n
    return (total / samples).astype(np.float32)
