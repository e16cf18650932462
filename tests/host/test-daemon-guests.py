#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-tuned driving simulated guests: discovery from a libvirt test:///
node, handshake, reports, refresh, audits next to the domain XML, a domain
without a channel, a silent guest, and a guest that dies and comes back."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

HOUR_MS = 3600 * 1000  # an interval the test never reaches: reports come on demand


def template():
    with open(vthost.TEMPLATE) as f:
        return json.load(f)


def fleet(env, n, interval_ms=HOUR_MS, queues=None, nochan=True):
    """n honest guests g0..g(n-1) (g<i> on guest-<i>.sock) and, with
    @nochan, a domain 'nochan' without an agent channel."""
    sim = env.start_sim("a", n, interval_ms=interval_ms)
    doms = []
    for i in range(n):
        kw = {"queues": queues[i]} if queues else {}
        doms.append(("g%d" % i, i, env.sock("a", i), kw))
    if nochan:
        doms.append(("nochan", 900, None))
    env.start_daemon(env.node(doms))
    return sim


def all_connected(env, names):
    def check():
        gs = env.guests()
        return all(gs.get(n, {}).get("agent") == "connected" and
                   gs[n].get("hostname") is not None for n in names) and gs
    return wait_until("%s connected with a report" % ", ".join(names), check)


def test_discovery():
    with Env() as env:
        n = 3
        fleet(env, n)
        gs = all_connected(env, ["g%d" % i for i in range(n)])
        assert sorted(gs) == ["g0", "g1", "g2", "nochan"], sorted(gs)
        for i in range(n):
            g = gs["g%d" % i]
            assert g["uuid"] == vthost.uuid_of(i), g
            assert g["hostname"] == "sim-%d" % i, g  # from the guest's report
            assert g["agent_version"] == "sim", g  # from its Hello
            assert g["kernel"] == template()["identity"]["kernel_release"], g
            assert g["vcpus"] == 4 and g["memory_bytes"] == 1 << 30, g  # from the XML
            assert g["rejected"] == {}, g
            assert g["report_age_s"] is not None and g["report_age_s"] < 60, g
            assert g["last_error"] is None, g
        boots = {gs["g%d" % i]["boot_id"] for i in range(n)}
        assert len(boots) == n, boots
        st = env.json("status")
        assert st["domains"] == n + 1 and st["agents_connected"] == n, st
        assert st["database"].startswith(env.dir), st


def test_no_channel():
    with Env() as env:
        fleet(env, 1)
        all_connected(env, ["g0"])
        g = env.guests()["nochan"]
        assert g["agent"] == "no channel", g
        assert vthost.CHANNEL in (g["last_error"] or ""), g
        assert g["hostname"] is None and g["report_age_s"] is None, g
        r = env.cli("refresh", "nochan")
        assert r.rc == 4 and "no agent channel" in r.err, r
        audit = env.json("audit", "all")
        assert [x["domain"] for x in audit["nics"]] == ["g0"], audit["nics"]
        swap = {x["domain"]: x for x in audit["swap"]}
        assert swap["nochan"]["agent"] == "no channel", swap
        assert swap["nochan"]["swap_total_bytes"] is None, swap


def test_refresh():
    with Env() as env:
        fleet(env, 2, nochan=False)
        all_connected(env, ["g0", "g1"])
        before = env.uptime("g1")
        other = env.uptime("g0")
        t0 = time.monotonic()
        r = env.cli("refresh", "g1", "--format", "json")
        took = time.monotonic() - t0
        assert r.rc == 0, r
        fresh = json.loads(r.out)
        assert fresh["domain"] == "g1", fresh
        assert fresh["report_age_s"] == 0, fresh
        # The simulator counts its reports in uptime_s: a new one came.
        assert fresh["report"]["identity"]["uptime_s"] > before, (before, fresh["report"])
        assert took < 10, took
        assert env.uptime("g1") >= fresh["report"]["identity"]["uptime_s"]
        # Only the guest asked sent one (g0 reports hourly).
        assert env.uptime("g0") == other
        # The fresh report is in the history too.
        hist = env.history("g1")
        assert len(hist) >= 2, hist
        assert hist[-1]["uptime_s"] == fresh["report"]["identity"]["uptime_s"], hist[-1]


