#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Two bench-agent binaries, run in turn under the same load.

On a machine shared with other builds, one run of each an hour apart compares
the load, not the code. This runs A and B alternately, ROUNDS times each,
prints every run's figures with the load average it ran under, and the median
over the rounds of each figure. Prints figures; passes or fails nothing.

Usage: agent-ab.py A B [--rounds N] [--reports N] [--shell-runs N]
(A and B: paths of bench-agent builds, e.g. one of main and one of a branch)
"""
import argparse
import os
import re
import statistics
import subprocess

FIGURES = {
    "median_us": r"CPU per collect\+encode: median ([\d.]+) us",
    "p90_us": r"p90 ([\d.]+) us",
    "collect_only_us": r"collect\+free without encode: median ([\d.]+) us",
    "rss_kb": r"kB after warm-up, (\d+) kB after",
    "anon_kb": r"RssAnon (\d+) kB",
    "file_kb": r"RssFile (\d+) kB",
    "nics_us": r" nics ([\d.]+)",
    "shell_us": r"CPU incl. children: median ([\d.]+) us",
    "ratio": r"costs (\d+)x",
}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(binary, args):
    load = loadavg()
    out = subprocess.run([binary] + args, capture_output=True, text=True, check=True).stdout
    got = {"load": load}
    for key, pattern in FIGURES.items():
        m = re.search(pattern, out)
        if m:
            got[key] = float(m.group(1))
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--shell-runs", type=int, default=0)
    opt = ap.parse_args()
    args = ["--reports", str(opt.reports), "--shell-runs", str(opt.shell_runs)]
    runs = {"A": [], "B": []}
    for i in range(opt.rounds):
        for name, binary in (("A", opt.a), ("B", opt.b)):
            got = run(binary, args)
            runs[name].append(got)
            print("round %d %s load %s: %s" % (i + 1, name, got["load"], ", ".join(
                "%s %g" % (k, v) for k, v in got.items() if k != "load")), flush=True)
    for name, binary in (("A", opt.a), ("B", opt.b)):
        keys = [k for k in FIGURES if all(k in r for r in runs[name])]
        print("%s %s: median of %d runs: %s" % (name, os.path.relpath(binary), opt.rounds, ", ".join(
            "%s %g" % (k, statistics.median(r[k] for r in runs[name])) for k in keys)))


if __name__ == "__main__":
    main()
