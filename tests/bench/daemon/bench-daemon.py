#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a population of guests costs virt-tuned: CPU time, RSS, and the
history store's growth per report, for N simulated guests (vt-guest-sim)
reporting every interval on a libvirt test:/// node (opened in virt-tuned's
own process, or with --libvirtd served by a private libvirtd). Prints
figures; it is not a pass/fail test. See README.md."""

import argparse
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "host"))
os.environ.setdefault("VT_SOURCE_ROOT", SOURCE)
import vthost  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
DAEMON_POLL_S = 10  # virt-tuned's --poll-interval without the option (host/daemon/main.c)


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


def newest_per_guest(db):
    """The time of each domain's newest stored report (ms, host clock)."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return [t for (t,) in con.execute(
            "SELECT (SELECT max(time_ms) FROM reports r WHERE r.domain_id = d.id)"
            " FROM domains d")]
    finally:
        con.close()


def reporting_guests(db):
    try:
        return sum(t is not None for t in newest_per_guest(db))
    except sqlite3.Error:
        return 0  # not created yet


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


REFERENCE_DATA = random.Random(1).randbytes(4 << 20)


def reference_ms():
    """CPU time of a fixed workload (zlib, level 6, over 4 MiB of fixed
    pseudo-random bytes), best of three: how fast the machine is at the
    time. On a shared machine the same build's figures move with it, and
    this tells a slow run of the daemon from a slow machine."""
    best = None
    for _ in range(3):
        t0 = time.process_time()
        zlib.compress(REFERENCE_DATA, 6)
        t = (time.process_time() - t0) * 1000
        best = t if best is None else min(best, t)
    return best


def one_run(guests, report, seconds, interval_ms, warmup, poll_s, libvirtd, perf_out=None):
    with vthost.Env(poll_interval_s=poll_s) as env:
        sim = env.start_sim("a", guests, interval_ms=interval_ms, report=report,
                            timeout=300)
        node = env.node([("g%d" % i, i, env.sock("a", i)) for i in range(guests)])
        lvd = None
        if libvirtd:
            os.chmod(node, 0o644)  # libvirtd may run as nobody
            lvd = env.start_libvirtd()
        d = env.start_daemon(node)
        db = env.path("state", "virt-tune.db")
        # every guest connected: each has a report stored (read from the file,
        # not through the daemon, which is busy connecting them)
        vthost.wait_until("%d guests reporting" % guests,
                          lambda: reporting_guests(db) == guests,
                          timeout=600, interval=1)
        time.sleep(warmup)  # steady state: every guest past its first report
        n0, b0 = store_state(db)
        c0, t0 = cpu_seconds(d.pid), time.monotonic()
        l0 = cpu_seconds(lvd.pid) if lvd else 0
        if perf_out:
            # the daemon's call graph over the window, for `perf report -i`
            subprocess.run(["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", "499",
                            "-p", str(d.pid), "-o", perf_out, "--", "sleep", str(seconds)],
                           check=True)
        else:
            time.sleep(seconds)
        c1, t1 = cpu_seconds(d.pid), time.monotonic()
        l1 = cpu_seconds(lvd.pid) if lvd else 0
        n1, b1 = store_state(db)
        now_ms = time.time() * 1000
        ages = [(now_ms - t) / 1000 if t is not None else float("inf")
                for t in newest_per_guest(db)]
        rss = status_kib(d.pid, "VmRSS")
        hwm = status_kib(d.pid, "VmHWM")
        sim_cpu = cpu_seconds(sim.pid)
        reports = max(n1 - n0, 1)
        if lvd and not lvd.alive():
            raise RuntimeError("libvirtd exited with status %s" % lvd.popen.returncode)
        return {
            "ref_ms": reference_ms(),
            "report_bytes": sim.report_bytes,
            "cpu_pct": 100.0 * (c1 - c0) / (t1 - t0),
            "cpu_us_per_report": 1e6 * (c1 - c0) / reports,
            "reports_per_s": (n1 - n0) / (t1 - t0),
            "expected_per_s": guests * 1000.0 / interval_ms,
            "store_bytes_per_report": (b1 - b0) / reports,
            "rss_mib": rss / 1024.0,
            "rss_kib_per_guest": rss / guests,
            "hwm_mib": hwm / 1024.0,
            "age_p99_s": percentile(ages, 0.99),
            "age_max_s": max(ages),
            "sim_cpu_s": sim_cpu,
            "lvd_cpu_pct": 100.0 * (l1 - l0) / (t1 - t0),
            "lvd_us_per_report": 1e6 * (l1 - l0) / reports,
            "lvd_rss_mib": status_kib(lvd.pid, "VmRSS") / 1024.0 if lvd else 0,
        }


