# SPDX-License-Identifier: GPL-3.0-or-later
"""NVIDIA stylegan2-ada-pytorch / stylegan3 network pickles and snapshots.

A network pickle is a dict {'G', 'D', 'G_ema', 'augment_pipe', ...} whose
networks were pickled by ``torch_utils.persistence``: each module is a
persistent object whose state is the module's ``__dict__`` (``_parameters``,
``_buffers``, ``_modules``, ``_init_kwargs``, plain attributes).  Only
``G_ema`` is read.  Its ``state_dict()`` keys are exactly the tensor names
of a generator file, and its constructor keyword arguments give the config.
"""

import numpy as np

from . import stylegan2
from .errors import ConvertError
from .torchfile import PersistentObject, Tensor, is_module

GENERATOR_KEYS = ("G_ema", "G")


def find_generator(obj):
    """Returns (module, where) for the generator in OBJ, or (None, None)."""
    if isinstance(obj, dict):
        for key in GENERATOR_KEYS:
            value = obj.get(key)
            if is_module(value):
                return value, key
        return None, None
    if is_module(obj) and getattr(obj, "class_name", None) == "Generator":
        return obj, "the pickled object"
    return None, None


def module_children(mod):
    modules = mod.state.get("_modules") or {}
    if not isinstance(modules, dict):
        return {}
    return {k: v for k, v in modules.items() if v is not None}


def class_name(mod):
    if isinstance(mod, PersistentObject):
        return mod.class_name
    return getattr(mod, "qualified_name", type(mod).__name__).rsplit(".", 1)[-1]


def state_dict(mod, prefix="", out=None):
    """The state_dict() of a module tree: parameters and persistent buffers."""
    if out is None:
        out = {}
    state = mod.state
    params = state.get("_parameters") or {}
    buffers = state.get("_buffers") or {}
    nonpersistent = state.get("_non_persistent_buffers_set") or set()
    for name, value in list(params.items()) + [
            (k, v) for k, v in buffers.items() if k not in nonpersistent]:
        if value is None:
            continue
        if not isinstance(value, Tensor):
            raise ConvertError("%s%s is a %s, not a tensor" % (prefix, name, type(value).__name__))
        out[prefix + name] = value
    for name, child in module_children(mod).items():
        if not is_module(child):
            raise ConvertError("%s%s is not a module" % (prefix, name))
        state_dict(child, prefix + name + ".", out)
    return out


def _walk(mod, prefix=""):
    yield prefix, mod
    for name, child in module_children(mod).items():
        if is_module(child):
            yield from _walk(child, prefix + name + ".")


def is_stylegan3(G):
    """True for an alias-free (StyleGAN3) generator."""
    for path, mod in _walk(G):
        cname = class_name(mod)
        if cname == "SynthesisInput" or path.startswith("synthesis.input."):
            return True
        state = mod.state
        if any(k in state for k in ("use_radial_filters", "is_torgb", "is_critically_sampled",
                                    "magnitude_ema_beta")):
            return True
        if path.startswith("synthesis.") and path.count(".") == 2 and path[10:11] == "L" \
                and path[11:12].isdigit():
            return True
        src = getattr(mod, "module_src", "") or ""
        if "Alias-Free Generative Adversarial Networks" in src and cname.startswith("Synthesis"):
            return True
    return False


def _kwargs(mod):
    kw = mod.state.get("_init_kwargs")
    return dict(kw) if isinstance(kw, dict) else {}


def _plain(value):
    """Turns stand-in dicts into dicts, for printing."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


_G_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                 "mapping_kwargs", "synthesis_kwargs")
_SYNTHESIS_KEYS = ("channel_base", "channel_max", "num_fp16_res", "conv_clamp",
                   "architecture", "resample_filter", "use_noise", "activation",
                   "fp16_channels_last", "conv_kernel", "fused_modconv_default")


def generator_kwargs(G):
    """(top-level kwargs, mapping kwargs, synthesis kwargs) of G's constructor."""
    kw = _kwargs(G)
    args = G.state.get("_init_args") or ()
    if isinstance(args, (tuple, list)):
        for name, value in zip(_G_POSITIONAL, args):
            kw.setdefault(name, value)
    mapping = dict(kw.get("mapping_kwargs") or {})
    synthesis = dict(kw.get("synthesis_kwargs") or {})
    # stylegan3's copy of the StyleGAN2 generator takes **synthesis_kwargs
    for key in _SYNTHESIS_KEYS:
        if key in kw and key not in synthesis:
            synthesis[key] = kw[key]
    return kw, mapping, synthesis


def _first(*values):
    for v in values:
        if v is not None:
            return v
    return None


