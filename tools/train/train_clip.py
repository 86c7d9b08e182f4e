#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trains the demo's own small CLIP from scratch on the emoji images and
their English and Russian captions (captions.py), with BPE merges learned
on those captions (cliptok.py), and exports it in OpenAI's layout for
hyperdomain-convert (a clip file for training domains, and the text tower
of the demo's hypernetwork).

    train_clip.py --data .train/emoji64.npz --captions .train/captions.json \\
                  --merges .train/emoji-merges.txt --dir .train/clip [--minutes M]
    train_clip.py ... --export CLIP.pt        # the state dict, OpenAI's names
    train_clip.py ... --eval                  # zero-shot accuracy on held-out glyphs

Held out: every image whose index is 0 mod 10 (215 of 2,153), never seen
in training.  Zero-shot: each held-out image classified into the dataset's
ten groups by the prompts "an emoji of {group}" (English) or
"эмодзи: {group}" (Russian), the group with the highest cosine.

The run checkpoints every 5 minutes and on SIGTERM into DIR/clip.pt and
resumes from it; training is deterministic for a given seed and thread
count.  Preprocessing: the image in [0, 1], CLIP's mean and standard
deviation, at the dataset's 64 x 64 (the tower's resolution, so no
resampling), with a random shift of up to 4 pixels (white border)."""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cliptok  # noqa: E402
from clip_model import CLIP  # noqa: E402

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
# Small enough to train on two CPU cores across sessions (batch 32 of the
# first draft, 192 wide and 4 layers, took 7 s a step at nice 19 on one
# busy core).
ARCH = dict(embed_dim=128, image_resolution=64, patch_size=8, vision_width=128, vision_layers=3,
            context_length=32, text_width=128, text_layers=3)
GROUPS_RU = {"smileys": "смайлики", "people": "люди", "animals": "животные", "plants": "растения",
             "food": "еда", "travel": "путешествия", "activities": "занятия", "objects": "предметы",
             "symbols": "символы", "flags": "флаги"}


def load(args):
    d = np.load(args.data)
    with open(args.captions, encoding="utf-8") as f:
        caps = json.load(f)["images"]
    assert len(caps) == len(d["images"])
    tok = cliptok.Tokenizer(cliptok.read_merges(args.merges))
    images = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 255.0
    groups = [str(g) for g in d["groups"]]
    texts = []
    for c, label in zip(caps, d["labels"]):
        # Besides the CLDR captions, one per language that names the
        # image's group with its name, so that group words ("animals",
        # "еда") mean something to the text tower; always with the name,
        # so no two images share the caption.
        group = groups[int(label)]
        extra = [f"{c['names']['en']}, an emoji of {group}"] if c["names"].get("en") else []
        if c["names"].get("ru"):
            extra.append(f"эмодзи: {GROUPS_RU[group]}, {c['names']['ru']}")
        ids = [tok.encode(t) for t in c["captions"]["en"] + c["captions"]["ru"] + extra]
        texts.append([i for i in ids if len(i) <= ARCH["context_length"]])
    return images, d["labels"], groups, texts, tok


def normalise(x):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def shift(x, gen, pad=4):
    """A random shift of up to PAD pixels per image (white fill)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), value=1.0)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def token_tensor(rows, context):
    t = torch.zeros(len(rows), context, dtype=torch.long)
    for i, r in enumerate(rows):
        t[i, :len(r)] = torch.tensor(r)
    return t


