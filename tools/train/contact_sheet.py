#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A contact sheet rendered by hyperdomain-render: one row per setting
(base, each domain of the pack at weight 1, and a 0.5/0.5 blend of two
domains), one column per seed.  With --hypernetwork, one row per prompt of
--prompts instead (the base first); those of --held are marked "held out".

  contact_sheet.py --render build/app/cli/hyperdomain-render \
      --gen data/models/emoji64.safetensors --pack data/models/emoji64-domains.safetensors \
      --seeds 16 --blend smileys,animals -o data/screenshots/demo-emoji64.png
  contact_sheet.py --render ... --gen ... --hypernetwork data/models/emoji64-text.safetensors \
      --prompts "cat,tiger,pizza" --held tiger -o data/screenshots/demo-emoji64-text.png
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--pack")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--blend", default="smileys,animals")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--hypernetwork", help="rows of text prompts through this hypernetwork file")
    ap.add_argument("--prompts", default="", help="comma-separated prompts (with --hypernetwork)")
    ap.add_argument("--held", default="", help="comma-separated prompts to mark as held out")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    rows = [("base", [])]
    held = {p for p in args.held.split(",") if p}
    if args.hypernetwork:
        for p in [p for p in args.prompts.split(",") if p]:
            rows.append((f"\u201c{p}\u201d" + (" (held out)" if p in held else ""),
                         ["--hypernetwork", args.hypernetwork, f"--text={p}"]))
    elif args.pack:
        tensors, meta = common.ref.read_safetensors(args.pack)
        ids = sorted({k.split("/")[0] for k in tensors})
        for did in ids:
            rows.append((f"{meta.get(did + '.name', did)} x1", [f"--domain={args.pack}#{did}=1"]))
        a, b = args.blend.split(",")
        if a in ids and b in ids:
            rows.append((f"{meta.get(a + '.name', a)} 0.5 + {meta.get(b + '.name', b)} 0.5",
                         [f"--domain={args.pack}#{a}=0.5", f"--domain={args.pack}#{b}=0.5"]))

    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for r, (label, doms) in enumerate(rows):
            cmd = [args.render, "--model", args.gen, f"--seeds=0-{args.seeds - 1}", "-o",
                   os.path.join(tmp, f"r{r}_%05d.png")]
            cmd += doms
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            tiles.append([np.asarray(Image.open(os.path.join(tmp, f"r{r}_{s:05d}.png")).convert("RGB"))
                          for s in range(args.seeds)])

    res = tiles[0][0].shape[0] * args.scale
    label_w, pad = 230, 4
    W = label_w + args.seeds * (res + pad)
    H = len(rows) * (res + pad) + 24
    sheet = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    # Prompts may be Cyrillic: a TrueType font where Debian has one (fonts-dejavu-core).
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 13)
    except OSError:
        font = ImageFont.load_default()
    for s in range(args.seeds):
        draw.text((label_w + s * (res + pad) + res // 2 - 10, 6), f"seed {s}", fill=(80, 80, 80), font=font)
    for r, (label, _) in enumerate(rows):
        y = 24 + r * (res + pad)
        draw.text((6, y + res // 2 - 6), label, fill=(0, 0, 0), font=font)
        for s in range(args.seeds):
            im = Image.fromarray(tiles[r][s]).resize((res, res), Image.NEAREST)
            sheet.paste(im, (label_w + s * (res + pad), y))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    sheet.save(args.output, optimize=True)
    print(f"{args.output}: {len(rows)} rows x {args.seeds} seeds")


if __name__ == "__main__":
    sys.exit(main())
