# SPDX-License-Identifier: GPL-3.0-or-later
"""hyperdomain-convert: StyleGAN2 generators, HyperDomainNet domains and
HyperDomainNet hypernetworks (with their CLIP) to Hyperdomain's safetensors
files (spec/formats.md, spec/text-domains.md)."""

import argparse
import json
import os
import re
import sys

import numpy as np

from . import (clip, clipfile, hyperdomainnet, hypernetwork, nvlabs, rosinality, safetensors,
               stylegan2, torchfile)
from .errors import ConvertError

PROG = "hyperdomain-convert"
MODULATION = hyperdomainnet.MODULATION

USAGE = """\
%(prog)s [options] INPUT... -o OUTPUT.safetensors
       %(prog)s MAPPER.pt --clip CLIP.pt --bpe MERGES[.gz] [--clip-heads N] [options]
                          -o OUTPUT.safetensors
       %(prog)s CLIP.pt --bpe MERGES[.gz] [--clip-heads N] [options] -o OUTPUT.safetensors
       %(prog)s --info INPUT..."""

DESCRIPTION = """\
Converts StyleGAN2 generators and HyperDomainNet domains and hypernetworks to
Hyperdomain's safetensors files.  Reads NVIDIA stylegan2-ada-pytorch /
stylegan3 network pickles (G_ema of a StyleGAN2 network), rosinality
stylegan2-pytorch .pt generators, HyperDomainNet single-domain checkpoints
(td_*.pt, im2im_*.pt) and HyperDomainNet text mappers (mapper_*_td.pt).
One generator input writes a generator file; one domain input writes a
domain file; several domain inputs write one domain pack; a mapper, with
the CLIP it was trained with (--clip, OpenAI's ViT-B-32.pt or a CLIP state
dict) and CLIP's BPE merges (--bpe, bpe_simple_vocab_16e6.txt.gz), writes
a hypernetwork file that turns text prompts into domains; a CLIP alone
(a ViT one), with --bpe, writes a clip file (both towers and the merges) for
training domains with hyperdomain-train.
PyTorch is not needed: checkpoints are read with a restricted unpickler that
rebuilds only tensors, dicts, lists and numbers, and refuses anything else."""


EPILOG = """\
examples:
  %(prog)s stylegan2-ffhq-config-f.pt -o ffhq.safetensors
  %(prog)s ffhq.pkl --dtype f16 -o ffhq-f16.safetensors
  %(prog)s td_pixar.pt -o pixar.safetensors
  %(prog)s td_checkpoints/*.pt -o text-domains.safetensors
  %(prog)s mapper_20_td.pt --clip ViT-B-32.pt --bpe bpe_simple_vocab_16e6.txt.gz \
      -o text-mapper.safetensors
  %(prog)s ViT-B-32.pt --bpe bpe_simple_vocab_16e6.txt.gz -o vit-b-32.safetensors
  %(prog)s --info network-snapshot-001000.pkl

A domain belongs to the generator it was trained on (same weights, same
resolution): HyperDomainNet's FFHQ domains were trained on rosinality's
stylegan2-ffhq-config-f.pt, and a converted domain records that file's name
as its generator, which is the name that generator gets when converted."""


