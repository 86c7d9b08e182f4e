#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Full-size check of the text-domain path (spec/text-domains.md) with a
random ViT-B/32 CLIP: not part of the test suite (it needs PyTorch, about
2.5 GB of memory and 0.8 GB of temporary disk, and takes about 5 minutes
on two cores).

1. Builds, with PyTorch, a CLIP of OpenAI's ViT-B/32 architecture (the
   module and attribute names of clip.model.CLIP, so that the state-dict
   names are OpenAI's) with random weights at the scales of CLIP's
   initialize_parameters (layer norms and biases perturbed so that none is
   trivially 1 or 0), makes float16 what clip.model.convert_weights makes
   float16, traces forward, encode_image and encode_text with
   torch.jit.trace_module and saves the archive with torch.jit.save, as
   OpenAI's ViT-B-32.pt was made.
2. Builds a random HyperDomainNet text mapper of the published kind
   (residual_channelin, shared backbone, relu, width 512, backbone_depth 4,
   head_depth 2, 17 heads for a 1024 config-f generator) with random
   BatchNorm statistics, saved as the dict HyperDomainNet's trainer saves.
3. Converts both with tools/hyperdomain-convert (timed).
4. Encodes prompts of conformance/text/tokens.json with the C engine
   (hyperdomain-bench --encode: the device path and the CPU reference;
   hyperdomain-render --save-domain: the command line) and compares the
   embeddings and domains with PyTorch in float32 on the CPU (the CLIP's
   float16 weights widened, as clip.load(device="cpu") runs it).

Run from the source tree after building:
    /usr/bin/python3 tools/check-vit-b32.py [--build _build] [--keep DIR]
Exit status 0 when every comparison is within the spec's tolerances.
"""

import argparse
import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import clip_model  # noqa: E402
TEXT = os.path.join(ROOT, "tests", "conformance", "text")

EMB_TOL = 1e-4          # max |e - e_ref| (spec §8)
DOM_TOL = 1e-4          # max |d - d_ref| <= DOM_TOL * max(1, max |d_ref|)

# ViT-B/32 (spec §6 table)
EMBED_DIM = 512
CONTEXT = 77
VOCAB = 49408
TEXT_WIDTH, TEXT_HEADS, TEXT_LAYERS = 512, 8, 12
VISION_WIDTH, VISION_LAYERS, PATCH, RESOLUTION = 768, 12, 32, 224

# Prompts of tokens.json (ids from clip.tokenize): short and long,
# non-Latin scripts, emoji, entities, a user-typed EOT, the empty prompt and
# one of exactly 75 tokens.
PROMPT_CASES = ("ascii", "spaces", "curly-quotes", "cyrillic", "cjk", "emoji", "contractions",
                "entities-named", "special-tokens", "empty", "realistic", "exactly-75-tokens")
RENDER_CASES = ("realistic", "exactly-75-tokens")   # also through hyperdomain-render --save-domain


# --------------------------------------------------------------------------
# CLIP (the architecture of clip.model.CLIP for a ViT; attribute names as
# there, so that state_dict() gives OpenAI's names)


def CLIP():
    return clip_model.CLIP(embed_dim=EMBED_DIM, image_resolution=RESOLUTION, patch_size=PATCH,
                           vision_width=VISION_WIDTH, vision_layers=VISION_LAYERS,
                           context_length=CONTEXT, vocab_size=VOCAB, text_width=TEXT_WIDTH,
                           text_layers=TEXT_LAYERS)


def perturb(model, gen):
    """Layer norms and the biases that start at 0 or 1 get small random
    values, as a trained model has, so that a mix-up of weight and bias or
    a missing bias shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith((".ln_1.weight", ".ln_2.weight")) or name.endswith(
                    ("ln_final.weight", "ln_pre.weight", "ln_post.weight")):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=gen))


def half_names(model):
    """Names of the tensors clip.model.convert_weights makes float16:
    weights and biases of convolutions and linear layers, the attention's
    projection weights and biases, text_projection and visual.proj."""
    out = set()
    for mname, m in model.named_modules():
        prefix = mname + "." if mname else ""
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            out.add(prefix + "weight")
            if m.bias is not None:
                out.add(prefix + "bias")
        if isinstance(m, nn.MultiheadAttention):
            for attr in ("in_proj_weight", "q_proj_weight", "k_proj_weight",
                         "v_proj_weight", "in_proj_bias", "bias_k", "bias_v"):
                if getattr(m, attr, None) is not None:
                    out.add(prefix + attr)
        for attr in ("text_projection", "proj"):
            if isinstance(getattr(m, attr, None), torch.Tensor):
                out.add(prefix + attr)
    return out


