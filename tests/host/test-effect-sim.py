#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The measured effect of a change with the real virt-tuned and a simulated
guest whose NIC drops are a known series before and after the change
(vt-guest-sim --drops): improved, regressed, noise only, too short."""

import os
import sys

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


vthost.main([
    ("fewer drops after the change: improved", test_improved),
    ("more drops after the change: regressed", test_regressed),
    ("the same drops with noise: no measurable change", test_noise_only),
    ("no reports after the change yet: insufficient data", test_too_short),
])