def raise_nofile():
    """Each guest is a socket in the simulator and in the daemon (the unit
    gives virt-tuned LimitNOFILE=8192): lift the soft limit for both."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_cases(spec, interval_ms):
    """"100,1000,5000:10000": guest counts, each with its own report interval
    (ms) after a colon, else --interval-ms."""
    cases = []
    for item in spec.split(","):
        n, _, ms = item.partition(":")
        cases.append((int(n), int(ms) if ms else interval_ms))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"),
                    help="meson build directory (default: SOURCE/build)")
    ap.add_argument("--guests", default="100,1000,5000:10000",
                    help="comma-separated guest counts, each N or N:INTERVAL_MS")
    ap.add_argument("--seconds", type=float, default=30, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=5,
                    help="seconds before measuring (at least two report intervals)")
    ap.add_argument("--interval-ms", type=int, default=1000, help="report interval per guest")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (median printed)")
    ap.add_argument("--report", action="append",
                    help="template report(s), canonical JSON (default: a 7.5 KB capture "
                    "of a real guest and a 4 KB fixture guest)")
    ap.add_argument("--poll-interval", type=int, default=DAEMON_POLL_S, metavar="S",
                    help="virt-tuned --poll-interval (default %d, the daemon's default)"
                    % DAEMON_POLL_S)
    ap.add_argument("--libvirtd", action="store_true",
                    help="serve the test:/// node from a private unprivileged libvirtd "
                    "(test+unix://), so that libvirt's share is in libvirtd, not "
                    "virt-tuned; print libvirtd's CPU and RSS too")
    ap.add_argument("--perf-record", metavar="FILE",
                    help="record the daemon's call graph (perf record --call-graph dwarf) "
                    "over the window of the first run into FILE")
    a = ap.parse_args()
    if not 1 <= a.poll_interval <= 3600:
        ap.error("--poll-interval must be 1..3600 seconds, as for virt-tuned")
    vthost.DAEMON = os.path.join(a.build, "host", "virt-tuned")
    vthost.CLI = os.path.join(a.build, "host", "cli", "virt-tune")
    vthost.SIM = os.path.join(a.build, "tests", "sim", "vt-guest-sim")
    reports = a.report or [
        os.path.join(SOURCE, "tests", "data", "host", "agent-capture.json"),
        os.path.join(SOURCE, "tests", "data", "guests", "virtio-mq", "virtio-mq.expected.json"),
    ]
    cases = parse_cases(a.guests, a.interval_ms)
    nofile = raise_nofile()
    if nofile != resource.RLIM_INFINITY and nofile < max(n for n, _ in cases) + 64:
        sys.exit("RLIMIT_NOFILE is %d: too few descriptors for %d guests"
                 % (nofile, max(n for n, _ in cases)))
    print("virt-tuned with vt-guest-sim: %d s window after >= %d s warm-up, median of %d runs; "
          "%d CPUs; load average %s; libvirt poll every %d s; libvirt %s"
          % (a.seconds, a.warmup, a.runs, os.cpu_count(),
             " ".join(open("/proc/loadavg").read().split()[:3]), a.poll_interval,
             "in a private libvirtd (test+unix://)" if a.libvirtd
             else "in virt-tuned's process (test:///)"))
    header = "%-6s %6s %7s %7s %7s %11s %8s %8s %9s %8s %8s %8s" % (
        "guests", "every", "report", "cpu %", "us/rep", "reports/s", "store B", "RSS MiB",
        "KiB/guest", "peak MiB", "age p99", "age max")
    if a.libvirtd:
        header += " %8s %8s %8s" % ("lvd cpu%", "lvd us/r", "lvd MiB")
    header += " %7s" % "ref ms"
    print(header)
    for report in reports:
        for n, interval_ms in cases:
            warmup = max(a.warmup, 2 * interval_ms / 1000.0)
            try:
                runs = [one_run(n, report, a.seconds, interval_ms, warmup, a.poll_interval,
                                a.libvirtd, a.perf_record if i == 0 else None)
                        for i in range(a.runs)]
            except vthost.Skip as e:  # no libvirtd to start
                sys.exit("bench-daemon: %s" % e)

            def med(key):
                return statistics.median(r[key] for r in runs)
            line = ("%-6d %5.0fs %6dB %7.2f %7.0f %5.0f/%-5.0f %8.0f %8.1f %9.1f %8.1f %7.1fs "
                    "%7.1fs" % (
                        n, interval_ms / 1000.0, runs[0]["report_bytes"] or 0, med("cpu_pct"),
                        med("cpu_us_per_report"), med("reports_per_s"),
                        runs[0]["expected_per_s"], med("store_bytes_per_report"),
                        med("rss_mib"), med("rss_kib_per_guest"), med("hwm_mib"),
                        med("age_p99_s"), med("age_max_s")))
            if a.libvirtd:
                line += " %8.2f %8.0f %8.1f" % (
                    med("lvd_cpu_pct"), med("lvd_us_per_report"), med("lvd_rss_mib"))
            line += " %7.0f" % med("ref_ms")
            print(line)
            if len(runs) > 1:
                print("       runs: " + ", ".join(
                    "%.0f us/rep %.1f MiB ref %.0f ms" % (
                        r["cpu_us_per_report"], r["rss_mib"], r["ref_ms"]) for r in runs))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
