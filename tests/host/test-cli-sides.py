#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`virt-tune audit io|net|memory|host` and the host's own recommendations
against a real virt-tuned, simulated guests and a fixture host (the daemon
reads /proc and /sys under VIRT_TUNED_HOST_ROOT)."""

import csv
import io
import os
import re
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

DATA = os.environ.get("VT_TEST_DATA") or os.path.join(vthost.SOURCE, "tests", "data")
HOST_ROOT = os.path.join(DATA, "host", "sysroot-defaults")

IO_KEYS = ["domain", "device", "host_target", "guest_iops", "guest_ms", "host_iops",
           "host_ms", "added_ms", "guest_read_iops", "guest_write_iops", "guest_read_ms",
           "guest_write_ms", "host_read_iops", "host_write_iops", "host_read_ms",
           "host_write_ms", "added_read_ms", "added_write_ms", "scheduler", "host_cache",
           "host_io", "iothread", "host_format", "chain_depth"]
NET_KEYS = ["domain", "iface", "host_target", "combined", "max_combined", "host_queues",
            "guest_rx_dropped", "guest_tx_dropped", "guest_rx_drop_per_s", "host_rx_drop",
            "host_tx_drop", "host_rx_drop_per_s", "softnet_dropped", "softnet_squeezed",
            "mtu", "host_mtu"]
MEMORY_KEYS = ["domain", "mem_total_bytes", "mem_available_bytes", "mem_available_pct",
               "swap_in_pages_per_s", "swap_out_pages_per_s", "oom_kills",
               "psi_memory_some_avg60", "psi_memory_full_avg60", "psi_cpu_some_avg60",
               "psi_io_some_avg60", "balloon_actual_bytes", "balloon_maximum_bytes"]
HOST_KEYS = ["setting", "value", "source", "recommended", "recommendation", "severity",
             "detail"]


def start(env, n=2, extra=()):
    os.environ["VIRT_TUNED_HOST_ROOT"] = HOST_ROOT
    env.start_sim("a", n, interval_ms=60000)
    env.start_daemon(env.node([("g%d" % i, i, env.sock("a", i)) for i in range(n)]),
                     extra=extra)
    wait_until("the guests' reports",
               lambda: all(g["hostname"] is not None for g in env.guests().values()))
    wait_until("the host's reading", lambda: len(env.json("audit", "host")) > 0)


def by_setting(rows):
    return {r["setting"]: r for r in rows}


def test_json_keys():
    with Env() as env:
        start(env)
        for kind, keys, per_guest in (("io", IO_KEYS, 2), ("net", NET_KEYS, 1),
                                      ("memory", MEMORY_KEYS, 1)):
            rows = env.json("audit", kind)
            assert len(rows) == 2 * per_guest, (kind, rows)
            for row in rows:
                missing = [k for k in keys if k not in row]
                assert not missing, (kind, missing, row)
            assert sorted({r["domain"] for r in rows}) == ["g0", "g1"], rows
        io_rows = env.json("audit", "io")
        vdb = [r for r in io_rows if r["device"] == "vdb"][0]
        assert vdb["host_format"] == "qcow2" and vdb["host_cache"] == "writeback", vdb
        assert vdb["iothread"] == 0 and vdb["chain_depth"] == 0, vdb
        rows = env.json("audit", "host")
        for row in rows:
            assert sorted(row) == sorted(HOST_KEYS), row
        s = by_setting(rows)
        assert "unreadable" not in s, s["unreadable"]  # the fixture host has every file
        assert s["vm.swappiness"]["value"] == "60", s["vm.swappiness"]
        assert s["vm.swappiness"]["recommended"] == "10", s["vm.swappiness"]
        assert s["vm.swappiness"]["recommendation"] == "host.sysctl:vm.swappiness"
        assert s["transparent_hugepage"]["value"] == "madvise"
        assert s["transparent_hugepage"]["recommended"] == "always"
        assert s["cpus"]["value"] is not None and s["vcpus_running"]["value"] == "8", s
        assert s["memory_available_bytes"]["value"] == str(512 << 20), s
        # the images of the test driver's domains are not on this machine
        img = s["scheduler:g0/vda"]
        assert img["value"] is None and "stat:" in img["detail"], img
        every = env.json("audit", "all")
        for kind in ("swap", "schedulers", "nics", "io", "net", "memory", "host"):
            assert kind in every, sorted(every)


def test_tables_and_csv():
    with Env() as env:
        start(env)
        r = env.cli("audit", "host")
        assert r.rc == 0, r
        head = r.out.splitlines()[0].split()
        assert head[:3] == ["SETTING", "VALUE", "RECOMMENDED"], r.out
        assert "vm.swappiness" in r.out and "madvise" in r.out, r.out
        r = env.cli("audit", "io")
        assert r.rc == 0 and r.out.split()[:4] == ["DOMAIN", "DISK", "G", "IOPS"], r
        assert "qcow2" in r.out and "writeback/threads" in r.out, r.out
        r = env.cli("audit", "net")
        assert r.rc == 0 and "CHANNELS" in r.out and "HOST MTU" in r.out, r
        r = env.cli("audit", "memory")
        assert r.rc == 0 and "OOM" in r.out and "PSI SOME" in r.out, r
        r = env.cli("audit", "all")
        for title in ("I/O, guest and host", "Network, guest and host", "Memory", "The host"):
            assert title in r.out, (title, r.out)
        for line in r.out.splitlines():
            assert len(line) <= 100, line
        r = env.cli("audit", "io", "--format", "csv")
        rows = list(csv.reader(io.StringIO(r.out)))
        assert r.rc == 0 and len(rows) == 1 + 4, rows
        for key in ("domain", "device", "guest_iops", "host_iops", "added_ms", "chain_depth"):
            assert key in rows[0], rows[0]


def test_recommend_and_fail_on():
    with Env() as env:
        start(env)
        recs = env.json("recommend")["recommendations"]
        host = {r["id"]: r for r in recs if r.get("scope") == "host"}
        for rid in ("host.sysctl:vm.swappiness", "host.sysctl:vm.dirty_ratio",
                    "host.sysctl:transparent_hugepage"):
            assert rid in host, sorted(host)
            assert host[rid]["domain"] == "(host)" and host[rid]["target"] == "host"
        assert host["host.sysctl:vm.swappiness"]["evidence"]["value"] == 60
        # one domain asked for: its own recommendations only
        one = env.json("recommend", "g0")["recommendations"]
        assert all(r["domain"] == "g0" for r in one), one
        r = env.cli("recommend")
        assert r.rc == 0 and "host.sysctl:vm.swappiness" in r.out, r.out
        r = env.cli("audit", "host", "--fail-on", "warning")
        assert r.rc == 1, r
        r = env.cli("audit", "host", "--domain", "g0", "--fail-on", "warning")
        assert r.rc == 1, r
        # critical only when one is: the fixture host has 512 MiB available,
        # below its 2 GiB reserve, so guest memory past the rest is critical
        critical = [i for i, r in host.items() if r["severity"] == "critical"]
        r = env.cli("audit", "host", "--fail-on", "critical")
        assert r.rc == (1 if critical else 0), (r, critical)
        assert critical in ([], ["host.mem-overcommit:host"]), critical
        ev = host.get("host.mem-overcommit:host", {}).get("evidence", {})
        if critical:
            assert ev["host_available_bytes"] == 512 << 20, ev
        # the guests' own areas are not the host's
        r = env.cli("audit", "net", "--fail-on", "critical")
        assert r.rc == 0, r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# name{labels} value, one per line of the exposition
SAMPLE = re.compile(r'^([a-z_0-9]+)(\{[^}]*\})? (\S+)$')


def test_metrics():
    with Env() as env:
        port = free_port()
        start(env, extra=("--metrics-listen", "127.0.0.1:%d" % port))
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            text = r.read().decode()
        samples = {}
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            assert m, line
            samples.setdefault(m.group(1), []).append((m.group(2) or "", float(m.group(3))))
        assert samples["virttune_host_cores"] == [("", 2)], samples["virttune_host_cores"]
        for name in ("virttune_disk_iops", "virttune_disk_latency_ms",
                     "virttune_nic_dropped_packets", "virttune_nic_mtu",
                     "virttune_guest_softnet_dropped_packets", "virttune_guest_oom_kills",
                     "virttune_guest_pressure_avg60", "virttune_host_cpus",
                     "virttune_host_vcpus", "virttune_host_memory_bytes",
                     "virttune_host_swap_pages_per_second", "virttune_host_oom_kills_total",
                     "virttune_host_sysctl", "virttune_host_transparent_hugepage_info",
                     "virttune_host_ksm_run", "virttune_host_image_scheduler_info",
                     "virttune_host_recommendation_info"):
            assert "# TYPE %s gauge" % name in text, name
        sysctl = dict(samples["virttune_host_sysctl"])
        assert sysctl['{key="vm.swappiness"}'] == 60, sysctl
        assert dict(samples["virttune_host_memory_bytes"])['{kind="available"}'] == 512 << 20
        assert dict(samples["virttune_host_vcpus"])['{state="unpinned"}'] == 8
        assert ('{mode="madvise"}', 1) in samples["virttune_host_transparent_hugepage_info"]
        recs = [lab for lab, _ in samples["virttune_host_recommendation_info"]]
        assert any('id="host.sysctl:vm.swappiness"' in lab for lab in recs), recs
        assert samples["virttune_host_oom_kills_total"] == [("", 2)]


vthost.main([
    ("audit io|net|memory|host: the JSON keys of both sides", test_json_keys),
    ("audit tables and CSV show both sides within 100 columns", test_tables_and_csv),
    ("recommend shows the host's own; audit host --fail-on", test_recommend_and_fail_on),
    ("metrics of both sides and of the host", test_metrics),
])
