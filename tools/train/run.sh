#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the bundled demo model from Debian's fonts-noto-color-emoji, end to end:
#
#   tools/train/run.sh            # everything: dataset, base training (resumes), domains, metrics, files, sheet
#   tools/train/run.sh base       # only the dataset and the base training (resumes; stop it any time)
#   tools/train/run.sh captions   # only the dataset and its English/Russian captions (needs unicode-cldr-core)
#   tools/train/run.sh clip       # the dataset, captions and the demo's small CLIP (resumes; stop it any
#                                 # time): BPE merges learned on the captions (committed:
#                                 # CLIP_MERGES), then train_clip.py from CLIP_SEED_CKPT when TRAIN_DIR has none
#   tools/train/run.sh clip-save  # write the CLIP's compact checkpoint that is committed (CLIP_SEED_CKPT)
#   tools/train/run.sh clip-export  # the CLIP as it stands into data/models/emoji64-clip.safetensors
#                                 # (F16, hyperdomain-convert), with its zero-shot accuracy printed
#   tools/train/run.sh save       # write the compact checkpoint that is committed (see SEED_CKPT)
#   tools/train/run.sh finish     # no further base training: export the current checkpoint, train the
#                                 # domains (resumes), evaluate, choose the window's first image
#                                 # (emoji64-start.json), train the hypernetwork (emoji64-text.safetensors,
#                                 # text-metrics.json), write data/models (files, metrics.json,
#                                 # quality.json, README.md from tools/train/models-README.md.in) and
#                                 # the contact sheets
#   tools/train/run.sh text       # only the hypernetwork, for the generator and pack in data/models:
#                                 # the mapper distilled from the pack (train_mapper.py), its metric,
#                                 # emoji64-text.safetensors and the prompts' contact sheet
#
# Needs: apt-get install python3-torch python3-pil fonts-noto-color-emoji meson ninja-build (and the
# project's build dependencies, for hyperdomain-render). Run from anywhere; paths are relative to the
# source tree. Settings (environment):
#   TRAIN_DIR     checkpoints, dataset, logs (default .train, git-ignored)
#   KIMG          total base training length in thousands of images (default 2000)
#   DOMAIN_STEPS  steps per domain (default 1500)
#   DOMAINS       domain ids (default smileys,animals,food,flags)
#   PHASE2        domains that get a second phase after DOMAIN_STEPS (default smileys; empty for none)
#   PHASE2_STEPS  its steps (default 1000), with a stronger R1 penalty on D (PHASE2_GAMMA, default 1)
#   BUILD         build folder for hyperdomain-render (default build-train)
#   THREADS       torch threads (default 0 = all cores; on an idle 2-core machine a base step of
#                 batch 16 takes 0.81 s on two threads, 1.42 s on one; on a machine busy with
#                 other work, THREADS=1 at nice 19 went 8x faster than two threads)
#   NICE          nice level of the training processes (default 19)
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
TRAIN_DIR=${TRAIN_DIR:-.train}
KIMG=${KIMG:-2000}
DOMAIN_STEPS=${DOMAIN_STEPS:-1500}
DOMAINS=${DOMAINS:-smileys,animals,food,flags}
PHASE2=${PHASE2-smileys}
PHASE2_STEPS=${PHASE2_STEPS:-1000}
PHASE2_GAMMA=${PHASE2_GAMMA:-1}
BUILD=${BUILD:-build-train}
THREADS=${THREADS:-0}
NICE=${NICE:-19}
# The committed compact checkpoint (G_ema and D in F16, no optimiser state): training on a new
# machine, without $TRAIN_DIR/base.pt, starts from it. `run.sh save` refreshes it.
SEED_CKPT=tools/train/checkpoint/base-seed.pt
MODELS=data/models
GEN=$MODELS/emoji64.safetensors
PACK=$MODELS/emoji64-domains.safetensors
T=tools/train
mode=${1:-all}
run() { nice -n "$NICE" "$PY" "$@"; }

mkdir -p "$TRAIN_DIR" "$MODELS"
if [ "$mode" = save ]; then
    mkdir -p "$(dirname "$SEED_CKPT")"
    exec nice -n "$NICE" "$PY" $T/train_base.py --data "$TRAIN_DIR/emoji64.npz" --dir "$TRAIN_DIR" \
        --write-seed-ckpt "$SEED_CKPT"
fi
[ -f "$TRAIN_DIR/emoji64.npz" ] || run $T/build_dataset.py --res 64 -o "$TRAIN_DIR/emoji64.npz"
# Image captions from the Unicode CLDR names (for a CLIP model); without unicode-cldr-core only `captions` fails.
[ -f "$TRAIN_DIR/captions.json" ] || run $T/captions.py --data "$TRAIN_DIR/emoji64.npz" \
    -o "$TRAIN_DIR/captions.json" || [ "$mode" != captions ] || exit 1
