# SPDX-License-Identifier: GPL-3.0-or-later
"""rosinality stylegan2-pytorch generators ({'g_ema': state_dict,
'latent_avg': ...}, the layout HyperDomainNet and StyleGAN-NADA build on).

The conversion to the NVlabs parameterization of formats.md, layer by layer
(x: input, w: the layer's w, s: style):

* Mapping: ``style.{i}`` (i >= 1; ``style.0`` is the PixelNorm) is an
  EqualLinear with lr_mul = lr_mlp: y = x (W lr/sqrt(in))^T + b lr, then
  lrelu(.) sqrt(2).  NVlabs ``mapping.fc{i-1}`` computes exactly that with
  weight_gain = lr/sqrt(in) and bias_gain = lr, so W and b are copied and
  the config records lr_multiplier = lr_mlp.
* Styles: ``modulation`` is an EqualLinear(w_dim, C_in, bias_init=1,
  lr_mul=1): s = w (A/sqrt(w_dim))^T + a, the same as NVlabs ``affine``:
  copied.
* Modulated 3x3 conv: rosinality multiplies its weight by
  c = 1/sqrt(C_in 9) before modulating and demodulating:
  W' = c W s / sqrt(sum (c W s)^2 + 1e-8).  NVlabs uses no such factor:
  W' = V s / sqrt(sum (V s)^2 + 1e-8).  The two agree for every input when
  V = c W (the factor does not cancel exactly because of the 1e-8), so the
  weight is stored pre-scaled: weight = W[0] / sqrt(C_in 9).
* ToRGB (1x1, no demodulation): rosinality W c s with c = 1/sqrt(C_in);
  NVlabs applies weight_gain = 1/sqrt(C_in) to the style: weight = W[0].
* Noise: ``noise.weight`` [1] -> noise_strength [] and ``noises.noise_k``
  [1,1,R,R] -> noise_const [R,R] (k = 0 for b4.conv1, then 2j-1 and 2j for
  conv0 and conv1 of the j-th upsampling block).  Both add noise * strength
  before the bias.
* Bias + activation: FusedLeakyReLU(bias) = lrelu(x + b) sqrt(2), as NVlabs
  bias_act with gain 1; rosinality never clamps: conv_clamp = null.
  ToRGB bias [1,3,1,1] -> [3].
* Up-sampling conv: both use a stride-2 transposed convolution and the
  [1,3,3,1] blur with padding 1 and gain 4; rosinality stores the blur
  kernel with the gain folded in (outer(k,k)/64 * 4), so
  resample_filter = kernel / 4.  The skip up-sampling likewise.
* const = input.input[0]; w_avg = latent_avg when the file has it.
"""

import math
import re

import numpy as np

from . import stylegan2
from .errors import ConvertError
from .torchfile import StandIn, Tensor

PREFIXES = ("", "module.", "generator.", "g_ema.", "decoder.", "generator.generator.")
LR_MLP_DEFAULT = 0.01
NOISE_SEED = 0


def _is_state_dict(value):
    return isinstance(value, dict) and value and all(
        isinstance(k, str) for k in value) and any(isinstance(v, Tensor) for v in value.values())


def find_prefix(sd):
    for p in PREFIXES:
        if p + "conv1.conv.weight" in sd and p + "style.1.weight" in sd \
                and p + "to_rgb1.conv.weight" in sd:
            return p
    return None


def find(obj):
    """Returns (state dict, prefix, latent_avg or None, where) or None."""
    candidates = []
    if isinstance(obj, dict):
        for key in ("g_ema", "state_dict", "g", "generator"):
            if _is_state_dict(obj.get(key)):
                candidates.append((obj[key], key))
        if _is_state_dict(obj):
            candidates.append((obj, None))
    for sd, key in candidates:
        prefix = find_prefix(sd)
        if prefix is not None:
            latent_avg = obj.get("latent_avg") if isinstance(obj, dict) else None
            if latent_avg is None and prefix:
                latent_avg = sd.get(prefix + "latent_avg")
            return sd, prefix, latent_avg, key
    return None


def _args_value(obj, name):
    if isinstance(obj, dict):
        args = obj.get("args")
        if isinstance(args, StandIn) and isinstance(args.state, dict):
            return args.state.get(name)
        if isinstance(args, dict):
            return args.get(name)
    return None


