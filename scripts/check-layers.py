#!/usr/bin/env python3
"""Fails when a tgc library's source includes a header of a library its layer
may not use (see cmake/TgLayers.cmake, which this reads). Run by the build
(target tg-check-layers) and usable by hand: scripts/check-layers.py [ROOT]."""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
layers = open(os.path.join(root, "cmake", "TgLayers.cmake")).read()

deps = {}
for m in re.finditer(r"set\(TG_LAYER_DEPS_(\w+)((?:\s+[^\s)]+)*)\s*\)", layers):
    deps[m.group(1)] = set(x.strip('"') for x in m.group(2).split() if x.strip('"'))
public = {}
m = re.search(r"set\(TG_PUBLIC_HEADERS([^)]*)\)", layers)
for item in m.group(1).split():
    header, lib = item.split("=")
    public["tg/" + header] = lib

# Which library each source file belongs to, from the add_library calls.
owner = {}
dir_lib = {}
for dirpath, _, files in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    if rel.startswith(("build", ".", "tests", "tools", "bench", "examples")):
        continue
    if "CMakeLists.txt" not in files or rel == ".":
        continue
    text = open(os.path.join(dirpath, "CMakeLists.txt")).read()
    for lib, body in re.findall(r"add_library\((\w+)\s+([^)]*)\)", text):
        srcs = [s for s in body.split() if s.endswith(".cpp")]
        dir_lib.setdefault(rel, lib)
        for s in srcs:
            owner[os.path.normpath(os.path.join(rel, s))] = lib


def library_of(path):
    """The library of a file (relative to root); headers go with the .cpp of
    the same name, else with their folder's first library."""
    if path in owner:
        return owner[path]
    stem = os.path.splitext(path)[0]
    if stem + ".cpp" in owner:
        return owner[stem + ".cpp"]
    # An internal header: the library of the sources beside it that include it.
    users = {lib for src, lib in owner.items()
             if os.path.dirname(src) == os.path.dirname(path)
             and f'"{path}"' in open(os.path.join(root, src)).read()}
    if len(users) == 1:
        return users.pop()
    return dir_lib.get(os.path.dirname(path))


def header_library(include):
    if include in public:
        return public[include]
    if os.path.exists(os.path.join(root, include)):
        return library_of(include)
    return None  # generated (.inc) or not ours


errors = []
for path in sorted(set(owner) | {os.path.relpath(os.path.join(d, f), root)
                                 for d, _, fs in os.walk(root) for f in fs
                                 if f.endswith(".h") and os.path.relpath(d, root) in dir_lib}):
    lib = library_of(path)
    if lib is None or lib not in deps:
        continue
    for n, line in enumerate(open(os.path.join(root, path)), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        target = header_library(m.group(1))
        if target is None or target == lib or target in deps[lib]:
            continue
        errors.append(f"{path}:{n}: {lib} includes \"{m.group(1)}\" of {target}, which its layer "
                      f"may not use (allowed: {', '.join(sorted(deps[lib])) or 'none'}; "
                      f"see cmake/TgLayers.cmake)")

for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
