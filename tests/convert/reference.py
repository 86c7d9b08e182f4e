# SPDX-License-Identifier: GPL-3.0-or-later
"""Two independent NumPy forward passes of a StyleGAN2 generator, for the
converter's tests:

* spec_forward: the NVlabs parameterization, written from
  spec/generator-math.md (modulated conv, transposed conv + [1,3,3,1] blur,
  skip up-sampling by the per-axis 0.25/0.75 formula, domain modulation).
* rosinality_forward: rosinality's parameterization (EqualLinear scales and
  lr_mul, the runtime 1/sqrt(fan_in) of ModulatedConv2d, upfirdn2d with the
  stored blur kernels), written from that layout's definitions.

Both run in float64 so that the comparison measures the conversion, not
rounding."""

import math

import numpy as np

SQRT2 = math.sqrt(2.0)


def lrelu(x):
    return np.where(x >= 0, x, 0.2 * x)


# ---------------------------------------------------------------- common ops

def conv3x3_same(x, w):
    """Correlation with zero padding 1. x [I,H,W], w [O,I,3,3]."""
    _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    y = np.zeros((w.shape[0], h, wd))
    for ky in range(3):
        for kx in range(3):
            y += np.einsum("oi,ihw->ohw", w[:, :, ky, kx], xp[:, ky:ky + h, kx:kx + wd])
    return y


def conv_transpose_s2(x, w):
    """Transposed conv, stride 2, no padding, no flip. x [I,H,W],
    w [O,I,k,k] -> [O, 2H+k-2, 2W+k-2]."""
    _, h, wd = x.shape
    k = w.shape[2]
    t = np.zeros((w.shape[0], 2 * h + k - 2, 2 * wd + k - 2))
    for ky in range(k):
        for kx in range(k):
            t[:, ky:ky + 2 * h:2, kx:kx + 2 * wd:2] += np.einsum("oi,ihw->ohw",
                                                               w[:, :, ky, kx], x)
    return t


# ---------------------------------------------------------------- spec forward

K4 = np.array([1.0, 3.0, 3.0, 1.0])


def spec_blur(t):
    """y[P,Q] = sum_{a,b} T[P+a-1, Q+b-1] k_a k_b / 16, size = len(T) - 1."""
    c, h, w = t.shape
    tp = np.pad(t, ((0, 0), (1, 1), (1, 1)))
    y = np.zeros((c, h - 1, w - 1))
    for a in range(4):
        for b in range(4):
            y += tp[:, a:a + h - 1, b:b + w - 1] * (K4[a] * K4[b] / 16.0)
    return y


def spec_upsample(img):
    def axis_up(x, axis):
        x = np.moveaxis(x, axis, -1)
        n = x.shape[-1]
        pad = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 1)])
        out = np.zeros(x.shape[:-1] + (2 * n,))
        out[..., 0::2] = 0.25 * pad[..., 0:n] + 0.75 * pad[..., 1:n + 1]
        out[..., 1::2] = 0.75 * pad[..., 1:n + 1] + 0.25 * pad[..., 2:n + 2]
        return np.moveaxis(out, -1, axis)
    return axis_up(axis_up(img, 1), 2)


def spec_mapping(t, cfg, z):
    lr = cfg["mapping"]["lr_multiplier"]
    x = np.asarray(z, np.float64)
    x = x / np.sqrt(np.mean(x * x) + 1e-8)
    for i in range(cfg["mapping"]["num_layers"]):
        wt = t["mapping.fc%d.weight" % i].astype(np.float64)
        g = lr / math.sqrt(wt.shape[1])
        x = lrelu(x @ (wt * g).T + t["mapping.fc%d.bias" % i] * lr) * SQRT2
    return x


def spec_forward(t, cfg, z=None, w=None, domain=None, noise=True):
    """T: dict name -> array (a generator file's tensors); CFG: its config
    dict.  DOMAIN: dict layer name -> d vector."""
    t = {k: np.asarray(v, np.float64) for k, v in t.items()}
    res = cfg["img_resolution"]
    w_dim = cfg["w_dim"]
    clamp = cfg["synthesis"]["conv_clamp"]
    if w is None:
        w = spec_mapping(t, cfg, z)
    domain = domain or {}

    def styles(prefix, wv):
        return wv @ (t[prefix + ".affine.weight"] / math.sqrt(w_dim)).T \
            + t[prefix + ".affine.bias"]

    def layer(x, name, wv, up):
        W = t[name + ".weight"]
        s = styles(name, wv)
        dco = 1.0 / np.sqrt(np.sum((W * s[None, :, None, None]) ** 2, axis=(1, 2, 3)) + 1e-8)
        d = domain.get(name)
        m = s * (1.0 + (np.asarray(d, np.float64) if d is not None else 0.0))
        weff = W * m[None, :, None, None] * dco[:, None, None, None]
        y = spec_blur(conv_transpose_s2(x, weff)) if up else conv3x3_same(x, weff)
        if noise:
            y = y + t[name + ".noise_const"][None] * t[name + ".noise_strength"]
        y = lrelu(y + t[name + ".bias"][:, None, None]) * SQRT2
        if clamp is not None:
            y = np.clip(y, -clamp, clamp)
        return y

    def torgb(x, name, wv):
        s = styles(name, wv) / math.sqrt(x.shape[0])
        wr = t[name + ".weight"][:, :, 0, 0] * s[None, :]
        y = np.einsum("oi,ihw->ohw", wr, x) + t[name + ".bias"][:, None, None]
        if clamp is not None:
            y = np.clip(y, -clamp, clamp)
        return y

    x = t["synthesis.b4.const"]
    x = layer(x, "synthesis.b4.conv1", w, False)
    img = torgb(x, "synthesis.b4.torgb", w)
    r = 8
    while r <= res:
        b = "synthesis.b%d" % r
        x = layer(x, b + ".conv0", w, True)
        x = layer(x, b + ".conv1", w, False)
        img = spec_upsample(img) + torgb(x, b + ".torgb", w)
        r *= 2
    return img


