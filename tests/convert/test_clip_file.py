#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of hyperdomain-convert on a CLIP alone (spec/domain-training.md
§7): every `convert` case of tests/conformance/training/cases.json, the
converted files kept beside them (which the engine's tests read), --info,
and the refusals, provoked by editing the fixtures in a temporary folder
(torchwriter.py writes the edited checkpoints, so PyTorch is not needed).

Run: python3 tests/convert/test_clip_file.py [-v]"""

import hashlib
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRAINING = os.path.join(ROOT, "tests", "conformance", "training")
MERGES = os.path.join(ROOT, "tests", "conformance", "text", "bpe_simple_vocab_16e6.txt.gz")

sys.path.insert(0, HERE)
from test_convert import ConverterTest, np, read_safetensors, run_convert, write  # noqa: E402
from test_hypernetwork import load_plain  # noqa: E402

import torchwriter as tw  # noqa: E402

with open(os.path.join(TRAINING, "cases.json")) as _f:
    CASES = json.load(_f)


class ClipFileTest(ConverterTest):
    def args(self, case):
        return [a.replace("{fix}", TRAINING).replace("{out}", self.tmp).replace("{bpe}", MERGES)
                for a in case["args"]]

    def test_convert_cases(self):
        self.assertEqual(len(CASES["convert"]), 2)
        for case in CASES["convert"]:
            run_convert(*self.args(case))
            out = os.path.join(self.tmp, case["output"])
            want = CASES["clips"][case["output"]]
            got, meta, dtypes = read_safetensors(out)
            for key, value in want["metadata"].items():
                self.assertEqual(meta[key], value, key)
            self.assertEqual(json.loads(meta["hyperdomain.config"]), want["config"])
            self.assertEqual(set(got), set(want["tensors"]) | {"tokenizer.merges"})
            for name, shape in want["tensors"].items():
                self.assertEqual(list(got[name].shape), shape, name)
                self.assertEqual(dtypes[name], "F32", name)
            merges = want["tokenizer.merges"]
            self.assertEqual(dtypes["tokenizer.merges"], merges["dtype"])
            self.assertEqual(list(got["tokenizer.merges"].shape), merges["shape"])
            self.assertEqual(hashlib.sha256(got["tokenizer.merges"].tobytes()).hexdigest(),
                             merges["sha256"])
            # the file the engine's tests read is this conversion, byte for byte
            with open(out, "rb") as a, open(os.path.join(TRAINING, case["output"]), "rb") as b:
                self.assertEqual(a.read(), b.read(), case["output"])
            info = run_convert("--info", out).stdout
            self.assertIn("hyperdomain.kind = clip", info)
            self.assertIn("vision: vit width %d" % want["config"]["vision"]["width"], info)

    def test_values_and_f16(self):
        src = os.path.join(TRAINING, "clip-train-b-state.pt")
        sd = load_plain(src)
        out = self.path("b.safetensors")
        run_convert(src, "--bpe", MERGES, "--name", "B", "--dtype", "f16", "-o", out)
        got, meta, dtypes = read_safetensors(out)
        self.assertEqual(meta["hyperdomain.name"], "B")
        for name, arr in got.items():
            if name != "tokenizer.merges":
                self.assertEqual(dtypes[name], "F16")
                np.testing.assert_array_equal(arr.astype(np.float32),
                                              sd[name].astype(np.float16).astype(np.float32))
        self.assertNotIn("logit_scale", got)

    def test_refusals(self):
        src = os.path.join(TRAINING, "clip-train-b-state.pt")
        sd = load_plain(src)

        def edited(name, change):
            d = dict(sd)
            change(d)
            return write(self.path(name), tw.torch_zip_bytes(d))

        def resnet(d):
            d["visual.attnpool.positional_embedding"] = np.zeros((50, 64), np.float32)

        def no_proj(d):
            del d["visual.proj"]

        def odd_grid(d):
            d["visual.positional_embedding"] = np.zeros((18, 64), np.float32)

        def other_embed(d):
            d["visual.proj"] = np.zeros((64, 5), np.float32)

        def nan(d):
            v = np.array(d["visual.ln_pre.weight"], np.float32)
            v[3] = np.nan
            d["visual.ln_pre.weight"] = v

        def stray(d):
            d["visual.transformer.resblocks.0.attn.extra"] = np.zeros(3, np.float32)

        cases = [(resnet, "ResNet image towers (RN50, RN101, RN50x4 …) are not supported"),
                 (no_proj, "no image tower tensor visual.proj"),
                 (odd_grid, "18 rows, which is not a square grid"),
                 (other_embed, "embedding size 5 (visual.proj) differs from the text tower's 12"),
                 (nan, "visual.ln_pre.weight contains NaN"),
                 (stray, "unexpected image tower tensor visual.transformer.resblocks.0.attn.extra")]
        for i, (change, needle) in enumerate(cases):
            path = edited("bad%d.pt" % i, change)
            out = self.path("bad.safetensors")
            proc = run_convert(path, "--bpe", MERGES, "-o", out, check=False)
            self.assertNotEqual(proc.returncode, 0, needle)
            self.assertIn(needle, proc.stderr)
            self.assertFalse(os.path.exists(out))
        proc = run_convert(src, "-o", self.path("x.safetensors"), check=False)
        self.assertIn("give its BPE merges with --bpe MERGES", proc.stderr)
        proc = run_convert(src, src, "--bpe", MERGES, "-o", self.path("x.safetensors"),
                           check=False)
        self.assertIn("a CLIP is converted on its own", proc.stderr)


if __name__ == "__main__":
    unittest.main()
