#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Export the G_ema of a base training checkpoint to a generator file
(F16, spec formats.md §1) and check it.

  export.py --ckpt .train/base.pt -o data/models/emoji64.safetensors [--check N]

--check N: renders seeds 0..N-1 both with the training module (loaded
back from the written file) and with tools/bench/torch_reference.py (the
forward pass of spec generator-math.md) and fails if they differ by more
than 1e-4.
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import stylegan2 as sg  # noqa: E402
import train_base  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--check", type=int, default=4)
    args = ap.parse_args()

    ck = torch.load(args.ckpt, map_location="cpu")
    G = sg.Generator(**ck["arch"])
    G.load_state_dict(ck["G_ema"])
    st = ck["state"]
    desc = (f"{train_base.GEN_DESC} Training: {st['nimg'] / 1000:.1f} kimg, {st['step']} steps, "
            f"{st['wall'] / 3600:.2f} h.")
    sg.export_generator(G, args.output, train_base.GEN_NAME, desc, train_base.GEN_LICENSE, train_base.GEN_SOURCE)
    print(f"{args.output}: {os.path.getsize(args.output)} bytes, {st['nimg'] / 1000:.1f} kimg")

    if args.check:
        G2, _ = common.load_generator(args.output)
        R = common.ref.Generator(args.output)
        worst = 0.0
        with torch.no_grad():
            for s in range(args.check):
                z = common.seed_z([s], G2.z_dim)
                a = G2(z, noise_mode="const")
                b = R.synthesis(R.mapping(z), {}, "const")
                worst = max(worst, (a - b).abs().max().item())
        print(f"training module vs reference forward on the file: max abs diff {worst:.2e}")
        if worst > 1e-4:
            sys.exit("export check failed")


if __name__ == "__main__":
    sys.exit(main())
