#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Times one random generator (default: the StyleGAN2 256x256 shape) with
# hyperdomain-bench on the Vulkan device, writes that same generator to a
# .safetensors file, times it with the PyTorch reference on all CPU
# threads in both of its up-sampling forms, and prints the medians (a new
# seed per frame: mapping plus synthesis, as torch_reference.py --bench
# does) and both ratios:
#
#   - transpose: PyTorch written the NVlabs way (conv_transpose2d + FIR);
#   - fold: the up-sampling as a 1x1 conv and a stride-2 fold (col2im),
#     the same sums, which PyTorch's CPU build runs much faster.
#
#   tools/bench/compare.sh [BUILD_DIR] [FRAMES] [SHAPE]
#
# BUILD_DIR defaults to build, FRAMES to 5, SHAPE to 256 (tiny, 256 or
# 1024-config-f).  PYTHON selects the interpreter that has torch
# (default /usr/bin/python3).  ROUNDS (default 1) repeats the three runs,
# interleaved, and reports the median of the rounds' medians.  The runs are
# sequential so that they do not compete for the CPU.
set -eu

build=${1:-build}
frames=${2:-5}
shape=${3:-256}
python=${PYTHON:-/usr/bin/python3}
rounds=${ROUNDS:-1}
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$build/app/bench/hyperdomain-bench" --shape "$shape" --frames 1 --save-generators "$dir" >/dev/null
gen="$dir/random-$shape.safetensors"

median_of () {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print v[int((NR + 1) / 2)] }'
}

: >"$dir/hd.ms"
: >"$dir/transpose.ms"
: >"$dir/fold.ms"
r=1
while [ "$r" -le "$rounds" ]; do
  "$build/app/bench/hyperdomain-bench" --model "$gen" --shape none --frames "$frames" >"$dir/bench.txt"
  cat "$dir/bench.txt"
  awk '/new seed/ { for (i = 1; i <= NF; i++) if ($i == "median") { print $(i + 1); exit } }' \
    "$dir/bench.txt" >>"$dir/hd.ms"
  for up in transpose fold; do
    "$python" "$here/torch_reference.py" "$gen" --bench "$frames" --threads "$threads" --up "$up" \
      >"$dir/torch.txt"
    cat "$dir/torch.txt"
    sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' "$dir/torch.txt" >>"$dir/$up.ms"
  done
  r=$((r + 1))
done

hd_ms=$(median_of <"$dir/hd.ms") || hd_ms=
tr_ms=$(median_of <"$dir/transpose.ms") || tr_ms=
fold_ms=$(median_of <"$dir/fold.ms") || fold_ms=
if [ -z "$hd_ms" ] || [ -z "$tr_ms" ] || [ -z "$fold_ms" ]; then
  echo "compare.sh: could not read the medians" >&2
  exit 1
fi
awk -v hd="$hd_ms" -v tr="$tr_ms" -v fo="$fold_ms" -v t="$threads" -v s="$shape" -v n="$rounds" 'BEGIN {
  printf "shape %s, new seed per frame, %d CPU threads, median of %d round(s)\n", s, t, n
  printf "hyperdomain (Vulkan)           median %10.2f ms\n", hd
  printf "pytorch, conv_transpose2d      median %10.2f ms\n", tr
  printf "pytorch, 1x1 conv + fold       median %10.2f ms\n", fo
  printf "ratio hyperdomain / pytorch transpose  %.3f  (%.2fx %s)\n", hd / tr,
         hd < tr ? tr / hd : hd / tr, hd < tr ? "faster" : "slower"
  printf "ratio hyperdomain / pytorch fold       %.3f  (%.2fx %s)\n", hd / fo,
         hd < fo ? fo / hd : hd / fo, hd < fo ? "faster" : "slower"
}'
