#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emoji category classifier and the domain metric.

  classify.py train --data .train/emoji64.npz --out .train/classifier.pt
  classify.py eval --clf .train/classifier.pt --gen G.safetensors --pack P.safetensors \
      [--n 512] [--json metrics.json]

train: a small CNN (the image read at 32x32, 3 conv stages, global average pool) on the dataset's
groups, with random translation, colour jitter and blur so that it also
reads soft generated images; 10 % of the images are held out and the
held-out accuracy is printed.

eval: renders --n seeds (0..n-1, noise const, z exactly as
hyperdomain-render computes it) of the base generator and of each domain
of the pack at weight 1, classifies them, and prints for each domain the
share of its samples in the target subset against the share among the
base samples. The bar: share >= 3x base share and >= 50 %.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import stylegan2 as sg  # noqa: E402


class Classifier(nn.Module):
    def __init__(self, n_classes, width=32):
        super().__init__()
        layers, cin = [], 3
        for c in [width, width * 2, width * 4]:
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            cin = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x):
        x = F.avg_pool2d(x, x.shape[-1] // 32)  # read at 32x32
        return self.head(self.features(x).mean(dim=[2, 3]))


def jitter(x):
    n = x.shape[0]
    x = sg.augment(x, "translation")
    x = x + (torch.rand(n, 1, 1, 1) - 0.5) * 0.3
    x = x * (torch.rand(n, 1, 1, 1) * 0.4 + 0.8)
    blur = torch.rand(n) < 0.5
    if blur.any():
        k = torch.tensor([1.0, 2.0, 1.0])
        k = (k[:, None] * k[None, :] / 16).reshape(1, 1, 3, 3).repeat(3, 1, 1, 1)
        xb = x[blur]
        for _ in range(int(torch.randint(1, 4, []))):
            xb = F.conv2d(F.pad(xb, [1, 1, 1, 1], mode="replicate"), k, groups=3)
        x[blur] = xb
    return x


def train(args):
    torch.manual_seed(0)
    d = np.load(args.data)
    x = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    y = torch.from_numpy(d["labels"])
    groups = [str(g) for g in d["groups"]]
    perm = torch.randperm(len(x))
    n_val = len(x) // 10
    val, tr = perm[:n_val], perm[n_val:]
    model = Classifier(len(groups))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = args.epochs * (len(tr) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    step = 0
    for ep in range(args.epochs):
        model.train()
        order = tr[torch.randperm(len(tr))]
        for i in range(0, len(order) - args.batch + 1, args.batch):
            b = order[i:i + args.batch]
            loss = F.cross_entropy(model(jitter(x[b].clone())), y[b], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
        model.eval()
        with torch.no_grad():
            acc = (model(x[val]).argmax(1) == y[val]).float().mean().item()
        print(f"epoch {ep + 1}/{args.epochs} loss {loss.item():.3f} held-out accuracy {acc:.3f}", flush=True)
    sg.atomic_save({"model": model.state_dict(), "groups": groups, "val_acc": acc}, args.out)


def load_classifier(path):
    ck = torch.load(path, map_location="cpu")
    m = Classifier(len(ck["groups"]))
    m.load_state_dict(ck["model"])
    return m.eval(), ck["groups"], ck.get("val_acc")


def predict(model, imgs, bs=128):
    out = []
    with torch.no_grad():
        for i in range(0, len(imgs), bs):
            out.append(model(imgs[i:i + bs]).argmax(1))
    return torch.cat(out)


def render(G, z, domain, bs=64):
    out = []
    with torch.no_grad():
        for i in range(0, len(z), bs):
            out.append(G(z[i:i + bs], domain=domain, noise_mode="const"))
    return torch.cat(out)


def evaluate(clf_path, gen_path, pack_path, n):
    model, groups, val_acc = load_classifier(clf_path)
    G, _ = common.load_generator(gen_path)
    z = common.seed_z(range(n), G.z_dim)
    base = predict(model, render(G, z, None))
    tensors, meta = common.ref.read_safetensors(pack_path)
    ids = sorted({k.split("/")[0] for k in tensors})
    rows = []
    for did in ids:
        targets = common.DOMAINS[did][1] if did in common.DOMAINS else [did]
        tidx = torch.tensor([groups.index(t) for t in targets])
        dom = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith(did + "/")}
        pred = predict(model, render(G, z, dom))
        share = torch.isin(pred, tidx).float().mean().item()
        base_share = torch.isin(base, tidx).float().mean().item()
        ok = share >= 0.5 and share >= 3 * base_share
        rows.append({"domain": did, "target": "+".join(targets), "share": share, "base_share": base_share,
                     "ratio": share / base_share if base_share > 0 else None, "meets_bar": ok})
    hist = torch.bincount(base, minlength=len(groups)).float() / n
    return {"n": n, "classifier_heldout_accuracy": val_acc, "rows": rows,
            "base_distribution": {g: round(h.item(), 4) for g, h in zip(groups, hist)}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch", type=int, default=64)
    e = sub.add_parser("eval")
    e.add_argument("--clf", required=True)
    e.add_argument("--gen", required=True)
    e.add_argument("--pack", required=True)
    e.add_argument("--n", type=int, default=512)
    e.add_argument("--json")
    for p in (t, e):
        p.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cmd == "train":
        train(args)
    else:
        res = evaluate(args.clf, args.gen, args.pack, args.n)
        print(f"classifier held-out accuracy {res['classifier_heldout_accuracy']:.3f}; {res['n']} samples each")
        print("| domain | target | share of samples in target | base share | ratio | bar (>=3x, >=50 %) |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in res["rows"]:
            ratio = f"{r['ratio']:.1f}x" if r["ratio"] is not None else "no base samples"
            print(f"| {r['domain']} | {r['target']} | {100 * r['share']:.1f} % | {100 * r['base_share']:.1f} % | "
                  f"{ratio} | {'met' if r['meets_bar'] else 'not met'} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