[ "$mode" = captions ] && exit 0

# The demo's own CLIP (train_clip.py): its BPE merges are learned once on the captions and committed,
# so that a checkpoint's token ids stay valid.
CLIP_MERGES=tools/train/checkpoint/emoji-merges.txt
CLIP_SEED_CKPT=tools/train/checkpoint/clip-seed.pt
clip_args="--data $TRAIN_DIR/emoji64.npz --captions $TRAIN_DIR/captions.json --merges $CLIP_MERGES"
clip_args="$clip_args --dir $TRAIN_DIR/clip --batch 64 --threads $THREADS --seed-ckpt $CLIP_SEED_CKPT"
if [ "$mode" = clip ] || [ "$mode" = clip-save ] || [ "$mode" = clip-export ]; then
    [ -f "$CLIP_MERGES" ] || run $T/cliptok.py learn --captions "$TRAIN_DIR/captions.json" --merges 3000 \
        -o "$CLIP_MERGES"
    if [ "$mode" = clip-save ]; then
        # shellcheck disable=SC2086
        exec nice -n "$NICE" "$PY" $T/train_clip.py $clip_args --write-seed-ckpt "$CLIP_SEED_CKPT"
    fi
    if [ "$mode" = clip-export ]; then
        # shellcheck disable=SC2086
        run $T/train_clip.py $clip_args --export "$TRAIN_DIR/clip/export.pt"
        exec nice -n "$NICE" "$PY" tools/hyperdomain-convert "$TRAIN_DIR/clip/export.pt" --bpe "$CLIP_MERGES" \
            --dtype f16 --name "Hyperdomain Emoji CLIP" \
            --description "The demo's own small CLIP (ViT 64 px, patch 8, width 128, 3 layers; text width 128, 3 layers), trained from scratch on the emoji of Noto Color Emoji with their English and Russian CLDR names, for training domains on the emoji model." \
            --license "Trained on the glyphs of Noto Color Emoji (SIL Open Font License 1.1) and the Unicode CLDR annotations (Unicode License); see data/models/README.md of Hyperdomain." \
            -o "$MODELS/emoji64-clip.safetensors"
    fi
    # shellcheck disable=SC2086
    exec nice -n "$NICE" "$PY" $T/train_clip.py $clip_args
fi

# The demo's hypernetwork: the CLIP's text tower and a HyperDomainNet mapper distilled from the domain
# pack (train_mapper.py), measured on held-out prompts, converted like a published one.
R=$BUILD/app/cli/hyperdomain-render
TEXT=$MODELS/emoji64-text.safetensors
TEXT_SHOWN="cat,кот,pizza,пицца,flag,smileys,animals,food,flags,tiger,тигр,burger,croissant,банан,флаг,wink"
TEXT_HELD="tiger,тигр,burger,croissant,банан,флаг,wink"
train_text() {
    # shellcheck disable=SC2086
    [ -f "$TRAIN_DIR/clip/export.pt" ] || run $T/train_clip.py $clip_args --export "$TRAIN_DIR/clip/export.pt"
    mapper_args="--gen $GEN --clip $TRAIN_DIR/clip/export.pt --merges $CLIP_MERGES --data $TRAIN_DIR/emoji64.npz"
    mapper_args="$mapper_args --captions $TRAIN_DIR/captions.json --dir $TRAIN_DIR/mapper --threads $THREADS"
    # shellcheck disable=SC2086
    run $T/train_mapper.py $mapper_args --pack "$PACK"
    # shellcheck disable=SC2086
    run $T/train_mapper.py $mapper_args --eval --clf "$TRAIN_DIR/classifier.pt" --n 512 \
        --json "$MODELS/text-metrics.json"
    run tools/hyperdomain-convert "$TRAIN_DIR/mapper/mapper.pt" --clip "$TRAIN_DIR/clip/export.pt" \
        --bpe "$CLIP_MERGES" --dtype f16 --name "Hyperdomain Emoji text" \
        --description "Type a prompt, get a domain of the emoji model: the demo CLIP's text tower and a HyperDomainNet mapper (residual_channelin) distilled from the emoji model's domains; English and Russian." \
        --license "Trained on the glyphs of Noto Color Emoji (SIL Open Font License 1.1) and the Unicode CLDR annotations (Unicode License); see data/models/README.md of Hyperdomain." \
        -o "$TEXT"
    # The app must compute the domains that the training computes.
    [ -d "$BUILD" ] || meson setup "$BUILD"
    ninja -C "$BUILD" app/cli/hyperdomain-render
    "$R" --hypernetwork "$TEXT" --text "cat" --save-domain "$TRAIN_DIR/check-text.safetensors"
    $PY $T/train_mapper.py $mapper_args --check-domain "$TRAIN_DIR/check-text.safetensors" --prompt cat
    $PY $T/contact_sheet.py --render "$R" --gen "$GEN" --hypernetwork "$TEXT" --prompts "$TEXT_SHOWN" \
        --held "$TEXT_HELD" --seeds 12 -o data/screenshots/demo-emoji64-text.png
}
if [ "$mode" = text ]; then
    train_text
    exit 0
