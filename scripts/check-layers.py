#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Holds the tree to the layer table of docs/ARCHITECTURE.md: every
`#include "..."` of every tracked C file must name a layer its own layer may
include, every C file must lie in a layer, and library code must not print,
parse argv or exit (only dissector/cli/, the programs' main.c, the logger and
the tests may).
    scripts/check-layers.py"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "ARCHITECTURE.md")
# calls that print to the terminal, read argv or end the process
FORBIDDEN = re.compile(r"\b(printf|puts|putchar|perror|getopt_long|getopt|exit|abort)\s*\("
                       r"|fprintf\s*\(\s*std(err|out)|fputs\s*\([^;]*,\s*std(err|out)\s*\)")
MAY_PRINT = re.compile(r"^(dissector/cli/|tests/|archive/common/log\.c$|[a-z]+/main\.c$)")


def read_table():
    text = open(DOC).read()
    m = re.search(r"```layers\n(.*?)```", text, re.S)
    if not m:
        sys.exit("check-layers: no ```layers block in docs/ARCHITECTURE.md")
    layers = {}
    for line in m.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, folder, *allowed = line.split()
            layers[name] = (folder, set(allowed))
    return layers


def layer_of(path, layers):
    best = None
    for name, (folder, _) in layers.items():
        if path.startswith(folder) and (best is None or len(folder) > len(layers[best][0])):
            best = name
    return best


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), src, flags=re.S)
    src = re.sub(r'"(\\.|[^"\\\n])*"', '""', src)
    return re.sub(r"//[^\n]*", "", src)


def main():
    layers = read_table()
    files = subprocess.run(["git", "ls-files", "*.c", "*.h", "*.def"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    problems = []
    for f in files:
        own = layer_of(f, layers)
        if own is None:
            problems.append(f"{f}: in no layer of docs/ARCHITECTURE.md")
            continue
        raw = open(os.path.join(ROOT, f), errors="replace").read()
        for n, line in enumerate(raw.splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m or "/" not in m.group(1):
                continue
            target = layer_of(m.group(1), layers)
            if target is None:
                problems.append(f"{f}:{n}: includes {m.group(1)}, in no layer")
            elif target not in layers[own][1]:
                problems.append(f"{f}:{n}: {own} may not include {target} ({m.group(1)})")
        if f.endswith(".c") and not MAY_PRINT.match(f):
            for n, line in enumerate(strip_comments(raw).splitlines(), 1):
                if FORBIDDEN.search(line):
                    problems.append(f"{f}:{n}: library code prints, parses argv or exits: {line.strip()}")
    for p in problems:
        print(p)
    print(f"layers: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
