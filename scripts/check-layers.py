#!/usr/bin/env python3
"""Fails when a tgc library's source includes a header of a library its layer
may not use (see cmake/TgLayers.cmake, which this reads). A file belongs to
the library of the nearest folder above it whose CMakeLists.txt defines one
(one library per folder: the configure step checks it), so there is nothing
to guess. Run by the build (target tg-check-layers) and usable by hand:
scripts/check-layers.py [ROOT]."""
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

# Folders outside the layers: executables, tests, benchmarks, the build.
SKIP = ("build", ".", "tests", "tools", "bench", "examples", "include", "scripts", "docs", "cmake")

# The library of each folder that defines one.
dir_lib = {}
for dirpath, dirnames, files in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    if rel != "." and rel.startswith(SKIP):
        dirnames[:] = []
        continue
    if "CMakeLists.txt" not in files or rel == ".":
        continue
    libs = re.findall(r"add_library\((\w+)", open(os.path.join(dirpath, "CMakeLists.txt")).read())
    if len(libs) > 1:
        sys.exit(f"{rel}/CMakeLists.txt defines {', '.join(libs)}: one library per folder")
    if libs:
        dir_lib[rel] = libs[0]


def library_of(path):
    """The library of the nearest folder above `path` that defines one."""
    d = os.path.dirname(path)
    while d:
        if d in dir_lib:
            return dir_lib[d]
        d = os.path.dirname(d)
    return None


def header_library(include):
    if include in public:
        return public[include]
    if os.path.exists(os.path.join(root, include)):
        return library_of(include)
    return None  # generated (.inc) or not ours


errors = []
for dirpath, dirnames, files in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    if rel == "." or rel.startswith(SKIP):
        if rel != ".":
            dirnames[:] = []
        continue
    for f in sorted(files):
        if not f.endswith((".cpp", ".h")):
            continue
        path = os.path.normpath(os.path.join(rel, f))
        lib = library_of(path)
        if lib is None:
            continue
        if lib not in deps:
            errors.append(f"{path}: library {lib} has no layer in cmake/TgLayers.cmake")
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

for e in sorted(errors):
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
