#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the build into a temporary DESTDIR, checks that everything is in
# place and runs the installed programs: the CLI renders the installed demo
# model (or, when the tree has no demo model, the conformance generator).
#   test-install.sh MESON BUILD_ROOT SOURCE_ROOT PREFIX BINDIR DATADIR MANDIR LOCALEDIR gui|no-gui
set -euo pipefail

meson=$1 build=$2 src=$3 prefix=$4 bindir=$5 datadir=$6 mandir=$7 localedir=$8 gui=$9
app_id=io.github.hyperdomain.Hyperdomain
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

fails=0
ok () { echo "ok: $*"; }
fail () { echo "FAIL: $*"; fails=$((fails + 1)); }
# Paths of the install: PREFIX/DIR unless DIR is absolute.
under () { case $1 in /*) echo "$dest$1" ;; *) echo "$dest$prefix/$1" ;; esac; }
bin=$(under "$bindir") share=$(under "$datadir") man=$(under "$mandir") locale=$(under "$localedir")

if ! "$meson" install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; then
  cat "$dest.log"; rm -f "$dest.log"
  echo "FAIL: meson install"
  exit 1
fi
rm -f "$dest.log"
ok "meson install --destdir"

need () {
  local f
  for f in "$@"; do
    if [ -s "$f" ]; then ok "installed ${f#"$dest"}"; else fail "missing ${f#"$dest"}"; fi
  done
}

need "$bin/hyperdomain-render" "$bin/hyperdomain-convert" "$bin/hyperdomain-train" \
  "$share/hyperdomain/python/hdconvert/cli.py" \
  "$share/hyperdomain/python/hdconvert/clipfile.py" \
  "$locale/ru/LC_MESSAGES/hyperdomain.mo" \
  "$man/man1/hyperdomain-render.1" "$man/man1/hyperdomain-convert.1" "$man/man1/hyperdomain-train.1"
if [ "$gui" = gui ]; then
  need "$bin/hyperdomain" "$man/man1/hyperdomain.1" \
    "$share/applications/$app_id.desktop" \
    "$share/metainfo/$app_id.metainfo.xml" \
    "$share/glib-2.0/schemas/$app_id.gschema.xml" \
    "$share/icons/hicolor/scalable/apps/$app_id.svg" \
    "$share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg"

  schemas=$(mktemp -d -p "$dest")
  if glib-compile-schemas --strict --targetdir="$schemas" "$share/glib-2.0/schemas"; then
    ok "the installed schema compiles"
  else
    fail "the installed schema does not compile"
  fi
  if command -v desktop-file-validate >/dev/null; then
    if desktop-file-validate "$share/applications/$app_id.desktop"; then
      ok "the installed desktop file is valid"
    else
      fail "the installed desktop file is not valid"
    fi
  fi
  exec_bin=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$share/applications/$app_id.desktop")
  [ -x "$bin/$exec_bin" ] && ok "Exec=$exec_bin is installed in bindir" || fail "Exec=$exec_bin is not in bindir"
  grep -q "^Name\[ru\]=" "$share/applications/$app_id.desktop" \
    && ok "the desktop file has the Russian name" || fail "the desktop file has no Name[ru]"
  grep -q 'xml:lang="ru"' "$share/metainfo/$app_id.metainfo.xml" \
    && ok "the metainfo has Russian texts" || fail "the metainfo has no xml:lang=\"ru\" texts"
  grep -q "<launchable type=\"desktop-id\">$app_id.desktop</launchable>" "$share/metainfo/$app_id.metainfo.xml" \
    && ok "the metainfo launches the installed desktop file" || fail "the metainfo's launchable is not $app_id.desktop"
fi

for page in "$man"/man1/*.1; do
  command -v man >/dev/null || { echo "# man is not installed: the pages are not rendered"; break; }
  if out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null) && [ -z "$out" ]; then
    ok "man ${page##*/} renders"
  else
    fail "man ${page##*/}: $out"
  fi
