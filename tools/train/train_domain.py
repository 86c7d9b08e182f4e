#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train HyperDomainNet-style domain vectors for a frozen generator.

  train_domain.py --gen data/models/emoji64.safetensors --base-ckpt .train/base.pt \
      --data .train/emoji64.npz --dir .train/domains --steps 1500 \
      --pack data/models/emoji64-domains.safetensors [--domains smileys,animals,food,flags]

For each domain only the vector d (one entry per input channel of every
synthesis conv, zero at the start; applied after demodulation as in
spec generator-math.md §4) is trained, with the generator's weights
frozen, adversarially against a discriminator that starts from the base
discriminator and is fine-tuned on the target subset of the emoji
(non-saturating loss, lazy R1, the same differentiable augmentation as
the base training). Each domain's state is checkpointed to
--dir/<id>.pt, so a run resumes; when the generator file changed since a
domain was trained, its d is kept as the starting point and its step
count restarts. All domains are written to one domain pack (--pack).
"""
import argparse
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import stylegan2 as sg  # noqa: E402

DEFAULT_LR_d = 0.01
DEFAULT_LR_D = 0.002
DEFAULT_GAMMA = 0.1


def train_one(did, G, D_state, d_arch, reals, args, gen_hash, stop):
    dev = reals.device
    path = os.path.join(args.dir, f"{did}.pt")
    layers = G.synthesis.conv_names()
    d = {name: torch.zeros(cin, device=dev, requires_grad=True) for name, cin in layers}
    D = sg.Discriminator(**d_arch).to(dev)
    D.load_state_dict(D_state)
    c = args.r1_interval / (args.r1_interval + 1)
    optd = torch.optim.Adam(list(d.values()), lr=args.lr_d, betas=(0.0, 0.99))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr_D * c, betas=(0.0, 0.99 ** c), eps=1e-8)
    state = {"step": 0, "wall": 0.0, "gen": gen_hash, "schedule": []}
    if os.path.exists(path):
        ck = torch.load(path, map_location=dev)
        with torch.no_grad():
            for k in d:
                d[k].copy_(ck["d"][k])
        if ck["state"]["gen"] == gen_hash:
            D.load_state_dict(ck["D"])
            optd.load_state_dict(ck["optd"])
            optD.load_state_dict(ck["optD"])
            state = ck["state"]
        print(f"[{did}] resumed at step {state['step']}" +
              ("" if ck["state"]["gen"] == gen_hash else " (generator changed: d kept, D restarted)"), flush=True)
    # The learning rates and R1 weight of this run apply from here on, also on resuming; the
    # schedule records them (from step, lr of d, lr of D, gamma) for the models README.
    for g in optd.param_groups:
        g["lr"] = args.lr_d
    for g in optD.param_groups:
        g["lr"] = args.lr_D * c
    if "schedule" not in state:
        # Checkpoints from before the schedule was recorded: run.sh trained them at the defaults.
        state["schedule"] = [[0, DEFAULT_LR_d, DEFAULT_LR_D, DEFAULT_GAMMA]] if state["step"] else []
    sched = state["schedule"]
    setting = [args.lr_d, args.lr_D, args.gamma]
    if state["step"] < args.steps and (not sched or sched[-1][1:] != setting):
        sched.append([state["step"]] + setting)

    def save():
        sg.atomic_save({"d": {k: v.detach().cpu() for k, v in d.items()}, "D": D.state_dict(),
                        "optd": optd.state_dict(), "optD": optD.state_dict(), "state": state}, path)

    B = args.batch
    t_prev, t_ckpt = time.time(), time.time()
    while state["step"] < args.steps and not stop["flag"]:
        real = reals[torch.randint(0, reals.shape[0], (B,), device=dev)]
        do_r1 = state["step"] % args.r1_interval == 0
        with torch.no_grad():
            fake = G(torch.randn(B, G.z_dim, device=dev), domain=d)
        if do_r1:
            real = real.detach().requires_grad_(True)
        lr_ = D(sg.augment(real, args.aug))
        lf = D(sg.augment(fake, args.aug))
        lossD = F.softplus(lf).mean() + F.softplus(-lr_).mean()
        if do_r1:
            (g,) = torch.autograd.grad(lr_.sum(), real, create_graph=True)
            lossD = lossD + g.square().sum(dim=[1, 2, 3]).mean() * (args.gamma / 2) * args.r1_interval
        optD.zero_grad(set_to_none=True)
        lossD.backward()
        optD.step()

        for p in D.parameters():
            p.requires_grad_(False)
        fake = G(torch.randn(B, G.z_dim, device=dev), domain=d)
        lossd = F.softplus(-D(sg.augment(fake, args.aug))).mean()
        optd.zero_grad(set_to_none=True)
        lossd.backward()
        optd.step()
        for p in D.parameters():
            p.requires_grad_(True)

        state["step"] += 1
        now = time.time()
        state["wall"] += now - t_prev
        t_prev = now
        if state["step"] % 25 == 0:
            norm = torch.sqrt(sum(v.detach().square().sum() for v in d.values())).item()
            print(f"[{did}] step {state['step']} lossD {lossD.item():.3f} loss_d {lossd.item():.3f} "
                  f"|d| {norm:.3f} wall {state['wall'] / 60:.1f} min", flush=True)
        if now - t_ckpt > args.ckpt_min * 60:
            save()
            t_ckpt = time.time()
    save()
    return {k: v.detach().cpu() for k, v in d.items()}, state


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gen", required=True, help="the generator file the domains are for")
    ap.add_argument("--base-ckpt", required=True, help="base training checkpoint (its D is the starting D)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--domains", default="smileys,animals,food,flags", help="the domains of the pack")
    ap.add_argument("--train", help="the domains to train in this run (default: all of --domains); "
                    "the others go into the pack from their checkpoints")
    ap.add_argument("--steps", type=int, default=1500, help="total steps per domain")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr-d", type=float, default=DEFAULT_LR_d, help="Adam learning rate of d")
    ap.add_argument("--lr-D", type=float, default=DEFAULT_LR_D, help="Adam learning rate of D")
    ap.add_argument("--gamma", type=float, default=DEFAULT_GAMMA, help="R1 weight of D")
    ap.add_argument("--r1-interval", type=int, default=16)
    ap.add_argument("--aug", default="color,translation,cutout")
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    dev = torch.device(args.device)
    G, meta = common.load_generator(args.gen, dev)
    for p in G.parameters():
        p.requires_grad_(False)
    gen_hash = common.file_sha256(args.gen)
    ck = torch.load(args.base_ckpt, map_location="cpu")
    data = np.load(args.data)
    groups = [str(g) for g in data["groups"]]
    images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    labels = data["labels"]

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *a: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *a: stop.update(flag=True))

    out = {}
    ids = [s for s in args.domains.split(",") if s]
    train = [s for s in (args.train or args.domains).split(",") if s]
    for did in train:
        if did not in ids:
            sys.exit(f"--train: {did} is not one of --domains")
    for did in train:
        name, targets, desc = common.DOMAINS[did]
        mask = np.isin(labels, [groups.index(t) for t in targets])
        reals = images[torch.from_numpy(mask)].to(dev)
        print(f"[{did}] {int(mask.sum())} target images", flush=True)
        d, state = train_one(did, G, ck["D"], ck["d_arch"], reals, args, gen_hash, stop)
        out[did] = (name, f"{desc} ({state['step']} steps)", d)
        if stop["flag"]:
            break
    # Domains not trained in this run but checkpointed earlier for this generator stay in the pack.
    for did in [s for s in ids if s not in out]:
        path = os.path.join(args.dir, f"{did}.pt")
        if os.path.exists(path):
            c = torch.load(path, map_location="cpu")
            name, _, desc = common.DOMAINS[did]
            out[did] = (name, f"{desc} ({c['state']['step']} steps)", c["d"])
    out = {did: out[did] for did in ids if did in out}  # the pack lists them in --domains order
    common.write_domain_pack(args.pack, out, meta.get("hyperdomain.name", ""))
    print(f"wrote {args.pack}: {', '.join(out)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