def zero_shot(model, images, labels, groups, tok, held):
    model.eval()
    out = {}
    with torch.no_grad():
        img = model.encode_image(normalise(images[held]))
        img = img / img.norm(dim=1, keepdim=True)
        for lang, fmt in (("en", "an emoji of {}"), ("ru", "эмодзи: {}")):
            names = groups if lang == "en" else [GROUPS_RU[g] for g in groups]
            txt = model.encode_text(token_tensor([tok.encode(fmt.format(n)) for n in names],
                                                 ARCH["context_length"]))
            txt = txt / txt.norm(dim=1, keepdim=True)
            pred = (img @ txt.t()).argmax(dim=1).numpy()
            out[lang] = float(np.mean(pred == labels[held]))
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--captions", required=True)
    ap.add_argument("--merges", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this long (0: at --steps)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", action="store_true")
    ap.add_argument("--export", metavar="CLIP.pt")
    ap.add_argument("--seed-ckpt", metavar="PATH",
                    help="start from this compact checkpoint when DIR has none (the committed one)")
    ap.add_argument("--write-seed-ckpt", metavar="PATH",
                    help="write the compact checkpoint (weights in float16, no optimiser state) and stop")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images, labels, groups, texts, tok = load(args)
    n = len(images)
    held = np.arange(n)[np.arange(n) % 10 == 0]
    train = np.arange(n)[np.arange(n) % 10 != 0]
    model = CLIP(vocab_size=tok.vocab_size, **ARCH)
    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in name]
    rest = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in name)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    os.makedirs(args.dir, exist_ok=True)
    ckpt = os.path.join(args.dir, "clip.pt")
    step, log = 0, []
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, log = state["step"], state["log"]
        gen.set_state(state["gen"])
        rng.set_state(state["rng"])
        print("resumed at step %d" % step, flush=True)
    elif args.seed_ckpt and os.path.exists(args.seed_ckpt):
        state = torch.load(args.seed_ckpt)
        model.load_state_dict({k: v.float() for k, v in state["model"].items()})
        step, log = state["step"], state["log"]
        gen.set_state(state["gen"])
        rng.set_state(state["rng"])
        print("started from the compact checkpoint at step %d (fresh optimiser state)" % step, flush=True)

    if args.write_seed_ckpt:
        torch.save({"model": {k: v.detach().half() for k, v in model.state_dict().items()},
                    "step": step, "log": log, "gen": gen.get_state(), "rng": rng.get_state(),
                    "arch": ARCH, "vocab_size": tok.vocab_size}, args.write_seed_ckpt)
        print("wrote %s at step %d" % (args.write_seed_ckpt, step))
        return 0

    if args.eval or args.export:
        acc = zero_shot(model, images, labels, groups, tok, held)
        print(json.dumps({"step": step, "zero_shot_heldout": acc, "heldout": int(len(held))}))
        if args.export:
            sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
            torch.save(sd, args.export)
            print("wrote %s (%d tensors)" % (args.export, len(sd)))
        return 0

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *a: stop.update(now=True))

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log,
                    "gen": gen.get_state(), "rng": rng.get_state(), "arch": ARCH,
                    "vocab_size": tok.vocab_size}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    start = last_save = time.time()
    while step < args.steps and not stop["now"]:
        if args.minutes and time.time() - start > args.minutes * 60:
            break
        lr = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.choice(train, size=args.batch, replace=False)
        rows = [texts[i][rng.randint(len(texts[i]))] for i in idx]
        img = normalise(shift(images[idx], gen))
        txt = token_tensor(rows, ARCH["context_length"])
        logits_i, logits_t = model(img, txt)
        target = torch.arange(len(idx))
        # Images of one glyph may share captions with others (same names): the
        # plain CLIP loss, as OpenAI trains it.
        loss = (F.cross_entropy(logits_i, target) + F.cross_entropy(logits_t, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        if step % 20 == 0:
            print("step %d loss %.4f lr %.2e logit_scale %.2f %.1fs" %
                  (step, loss.item(), lr, model.logit_scale.exp().item(), time.time() - start), flush=True)
        if step % 200 == 0:
            acc = zero_shot(model, images, labels, groups, tok, held)
            log.append({"step": step, "loss": loss.item(), "zero_shot": acc})
            print("step %d zero-shot on held-out glyphs: %s" % (step, acc), flush=True)
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    print("stopped at step %d" % step, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