# ---------------------------------------------------------------- rosinality

def upfirdn2d(x, kernel, up=1, pad=(0, 0)):
    """Zero-insertion up-sampling by UP, padding PAD = (before, after) on both
    axes, then convolution with KERNEL (correlation with the flipped
    kernel).  x [C,H,W]."""
    c, h, w = x.shape
    if up > 1:
        u = np.zeros((c, h * up, w * up))
        u[:, ::up, ::up] = x
        x = u
    p0, p1 = pad
    x = np.pad(x, ((0, 0), (p0, p1), (p0, p1)))
    kf = np.asarray(kernel, np.float64)[::-1, ::-1]
    kh, kw = kf.shape
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    y = np.zeros((c, oh, ow))
    for a in range(kh):
        for b in range(kw):
            y += x[:, a:a + oh, b:b + ow] * kf[a, b]
    return y


def rosinality_forward(sd, z=None, lr_mlp=0.01, w=None, ws=None, offsets=None):
    """SD: a rosinality generator state dict (name -> array).  WS: a W+
    latent (one w per layer, in rosinality's order: conv1, to_rgb1, then
    per block its two convs, its to_rgb reads the next).  OFFSETS: the
    HyperDomainNet 'cin_mult' domain, {k: d_k} for conv_k (conv1, then
    the convs in order): the demodulated weight times (1 + d_k) per input
    channel."""
    sd = {k: np.asarray(v, np.float64) for k, v in sd.items()}
    if ws is not None:
        ws = [np.asarray(v, np.float64) for v in ws]
    elif w is None:
        x = np.asarray(z, np.float64)
        x = x * (1.0 / np.sqrt(np.mean(x ** 2) + 1e-8))          # PixelNorm
        i = 1
        while "style.%d.weight" % i in sd:                       # EqualLinear
            wt, b = sd["style.%d.weight" % i], sd["style.%d.bias" % i]
            scale = (1 / math.sqrt(wt.shape[1])) * lr_mlp
            out = x @ (wt * scale).T
            x = lrelu(out + b * lr_mlp) * SQRT2                  # fused_leaky_relu
            i += 1
        w = x
    if ws is None:
        ws = [w] * 64

    def modulation(prefix, wv):
        a, ab = sd[prefix + ".modulation.weight"], sd[prefix + ".modulation.bias"]
        return wv @ (a * (1 / math.sqrt(a.shape[1]))).T + ab * 1.0

    def modconv(x, prefix, wv, demodulate, upsample, offset=None):
        weight = sd[prefix + ".weight"]                          # [1, O, I, k, k]
        _, o, i, k, _ = weight.shape
        scale = 1 / math.sqrt(i * k * k)
        style = modulation(prefix, wv).reshape(1, 1, i, 1, 1)
        weight = scale * weight * style
        if demodulate:
            demod = 1.0 / np.sqrt(np.sum(weight ** 2, axis=(2, 3, 4)) + 1e-8)
            weight = weight * demod.reshape(1, o, 1, 1, 1)
        if offset is not None:
            weight = weight * (1.0 + np.asarray(offset, np.float64)).reshape(1, 1, i, 1, 1)
        weight = weight[0]
        if upsample:
            out = conv_transpose_s2(x, weight)
            return upfirdn2d(out, sd[prefix + ".blur.kernel"], pad=(1, 1))
        if k == 1:
            return np.einsum("oi,ihw->ohw", weight[:, :, 0, 0], x)
        return conv3x3_same(x, weight)

    def styled_conv(x, prefix, wv, noise, upsample, conv_index):
        offset = offsets.get(conv_index) if offsets else None
        out = modconv(x, prefix + ".conv", wv, True, upsample, offset)
        out = out + sd[prefix + ".noise.weight"].reshape(()) * noise[0]   # NoiseInjection
        return lrelu(out + sd[prefix + ".activate.bias"][:, None, None]) * SQRT2

    def to_rgb(x, prefix, wv, skip):
        out = modconv(x, prefix + ".conv", wv, False, False)
        out = out + sd[prefix + ".bias"][0]
        if skip is not None:
            out = out + upfirdn2d(skip, sd[prefix + ".upsample.kernel"], up=2, pad=(2, 1))
        return out

    noises = []
    n = 0
    while "noises.noise_%d" % n in sd:
        noises.append(sd["noises.noise_%d" % n][0])
        n += 1
    out = sd["input.input"][0]
    out = styled_conv(out, "conv1", ws[0], noises[0], False, 0)
    skip = to_rgb(out, "to_rgb1", ws[1], None)
    j = 0
    while "convs.%d.conv.weight" % (2 * j) in sd:
        out = styled_conv(out, "convs.%d" % (2 * j), ws[2 * j + 1], noises[2 * j + 1], True,
                          2 * j + 1)
        out = styled_conv(out, "convs.%d" % (2 * j + 1), ws[2 * j + 2], noises[2 * j + 2],
                          False, 2 * j + 2)
        skip = to_rgb(out, "to_rgbs.%d" % j, ws[2 * j + 3], skip)
        j += 1
    return skip
