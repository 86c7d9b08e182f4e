#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of tools/hyperdomain-convert.  They build small checkpoints of every
layout in the test itself (torchwriter.py writes PyTorch's formats, so
PyTorch is not needed), convert them with the command-line tool, and check
the results tensor by tensor and by forward passes (reference.py).  Files
that real PyTorch wrote are in fixtures/.  When HD_RENDER names a built
hyperdomain-render and a Vulkan device is present, converted generators are
also rendered.

Run: python3 tests/convert/test_convert.py [-v]"""

import collections
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONVERTER = os.path.join(ROOT, "tools", "hyperdomain-convert")
FIXTURES = os.path.join(HERE, "fixtures")

try:
    import numpy as np
except ImportError:
    sys.stderr.write("test_convert: NumPy is needed (Debian: apt install python3-numpy)\n")
    sys.exit(1)

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import reference  # noqa: E402
import torchwriter as tw  # noqa: E402
from hdconvert import torchfile  # noqa: E402
from hdconvert.errors import UnsafePickleError  # noqa: E402

STANDARD_FILTER = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0


# ------------------------------------------------------------------ helpers

def run_convert(*args, check=True):
    proc = subprocess.run([sys.executable, CONVERTER] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise AssertionError("hyperdomain-convert %s failed (%d):\n%s%s"
                             % (" ".join(map(str, args)), proc.returncode, proc.stdout,
                                proc.stderr))
    return proc


def read_safetensors(path):
    """An independent reader that also checks the layout rules (U8 tensors
    come back as bytes, every other as float32)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert (8 + n) % 8 == 0, "data area not 8-byte aligned"
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors, dtypes, spans = {}, {}, []
    for name, e in header.items():
        b, end = e["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2", "U8": "u1"}[e["dtype"]]
        arr = np.frombuffer(blob[base + b:base + end], dt)
        assert arr.size == int(np.prod(e["shape"])), name
        if e["dtype"] != "U8":
            arr = arr.astype(np.float32)
        tensors[name] = arr.reshape(e["shape"])
        dtypes[name] = e["dtype"]
        spans.append((b, end))
    spans.sort()
    pos = 0
    for b, end in spans:
        assert b == pos, "gap or overlap in the data area"
        pos = end
    assert pos == len(blob) - base, "data area not covered exactly"
    return tensors, meta, dtypes


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def channels(cfg, r):
    return min(cfg["synthesis"]["channel_base"] // r, cfg["synthesis"]["channel_max"])


def spec_config(z_dim=10, w_dim=12, res=32, layers=3, lr=0.01, base=128, cmax=16,
                clamp=256, img_channels=3):
    return {"z_dim": z_dim, "w_dim": w_dim, "c_dim": 0, "img_resolution": res,
            "img_channels": img_channels,
            "mapping": {"num_layers": layers, "lr_multiplier": lr},
            "synthesis": {"channel_base": base, "channel_max": cmax, "conv_clamp": clamp,
                          "architecture": "skip"}}


def resolutions(cfg):
    r, out = 4, []
    while r <= cfg["img_resolution"]:
        out.append(r)
        r *= 2
    return out


def spec_generator(rng, cfg):
    """Random tensors in the layout of formats.md (NVlabs names)."""
    t = collections.OrderedDict()
    w = cfg["w_dim"]
    lr = cfg["mapping"]["lr_multiplier"]
    for i in range(cfg["mapping"]["num_layers"]):
        fan = cfg["z_dim"] if i == 0 else w
        t["mapping.fc%d.weight" % i] = rng.randn(w, fan) / lr
        t["mapping.fc%d.bias" % i] = rng.randn(w) * 0.1
    t["mapping.w_avg"] = rng.randn(w) * 0.3

    def conv(name, r, cin, cout):
        t[name + ".weight"] = rng.randn(cout, cin, 3, 3)
        t[name + ".bias"] = rng.randn(cout) * 0.1
        t[name + ".noise_strength"] = np.array(rng.randn() * 0.2)
        t[name + ".noise_const"] = rng.randn(r, r)
        t[name + ".affine.weight"] = rng.randn(cin, w)
        t[name + ".affine.bias"] = 1.0 + 0.1 * rng.randn(cin)

    for r in resolutions(cfg):
        b = "synthesis.b%d" % r
        c = channels(cfg, r)
        if r == 4:
            t[b + ".const"] = rng.randn(c, 4, 4)
            conv(b + ".conv1", 4, c, c)
        else:
            conv(b + ".conv0", r, channels(cfg, r // 2), c)
            conv(b + ".conv1", r, c, c)
        t[b + ".torgb.weight"] = rng.randn(cfg["img_channels"], c, 1, 1)
        t[b + ".torgb.bias"] = rng.randn(cfg["img_channels"]) * 0.1
        t[b + ".torgb.affine.weight"] = rng.randn(c, w)
        t[b + ".torgb.affine.bias"] = 1.0 + 0.1 * rng.randn(c)
    return collections.OrderedDict((k, np.asarray(v, np.float32)) for k, v in t.items())


def write_generator_directly(path, t, cfg, name="direct"):
    """The generator file written straight from spec-layout tensors."""
    header, blobs, off = {}, [], 0
    header["__metadata__"] = {"hyperdomain.kind": "generator", "hyperdomain.version": "1",
                              "hyperdomain.config": json.dumps(cfg),
                              "hyperdomain.name": name}
    for k, v in t.items():
        data = np.ascontiguousarray(v, "<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((-(8 + len(text))) % 8)
    write(path, struct.pack("<Q", len(text)) + text + b"".join(blobs))


def rosinality_from_spec(t, cfg):
    """The rosinality state dict whose generator equals spec tensors T: the
    inverse of the converter's mapping, written from the layouts' math."""
    sd = collections.OrderedDict()
    for i in range(cfg["mapping"]["num_layers"]):
        sd["style.%d.weight" % (i + 1)] = t["mapping.fc%d.weight" % i]
        sd["style.%d.bias" % (i + 1)] = t["mapping.fc%d.bias" % i]
    sd["input.input"] = t["synthesis.b4.const"][None]
    noise_index = [0]

    def styled(dst, src, up):
        w = t[src + ".weight"].astype(np.float64)
        fan = w.shape[1] * 9
        sd[dst + ".conv.weight"] = (w * math.sqrt(fan))[None].astype(np.float32)
        sd[dst + ".conv.modulation.weight"] = t[src + ".affine.weight"]
        sd[dst + ".conv.modulation.bias"] = t[src + ".affine.bias"]
        if up:
            sd[dst + ".conv.blur.kernel"] = (STANDARD_FILTER * 4).astype(np.float32)
        sd[dst + ".noise.weight"] = t[src + ".noise_strength"].reshape(1)
        sd[dst + ".activate.bias"] = t[src + ".bias"]

    def rgb(dst, src, up):
        if up:
            sd[dst + ".upsample.kernel"] = (STANDARD_FILTER * 4).astype(np.float32)
        sd[dst + ".conv.weight"] = t[src + ".weight"][None]
        sd[dst + ".conv.modulation.weight"] = t[src + ".affine.weight"]
        sd[dst + ".conv.modulation.bias"] = t[src + ".affine.bias"]
        sd[dst + ".bias"] = t[src + ".bias"].reshape(1, -1, 1, 1)

    noises = []
    styled("conv1", "synthesis.b4.conv1", False)
    noises.append(t["synthesis.b4.conv1.noise_const"])
    rgb("to_rgb1", "synthesis.b4.torgb", False)
    for j, r in enumerate(resolutions(cfg)[1:]):
        b = "synthesis.b%d" % r
        styled("convs.%d" % (2 * j), b + ".conv0", True)
        styled("convs.%d" % (2 * j + 1), b + ".conv1", False)
        noises += [t[b + ".conv0.noise_const"], t[b + ".conv1.noise_const"]]
        rgb("to_rgbs.%d" % j, b + ".torgb", True)
    for i, n in enumerate(noises):
        sd["noises.noise_%d" % i] = n[None, None]
    del noise_index
    return sd


def random_rosinality(rng, style_dim=12, n_mlp=3, res=32, chans=None, lr_mlp=0.01,
                      faint=False):
    """A rosinality generator state dict with rosinality-style random init,
    independent of the spec layout.  FAINT: output channel 0 of every conv
    gets weights so small that the 1e-8 of the demodulation matters, which
    makes the forward pass depend on the 1/sqrt(fan_in) factor."""
    chans = chans or {4: 16, 8: 16, 16: 8, 32: 4}
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    sd = collections.OrderedDict()
    for i in range(1, n_mlp + 1):
        sd["style.%d.weight" % i] = f(rng.randn(style_dim, style_dim) / lr_mlp)
        sd["style.%d.bias" % i] = f(rng.randn(style_dim) * 0.1 / lr_mlp)
    sd["input.input"] = f(rng.randn(1, chans[4], 4, 4))

    def styled(name, cin, cout, up):
        weight = rng.randn(1, cout, cin, 3, 3)
        if faint:
            weight[:, 0] *= 3e-5
        sd[name + ".conv.weight"] = f(weight)
        sd[name + ".conv.modulation.weight"] = f(rng.randn(cin, style_dim))
        sd[name + ".conv.modulation.bias"] = f(1 + 0.1 * rng.randn(cin))
        if up:
            sd[name + ".conv.blur.kernel"] = f(STANDARD_FILTER * 4)
        sd[name + ".noise.weight"] = f([rng.randn() * 0.3])
        sd[name + ".activate.bias"] = f(rng.randn(cout) * 0.1)

    def rgb(name, cin, up):
        if up:
            sd[name + ".upsample.kernel"] = f(STANDARD_FILTER * 4)
        sd[name + ".conv.weight"] = f(rng.randn(1, 3, cin, 1, 1))
        sd[name + ".conv.modulation.weight"] = f(rng.randn(cin, style_dim))
        sd[name + ".conv.modulation.bias"] = f(1 + 0.1 * rng.randn(cin))
        sd[name + ".bias"] = f(rng.randn(1, 3, 1, 1) * 0.1)

    styled("conv1", chans[4], chans[4], False)
    rgb("to_rgb1", chans[4], False)
    r, j, cin = 8, 0, chans[4]
    while r <= res:
        styled("convs.%d" % (2 * j), cin, chans[r], True)
        styled("convs.%d" % (2 * j + 1), chans[r], chans[r], False)
        rgb("to_rgbs.%d" % j, chans[r], True)
        cin = chans[r]
        r *= 2
        j += 1
    n = 2 * j + 1
    for i in range(n):
        size = 4 << ((i + 1) // 2)
        sd["noises.noise_%d" % i] = f(rng.randn(1, 1, size, size))
    return sd


# NVlabs network pickles ----------------------------------------------------

HOSTILE_SRC = ("import os\nos.system('touch %s')\n"
               "class SynthesisLayer: pass\n")


def fc_module(weight, bias, lr, src):
    return tw.persistent_module(
        "FullyConnectedLayer", src, params={"weight": weight, "bias": bias},
        attrs={"activation": "linear", "weight_gain": lr / math.sqrt(weight.shape[1]),
               "bias_gain": lr})


def nvlabs_generator(t, cfg, src="# networks.py\n", flat_synthesis=False, use_noise=True):
    lr = cfg["mapping"]["lr_multiplier"]
    clamp = cfg["synthesis"]["conv_clamp"]
    mapping_modules = collections.OrderedDict()
    for i in range(cfg["mapping"]["num_layers"]):
        mapping_modules["fc%d" % i] = fc_module(t["mapping.fc%d.weight" % i],
                                                t["mapping.fc%d.bias" % i], lr, src)
    mapping = tw.persistent_module(
        "MappingNetwork", src, buffers={"w_avg": t["mapping.w_avg"]},
        modules=mapping_modules,
        init_kwargs={"z_dim": cfg["z_dim"], "c_dim": 0, "w_dim": cfg["w_dim"],
                     "num_ws": 2 * int(math.log2(cfg["img_resolution"])) - 2,
                     "num_layers": cfg["mapping"]["num_layers"]},
        attrs={"z_dim": cfg["z_dim"], "num_layers": cfg["mapping"]["num_layers"]})

    def layer(name, r):
        params = {"weight": t[name + ".weight"], "bias": t[name + ".bias"]}
        buffers = {"resample_filter": STANDARD_FILTER.astype(np.float32)}
        if use_noise:
            params["noise_strength"] = t[name + ".noise_strength"]
            buffers["noise_const"] = t[name + ".noise_const"]
        affine = fc_module(t[name + ".affine.weight"], t[name + ".affine.bias"], 1.0, src)
        return tw.persistent_module("SynthesisLayer", src, params=params, buffers=buffers,
                                    modules={"affine": affine},
                                    attrs={"conv_clamp": clamp, "resolution": r,
                                           "use_noise": use_noise, "activation": "lrelu"})

    blocks = collections.OrderedDict()
    for r in resolutions(cfg):
        b = "synthesis.b%d" % r
        mods = collections.OrderedDict()
        if r > 4:
            mods["conv0"] = layer(b + ".conv0", r)
        mods["conv1"] = layer(b + ".conv1", r)
        mods["torgb"] = tw.persistent_module(
            "ToRGBLayer", src,
            params={"weight": t[b + ".torgb.weight"], "bias": t[b + ".torgb.bias"]},
            modules={"affine": fc_module(t[b + ".torgb.affine.weight"],
                                         t[b + ".torgb.affine.bias"], 1.0, src)},
            attrs={"conv_clamp": clamp})
        blocks["b%d" % r] = tw.persistent_module(
            "SynthesisBlock", src, params={"const": t[b + ".const"]} if r == 4 else {},
            buffers={"resample_filter": STANDARD_FILTER.astype(np.float32)}, modules=mods,
            attrs={"architecture": "skip", "resolution": r})
    skw = {"channel_base": cfg["synthesis"]["channel_base"],
           "channel_max": cfg["synthesis"]["channel_max"], "num_fp16_res": 4,
           "conv_clamp": clamp}
    synthesis = tw.persistent_module("SynthesisNetwork", src, modules=blocks,
                                     init_kwargs=dict(skw, w_dim=cfg["w_dim"]))
    kwargs = {"z_dim": cfg["z_dim"], "c_dim": 0, "w_dim": cfg["w_dim"],
              "img_resolution": cfg["img_resolution"], "img_channels": cfg["img_channels"],
              "mapping_kwargs": tw.easydict({"num_layers": cfg["mapping"]["num_layers"]})}
    if lr != 0.01:
        kwargs["mapping_kwargs"] = tw.easydict({"num_layers": cfg["mapping"]["num_layers"],
                                                "lr_multiplier": lr})
    if flat_synthesis:
        kwargs.update(skw)
    else:
        kwargs["synthesis_kwargs"] = tw.easydict(skw)
    return tw.persistent_module(
        "Generator", src, modules=collections.OrderedDict(
            [("synthesis", synthesis), ("mapping", mapping)]),
        init_kwargs=kwargs,
        attrs={"z_dim": cfg["z_dim"], "c_dim": 0, "w_dim": cfg["w_dim"],
               "img_resolution": cfg["img_resolution"], "img_channels": cfg["img_channels"]})


def nvlabs_pickle(G, with_d=True):
    snapshot = collections.OrderedDict()
    snapshot["training_set_kwargs"] = tw.easydict({"path": "ffhq.zip", "resolution": 32})
    snapshot["G"] = G
    if with_d:
        snapshot["D"] = tw.persistent_module(
            "Discriminator", "# networks.py\n",
            params={}, buffers={}, modules={
                "b32": tw.persistent_module("DiscriminatorBlock", "# networks.py\n",
                                            params={"weight": np.ones((4, 3, 1, 1), np.float32)})})
        snapshot["augment_pipe"] = None
    snapshot["G_ema"] = G
    return tw.plain_pickle_bytes(snapshot)


def stylegan3_pickle():
    src = ('"""Generator architecture from the paper\n"Alias-Free Generative Adversarial '
           'Networks"."""\n')
    fc = lambda o, i: tw.persistent_module(  # noqa: E731
        "FullyConnectedLayer", src, params={"weight": np.ones((o, i), np.float32),
                                            "bias": np.zeros(o, np.float32)})
    inp = tw.persistent_module("SynthesisInput", src, params={"weight": np.ones((8, 8))},
                               modules={"affine": fc(4, 8)})
    layer = tw.persistent_module("SynthesisLayer", src,
                                 params={"weight": np.ones((8, 8, 3, 3), np.float32)},
                                 modules={"affine": fc(8, 8)},
                                 attrs={"use_radial_filters": False, "is_torgb": False})
    synthesis = tw.persistent_module("SynthesisNetwork", src, modules=collections.OrderedDict(
        [("input", inp), ("L0_36_8", layer)]))
    mapping = tw.persistent_module("MappingNetwork", src, modules={"fc0": fc(8, 8)},
                                   buffers={"w_avg": np.zeros(8, np.float32)})
    G = tw.persistent_module("Generator", src, modules=collections.OrderedDict(
        [("synthesis", synthesis), ("mapping", mapping)]),
        init_kwargs={"z_dim": 8, "c_dim": 0, "w_dim": 8, "img_resolution": 16,
                     "img_channels": 3, "mapping_kwargs": {"num_layers": 1},
                     "channel_base": 32768, "magnitude_ema_beta": 0.999})
    return tw.plain_pickle_bytes({"G": G, "G_ema": G, "D": None})


# HyperDomainNet ------------------------------------------------------------

def hdn_layers(cfg):
    names = ["synthesis.b4.conv1"]
    for r in resolutions(cfg)[1:]:
        names += ["synthesis.b%d.conv0" % r, "synthesis.b%d.conv1" % r]
    return names


def hdn_vectors(rng, cfg):
    out = collections.OrderedDict()
    for name in hdn_layers(cfg):
        r = int(name.split(".")[1][1:])
        cin = channels(cfg, r // 2) if name.endswith("conv0") else channels(cfg, r)
        out[name] = (rng.randn(cin) * 0.3).astype(np.float32)
    return out


def hdn_checkpoint(vectors, da_type="td", patch="cin_mult", extra=None, style=None):
    sd = collections.OrderedDict()
    for k, (_name, vec) in enumerate(vectors.items()):
        sd["heads.conv_%d.params_in" % k] = vec.reshape(1, 1, -1, 1, 1)
        if extra:
            sd["heads.conv_%d.%s" % (k, extra)] = np.zeros((1, 1, 1, 3, 3), np.float32)
    ckpt = {"model_type": "parameterization", "da_type": da_type, "patch_key": patch,
            "state_dict": sd,
            "sg2_params": {"img_size": 32, "latent_size": 12, "map_layers": 3,
                           "channel_multiplier": 2,
                           "ckpt_path": "pretrained/StyleGAN2/tiny-ros.pt"}}
    if style is not None and style is not False:
        ckpt["style_latents"] = style
    elif da_type == "im2im" and style is None:
        # what the official code assigns to latents[:, 7:, :]
        ckpt["style_latents"] = np.zeros((1, len(vectors) + 1 - 7, 12), np.float32)
    return tw.torch_zip_bytes(ckpt)


# ------------------------------------------------------------------ tests

class ConverterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hdconvert-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)


class RestrictedUnpicklerTest(ConverterTest):
    HOSTILE = [("os", "system"), ("posix", "system"), ("subprocess", "check_call"),
               ("builtins", "eval"), ("builtins", "exec"), ("builtins", "__import__"),
               ("builtins", "getattr"), ("__builtin__", "eval"), ("nt", "system")]

    def hostile_payload(self, module, name, marker):
        cmd = "touch %s" % marker
        if name in ("eval", "exec"):
            arg = "__import__('os').system(%r)" % cmd
            return tw.Reduce(tw.Global(module, name), (arg,))
        if name == "__import__":
            return tw.Reduce(tw.Global(module, name), ("os",))
        if name == "getattr":
            return tw.Reduce(tw.Global(module, name), ("os", "system"))
        if module == "subprocess":
            return tw.Reduce(tw.Global(module, name), (["touch", marker],))
        return tw.Reduce(tw.Global(module, name), (cmd,))

    def test_plain_pickle_would_run_the_command(self):
        # The fixture is really hostile: Python's own pickle runs it.
        marker = self.path("pwned-by-plain-pickle")
        pkl = write(self.path("hostile.pkl"), tw.Pickler(2).dumps(
            {"g_ema": self.hostile_payload("os", "system", marker)}))
        subprocess.run([sys.executable, "-c",
                        "import pickle,sys; pickle.load(open(sys.argv[1],'rb'))", pkl],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(os.path.exists(marker))

    def test_hostile_globals_are_refused(self):
        for module, name in self.HOSTILE:
            for container in ("pickle", "zip", "legacy"):
                with self.subTest(glob="%s.%s" % (module, name), container=container):
                    marker = self.path("pwned-%s-%s-%s" % (module, name, container))
                    payload = {"g_ema": self.hostile_payload(module, name, marker)}
                    if container == "pickle":
                        data = tw.Pickler(2).dumps(payload)
                    elif container == "zip":
                        data = tw.torch_zip_bytes(payload)
                    else:
                        data = tw.torch_legacy_bytes(payload)
                    src = write(self.path("hostile-%s.pt" % container), data)
                    for args in ([src, "-o", self.path("out.safetensors")], ["--info", src]):
                        proc = run_convert(*args, check=False)
                        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
                        shown = "builtins" if module == "__builtin__" else module
                        self.assertIn("%s.%s" % (shown, name), proc.stderr)
                        self.assertIn("refusing", proc.stderr)
                    self.assertFalse(os.path.exists(marker), "the payload ran")
                    self.assertFalse(os.path.exists(self.path("out.safetensors")))
                    with self.assertRaises(UnsafePickleError):
                        torchfile.load(src).close()

    def test_nested_unknown_class_refused(self):
        data = tw.torch_zip_bytes({"g_ema": tw.NewObj(tw.Global("model", "Generator"))})
        src = write(self.path("model.pt"), data)
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("model.Generator", proc.stderr)

    def test_module_source_is_never_executed(self):
        rng = np.random.RandomState(1)
        cfg = spec_config()
        t = spec_generator(rng, cfg)
        marker = self.path("pwned-by-module-src")
        G = nvlabs_generator(t, cfg, src=HOSTILE_SRC % marker)
        src = write(self.path("net.pkl"), nvlabs_pickle(G))
        run_convert(src, "-o", self.path("net.safetensors"))
        run_convert("--info", src)
        self.assertFalse(os.path.exists(marker))


class NVlabsTest(ConverterTest):
    def check_generator(self, out, t, cfg, name):
        got, meta, dtypes = read_safetensors(out)
        self.assertEqual(meta["hyperdomain.kind"], "generator")
        self.assertEqual(meta["hyperdomain.version"], "1")
        self.assertEqual(meta["hyperdomain.name"], name)
        self.assertEqual(json.loads(meta["hyperdomain.config"]), cfg)
        for k, v in t.items():
            self.assertIn(k, got)
            np.testing.assert_array_equal(got[k], v, err_msg=k)
        extra = set(got) - set(t)
        self.assertTrue(all(k.endswith("resample_filter") for k in extra), extra)
        for k in extra:
            np.testing.assert_allclose(got[k], STANDARD_FILTER, atol=0)
        return got, meta

    def test_network_pickle(self):
        rng = np.random.RandomState(2)
        cfg = spec_config()
        t = spec_generator(rng, cfg)
        src = write(self.path("tiny-ffhq.pkl"), nvlabs_pickle(nvlabs_generator(t, cfg)))
        out = self.path("tiny.safetensors")
        proc = run_convert(src, "-o", out)
        self.assertIn("generator", proc.stdout)
        self.assertIn("32x32", proc.stdout)
        _, meta = self.check_generator(out, t, cfg, "tiny-ffhq")
        self.assertIn("tiny-ffhq.pkl", meta["hyperdomain.source"])

    def test_config_variants(self):
        # stylegan3's copy of the StyleGAN2 generator (flat synthesis kwargs),
        # a non-default lr multiplier, no conv_clamp, 1024-like channel caps
        rng = np.random.RandomState(3)
        cfg = spec_config(z_dim=6, w_dim=8, res=16, layers=2, lr=0.02, base=64, cmax=8,
                          clamp=None)
        t = spec_generator(rng, cfg)
        src = write(self.path("sg3repo.pkl"),
                    nvlabs_pickle(nvlabs_generator(t, cfg, flat_synthesis=True), with_d=False))
        out = self.path("o.safetensors")
        run_convert(src, "-o", out, "--name", "Custom name", "--license", "CC-BY-NC 4.0")
        _, meta = self.check_generator(out, t, cfg, "Custom name")
        self.assertEqual(meta["hyperdomain.license"], "CC-BY-NC 4.0")

    def test_no_noise(self):
        rng = np.random.RandomState(4)
        cfg = spec_config(res=8)
        t = spec_generator(rng, cfg)
        src = write(self.path("nonoise.pkl"), nvlabs_pickle(nvlabs_generator(t, cfg, use_noise=False)))
        out = self.path("o.safetensors")
        proc = run_convert(src, "-o", out)
        self.assertIn("zero noise", proc.stdout)
        got, _, _ = read_safetensors(out)
        self.assertEqual(float(got["synthesis.b8.conv0.noise_strength"]), 0.0)

    def test_bare_state_dict(self):
        # torch.save(G_ema.state_dict()): no constructor arguments, so the
        # config comes from the shapes and the flags
        rng = np.random.RandomState(6)
        cfg = spec_config(lr=0.01)
        t = spec_generator(rng, cfg)
        sd = collections.OrderedDict(t)
        sd["synthesis.b8.conv0.resample_filter"] = STANDARD_FILTER.astype(np.float32)
        src = write(self.path("G_ema.pt"), tw.torch_zip_bytes(sd))
        out = self.path("o.safetensors")
        proc = run_convert(src, "-o", out, "--conv-clamp", "256")
        self.assertIn("state_dict records no constructor arguments", proc.stdout)
        self.check_generator(out, t, cfg, "G_ema")
        bad = collections.OrderedDict(sd)
        bad["synthesis.b8.conv0.resample_filter"] = np.ones((4, 4), np.float32) / 16
        src = write(self.path("bad.pt"), tw.torch_zip_bytes(bad))
        proc = run_convert(src, "-o", out, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("resample filter", proc.stderr)

    def test_stylegan3_refused(self):
        src = write(self.path("stylegan3-t.pkl"), stylegan3_pickle())
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("StyleGAN3", proc.stderr)
        self.assertIn("alias-free", proc.stderr)
        self.assertFalse(os.path.exists(self.path("o.safetensors")))
        info = run_convert("--info", src)
        self.assertIn("StyleGAN3", info.stdout)

    def test_conditional_refused(self):
        rng = np.random.RandomState(5)
        cfg = spec_config(res=8)
        t = spec_generator(rng, cfg)
        G = nvlabs_generator(t, cfg)
        G.args[0]["state"]["_init_kwargs"]["c_dim"] = 10
        src = write(self.path("cond.pkl"), nvlabs_pickle(G))
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("conditional", proc.stderr)


class RosinalityTest(ConverterTest):
    def convert_ros(self, sd, fmt="zip", latent_avg=None, extra_args=(), name="tiny-ros"):
        ckpt = {"g_ema": sd}
        if latent_avg is not None:
            ckpt["latent_avg"] = latent_avg
        data = tw.torch_zip_bytes(ckpt) if fmt == "zip" else tw.torch_legacy_bytes(ckpt)
        src = write(self.path(name + ".pt"), data)
        out = self.path(name + ".safetensors")
        proc = run_convert(src, "-o", out, *extra_args)
        got, meta, dtypes = read_safetensors(out)
        return got, json.loads(meta["hyperdomain.config"]), proc

    def test_forward_equivalence(self):
        for lr_mlp, fmt in ((0.01, "zip"), (0.05, "legacy")):
            with self.subTest(lr_mlp=lr_mlp, fmt=fmt):
                rng = np.random.RandomState(10)
                sd = random_rosinality(rng, lr_mlp=lr_mlp, faint=True)
                avg = rng.randn(12).astype(np.float32)
                args = () if lr_mlp == 0.01 else ("--lr-mlp", str(lr_mlp))
                got, cfg, proc = self.convert_ros(sd, fmt, avg, args)
                self.assertEqual(cfg["img_resolution"], 32)
                self.assertEqual(cfg["z_dim"], 12)
                self.assertEqual(cfg["w_dim"], 12)
                self.assertEqual(cfg["mapping"], {"num_layers": 3, "lr_multiplier": lr_mlp})
                self.assertIsNone(cfg["synthesis"]["conv_clamp"])
                self.assertEqual([channels(cfg, r) for r in (4, 8, 16, 32)], [16, 16, 8, 4])
                np.testing.assert_array_equal(got["mapping.w_avg"], avg)
                for seed in range(3):
                    z = np.random.RandomState(seed).randn(12)
                    a = reference.rosinality_forward(sd, z, lr_mlp=lr_mlp)
                    b = reference.spec_forward(got, cfg, z)
                    self.assertEqual(a.shape, (3, 32, 32))
                    diff = float(np.max(np.abs(a - b)))
                    self.assertLess(diff, 1e-4, "seed %d" % seed)
                    self.assertGreater(float(np.std(a)), 1e-3)

    def test_matches_spec_layout(self):
        rng = np.random.RandomState(11)
        cfg = spec_config(z_dim=12, w_dim=12, clamp=None)
        t = spec_generator(rng, cfg)
        sd = rosinality_from_spec(t, cfg)
        got, gcfg, _ = self.convert_ros(sd, latent_avg=t["mapping.w_avg"][None])
        self.assertEqual(gcfg, cfg)
        for k, v in t.items():
            np.testing.assert_allclose(got[k], v, rtol=2e-6, atol=1e-7, err_msg=k)
        z = np.random.RandomState(7).randn(12)
        a = reference.rosinality_forward(sd, z)
        b = reference.spec_forward(t, cfg, z)
        self.assertLess(float(np.max(np.abs(a - b))), 1e-4)

    def test_w_avg_without_latent_avg(self):
        rng = np.random.RandomState(12)
        sd = random_rosinality(rng, res=8, chans={4: 8, 8: 8})
        got, cfg, proc = self.convert_ros(sd)
        self.assertIn("w_avg is the mean w", proc.stdout)
        zs = np.random.RandomState(99).randn(3000, 12)
        ws = np.stack([reference.spec_mapping(got, cfg, z) for z in zs[:300]])
        self.assertLess(float(np.max(np.abs(ws.mean(0) - got["mapping.w_avg"]))),
                        0.5 * float(np.std(ws)))

    def test_prefixed_and_args(self):
        rng = np.random.RandomState(13)
        sd = random_rosinality(rng, res=8, chans={4: 8, 8: 8}, lr_mlp=0.02)
        ckpt = {"g": collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
                "args": tw.NewObj(tw.Global("argparse", "Namespace"),
                                  state={"size": 8, "lr_mlp": 0.02, "n_mlp": 3})}
        src = write(self.path("prefixed.pt"), tw.torch_zip_bytes(ckpt))
        out = self.path("o.safetensors")
        run_convert(src, "-o", out)
        got, meta, _ = read_safetensors(out)
        cfg = json.loads(meta["hyperdomain.config"])
        self.assertEqual(cfg["mapping"]["lr_multiplier"], 0.02)
        z = np.random.RandomState(3).randn(12)
        a = reference.rosinality_forward(sd, z, lr_mlp=0.02)
        self.assertLess(float(np.max(np.abs(a - reference.spec_forward(got, cfg, z)))), 1e-4)

    def test_without_noise_buffers(self):
        rng = np.random.RandomState(16)
        sd = random_rosinality(rng, res=16, chans={4: 8, 8: 8, 16: 4})
        sd = collections.OrderedDict((k, v) for k, v in sd.items() if not k.startswith("noises."))
        got, cfg, proc = self.convert_ros(sd)
        self.assertIn("no noise buffers", proc.stdout)
        self.assertEqual(got["synthesis.b16.conv1.noise_const"].shape, (16, 16))
        self.assertGreater(float(np.std(got["synthesis.b16.conv1.noise_const"])), 0.5)

    def test_channel_layout_errors(self):
        rng = np.random.RandomState(14)
        sd = random_rosinality(rng, res=16, chans={4: 12, 8: 10, 16: 6})
        src = write(self.path("odd.pt"), tw.torch_zip_bytes({"g_ema": sd}))
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("channel_base", proc.stderr)

    def test_dtype_f16_halves(self):
        rng = np.random.RandomState(15)
        sd = random_rosinality(rng)
        src = write(self.path("g.pt"), tw.torch_zip_bytes({"g_ema": sd}))
        o32, o16 = self.path("g32.safetensors"), self.path("g16.safetensors")
        run_convert(src, "-o", o32)
        run_convert(src, "-o", o16, "--dtype", "f16")
        t32, m32, d32 = read_safetensors(o32)
        t16, m16, d16 = read_safetensors(o16)
        self.assertEqual(set(d32.values()), {"F32"})
        self.assertEqual(set(d16.values()), {"F16"})
        data32 = sum(v.size for v in t32.values()) * 4
        self.assertEqual(sum(v.size for v in t16.values()) * 2, data32 // 2)
        ratio = os.path.getsize(o16) / os.path.getsize(o32)
        self.assertLess(ratio, 0.56)
        self.assertEqual(m32, m16)
        for k in t32:
            np.testing.assert_allclose(t16[k], t32[k], rtol=1e-3, atol=1e-4, err_msg=k)


class HyperDomainNetTest(ConverterTest):
    def test_single_domain(self):
        rng = np.random.RandomState(20)
        cfg = spec_config()
        vec = hdn_vectors(rng, cfg)
        src = write(self.path("td_pixar.pt"), hdn_checkpoint(vec))
        out = self.path("pixar.safetensors")
        proc = run_convert(src, "-o", out)
        self.assertIn("domain", proc.stdout)
        got, meta, _ = read_safetensors(out)
        self.assertEqual(meta["hyperdomain.kind"], "domain")
        self.assertEqual(meta["hyperdomain.version"], "1")
        self.assertEqual(meta["hyperdomain.modulation"], "input-after-demod")
        self.assertEqual(meta["hyperdomain.name"], "pixar")
        self.assertEqual(meta["hyperdomain.generator"], "tiny-ros")
        self.assertEqual(list(got), list(vec))
        for k, v in vec.items():
            np.testing.assert_array_equal(got[k], v)
        # names follow formats.md §2: b4.conv1 [ch(4)], bR.conv0 [ch(R/2)], bR.conv1 [ch(R)]
        self.assertEqual(got["synthesis.b32.conv0"].shape, (channels(cfg, 16),))

    def test_ffhq_1024_layout(self):
        # The published FFHQ domains: 17 convs, 6048 values (config-f, 1024x1024)
        ch = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64,
              1024: 32}
        sizes = [ch[4]]
        for r in (8, 16, 32, 64, 128, 256, 512, 1024):
            sizes += [ch[r // 2], ch[r]]
        rng = np.random.RandomState(25)
        vec = collections.OrderedDict(("conv_%d" % k, rng.randn(n).astype(np.float32))
                                      for k, n in enumerate(sizes))
        src = write(self.path("td_sketch.pt"), hdn_checkpoint(vec))
        out = self.path("sketch.safetensors")
        run_convert(src, "-o", out)
        got, meta, _ = read_safetensors(out)
        self.assertEqual(len(got), 17)
        self.assertEqual(sum(v.size for v in got.values()), 6048)
        self.assertEqual(list(got)[:3], ["synthesis.b4.conv1", "synthesis.b8.conv0",
                                         "synthesis.b8.conv1"])
        self.assertEqual(list(got)[-2:], ["synthesis.b1024.conv0", "synthesis.b1024.conv1"])
        self.assertEqual(got["synthesis.b1024.conv0"].shape, (64,))
        self.assertEqual(got["synthesis.b1024.conv1"].shape, (32,))
        np.testing.assert_array_equal(got["synthesis.b128.conv0"], vec["conv_9"])

    def test_options_and_im2im(self):
        rng = np.random.RandomState(21)
        vec = hdn_vectors(rng, spec_config())
        src = write(self.path("im2im_anastasia.pt"), hdn_checkpoint(vec, da_type="im2im"))
        out = self.path("a.safetensors")
        proc = run_convert(src, "-o", out, "--name", "Anastasia", "--dtype", "f16",
                           "--generator", "", "--description", "one-shot")
        self.assertIn("latent", proc.stdout)
        got, meta, dtypes = read_safetensors(out)
        self.assertEqual(meta["hyperdomain.name"], "Anastasia")
        self.assertEqual(meta["hyperdomain.description"], "one-shot")
        self.assertNotIn("hyperdomain.generator", meta)
        self.assertEqual(set(dtypes.values()), {"F16"})
        # the reference image's latents of layers 7+ are kept (formats.md §2)
        self.assertEqual(meta["hyperdomain.style_from"], "7")
        self.assertEqual(got["style.w"].shape, (1, 12))
        self.assertIn("style latents for layers 7 and above", proc.stdout)

    def test_style_latent_shapes(self):
        rng = np.random.RandomState(26)
        vec = hdn_vectors(rng, spec_config())          # 32x32: 7 convs, 8 w
        rows = rng.randn(8, 12).astype(np.float32)
        cases = [(rows[None, 7:], rows[7:]),           # what latents[:, 7:] takes
                 (rows[7:], rows[7:]),
                 (rows[None], rows[7:]),               # all 8 layers: the first 7 dropped
                 (rows[7], rows[7:]),                  # one w
                 (rows[None, None, 7:], rows[7:])]
        for i, (given, want) in enumerate(cases):
            src = write(self.path("im2im_%d.pt" % i), hdn_checkpoint(vec, "im2im", style=given))
            out = self.path("s%d.safetensors" % i)
            run_convert(src, "-o", out)
            got, meta, _ = read_safetensors(out)
            np.testing.assert_array_equal(got["style.w"], want)
            self.assertEqual(meta["hyperdomain.style_from"], "7")
        # in a pack: <id>/style.w and <id>.style_from
        out = self.path("pack.safetensors")
        run_convert(self.path("im2im_0.pt"), write(self.path("td_x.pt"), hdn_checkpoint(vec)),
                    "-o", out)
        got, meta, _ = read_safetensors(out)
        np.testing.assert_array_equal(got["0/style.w"], rows[7:])
        self.assertEqual(meta["0.style_from"], "7")
        self.assertNotIn("x/style.w", got)
        bad = [(rng.randn(1, 18, 12).astype(np.float32), "style_latents has shape [1, 18, 12]"),
               (rng.randn(3, 2, 12).astype(np.float32), "style_latents has shape"),
               (np.full((1, 12), np.nan, np.float32), "NaN"),
               ("text", "style_latents is not a tensor")]
        for i, (given, needle) in enumerate(bad):
            src = write(self.path("bad_%d.pt" % i), hdn_checkpoint(vec, "im2im", style=given))
            proc = run_convert(src, "-o", self.path("bad.safetensors"), check=False)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(needle, proc.stderr)
            self.assertFalse(os.path.exists(self.path("bad.safetensors")))
        # an im2im checkpoint without them converts, with a warning
        src = write(self.path("im2im_none.pt"), hdn_checkpoint(vec, "im2im", style=False))
        proc = run_convert(src, "-o", self.path("none.safetensors"))
        self.assertIn("does not have them", proc.stdout + proc.stderr)
        got, meta, _ = read_safetensors(self.path("none.safetensors"))
        self.assertNotIn("style.w", got)
        self.assertNotIn("hyperdomain.style_from", meta)

    def test_pack(self):
        rng = np.random.RandomState(22)
        cfg = spec_config()
        vecs = [hdn_vectors(rng, cfg) for _ in range(3)]
        srcs = [write(self.path(n), hdn_checkpoint(v))
                for n, v in zip(("td_pixar.pt", "td_Anime Art.pt", "im2im_pixar.pt"), vecs)]
        out = self.path("pack.safetensors")
        proc = run_convert(*srcs, "-o", out)
        got, meta, _ = read_safetensors(out)
        self.assertEqual(meta["hyperdomain.kind"], "domain-pack")
        self.assertEqual(meta["hyperdomain.modulation"], "input-after-demod")
        ids = ["pixar", "anime_art", "pixar-2"]
        self.assertEqual(sorted({k.split("/")[0] for k in got}), sorted(ids))
        for ident, v in zip(ids, vecs):
            self.assertIn("%s.name" % ident, meta)
            for layer, vec in v.items():
                np.testing.assert_array_equal(got["%s/%s" % (ident, layer)], vec)
        self.assertEqual(meta["anime_art.name"], "Anime Art")
        self.assertIn("pack.safetensors#pixar-2", proc.stdout)
        # explicit names, one per input
        out2 = self.path("pack2.safetensors")
        run_convert(srcs[0], srcs[1], "--name", "Pixar", "--name", "Anime", "-o", out2)
        _, meta2, _ = read_safetensors(out2)
        self.assertEqual((meta2["pixar.name"], meta2["anime.name"]), ("Pixar", "Anime"))
        proc = run_convert(srcs[0], srcs[1], "--name", "One", "-o", out2, check=False)
        self.assertEqual(proc.returncode, 2)
        # a single domain as a pack
        out3 = self.path("pack3.safetensors")
        run_convert(srcs[0], "--pack", "-o", out3)
        got3, meta3, _ = read_safetensors(out3)
        self.assertEqual(meta3["hyperdomain.kind"], "domain-pack")
        self.assertTrue(all(k.startswith("pixar/") for k in got3))

    def test_unsupported_checkpoints(self):
        rng = np.random.RandomState(23)
        vec = hdn_vectors(rng, spec_config())
        cases = [
            (hdn_checkpoint(vec, patch="csep_mult"), "csep_mult"),
            (hdn_checkpoint(vec, extra="params_kernel"), "params_kernel"),
            (tw.torch_zip_bytes({"model_type": "mapper", "patch_key": "cin_mult",
                                 "state_dict": {"mapper.0.weight": np.ones((2, 2))}}),
             "hypernetwork"),
            # an OmegaConf object is read as data; the heads are still missing
            (tw.torch_zip_bytes({"model_type": "parameterization", "patch_key": "cin_mult",
                                 "mapper_config": tw.NewObj(
                                     tw.Global("omegaconf.dictconfig", "DictConfig")),
                                 "state_dict": {}}), "no heads.conv_k.params_in"),
        ]
        for data, expect in cases:
            with self.subTest(expect=expect):
                src = write(self.path("x.pt"), data)
                proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
                self.assertEqual(proc.returncode, 1, proc.stdout)
                self.assertIn(expect, proc.stderr)

    def test_generator_and_domain_together_refused(self):
        rng = np.random.RandomState(24)
        a = write(self.path("td_a.pt"), hdn_checkpoint(hdn_vectors(rng, spec_config())))
        b = write(self.path("g.pt"), tw.torch_zip_bytes({"g_ema": random_rosinality(rng, res=8, chans={4: 8, 8: 8})}))
        proc = run_convert(a, b, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("one generator", proc.stderr)


class InfoAndErrorsTest(ConverterTest):
    def test_info(self):
        rng = np.random.RandomState(30)
        cfg = spec_config()
        t = spec_generator(rng, cfg)
        pkl = write(self.path("net.pkl"), nvlabs_pickle(nvlabs_generator(t, cfg)))
        ros = write(self.path("ros.pt"), tw.torch_zip_bytes(
            {"g_ema": random_rosinality(rng), "latent_avg": np.zeros(12, np.float32)}))
        dom = write(self.path("td_x.pt"), hdn_checkpoint(hdn_vectors(rng, cfg)))
        proc = run_convert("--info", pkl, ros, dom)
        out = proc.stdout
        self.assertIn("NVIDIA network pickle", out)
        self.assertIn("G_ema", out)
        self.assertIn("channel_base 128", out)
        self.assertIn("conv_clamp 256", out)
        self.assertIn("rosinality", out)
        self.assertIn("latent_avg: yes", out)
        self.assertIn("HyperDomainNet domain", out)
        self.assertIn("heads.conv_0.params_in [1, 1, 16, 1, 1]", out)
        self.assertFalse(any(f.endswith(".safetensors") for f in os.listdir(self.tmp)))
        gen = self.path("gen.safetensors")
        run_convert(pkl, "-o", gen)
        proc = run_convert("--info", gen)
        self.assertIn("hyperdomain.kind = generator", proc.stdout)
        self.assertIn("hyperdomain.config", proc.stdout)

    def test_unknown_layout(self):
        src = write(self.path("weird.pt"), tw.torch_zip_bytes(
            {"encoder": {"layer.weight": np.ones((2, 2), np.float32)}, "epoch": 3}))
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("unknown checkpoint layout", proc.stderr)
        self.assertIn("encoder", proc.stderr)
        self.assertIn("layer.weight", proc.stderr)

    def test_bad_files(self):
        missing = run_convert(self.path("nope.pt"), "-o", self.path("o.safetensors"),
                              check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("nope.pt", missing.stderr)
        junk = write(self.path("junk.pt"), b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        proc = run_convert(junk, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("junk.pt", proc.stderr)
        trunc = tw.torch_legacy_bytes({"g_ema": {"a": np.ones(100, np.float32)}})
        src = write(self.path("trunc.pt"), trunc[:-50])
        proc = run_convert(src, "-o", self.path("o.safetensors"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("truncated", proc.stderr)
        proc = run_convert(src, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("-o", proc.stderr)

    def test_atomic_write_keeps_old_file_on_error(self):
        out = write(self.path("o.safetensors"), b"old")
        src = write(self.path("weird.pt"), tw.torch_zip_bytes({"x": 1}))
        run_convert(src, "-o", out, check=False)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"old")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["o.safetensors", "weird.pt"])


class ChannelConfigTest(unittest.TestCase):
    def test_config_f(self):
        from hdconvert.stylegan2 import infer_channel_config
        for cm, base in ((2, 32768), (1, 16384)):
            ch = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm,
                  256: 64 * cm, 512: 32 * cm, 1024: 16 * cm}
            self.assertEqual(infer_channel_config(ch, "x"), (base, 512))
        self.assertEqual(infer_channel_config({4: 512, 8: 512, 16: 512, 32: 512}, "x"),
                         (32768, 512))
        self.assertEqual(infer_channel_config({4: 64, 8: 64, 16: 32, 32: 16}, "x"), (512, 64))


class RealTorchFixturesTest(unittest.TestCase):
    """Files written by real PyTorch (fixtures/, see fixtures/README.md)."""

    def expected(self):
        a = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1
        return {"a": a, "a_t": a.T, "row": a[1], "half": np.arange(5, dtype=np.float16) / 2,
                "bf16": np.array([1.5, -2.0, 0.25], np.float32),
                "param": np.ones((2, 2), np.float32) * 0.5, "scalar": np.array(2.5, np.float32),
                "long": np.arange(3, dtype=np.int64)}

    def check(self, obj):
        exp = self.expected()
        sd = obj["sd"]
        self.assertEqual(list(sd), list(exp))
        for k, v in exp.items():
            got = sd[k].numpy()
            self.assertEqual(got.shape, v.shape, k)
            np.testing.assert_array_equal(got, v, err_msg=k)
        self.assertEqual(obj["n"], 3)

    def test_zip_and_legacy(self):
        for name in ("torch-zip.pt", "torch-legacy.pt"):
            with self.subTest(name=name):
                with torchfile.load(os.path.join(FIXTURES, name)) as ckpt:
                    self.assertEqual(ckpt.container, "torch zip" if "zip" in name
                                     else "torch legacy")
                    self.check(ckpt.obj)
                    self.assertEqual(ckpt.obj["args"].state, {"size": 8, "lr_mlp": 0.01})

    def test_plain_pickle_with_module(self):
        with torchfile.load(os.path.join(FIXTURES, "torch-plain.pkl")) as ckpt:
            self.check(ckpt.obj)
            lin = ckpt.obj["module"]
            self.assertEqual(lin.qualified_name, "torch.nn.modules.linear.Linear")
            np.testing.assert_array_equal(lin.state["_parameters"]["weight"].numpy(),
                                          np.full((3, 2), 0.25, np.float32))

    def test_real_network_pickle(self):
        # torch.nn.Module subclasses pickled by plain pickle through a
        # persistence-style __reduce__ (see make-fixtures.py)
        cfg = {"z_dim": 10, "w_dim": 12, "c_dim": 0, "img_resolution": 16, "img_channels": 3,
               "mapping": {"num_layers": 2, "lr_multiplier": 0.01},
               "synthesis": {"channel_base": 64, "channel_max": 8, "conv_clamp": 256,
                             "architecture": "skip"}}
        t = spec_generator(np.random.RandomState(77), cfg)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "o.safetensors")
            run_convert(os.path.join(FIXTURES, "nvlabs-tiny.pkl"), "-o", out)
            got, meta, _ = read_safetensors(out)
        self.assertEqual(json.loads(meta["hyperdomain.config"]), cfg)
        self.assertEqual(set(got) - set(t), {k for k in got if k.endswith("resample_filter")})
        for k, v in t.items():
            np.testing.assert_array_equal(got[k], v, err_msg=k)

    def test_real_rosinality_file(self):
        src = os.path.join(FIXTURES, "rosinality-tiny.pt")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "o.safetensors")
            run_convert(src, "-o", out)
            got, meta, _ = read_safetensors(out)
            cfg = json.loads(meta["hyperdomain.config"])
            with torchfile.load(src) as ckpt:
                sd = {k: v.numpy() for k, v in ckpt.obj["g_ema"].items()}
            z = np.random.RandomState(0).randn(cfg["z_dim"])
            a = reference.rosinality_forward(sd, z)
            b = reference.spec_forward(got, cfg, z)
            self.assertLess(float(np.max(np.abs(a - b))), 1e-4)


class RenderTest(ConverterTest):
    """Renders converted files with the C renderer (HD_RENDER)."""

    def setUp(self):
        super().setUp()
        self.render = os.environ.get("HD_RENDER")
        if not self.render or not os.access(self.render, os.X_OK):
            self.skipTest("HD_RENDER is not set to a built hyperdomain-render")
        proc = subprocess.run([self.render, "--list-devices"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        if proc.returncode != 0 or not proc.stdout.strip():
            self.skipTest("no Vulkan device: %s" % proc.stderr.strip())

    def render_npy(self, model, seed, *extra):
        out = self.path("r%d.npy" % len(os.listdir(self.tmp)))
        proc = subprocess.run([self.render, "--model", model, "--seed", str(seed), "-o", out]
                              + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return np.load(out)

    def test_rosinality_renders_like_direct_file(self):
        rng = np.random.RandomState(40)
        cfg = spec_config(z_dim=12, w_dim=12, clamp=None)
        t = spec_generator(rng, cfg)
        direct = self.path("direct.safetensors")
        write_generator_directly(direct, t, cfg)
        sd = rosinality_from_spec(t, cfg)
        src = write(self.path("ros.pt"), tw.torch_zip_bytes(
            {"g_ema": sd, "latent_avg": t["mapping.w_avg"]}))
        conv = self.path("conv.safetensors")
        run_convert(src, "-o", conv)
        vec = hdn_vectors(rng, cfg)
        dom = self.path("dom.safetensors")
        run_convert(write(self.path("td_d.pt"), hdn_checkpoint(vec)), "-o", dom)
        for seed in (0, 5):
            a = self.render_npy(direct, seed)
            b = self.render_npy(conv, seed)
            self.assertEqual(a.shape, (3, 32, 32))
            self.assertLess(float(np.max(np.abs(a - b))), 1e-4)
            z = np.random.RandomState(seed).randn(12).astype(np.float32)
            ref = reference.spec_forward(t, cfg, z)
            self.assertLess(float(np.max(np.abs(b - ref))), 2e-3)
            d = self.render_npy(conv, seed, "--domain", dom + "=0.7", "--psi", "0.6")
            w = reference.spec_mapping(t, cfg, z)
            w = t["mapping.w_avg"] + 0.6 * (w - t["mapping.w_avg"])
            ref_d = reference.spec_forward(t, cfg, w=w, domain={
                k: 0.7 * v.astype(np.float64) for k, v in vec.items()})
            self.assertLess(float(np.max(np.abs(d - ref_d))), 2e-3)
            self.assertGreater(float(np.max(np.abs(d - b))), 1e-2)

    def test_im2im_renders_like_hyperdomainnet(self):
        """An image-driven domain against HyperDomainNet's inference of it
        (Inferencer: map z, truncate all layers with psi, put the style
        latents in layers 7+, render with the domain as cin_mult offsets),
        written here on the rosinality generator that HyperDomainNet runs."""
        rng = np.random.RandomState(41)
        cfg = spec_config(z_dim=12, w_dim=12, res=64, clamp=None)
        t = spec_generator(rng, cfg)
        sd = rosinality_from_spec(t, cfg)
        src = write(self.path("ros.pt"), tw.torch_zip_bytes(
            {"g_ema": sd, "latent_avg": t["mapping.w_avg"]}))
        conv = self.path("conv.safetensors")
        run_convert(src, "-o", conv)
        vec = hdn_vectors(rng, cfg)
        num_ws = len(vec) + 1                                   # 10 at 64x64
        style = (rng.randn(1, num_ws - 7, 12) * 0.8).astype(np.float32)
        dom = self.path("im2im.safetensors")
        run_convert(write(self.path("im2im_ref.pt"), hdn_checkpoint(vec, "im2im", style=style)),
                    "-o", dom)
        offsets = {k: v for k, v in enumerate(vec.values())}
        avg = np.asarray(t["mapping.w_avg"], np.float64)
        for seed, psi, alpha in ((1, 0.6, 1.0), (6, 1.0, 1.0), (6, 0.8, 0.5)):
            z = np.random.RandomState(seed).randn(12).astype(np.float32)
            w = reference.spec_mapping(t, cfg, z)
            ws = [avg + psi * (w - avg)] * num_ws
            # generator-math §7: w_k + α (S_k - w_k) for k >= 7
            ws = ws[:7] + [ws[k] + alpha * (style[0, k - 7] - ws[k]) for k in range(7, num_ws)]
            ref = reference.rosinality_forward(
                sd, ws=ws, offsets={k: alpha * v for k, v in offsets.items()})
            got = self.render_npy(conv, seed, "--domain", "%s=%g" % (dom, alpha),
                                  "--psi", str(psi))
            self.assertEqual(got.shape, (3, 64, 64))
            err = float(np.max(np.abs(got - ref)))
            self.assertLess(err, 2e-3, "seed %d psi %g weight %g" % (seed, psi, alpha))
            # the latents matter: without them the image is another one
            plain = reference.rosinality_forward(
                sd, ws=[avg + psi * (w - avg)] * num_ws,
                offsets={k: alpha * v for k, v in offsets.items()})
            self.assertGreater(float(np.max(np.abs(plain - ref))), 1e-2)


if __name__ == "__main__":
    unittest.main()
