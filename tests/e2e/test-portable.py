#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: the portable agent (static, no JSON library) in the busybox guest with
no shared library at all in the initramfs, reporting to virt-tuned. TAP."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import image, util  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.session import GUEST_NAME, Interrupted, Session  # noqa: E402
from vte2e.tap import Tap  # noqa: E402
from vte2e.util import HarnessError, wait_for  # noqa: E402

SHARED = re.compile(r"(^|/)(ld-linux[^/]*|lib[^/]*\.so(\.[0-9.]+)?)$")


def check_image(t, s):
    names = image.initramfs_names(s.initrd)
    shared = [n for n in names if SHARED.search(n)]
    t.ok(names and not shared, "the initramfs holds no shared library or ELF interpreter",
         "none", shared or "empty archive")
    t.ok("usr/sbin/virt-tune-agent" in names, "the initramfs holds the portable agent")


def check_guest(t, s):
    console = s.guest.console
    m = console.find(r"^VT-E2E: once-end rc=(\d+)")
    t.eq(m.group(1) if m else None, "0", "the portable agent's --once exits 0 in the guest")
    m = console.find(r"portable agent report: (\d+) bytes of protobuf")
    t.ok(m and int(m.group(1)) > 0, "--once wrote a protobuf report", "> 0 bytes",
         m.group(0) if m else console.tail())
    _, out = s.guest.shell.run("virt-tune-agent --version")
    t.ok("(portable)" in out, "the guest runs the portable build", "(portable)", out)


def check_daemon(t, s):
    d = s.start_daemon()
    t.logs.append(("virt-tuned log tail (%s)" % d.log_path, d.log_tail))
    last = {}

    def connected():
        data = d.cli("list").json() or []
        last["row"] = next((r for r in data if r.get("domain") == GUEST_NAME), None)
        return bool(last["row"]) and last["row"].get("agent") == "connected" and \
            bool(last["row"].get("kernel"))
    t0 = time.monotonic()
    wait_for(connected, 60, 0.5)
    row = last.get("row") or {}
    t.ok(row.get("agent") == "connected", "virt-tune list: the portable agent is connected",
         "agent connected", row or d.cli("list").describe())
    if row.get("agent") == "connected":
        t.figure("daemon start to agent connected", "%.2f" % (time.monotonic() - t0), "s")
    t.eq(row.get("kernel"), s.kernel.release, "list: the guest's kernel, from its report")
    if not s.keep:
        t.eq(d.stop(), 0, "virt-tuned stops cleanly on SIGTERM")


def run_session(t, s, t0):
    with s:
        try:
            s.prepare()
            check_image(t, s)
            guest = s.boot()
            t.logs.append(("guest console tail", guest.console.tail))
            t.figure("boot to ready", "%.1f" % s.timings["boot_to_ready"], "s")
            check_guest(t, s)
            check_daemon(t, s)
        except HarnessError as e:
            t.ok(False, "the harness ran every step", "no harness error", str(e))
        mnt_ns, marker = (s.libvirt.mnt_ns, s.libvirt.marker) if s.libvirt else (None, None)
    if not s.keep and mnt_ns:
        left = namespace_pids(mnt_ns, marker)
        t.ok(not left and not s.leftover_pids, "teardown ended every process", "none",
             left or s.leftover_pids)
        t.ok(not os.path.exists(s.workdir), "teardown removed the run directory",
             "gone", s.workdir)
    t.figure("whole run (wall)", "%.1f" % (time.monotonic() - t0), "s")
    return t.finish()


def main():
    missing = util.missing_requirements()
    if missing:
        print("1..0 # SKIP " + "; ".join(missing))
        return 0
    t = Tap()
    t0 = time.monotonic()
    s = Session(cmdline_extra="vt.hog=0",
                portable_agent=os.environ["VT_E2E_PORTABLE_AGENT"])
    try:
        return run_session(t, s, t0)
    except Interrupted as e:
        t.bail("interrupted by %s; everything this run started was torn down" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
