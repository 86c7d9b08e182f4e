#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Set-up for a fresh Debian 12 / Ubuntu machine.
#   build-aux/dev.sh run    install what is missing, build, and open the app
#   build-aux/dev.sh test   install what is missing, build, run every test,
#                           then the reliability steps (HD_CI_QUICK=1 skips
#                           them): the suite under ASan+UBSan, the fuzz
#                           targets (corpus replay + 20 s each, clang) and
#                           valgrind on the command-line renderer
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-_build}
PACKAGES=(
  meson ninja-build gcc pkg-config glslang-tools
  libglib2.0-dev libjson-glib-dev libpng-dev libvulkan-dev
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libgtk-4-dev libadwaita-1-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core
  python3-numpy
  xvfb xdotool desktop-file-utils appstream gettext man-db
  clang libclang-rt-14-dev llvm valgrind
)

install_missing () {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "Installing: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

configure () {
  if [ -f "$BUILD_DIR/build.ninja" ]; then
    meson setup --reconfigure "$BUILD_DIR" "$@" >/dev/null
  else
    meson setup "$BUILD_DIR" "$@"
  fi
  ninja -C "$BUILD_DIR"
}

# Adds the results of the meson test log of build folder $1 to the totals.
count_tests () {
  local log="$1/meson-logs/testlog.json" p f s
  [ -f "$log" ] || return 0
  p=$(grep -c '"result": "OK"' "$log" || true)
  f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
  s=$(grep -c '"result": "SKIP"' "$log" || true)
  echo "$2: $p passed, $f failed, $s skipped"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# Runs step $2.. named $1, timed; a failure fails the whole run.
ci_step () {
  local name="$1" start=$SECONDS rc=0
  shift
  echo "=== $name"
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then
    echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
    status=1
  fi
  return 0
}

# The whole suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (LeakSanitizer included).  The soak test renders fewer frames: memory
# figures mean little under ASan, its leak check is what counts here.
asan_suite () {
  local dir="$BUILD_DIR-asan" rc=0
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" -Dsanitizers=true -Db_lundef=false >/dev/null
  else
    meson setup "$dir" -Dsanitizers=true -Db_lundef=false >/dev/null
  fi
  ninja -C "$dir" >/dev/null
  # Memory errors, undefined behaviour and leaks fail this step.  Leaks
  # that are third-party libraries' own are named in build-aux/lsan.supp.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS="suppressions=$PWD/build-aux/lsan.supp:print_suppressions=0" \
  HD_SOAK_FRAMES=1000 \
    meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 3 || rc=$?
  count_tests "$dir" "ASan+UBSan suite"
  return $rc
}

# Each libFuzzer target (clang): its corpus replayed, then FUZZ_SECONDS of
# fuzzing from it (new inputs go to a scratch folder, not the tree).
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
fuzz_targets () {
  local dir="$BUILD_DIR-fuzz" rc=0 src t work
  if [ -f "$dir/build.ninja" ]; then
    CC=clang meson setup --reconfigure "$dir" -Dfuzzing=true -Dgui=disabled >/dev/null
  else
    CC=clang meson setup "$dir" -Dfuzzing=true -Dgui=disabled >/dev/null
  fi
  ninja -C "$dir" >/dev/null
  for src in tests/fuzz/fuzz-*.c; do
    t=$(basename "$src" .c)
    [ "$t" = fuzz-replay ] && continue
    work="$dir/fuzz-work/$t"
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
    if ! "$dir/tests/fuzz/$t" -runs=0 "tests/fuzz/corpus/$t" >"$work/replay.log" 2>&1; then
      echo "$t: the corpus replay failed"; tail -30 "$work/replay.log"; rc=1; continue
    fi
    if "$dir/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
         -artifact_prefix="$work/artifacts/" "$work/corpus" "tests/fuzz/corpus/$t" \
         >"$work/fuzz.log" 2>&1; then
      echo "$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/fuzz.log")"
    else
      echo "$t: FAILED; the input is in $work/artifacts/"; tail -40 "$work/fuzz.log"; rc=1
    fi
  done
  return $rc
}

# The command-line renderer under valgrind: no definite leak and no
# memory error on a render with domains, on a contact sheet (its labels
# go through Pango), on a bad file and on --help.
valgrind_cli () {
  local cli="$BUILD_DIR/app/cli/hyperdomain-render" out rc=0 code
  local vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite
            --show-leak-kinds=definite --error-exitcode=99
            --suppressions=build-aux/valgrind.supp)
  out=$(mktemp -d)
  code=0
  "${vg[@]}" "$cli" --model tests/conformance/tiny.safetensors \
    --domain tests/conformance/tiny-domain-a.safetensors=0.5 \
    --domain tests/conformance/tiny-domain-b.safetensors=-0.25 \
    --device cpu --seed 0-1 -o "$out/%d.png" || code=$?
  [ $code -eq 0 ] && [ -f "$out/1.png" ] || { echo "render: exit status $code"; rc=1; }
  code=0
  "${vg[@]}" "$cli" --model tests/conformance/tiny.safetensors \
    --domain tests/conformance/tiny-domain-a.safetensors=0.5 \
    --device cpu --contact-sheet --seeds 0-1 -o "$out/sheet.png" || code=$?
  [ $code -eq 0 ] && [ -f "$out/sheet.png" ] || { echo "contact sheet: exit status $code"; rc=1; }
  code=0
  "${vg[@]}" "$cli" --model tests/conformance/tiny-domain-a.safetensors -o "$out/x.png" \
    2>"$out/err" || code=$?
  [ $code -eq 1 ] && grep -q "hyperdomain-render:" "$out/err" ||
    { echo "bad file: exit status $code"; cat "$out/err"; rc=1; }
  code=0
  "${vg[@]}" "$cli" --help >/dev/null || code=$?
  [ $code -eq 0 ] || { echo "--help: exit status $code"; rc=1; }
  rm -rf "$out"
  return $rc
}

case "${1:-}" in
  run)
    install_missing
    configure
    # The bundled demo model once it is there; else the conformance model.
    if [ -f data/models/emoji64.safetensors ]; then
      files=(data/models/emoji64.safetensors data/models/emoji64-domains.safetensors)
      if [ -f data/models/emoji64-text.safetensors ]; then
        files+=(data/models/emoji64-text.safetensors)
      fi
    else
      files=(tests/conformance/tiny.safetensors tests/conformance/tiny-domain-a.safetensors
             tests/conformance/tiny-domain-b.safetensors)
    fi
    GSETTINGS_SCHEMA_DIR="$BUILD_DIR/app/ui" exec "$BUILD_DIR/app/ui/hyperdomain" "${files[@]}"
    ;;
  test)
    install_missing
    configure
    status=0
    passed=0 failed=0 skipped=0
    meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || status=$?
    count_tests "$BUILD_DIR" "test suite"
    if [ "${HD_CI_QUICK:-0}" = 1 ]; then
      echo "HD_CI_QUICK=1: skipping the sanitizer, fuzzing and valgrind steps"
    else
      ci_step "ASan+UBSan test suite" asan_suite
      ci_step "fuzz targets (corpus replay + ${FUZZ_SECONDS}s each)" fuzz_targets
      ci_step "valgrind on hyperdomain-render" valgrind_cli
    fi
    echo "$passed passed, $failed failed, $skipped skipped"
    exit $status
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
