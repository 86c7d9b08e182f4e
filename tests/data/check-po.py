#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks po/LANG.po: msgfmt --check passes, and no message is fuzzy or
untranslated.  Then compares it with the strings the sources mark today:
when sources gained strings the translation does not have yet, the test is
reported as skipped (exit 77) with the list, so that adding a string does
not break the build; the translation is then due.

usage: check-po.py SOURCE_ROOT LANG"""

import os
import re
import subprocess
import sys
import tempfile

KEYWORDS = ["_", "N_", "C_:1c,2", "NC_:1c,2", "g_dcgettext:2", "g_dngettext:2,3",
            "g_dpgettext2:2c,3"]


def main():
    root, lang = sys.argv[1], sys.argv[2]
    po = os.path.join(root, "po", lang + ".po")
    if not os.path.isfile(po):
        print(f"po/{lang}.po is missing (po/LINGUAS names {lang})")
        return 1

    r = subprocess.run(["msgfmt", "--check", "--check-accelerators=_", "--statistics",
                        "-o", os.devnull, po], capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C"))
    sys.stdout.write(r.stderr)
    if r.returncode != 0:
        print(f"msgfmt --check failed on po/{lang}.po")
        return 1
    fuzzy = re.search(r"(\d+) fuzzy", r.stderr)
    untranslated = re.search(r"(\d+) untranslated", r.stderr)
    if fuzzy or untranslated:
        print(f"po/{lang}.po has fuzzy or untranslated messages")
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "hyperdomain.pot")
        cmd = ["xgettext", "--from-code=UTF-8", "-D", root,
               "-f", os.path.join(root, "po", "POTFILES.in"), "-o", pot]
        cmd += ["--keyword=" + k for k in KEYWORDS]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stdout.write(r.stderr)
            print("xgettext failed on the files of po/POTFILES.in")
            return 1
        r = subprocess.run(["msgcmp", "--use-untranslated", po, pot],
                           capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        if r.returncode != 0:
            missing = [l for l in r.stderr.splitlines() if "this message is used but not defined" in l]
            sys.stdout.write(r.stderr)
            print(f"SKIP: {len(missing)} strings of the sources are not in po/{lang}.po yet "
                  f"(ninja -C BUILD hyperdomain-update-po, then translate them)")
            return 77
    print(f"po/{lang}.po translates every string of the sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
