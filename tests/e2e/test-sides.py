#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: both sides of a slowdown on the real scenario guest. The host throttles
one disk (<iotune> total_iops_sec through virsh blkdeviotune) while the guest
reads it; the guest queues 64 readers on its bfq disk; the host floods the
guest's tap faster than the guest drains its single channel; the guest's OOM
killer ends a memory hog. virt-tune recommend must name the host for the
throttled disk, the guest for the queued one, the host's tap for the drops,
and count the kill. Conditions are polled, never slept on. TAP."""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import util  # noqa: E402
from vte2e.guest import SCENARIO  # noqa: E402
from vte2e.session import GUEST_NAME, Interrupted, Session  # noqa: E402
from vte2e.tap import Tap  # noqa: E402
from vte2e.util import HarnessError, wait_for  # noqa: E402

THROTTLE_IOPS = 20
WAIT_S = 240  # generous: a busy shared machine runs the TCG guest slowly

# Frames to the guest's MAC as fast as one process can write them, past the
# tap's qdisc (PACKET_QDISC_BYPASS) so a full tap ring counts as tap drops.
FLOOD = r"""
import socket, sys, time
ifname, mac, seconds = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.setsockopt(263, 20, 1)  # SOL_PACKET, PACKET_QDISC_BYPASS
s.bind((ifname, 0))
frame = mac + bytes.fromhex('525400aaaaaa') + b'\x08\x00' + bytes(46) + bytes(200)
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(256):
        try:
            s.send(frame)
        except OSError:
            pass
"""


def recommendations(d):
    res = d.cli("recommend", GUEST_NAME)
    data = res.json() if res.rc in (0, 1) else None
    if data is None:
        raise HarnessError("recommend: " + res.describe())
    out = {}

    def walk(node):
        if isinstance(node, dict):
            if "id" in node and "rule" in node:
                out[node["id"]] = node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(data)
    return out


def tap_name(guest):
    xml = guest.live_xml()
    import xml.etree.ElementTree as ET
    root = ET.fromstring(xml)
    t = root.find("./devices/interface/target")
    if t is None or not t.get("dev"):
        raise HarnessError("the live XML names no tap for the interface")
    return t.get("dev")


def start_load(guest, disks):
    throttled, queued = disks["vt-default"], disks["vt-bfq"]
    # one reader on the throttled disk, O_DIRECT so every read reaches the host
    guest.shell.run("(while :; do dd if=/dev/%s of=/dev/null bs=4k count=64 iflag=direct; "
                    "done) >/dev/null 2>&1 &" % throttled)
    # 64 readers on the bfq disk (64 MiB: one MiB each): they queue in the
    # guest's scheduler. The time a request waits there grows with their
    # number; with 16 a quiet machine's guest served them fast enough to stay
    # under the rule's 20 ms (7.7 ms added at 1,332 IOPS).
    guest.shell.run("for i in $(seq 0 63); do (while :; do dd if=/dev/%s of=/dev/null bs=4k "
                    "count=32 skip=$((i * 256)) iflag=direct; done) >/dev/null 2>&1 & done"
                    % queued)


def oom(guest):
    # no swap to fall back on, three 250 MiB buffers in a 512 MiB guest
    guest.shell.run("swapoff -a; for i in 1 2 3; do (dd if=/dev/zero of=/dev/null bs=250M "
                    "count=1) >/dev/null 2>&1 & done", timeout=60)


def flood(s, guest, seconds):
    pid = s.libvirt.libvirtd_pid()
    if pid is None:
        raise HarnessError("no libvirtd to enter the network namespace of")
    tap = tap_name(guest)
    subprocess.run(["nsenter", "-t", str(pid), "-n", "ip", "link", "set", tap, "up"],
                   check=False, timeout=10)
    return subprocess.Popen(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", FLOOD, tap,
                             SCENARIO["nic_mac"], str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_checks(t, s):
    guest = s.boot()
    t.console = guest.console
    t.ok(True, "guest booted (%.1f s after virsh start)" % s.timings["boot_to_ready"])
    _, out = guest.shell.run("for b in /sys/block/vd*; do echo ${b##*/} $(cat $b/serial); done")
    disks = {p[1]: p[0] for p in (l.split() for l in out.splitlines()) if len(p) == 2}
    throttled_target = "vd" + "abcdefgh"[[d[0] for d in SCENARIO["disks"]].index("vt-default")]
    d = s.start_daemon()
    t.logs.append(("virt-tuned log tail (%s)" % d.log_path, d.log_tail))
    s.libvirt.virsh("blkdeviotune", GUEST_NAME, throttled_target, "--total-iops-sec",
                    str(THROTTLE_IOPS), "--live")
    start_load(guest, disks)
    oom(guest)
    flooder = flood(s, guest, WAIT_S)
    last = {}
    lat_host = "blk.latency:" + disks["vt-default"]
    lat_guest = "blk.latency:" + disks["vt-bfq"]

    def side(rec_id, want):
        r = last.get("recs", {}).get(rec_id) or {}
        return (r.get("evidence") or {}).get("side") == want

    def oom_counted():
        r = last.get("recs", {}).get("mem.oom:domain") or {}
        return ((r.get("evidence") or {}).get("oom_kills_since_boot") or 0) >= 1

    goals = {
        "blk.latency names the host for the throttled disk (%s)" % lat_host:
            lambda: side(lat_host, "host"),
        "blk.latency names the guest for the deep-queue bfq disk (%s)" % lat_guest:
            lambda: side(lat_guest, "guest"),
        "net.drops names the host's tap (the guest drains one channel too slowly)":
            lambda: side("net.drops:eth0", "host"),
        "mem.oom appears with the kill counted": oom_counted,
    }
    seen = {}

    def probe():
        last["recs"] = recommendations(d)
        for name, cond in goals.items():
            if name not in seen and cond():
                seen[name] = dict(last["recs"])
        return len(seen) == len(goals)
    t0 = time.monotonic()
    try:
        wait_for(probe, WAIT_S, 2, what="the both-sides recommendations")
    except HarnessError:
        pass
    flooder.terminate()
    flooder.wait(timeout=10)
    t.figure("time to all four recommendations", "%.1f" % (time.monotonic() - t0), "s")
    for name in goals:
        got = {k: (v.get("evidence") or {}) for k, v in (last.get("recs") or {}).items()
               if k.split(":")[0] in ("blk.latency", "net.drops", "mem.oom")}
        t.ok(name in seen, name, "within %d s" % WAIT_S, got)
    for rec_id in (lat_host, lat_guest, "net.drops:eth0", "mem.oom:domain"):
        for recs in seen.values():
            if rec_id in recs:
                t.comment("%s: %s" % (rec_id, recs[rec_id].get("evidence")))
                break
    if not s.keep:
        t.eq(d.stop(), 0, "virt-tuned stops cleanly on SIGTERM")


def main():
    missing = util.missing_requirements()
    if missing:
        print("1..0 # SKIP " + "; ".join(missing))
        return 0
    t = Tap()
    s = Session(cmdline_extra="vt.hog=0")
    try:
        with s:
            try:
                s.prepare()
                run_checks(t, s)
            except HarnessError as e:
                t.ok(False, "the harness ran every step", "no harness error", str(e))
    except Interrupted as e:
        t.bail("interrupted by %s; everything this run started was torn down" % e)
        return 1
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
