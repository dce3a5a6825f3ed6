#!/usr/bin/env python3
"""docs/frontend-guide.md's code blocks are examples/frontend-guide.cpp's
[guide:NAME] sections (which ctest examples.frontend-guide compiles and runs):
each ```cpp block of the guide must be one section's text (dedented), and
every section must appear in the guide. Exit 1, naming the block, if not."""
import re
import sys
import textwrap

guide_path, source_path = sys.argv[1], sys.argv[2]
source = open(source_path, encoding="utf-8").read()
sections = {}
for m in re.finditer(r"^[ \t]*// \[guide:([\w-]+)\]\n(.*?)^[ \t]*// \[/guide:\1\]\n", source,
                     re.M | re.S):
    sections[m.group(1)] = textwrap.dedent(m.group(2)).strip("\n")
if not sections:
    sys.exit(f"{source_path}: no [guide:NAME] sections")

guide = open(guide_path, encoding="utf-8").read()
blocks = re.findall(r"^```cpp\n(.*?)^```\n", guide, re.M | re.S)
used, errors = set(), []
for i, block in enumerate(blocks, 1):
    text = block.strip("\n")
    names = [n for n, s in sections.items() if s == text]
    if not names:
        first = text.splitlines()[0] if text else ""
        errors.append(f"{guide_path}: C++ block {i} (starting '{first}') is not a section "
                      f"of {source_path}: the guide's code must be code that is compiled")
    used.update(names)
for name in sorted(set(sections) - used):
    errors.append(f"{source_path}: section guide:{name} is not in {guide_path}")
for e in errors:
    print(e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"{len(blocks)} code blocks of {guide_path} are compiled sections of {source_path}")
