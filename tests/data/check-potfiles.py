#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fails when a source file that marks strings for translation is missing
from po/POTFILES.in, or when POTFILES.in names a file that is not there.

usage: check-potfiles.py SOURCE_ROOT"""

import os
import re
import sys

# Where user-visible strings live, and what marks one for translation.
SCANNED = [
    ("app", (".c",), re.compile(r"(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext|ngettext)\s*\(")),
    ("app", (".ui",), re.compile(r'translatable="yes"')),
    ("data", (".desktop.in",), re.compile(r"^(?:Name|GenericName|Comment|Keywords)=", re.M)),
    ("data", (".metainfo.xml.in",), re.compile(r"<(?:name|summary|p|li|caption)>")),
    ("data", (".gschema.xml",), re.compile(r"<(?:summary|description)>")),
]


def main():
    root = sys.argv[1]
    listed = []
    with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                listed.append(line)

    problems = []
    for path in listed:
        if not os.path.isfile(os.path.join(root, path)):
            problems.append(f"po/POTFILES.in names {path}, which does not exist")
    if len(set(listed)) != len(listed):
        problems.append("po/POTFILES.in names a file twice")

    found = []
    for top, suffixes, pattern in SCANNED:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if d != "models"]
            for name in filenames:
                if not name.endswith(suffixes):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                if pattern.search(text):
                    found.append(os.path.relpath(path, root))
    for path in sorted(set(found)):
        if path not in listed:
            problems.append(f"{path} has translatable strings but is missing from po/POTFILES.in")

    for p in problems:
        print(p)
    print(f"{len(found)} files with translatable strings, {len(listed)} in POTFILES.in")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