def build_clip(path, seed):
    """The float32 model (float16-exact where the archive holds float16)
    and the archive written at PATH."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = CLIP()
    perturb(model, gen)
    halves = half_names(model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in halves:
                p.copy_(p.half().float())     # the values the archive holds
    # OpenAI's archive holds these as int64 buffers of the root module.
    for name, value in (("input_resolution", RESOLUTION), ("context_length", CONTEXT),
                        ("vocab_size", VOCAB)):
        if hasattr(model, name):
            delattr(model, name)
        model.register_buffer(name, torch.tensor(value))
    model.eval()

    # Traced in float32 (PyTorch's CPU kernels have no float16 matrix
    # products), from a copy: the traced module shares its parameters with
    # the module traced, and they become float16 afterwards, as in
    # OpenAI's file, while MODEL stays the float32 reference.
    image = torch.randn(1, 3, RESOLUTION, RESOLUTION, generator=gen)
    text = torch.zeros(1, CONTEXT, dtype=torch.long)
    text[0, :4] = torch.tensor([VOCAB - 2, 320, 1125, VOCAB - 1])
    with torch.no_grad():
        traced = torch.jit.trace_module(copy.deepcopy(model), {"forward": (image, text),
                                                "encode_image": (image,),
                                                "encode_text": (text,)})
    n_half = 0
    for name, p in traced.named_parameters():
        if name in halves:
            p.data = p.data.half()
            n_half += 1
    if n_half != len(halves):
        raise SystemExit("internal error: %d of %d tensors made float16" % (n_half, len(halves)))
    torch.jit.save(traced, path)
    return model


# --------------------------------------------------------------------------
# HyperDomainNet's text mapper (residual_channelin, shared backbone): the
# module names of core/mappers.py, so that state_dict() gives its names.


class BNLinRelu(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.lin = nn.Linear(in_features, out_features)
        self.act = nn.ReLU()
        self.bn = nn.BatchNorm1d(in_features)

    def forward(self, x):
        return self.bn(self.act(self.lin(x)))


class DummyResBlock(nn.Module):
    def __init__(self, width, inner=512):
        super().__init__()
        self.input_block = nn.Sequential(nn.Linear(width, inner), nn.BatchNorm1d(inner),
                                         nn.ReLU())
        self.second_block = nn.Sequential(nn.Linear(inner, width), nn.BatchNorm1d(width))
        self.out = nn.ReLU()

    def forward(self, x):
        return self.out(self.second_block(self.input_block(x)) + x)


class SharedBackbone(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.backbone = nn.Sequential(BNLinRelu(width, width),
                                      *[DummyResBlock(width) for _ in range(depth - 1)])

    def forward(self, x):
        return self.backbone(x)


class Mapper(nn.Module):
    def __init__(self, width, backbone_depth, head_depth, cins):
        super().__init__()
        self.backbone = SharedBackbone(width, backbone_depth)
        self.heads = nn.ModuleDict()
        for k, cin in enumerate(cins):
            blocks = [DummyResBlock(width) for _ in range(head_depth - 1)]
            self.heads["conv_%d" % k] = nn.ModuleDict(
                {"in": nn.Sequential(*blocks, nn.Linear(width, cin))})

    def forward(self, e):
        x = self.backbone(e)
        return torch.cat([self.heads["conv_%d" % k]["in"](x) for k in range(len(self.heads))],
                         dim=1)


def standard_cin(resolution, channel_multiplier=2):
    ch = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier,
          128: 128 * channel_multiplier, 256: 64 * channel_multiplier,
          512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    out, r = [ch[4]], 8
    while r <= resolution:
        out += [ch[r // 2], ch[r]]
        r *= 2
    return out


def build_mapper(path, seed, img_size=1024):
    torch.manual_seed(seed + 2)
    gen = torch.Generator().manual_seed(seed + 3)
    config = {"mapper_type": "residual_channelin", "backbone_type": "shared",
              "activation": "relu", "input_dimension": EMBED_DIM, "width": EMBED_DIM,
              "backbone_depth": 4, "head_depth": 2}
    mapper = Mapper(EMBED_DIM, config["backbone_depth"], config["head_depth"],
                    standard_cin(img_size))
    with torch.no_grad():
        for m in mapper.modules():
            if isinstance(m, nn.BatchNorm1d):
                n = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(n, generator=gen))
                m.bias.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                m.num_batches_tracked.fill_(1000)
    mapper.eval()
    ckpt = {"model_type": "mapper", "mapper_config": config, "patch_key": "cin_mult",
            "state_dict": mapper.state_dict(),
            "sg2_params": {"img_size": img_size, "latent_size": 512, "map_layers": 8,
                           "channel_multiplier": 2, "device": "cuda:0",
                           "checkpoint_path": "pretrained/StyleGAN2/stylegan2-ffhq-config-f.pt"},
            "da_type": "td"}
    torch.save(ckpt, path)
    return mapper


# --------------------------------------------------------------------------
# Comparison


def read_npy(path):
    return np.load(path).astype(np.float64)


def read_domain_file(path):
    """{layer: float32 vector} of a domain .safetensors (F32 tensors)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit("%s: %s is %s, not F32" % (path, name, info["dtype"]))
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], "<f4").reshape(info["shape"]).astype(np.float64)
    return out