def build_parser():
    p = argparse.ArgumentParser(prog=PROG, usage=USAGE, description=DESCRIPTION,
                                epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="checkpoint files")
    p.add_argument("-o", "--output", metavar="OUTPUT", help="the .safetensors file to write")
    p.add_argument("--info", action="store_true",
                   help="print what each input holds and convert nothing")
    p.add_argument("--name", action="append", default=[], metavar="NAME",
                   help="display name (default: from the file name); give it once per "
                        "input when converting several domains")
    p.add_argument("--dtype", choices=("f32", "f16"), default="f32",
                   help="storage type of the output (f16 halves the file)")
    p.add_argument("--description", metavar="TEXT",
                   help="description stored in the file (for a domain: e.g. its prompt)")
    p.add_argument("--license", metavar="TEXT", help="license of a generator or a hypernetwork")
    p.add_argument("--generator", metavar="NAME",
                   help="for domains: the name of the generator they were trained on "
                        "(default: the source generator recorded in the checkpoint; "
                        "'' for none)")
    p.add_argument("--clip", metavar="CLIP.pt",
                   help="for a HyperDomainNet mapper: the CLIP it was trained with "
                        "(OpenAI's TorchScript .pt or a state dict)")
    p.add_argument("--bpe", metavar="MERGES",
                   help="for a HyperDomainNet mapper or a CLIP: CLIP's BPE merges file "
                        "(bpe_simple_vocab_16e6.txt.gz, gzip or plain text)")
    p.add_argument("--clip-heads", type=int, metavar="N",
                   help="attention heads of the CLIP's text transformer (default: "
                        "width / 64, as in every published CLIP)")
    p.add_argument("--pack", action="store_true",
                   help="write a domain pack even for a single domain")
    p.add_argument("--lr-mlp", type=float, metavar="LR",
                   help="mapping lr multiplier of a rosinality generator or a bare state "
                        "dict (default 0.01)")
    p.add_argument("--conv-clamp", type=float, metavar="C",
                   help="conv_clamp of a bare NVIDIA state dict (default: none)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return p


# --------------------------------------------------------------------------
# Detection


def _bare_nvlabs_state_dict(obj):
    if isinstance(obj, dict) and "synthesis.b4.const" in obj and "mapping.fc0.weight" in obj \
            and isinstance(obj["synthesis.b4.const"], torchfile.Tensor):
        return obj
    return None


def _stylegan3_state_dict(obj):
    if isinstance(obj, dict):
        for key in obj:
            if isinstance(key, str) and (key.startswith("synthesis.input.")
                                         or re.match(r"synthesis\.L\d+_\d+_\d+\.", key)):
                return True
    return False


def classify(obj):
    G, _ = nvlabs.find_generator(obj)
    if G is not None:
        return "nvlabs"
    if hypernetwork.detect(obj):
        return "mapper"
    if clip.detect(obj):
        return "clip"
    if hyperdomainnet.detect(obj):
        return "hyperdomainnet"
    if rosinality.find(obj) is not None:
        return "rosinality"
    if _bare_nvlabs_state_dict(obj) is not None:
        return "nvlabs-state-dict"
    if _stylegan3_state_dict(obj):
        return "stylegan3-state-dict"
    if isinstance(obj, dict):
        for key in ("G_ema", "g_ema", "state_dict"):
            if isinstance(obj.get(key), dict) and _stylegan3_state_dict(obj[key]):
                return "stylegan3-state-dict"
    return None


LAYOUT_NAMES = {
    "nvlabs": "NVIDIA network pickle",
    "nvlabs-state-dict": "NVIDIA generator state_dict",
    "rosinality": "rosinality stylegan2-pytorch generator",
    "hyperdomainnet": "HyperDomainNet domain",
    "mapper": "HyperDomainNet hypernetwork (mapper)",
    "clip": "CLIP model",
    "stylegan3-state-dict": "StyleGAN3 generator state_dict",
}


def summarize(obj, depth=0, limit=12):
    """A short description of an unknown object, for error messages."""
    if isinstance(obj, torchfile.Tensor):
        return "tensor %s" % list(obj.shape)
    if isinstance(obj, dict):
        items = list(obj.items())
        tensors = [k for k, v in items if isinstance(v, torchfile.Tensor)]
        if depth >= 1 or len(tensors) > limit:
            if tensors:
                return "a dict of %d entries, %d tensors (%s%s)" % (
                    len(items), len(tensors), ", ".join(map(str, tensors[:6])),
                    ", ..." if len(tensors) > 6 else "")
            return "a dict with keys %s" % ", ".join(map(str, list(obj)[:limit]))
        parts = ["%s: %s" % (k, summarize(v, depth + 1)) for k, v in items[:limit]]
        if len(items) > limit:
            parts.append("... (%d more)" % (len(items) - limit))
        return "{" + "; ".join(parts) + "}"
    if isinstance(obj, (list, tuple)):
        return "a %s of %d items" % (type(obj).__name__, len(obj))
    if torchfile.is_module(obj):
        return "a module %s" % nvlabs.class_name(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        text = repr(obj)
        return text if len(text) < 60 else text[:57] + "..."
    return type(obj).__name__


def unknown_layout(obj, source):
    return ConvertError(
        "%s: unknown checkpoint layout. Readable layouts: an NVIDIA StyleGAN2 network pickle "
        "(a dict with G_ema), a rosinality generator (g_ema with style.N, conv1, convs.N, "
        "to_rgbs.N), a HyperDomainNet domain (state_dict with heads.conv_K.params_in), a "
        "HyperDomainNet mapper (model_type 'mapper'), a CLIP (with --clip). "
        "This file holds %s" % (source, summarize(obj)))


# --------------------------------------------------------------------------
# Naming


def stem(path):
    base = os.path.basename(path)
    for ext in (".safetensors", ".pkl", ".pt", ".pth", ".ckpt", ".bin"):
        if base.lower().endswith(ext):
            return base[: -len(ext)]
    return os.path.splitext(base)[0]


def domain_display_name(path):
    name = stem(path)
    for prefix in ("td_", "im2im_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


def make_id(name, taken):
    ident = re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_-") or "domain"
    candidate, n = ident, 2
    while candidate in taken:
        candidate = "%s-%d" % (ident, n)
        n += 1
    taken.add(candidate)
    return candidate


def _mib(size):
    return "%.1f MiB" % (size / 1048576.0) if size >= 1048576 else "%.1f KiB" % (size / 1024.0)


# --------------------------------------------------------------------------
# Conversion


def _write(out, tensors, metadata, args):
    """Writes a generator or hypernetwork file with the optional
    --description and --license; returns (dtype, size)."""
    if args.description:
        metadata["hyperdomain.description"] = args.description
    if args.license:
        metadata["hyperdomain.license"] = args.license
    dtype = args.dtype.upper()
    return dtype, safetensors.write(out, tensors, metadata, dtype)


def convert_generator(kind, ckpt, args, name, out):
    notes = []
    source = ckpt.path
    if kind == "nvlabs":
        config, tensors = nvlabs.convert(ckpt.obj, source, notes)
        origin = "NVIDIA network pickle"
    elif kind == "rosinality":
        config, tensors = rosinality.convert(ckpt.obj, source, notes, lr_mlp=args.lr_mlp)
        origin = "rosinality stylegan2-pytorch checkpoint"
    else:
        config, tensors = nvlabs.convert_state_dict(
            _bare_nvlabs_state_dict(ckpt.obj), source, notes,
            lr_multiplier=args.lr_mlp, conv_clamp=args.conv_clamp)
        origin = "NVIDIA generator state_dict"
    tensor_list = stylegan2.assemble(tensors, config, source)
    metadata = {
        "hyperdomain.kind": "generator",
        "hyperdomain.version": "1",
        "hyperdomain.config": config.to_json(),
        "hyperdomain.name": name,
        "hyperdomain.source": "%s (%s)" % (os.path.basename(source), origin),
    }
    dtype, size = _write(out, tensor_list, metadata, args)
    lines = ["wrote %s: generator \u201c%s\u201d from %s" % (out, name, origin),
             "  %s" % config.describe(),
             "  %d tensors, %.2f M parameters, %s, %s"
             % (len(tensor_list), stylegan2.count_parameters(tensor_list) / 1e6, dtype,
                _mib(size))]
    return lines, notes


def convert_domains(items, args, names, out):
    """ITEMS: list of (checkpoint).  Writes a domain or a pack."""
    pack = args.pack or len(items) > 1
    domains = []
    all_notes = []
    taken = set()
    for i, ckpt in enumerate(items):
        notes = []
        layers, description, style = hyperdomainnet.convert(ckpt.obj, ckpt.path, notes)
        name = names[i] if names else domain_display_name(ckpt.path)
        if args.generator is not None:
            generator = args.generator or None
        else:
            generator = hyperdomainnet.default_generator_name(ckpt.obj)
        desc = args.description if args.description else "%s, converted from %s" % (
            description, os.path.basename(ckpt.path))
        domains.append({"name": name, "layers": layers, "description": desc, "style": style,
                        "generator": generator, "id": make_id(name, taken) if pack else None,
                        "path": ckpt.path})
        all_notes.extend("%s: %s" % (os.path.basename(ckpt.path), n) for n in notes)
    shapes = {}
    for d in domains:
        for layer, vec in d["layers"]:
            if shapes.setdefault(layer, vec.shape) != vec.shape:
                all_notes.append("warning: the domains have different lengths for %s: they "
                                 "were trained on different generators" % layer)
    dtype = args.dtype.upper()
    if not pack:
        d = domains[0]
        metadata = {
            "hyperdomain.kind": "domain",
            "hyperdomain.version": "1",
            "hyperdomain.name": d["name"],
            "hyperdomain.modulation": MODULATION,
            "hyperdomain.description": d["description"],
        }
        if d["generator"]:
            metadata["hyperdomain.generator"] = d["generator"]
        tensors = list(d["layers"])
        if d["style"] is not None:
            metadata["hyperdomain.style_from"] = str(d["style"][0])
            tensors.append((hyperdomainnet.STYLE_TENSOR, d["style"][1]))
        size = safetensors.write(out, tensors, metadata, dtype)
        lines = ["wrote %s: domain \u201c%s\u201d, %d layers, %d values, %s, %s"
                 % (out, d["name"], len(d["layers"]), sum(v.size for _, v in d["layers"]),
                    dtype, _mib(size))]
        if d["generator"]:
            lines.append("  trained on generator \u201c%s\u201d" % d["generator"])
        if d["style"] is not None:
            lines.append("  style latents for layers %d and above" % d["style"][0])
        return lines, all_notes
    metadata = {
        "hyperdomain.kind": "domain-pack",
        "hyperdomain.version": "1",
        "hyperdomain.modulation": MODULATION,
    }
    generators = {d["generator"] for d in domains}
    if len(generators) == 1 and None not in generators:
        metadata["hyperdomain.generator"] = generators.pop()
    else:
        for d in domains:
            if d["generator"]:
                metadata["%s.generator" % d["id"]] = d["generator"]
    tensors = []
    for d in domains:
        metadata["%s.name" % d["id"]] = d["name"]
        metadata["%s.description" % d["id"]] = d["description"]
        tensors.extend(("%s/%s" % (d["id"], layer), vec) for layer, vec in d["layers"])
        if d["style"] is not None:
            metadata["%s.style_from" % d["id"]] = str(d["style"][0])
            tensors.append(("%s/%s" % (d["id"], hyperdomainnet.STYLE_TENSOR), d["style"][1]))
    size = safetensors.write(out, tensors, metadata, dtype)
    lines = ["wrote %s: domain pack of %d domains, %s, %s" % (out, len(domains), dtype,
                                                             _mib(size))]
    for d in domains:
        lines.append("  %s#%s: \u201c%s\u201d, %d layers (from %s)"
                     % (os.path.basename(out), d["id"], d["name"], len(d["layers"]),
                        os.path.basename(d["path"])))
    return lines, all_notes


def convert_clip(ckpt, args, out):
    """A CLIP alone with its merges: a clip file (domain-training.md §7)."""
    notes = []
    metadata, tensors, summary = clipfile.build(ckpt, args.bpe, args.clip_heads, notes)
    name = args.name[0] if args.name else stem(ckpt.path)
    metadata["hyperdomain.name"] = name
    dtype, size = _write(out, tensors, metadata, args)
    lines = ["wrote %s: clip \u201c%s\u201d (%s, %s), %s, %s"
             % (out, name, summary["name"], summary["container"], dtype, _mib(size)),
             "  " + summary["text"].describe()[0],
             "  vision: " + summary["vision"].describe(),
             "  tokenizer: %d merges" % summary["merges"]]
    return lines, notes


def convert_hypernetwork(ckpt, args, out):
    """A HyperDomainNet mapper with its CLIP and merges: a hypernetwork file."""
    notes = []
    with torchfile.load(args.clip) as clip_ckpt:
        metadata, tensors, summary = hypernetwork.build(ckpt, clip_ckpt, args.bpe,
                                                        args.clip_heads, notes)
    name = args.name[0] if args.name else stem(ckpt.path)
    metadata["hyperdomain.name"] = name
    dtype, size = _write(out, tensors, metadata, args)
    tower, mapper = summary["clip"], summary["mapper"]
    layers = mapper.layers()
    lines = ["wrote %s: hypernetwork \u201c%s\u201d, %s, %s" % (out, name, dtype, _mib(size)),
             "  CLIP %s (%s): %s" % (summary["clip_name"], tower.container,
                                     tower.describe()[0]),
             "  mapper %s, %s backbone, %s, backbone_depth %d, head_depth %d, %d layers "
             "(%s .. %s)" % (hypernetwork.MAPPER_TYPE, hypernetwork.BACKBONE_TYPE,
                             mapper.activation, mapper.backbone_depth, mapper.head_depth,
                             len(layers), layers[0], layers[-1]),
             "  tokenizer: %d merges" % summary["merges"]]
    if mapper.generator:
        lines.append("  trained on generator \u201c%s\u201d" % mapper.generator)
    return lines, notes


# --------------------------------------------------------------------------
# --info


def _is_safetensors(path):
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    if len(head) < 9 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n <= os.path.getsize(path) - 8


def info_safetensors(path):
    tensors, metadata = safetensors.read(path)
    dtypes = safetensors.header_dtypes(path)
    lines = ["%s: safetensors, %d tensors (%s), %s" % (
        path, len(tensors), ", ".join(sorted(set(dtypes.values()))) or "none",
        _mib(os.path.getsize(path)))]
    for key in sorted(metadata):
        value = metadata[key]
        if key == "hyperdomain.config":
            try:
                value = json.dumps(json.loads(value), sort_keys=False)
            except ValueError:
                pass
        lines.append("  %s = %s" % (key, value))
    if metadata.get("hyperdomain.kind") == "hypernetwork":
        lines += ["  " + l for l in _describe_hypernetwork(metadata, tensors)]
    if metadata.get("hyperdomain.kind") == "clip":
        lines += ["  " + l for l in clipfile.describe_config(metadata)]
    if metadata.get("hyperdomain.kind") in ("domain", "domain-pack"):
        for name, arr in tensors.items():
            lines.append("  %s %s, max |d| %.4g" % (name, list(arr.shape),
                                                    float(np.max(np.abs(arr))) if arr.size else 0))
    return lines


def _describe_hypernetwork(metadata, tensors):
    try:
        config = json.loads(metadata.get("hyperdomain.config", ""))
        c, m, layers = config["clip"], config["mapper"], config["layers"]
        lines = ["CLIP %s: width %d, %d heads, %d layers, context %d, vocabulary %d, "
                 "embedding %d" % (c["name"], c["width"], c["heads"], c["layers"],
                                   c["context_length"], c["vocab_size"], c["embed_dim"]),
                 "mapper %s, %s backbone, %s, input %d, width %d, backbone_depth %d, "
                 "head_depth %d, inner %d" % (m["type"], m["backbone_type"], m["activation"],
                                             m["input_dimension"], m["width"],
                                             m["backbone_depth"], m["head_depth"],
                                             m["inner_features"]),
                 "%d layers: %s" % (len(layers), ", ".join(layers))]
    except (ValueError, KeyError, TypeError) as exc:
        return ["the config cannot be read: %s" % exc]
    merges = tensors.get("tokenizer.merges")
    if merges is not None:
        lines.append("tokenizer.merges: %d bytes, %d lines after the header"
                     % (merges.size, bytes(merges).count(b"\n") - 1))
    params = sum(a.size for n, a in tensors.items() if n.startswith(("clip.", "mapper.")))
    lines.append("%.2f M parameters" % (params / 1e6))
    return lines


def info(path, args):
    if _is_safetensors(path):
        return info_safetensors(path)
    with torchfile.load(path) as ckpt:
        kind = classify(ckpt.obj)
        lines = ["%s: %s, %s" % (path, ckpt.container,
                                 LAYOUT_NAMES.get(kind, "unknown layout"))]
        if kind == "nvlabs":
            lines += ["  " + l for l in nvlabs.describe(ckpt.obj)]
        elif kind == "rosinality":
            lines += ["  " + l for l in rosinality.describe(ckpt.obj)]
        elif kind == "hyperdomainnet":
            lines += ["  " + l for l in hyperdomainnet.describe(ckpt.obj)]
        elif kind == "mapper":
            lines += ["  " + l for l in hypernetwork.describe_mapper(ckpt.obj, path)]
        elif kind == "clip":
            lines += ["  " + l for l in hypernetwork.describe_clip(ckpt.obj, path,
                                                                   args.clip_heads)]
        elif kind is None or kind == "stylegan3-state-dict":
            lines.append("  " + summarize(ckpt.obj))
        if kind in ("nvlabs", "rosinality", "nvlabs-state-dict"):
            notes = []
            try:
                if kind == "nvlabs":
                    config, _ = nvlabs.convert(ckpt.obj, path, notes)
                elif kind == "rosinality":
                    config, _ = rosinality.convert(ckpt.obj, path, notes, lr_mlp=args.lr_mlp)
                else:
                    config, _ = nvlabs.convert_state_dict(
                        _bare_nvlabs_state_dict(ckpt.obj), path, notes,
                        lr_multiplier=args.lr_mlp, conv_clamp=args.conv_clamp)
                lines.append("  would write a generator: %s" % config.describe())
                lines.append("  config: %s" % config.to_json())
            except ConvertError as exc:
                lines.append("  cannot be converted: %s" % exc)
            lines += ["  note: %s" % n for n in notes]
        elif kind == "hyperdomainnet":
            notes = []
            try:
                layers, description, style = hyperdomainnet.convert(ckpt.obj, path, notes)
                lines.append("  would write a domain: %s, %d layers%s"
                             % (description, len(layers),
                                ", style latents from layer %d" % style[0] if style else ""))
            except ConvertError as exc:
                lines.append("  cannot be converted: %s" % exc)
            lines += ["  note: %s" % n for n in notes]
        elif kind == "stylegan3-state-dict":
            lines.append("  a StyleGAN3 (alias-free) generator: cannot be converted")
    return lines


# --------------------------------------------------------------------------


def run(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.info:
        if args.output:
            parser.error("--info converts nothing; drop -o")
        status = 0
        for path in args.inputs:
            try:
                print("\n".join(info(path, args)))
            except ConvertError as exc:
                print("%s: error: %s" % (PROG, exc), file=sys.stderr)
                status = 1
        return status
    if not args.output:
        parser.error("the output file is missing: add -o OUTPUT.safetensors")
    out = args.output
    if args.clip_heads is not None and args.clip_heads < 1:
        parser.error("--clip-heads must be positive")
    for path in args.inputs + [p for p in (args.clip, args.bpe) if p]:
        if os.path.exists(out) and os.path.exists(path) and os.path.samefile(out, path):
            raise ConvertError("%s: the output would overwrite an input" % out)
    if args.lr_mlp is not None and not args.lr_mlp > 0:
        parser.error("--lr-mlp must be positive")

    checkpoints = []
    try:
        for path in args.inputs:
            ckpt = torchfile.load(path)
            checkpoints.append(ckpt)
            kind = classify(ckpt.obj)
            if kind is None:
                raise unknown_layout(ckpt.obj, path)
            if kind == "stylegan3-state-dict":
                raise ConvertError("%s: a StyleGAN3 (alias-free) generator; Hyperdomain "
                                   "renders StyleGAN2 generators only" % path)
            ckpt.kind = kind
        mappers = [c for c in checkpoints if c.kind == "mapper"]
        clips = [c for c in checkpoints if c.kind == "clip"]
        if clips and not mappers:
            if len(checkpoints) > 1:
                raise ConvertError("a CLIP is converted on its own: give one CLIP input per "
                                   "command (got %d inputs)" % len(checkpoints))
            if args.clip:
                parser.error("--clip goes with a HyperDomainNet mapper; a CLIP input alone "
                             "(with --bpe) writes a clip file")
            if not args.bpe:
                raise ConvertError("%s: a CLIP model: give its BPE merges with --bpe MERGES to "
                                   "write a clip file (for training domains), or give it "
                                   "with --clip beside a HyperDomainNet mapper"
                                   % clips[0].path)
            if len(args.name) > 1:
                parser.error("one --name for a clip file")
            if args.pack or args.generator is not None:
                parser.error("--pack and --generator are for domains")
        if not mappers and not clips and (args.clip or args.bpe or
                                          args.clip_heads is not None):
            parser.error("--clip, --bpe and --clip-heads go with a HyperDomainNet mapper "
                         "or a CLIP")
        for ckpt in (clips if mappers else []):
            raise ConvertError("%s: a CLIP model; give it with --clip beside the "
                               "HyperDomainNet mapper (MAPPER.pt --clip CLIP.pt --bpe "
                               "MERGES)" % ckpt.path)
        generators = [c for c in checkpoints
                      if c.kind not in ("hyperdomainnet", "mapper", "clip")]
        if clips and not mappers:
            lines, notes = convert_clip(clips[0], args, out)
        elif mappers:
            if len(checkpoints) > 1:
                raise ConvertError("a HyperDomainNet mapper is converted on its own: give one "
                                   "mapper input per command (got %d inputs)"
                                   % len(checkpoints))
            if not args.clip or not args.bpe:
                raise ConvertError("%s: %s" % (mappers[0].path, hypernetwork.NO_CLIP))
            if len(args.name) > 1:
                parser.error("one --name for a hypernetwork")
            if args.pack or args.generator is not None:
                parser.error("--pack and --generator are for domains")
            lines, notes = convert_hypernetwork(mappers[0], args, out)
        elif generators:
            if len(checkpoints) > 1:
                raise ConvertError("a generator is converted on its own: give one generator "
                                   "input per command (got %d inputs)" % len(checkpoints))
            if len(args.name) > 1:
                parser.error("one --name for a generator")
            if args.pack:
                parser.error("--pack is for domains")
            ckpt = checkpoints[0]
            name = args.name[0] if args.name else stem(ckpt.path)
            lines, notes = convert_generator(ckpt.kind, ckpt, args, name, out)
        else:
            if args.name and len(args.name) != len(checkpoints):
                parser.error("give --name once per input (%d names for %d inputs)"
                             % (len(args.name), len(checkpoints)))
            lines, notes = convert_domains(checkpoints, args, args.name, out)
    finally:
        for ckpt in checkpoints:
            ckpt.close()
    if not args.quiet:
        print("\n".join(lines))
        for note in notes:
            print("  note: %s" % note)
    return 0


def main(argv=None):
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ConvertError as exc:
        print("%s: error: %s" % (PROG, exc), file=sys.stderr)
        return 1
    except MemoryError:
        print("%s: error: out of memory" % PROG, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        return 130
