#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train the small StyleGAN2 of stylegan2.py on the emoji dataset, resuming
from the checkpoint in --dir when one is there.

  train_base.py --data .train/emoji64.npz --dir .train --kimg 2000

Non-saturating logistic loss, lazy R1 on reals (every 16 D steps), style
mixing, an EMA copy of G (G_ema, what gets exported), differentiable
augmentation of everything D sees. The checkpoint (--dir/base.pt) is
written atomically every --ckpt-min minutes, on SIGTERM/SIGINT, and at the
end; the current G_ema is exported to --dir/base-latest.safetensors with
it, and a progress log is appended to --dir/base-log.txt.
"""
import argparse
import copy
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stylegan2 as sg  # noqa: E402

GEN_NAME = "Hyperdomain Emoji 64"
GEN_DESC = ("A small StyleGAN2 (64x64) trained by the Hyperdomain project on the colour emoji "
            "of Noto Color Emoji, as a demo model.")
GEN_LICENSE = ("Trained on the glyphs of Noto Color Emoji (Copyright 2013-2017 Google Inc., "
               "SIL Open Font License 1.1); see data/models/README.md of Hyperdomain.")
GEN_SOURCE = "tools/train in the Hyperdomain source tree (Debian fonts-noto-color-emoji)"

ARCH = dict(z_dim=128, w_dim=128, img_resolution=64, map_layers=4, channel_base=2048, channel_max=128)
D_ARCH = dict(img_resolution=64, channel_base=2048, channel_max=128)


def load_images(path):
    d = np.load(path)
    x = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return x, torch.from_numpy(d["labels"]), [str(g) for g in d["groups"]]


def save_grid(G, path, n=64, seed=123):
    from PIL import Image
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=g)
    with torch.no_grad():
        img = G(z, noise_mode="const")
    img = (img.clamp(-1, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    side = int(np.ceil(np.sqrt(n)))
    res = img.shape[-1]
    grid = torch.full((3, side * res, side * res), 255, dtype=torch.uint8)
    for i in range(n):
        grid[:, (i // side) * res:(i // side + 1) * res, (i % side) * res:(i % side + 1) * res] = img[i]
    Image.fromarray(grid.permute(1, 2, 0).numpy()).save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--kimg", type=float, default=2000, help="total training length in thousands of real images shown to D")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.0025)
    ap.add_argument("--gamma", type=float, default=0.1, help="R1 weight")
    ap.add_argument("--r1-interval", type=int, default=16)
    ap.add_argument("--mix", type=float, default=0.5, help="style mixing probability")
    ap.add_argument("--ema-kimg", type=float, default=5.0)
    ap.add_argument("--ema-rampup", type=float, default=0.05)
    ap.add_argument("--aug", default="color,translation,cutout")
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--seed-ckpt", default="",
                    help="compact checkpoint (G_ema, D, progress) to start from when --dir holds none; "
                         "the optimiser state starts afresh")
    ap.add_argument("--write-seed-ckpt", default="",
                    help="only write the compact checkpoint of --dir/base.pt to this path and exit")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    os.makedirs(args.dir, exist_ok=True)
    ckpt_path = os.path.join(args.dir, "base.pt")
    log_path = os.path.join(args.dir, "base-log.txt")
    dev = torch.device(args.device)

    reals, _, _ = load_images(args.data)
    reals = reals.to(dev)
    torch.manual_seed(args.seed)
    G = sg.Generator(**ARCH).to(dev)
    D = sg.Discriminator(**D_ARCH).to(dev)
    G_ema = copy.deepcopy(G).eval()
    for p in G_ema.parameters():
        p.requires_grad_(False)
    c = args.r1_interval / (args.r1_interval + 1)
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.0, 0.99), eps=1e-8)
    optD = torch.optim.Adam(D.parameters(), lr=args.lr * c, betas=(0.0, 0.99 ** c), eps=1e-8)
    state = {"nimg": 0, "step": 0, "wall": 0.0}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=dev)
        G.load_state_dict(ck["G"])
        D.load_state_dict(ck["D"])
        G_ema.load_state_dict(ck["G_ema"])
        optG.load_state_dict(ck["optG"])
        optD.load_state_dict(ck["optD"])
        state = ck["state"]
        torch.set_rng_state(ck["rng"])
        print(f"resumed from {ckpt_path}: {state['nimg'] / 1000:.1f} kimg, step {state['step']}", flush=True)
    elif args.seed_ckpt and os.path.exists(args.seed_ckpt):
        ck = torch.load(args.seed_ckpt, map_location=dev)
        if ck.get("arch") != ARCH or ck.get("d_arch") != D_ARCH:
            sys.exit(f"{args.seed_ckpt}: made for another architecture ({ck.get('arch')}), not {ARCH}")
        G_ema.load_state_dict({k: v.float() for k, v in ck["G_ema"].items()})
        G.load_state_dict(G_ema.state_dict())
        D.load_state_dict({k: v.float() for k, v in ck["D"].items()})
        state = dict(ck["state"])
        print(f"started from the compact checkpoint {args.seed_ckpt}: {state['nimg'] / 1000:.1f} kimg, "
              f"step {state['step']}", flush=True)

    if args.write_seed_ckpt:
        if not os.path.exists(ckpt_path):
            sys.exit(f"{ckpt_path} does not exist")
        half = lambda sd: {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        sg.atomic_save({"G_ema": half(G_ema.state_dict()), "D": half(D.state_dict()), "state": state,
                        "arch": ARCH, "d_arch": D_ARCH}, args.write_seed_ckpt)
        print(f"wrote {args.write_seed_ckpt} ({os.path.getsize(args.write_seed_ckpt) / 1e6:.1f} MB) "
              f"at {state['nimg'] / 1000:.1f} kimg", flush=True)
        return 0

    def checkpoint(reason):
        sg.atomic_save({"G": G.state_dict(), "D": D.state_dict(), "G_ema": G_ema.state_dict(),
                        "optG": optG.state_dict(), "optD": optD.state_dict(), "state": state,
                        "rng": torch.get_rng_state(), "arch": ARCH, "d_arch": D_ARCH, "args": vars(args)},
                       ckpt_path)
        G_cpu = copy.deepcopy(G_ema).cpu()
        sg.export_generator(G_cpu, os.path.join(args.dir, "base-latest.safetensors"), GEN_NAME,
                            GEN_DESC, GEN_LICENSE, GEN_SOURCE)
        save_grid(G_cpu, os.path.join(args.dir, "base-latest.png"))
        line = (f"checkpoint ({reason}) kimg {state['nimg'] / 1000:.2f} step {state['step']} "
                f"wall {state['wall'] / 60:.1f} min")
        print(line, flush=True)
        with open(log_path, "a") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    B = args.batch
    t_last_ckpt = time.time()
    t_log, n_log = time.time(), state["nimg"]
    t_prev = time.time()
    while state["nimg"] < args.kimg * 1000 and not stop["flag"]:
        # ---- D step (with lazy R1 folded in on every r1_interval-th step)
        idx = torch.randint(0, reals.shape[0], (B,), device=dev)
        real = reals[idx]
        do_r1 = state["step"] % args.r1_interval == 0
        with torch.no_grad():
            fake = G(torch.randn(B, G.z_dim, device=dev), mix_prob=args.mix)
        if do_r1:
            real = real.detach().requires_grad_(True)
        lr_ = D(sg.augment(real, args.aug))
        lf = D(sg.augment(fake, args.aug))
        lossD = F.softplus(lf).mean() + F.softplus(-lr_).mean()
        if do_r1:
            (g,) = torch.autograd.grad(lr_.sum(), real, create_graph=True)
            r1 = g.square().sum(dim=[1, 2, 3]).mean()
            lossD = lossD + r1 * (args.gamma / 2) * args.r1_interval
        optD.zero_grad(set_to_none=True)
        lossD.backward()
        optD.step()

        # ---- G step
        fake = G(torch.randn(B, G.z_dim, device=dev), mix_prob=args.mix, update_w_avg=True)
        lossG = F.softplus(-D(sg.augment(fake, args.aug))).mean()
        optG.zero_grad(set_to_none=True)
        for p in D.parameters():
            p.requires_grad_(False)
        lossG.backward()
        for p in D.parameters():
            p.requires_grad_(True)
        optG.step()

        # ---- EMA
        state["nimg"] += B
        state["step"] += 1
        ema_nimg = min(args.ema_kimg * 1000, state["nimg"] * args.ema_rampup)
        beta = 0.5 ** (B / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.copy_(p.lerp(pe, beta))
            for be, b in zip(G_ema.buffers(), G.buffers()):
                be.copy_(b)
        now = time.time()
        state["wall"] += now - t_prev
        t_prev = now

        if state["step"] % 10 == 0:
            rate = (state["nimg"] - n_log) / (now - t_log)
            t_log, n_log = now, state["nimg"]
            print(f"kimg {state['nimg'] / 1000:.2f} step {state['step']} img/s {rate:.1f} "
                  f"lossD {lossD.item():.3f} lossG {lossG.item():.3f} "
                  f"Dreal {lr_.mean().item():+.2f} Dfake {lf.mean().item():+.2f} "
                  f"wall {state['wall'] / 60:.1f} min", flush=True)
        if now - t_last_ckpt > args.ckpt_min * 60:
            checkpoint("periodic")
            t_last_ckpt = time.time()
            t_prev = time.time()
    checkpoint("signal" if stop["flag"] else "done")


if __name__ == "__main__":
    sys.exit(main())
