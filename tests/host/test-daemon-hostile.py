#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile simulated guests next to an honest one: each kind is refused,
counted under its reason and cut off, while the honest guest's reports keep
arriving and the daemon stays up."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402


# The frame bucket's burst (VT_GUEST_FRAMES_BURST) and refill per second.
FRAMES_BURST = 40
FRAMES_PER_S = 20


def hostile(mode, reason):
    def test():
        with Env() as env:
            env.start_sim("ok", 1, interval_ms=200)
            # Fast ticks: the cut-off needs VT_GUEST_MAX_REJECTS refusals.
            env.start_sim("bad", 1, mode=mode, interval_ms=100)
            env.start_daemon(env.node([("honest", 0, env.sock("ok", 0)),
                                       ("hostile", 1, env.sock("bad", 0))]))
            wait_until("the honest guest's first report",
                       lambda: env.guests()["honest"]["hostname"] == "sim-0")
            u0 = env.uptime("honest")

            def cut():
                g = env.guests()["hostile"]
                return g["agent"] == "cut off" and g
            g = wait_until("the %s guest to be cut off" % mode, cut)
            assert g["rejected"].get(reason, 0) > 0, g
            assert "cut off" in (g["last_error"] or ""), g
            if mode != "flood":
                assert g["hostname"] is None, g  # nothing it sent was taken
            # The honest guest keeps reporting at its pace.
            u1 = env.uptime("honest")
            assert u1 >= u0, (u0, u1)
            wait_until("5 more honest reports", lambda: env.uptime("honest") >= u1 + 5)
            h = env.guests()["honest"]
            assert h["agent"] == "connected" and h["rejected"] == {}, h
            assert env.guests()["hostile"]["agent"] == "cut off"
            hist = env.history("hostile")
            if mode == "flood":
                # Within the burst, a flood is made of valid reports and the
                # first ones are taken; the rest are refused. The simulator
                # sends 50 a tick, so a second tick is over the bound.
                assert len(hist) <= FRAMES_BURST + FRAMES_PER_S, len(hist)
            else:
                assert hist == [], hist  # nothing it sent was stored
            assert env.daemon.alive()
    return test


vthost.main([
    ("garbage bytes are refused as 'garbage' and the guest is cut off",
     hostile("garbage", "garbage")),
    ("oversize frame headers are refused as 'oversize' and the guest is cut off",
     hostile("oversize", "oversize")),
    ("a flood of reports is refused as 'rate' and the guest is cut off",
     hostile("flood", "rate")),
    ("reports with invalid UTF-8 are refused as 'limits' and the guest is cut off",
     hostile("badutf8", "limits")),
])
