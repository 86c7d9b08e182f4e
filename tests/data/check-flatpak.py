#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the Flatpak manifest: valid JSON, the application ID, the GNOME
runtime, GPU access, and a last module that builds this repository with
meson using options that meson_options.txt defines.

usage: check-flatpak.py MANIFEST SOURCE_ROOT APP_ID"""

import json
import os
import re
import sys


def main():
    manifest_path, root, app_id = sys.argv[1:4]
    problems = []
    try:
        with open(manifest_path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{manifest_path}: {e}")
        return 1

    def need(cond, what):
        if not cond:
            problems.append(what)

    need(m.get("id", m.get("app-id")) == app_id, f"the id is not {app_id}")
    need(m.get("runtime") == "org.gnome.Platform", "the runtime is not org.gnome.Platform")
    need(m.get("sdk") == "org.gnome.Sdk", "the sdk is not org.gnome.Sdk")
    need(re.fullmatch(r"\d+", str(m.get("runtime-version", ""))) is not None,
         "runtime-version is not a GNOME release such as 47")
    need(m.get("command") == "hyperdomain", "the command is not hyperdomain")
    args = m.get("finish-args", [])
    for a in ("--device=dri", "--socket=wayland", "--socket=fallback-x11", "--share=ipc"):
        need(a in args, f"finish-args lack {a}")
    need(not any(a in ("--filesystem=home", "--filesystem=host") for a in args),
         "finish-args open the whole home or host file system")

    modules = m.get("modules", [])
    need(len(modules) > 0 and isinstance(modules[-1], dict), "no modules")
    names = set()
    for mod in modules:
        if not isinstance(mod, dict):
            problems.append("a module is not an object")
            continue
        need("name" in mod and mod["name"] not in names, "a module has no name or a repeated one")
        names.add(mod.get("name"))
        for src in mod.get("sources", []):
            t = src.get("type")
            if t == "git":
                need("url" in src and ("tag" in src or "commit" in src or "branch" in src),
                     f"module {mod.get('name')}: a git source needs url and tag or commit")
            elif t in ("archive", "file"):
                need("url" in src and "sha256" in src or "path" in src,
                     f"module {mod.get('name')}: an {t} source needs url and sha256")
            elif t == "dir":
                need("path" in src, f"module {mod.get('name')}: a dir source needs a path")
            else:
                problems.append(f"module {mod.get('name')}: unexpected source type {t}")

    if modules and isinstance(modules[-1], dict):
        app = modules[-1]
        need(app.get("buildsystem") == "meson", "the last module does not use meson")
        dirs = [s for s in app.get("sources", []) if s.get("type") == "dir"]
        need(len(dirs) == 1, "the last module does not build a local directory")
        if dirs:
            path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(manifest_path)),
                                                 dirs[0].get("path", "")))
            need(os.path.samefile(path, root) if os.path.isdir(path) else False,
                 f"the last module builds {path}, not this repository ({root})")
            build = os.path.join(path, "meson.build")
            need(os.path.isfile(build) and "project('hyperdomain'" in open(build, encoding="utf-8").read(),
                 f"{build} is not Hyperdomain's meson build")
        with open(os.path.join(root, "meson_options.txt"), encoding="utf-8") as f:
            options = set(re.findall(r"option\('([^']+)'", f.read()))
        for opt in app.get("config-opts", []):
            mm = re.fullmatch(r"-D([a-z_-]+)=.*", opt)
            if mm:
                need(mm.group(1) in options, f"config-opts set {mm.group(1)}, which meson_options.txt does not define")
            else:
                need(re.fullmatch(r"--[a-z-]+=.*", opt) is not None, f"odd config-opt {opt}")
        need("-Dtests=false" in app.get("config-opts", []), "the tests are built in the Flatpak")

    for p in problems:
        print(p)
    if not problems:
        print(f"{os.path.basename(manifest_path)}: {len(modules)} modules, the last builds this repository with meson")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
