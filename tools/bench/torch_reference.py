#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The forward pass of spec/generator-math.md in PyTorch, written the way
NVlabs StyleGAN2 code computes it (grouped convolution for the modulated
conv, conv_transpose2d followed by an FIR filter for up-sampling), for
timing against hyperdomain-render on the same machine and for checking
both against the conformance fixtures.

  torch_reference.py GEN.safetensors [--seed S] [--domain D.safetensors=W]...
                     [--psi F] [--cutoff N] [--noise const|none]
                     [-o out.npy] [--bench N] [--threads T] [--up transpose|fold]
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = blob[base + b:base + end]
        if e["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[e["dtype"]])
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(e["shape"]).copy())
    return tensors, meta


def fir_kernel():
    """The 4x4 [1,3,3,1] FIR of the 2x upsampling, with gain 4."""
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    return (f[:, None] * f[None, :]) / 16.0


def blur_up(y, kernel):
    """The FIR after the transposed conv: pad 1 on each side, 4x4 depthwise,
    so that the result is 2H."""
    c = y.shape[1]
    y = F.pad(y, [1, 1, 1, 1])
    return F.conv2d(y, kernel.reshape(1, 1, 4, 4).expand(c, 1, 4, 4), groups=c)


def upsample_img(img, kernel):
    """upsample2d of the skip images: zero-stuff, pad (2,1), the 4x4 FIR."""
    n, c, h, w = img.shape
    y = img.new_zeros(n, c, h * 2, w * 2)
    y[:, :, ::2, ::2] = img
    y = F.pad(y, [2, 1, 2, 1])
    return F.conv2d(y, kernel.reshape(1, 1, 4, 4).expand(c, 1, 4, 4), groups=c)


def transposed_conv_s2(x, weight):
    """F.conv_transpose2d(x, weight.transpose(0, 1), stride=2) for a 3x3
    weight [out, in, 3, 3]: the same sums as a 1x1 conv to the 9 taps of each
    output channel and a stride-2 fold (col2im). PyTorch's CPU
    conv_transpose2d takes a slow path, about 8x slower forward and backward
    than this for the layers of the small generators."""
    n, cin, h, w = x.shape
    cout = weight.shape[0]
    taps = weight.reshape(cout, cin, 9).permute(0, 2, 1).reshape(cout * 9, cin, 1, 1)
    y = F.conv2d(x, taps).reshape(n, cout * 9, h * w)
    return F.fold(y, (2 * h + 1, 2 * w + 1), 3, stride=2)


def randn_numpy_legacy(seed, n):
    return np.random.RandomState(seed).randn(n)


