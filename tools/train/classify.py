#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emoji category classifier and the domain metric.

  classify.py train --data .train/emoji64.npz --out .train/classifier.pt
  classify.py eval --clf .train/classifier.pt --gen G.safetensors --pack P.safetensors \
      [--n 512] [--json metrics.json]
  classify.py eval --clf .train/classifier.pt --gen G.safetensors --domain D.safetensors --target GROUP
  classify.py quality --clf .train/classifier.pt --data .train/emoji64.npz \
      [--model G.safetensors|base.pt|base-seed.pt ...] [--floor] [--n 2000] [--json q.json [--append]]

train: a small CNN (the image read at 32x32, 3 conv stages, global average pool) on the dataset's
groups, with random translation, colour jitter and blur so that it also
reads soft generated images; 10 % of the images are held out and the
held-out accuracy is printed.

eval: renders --n seeds (0..n-1, noise const, z exactly as
hyperdomain-render computes it) of the base generator and of each domain
of the pack at weight 1, classifies them, and prints for each domain the
share of its samples in the target subset against the share among the
base samples. The bar: share >= 3x base share and >= 50 %.

quality: two figures of a base generator (a generator file, or the G_ema
of a training checkpoint: .train/base.pt or the compact
tools/train/checkpoint/base-seed.pt), from --n seeds (0..n-1, noise const,
images rounded to 8 bits as the app writes them):
  - KID against the dataset's images on the classifier's penultimate
    features (the 128 numbers after global average pooling): the unbiased
    MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3 (Binkowski et al.
    2018), averaged over --subsets random subsets of --subset-size of each
    side (the spread over the subsets is printed with it); lower is better;
  - the confident share: the share of samples that the classifier puts in
    some group with probability >= --conf (0.8). The share among the
    dataset's own images (most of which the classifier was trained on) is
    printed as a reference.
--floor also measures the dataset against itself, split in two random
halves: the KID that two samples of the same images give, the level
under which differences are noise. --append merges the entries into an
existing --json file (an entry of the same model and images seen is
replaced), so that it keeps a history.
"""
import argparse
import json
import os
import sys
import time

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

    def embed(self, x):
        """The penultimate features: the last stage, globally average-pooled."""
        x = F.avg_pool2d(x, x.shape[-1] // 32)  # read at 32x32
        return self.features(x).mean(dim=[2, 3])

    def forward(self, x):
        return self.head(self.embed(x))


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


def weights_sha256(model):
    """A hash of the classifier's weights (not of the file), to tell whether two runs used the same one."""
    import hashlib
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


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


def evaluate(clf_path, gen_path, pack_path, n, domain_path=None, target=None):
    """The metric of each domain of the pack at PACK_PATH or, with
    DOMAIN_PATH, of that one domain file against the group TARGET."""
    model, groups, val_acc = load_classifier(clf_path)
    G, _ = common.load_generator(gen_path)
    z = common.seed_z(range(n), G.z_dim)
    base = predict(model, render(G, z, None))
    if domain_path:
        if target not in groups:
            sys.exit(f"--target {target}: not one of the groups {', '.join(groups)}")
        tensors, meta = common.ref.read_safetensors(domain_path)
        name = meta.get("hyperdomain.name", os.path.basename(domain_path))
        domains = [(name, [target], {k: v for k, v in tensors.items() if not k.startswith("style.")})]
    else:
        tensors, meta = common.ref.read_safetensors(pack_path)
        ids = sorted({k.split("/")[0] for k in tensors})
        domains = [(did, common.DOMAINS[did][1] if did in common.DOMAINS else [did],
                    {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith(did + "/")})
                   for did in ids]
    rows = []
    for did, targets, dom in domains:
        tidx = torch.tensor([groups.index(t) for t in targets])
        pred = predict(model, render(G, z, dom))
        share = torch.isin(pred, tidx).float().mean().item()
        base_share = torch.isin(base, tidx).float().mean().item()
        ok = share >= 0.5 and share >= 3 * base_share
        rows.append({"domain": did, "target": "+".join(targets), "share": share, "base_share": base_share,
                     "ratio": share / base_share if base_share > 0 else None, "meets_bar": ok})
    hist = torch.bincount(base, minlength=len(groups)).float() / n
    return {"n": n, "classifier_heldout_accuracy": val_acc, "rows": rows,
            "base_distribution": {g: round(h.item(), 4) for g, h in zip(groups, hist)}}


