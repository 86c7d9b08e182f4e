#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Set-up for a fresh Debian 12 / Ubuntu machine.
#   build-aux/dev.sh run    install what is missing, build, and open the app
#   build-aux/dev.sh test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-_build}
PACKAGES=(
  meson ninja-build gcc pkg-config glslang-tools
  libglib2.0-dev libjson-glib-dev libpng-dev libvulkan-dev
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libgtk-4-dev libadwaita-1-dev
  python3-numpy
  xvfb xauth desktop-file-utils appstream gettext man-db
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

case "${1:-}" in
  run)
    install_missing
    configure
    # The bundled demo model once it is there; else the conformance model.
    if [ -f data/models/emoji64.safetensors ]; then
      files=(data/models/emoji64.safetensors data/models/emoji64-domains.safetensors)
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
    meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || status=$?
    log="$BUILD_DIR/meson-logs/testlog.json"
    if [ -f "$log" ]; then
      passed=$(grep -c '"result": "OK"' "$log" || true)
      failed=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
      skipped=$(grep -c '"result": "SKIP"' "$log" || true)
      echo "$passed passed, $failed failed, $skipped skipped"
    fi
    exit $status
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
