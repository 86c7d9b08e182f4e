#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write data/models/README.md from tools/train/models-README.md.in and
the facts of the training run: the checkpoints (images seen, steps, wall
time), the dataset, the domain checkpoints, the metric that
classify.py eval wrote and the quality figures of the base generator that
classify.py quality wrote.

  write_readme.py --train-dir .train --metrics data/models/metrics.json \
      --quality data/models/quality.json \
      --gen data/models/emoji64.safetensors --pack data/models/emoji64-domains.safetensors \
      -o data/models/README.md
"""
import argparse
import json
import os
import platform
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def hours(seconds):
    h, m = divmod(int(round(seconds / 60)), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def schedule(state):
    """The learning rates of d and D and the R1 weight over a domain's steps, when they changed."""
    sched = state.get("schedule", [])
    if len(sched) < 2:
        return ""
    ends = [s[0] for s in sched[1:]] + [state["step"]]
    return " (" + "; ".join(f"steps {s[0]}–{e}: lr {s[1]:g} for d and {s[2]:g} for D, γ {s[3]:g}"
                            for s, e in zip(sched, ends)) + ")"


def metric_table(metrics):
    lines = ["| domain | target group | share in target | base share | ratio | bar (>= 3x, >= 50 %) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in metrics["rows"]:
        ratio = f"{r['ratio']:.1f}x" if r.get("ratio") is not None else "no base samples"
        lines.append(f"| {r['domain']} | {r['target']} | {100 * r['share']:.1f} % | "
                     f"{100 * r['base_share']:.1f} % | {ratio} | {'met' if r['meets_bar'] else 'not met'} |")
    return "\n".join(lines)


def quality_table(q, gen_sha, kimg):
    """kimg: the images seen of the checkpoint that the bundled generator was exported from."""
    lines = ["| base generator | images seen | KID x 1000 (± spread over subsets) | confident share |",
             "| --- | --- | --- | --- |"]
    if "floor" in q:
        f = q["floor"]
        lines.append(f"| the dataset, one half against the other ({f['halves'][0]:,} / {f['halves'][1]:,} "
                     f"images; the floor) | | {1000 * f['kid']:.2f} ± {1000 * f['kid_std']:.2f} | "
                     f"{100 * q['dataset_confident_share']:.1f} % (all {q['dataset_images']:,} images) |")
    for e in sorted(q["entries"], key=lambda e: (e["kimg"] is None, e["kimg"] or 0)):
        bundled = e["sha256"] == gen_sha or (e["kimg"] is not None and round(e["kimg"], 1) == round(kimg, 1))
        name = f"`{e['model']}`" + (" (the bundled generator)" if bundled else "")
        seen = f"{e['kimg']:.1f} kimg" if e["kimg"] is not None else ""
        lines.append(f"| {name} | {seen} | {1000 * e['kid']:.2f} ± {1000 * e['kid_std']:.2f} | "
                     f"{100 * e['confident_share']:.1f} % |")
    return "\n".join(lines)


def text_table(tm):
    """One row per evaluated prompt of train_mapper.py --eval."""
    kinds = {"held-out": "held out", "group": "group name", "trained": "trained on"}
    lines = ["| prompt | kind | target group | share in target | base share | ratio | >= 2x |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in tm["rows"]:
        ratio = f"{r['ratio']:.1f}x" if r.get("ratio") is not None else "no base samples"
        ok = "yes" if r["share"] >= 2 * r["base_share"] else "no"
        lines.append(f"| {r['prompt']} | {kinds.get(r['kind'], r['kind'])} | {r['group']} | "
                     f"{100 * r['share']:.1f} % | {100 * r['base_share']:.1f} % | {ratio} | {ok} |")
    return "\n".join(lines)


def group_table(data):
    groups = [str(g) for g in data["groups"]]
    counts = np.bincount(data["labels"], minlength=len(groups))
    half = (len(groups) + 1) // 2
    lines = ["| group | images | group | images |", "| --- | --- | --- | --- |"]
    for i in range(half):
        right = f"{groups[i + half]} | {counts[i + half]}" if i + half < len(groups) else " | "
        lines.append(f"| {groups[i]} | {counts[i]} | {right} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-dir", default=".train")
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--quality", required=True, help="the history of classify.py quality --json --append")
    ap.add_argument("--text-metrics", required=True, help="what train_mapper.py --eval wrote")
    ap.add_argument("--gen", required=True)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--template", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "models-README.md.in"))
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    base = torch.load(os.path.join(args.train_dir, "base.pt"), map_location="cpu")["state"]
    with open(args.metrics) as f:
        metrics = json.load(f)
    with open(args.quality) as f:
        quality = json.load(f)
    with open(args.text_metrics, encoding="utf-8") as f:
        tm = json.load(f)
    tsum, ttrain = tm["summary"], tm.get("training") or {}
    data = np.load(os.path.join(args.train_dir, "emoji64.npz"))
    tensors, _ = common.ref.read_safetensors(args.pack)
    ids = sorted({k.split("/")[0] for k in tensors})
    steps, walls = [], []
    for did in ids:
        path = os.path.join(args.train_dir, "domains", f"{did}.pt")
        if os.path.exists(path):
            st = torch.load(path, map_location="cpu")["state"]
            steps.append(f"{did} {st['step']}{schedule(st)}")
            walls.append(st["wall"])
    met = [r["domain"] for r in metrics["rows"] if r["meets_bar"]]
    missed = [r["domain"] for r in metrics["rows"] if not r["meets_bar"]]
    if not missed:
        status = "Every domain meets the metric's bar (below)."
    elif not met:
        status = "No domain meets the metric's bar (below) yet; the training continues from its checkpoints."
    else:
        status = (f"The metric's bar (below) is met by {', '.join(met)} and not yet by {', '.join(missed)}; "
                  f"the training continues from its checkpoints.")
    n = metrics["n"]
    fields = {
        "status": status,
        "gen_bytes": f"{os.path.getsize(args.gen):,}",
        "pack_bytes": f"{os.path.getsize(args.pack):,}",
        "domain_list": ", ".join(f"`{d}`" for d in ids),
        "n_images": f"{len(data['labels']):,}",
        "group_table": group_table(data),
        "kimg": f"{base['nimg'] / 1000:.1f}",
        "steps": f"{base['step']:,}",
        "wall": hours(base["wall"]),
        "domain_steps": ", ".join(steps) or "none recorded",
        "domain_wall": hours(sum(walls)) + " in all" if walls else "none recorded",
        "machine": (f"{os.cpu_count()}-core CPU ({platform.machine()}), PyTorch {torch.__version__}, "
                    f"{args.threads} thread(s)" if not torch.cuda.is_available() else
                    f"{torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}"),
        "clf_acc": f"{100 * metrics['classifier_heldout_accuracy']:.1f} %",
        "metric_table": metric_table(metrics),
        "n_eval": str(n),
        "last_seed": str(n - 1),
        "quality_table": quality_table(quality, common.file_sha256(args.gen), base["nimg"] / 1000),
        "q_n": f"{quality['n']:,}",
        "q_last_seed": f"{quality['n'] - 1:,}",
        "q_subsets": str(quality["subsets"]),
        "q_subset_size": f"{quality['subset_size']:,}",
        "q_conf": f"{quality['conf']:g}",
        "text_table": text_table(tm),
        "text_n": str(tm["n"]),
        "text_held": str(tsum["held_out"]),
        "text_held_2x": str(tsum["held_out_2x"]),
        "text_held_share": f"{100 * tsum['held_out_2x_share']:.0f} %",
        "text_group_min": f"{100 * tsum['group_prompts_min_share']:.1f} %",
        "text_bar": "met" if tsum["meets_bar"] else "not met",
        "text_prompts": f"{ttrain.get('prompts', 0):,}",
        "text_steps": f"{ttrain.get('steps', 0):,}",
        "text_bytes": f"{os.path.getsize(os.path.join(os.path.dirname(args.gen), 'emoji64-text.safetensors')):,}",
        "base_distribution": ", ".join(f"{g} {100 * v:.1f} %" for g, v in
                                       sorted(metrics["base_distribution"].items(), key=lambda kv: -kv[1])),
    }
    with open(args.template) as f:
        text = f.read().format(**fields)
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
