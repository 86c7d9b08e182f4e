#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Times one random generator (default: the StyleGAN2 256x256 shape) with
# hyperdomain-bench on the Vulkan device, writes that same generator to a
# .safetensors file, times it with the PyTorch reference on all CPU
# threads, and prints both medians (a new seed per frame: mapping plus
# synthesis, as torch_reference.py --bench does) and their ratio.
#
#   tools/bench/compare.sh [BUILD_DIR] [FRAMES] [SHAPE]
#
# BUILD_DIR defaults to build, FRAMES to 5, SHAPE to 256 (tiny, 256 or
# 1024-config-f).  PYTHON selects the interpreter that has torch
# (default /usr/bin/python3).  UP=fold makes PyTorch up-sample with a 1x1
# conv and a fold instead of conv_transpose2d (the NVlabs way, default),
# which its CPU build runs much faster.  The two runs are sequential so that they
# do not compete for the CPU.
set -eu

build=${1:-build}
frames=${2:-5}
shape=${3:-256}
python=${PYTHON:-/usr/bin/python3}
up=${UP:-transpose}
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$build/app/bench/hyperdomain-bench" --shape "$shape" --frames "$frames" \
  --save-generators "$dir" >"$dir/bench.txt"
cat "$dir/bench.txt"
gen="$dir/random-$shape.safetensors"

"$python" "$here/torch_reference.py" "$gen" --bench "$frames" --threads "$threads" --up "$up" \
  >"$dir/torch.txt"
cat "$dir/torch.txt"

hd_ms=$(awk '/new seed/ { for (i = 1; i <= NF; i++) if ($i == "median") { print $(i + 1); exit } }' \
  "$dir/bench.txt")
torch_ms=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' "$dir/torch.txt")
if [ -z "$hd_ms" ] || [ -z "$torch_ms" ]; then
  echo "compare.sh: could not read both medians" >&2
  exit 1
fi
awk -v hd="$hd_ms" -v pt="$torch_ms" -v t="$threads" -v s="$shape" 'BEGIN {
  printf "shape %s, new seed per frame, %d CPU threads\n", s, t
  printf "hyperdomain (Vulkan) median %10.2f ms\n", hd
  printf "pytorch (CPU)        median %10.2f ms\n", pt
  printf "ratio hyperdomain / pytorch  %.3f  (%.2fx %s)\n", hd / pt,
         hd < pt ? pt / hd : hd / pt, hd < pt ? "faster" : "slower"
}'
