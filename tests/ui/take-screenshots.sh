#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Takes the screenshots in data/screenshots/ under Xvfb.
#   tests/ui/take-screenshots.sh BUILD_DIR
#   ONLY="train-dialog train-result" tests/ui/take-screenshots.sh BUILD_DIR   # only these
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-_build}
scene=$build/tests/ui/screenshot-scene
out=data/screenshots
# The bundled demo model (domains 0-3: animals, flags, food, smileys); without it, the
# conformance generator and its two domains.
if [ -f data/models/emoji64.safetensors ]; then
  files=(data/models/emoji64.safetensors data/models/emoji64-domains.safetensors)
  light=(--seed 12 --weight 0=0 --weight 3=1) dark=(--seed 3 --weight 0=0 --weight 1=1)
else
  conf=tests/conformance
  files=("$conf/tiny.safetensors" "$conf/tiny-domain-a.safetensors" "$conf/tiny-domain-b.safetensors")
  light=(--seed 7 --weight 0=0.8 --weight 1=0.5) dark=(--seed 7 --weight 0=-0.5 --weight 1=1.2)
fi
mkdir -p "$out"

export GSETTINGS_BACKEND=memory GSETTINGS_SCHEMA_DIR=$build/app/ui
export GDK_BACKEND=x11 GTK_A11Y=none NO_AT_BRIDGE=1

# Whether shot NAME is wanted (ONLY unset: every one).
wanted () {
  [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}

# shot NAME WIDTH HEIGHT [scene options...]
shot () {
  wanted "$1" || return 0
  local name=$1 w=$2 h=$3 display=:87 log
  shift 3
  Xvfb "$display" -screen 0 "${w}x${h}x24" -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  sleep 1
  log=$(mktemp)
  DISPLAY=$display "$scene" --size "${w}x${h}" --seconds 6 "$@" "${files[@]}" >"$log" 2>&1 &
  local app=$!
  for _ in $(seq 100); do
    grep -q ready "$log" && break
    sleep 0.2
  done
  sleep 1.5
  DISPLAY=$display import -window root "$out/$name.png"
  wait "$app" || true
  kill "$xvfb"
  wait "$xvfb" 2>/dev/null || true
  rm -f "$log"
  echo "$out/$name.png"
}

shot light 1200 760 "${light[@]}"
shot dark 1200 760 --dark --stats "${dark[@]}"
shot narrow 400 760 "${light[@]}"

# The window in Russian, with the translations of this build (po/).
# The scene reads weights in the locale's number format, as ru_RU writes them.
ru_locale=C.UTF-8 point=.
if locale -a 2>/dev/null | grep -qi '^ru_RU\.utf-\?8$'; then
  ru_locale=ru_RU.UTF-8 point=,
fi
LANGUAGE=ru LANG=$ru_locale LC_ALL=$ru_locale HYPERDOMAIN_LOCALEDIR=$build/po \
  shot ru 1200 760 "${light[@]//./$point}"

# Two text domains blended: the conformance generator and its hypernetwork.
conf=tests/conformance
files=("$conf/tiny.safetensors" "$conf/text/tiny-text.safetensors")
shot text-domains 1200 1180 --seed 42 --text "Pixar style" --text "ukiyo-e woodblock print" \
  --weight 0=0.7 --weight 1=0.6

# New Domain from Text: the dialog beside the window, mid-run (the image
# shows the domain in training) and with its result added as a row.  The demo model alone with the demo's own CLIP
# ("emoji" -> "burger"; without the demo, the tiny generator and the
# training CLIP of the conformance fixtures); the file goes to a
# temporary home.  Without a window manager the dialog
# opens over the window: xdotool moves it beside it.
# shot_train NAME SHOW STEPS BATCH LR
shot_train () {
  wanted "$1" || return 0
  local name=$1 show=$2 steps=$3 batch=$4 lr=$5 display=:88 log home
  Xvfb "$display" -screen 0 1690x760x24 -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  sleep 1
  log=$(mktemp)
  home=$(mktemp -d)
  DISPLAY=$display HOME=$home "$scene" --size 1200x760 --seconds 8 --seed 12 --show "$show" \
    --clip "$train_clip" --source "$train_source" \
    --target "$train_target" --steps "$steps" --batch "$batch" --lr "$lr" "${train_files[@]}" >"$log" 2>&1 &
  local app=$!
  for _ in $(seq 600); do
    grep -q ready "$log" && break
    sleep 0.2
  done
  DISPLAY=$display xdotool search --name "New Domain from Text" windowmove 1210 0 || true
  sleep 1.5
  DISPLAY=$display import -window root "$out/$name.png"
  wait "$app" || true
  kill "$xvfb"
  wait "$xvfb" 2>/dev/null || true
  rm -rf "$log" "$home"
  echo "$out/$name.png"
}

if command -v xdotool >/dev/null; then
  if [ -f data/models/emoji64.safetensors ] && [ -f data/models/emoji64-clip.safetensors ]; then
    train_files=(data/models/emoji64.safetensors)
    train_clip=data/models/emoji64-clip.safetensors train_source=emoji train_target=burger
  else
    train_files=(tests/conformance/tiny.safetensors)
    train_clip=tests/conformance/training/clip-train.safetensors train_source=Emoji
    train_target="Pencil Sketch"
  fi
  # The result at a fifth of HyperDomainNet's learning rate: at 0.1 the
  # demo's small CLIP is fooled into red and white textures (models README).
  shot_train train-dialog train 300 4 0.1
  shot_train train-result trained 100 4 0.02
fi
