#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lints the man pages (man --warnings) and checks that every long option
the programs' --help lists is described in their man page.

usage: check-man.py --render HYPERDOMAIN_RENDER --convert HYPERDOMAIN_CONVERT
                    --train HYPERDOMAIN_TRAIN PAGE..."""

import argparse
import os
import re
import subprocess
import sys


def help_options(cmd):
    env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="")
    r = subprocess.run(cmd + ["--help"], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} --help failed: {r.stderr.strip()}")
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", r.stdout))
    # GLib's own help options are documented as -h, --help.
    return opts - {"--help-all", "--help-gapplication"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", required=True)
    ap.add_argument("--convert", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()

    failures = 0
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    env.pop("MAN_KEEP_FORMATTING", None)
    rendered = {}
    for page in a.pages:
        r = subprocess.run(["man", "--warnings=w", "-E", "UTF-8", "-l", page],
                           capture_output=True, text=True, env=env)
        name = os.path.basename(page)
        if r.returncode != 0 or r.stderr.strip():
            print(f"not ok: {name}: man reports:\n{r.stderr}")
            failures += 1
        elif len(r.stdout.splitlines()) < 20:
            print(f"not ok: {name}: renders to almost nothing")
            failures += 1
        else:
            print(f"ok: {name} renders without warnings ({len(r.stdout.splitlines())} lines)")
        # man may hyphenate, use typographic hyphens and overstrike for
        # bold; undo all three.
        text = re.sub(r".\x08", "", r.stdout)
        text = re.sub(r"[\u2010\u2011]\n\s*", "", text)
        rendered[name] = text.replace("\u2010", "-").replace("\u2212", "-")

    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    programs = {"hyperdomain-render.1": [a.render],
                "hyperdomain-convert.1": [python, a.convert],
                "hyperdomain-train.1": [a.train]}
    for page, cmd in programs.items():
        if page not in rendered:
            print(f"not ok: no {page} among the pages")
            failures += 1
            continue
        missing = sorted(o for o in help_options(cmd) if o not in rendered[page])
        if missing:
            print(f"not ok: {page} does not describe {', '.join(missing)}")
            failures += 1
        else:
            print(f"ok: {page} describes every option of --help")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