def read_config(G, tensors, source, notes):
    kw, mkw, skw = generator_kwargs(G)
    children = module_children(G)
    mapping = children.get("mapping")
    synthesis = children.get("synthesis")
    if mapping is None or synthesis is None:
        raise ConvertError("%s: the generator has no mapping or synthesis network" % source)
    mstate = mapping.state
    mkw_own, skw_own = _kwargs(mapping), _kwargs(synthesis)

    z_dim = _first(kw.get("z_dim"), G.state.get("z_dim"))
    w_dim = _first(kw.get("w_dim"), G.state.get("w_dim"))
    c_dim = _first(kw.get("c_dim"), G.state.get("c_dim"), 0)
    res = _first(kw.get("img_resolution"), G.state.get("img_resolution"))
    img_channels = _first(kw.get("img_channels"), G.state.get("img_channels"))
    if None in (z_dim, w_dim, res, img_channels):
        raise ConvertError("%s: the generator does not record z_dim, w_dim, img_resolution "
                           "and img_channels" % source)

    num_layers = _first(mkw.get("num_layers"), mkw_own.get("num_layers"),
                        mstate.get("num_layers"), 8)
    lr = _first(mkw.get("lr_multiplier"), mkw_own.get("lr_multiplier"), 0.01)
    fc0 = module_children(mapping).get("fc0")
    if fc0 is not None and isinstance(fc0.state.get("bias_gain"), (int, float)):
        used = float(fc0.state["bias_gain"])
        if abs(used - float(lr)) > 1e-9 * max(1.0, abs(used)):
            notes.append("mapping lr multiplier: the constructor says %g but the layers use "
                         "%g; using %g" % (lr, used, used))
            lr = used
    for key in ("embed_features", "layer_features"):
        value = _first(mkw.get(key), mkw_own.get(key))
        if value is not None and value != w_dim:
            raise ConvertError("%s: mapping %s=%r is not supported (must equal w_dim)"
                               % (source, key, value))
    activation = _first(mkw.get("activation"), mkw_own.get("activation"), "lrelu")
    if activation != "lrelu":
        raise ConvertError("%s: mapping activation %r is not supported (lrelu only)"
                           % (source, activation))

    architecture = _first(skw.get("architecture"), skw_own.get("architecture"), "skip")
    conv_clamp = skw.get("conv_clamp", skw_own.get("conv_clamp"))
    layer_clamps = set()
    for path, mod in _walk(synthesis, "synthesis."):
        if class_name(mod) in ("SynthesisLayer", "ToRGBLayer") and "conv_clamp" in mod.state:
            layer_clamps.add(mod.state["conv_clamp"])
    if len(layer_clamps) == 1:
        used = layer_clamps.pop()
        if used != conv_clamp:
            notes.append("conv_clamp: the constructor says %r but the layers use %r; using %r"
                         % (conv_clamp, used, used))
            conv_clamp = used
    elif len(layer_clamps) > 1:
        raise ConvertError("%s: the synthesis layers use different conv_clamp values %s; "
                           "not supported" % (source, sorted(map(repr, layer_clamps))))
    activation = _first(skw.get("activation"), skw_own.get("activation"), "lrelu")
    if activation != "lrelu":
        raise ConvertError("%s: synthesis activation %r is not supported (lrelu only)"
                           % (source, activation))
    kernel = _first(skw.get("conv_kernel"), skw_own.get("conv_kernel"), 3)
    if kernel != 3:
        raise ConvertError("%s: conv_kernel %r is not supported (3 only)" % (source, kernel))
    rf = _first(skw.get("resample_filter"), skw_own.get("resample_filter"))
    if rf is not None and list(rf) != [1, 3, 3, 1]:
        raise ConvertError("%s: resample filter %r is not supported ([1, 3, 3, 1] only)"
                           % (source, rf))

    base = _first(skw.get("channel_base"), skw_own.get("channel_base"))
    cmax = _first(skw.get("channel_max"), skw_own.get("channel_max"))
    if base is None or cmax is None:
        chans = _channels_from_shapes(tensors, res, source)
        ibase, icmax = stylegan2.infer_channel_config(chans, source)
        base = _first(base, ibase)
        cmax = _first(cmax, icmax)
        notes.append("channel_base/channel_max not recorded; inferred %d/%d from the shapes"
                     % (base, cmax))
    return stylegan2.Config(z_dim=z_dim, w_dim=w_dim, c_dim=c_dim, img_resolution=res,
                            img_channels=img_channels, mapping_layers=num_layers,
                            lr_multiplier=lr, channel_base=base, channel_max=cmax,
                            conv_clamp=conv_clamp, architecture=architecture)


def _channels_from_shapes(tensors, res, source):
    chans = {}
    r = 4
    while r <= res:
        t = tensors.get("synthesis.b%d.conv1.weight" % r)
        if t is None:
            raise ConvertError("%s: synthesis.b%d.conv1.weight is missing" % (source, r))
        chans[r] = t.shape[0]
        r *= 2
    return chans