fi

if [ "$mode" != finish ]; then
    run $T/train_base.py --data "$TRAIN_DIR/emoji64.npz" --dir "$TRAIN_DIR" --kimg "$KIMG" --threads "$THREADS" \
        --seed-ckpt "$SEED_CKPT"
fi
[ "$mode" = base ] && exit 0

run $T/export.py --ckpt "$TRAIN_DIR/base.pt" -o "$GEN" --check 4
[ -f "$TRAIN_DIR/classifier.pt" ] || run $T/classify.py train --data "$TRAIN_DIR/emoji64.npz" \
    --out "$TRAIN_DIR/classifier.pt" --threads "$THREADS"
train_domains() {
    run $T/train_domain.py --gen "$GEN" --base-ckpt "$TRAIN_DIR/base.pt" --data "$TRAIN_DIR/emoji64.npz" \
        --dir "$TRAIN_DIR/domains" --domains "$DOMAINS" --pack "$PACK" --threads "$THREADS" "$@"
}
train_domains --steps "$DOMAIN_STEPS"
# The smileys (faces, hearts, ghosts, cats...: the most varied subset) stall just under the bar at
# gamma 0.1, where D wins easily (its loss near 0.2); a smoother D (gamma 1) carries them further.
if [ -n "$PHASE2" ]; then
    train_domains --steps $((DOMAIN_STEPS + PHASE2_STEPS)) --gamma "$PHASE2_GAMMA" --train "$PHASE2"
fi
run $T/classify.py eval --clf "$TRAIN_DIR/classifier.pt" --gen "$GEN" --pack "$PACK" --n 512 \
    --json "$MODELS/metrics.json" --threads "$THREADS" | tee "$TRAIN_DIR/metrics.md"
# The window's first image: the most reliable domain at its most confident seed (data/models/README.md).
run $T/classify.py start --clf "$TRAIN_DIR/classifier.pt" --gen "$GEN" --pack "$PACK" --n 512 \
    --json "$MODELS/emoji64-start.json" --threads "$THREADS"
# KID and confident share of the checkpoint the generator was exported from, added to the history.
run $T/classify.py quality --clf "$TRAIN_DIR/classifier.pt" --data "$TRAIN_DIR/emoji64.npz" \
    --model "$TRAIN_DIR/base.pt" --floor --json "$MODELS/quality.json" --append --threads "$THREADS"

# The app must render what the training computes.
[ -d "$BUILD" ] || meson setup "$BUILD"
ninja -C "$BUILD" app/cli/hyperdomain-render
first=${DOMAINS%%,*}
"$R" --model "$GEN" --seed 0 -o "$TRAIN_DIR/check-app.npy"
"$R" --model "$GEN" --seed 0 --domain "$PACK#$first=1" -o "$TRAIN_DIR/check-app-dom.npy"
$PY tools/bench/torch_reference.py "$GEN" --seed 0 -o "$TRAIN_DIR/check-ref.npy"
$PY - "$GEN" "$PACK" "$first" "$TRAIN_DIR" <<'EOF'
import sys, numpy as np, torch
sys.path.insert(0, "tools/train")
import common
gen, pack, did, d = sys.argv[1:]
t, _ = common.ref.read_safetensors(pack)
R = common.ref.Generator(gen)
z = common.seed_z([0], R.z_dim)
with torch.no_grad():
    dom = R.synthesis(R.mapping(z), {k.split("/", 1)[1]: v for k, v in t.items() if k.startswith(did + "/")}, "const")
pairs = [("base", np.load(d + "/check-app.npy"), np.load(d + "/check-ref.npy")),
         ("domain " + did, np.load(d + "/check-app-dom.npy"), dom[0].numpy())]
for name, a, b in pairs:
    err = float(np.abs(a - b).max())
    print(f"hyperdomain-render vs torch, seed 0, {name}: max abs diff {err:.2e}")
    if err >= 2e-3:
        sys.exit("the app and the training forward pass disagree")
EOF
$PY $T/contact_sheet.py --render "$R" --gen "$GEN" --pack "$PACK" --seeds 16 --blend smileys,animals \
    -o data/screenshots/demo-emoji64.png
train_text
run $T/write_readme.py --train-dir "$TRAIN_DIR" --metrics "$MODELS/metrics.json" --quality "$MODELS/quality.json" \
    --text-metrics "$MODELS/text-metrics.json" --gen "$GEN" --pack "$PACK" --threads "$THREADS" \
    -o "$MODELS/README.md"
size=$(cat "$MODELS"/* | wc -c)
echo "data/models: $size bytes"
[ "$size" -lt 15000000 ] || { echo "data/models is over 15 MB" >&2; exit 1; }
