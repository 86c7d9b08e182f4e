# SPDX-License-Identifier: GPL-3.0-or-later
"""A small StyleGAN2 ('skip' generator, residual discriminator) whose
generator has exactly the tensor layout of spec formats.md §1 and the
forward pass of spec generator-math.md, so that a trained G_ema exports
straight to a Hyperdomain generator file.

Training-time forward pass, per sample n and conv layer:
  s = w_n · (A / sqrt(w_dim))ᵀ + a                   (style, length C_in)
  dcoef_o = rsqrt(Σ_{i,k} (W[o,i,k] s_i)² + 1e-8)     (domain not included)
  y = dcoef ⊙ conv(x ⊙ s ⊙ (1 + d), W)               (= conv with W' of §4)
which is the same linear map as the per-sample weight W·s·dcoef·(1+d), in
a batched form. conv0 is the stride-2 transposed conv followed by the
[1,3,3,1] FIR (gain 4), as in §4.5.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_reference import blur_up, fir_kernel, transposed_conv_s2, upsample_img  # noqa: E402

SQRT2 = math.sqrt(2.0)


def normalize_2nd_moment(z):
    return z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


class EqLinear(nn.Module):
    """Linear layer with the runtime weight scale lr/sqrt(in) and bias scale lr."""

    def __init__(self, inf, outf, lr=1.0, bias_init=0.0, act=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(outf, inf) / lr)
        self.bias = nn.Parameter(torch.full([outf], float(bias_init)))
        self.wg = lr / math.sqrt(inf)
        self.bg = lr
        self.act = act

    def forward(self, x):
        x = torch.addmm((self.bias * self.bg).unsqueeze(0), x, (self.weight * self.wg).t())
        if self.act:
            x = F.leaky_relu(x, 0.2) * SQRT2
        return x


class Mapping(nn.Module):
    def __init__(self, z_dim, w_dim, num_layers, lr=0.01, w_avg_beta=0.995):
        super().__init__()
        self.num_layers = num_layers
        for i in range(num_layers):
            setattr(self, f"fc{i}", EqLinear(z_dim if i == 0 else w_dim, w_dim, lr=lr, act=True))
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.w_avg_beta = w_avg_beta

    def forward(self, z, update_w_avg=False):
        x = normalize_2nd_moment(z)
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return x


class ModConv(nn.Module):
    """A synthesis conv (conv0 when up, else conv1) with noise, bias, lrelu."""

    def __init__(self, cin, cout, w_dim, res, up, conv_clamp=None):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(res, res))
        self.register_buffer("fir", fir_kernel(), persistent=False)
        self.up = up
        self.res = res
        self.conv_clamp = conv_clamp

    def forward(self, x, w, d=None, noise_mode="random"):
        s = self.affine(w)                                   # [N, Cin]
        w2 = self.weight.square().sum(dim=[2, 3])            # [Cout, Cin]
        dcoef = (s.square() @ w2.t() + 1e-8).rsqrt()         # [N, Cout]
        scale = s if d is None else s * (1.0 + d).unsqueeze(0)
        x = x * scale[:, :, None, None]
        if self.up:
            y = transposed_conv_s2(x, self.weight) * dcoef[:, :, None, None]
            y = blur_up(y, self.fir)
        else:
            y = F.conv2d(x, self.weight, padding=1) * dcoef[:, :, None, None]
        if noise_mode == "random":
            y = y + torch.randn(y.shape[0], 1, self.res, self.res, device=y.device) * self.noise_strength
        elif noise_mode == "const":
            y = y + self.noise_const * self.noise_strength
        y = F.leaky_relu(y + self.bias.reshape(1, -1, 1, 1), 0.2) * SQRT2
        if self.conv_clamp is not None:
            y = y.clamp(-self.conv_clamp, self.conv_clamp)
        return y


class ToRGB(nn.Module):
    def __init__(self, cin, w_dim, img_channels=3, conv_clamp=None):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(img_channels, cin, 1, 1))
        self.bias = nn.Parameter(torch.zeros(img_channels))
        self.gain = 1.0 / math.sqrt(cin)
        self.conv_clamp = conv_clamp

    def forward(self, x, w):
        s = self.affine(w) * self.gain
        y = F.conv2d(x * s[:, :, None, None], self.weight) + self.bias.reshape(1, -1, 1, 1)
        if self.conv_clamp is not None:
            y = y.clamp(-self.conv_clamp, self.conv_clamp)
        return y


class Block(nn.Module):
    def __init__(self, cin, cout, w_dim, res, img_channels, conv_clamp):
        super().__init__()
        self.res = res
        if res == 4:
            self.const = nn.Parameter(torch.randn(cout, 4, 4))
        else:
            self.conv0 = ModConv(cin, cout, w_dim, res, True, conv_clamp)
        self.conv1 = ModConv(cout, cout, w_dim, res, False, conv_clamp)
        self.torgb = ToRGB(cout, w_dim, img_channels, conv_clamp)


class Synthesis(nn.Module):
    def __init__(self, w_dim, res, img_channels, channel_base, channel_max, conv_clamp):
        super().__init__()
        self.res = res
        self.log2 = int(math.log2(res))
        self.num_ws = 2 * self.log2 - 2
        ch = lambda r: min(channel_base // r, channel_max)
        self.ch = ch
        for k in range(2, self.log2 + 1):
            r = 2 ** k
            setattr(self, f"b{r}", Block(ch(r // 2) if r > 4 else 0, ch(r), w_dim, r, img_channels, conv_clamp))
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def conv_names(self):
        """(layer name, C_in) of every synthesis conv, in forward order: the domain layers."""
        out = [("synthesis.b4.conv1", self.ch(4))]
        for k in range(3, self.log2 + 1):
            r = 2 ** k
            out += [(f"synthesis.b{r}.conv0", self.ch(r // 2)), (f"synthesis.b{r}.conv1", self.ch(r))]
        return out

    def forward(self, ws, domain=None, noise_mode="random"):
        domain = domain or {}
        b4 = self.b4
        x = b4.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        x = b4.conv1(x, ws[:, 0], domain.get("synthesis.b4.conv1"), noise_mode)
        img = b4.torgb(x, ws[:, 1])
        for k in range(1, self.log2 - 1):
            r = 2 ** (k + 2)
            b = getattr(self, f"b{r}")
            p = f"synthesis.b{r}"
            x = b.conv0(x, ws[:, 2 * k - 1], domain.get(p + ".conv0"), noise_mode)
            x = b.conv1(x, ws[:, 2 * k], domain.get(p + ".conv1"), noise_mode)
            img = upsample_img(img, self.fir) + b.torgb(x, ws[:, 2 * k + 1])
        return img


class Generator(nn.Module):
    def __init__(self, z_dim=128, w_dim=128, img_resolution=64, img_channels=3, map_layers=4,
                 map_lr=0.01, channel_base=2048, channel_max=128, conv_clamp=None):
        super().__init__()
        self.config = {
            "z_dim": z_dim, "w_dim": w_dim, "c_dim": 0, "img_resolution": img_resolution,
            "img_channels": img_channels,
            "mapping": {"num_layers": map_layers, "lr_multiplier": map_lr},
            "synthesis": {"channel_base": channel_base, "channel_max": channel_max,
                          "conv_clamp": conv_clamp, "architecture": "skip"},
        }
        self.z_dim = z_dim
        self.mapping = Mapping(z_dim, w_dim, map_layers, map_lr)
        self.synthesis = Synthesis(w_dim, img_resolution, img_channels, channel_base, channel_max, conv_clamp)
        self.num_ws = self.synthesis.num_ws

    def ws(self, z, mix_prob=0.0, update_w_avg=False, psi=1.0):
        w = self.mapping(z, update_w_avg)
        if psi != 1.0:
            w = self.mapping.w_avg.lerp(w, psi)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if mix_prob > 0 and torch.rand([]) < mix_prob:
            w2 = self.mapping(torch.randn_like(z))
            cut = int(torch.randint(1, self.num_ws, []))
            ws[:, cut:] = w2.unsqueeze(1)
        return ws

    def forward(self, z, domain=None, noise_mode="random", mix_prob=0.0, update_w_avg=False, psi=1.0):
        return self.synthesis(self.ws(z, mix_prob, update_w_avg, psi), domain, noise_mode)


# ---------------------------------------------------------------- discriminator

class EqConv(nn.Module):
    def __init__(self, cin, cout, k, bias=True, act=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.gain = 1.0 / math.sqrt(cin * k * k)
        self.pad = k // 2
        self.act = act

    def forward(self, x):
        x = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.act else x


class DBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv0 = EqConv(cin, cin, 3)
        self.conv1 = EqConv(cin, cout, 3)
        self.skip = EqConv(cin, cout, 1, bias=False, act=False)

    def forward(self, x):
        y = self.skip(F.avg_pool2d(x, 2))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2))  # conv1 at the lower resolution
        return (x + y) * math.sqrt(0.5)


class Discriminator(nn.Module):
    """Residual discriminator: fromRGB, blocks down to 4x4, minibatch stddev, two FC layers."""

    def __init__(self, img_resolution=64, img_channels=3, channel_base=2048, channel_max=128, mbstd_group=4):
        super().__init__()
        ch = lambda r: min(channel_base // r, channel_max)
        log2 = int(math.log2(img_resolution))
        self.fromrgb = EqConv(img_channels, ch(img_resolution), 1)
        self.blocks = nn.ModuleList([DBlock(ch(2 ** k), ch(2 ** (k - 1))) for k in range(log2, 2, -1)])
        c4 = ch(4)
        self.mbstd_group = mbstd_group
        self.conv = EqConv(c4 + 1, c4, 3)
        self.fc = EqLinear(c4 * 16, c4, act=True)
        self.out = EqLinear(c4, 1)

    def features(self, img):
        x = self.fromrgb(img)
        for b in self.blocks:
            x = b(x)
        n, c, h, w = x.shape
        g = min(self.mbstd_group, n)
        while n % g:
            g -= 1
        y = x.reshape(g, -1, c, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt().mean(dim=[1, 2, 3])
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        x = self.conv(torch.cat([x, y], dim=1))
        return self.fc(x.flatten(1))

    def forward(self, img):
        return self.out(self.features(img))


# ---------------------------------------------------------------- augmentation

def augment(x, policy="color,translation,cutout"):
    """Differentiable augmentation applied to every image D sees (real and
    generated alike): random brightness/saturation/contrast, a translation
    of up to 1/8 of the size with white fill, and one square cutout of half
    the size, each drawn independently per image."""
    if not policy:
        return x
    n, c, h, w = x.shape
    dev = x.device
    if "color" in policy:
        x = x + (torch.rand(n, 1, 1, 1, device=dev) - 0.5)
        m = x.mean(dim=1, keepdim=True)
        x = (x - m) * (torch.rand(n, 1, 1, 1, device=dev) * 2) + m
        m = x.mean(dim=[1, 2, 3], keepdim=True)
        x = (x - m) * (torch.rand(n, 1, 1, 1, device=dev) + 0.5) + m
    if "translation" in policy:
        sh, sw = h // 8, w // 8
        ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=dev)
        tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=dev)
        gy = torch.arange(h, device=dev).reshape(1, h, 1) - ty
        gx = torch.arange(w, device=dev).reshape(1, 1, w) - tx
        inside = ((gy >= 0) & (gy < h) & (gx >= 0) & (gx < w)).unsqueeze(1)
        gy = gy.clamp(0, h - 1).expand(n, h, w)
        gx = gx.clamp(0, w - 1).expand(n, h, w)
        idx = (gy * w + gx).reshape(n, 1, h * w).expand(n, c, h * w)
        x = torch.gather(x.reshape(n, c, h * w), 2, idx).reshape(n, c, h, w)
        x = torch.where(inside, x, torch.ones_like(x))
    if "cutout" in policy:
        ch_, cw = h // 2, w // 2
        cy = torch.randint(0, h, (n, 1, 1), device=dev)
        cx = torch.randint(0, w, (n, 1, 1), device=dev)
        yy = torch.arange(h, device=dev).reshape(1, h, 1)
        xx = torch.arange(w, device=dev).reshape(1, 1, w)
        hole = ((yy - cy).abs() * 2 < ch_) & ((xx - cx).abs() * 2 < cw)
        x = x * (~hole).unsqueeze(1).to(x.dtype)
    return x


# ---------------------------------------------------------------- files

def write_safetensors(path, tensors, metadata, dtype="F16"):
    """Write tensors (name -> torch/np array) as safetensors, atomically."""
    np_dtype = {"F16": np.float16, "F32": np.float32}[dtype]
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        a = (t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)).astype(np_dtype)
        a = np.array(a, dtype=np.dtype(np_dtype).newbyteorder("<"), order="C")
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def export_generator(G, path, name, description="", license_="", source=""):
    tensors = {k: v for k, v in G.state_dict().items()}
    meta = {
        "hyperdomain.kind": "generator",
        "hyperdomain.version": "1",
        "hyperdomain.config": json.dumps(G.config, separators=(",", ":")),
        "hyperdomain.name": name,
    }
    if description:
        meta["hyperdomain.description"] = description
    if license_:
        meta["hyperdomain.license"] = license_
    if source:
        meta["hyperdomain.source"] = source
    write_safetensors(path, tensors, meta, "F16")


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)
