#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a population of guests costs virt-tuned: CPU time, RSS, and the
history store's growth per report, for N simulated guests (vt-guest-sim)
reporting every interval on a libvirt test:/// node. Prints figures; it is
not a pass/fail test. See README.md."""

import argparse
import os
import sqlite3
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "host"))
os.environ.setdefault("VT_SOURCE_ROOT", SOURCE)
import vthost  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def store_state(db):
    """(reports stored, bytes in use in the database) as a reader sees them,
    WAL included."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        n = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        page = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        return n, (pages - free) * page
    finally:
        con.close()


def one_run(guests, report, seconds, interval_ms, warmup):
    with vthost.Env() as env:
        sim = env.start_sim("a", guests, interval_ms=interval_ms, report=report)
        node = env.node([("g%d" % i, i, env.sock("a", i)) for i in range(guests)])
        d = env.start_daemon(node)
        vthost.wait_until(
            "%d guests connected" % guests,
            lambda: sum(g["agent"] == "connected" for g in env.json("list")) == guests,
            timeout=300, interval=1)
        time.sleep(warmup)  # steady state: every guest past its first report
        db = env.path("state", "virt-tune.db")
        n0, b0 = store_state(db)
        c0, t0 = cpu_seconds(d.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(d.pid), time.monotonic()
        n1, b1 = store_state(db)
        rss = status_kib(d.pid, "VmRSS")
        hwm = status_kib(d.pid, "VmHWM")
        sim_cpu = cpu_seconds(sim.pid)
        reports = max(n1 - n0, 1)
        return {
            "report_bytes": sim.report_bytes,
            "cpu_pct": 100.0 * (c1 - c0) / (t1 - t0),
            "cpu_us_per_report": 1e6 * (c1 - c0) / reports,
            "reports_per_s": (n1 - n0) / (t1 - t0),
            "expected_per_s": guests * 1000.0 / interval_ms,
            "store_bytes_per_report": (b1 - b0) / reports,
            "rss_mib": rss / 1024.0,
            "hwm_mib": hwm / 1024.0,
            "sim_cpu_s": sim_cpu,
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"),
                    help="meson build directory (default: SOURCE/build)")
    ap.add_argument("--guests", default="10,100,500", help="comma-separated guest counts")
    ap.add_argument("--seconds", type=float, default=30, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=5, help="seconds before measuring")
    ap.add_argument("--interval-ms", type=int, default=1000, help="report interval per guest")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (median printed)")
    ap.add_argument("--report", action="append",
                    help="template report(s), canonical JSON (default: a 7.5 KB capture "
                    "of a real guest and a 4 KB fixture guest)")
    a = ap.parse_args()
    vthost.DAEMON = os.path.join(a.build, "host", "virt-tuned")
    vthost.CLI = os.path.join(a.build, "host", "cli", "virt-tune")
    vthost.SIM = os.path.join(a.build, "tests", "sim", "vt-guest-sim")
    reports = a.report or [
        os.path.join(SOURCE, "tests", "data", "host", "agent-capture.json"),
        os.path.join(SOURCE, "tests", "data", "guests", "virtio-mq", "virtio-mq.expected.json"),
    ]
    print("virt-tuned with vt-guest-sim: %d s window after %d s warm-up, reports every %d ms, "
          "median of %d runs; load average %s"
          % (a.seconds, a.warmup, a.interval_ms, a.runs,
             " ".join(open("/proc/loadavg").read().split()[:3])))
    print("%-6s %7s %9s %8s %10s %11s %9s %9s" % (
        "guests", "report", "cpu %", "us/rep", "reports/s", "store B/rep", "RSS MiB",
        "peak MiB"))
    for report in reports:
        for n in [int(x) for x in a.guests.split(",")]:
            runs = [one_run(n, report, a.seconds, a.interval_ms, a.warmup)
                    for _ in range(a.runs)]

            def med(key):
                return statistics.median(r[key] for r in runs)
            print("%-6d %6dB %9.2f %8.0f %6.0f/%-4.0f %11.0f %9.1f %9.1f" % (
                n, runs[0]["report_bytes"] or 0, med("cpu_pct"), med("cpu_us_per_report"),
                med("reports_per_s"), runs[0]["expected_per_s"],
                med("store_bytes_per_report"), med("rss_mib"), med("hwm_mib")))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
