#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the application icons: well-formed SVG in the hicolor layout, the
full-colour icon on a 128 px canvas, the symbolic one on 16 px in a single
colour (GTK recolours it), both named after the application ID.

usage: check-icons.py SOURCE_ROOT APP_ID"""

import os
import re
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def colours(root):
    found = set()
    for el in root.iter():
        for attr in ("fill", "stroke"):
            v = el.get(attr)
            if v and v not in ("none",) and not v.startswith("url("):
                found.add(v.lower())
        for m in re.finditer(r"(?:fill|stroke)\s*:\s*([^;]+)", el.get("style", "")):
            if m.group(1).strip() != "none":
                found.add(m.group(1).strip().lower())
    return found


def main():
    root_dir, app_id = sys.argv[1], sys.argv[2]
    icons = os.path.join(root_dir, "data", "icons", "hicolor")
    problems = []
    for sub, name, size in (("scalable", app_id + ".svg", 128),
                            ("symbolic", app_id + "-symbolic.svg", 16)):
        path = os.path.join(icons, sub, "apps", name)
        try:
            svg = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            problems.append(f"{path}: {e}")
            continue
        if svg.tag != SVG + "svg":
            problems.append(f"{name}: not an SVG document")
            continue
        box = [float(x) for x in svg.get("viewBox", "").split()] if svg.get("viewBox") else []
        if box != [0, 0, size, size] or svg.get("width") != str(size) or svg.get("height") != str(size):
            problems.append(f"{name}: the canvas is not {size}x{size}")
        if not any(el.tag in (SVG + "path", SVG + "circle", SVG + "rect", SVG + "ellipse") for el in svg.iter()):
            problems.append(f"{name}: draws nothing")
        if sub == "symbolic" and len(colours(svg)) != 1:
            problems.append(f"{name}: a symbolic icon has one colour, not {sorted(colours(svg))}")
        print(f"{name}: {size}x{size}, {len(colours(svg))} colours")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