def start(clf_path, gen_path, pack_path, n):
    """The window's first image (models README, "The first start"): every
    domain of the pack at weight 1 on seeds 0 .. N-1 (psi 1, noise const, as
    the window starts) through the classifier; the domain whose samples it
    puts in the target group most surely (the highest median probability,
    not one lucky seed), at its most confident seed."""
    model, groups, _ = load_classifier(clf_path)
    G, _ = common.load_generator(gen_path)
    z = common.seed_z(range(n), G.z_dim)
    tensors, _ = common.ref.read_safetensors(pack_path)
    candidates = []
    for did in sorted({k.split("/")[0] for k in tensors}):
        targets = common.DOMAINS[did][1] if did in common.DOMAINS else [did]
        tidx = torch.tensor([groups.index(t) for t in targets])
        dom = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith(did + "/")}
        with torch.no_grad():
            probs = torch.cat([torch.softmax(model(x), 1) for x in render(G, z, dom).split(128)])
        p = probs[:, tidx].sum(1)
        seed = int(p.argmax())
        print(f"{did}: seed {seed}, p({'+'.join(targets)}) = {p[seed]:.3f}; "
              f"median over the seeds {p.median():.3f}")
        candidates.append({"domain": did, "seed": seed, "probability": round(float(p[seed]), 4),
                           "median_probability": round(float(p.median()), 4)})
    pick = max(candidates, key=lambda c: c["median_probability"])
    did = pick["domain"]
    return {"domain": did, "name": common.DOMAINS.get(did, (did,))[0], "weight": 1.0, "seed": pick["seed"],
            "psi": 1.0, "probability": pick["probability"], "median_probability": pick["median_probability"],
            "candidates": candidates, "seeds_tried": n, "generator_sha256": common.file_sha256(gen_path),
            "classifier_weights_sha256": weights_sha256(model)}


def load_base(path):
    """(G, label, kimg or None, sha256 of the file) of a generator file or a training checkpoint."""
    if path.endswith(".safetensors"):
        G, _ = common.load_generator(path)
        return G, os.path.basename(path), None, common.file_sha256(path)
    import train_base
    ck = torch.load(path, map_location="cpu")
    if ck.get("arch") != train_base.ARCH:
        sys.exit(f"{path}: made for another architecture ({ck.get('arch')}), not {train_base.ARCH}")
    G = sg.Generator(**ck["arch"])
    G.load_state_dict({k: v.float() for k, v in ck["G_ema"].items()})
    kimg = ck["state"]["nimg"] / 1000
    return G.eval(), f"{os.path.basename(path)} G_ema", kimg, common.file_sha256(path)


def to_8bit(x):
    """Images in [-1, 1] rounded to 8 bits as the app writes them, read back as the dataset is read."""
    return (x * 127.5 + 128).clamp(0, 255).floor() / 127.5 - 1.0


def features(model, imgs, bs=256):
    """(penultimate features, softmax probabilities) of each image."""
    feats, probs = [], []
    with torch.no_grad():
        for i in range(0, len(imgs), bs):
            f = model.embed(imgs[i:i + bs])
            feats.append(f.double())
            probs.append(F.softmax(model.head(f), dim=1))
    return torch.cat(feats).numpy(), torch.cat(probs)


def kid(fx, fy, subsets, subset_size, seed=0):
    """Mean and standard deviation over subsets of the unbiased MMD^2, kernel (x.y / d + 1)^3."""
    rng = np.random.RandomState(seed)
    d = fx.shape[1]
    m = min(subset_size, len(fx), len(fy))
    vals = []
    for _ in range(subsets):
        x = fx[rng.choice(len(fx), m, replace=False)]
        y = fy[rng.choice(len(fy), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals)), m


def quality(args):
    model, groups, val_acc = load_classifier(args.clf)
    d = np.load(args.data)
    reals = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    f_real, p_real = features(model, reals)
    res = {"classifier": os.path.basename(args.clf), "classifier_weights_sha256": weights_sha256(model),
           "classifier_heldout_accuracy": val_acc, "dataset": os.path.basename(args.data),
           "dataset_images": len(reals), "n": args.n, "subsets": args.subsets, "subset_size": args.subset_size,
           "conf": args.conf, "kernel": "(x.y/d+1)^3", "features": "classifier penultimate (128)",
           "dataset_confident_share": (p_real.max(1).values >= args.conf).float().mean().item(), "entries": []}
    if args.floor:
        perm = np.random.RandomState(args.seed).permutation(len(reals))
        half = len(reals) // 2
        k, s, m = kid(f_real[perm[:half]], f_real[perm[half:]], args.subsets, args.subset_size, args.seed)
        res["floor"] = {"kid": k, "kid_std": s, "subset_size": m, "halves": [half, len(reals) - half]}
    for path in args.model:
        G, label, kimg, sha = load_base(path)
        z = common.seed_z(range(args.n), G.z_dim)
        f_gen, p_gen = features(model, to_8bit(render(G, z, None)))
        k, s, m = kid(f_gen, f_real, args.subsets, args.subset_size, args.seed)
        conf = p_gen.max(1).values
        hist = torch.bincount(p_gen.argmax(1), minlength=len(groups)).float() / args.n
        res["entries"].append({
            "model": label, "sha256": sha, "kimg": kimg, "kid": k, "kid_std": s, "subset_size": m,
            "confident_share": (conf >= args.conf).float().mean().item(),
            "mean_max_prob": conf.mean().item(),
            "distribution": {g: round(h.item(), 4) for g, h in zip(groups, hist)},
            "measured": time.strftime("%Y-%m-%d %H:%M:%S")})
    return res


