#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The measured effect of a change with the real virt-tuned and a simulated
guest whose NIC drops are a known series before and after the change
(vt-guest-sim --drops): improved, regressed, noise only, too short. Then the
host's side: the test driver has no interface statistics, so a known series
of the tap's drops is written into the daemon's store as host samples around
the change, in the form the daemon keeps them at each poll."""

import csv
import io
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

INTERVAL_MS = 200
SAMPLES = 12  # reports on each side


def effect_of(drops, after_reports=SAMPLES, interval_ms=INTERVAL_MS):
    """Apply the guest's nic.* recommendation between two windows of reports;
    the effect `changes --effect` gives for it."""
    with Env() as env:
        env.start_sim("a", 1, interval_ms=interval_ms, extra=["--drops", drops])
        env.start_daemon(env.node([("g0", 0, env.sock("a", 0))]))
        wait_until("reports before the change", lambda: len(env.history("g0")) >= SAMPLES + 1)
        recs = env.json("recommend", "g0")["recommendations"]
        nic = [r["id"] for r in recs if r["id"].startswith("nic.") and r.get("action")]
        assert nic, recs
        res = env.json("apply", "g0", nic[0])
        assert res["status"] == "applied", res
        n = len(env.history("g0"))
        if after_reports:
            wait_until("reports after the change",
                       lambda: len(env.history("g0")) >= n + after_reports)
        rows = env.json("changes", "g0", "--effect")
        eff = [r["effect"] for r in rows if r.get("effect")]
        assert len(eff) == 1, rows
        drops_m = [m for m in eff[0]["metrics"] if m["name"] == "drops_per_s"]
        assert drops_m, eff
        text = env.cli("changes", "g0", "--effect").out
        assert eff[0]["verdict"] in text and "drops_per_s" in text, text
        return eff[0], drops_m[0]


def test_improved():
    eff, m = effect_of("50:2:5")
    assert eff["verdict"] == "improved", eff
    assert m["verdict"] == "improved" and m["p"] < 0.05, m
    assert m["before"]["n"] >= 4 and m["after"]["n"] >= 4, m
    assert m["before"]["mean"] > 100 and m["after"]["mean"] < 50, m  # per second


def test_regressed():
    eff, m = effect_of("2:50:5")
    assert eff["verdict"] == "regressed" and m["verdict"] == "regressed", eff


def test_noise_only():
    eff, m = effect_of("20:20:15")
    assert eff["verdict"] == "no measurable change", eff
    assert m["before"]["stddev"] > 0 and m["after"]["stddev"] > 0, m


def test_too_short():
    # reports 1.5 s apart: the answer to apply comes well before 4 more
    eff, m = effect_of("50:2:5", after_reports=0, interval_ms=1500)
    assert m["after"]["n"] < 4 and m["verdict"] == "insufficient data", m
    assert eff["verdict"] == "insufficient data", eff


HOST_STEP_MS = 100


def host_sample(subject, rx_drop):
    """One poll's host counters as virt-tuned keeps them (host-sample.h)."""
    return ("Domain: 'sample'\n  block.count=0\n  net.count=1\n  net.0.name=vnet0\n"
            "  net.0.guest=%s\n  net.0.rx.drop=%d\n  net.0.tx.drop=0\n"
            % (subject, rx_drop)).encode()


def write_host_series(env, subject, before, after, noise, n_after):
    """Host samples every HOST_STEP_MS: SAMPLES + 1 up to the change whose
    tap drops grow by @before per second, then @n_after at @after per second
    (the interval across the change belongs to neither window)."""
    db = sqlite3.connect(env.path("state", "virt-tune.db"), timeout=30)
    try:
        t0, dom = db.execute(
            "SELECT a.finished_ms, a.domain_id FROM audit a WHERE a.operation = 'apply'"
            " AND a.status = 'applied'").fetchone()
        wait_until("the after window to hold the samples",
                   lambda: time.time() * 1000 > t0 + (n_after + 1) * HOST_STEP_MS)
        rnd = random.Random(before * 1000 + after)
        total, rows = 1000.0, []
        for i in range(-SAMPLES, n_after + 1):
            rate = before if i <= 0 else after
            total += max(0.0, rate * (1 + rnd.uniform(-noise, noise))) * HOST_STEP_MS / 1000
            rows.append((dom, t0 + i * HOST_STEP_MS - (1 if i == 0 else 0),
                         host_sample(subject, int(total))))
        with db:
            db.executemany("INSERT INTO host_samples (domain_id, time_ms, data)"
                           " VALUES (?, ?, ?)", rows)
    finally:
        db.close()