def convert(obj, source, notes):
    """Returns (config, {name: float32 array}) for the generator in OBJ."""
    G, where = find_generator(obj)
    if G is None:
        raise ConvertError("%s: no generator (G_ema) in this pickle" % source)
    if where == "G":
        notes.append("the pickle has no G_ema; converted G (the training-time weights)")
    elif where == "G_ema":
        notes.append("read G_ema")
    if is_stylegan3(G):
        raise ConvertError("%s: this is a StyleGAN3 (alias-free) generator; Hyperdomain "
                           "renders StyleGAN2 generators only and cannot convert it" % source)
    if class_name(G) != "Generator":
        raise ConvertError("%s: %s is a %s, not a StyleGAN2 Generator"
                           % (source, where, class_name(G)))
    refs = state_dict(G)
    config = read_config(G, refs, source, notes)
    config.validate(source)
    tensors = {}
    for name, ref in refs.items():
        tensors[name] = ref.numpy().astype(np.float32, copy=False)
    filled = False
    for name, res, _cin, _cout, _up in stylegan2.conv_names(config):
        if name + ".noise_strength" not in tensors and name + ".noise_const" not in tensors:
            tensors[name + ".noise_strength"] = np.zeros((), np.float32)
            tensors[name + ".noise_const"] = np.zeros((res, res), np.float32)
            filled = True
    if filled:
        notes.append("the generator has no noise inputs (use_noise=False); wrote zero noise")
    if "mapping.w_avg" not in tensors:
        tensors["mapping.w_avg"] = stylegan2.average_w(tensors, config)
        notes.append("the generator has no w_avg; wrote the mean w of %d random z (seed %d)"
                     % (stylegan2.W_AVG_SAMPLES, stylegan2.W_AVG_SEED))
    return config, tensors


def convert_state_dict(sd, source, notes, lr_multiplier=None, conv_clamp=None):
    """A bare G_ema.state_dict() (no constructor arguments): the config
    comes from the shapes and the flags."""
    tensors = {k: v.numpy().astype(np.float32, copy=False) for k, v in sd.items()}
    i = 0
    while "mapping.fc%d.weight" % i in tensors:
        i += 1
    if i == 0 or "synthesis.b4.const" not in tensors:
        raise ConvertError("%s: not a StyleGAN2 generator state_dict" % source)
    r = 4
    while "synthesis.b%d.conv1.weight" % (r * 2) in tensors:
        r *= 2
    chans = _channels_from_shapes(tensors, r, source)
    base, cmax = stylegan2.infer_channel_config(chans, source)
    img_channels = tensors["synthesis.b4.torgb.weight"].shape[0] \
        if "synthesis.b4.torgb.weight" in tensors else 3
    config = stylegan2.Config(
        z_dim=tensors["mapping.fc0.weight"].shape[1],
        w_dim=tensors["mapping.fc0.weight"].shape[0], img_resolution=r,
        img_channels=img_channels, mapping_layers=i,
        lr_multiplier=0.01 if lr_multiplier is None else lr_multiplier,
        channel_base=base, channel_max=cmax, conv_clamp=conv_clamp)
    notes.append("a bare state_dict records no constructor arguments: mapping lr multiplier "
                 "%g%s and conv_clamp %s%s" % (
                     config.lr_multiplier, "" if lr_multiplier is not None else " (default)",
                     "none" if conv_clamp is None else "%g" % conv_clamp,
                     "" if conv_clamp is not None else " (default; set --conv-clamp 256 for "
                     "networks trained with stylegan2-ada-pytorch)"))
    if "mapping.w_avg" not in tensors:
        tensors["mapping.w_avg"] = stylegan2.average_w(tensors, config)
        notes.append("no w_avg; wrote the mean w of %d random z (seed %d)"
                     % (stylegan2.W_AVG_SAMPLES, stylegan2.W_AVG_SEED))
    return config, tensors


def describe(obj):
    """Lines for --info."""
    lines = []
    if isinstance(obj, dict):
        keys = ", ".join("%s (%s)" % (k, _kind(v)) for k, v in obj.items())
        lines.append("top level: " + keys)
    G, where = find_generator(obj)
    if G is None:
        return lines
    lines.append("generator: %s, class %s" % (where, class_name(G)))
    kw, mkw, skw = generator_kwargs(G)
    lines.append("constructor arguments: %s" % _plain({k: v for k, v in kw.items()
                                                        if k not in ("mapping_kwargs",
                                                                     "synthesis_kwargs")}))
    lines.append("mapping_kwargs: %s" % _plain(mkw))
    lines.append("synthesis_kwargs: %s" % _plain(skw))
    if is_stylegan3(G):
        lines.append("StyleGAN3 (alias-free): cannot be converted")
    else:
        sd = state_dict(G)
        lines.append("%d tensors, %d values" % (len(sd), sum(t.size for t in sd.values())))
    return lines


def _kind(value):
    if is_module(value):
        return class_name(value)
    if value is None:
        return "None"
    return type(value).__name__
