#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of hyperdomain-convert on HyperDomainNet mappers with a CLIP and
BPE merges (spec/text-domains.md §5-§6): every `convert` case of
tests/conformance/text/cases.json, the converted files kept beside them,
and the refusals, provoked by editing the fixtures in a temporary folder
(torchwriter.py writes the edited checkpoints, so PyTorch is not needed).

Run: python3 tests/convert/test_hypernetwork.py [-v]"""

import collections
import gzip
import hashlib
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEXT = os.path.join(ROOT, "tests", "conformance", "text")
FIXTURES = os.path.join(HERE, "fixtures")

sys.path.insert(0, HERE)
from test_convert import ConverterTest, np, read_safetensors, run_convert, write  # noqa: E402

import torchwriter as tw  # noqa: E402
from hdconvert import clip, hypernetwork, torchfile  # noqa: E402

with open(os.path.join(TEXT, "cases.json")) as _f:
    CASES = json.load(_f)
MERGES = os.path.join(TEXT, "bpe_simple_vocab_16e6.txt.gz")
CLIP_ARCHIVE = os.path.join(TEXT, CASES["clip_archive"])
CLIP_STATE = os.path.join(TEXT, CASES["clip_state_dict"])
MAPPER = os.path.join(TEXT, "mapper-tiny.pt")
MAPPER_LRELU = os.path.join(TEXT, "mapper-tiny-lrelu.pt")
OPTIONAL_METADATA = {"hyperdomain.config", "hyperdomain.source"}


def load_plain(path):
    """A checkpoint with every tensor as a NumPy array, to edit and write
    again with torchwriter."""
    def plain(value):
        if isinstance(value, torchfile.Tensor):
            return np.array(value.numpy())
        if isinstance(value, dict):
            return collections.OrderedDict((k, plain(v)) for k, v in value.items())
        return value
    with torchfile.load(path) as ckpt:
        return plain(ckpt.obj)


def script_module(tree, mangle=[0]):
    """A nested dict of arrays as the module tree of a TorchScript
    archive's data.pkl: __torch__ classes (with ___torch_mangle_N suffixes),
    EMPTY_TUPLE, NEWOBJ, BUILD with the attributes."""
    state = collections.OrderedDict()
    for key, value in tree.items():
        state[key] = script_module(value) if isinstance(value, dict) else value
    state["training"] = False
    mangle[0] += 1
    return tw.NewObj(tw.Global("__torch__.clip.model.___torch_mangle_%d" % mangle[0],
                               "Module%d" % (mangle[0] % 3)), state=state)


def nest(sd):
    tree = collections.OrderedDict()
    for name, value in sd.items():
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, collections.OrderedDict())
        node[parts[-1]] = value
    return tree


class HypernetworkTest(ConverterTest):
    def fix(self, arg):
        return arg.replace("{fix}", TEXT).replace("{out}", self.tmp)

    def convert_case(self, case):
        run_convert(*[self.fix(a) for a in case["args"]])
        return os.path.join(self.tmp, case["output"])

    def check_hypernetwork(self, path, expected):
        tensors, meta, dtypes = read_safetensors(path)
        self.assertEqual(set(meta), set(expected["metadata"]) | OPTIONAL_METADATA)
        for key, value in expected["metadata"].items():
            self.assertEqual(meta[key], value, key)
        self.assertEqual(json.loads(meta["hyperdomain.config"]), expected["config"])
        shapes = {k: list(v.shape) for k, v in tensors.items() if k != "tokenizer.merges"}
        self.assertEqual(shapes, expected["tensors"])
        merges = expected["tokenizer.merges"]
        self.assertEqual(dtypes["tokenizer.merges"], merges["dtype"])
        self.assertEqual(list(tensors["tokenizer.merges"].shape), merges["shape"])
        self.assertEqual(hashlib.sha256(tensors["tokenizer.merges"].tobytes()).hexdigest(),
                         merges["sha256"])
        self.assertEqual({dtypes[k] for k in shapes}, {"F32"})
        return tensors, meta

    def check_values(self, tensors, clip_path, mapper_path):
        """Every tensor is the source's value in float32."""
        with torchfile.load(clip_path) as ckpt:
            sd, _ = clip.find_state_dict(ckpt.obj)
            for name in (k for k in tensors if k.startswith("clip.")):
                np.testing.assert_array_equal(tensors[name], sd[name[5:]].numpy(), name)
        with torchfile.load(mapper_path) as ckpt:
            sd = ckpt.obj["state_dict"]
            for name in (k for k in tensors if k.startswith("mapper.")):
                np.testing.assert_array_equal(tensors[name], sd[name[7:]].numpy(), name)

    # ---------------------------------------------------------- conformance

    def test_convert_cases(self):
        outputs = {}
        for case in CASES["convert"]:
            with self.subTest(output=case["output"]):
                path = self.convert_case(case)
                expected = CASES["hypernetworks"].get(
                    case["output"], CASES["hypernetworks"].get(case.get("same_tensors_as")))
                tensors, _ = self.check_hypernetwork(path, expected)
                args = [self.fix(a) for a in case["args"]]
                self.check_values(tensors, args[args.index("--clip") + 1], args[0])
                outputs[case["output"]] = tensors
                if "same_tensors_as" in case:
                    other = outputs[case["same_tensors_as"]]
                    self.assertEqual(list(tensors), list(other))
                    for name in tensors:
                        np.testing.assert_array_equal(tensors[name], other[name], name)

    def test_committed_files_are_fresh_conversions(self):
        # tests/conformance/text/tiny-text*.safetensors: the engine's
        # fixtures, as the converter writes them now (README there).
        for case in CASES["convert"]:
            if "same_tensors_as" in case:
                continue
            with self.subTest(output=case["output"]):
                fresh = self.convert_case(case)
                with open(fresh, "rb") as a, \
                        open(os.path.join(TEXT, case["output"]), "rb") as b:
                    self.assertTrue(a.read() == b.read(),
                                    "%s differs from a fresh conversion: write it again with "
                                    "the command in %s/README.md" % (case["output"], TEXT))

    def test_f16_and_plain_merges(self):
        plain = self.path("merges.txt")
        with gzip.open(MERGES, "rb") as f:
            write(plain, f.read())
        out16 = self.path("f16.safetensors")
        proc = run_convert(MAPPER, "--clip", CLIP_ARCHIVE, "--bpe", plain, "--clip-heads", "4",
                           "--dtype", "f16", "--name", "Tiny text", "--description", "a test",
                           "-o", out16)
        self.assertIn("hypernetwork", proc.stdout)
        self.assertIn("differ from a standard 32x32 rosinality generator", proc.stdout)
        t16, meta, dtypes = read_safetensors(out16)
        self.assertEqual(meta["hyperdomain.name"], "Tiny text")
        self.assertEqual(meta["hyperdomain.description"], "a test")
        self.assertIn("mapper-tiny.pt", meta["hyperdomain.source"])
        self.assertIn("clip-small.pt", meta["hyperdomain.source"])
        self.assertEqual(dtypes.pop("tokenizer.merges"), "U8")
        self.assertEqual(set(dtypes.values()), {"F16"})
        t32, _, _ = read_safetensors(os.path.join(TEXT, "tiny-text.safetensors"))
        np.testing.assert_array_equal(t16["tokenizer.merges"], t32["tokenizer.merges"])
        for name in dtypes:
            np.testing.assert_allclose(t16[name], t32[name], rtol=1e-3, atol=1e-4,
                                       err_msg=name)

    def test_info(self):
        hyper = os.path.join(TEXT, "tiny-text.safetensors")
        out = run_convert("--info", "--clip-heads", "4", MAPPER, CLIP_ARCHIVE, CLIP_STATE,
                          hyper).stdout
        for text in ("HyperDomainNet hypernetwork (mapper)", "model_type: 'mapper'",
                     '"mapper_type": "residual_channelin"', "patch_key: 'cin_mult'",
                     "da_type: 'td'", "clip_encoder: None", "'img_size': 32",
                     "heads' C_in: [64, 64, 64, 64, 32, 32, 16]",
                     "container: TorchScript archive", "container: state dict",
                     "text: width 64, 4 heads (--clip-heads), 2 layers, context 77, "
                     "vocabulary 768, embedding 16",
                     "vision: ViT width 64, 0 layers, patch 4, 8 px",
                     "published model: none (custom)",
                     "hyperdomain.kind = hypernetwork", "CLIP custom: width 64, 4 heads",
                     "7 layers: synthesis.b4.conv1", "254 lines after the header"):
            self.assertIn(text, out)
        self.assertEqual(sorted(os.listdir(self.tmp)), [])

    # ---------------------------------------------------- mapper variations

    def convert_mapper(self, ckpt, clip_path=CLIP_ARCHIVE, merges=MERGES, heads=("4",),
                       check=False):
        src = write(self.path("mapper-edit.pt"), tw.torch_zip_bytes(ckpt))
        out = self.path("out.safetensors")
        if os.path.exists(out):
            os.unlink(out)
        args = [src, "--clip", clip_path, "--bpe", merges]
        if heads:
            args += ["--clip-heads"] + list(heads)
        proc = run_convert(*(args + ["-o", out]), check=check)
        if not check:
            self.assertEqual(proc.returncode, 1, proc.stdout)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
            self.assertFalse(os.path.exists(out))
        return proc, out

    def test_dictconfig_mapper_config(self):
        # The real OmegaConf pickle of mapper-tiny's mapper_config (with its
        # parent config): read as data, the same file as from the plain dict.
        ckpt = load_plain(MAPPER)
        with open(os.path.join(FIXTURES, "omegaconf-mapper-config.pkl"), "rb") as f:
            ckpt["mapper_config"] = tw.Raw(f.read())
        _proc, out = self.convert_mapper(ckpt, check=True)
        got, meta, _ = read_safetensors(out)
        ref, ref_meta, _ = read_safetensors(os.path.join(TEXT, "tiny-text.safetensors"))
        self.assertEqual(meta["hyperdomain.config"], ref_meta["hyperdomain.config"])
        self.assertEqual(list(got), list(ref))
        for name in got:
            np.testing.assert_array_equal(got[name], ref[name], name)
        info = run_convert("--info", self.path("mapper-edit.pt")).stdout
        self.assertIn('"activation": "relu"', info)

    def test_dictconfig_with_typed_nodes(self):
        # DictConfig built here: typed nodes, an unsupported activation.
        meta = tw.NewObj(tw.Global("omegaconf.base", "ContainerMetadata"), state={
            "ref_type": tw.Global("typing", "Any"), "object_type": tw.Global("builtins", "dict"),
            "optional": True, "key": "mapper_config", "flags": {}, "flags_root": False,
            "resolver_cache": tw.Reduce(tw.Global("collections", "defaultdict"),
                                        (tw.Global("builtins", "dict"),)),
            "key_type": tw.Global("typing", "Any"), "element_type": tw.Global("typing", "Any")})
        content = collections.OrderedDict()
        for key, value in CASES["mappers"]["mapper-tiny.pt"].items():
            node = {bool: "BooleanNode", int: "IntegerNode", str: "StringNode"}[type(value)]
            content[key] = tw.NewObj(tw.Global("omegaconf.nodes", node), state={
                "_metadata": None, "_parent": None,
                "_val": "gelu" if key == "activation" else value})
        ckpt = load_plain(MAPPER)
        ckpt["mapper_config"] = tw.NewObj(tw.Global("omegaconf.dictconfig", "DictConfig"),
                                          state={"_metadata": meta, "_parent": None,
                                                 "_content": content})
        proc, _ = self.convert_mapper(ckpt)
        self.assertIn("activation 'gelu' is not supported", proc.stderr)

    def test_mapper_refusals(self):
        def edit(**changes):
            ckpt = load_plain(MAPPER)
            for key, value in changes.items():
                if key in ckpt["mapper_config"]:
                    ckpt["mapper_config"][key] = value
                else:
                    ckpt[key] = value
            return ckpt

        cases = [
            (edit(patch_key="csep_mult"), ["csep_mult", "cin_mult"]),
            (edit(activation="gelu"), ["gelu", "relu, lrelu, prelu, id"]),
            (edit(mapper_type="residual_channelwise_sep"),
             ["residual_channelwise_sep", "only residual_channelin / shared / cin_mult"]),
            (edit(backbone_type="levels"), ["'levels'", "residual_channelin / shared"]),
            (edit(input_dimension=32, width=32),
             ["input_dimension 32", "embedding size 16", "mapper-edit.pt", "clip-small.pt"]),
            (edit(width=8), ["width 8", "input_dimension 16", "mapper-edit.pt",
                             "clip-small.pt"]),
            (edit(sg2_params=dict(CASES["sg2_params"], img_size=64)),
             ["img_size 64", "K = 9", "conv_0 .. conv_6 (7)"]),
            (edit(sg2_params=dict(CASES["sg2_params"], img_size=48)), ["img_size 48"]),
            (edit(clip_encoder="ViT-B/32"), ["ViT-B/32", "mapper-edit.pt", "clip-small.pt"]),
            (edit(model_type="mapper", mapper_config=[1, 2]), ["mapper_config is list"]),
        ]
        ckpt = load_plain(MAPPER)
        del ckpt["state_dict"]["heads.conv_3.in.1.bias"]
        cases.append((ckpt, ["no tensor heads.conv_3.in.1.bias"]))
        ckpt = load_plain(MAPPER)
        ckpt["state_dict"]["heads.conv_0.extra"] = np.ones(2, np.float32)
        cases.append((ckpt, ["unexpected tensor heads.conv_0.extra"]))
        ckpt = load_plain(MAPPER)
        ckpt["state_dict"]["backbone.backbone.1.second_block.1.running_var"] = np.ones(
            15, np.float32)
        cases.append((ckpt, ["backbone.backbone.1.second_block.1.running_var", "[15]"]))
        ckpt = load_plain(MAPPER)
        ckpt["state_dict"]["backbone.backbone.0.lin.bias"][3] = np.nan
        cases.append((ckpt, ["backbone.backbone.0.lin.bias", "NaN"]))
        for ckpt, expect in cases:
            with self.subTest(expect=expect[0]):
                proc, _ = self.convert_mapper(ckpt)
                for text in expect:
                    self.assertIn(text, proc.stderr)

    def test_unpublished_clip_encoder_is_kept(self):
        ckpt = load_plain(MAPPER_LRELU)
        ckpt["clip_encoder"] = "my-clip"
        proc, out = self.convert_mapper(ckpt, check=True)
        self.assertIn("'my-clip' is not a published CLIP", proc.stdout)
        _t, meta, _ = read_safetensors(out)
        self.assertEqual(json.loads(meta["hyperdomain.config"])["clip"]["name"], "my-clip")

    def test_prelu_tensors(self):
        ckpt = load_plain(MAPPER)
        ckpt["mapper_config"]["activation"] = "prelu"
        sd = ckpt["state_dict"]
        sd["backbone.backbone.0.act.weight"] = np.full(1, 0.25, np.float32)
        for r in ("backbone.backbone.1",) + tuple("heads.conv_%d.in.0" % k for k in range(7)):
            sd[r + ".input_block.2.weight"] = np.full(1, 0.1, np.float32)
            sd[r + ".out.weight"] = np.full(1, 0.2, np.float32)
        _proc, out = self.convert_mapper(ckpt, check=True)
        got, meta, _ = read_safetensors(out)
        self.assertEqual(json.loads(meta["hyperdomain.config"])["mapper"]["activation"], "prelu")
        self.assertEqual(list(got["mapper.heads.conv_6.in.0.out.weight"].shape), [1])
        del sd["heads.conv_6.in.0.out.weight"]
        proc, _ = self.convert_mapper(ckpt)
        self.assertIn("heads.conv_6.in.0.out.weight", proc.stderr)

    # ------------------------------------------------------ CLIP variations

    def test_script_archive_built_here(self):
        # A TorchScript-style archive of the state-dict CLIP with other
        # class names and a vision transformer block: only the text side's
        # transformer.resblocks count.
        sd = load_plain(CLIP_STATE)
        sd["visual.transformer.resblocks.0.ln_1.weight"] = np.ones(64, np.float16)
        sd["visual.transformer.resblocks.0.attn.in_proj_weight"] = np.ones((192, 64),
                                                                          np.float16)
        sd["input_resolution"] = np.array(8, np.int64)
        data = tw.torch_zip_bytes(script_module(nest(sd)), archive="any-name")
        archive = write(self.path("script.pt"), data)
        proc, out = self.convert_mapper(load_plain(MAPPER), clip_path=archive, check=True)
        self.assertIn("TorchScript archive", proc.stdout)
        got, _m, _ = read_safetensors(out)
        ref, _m, _ = read_safetensors(os.path.join(TEXT, "tiny-text.safetensors"))
        self.assertEqual(set(got), set(ref))
        for name in got:
            np.testing.assert_array_equal(got[name], ref[name], name)
        info = run_convert("--info", archive).stdout
        self.assertIn("ViT width 64, 1 layers, patch 4, 8 px", info)

    def test_clip_refusals(self):
        ckpt = load_plain(MAPPER)
        _proc, out = self.convert_mapper(ckpt, heads=(), check=True)
        _t, meta, _ = read_safetensors(out)
        self.assertEqual(json.loads(meta["hyperdomain.config"])["clip"]["heads"], 1)
        rng = np.random.RandomState(5)
        narrow = collections.OrderedDict(
            (name, np.asarray(rng.randn(*[48 if s == 64 else s * 3 // 4 if s in (192, 256)
                                          else s for s in arr.shape]), np.float32))
            for name, arr in load_plain(CLIP_STATE).items())
        path = write(self.path("narrow.pt"), tw.torch_zip_bytes(narrow))
        proc, _ = self.convert_mapper(ckpt, clip_path=path, heads=())
        self.assertIn("width 48 is not a multiple of 64", proc.stderr)
        self.assertIn("--clip-heads", proc.stderr)
        proc, _ = self.convert_mapper(ckpt, heads=("5",))
        self.assertIn("not a multiple of 5 heads", proc.stderr)
        sd = load_plain(CLIP_STATE)
        sd["transformer.resblocks.1.mlp.c_fc.bias"] = np.ones(255, np.float16)
        bad = write(self.path("bad-clip.pt"), tw.torch_zip_bytes({"state_dict": sd}))
        proc, _ = self.convert_mapper(ckpt, clip_path=bad)
        self.assertIn("transformer.resblocks.1.mlp.c_fc.bias has shape [255]", proc.stderr)
        del sd["transformer.resblocks.1.mlp.c_fc.bias"]
        write(bad, tw.torch_zip_bytes(sd))
        proc, _ = self.convert_mapper(ckpt, clip_path=bad)
        self.assertIn("no tensor transformer.resblocks.1.mlp.c_fc.bias", proc.stderr)
        proc, _ = self.convert_mapper(ckpt, clip_path=MAPPER)
        self.assertIn("not a CLIP", proc.stderr)

    def test_vision_tower_names_published_models(self):
        def shapes(named):
            out = {}
            for name, shape in named.items():
                n = int(np.prod(shape))
                storage = torchfile.Storage(torchfile.STORAGE_TYPES["FloatStorage"], n,
                                            lambda: b"")
                strides = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
                out[name] = torchfile.Tensor(storage, 0, shape, strides)
            return out

        vit = {"visual.proj": (768, 512), "visual.conv1.weight": (768, 3, 32, 32),
               "visual.positional_embedding": (50, 768)}
        vit.update({"visual.transformer.resblocks.%d.ln_1.weight" % i: (768,)
                    for i in range(12)})
        self.assertEqual(clip.vision_tower(shapes(vit)), clip.PUBLISHED["ViT-B/32"][4])
        rn = {"visual.layer1.0.conv1.weight": (64, 64, 1, 1),
              "visual.attnpool.positional_embedding": (50, 2048)}
        for b, n in enumerate((3, 4, 6, 3), start=1):
            rn.update({"visual.layer%d.%d.bn1.weight" % (b, i): (1,) for i in range(n)})
        self.assertEqual(clip.vision_tower(shapes(rn)), clip.PUBLISHED["RN50"][4])
        self.assertIsNone(clip.vision_tower({}))

    # ----------------------------------------------------------- the merges

    def test_merges_refusals(self):
        with gzip.open(MERGES, "rb") as f:
            lines = f.read().split(b"\n")
        cases = [
            (lines[:200], "has 199 merge lines; the CLIP's vocabulary of 768 needs 254"),
            (lines[:5] + [b"\xff\xfe x"] + lines[5:300], "not UTF-8"),
            (lines[:5] + [b"a  b"] + lines[5:300], "line 6 is not two symbols"),
            (lines[:3] + [lines[1]] + lines[3:300], "the vocabulary has 'in' twice"),
        ]
        ckpt = load_plain(MAPPER_LRELU)
        for i, (content, expect) in enumerate(cases):
            with self.subTest(expect=expect):
                path = write(self.path("merges-%d.txt" % i), b"\n".join(content))
                if i == 0:
                    path = write(self.path("merges-0.txt.gz"), gzip.compress(b"\n".join(
                        content)))
                proc, _ = self.convert_mapper(ckpt, merges=path)
                self.assertIn(expect, proc.stderr)
                self.assertIn(os.path.basename(path), proc.stderr)
        # exactly the needed lines, the last without its LF: accepted
        path = write(self.path("exact.txt"), b"\n".join(lines[:255]))
        _proc, out = self.convert_mapper(ckpt, merges=path, check=True)
        got, _m, _ = read_safetensors(out)
        self.assertEqual(hashlib.sha256(got["tokenizer.merges"].tobytes()).hexdigest(),
                         CASES["hypernetworks"]["tiny-text.safetensors"]["tokenizer.merges"][
                             "sha256"])

    def test_merges_blob_unit(self):
        self.assertEqual(len(hypernetwork.byte_symbols()), 256)
        self.assertEqual(hypernetwork.byte_symbols()[188], "\u0100")
        blob = hypernetwork.merges_blob(b"#header\na b\nab c\nextra", 516, "m")
        self.assertEqual(blob.tobytes(), b"#header\na b\nab c\n")

    # ---------------------------------------------------------- the command

    def test_command_line(self):
        out = self.path("o.safetensors")
        proc = run_convert(MAPPER, "-o", out, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(hypernetwork.NO_CLIP, proc.stderr)
        self.assertIn("a HyperDomainNet hypernetwork: give --clip CLIP.pt and --bpe MERGES",
                      proc.stderr)
        proc = run_convert(MAPPER, "--clip", CLIP_ARCHIVE, "-o", out, check=False)
        self.assertIn(hypernetwork.NO_CLIP, proc.stderr)
        proc = run_convert(CLIP_ARCHIVE, "-o", out, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("give it with --clip", proc.stderr)
        proc = run_convert(MAPPER, MAPPER_LRELU, "--clip", CLIP_ARCHIVE, "--bpe", MERGES,
                           "-o", out, check=False)
        self.assertIn("on its own", proc.stderr)
        proc = run_convert(CLIP_STATE, "--clip", CLIP_ARCHIVE, "-o", out, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--clip goes with a HyperDomainNet mapper", proc.stderr)
        proc = run_convert(MAPPER, "--clip", CLIP_ARCHIVE, "--bpe", MERGES, "--clip-heads",
                           "0", "-o", out, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