def test_audits():
    with Env() as env:
        # g1's NIC has no <driver queues/>: one queue on the host side.
        fleet(env, 2, queues=[4, 0])
        all_connected(env, ["g0", "g1"])
        t = template()
        audit = env.json("audit", "all")

        swap = {x["domain"]: x for x in audit["swap"]}
        meminfo = t["meminfo"]
        s = swap["g0"]
        assert s["agent"] == "connected", s
        assert s["mem_total_bytes"] == meminfo["MemTotal"], s  # guest
        assert s["swap_total_bytes"] == meminfo["SwapTotal"], s
        assert s["swappiness"] == int(t["sysctl"]["vm.swappiness"]), s
        assert s["balloon_stats_period_s"] == 5, s  # XML
        assert s["balloon_maximum_bytes"] == 1 << 30, s  # XML <memory>

        sched = {(x["domain"], x["device"]): x for x in audit["schedulers"]}
        assert len(sched) == 2 * len(t["block"]), sorted(sched)
        for blk in t["block"]:
            row = sched[("g0", blk["name"])]
            assert row["scheduler"] == blk["scheduler"], row  # guest
            assert row["nr_requests"] == blk["nr_requests"], row
            assert row["rotational"] == blk["rotational"], row
            assert row["serial"] == blk["serial"], row
            assert row["matched_by"] == "serial", row
            assert row["host_bus"] == "virtio", row  # XML
        vda = sched[("g0", "vda")]
        vdb = sched[("g0", "vdb")]
        assert (vda["host_target"], vda["host_cache"], vda["host_io"], vda["host_format"]) == \
            ("vda", "none", "native", "raw"), vda
        assert (vdb["host_target"], vdb["host_cache"], vdb["host_io"], vdb["host_format"]) == \
            ("vdb", "writeback", "threads", "qcow2"), vdb

        nics = {x["domain"]: x for x in audit["nics"]}
        nic = t["nics"][0]
        for dom, queues in (("g0", 4), ("g1", 1)):
            row = nics[dom]
            assert row["iface"] == nic["name"] and row["driver"] == nic["driver"], row
            assert row["combined"] == nic["channels"]["combined"], row  # guest
            assert row["max_combined"] == nic["channels"]["max_combined"], row
            assert row["host_queues"] == queues, row  # XML <driver queues>
            assert row["host_model"] == "virtio" and row["host_type"] == "network", row
            assert row["mac"] == vthost.TEMPLATE_MAC, row
        # The per-kind commands give the same rows as `all`.
        assert env.json("audit", "nics") == audit["nics"]
        assert env.json("audit", "schedulers", "--domain", "g1") == \
            [x for x in audit["schedulers"] if x["domain"] == "g1"]


def test_silent_guest():
    with Env() as env:
        honest = env.start_sim("a", 1, interval_ms=200)
        env.start_sim("s", 3, mode="silent")
        doms = [("g0", 0, env.sock("a", 0))]
        doms += [("silent%d" % i, 10 + i, env.sock("s", i)) for i in range(3)]
        env.start_daemon(env.node(doms))
        all_connected(env, ["g0"])
        wait_until("the silent guests to be in the handshake",
                   lambda: all(env.guests()["silent%d" % i]["agent"] == "waiting"
                               for i in range(3)))
        # While they stay silent (Hellos resent meanwhile), the honest guest's
        # reports keep coming at its own pace: 5 per second.
        u0 = env.uptime("g0")
        t0 = time.monotonic()
        wait_until("10 more reports from g0", lambda: env.uptime("g0") >= u0 + 10)
        took = time.monotonic() - t0
        assert took < 10, "10 reports at 200 ms took %.1f s" % took
        t0 = time.monotonic()
        r = env.cli("refresh", "g0")
        assert r.rc == 0 and time.monotonic() - t0 < 5, r
        gs = env.guests()
        for i in range(3):
            g = gs["silent%d" % i]
            assert g["agent"] == "waiting" and g["hostname"] is None, g
            assert g["rejected"] == {}, g
        r = env.cli("refresh", "silent0")
        assert r.rc == 4 and "not connected" in r.err, r
        assert honest.alive()


def test_reconnect():
    with Env() as env:
        sim = fleet(env, 2, interval_ms=300, nochan=False)
        gs = all_connected(env, ["g0", "g1"])
        boots = {n: gs[n]["boot_id"] for n in ("g0", "g1")}
        sim.kill9()  # like QEMU dying: the socket files stay, nobody listens

        def retried():
            gs = env.guests()
            return all(gs[n]["agent"] == "disconnected" and
                       "cannot open the agent channel" in (gs[n]["last_error"] or "")
                       for n in ("g0", "g1"))
        wait_until("failed reconnection attempts", retried)
        env.start_sim("a", 2, interval_ms=300)

        def back():
            gs = env.guests()
            return all(gs[n]["agent"] == "connected" and gs[n]["boot_id"] not in
                       (None, boots[n]) for n in ("g0", "g1"))
        wait_until("both guests reconnected with their new boot", back)
        u0 = env.uptime("g0")
        wait_until("reports to resume", lambda: env.uptime("g0") >= u0 + 3)
        assert env.guests()["g0"]["last_error"] is None


vthost.main([
    ("discovery and handshake of simulated guests from a node XML", test_discovery),
    ("a domain without the agent channel shows 'no channel'", test_no_channel),
    ("refresh DOMAIN returns a fresh report", test_refresh),
    ("audit rows carry the guest's values next to the XML's", test_audits),
    ("silent guests stay in the handshake and do not slow the others", test_silent_guest),
    ("a killed guest is reconnected with backoff and its reports resume", test_reconnect),
])