class Generator:
    def __init__(self, path, up_fold=False, device="cpu"):
        self.up_fold = up_fold
        self.t, meta = read_safetensors(path)
        self.t = {k: v.to(device) for k, v in self.t.items()}
        cfg = json.loads(meta["hyperdomain.config"])
        self.z_dim = cfg["z_dim"]
        self.w_dim = cfg["w_dim"]
        self.res = cfg["img_resolution"]
        m = cfg.get("mapping", {})
        self.n_map = m.get("num_layers", 8)
        self.lr = m.get("lr_multiplier", 0.01)
        self.clamp = cfg.get("synthesis", {}).get("conv_clamp")
        self.log2 = int(math.log2(self.res))
        self.num_ws = 2 * self.log2 - 2
        self.fir = fir_kernel().to(device)

    def mapping(self, z, psi=1.0, cutoff=None):
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.n_map):
            w = self.t[f"mapping.fc{i}.weight"] * (self.lr / math.sqrt(self.t[f"mapping.fc{i}.weight"].shape[1]))
            b = self.t[f"mapping.fc{i}.bias"] * self.lr
            x = F.leaky_relu(torch.addmm(b.unsqueeze(0), x, w.t()), 0.2) * math.sqrt(2)
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            avg = self.t["mapping.w_avg"]
            cut = self.num_ws if cutoff is None else cutoff
            ws[:, :cut] = avg.lerp(ws[:, :cut], psi)
        return ws

    def style(self, prefix, w):
        a = self.t[prefix + ".affine.weight"]
        return F.linear(w, a * (1.0 / math.sqrt(self.w_dim)), self.t[prefix + ".affine.bias"])

    def modconv(self, prefix, x, w, d, up, noise_mode):
        weight = self.t[prefix + ".weight"]
        s = self.style(prefix, w)  # [1, Cin]
        wt = weight.unsqueeze(0) * s.reshape(1, 1, -1, 1, 1)
        dcoef = (wt.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
        wt = wt * dcoef.reshape(1, -1, 1, 1, 1)
        if d is not None:
            wt = wt * (1.0 + d).reshape(1, 1, -1, 1, 1)
        wt = wt.reshape(-1, *weight.shape[1:])
        if up:
            if self.up_fold:
                y = transposed_conv_s2(x, wt)
            else:
                # Transposed conv, stride 2, no flip: conv_transpose2d takes
                # the weight as [in, out, kh, kw] ...
                y = F.conv_transpose2d(x, wt.transpose(0, 1), stride=2)
            # ... then the FIR.
            y = blur_up(y, self.fir)
        else:
            y = F.conv2d(x, wt, padding=1)
        if noise_mode == "const":
            y = y + self.t[prefix + ".noise_const"] * self.t[prefix + ".noise_strength"]
        y = F.leaky_relu(y + self.t[prefix + ".bias"].reshape(1, -1, 1, 1), 0.2) * math.sqrt(2)
        if self.clamp is not None:
            y = y.clamp(-self.clamp, self.clamp)
        return y

    def torgb(self, prefix, x, w):
        weight = self.t[prefix + ".weight"]
        s = self.style(prefix, w) * (1.0 / math.sqrt(weight.shape[1]))
        y = F.conv2d(x, weight * s.reshape(1, -1, 1, 1))
        y = y + self.t[prefix + ".bias"].reshape(1, -1, 1, 1)
        if self.clamp is not None:
            y = y.clamp(-self.clamp, self.clamp)
        return y

    def synthesis(self, ws, domain, noise_mode):
        x = self.t["synthesis.b4.const"].unsqueeze(0)
        x = self.modconv("synthesis.b4.conv1", x, ws[:, 0], domain.get("synthesis.b4.conv1"), False, noise_mode)
        img = self.torgb("synthesis.b4.torgb", x, ws[:, 1])
        for k in range(1, self.log2 - 1):
            r = 2 ** (k + 2)
            p = f"synthesis.b{r}"
            x = self.modconv(p + ".conv0", x, ws[:, 2 * k - 1], domain.get(p + ".conv0"), True, noise_mode)
            x = self.modconv(p + ".conv1", x, ws[:, 2 * k], domain.get(p + ".conv1"), False, noise_mode)
            img = upsample_img(img, self.fir) + self.torgb(p + ".torgb", x, ws[:, 2 * k + 1])
        return img


def load_domains(specs):
    blend = {}
    for spec in specs:
        path, _, weight = spec.rpartition("=")
        try:
            weight = float(weight)
        except ValueError:
            path, weight = spec, 1.0
        tensors, _ = read_safetensors(path)
        for name, v in tensors.items():
            blend[name] = blend.get(name, 0) + weight * v
    return blend


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--cutoff", type=int, default=None)
    ap.add_argument("--noise", default="const", choices=["const", "none"])
    ap.add_argument("--domain", action="append", default=[])
    ap.add_argument("-o", "--output")
    ap.add_argument("--bench", type=int, default=0, help="time N frames after one warm-up and print the median")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu",
                    help="torch device: cpu (default) or cuda (timed with synchronisation)")
    ap.add_argument("--up", default="transpose", choices=["transpose", "fold"],
                    help="up-sampling conv: conv_transpose2d as NVlabs code does (default), or the "
                         "same sums as a 1x1 conv and a fold, which avoids PyTorch's slow CPU "
                         "conv_transpose2d")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    g = Generator(args.model, up_fold=args.up == "fold", device=args.device)
    domain = {k: v.to(args.device) for k, v in load_domains(args.domain).items()}
    z = torch.from_numpy(randn_numpy_legacy(args.seed, g.z_dim).astype(np.float32)).unsqueeze(0)
    z = z.to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    with torch.no_grad():
        ws = g.mapping(z, args.psi, args.cutoff)
        img = g.synthesis(ws, domain, args.noise)
        if args.output:
            np.save(args.output, img[0].cpu().numpy().astype("<f4"))
        if args.bench:
            times = []
            for _ in range(args.bench):
                sync()
                t0 = time.perf_counter()
                g.synthesis(g.mapping(z, args.psi, args.cutoff), domain, args.noise)
                sync()
                times.append((time.perf_counter() - t0) * 1000.0)
            times.sort()
            print(f"pytorch {torch.__version__} device={args.device} threads={args.threads} up={args.up} frames={args.bench} "
                  f"median_ms={times[len(times) // 2]:.2f} min_ms={times[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