def convert(obj, source, notes, lr_mlp=None):
    found = find(obj)
    if found is None:
        raise ConvertError("%s: not a rosinality generator" % source)
    sd, prefix, latent_avg, where = found
    if where not in (None, "g_ema"):
        notes.append("read the generator in '%s'" % where)
    elif where == "g_ema":
        notes.append("read g_ema")
    if prefix:
        notes.append("tensor names start with '%s'" % prefix)
    src = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    used = set()

    def take(name, shape_len=None):
        t = src.get(name)
        if t is None:
            raise ConvertError("%s: tensor %s%s is missing" % (source, prefix, name))
        if not isinstance(t, Tensor):
            raise ConvertError("%s: %s%s is not a tensor" % (source, prefix, name))
        used.add(name)
        arr = t.numpy().astype(np.float32, copy=False)
        if shape_len is not None and arr.ndim != shape_len:
            raise ConvertError("%s: tensor %s%s has shape %s" % (source, prefix, name,
                                                                list(arr.shape)))
        return arr

    # Shapes -> config
    n_mlp = 0
    while "style.%d.weight" % (n_mlp + 1) in src:
        n_mlp += 1
    n_convs = 0
    while "convs.%d.conv.weight" % n_convs in src:
        n_convs += 1
    if n_convs % 2:
        raise ConvertError("%s: an odd number of convs (%d)" % (source, n_convs))
    log_size = n_convs // 2 + 2
    res = 2 ** log_size
    const = take("input.input", 4)
    chans = {4: const.shape[1]}
    for j in range(n_convs // 2):
        w = src["convs.%d.conv.weight" % (2 * j)]
        chans[8 << j] = w.shape[1]
    base, cmax = stylegan2.infer_channel_config(chans, source)
    w0 = take("style.1.weight", 2)
    z_dim = w0.shape[1]
    w_dim = src["style.%d.weight" % n_mlp].shape[0]
    rgb1 = src["to_rgb1.conv.weight"]
    img_channels = rgb1.shape[1]
    arg_lr = _args_value(obj, "lr_mlp")
    if lr_mlp is None and isinstance(arg_lr, (int, float)):
        lr_mlp = float(arg_lr)
        notes.append("mapping lr multiplier %g from the checkpoint's args" % lr_mlp)
    if lr_mlp is None:
        lr_mlp = LR_MLP_DEFAULT
        notes.append("mapping lr multiplier %g (rosinality's default; --lr-mlp to change)"
                     % lr_mlp)
    config = stylegan2.Config(z_dim=z_dim, w_dim=w_dim, img_resolution=res,
                              img_channels=img_channels, mapping_layers=n_mlp,
                              lr_multiplier=lr_mlp, channel_base=base, channel_max=cmax,
                              conv_clamp=None)
    config.validate(source)
    for name, expect in (("size", res), ("n_mlp", n_mlp), ("latent", w_dim)):
        value = _args_value(obj, name)
        if isinstance(value, int) and value != expect:
            notes.append("warning: the checkpoint's args say %s=%d, but the weights have %d"
                         % (name, value, expect))

    out = {}
    for i in range(n_mlp):
        out["mapping.fc%d.weight" % i] = take("style.%d.weight" % (i + 1), 2)
        out["mapping.fc%d.bias" % i] = take("style.%d.bias" % (i + 1), 1)
    out["synthesis.b4.const"] = const[0]

    def styled_conv(dst, srcname, noise_index, up):
        weight = take(srcname + ".conv.weight", 5)[0]       # [out, in, 3, 3]
        c_in, k = weight.shape[1], weight.shape[2]
        if k != 3:
            raise ConvertError("%s: %s has a %dx%d kernel (3x3 only)" % (source, srcname, k, k))
        out[dst + ".weight"] = weight.astype(np.float64) / math.sqrt(c_in * k * k)
        out[dst + ".affine.weight"] = take(srcname + ".conv.modulation.weight", 2)
        out[dst + ".affine.bias"] = take(srcname + ".conv.modulation.bias", 1)
        out[dst + ".bias"] = take(srcname + ".activate.bias").reshape(-1)
        out[dst + ".noise_strength"] = take(srcname + ".noise.weight").reshape(())
        if has_noises:
            noise = take("noises.noise_%d" % noise_index)
            noise = noise.reshape(noise.shape[-2:])
        else:
            size = 4 << ((noise_index + 1) // 2)
            noise = noise_rng.randn(size, size)
        out[dst + ".noise_const"] = noise
        blur = srcname + ".conv.blur.kernel"
        if up and blur in src:
            out[dst + ".resample_filter"] = take(blur, 2) / 4.0
        elif blur in src:
            raise ConvertError("%s: %s blurs but does not up-sample; not supported"
                               % (source, srcname))

    def to_rgb(dst, srcname, up):
        weight = take(srcname + ".conv.weight", 5)[0]
        if weight.shape[2:] != (1, 1):
            raise ConvertError("%s: %s is not a 1x1 conv" % (source, srcname))
        out[dst + ".weight"] = weight
        out[dst + ".affine.weight"] = take(srcname + ".conv.modulation.weight", 2)
        out[dst + ".affine.bias"] = take(srcname + ".conv.modulation.bias", 1)
        out[dst + ".bias"] = take(srcname + ".bias").reshape(-1)

    n_noise = sum(1 for k in src if re.fullmatch(r"noises\.noise_\d+", k))
    has_noises = n_noise > 0
    if has_noises and n_noise != n_convs + 1:
        raise ConvertError("%s: %d noise buffers (noises.noise_K) for %d convs"
                           % (source, n_noise, n_convs + 1))
    noise_rng = np.random.RandomState(NOISE_SEED)
    if not has_noises:
        notes.append("the file has no noise buffers (noises.noise_K): wrote random constant "
                     "noise (numpy seed %d)" % NOISE_SEED)

    styled_conv("synthesis.b4.conv1", "conv1", 0, False)
    to_rgb("synthesis.b4.torgb", "to_rgb1", False)
    for j in range(n_convs // 2):
        r = 8 << j
        block = "synthesis.b%d" % r
        styled_conv(block + ".conv0", "convs.%d" % (2 * j), 2 * j + 1, True)
        styled_conv(block + ".conv1", "convs.%d" % (2 * j + 1), 2 * j + 2, False)
        to_rgb(block + ".torgb", "to_rgbs.%d" % j, True)
        up = "to_rgbs.%d.upsample.kernel" % j
        if up in src:
            out[block + ".resample_filter"] = take(up, 2) / 4.0

    if latent_avg is not None:
        if not isinstance(latent_avg, Tensor):
            raise ConvertError("%s: latent_avg is not a tensor" % source)
        avg = latent_avg.numpy().astype(np.float64)
        if avg.ndim > 1:
            rows = avg.reshape(-1, avg.shape[-1])
            if not np.allclose(rows, rows[:1], rtol=0, atol=1e-6):
                notes.append("warning: latent_avg has %d different rows; used their mean"
                             % rows.shape[0])
            avg = rows.mean(axis=0) if rows.shape[0] > 1 else rows[0]
        if avg.shape != (w_dim,):
            raise ConvertError("%s: latent_avg has shape %s, but w_dim is %d"
                               % (source, list(latent_avg.shape), w_dim))
        out["mapping.w_avg"] = avg
        notes.append("w_avg from latent_avg")
    else:
        out["mapping.w_avg"] = stylegan2.average_w(out, config)
        notes.append("no latent_avg in the file: w_avg is the mean w of %d random z "
                     "(numpy seed %d)" % (stylegan2.W_AVG_SAMPLES, stylegan2.W_AVG_SEED))

    extra = sorted(k for k in src if k not in used and k != "latent_avg"
                   and not re.fullmatch(r"noises\.noise_\d+", k))
    if extra:
        raise ConvertError("%s: unexpected tensors in the rosinality generator: %s"
                           % (source, ", ".join(prefix + k for k in extra[:8])
                              + (" ..." if len(extra) > 8 else "")))
    return config, {k: np.asarray(v, np.float32) for k, v in out.items()}


def describe(obj):
    found = find(obj)
    if found is None:
        return []
    sd, prefix, latent_avg, where = found
    lines = []
    if isinstance(obj, dict):
        lines.append("top level: " + ", ".join(
            "%s (%s)" % (k, type(v).__name__) for k, v in obj.items()))
    lines.append("generator state dict: %s, %d tensors%s" % (
        where or "the file itself", len(sd), ", names start with '%s'" % prefix if prefix else ""))
    lines.append("latent_avg: %s" % ("yes, shape %s" % list(latent_avg.shape)
                                      if isinstance(latent_avg, Tensor) else "no"))
    return lines