def run(cmd, env=None):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        raise SystemExit("failed (%d): %s" % (proc.returncode, " ".join(cmd)))
    return proc.stdout, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "_build"),
                    help="the meson build folder (default: _build of the source tree)")
    ap.add_argument("--device", default="auto",
                    help="Vulkan device for the device path: auto (default), cpu or an index")
    ap.add_argument("--keep", metavar="DIR",
                    help="write the files to DIR and keep them (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    bench = os.path.join(args.build, "app", "bench", "hyperdomain-bench")
    render = os.path.join(args.build, "app", "cli", "hyperdomain-render")
    for prog in (bench, render):
        if not os.access(prog, os.X_OK):
            raise SystemExit("%s is missing: build first (meson setup _build && ninja -C _build)"
                             % prog)
    with open(os.path.join(TEXT, "tokens.json")) as f:
        tokens = {c["name"]: c for c in json.load(f)["cases"]}
    cases = [tokens[n] for n in PROMPT_CASES]

    tmp = args.keep or tempfile.mkdtemp(prefix="hd-vit-b32-")
    os.makedirs(tmp, exist_ok=True)
    try:
        return check(args, bench, render, cases, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def check(args, bench, render, cases, tmp):
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    clip_path = os.path.join(tmp, "ViT-B-32.pt")
    mapper_path = os.path.join(tmp, "mapper_vit_b32_td.pt")
    out_path = os.path.join(tmp, "vit-b32-text.safetensors")

    t0 = time.monotonic()
    model = build_clip(clip_path, args.seed)
    mapper = build_mapper(mapper_path, args.seed)
    print("built the random CLIP (%.0f MB) and mapper (%.0f MB) in %.0f s"
          % (os.path.getsize(clip_path) / 1e6, os.path.getsize(mapper_path) / 1e6,
             time.monotonic() - t0))

    merges = os.path.join(TEXT, "bpe_simple_vocab_16e6.txt.gz")
    out, seconds = run([sys.executable, os.path.join(HERE, "hyperdomain-convert"), mapper_path,
                        "--clip", clip_path, "--bpe", merges, "-o", out_path])
    sys.stdout.write("".join("  " + line + "\n" for line in out.splitlines()))
    print("converted in %.1f s: %s, %.1f MB" % (seconds, os.path.basename(out_path),
                                                 os.path.getsize(out_path) / 1e6))

    # float32 (and float64) PyTorch reference from the official token ids
    expected = []
    with torch.no_grad():
        for c in cases:
            ids = torch.zeros(1, CONTEXT, dtype=torch.long)
            ids[0, :len(c["tokens"])] = torch.tensor(c["tokens"])
            y = model.encode_text(ids).float()
            e = y / y.norm(dim=1, keepdim=True)
            d = mapper(e)
            expected.append((c, e[0].numpy().astype(np.float64), d[0].numpy().astype(np.float64)))
        model64 = model.double()
        mapper64 = mapper.double()
        f64_e = f64_d = 0.0
        for c, e32, d32 in expected:
            ids = torch.zeros(1, CONTEXT, dtype=torch.long)
            ids[0, :len(c["tokens"])] = torch.tensor(c["tokens"])
            y = model64.encode_text(ids)
            e = y / y.norm(dim=1, keepdim=True)
            d = mapper64(e)
            f64_e = max(f64_e, np.abs(e[0].numpy() - e32).max())
            f64_d = max(f64_d, np.abs(d[0].numpy() - d32).max() / max(1.0, np.abs(d32).max()))
    print("PyTorch float32 against float64: embedding %.2e, domain %.2e (relative)"
          % (f64_e, f64_d))

    # the engine: device path and CPU reference
    enc_dir = os.path.join(tmp, "encoded")
    cmd = [bench, "--device", args.device, "--encode", out_path, "--encode-dir", enc_dir]
    for c in cases:
        cmd += ["--prompt", c["prompt"]]
    out, seconds = run(cmd)
    sys.stdout.write("".join("  " + line + "\n" for line in out.splitlines()))
    ok = True
    worst = {k: 0.0 for k in ("gpu-e", "gpu-d", "ref-e", "ref-d")}
    for i, (c, e_ref, d_ref) in enumerate(expected):
        ids = read_npy(os.path.join(enc_dir, "%d-ids.npy" % i)).astype(np.int64).tolist()
        if ids != c["tokens"]:
            print("FAIL %s: token ids %s, expected %s" % (c["name"], ids, c["tokens"]))
            ok = False
            continue
        scale = max(1.0, np.abs(d_ref).max())
        line = []
        for path in ("gpu", "ref"):
            e = read_npy(os.path.join(enc_dir, "%d-%s-e.npy" % (i, path)))
            d = read_npy(os.path.join(enc_dir, "%d-%s-d.npy" % (i, path)))
            err_e = np.abs(e - e_ref).max()
            err_d = np.abs(d - d_ref).max() / scale
            worst[path + "-e"] = max(worst[path + "-e"], err_e)
            worst[path + "-d"] = max(worst[path + "-d"], err_d)
            good = err_e <= EMB_TOL and err_d <= DOM_TOL
            ok = ok and good
            line.append("%s e %.2e d %.2e%s" % ("device" if path == "gpu" else "CPU ref",
                                                 err_e, err_d, "" if good else " FAIL"))
        print("%-12s %2d tokens, max|d| %.2f: %s" % (c["name"], len(ids), np.abs(d_ref).max(),
                                                     "; ".join(line)))

    # the command line: hyperdomain-render --save-domain
    layers = [("synthesis.b4.conv1", 0)]
    r = 8
    while len(layers) < 17:
        layers += [("synthesis.b%d.conv0" % r, 0), ("synthesis.b%d.conv1" % r, 0)]
        r *= 2
    cins = standard_cin(1024)
    worst_cli = 0.0
    for name in RENDER_CASES:
        i = [c["name"] for c, _, _ in expected].index(name)
        c, _, d_ref = expected[i]
        dom = os.path.join(tmp, "d-%s.safetensors" % name)
        _, seconds = run([render, "--device", args.device, "--hypernetwork", out_path,
                          "--text", c["prompt"], "--save-domain", dom])
        got = read_domain_file(dom)
        at, err = 0, 0.0
        for (layer, _), cin in zip(layers, cins):
            err = max(err, np.abs(got[layer].reshape(-1) - d_ref[at:at + cin]).max())
            at += cin
        err /= max(1.0, np.abs(d_ref).max())
        worst_cli = max(worst_cli, err)
        good = err <= DOM_TOL and set(got) == {l for l, _ in layers}
        ok = ok and good
        print("hyperdomain-render --save-domain %-8s: domain %.2e in %.1f s%s"
              % (name, err, seconds, "" if good else " FAIL"))

    print("worst: device embedding %.2e, domain %.2e; CPU reference embedding %.2e, domain %.2e; "
          "hyperdomain-render domain %.2e (tolerances %.0e, %.0e relative)"
          % (worst["gpu-e"], worst["gpu-d"], worst["ref-e"], worst["ref-d"], worst_cli,
             EMB_TOL, DOM_TOL))
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