def host_effect_of(before, after, noise=0.05, n_after=SAMPLES + 1):
    """The host side of `changes --effect` (JSON, table, CSV) for a change
    whose guest drops do not move while its tap's go from @before to @after
    per second."""
    with Env() as env:
        env.start_sim("a", 1, interval_ms=INTERVAL_MS, extra=["--drops", "10:10:0"])
        env.start_daemon(env.node([("g0", 0, env.sock("a", 0))]))
        wait_until("reports before the change", lambda: len(env.history("g0")) >= 3)
        recs = env.json("recommend", "g0")["recommendations"]
        nic = [r["id"] for r in recs if r["id"].startswith("nic.") and r.get("action")]
        assert nic, recs
        assert env.json("apply", "g0", nic[0])["status"] == "applied"
        write_host_series(env, nic[0].split(":", 1)[1], before, after, noise, n_after)
        rows = env.json("changes", "g0", "--effect")
        eff = [r["effect"] for r in rows if r.get("effect")]
        assert len(eff) == 1, rows
        host = [m for m in eff[0]["metrics"]
                if m.get("side") == "host" and m["name"] == "drops_per_s"]
        assert len(host) == 1, eff
        sides = sorted({m.get("side") for m in eff[0]["metrics"]})
        assert sides == ["guest", "host"], eff
        text = env.cli("changes", "g0", "--effect").out
        assert "host drops_per_s" in text and "guest drops_per_s" in text, text
        table = list(csv.DictReader(io.StringIO(
            env.cli("changes", "g0", "--effect", "--format", "csv").out)))
        hrow = [r for r in table if r["side"] == "host" and r["metric"] == "drops_per_s"]
        assert len(hrow) == 1 and hrow[0]["verdict"] == host[0]["verdict"], table
        assert int(hrow[0]["after_n"]) == host[0]["after"]["n"], (hrow, host)
        change = [r["change_id"] for r in rows if r.get("effect")][0]
        shown = list(csv.DictReader(io.StringIO(
            env.cli("show", change, "--format", "csv").out)))
        assert [(r["side"], r["metric"]) for r in shown] == \
            [(r["side"], r["metric"]) for r in table], (shown, table)
        return eff[0], host[0]


def test_host_improved():
    eff, m = host_effect_of(100, 1)
    assert m["verdict"] == "improved" and m["p"] < 0.05, m
    assert m["before"]["n"] == SAMPLES and m["after"]["n"] == SAMPLES, m
    assert abs(m["before"]["mean"] - 100) < 15 and m["after"]["mean"] < 5, m
    assert eff["verdict"] == "improved", eff


def test_host_regressed():
    eff, m = host_effect_of(1, 100)
    assert m["verdict"] == "regressed" and eff["verdict"] == "regressed", eff


def test_host_noise_only():
    eff, m = host_effect_of(50, 50, noise=0.9)
    assert m["verdict"] == "no measurable change", m
    assert m["before"]["stddev"] > 0 and m["after"]["stddev"] > 0, m


def test_host_too_short():
    eff, m = host_effect_of(100, 1, n_after=4)
    assert m["after"]["n"] == 3 and m["verdict"] == "insufficient data", m


vthost.main([
    ("fewer drops after the change: improved", test_improved),
    ("more drops after the change: regressed", test_regressed),
    ("the same drops with noise: no measurable change", test_noise_only),
    ("no reports after the change yet: insufficient data", test_too_short),
    ("fewer drops on the tap after the change: host side improved", test_host_improved),
    ("more drops on the tap after the change: host side regressed", test_host_regressed),
    ("the same tap drops with noise: no measurable change", test_host_noise_only),
    ("three host intervals after the change: insufficient data", test_host_too_short),
])