done
grep -q '@VERSION@\|@DATADIR@' "$man"/man1/*.1 && fail "a man page still holds @VERSION@ or @DATADIR@"

# The installed CLI translates its --help from the installed catalogue.
ru_help=$(env LC_ALL=C.UTF-8 LANGUAGE=ru HYPERDOMAIN_LOCALEDIR="$locale" "$bin/hyperdomain-render" --help)
if grep -q 'генератор' <<<"$ru_help"; then ok "hyperdomain-render --help in Russian"; else fail "hyperdomain-render --help is not translated"; fi

# The installed converter, with the package from the install.
if PYTHONPATH="$share/hyperdomain/python" "$bin/hyperdomain-convert" --help >/dev/null; then
  ok "hyperdomain-convert --help"
else
  fail "the installed hyperdomain-convert does not run"
fi

# The installed CLI renders the installed demo model, or the conformance
# generator when this tree has no demo model.
demo=$share/hyperdomain/demo
if [ -f "$demo/generator.safetensors" ]; then
  model=$demo/generator.safetensors
  domain=$demo/domains.safetensors
  echo "# rendering the installed demo model $model"
else
  model=$HD_CONFORMANCE_DIR/tiny.safetensors
  domain=$HD_CONFORMANCE_DIR/tiny-domain-a.safetensors
  echo "# no demo model in this tree: rendering the conformance generator $model"
fi
args=(--seed 3 --psi 0.7 -o "$dest/out.png")
[ -f "$domain" ] && args+=(--domain "$domain=0.5")
# Without --model the CLI takes the demo model; a DESTDIR install is not at
# its prefix, so HYPERDOMAIN_DEMO_MODEL points there.
if [ "$model" = "$demo/generator.safetensors" ]; then
  export HYPERDOMAIN_DEMO_MODEL=$model
else
  args+=(--model "$model")
fi
if "$bin/hyperdomain-render" "${args[@]}" && [ "$(head -c 8 "$dest/out.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  ok "the installed hyperdomain-render wrote a PNG ($(stat -c %s "$dest/out.png") bytes)"
else
  fail "the installed hyperdomain-render did not render"
fi

# With the demo's own CLIP installed beside it, the installed trainer
# trains the demo model without --model and --clip.
if [ -f "$src/data/models/emoji64-clip.safetensors" ]; then
  if [ -f "$demo/clip.safetensors" ] &&
     "$bin/hyperdomain-train" --source emoji --target burger --steps 1 --batch 1 \
       -o "$dest/burger.safetensors" 2>"$dest/train.log" && [ -s "$dest/burger.safetensors" ]; then
    ok "the installed hyperdomain-train trained the demo with its installed CLIP"
  else
    fail "the installed hyperdomain-train did not train the demo: $(tail -1 "$dest/train.log" 2>/dev/null)"
  fi
fi

# The demo's first image (data/models/emoji64-start.json) is installed beside it.
if [ -f "$src/data/models/emoji64-start.json" ]; then
  if [ -f "$demo/start.json" ] && cmp -s "$demo/start.json" "$src/data/models/emoji64-start.json"; then
    ok "the demo's start is installed as $demo/start.json"
  else
    fail "the demo's start is not installed as $demo/start.json"
  fi
fi

# The demo's hypernetwork (data/models/emoji64-text.safetensors) is
# installed beside it, and the installed hyperdomain-render turns a prompt
# into a domain with it.
if [ -f "$src/data/models/emoji64-text.safetensors" ]; then
  if [ -f "$demo/text.safetensors" ] &&
     cmp -s "$demo/text.safetensors" "$src/data/models/emoji64-text.safetensors"; then
    ok "the demo's hypernetwork is installed as $demo/text.safetensors"
  else
    fail "the demo's hypernetwork is not installed as $demo/text.safetensors"
  fi
  if "$bin/hyperdomain-render" --hypernetwork "$demo/text.safetensors" --text cat --seed 3 \
       -o "$dest/cat.png" 2>"$dest/text.log" && [ -s "$dest/cat.png" ]; then
    ok "the installed hyperdomain-render rendered a prompt with the demo's hypernetwork"
  else
    fail "the installed hyperdomain-render did not render a prompt: $(tail -1 "$dest/text.log" 2>/dev/null)"
  fi
fi

if [ "$fails" -gt 0 ]; then
  echo "$fails checks failed"
  exit 1
fi
echo "every install check passed"
