#!/usr/bin/env python3
"""Fails when a C source under common/, guest/ or host/ is over 600 lines or
holds a function body over 80 lines. Data tables (a definition whose body is
an initializer, `... = {`) do not count. Functions are found as clang-format
lays them out: the name at column 0 and the opening brace alone at column 0.
Usage: check-size.py SOURCE_ROOT"""
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
DIRS = ("common", "guest", "host", "tests")


def sources(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                              "--exclude-standard", "--", *DIRS],
                             capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [os.path.relpath(os.path.join(d, f), root)
               for top in DIRS for d, _, fs in os.walk(os.path.join(root, top)) for f in fs]
    return sorted(f for f in out if f.endswith((".c", ".h")))


def long_functions(lines):
    name = None
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_]\w*)\s*\(", line)
        if m:
            name = m.group(1)
        if line.rstrip("\n") == "{" and name:
            start = i
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("}"):
                    body = j - start - 1
                    if body > MAX_FUNCTION_LINES:
                        yield name, start + 1, body
                    break
            name = None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = 0
    for rel in sources(root):
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        if len(lines) > MAX_FILE_LINES:
            print(f"{rel}: {len(lines)} lines (at most {MAX_FILE_LINES}): split it by job")
            bad += 1
        for fn, line, body in long_functions(lines):
            print(f"{rel}:{line}: {fn}() has {body} lines (at most {MAX_FUNCTION_LINES})")
            bad += 1
    print(f"{bad} size problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
