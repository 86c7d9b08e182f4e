#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo's hypernetwork: a HyperDomainNet mapper (``residual_channelin``,
shared backbone) from the demo CLIP's text embedding to a domain of the
emoji generator, so that a typed prompt ("cat", "pizza", "флаг") gives a
domain.

  train_mapper.py --gen data/models/emoji64.safetensors --pack data/models/emoji64-domains.safetensors \\
      --clip .train/clip/export.pt --merges tools/train/checkpoint/emoji-merges.txt \\
      --data .train/emoji64.npz --captions .train/captions.json --dir .train/mapper \\
      [--eval --clf .train/classifier.pt --json OUT.json]

How it is trained (--mode distill, the default): the domains of the pack
were trained adversarially toward groups of the dataset; every English and
Russian CLDR name, keyword and caption of a glyph of such a group, and the
group's own names, is a training prompt whose target is that group's
domain vector.  The mapper learns d(e) by mean squared error on the CLIP
text embedding e (unit length, HyperDomainNet's normalisation), with a
little Gaussian noise on e.  The prompts of the held-out list below, and
every training prompt that contains one of the held-out words, are never
seen.  --mode text trains the paper's way instead (CLIP's directional loss
on the generator's images plus the text-direction loss, no domain pack),
for comparison.

Written: DIR/mapper.pt, the dict HyperDomainNet's trainer saves (what
hyperdomain-convert reads), and with --eval the metric of each evaluation
prompt (512 seeds, the classifier's share of the prompt's group against
the base generator's), as JSON.
"""
import argparse
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import classify  # noqa: E402
import cliptok  # noqa: E402
import common  # noqa: E402
from clip_model import CLIP  # noqa: E402
from train_clip import ARCH, GROUPS_RU, normalise  # noqa: E402

# Held-out prompts (never trained on), each with the dataset group it names.  Words: every
# training prompt that contains the word is dropped too.  Exact: only that very prompt is
# dropped (group names, whose words are in hundreds of captions).
HELD_WORDS = [
    ("tiger", "animals"), ("penguin", "animals"), ("rabbit", "animals"), ("dolphin", "animals"),
    ("тигр", "animals"), ("кролик", "animals"),
    ("burger", "food"), ("croissant", "food"), ("banana", "food"), ("сыр", "food"), ("банан", "food"),
    ("Italy", "flags"), ("Canada", "flags"), ("Италия", "flags"),
    ("laughing", "smileys"), ("wink", "smileys"), ("подмигивает", "smileys"),
]
HELD_EXACT = [("флаг", "flags"), ("flag of Japan", "flags"), ("a smiling face", "smileys")]
# The four group-name prompts of the metric (trained on: they are the groups' own names).
GROUP_PROMPTS = {"smileys": ["smileys", "смайлики"], "animals": ["animals", "животные"],
                 "food": ["food", "еда"], "flags": ["flags", "флаги"]}
# Also shown and measured: prompts a newcomer types first (trained on).
SHOWN = [("cat", "animals"), ("pizza", "food"), ("flag", "flags"), ("кот", "animals"),
         ("пицца", "food"), ("smiley", "smileys")]

ACT = "relu"


class BNLinAct(nn.Module):
    """HyperDomainNet's BNLinRelu: BN(act(Lin(x)))."""

    def __init__(self, inf, outf):
        super().__init__()
        self.lin = nn.Linear(inf, outf)
        self.bn = nn.BatchNorm1d(outf)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.bn(self.act(self.lin(x)))


class Res(nn.Module):
    """HyperDomainNet's DummyResBlock: act(BN(Lin(act(BN(Lin(x))))) + x)."""

    def __init__(self, width, inner):
        super().__init__()
        self.input_block = nn.Sequential(nn.Linear(width, inner), nn.BatchNorm1d(inner), nn.ReLU())
        self.second_block = nn.Sequential(nn.Linear(inner, width), nn.BatchNorm1d(width))
        self.out = nn.ReLU()

    def forward(self, x):
        return self.out(self.second_block(self.input_block(x)) + x)


class Head(nn.Module):
    def __init__(self, width, inner, cin, depth):
        super().__init__()
        self.add_module("in", nn.Sequential(*[Res(width, inner) for _ in range(depth - 1)],
                                            nn.Linear(width, cin)))
        last = getattr(self, "in")[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, x):
        return getattr(self, "in")(x)


class Backbone(nn.Module):
    def __init__(self, width, inner, depth):
        super().__init__()
        self.backbone = nn.Sequential(BNLinAct(width, width), *[Res(width, inner) for _ in range(depth - 1)])

    def forward(self, x):
        return self.backbone(x)


class Heads(nn.Module):
    def __init__(self, width, inner, cins, depth):
        super().__init__()
        for k, cin in enumerate(cins):
            self.add_module(f"conv_{k}", Head(width, inner, cin, depth))

    def forward(self, x):
        return [getattr(self, f"conv_{k}")(x) for k in range(len(self._modules))]


class Mapper(nn.Module):
    """residual_channelin with a shared backbone, in HyperDomainNet's tensor names."""

    def __init__(self, width, inner, cins, backbone_depth=4, head_depth=2):
        super().__init__()
        self.config = {"mapper_type": "residual_channelin", "backbone_type": "shared", "activation": ACT,
                       "input_dimension": width, "width": width, "backbone_depth": backbone_depth,
                       "head_depth": head_depth}
        self.backbone = Backbone(width, inner, backbone_depth)
        self.heads = Heads(width, inner, cins, head_depth)

    def forward(self, e):
        return self.heads(self.backbone(e))


def load_clip(path, vocab_size):
    model = CLIP(vocab_size=vocab_size, **ARCH)
    sd = torch.load(path, map_location="cpu")
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def embed(model, tok, prompts, bs=256):
    """Unit-length text embeddings (spec text-domains.md §3)."""
    out = []
    with torch.no_grad():
        for i in range(0, len(prompts), bs):
            rows = [tok.encode(p, ARCH["context_length"]) for p in prompts[i:i + bs]]
            t = torch.zeros(len(rows), ARCH["context_length"], dtype=torch.long)
            for j, r in enumerate(rows):
                t[j, :len(r)] = torch.tensor(r)
            e = model.encode_text(t)
            out.append(e / e.norm(dim=1, keepdim=True))
    return torch.cat(out)


def word_in(word, text):
    return re.search(r"(?<!\w)" + re.escape(word.lower()) + r"(?!\w)", text.lower()) is not None


def group_names(g):
    return GROUP_PROMPTS.get(g, [g]) + [f"an emoji of {g}", f"эмодзи: {GROUPS_RU[g]}"]


def prompts_of(captions, labels, groups, targets, tok):
    """(prompt, {group: count}) of every training prompt: the CLDR names, keywords and captions of
    each glyph of a TARGETS group, in both languages, with the number of glyphs of each group that
    it names ("cat": two animals, nine smileys), and the groups' names; held-out ones dropped."""
    seen = {}      # prompt -> {group: glyphs of that group it names}
    for c, label in zip(captions, labels):
        g = groups[int(label)]
        if g not in targets:
            continue
        texts = []
        for lang in ("en", "ru"):
            if c["names"].get(lang):
                texts.append(c["names"][lang])
            texts += c["keywords"].get(lang, []) + c["captions"].get(lang, [])
        for t in set(texts):
            seen.setdefault(t, {}).setdefault(g, 0)
            seen[t][g] += 1
    for g in targets:
        for t in group_names(g):
            seen[t] = {g: 1}
    out = []
    for t, gs in sorted(seen.items()):
        if any(word_in(w, t) for w, _ in HELD_WORDS) or any(t == p for p, _ in HELD_EXACT):
            continue
        try:
            tok.encode(t, ARCH["context_length"])
        except ValueError:
            continue
        out.append((t, gs))
    return out


def pack_domains(path, layers):
    tensors, _ = common.ref.read_safetensors(path)
    ids = sorted({k.split("/")[0] for k in tensors})
    return {did: torch.cat([torch.from_numpy(np.asarray(tensors[f"{did}/{name}"], np.float32)) for name, _ in layers])
            for did in ids}


def train_distill(args, mapper, clip, tok, layers, data):
    captions, labels, groups = data
    targets = pack_domains(args.pack, layers)
    group_of = {common.DOMAINS[did][1][0]: did for did in targets}
    pairs = prompts_of(captions, labels, groups, set(group_of), tok)
    main_group = [max(gs, key=gs.get) for _, gs in pairs]
    print(f"{len(pairs)} training prompts: " + ", ".join(
        f"{g} {main_group.count(g)}" for g in group_of), flush=True)
    e = embed(clip, tok, [p for p, _ in pairs])
    # A prompt that names glyphs of several groups aims at their mean, weighted by the glyphs.
    y = torch.stack([sum(n * targets[group_of[g]] for g, n in gs.items()) / sum(gs.values()) for _, gs in pairs])
    # Each group weighs the same, however many prompts it has; the groups' own names get
    # --name-weight of each batch.
    counts = {g: main_group.count(g) for g in group_of}
    names = {t for g in group_of for t in group_names(g)}
    n_names = sum(1 for p, _ in pairs if p in names)
    w = torch.tensor([args.name_weight / n_names if p in names else
                      (1 - args.name_weight) / (len(counts) * counts[g]) for (p, _), g in zip(pairs, main_group)])
    opt = torch.optim.Adam(mapper.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    gen = torch.Generator().manual_seed(args.seed)
    scale = y.square().mean().item()
    t0 = time.time()
    for step in range(1, args.steps + 1):
        idx = torch.multinomial(w, args.batch, replacement=True, generator=gen)
        x = e[idx] + args.noise * torch.randn(args.batch, e.shape[1], generator=gen)
        x = x / x.norm(dim=1, keepdim=True)
        pred = torch.cat(mapper(x), dim=1)
        loss = (pred - y[idx]).square().mean() / scale
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == args.steps:
            print(f"step {step} relative mse {loss.item():.4f} wall {time.time() - t0:.0f} s", flush=True)
    return {"mode": "distill", "prompts": len(pairs), "steps": args.steps}


def clip_images(img):
    """Generator output [-1, 1] to the CLIP's input (64 px already)."""
    return normalise((img.clamp(-1, 1) + 1) / 2)


def train_text(args, mapper, clip, tok, layers, data, G):
    """The paper's way: for a batch of prompts, d = mapper(e_T); the CLIP direction between the base
    image and the domain image must follow the direction from the source text to the prompt."""
    captions, labels, groups = data
    prompts = [p for p, _ in prompts_of(captions, labels, groups, {"smileys", "animals", "food", "flags"}, tok)]
    e = embed(clip, tok, prompts)
    src = embed(clip, tok, ["emoji"])
    opt = torch.optim.Adam(mapper.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    names = [n for n, _ in layers]
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(prompts), (args.batch,), generator=gen)
        ds = mapper(e[idx])
        z = torch.randn(args.batch, G.z_dim, generator=gen)
        with torch.no_grad():
            ws = G.ws(z)
            base = clip.encode_image(clip_images(G.synthesis(ws, None, "const")))
        imgs = []
        for b in range(args.batch):
            dom = {n: ds[k][b] for k, n in enumerate(names)}
            imgs.append(G.synthesis(ws[b:b + 1], dom, "const"))
        emb = clip.encode_image(clip_images(torch.cat(imgs)))
        di = F.normalize(emb - base, dim=1)
        dt = F.normalize(e[idx] - src, dim=1)
        loss_dir = (1 - (di * dt).sum(1)).mean()
        # tt-direction: image directions of two prompts of the batch align as their text directions do
        sim_i = di @ di.t()
        sim_t = dt @ dt.t()
        loss_tt = (sim_i - sim_t).abs().mean()
        loss = loss_dir + args.tt_weight * loss_tt
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == args.steps:
            print(f"step {step} direction {loss_dir.item():.4f} tt {loss_tt.item():.4f} "
                  f"wall {time.time() - t0:.0f} s", flush=True)
    return {"mode": "text", "prompts": len(prompts), "steps": args.steps, "source": "emoji"}


def mapper_domain(mapper, clip, tok, layers, prompt):
    with torch.no_grad():
        ds = mapper(embed(clip, tok, [prompt]))
    return {name: ds[k][0] for k, (name, _) in enumerate(layers)}


def evaluate(args, mapper, clip, tok, G, layers):
    model, groups, _ = classify.load_classifier(args.clf)
    z = common.seed_z(range(args.n), G.z_dim)
    base = classify.predict(model, classify.render(G, z, None))
    rows = []
    cases = ([(p, g, "held-out") for p, g in HELD_WORDS + HELD_EXACT]
             + [(p, g, "group") for g, ps in GROUP_PROMPTS.items() for p in ps]
             + [(p, g, "trained") for p, g in SHOWN])
    for prompt, group, kind in cases:
        gi = groups.index(group)
        pred = classify.predict(model, classify.render(G, z, mapper_domain(mapper, clip, tok, layers, prompt)))
        share = (pred == gi).float().mean().item()
        base_share = (base == gi).float().mean().item()
        rows.append({"prompt": prompt, "group": group, "kind": kind, "share": share, "base_share": base_share,
                     "ratio": share / base_share if base_share else None})
        print(f"{kind:9s} {prompt:18s} {group:8s} {100 * share:5.1f} % (base {100 * base_share:4.1f} %)", flush=True)
    held = [r for r in rows if r["kind"] == "held-out"]
    ok_held = sum(1 for r in held if r["share"] >= 2 * r["base_share"])
    grp = [r for r in rows if r["kind"] == "group"]
    summary = {"held_out": len(held), "held_out_2x": ok_held,
               "held_out_2x_share": ok_held / len(held),
               "group_prompts_min_share": min(r["share"] for r in grp),
               "meets_bar": ok_held >= 0.75 * len(held) and all(r["share"] >= 0.5 for r in grp)}
    print(json.dumps(summary), flush=True)
    return {"n": args.n, "rows": rows, "summary": summary}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--pack", help="the domain pack whose domains are distilled (--mode distill)")
    ap.add_argument("--clip", required=True, help="the CLIP's state dict (train_clip.py --export)")
    ap.add_argument("--merges", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--captions", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", choices=("distill", "text"), default="distill")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--noise", type=float, default=0.01,
                    help="Gaussian noise on each component of the unit embedding")
    ap.add_argument("--name-weight", type=float, default=0.25,
                    help="share of each batch drawn from the groups' own names")
    ap.add_argument("--inner", type=int, default=128, help="the residual blocks' inner size")
    ap.add_argument("--tt-weight", type=float, default=1.0)
    ap.add_argument("--eval", action="store_true", help="only measure DIR/mapper.pt")
    ap.add_argument("--clf", help="the classifier (classify.py) for --eval")
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--json", help="write the --eval figures here")
    ap.add_argument("--check-domain", metavar="FILE",
                    help="compare a domain file that hyperdomain-render --save-domain wrote for --prompt "
                         "with DIR/mapper.pt's domain (max abs difference < 2e-3)")
    ap.add_argument("--prompt", help="the prompt of --check-domain")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    tok = cliptok.Tokenizer(cliptok.read_merges(args.merges))
    clip = load_clip(args.clip, tok.vocab_size)
    G, meta = common.load_generator(args.gen)
    for p in G.parameters():
        p.requires_grad_(False)
    layers = G.synthesis.conv_names()
    path = os.path.join(args.dir, "mapper.pt")
    mapper = Mapper(ARCH["embed_dim"], args.inner, [c for _, c in layers])

    if args.eval or args.check_domain:
        # Measured as shipped: the hypernetwork file stores both in float16.
        ck = torch.load(path, map_location="cpu")
        mapper.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                                for k, v in ck["state_dict"].items()})
        mapper.eval()
        with torch.no_grad():
            for p in clip.parameters():
                p.copy_(p.half().float())
    if args.check_domain:
        tensors, _ = common.ref.read_safetensors(args.check_domain)
        want = mapper_domain(mapper, clip, tok, layers, args.prompt)
        err = max(float((torch.from_numpy(np.asarray(tensors[n], np.float32)) - want[n]).abs().max())
                  for n, _ in layers)
        print(f"hyperdomain-render vs torch, prompt {args.prompt!r}: domain max abs diff {err:.2e}")
        return 0 if err < 2e-3 else "the app and the mapper disagree"
    if args.eval:
        res = evaluate(args, mapper, clip, tok, G, layers)
        res["training"] = ck.get("training")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(res, f, indent=1, ensure_ascii=False)
                f.write("\n")
        return 0

    data = np.load(args.data)
    with open(args.captions, encoding="utf-8") as f:
        captions = json.load(f)["images"]
    groups = [str(g) for g in data["groups"]]
    mapper.train()
    if args.mode == "distill":
        if not args.pack:
            sys.exit("--mode distill needs --pack")
        info = train_distill(args, mapper, clip, tok, layers, (captions, data["labels"], groups))
    else:
        info = train_text(args, mapper, clip, tok, layers, (captions, data["labels"], groups), G)
    info.update(lr=args.lr, batch=args.batch, noise=args.noise, inner=args.inner, name_weight=args.name_weight,
                generator_sha256=common.file_sha256(args.gen))
    mapper.eval()
    obj = {"model_type": "mapper", "mapper_config": mapper.config, "patch_key": "cin_mult",
           "da_type": "td", "state_dict": {k: v.detach().clone() for k, v in mapper.state_dict().items()},
           "sg2_params": {"img_size": G.config["img_resolution"],
                          "ckpt_path": meta.get("hyperdomain.name", "generator") + ".pt"},
           "training": info}
    common.sg.atomic_save(obj, path)
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
