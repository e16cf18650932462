#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's history across a kill -9 and a restart on the same state
directory, and --retention-reports bounding it."""

import os
import signal
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402


def test_kill9_restart():
    with Env() as env:
        env.start_sim("a", 2, interval_ms=300)
        node = env.node([("g0", 0, env.sock("a", 0)), ("g1", 1, env.sock("a", 1))])
        d = env.start_daemon(node)
        wait_until("8 reports of g0 in the history", lambda: len(env.history("g0")) >= 8)
        before = {n: env.history(n) for n in ("g0", "g1")}
        boot = env.guests()["g0"]["boot_id"]
        d.signal(signal.SIGKILL)
        assert d.popen.wait(30) == -signal.SIGKILL
        r = env.cli("list")
        assert r.rc == 3, r  # the stale socket file answers nobody

        env.start_daemon(node)  # replaces the stale socket, reopens the store
        for n in ("g0", "g1"):
            after = env.history(n)
            times = {row["time_ms"] for row in after}
            missing = [row for row in before[n] if row["time_ms"] not in times]
            assert not missing, "lost across kill -9: %r" % missing[:3]
            old = {row["time_ms"]: row for row in after}
            for row in before[n]:
                assert old[row["time_ms"]] == row, (row, old[row["time_ms"]])
        assert before["g0"][-1]["boot_id"] == boot
        # The guests come back by themselves, and new reports follow the old.
        wait_until("both guests to reconnect",
                   lambda: all(g["agent"] == "connected" for g in env.guests().values()))
        last = before["g0"][-1]["time_ms"]
        wait_until("new reports after the restart",
                   lambda: len([r for r in env.history("g0") if r["time_ms"] > last]) >= 3)
        hist = env.history("g0")
        assert [r["time_ms"] for r in hist] == sorted(r["time_ms"] for r in hist)


def test_refresh_answer_is_on_disk():
    """Reports are committed in batches; the report a `refresh` answers with
    is committed before the answer goes out, so a kill -9 right after the
    answer keeps it."""
    with Env() as env:
        # many reports a second: a batch is open almost all the time
        env.start_sim("a", 4, interval_ms=50)
        node = env.node([("g%d" % i, i, env.sock("a", i)) for i in range(4)])
        d = env.start_daemon(node)
        wait_until("a report of g0",
                   lambda: env.guests()["g0"]["agent"] == "connected"
                   and len(env.history("g0")) >= 2)
        for _ in range(3):
            r = env.json("refresh", "g0")
            up = r["report"]["identity"]["uptime_s"]
            d.signal(signal.SIGKILL)
            assert d.popen.wait(30) == -signal.SIGKILL
            # a second connection, as any reader after the crash
            con = sqlite3.connect("file:%s?mode=ro" % env.path("state", "virt-tune.db"),
                                  uri=True, timeout=30)
            n = con.execute("SELECT count(*) FROM reports r JOIN domains d"
                            " ON d.id = r.domain_id WHERE d.name = 'g0'").fetchone()[0]
            con.close()
            assert n >= 2, n
            d = env.start_daemon(node)
            ups = [row["uptime_s"] for row in env.history("g0")]
            assert up in ups, "the refreshed report (uptime %d) is lost: %r" % (up, ups[-5:])
            wait_until("g0 to reconnect", lambda: env.guests()["g0"]["agent"] == "connected")


def test_retention_reports():
    with Env() as env:
        keep = 4
        sim = env.start_sim("a", 1, interval_ms=150)
        node = env.node([("g0", 0, env.sock("a", 0))])
        extra = ["--retention-reports", str(keep), "--retention-days", "0"]
        d = env.start_daemon(node, extra=extra)
        wait_until("%d reports" % (3 * keep), lambda: len(env.history("g0")) >= 3 * keep)
        sim.stop()
        d.stop()
        # Pruning runs at start and then hourly: a restart applies the bound.
        env.start_daemon(node, extra=extra)
        hist = env.history("g0")
        assert len(hist) == keep, len(hist)
        # The newest are kept: the last one has the highest uptime seen.
        ups = [r["uptime_s"] for r in hist]
        assert ups == sorted(ups) and ups[-1] >= 100 + 3 * keep, ups
        # Without the bound, nothing more goes.
        env.daemon.stop()
        env.start_daemon(node, extra=["--retention-reports", "0"])
        assert len(env.history("g0")) == keep


vthost.main([
    ("kill -9, restart on the same state dir: history kept, guests reconnect",
     test_kill9_restart),
    ("a refresh's answer is committed: kill -9 after it keeps the report",
     test_refresh_answer_is_on_disk),
    ("--retention-reports bounds each domain's history", test_retention_reports),
])
