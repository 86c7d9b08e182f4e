#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a command under an Xvfb of its own: xvfb-test.sh WxH COMMAND ARGS...
#
# The X server picks its display itself (-displayfd: it takes the first
# number whose lock it can make), so tests that start at the same time,
# or another X server started by anything else on the machine, never get
# the same display.  (xvfb-run -a looks for a free number first and starts
# the server after: two of them can pick the same one, and one test then
# finds its display gone mid-run.)  -noreset: by default the server resets
# when its last client leaves, and a test that starts the application
# again at that moment is refused ("cannot open display").  Local
# connections need no cookie.
set -eu

size=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/hd-xvfb-XXXXXX")
server=
cleanup () {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkfifo "$dir/display"
Xvfb -displayfd 3 -screen 0 "${size}x24" -nolisten tcp -noreset 3>"$dir/display" >"$dir/log" 2>&1 &
server=$!
# The number arrives once the server accepts connections; nothing arrives
# if it fails to start (the fifo closes with the server).
display=
read -r display <"$dir/display" || true
if [ -z "$display" ]; then
  echo "xvfb-test.sh: Xvfb did not start:" >&2
  cat "$dir/log" >&2
  exit 1
fi
DISPLAY=":$display"
export DISPLAY
unset XAUTHORITY
status=0
"$@" || status=$?
exit $status