def print_quality(res):
    print(f"classifier held-out accuracy {res['classifier_heldout_accuracy']:.3f}; KID on its penultimate "
          f"features, kernel {res['kernel']}, {res['subsets']} subsets; {res['n']} seeds per generator "
          f"against the dataset's {res['dataset_images']} images")
    print(f"| model | kimg | KID x 1000 | confident share (p >= {res['conf']:g}) |")
    print("| --- | --- | --- | --- |")
    if "floor" in res:
        f = res["floor"]
        print(f"| dataset, one half against the other ({f['halves'][0]} / {f['halves'][1]} images) | | "
              f"{1000 * f['kid']:.2f} ± {1000 * f['kid_std']:.2f} | |")
    print(f"| dataset images | | | {100 * res['dataset_confident_share']:.1f} % |")
    for e in res["entries"]:
        kimg = f"{e['kimg']:.1f}" if e["kimg"] is not None else ""
        print(f"| {e['model']} | {kimg} | {1000 * e['kid']:.2f} ± {1000 * e['kid_std']:.2f} | "
              f"{100 * e['confident_share']:.1f} % |")


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
    e.add_argument("--pack", help="a domain pack: every domain against its group")
    e.add_argument("--domain", help="instead of --pack: one domain file, against --target")
    e.add_argument("--target", help="with --domain: the group its images should fall in")
    e.add_argument("--n", type=int, default=512)
    e.add_argument("--json")
    q = sub.add_parser("quality")
    q.add_argument("--clf", required=True)
    q.add_argument("--data", required=True)
    q.add_argument("--model", action="append", default=[],
                   help="a generator file (.safetensors) or a training checkpoint (.pt); repeatable")
    q.add_argument("--floor", action="store_true", help="also the dataset's two halves against each other")
    q.add_argument("--n", type=int, default=2000)
    q.add_argument("--subsets", type=int, default=100)
    q.add_argument("--subset-size", type=int, default=1000)
    q.add_argument("--conf", type=float, default=0.8)
    q.add_argument("--seed", type=int, default=0, help="of the subsets and of the halves")
    q.add_argument("--json")
    q.add_argument("--append", action="store_true", help="merge into --json when it exists")
    st = sub.add_parser("start", help="the window's first image, from the classifier (models README)")
    st.add_argument("--clf", required=True)
    st.add_argument("--gen", required=True)
    st.add_argument("--pack", required=True)
    st.add_argument("--n", type=int, default=512)
    st.add_argument("--json", required=True)
    for p in (t, e, q, st):
        p.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cmd == "train":
        train(args)
    elif args.cmd == "start":
        res = start(args.clf, args.gen, args.pack, args.n)
        print(json.dumps(res, indent=2))
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    elif args.cmd == "quality":
        res = quality(args)
        if args.json and args.append and os.path.exists(args.json):
            with open(args.json) as f:
                old = json.load(f)
            same = ("classifier_weights_sha256", "n", "subsets", "subset_size", "conf", "dataset_images")
            if any(old.get(k) != res[k] for k in same):
                sys.exit(f"{args.json} was measured with another classifier or other settings; not merging")
            keys = {(e["model"], e["kimg"]) for e in res["entries"]}
            res["entries"] = [e for e in old.get("entries", []) if (e["model"], e["kimg"]) not in keys] + \
                res["entries"]
            if "floor" not in res and "floor" in old:
                res["floor"] = old["floor"]
        print_quality(res)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
    else:
        if not args.pack and not args.domain:
            sys.exit("eval: give --pack or --domain (with --target)")
        res = evaluate(args.clf, args.gen, args.pack, args.n, args.domain, args.target)
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
