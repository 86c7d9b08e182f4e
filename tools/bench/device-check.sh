#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# One run that measures the Vulkan renderer on a machine with a GPU:
#
#   tools/bench/device-check.sh [BUILD_DIR]
#
# builds a release build without the GUI (default build-device), runs the
# conformance and GPU tests on the default device, times hyperdomain-bench
# for the tiny, demo, 256 and 1024 config-f shapes, the text encoder, the
# CLIP image tower and a few training steps (1024 config-f with ViT-B/32
# and ViT-B/16 among them), then, when a CUDA PyTorch is
# installed (PYTHON, default /usr/bin/python3), PyTorch on the same GPU
# with the same random 256 and 1024 generators, and prints one table.
# FRAMES (default 20) sets the frames per case.  Meant to finish in well
# under 8 minutes on a GPU.  Precision: fp32 only (the renderer has no fp16
# mode yet).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-device}
frames=${FRAMES:-20}
python=${PYTHON:-/usr/bin/python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t0=$(date +%s)
say () { printf '== %s (%ss)\n' "$*" $(( $(date +%s) - t0 )); }

say "build"
if [ -d "$build" ]; then
  meson setup --reconfigure "$build" "$src" --buildtype=release -Dgui=disabled >"$out/setup.log" 2>&1
else
  meson setup "$build" "$src" --buildtype=release -Dgui=disabled >"$out/setup.log" 2>&1
fi
ninja -C "$build" >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }

say "tests"
tests_status=passed
meson test -C "$build" --no-rebuild test-vk test-conformance test-renderer test-text-gpu test-clip-gpu \
  test-train-gpu test-cli >"$out/tests.log" 2>&1 || tests_status=FAILED
grep -E '^ *[0-9]+/[0-9]+ ' "$out/tests.log" || true
bench="$build/app/bench/hyperdomain-bench"

say "renderer"
"$bench" --frames "$frames" --shape tiny >"$out/tiny.txt"
"$bench" --frames "$frames" --shape demo >"$out/demo.txt"
"$bench" --frames "$frames" --shape 256 --save-generators "$out/gen" >"$out/256.txt"
"$bench" --frames "$frames" --shape 1024-config-f --save-generators "$out/gen" >"$out/1024.txt"
device=$(sed -n 's/^device: //p' "$out/tiny.txt")

say "text encoder, training"
"$bench" --text --frames "$frames" >"$out/text.txt" 2>&1 || true
"$bench" --train "$src/tests/conformance/training/clip-train.safetensors" --train-steps 3 \
  --train-batch 2 --model "$src/tests/conformance/tiny.safetensors" >"$out/train.txt" 2>&1 || true
# The demo at batch 4 (the lavapipe target's case) and the random 256 and
# 1024 generators, a few steps each: where a buffer is too small for the
# step, the bench says so and times the CPU reference instead (one step,
# given at most two minutes).
"$bench" --train "$src/tests/conformance/training/clip-train.safetensors" --train-steps 7 \
  >"$out/train-demo.txt" 2>&1 || true
for shape in 256 1024-config-f; do
  steps=5
  timeout 120 "$bench" --train "$src/tests/conformance/training/clip-train.safetensors" --train-steps 1 \
    --model "$out/gen/random-$shape.safetensors" >"$out/train-probe-$shape.txt" 2>&1 || true
  if grep -q 'CPU reference' "$out/train-probe-$shape.txt"; then
    cp "$out/train-probe-$shape.txt" "$out/train-$shape.txt"
  else
    "$bench" --train "$src/tests/conformance/training/clip-train.safetensors" --train-steps $steps \
      --model "$out/gen/random-$shape.safetensors" >"$out/train-$shape.txt" 2>&1 || true
  fi
done

# The training issue's GPU case: 1024 config-f with ViT-B/32 and ViT-B/16
# (OpenAI's shapes, random weights), batch 4.
"$bench" --train random:vit-b32 --train random:vit-b16 --train-steps 5 \
  --model "$out/gen/random-1024-config-f.safetensors" >"$out/train-1024-vit.txt" 2>&1 || true

torch_line=""
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  say "pytorch (cuda)"
  for shape in 256 1024-config-f; do
    "$python" "$src/tools/bench/torch_reference.py" "$out/gen/random-$shape.safetensors" \
      --bench "$frames" --device cuda >"$out/torch-$shape.txt" 2>&1 || true
  done
else
  torch_line="PyTorch with CUDA: not installed, no comparison"
fi

median () {  # FILE CASE: the median ms of a case line of hyperdomain-bench
  awk -v c="$2" 'index($0, c) == 3 { for (i = 1; i <= NF; i++) if ($i == "median") { print $(i + 1); exit } }' "$1"
}
gpu_ms () {
  awk -v c="$2" 'index($0, c) == 3 { for (i = 1; i <= NF; i++) if ($i == "GPU") { print $(i + 1); exit } }' "$1"
}
torch_ms () { if [ -f "$1" ]; then sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' "$1"; fi; }

say "done"
echo
echo "device: $device"
echo "tests: $tests_status"
printf '%-16s %12s %12s %12s %12s %12s\n' shape "new seed" "GPU" "domain" "preview" "PyTorch"
for s in tiny demo 256 1024; do
  f="$out/$s.txt"
  pt=""
  case $s in
    256) pt=$(torch_ms "$out/torch-256.txt") ;;
    1024) pt=$(torch_ms "$out/torch-1024-config-f.txt") ;;
  esac
  printf '%-16s %9s ms %9s ms %9s ms %9s ms %9s\n' "$s" "$(median "$f" "new seed")" \
    "$(gpu_ms "$f" "new seed")" "$(median "$f" "domain weight")" "$(median "$f" "drag preview")" \
    "${pt:+$pt ms}"
done
if [ -n "$torch_line" ]; then echo "$torch_line"; fi
grep -E 'median|encode' "$out/text.txt" | head -3 || true
for f in train train-demo train-256 train-1024-config-f train-1024-vit; do
  echo "-- $f"
  grep -E '^train' "$out/$f.txt" || true
done
echo "fp16 mode: not implemented yet (fp32 figures only)"
