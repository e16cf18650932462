#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: the portable agent (static, no JSON library) in the busybox guest with
no shared library at all in the initramfs, reporting to virt-tuned; then
`virt-tune disable` / `enable` taking the agent's channel away from the running
guest and giving it back (the daemon reaches the channel through libvirt,
since libvirt picks the re-attached socket's path). TAP."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import image, session  # noqa: E402
from vte2e.daemon import cli_binary  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.session import GUEST_NAME  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

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


def agent_row(d, want_connected, timeout):
    """Polls `virt-tune list` until the agent is (or is no longer) connected."""
    last = {}

    def probe():
        data = d.cli("list").json() or []
        last["row"] = next((r for r in data if r.get("domain") == GUEST_NAME), None)
        up = bool(last["row"]) and last["row"].get("agent") == "connected"
        return up == want_connected and (not up or bool(last["row"].get("kernel")))
    wait_for(probe, timeout, 0.5)
    return last.get("row") or {}


def check_daemon(t, s):
    d = s.start_daemon(channel="stream")
    t.logs.append(("virt-tuned log tail (%s)" % d.log_path, d.log_tail))
    t0 = time.monotonic()
    row = agent_row(d, True, 60)
    t.ok(row.get("agent") == "connected", "virt-tune list: the portable agent is connected",
         "agent connected", row or d.cli("list").describe())
    if row.get("agent") == "connected":
        t.figure("daemon start to agent connected", "%.2f" % (time.monotonic() - t0), "s")
    t.eq(row.get("kernel"), s.kernel.release, "list: the guest's kernel, from its report")
    return d


def has_channel(s):
    xml = s.libvirt.virsh("dumpxml", GUEST_NAME).stdout
    return "org.virttune.agent.0" in xml


def check_disable_enable(t, s, d):
    def cli(*args):
        return run([cli_binary()] + list(args) + ["--connect", s.libvirt.uri], check=False)

    dry = cli("disable", GUEST_NAME, "--live", "--dry-run")
    t.ok(dry.returncode == 0 and "would detach" in dry.stdout and "path=" in dry.stdout
         and has_channel(s), "disable --dry-run prints the channel's XML, changes nothing",
         "rc 0, the XML with the live socket path", dry.stdout + dry.stderr)
    off = cli("disable", GUEST_NAME, "--live")
    t.ok(off.returncode == 0 and not has_channel(s),
         "disable --live: the channel is gone from the live XML", "rc 0, no channel",
         off.stdout + off.stderr)
    row = agent_row(d, False, 30)
    t.ok(row.get("agent") != "connected", "without its channel the agent is not connected",
         "not connected", row)
    dry = cli("enable", GUEST_NAME, "--dry-run")
    t.ok(dry.returncode == 0 and "would attach" in dry.stdout and not has_channel(s),
         "enable --dry-run prints the XML, changes nothing", "rc 0", dry.stdout + dry.stderr)
    on = cli("enable", GUEST_NAME, "--live")
    t.ok(on.returncode == 0 and has_channel(s), "enable --live: the channel is back",
         "rc 0, a channel", on.stdout + on.stderr)
    # busybox has no udev: the harness makes the /dev/virtio-ports link udev would
    s.guest.shell.run("for d in /sys/class/virtio-ports/vport*; do "
                      "ln -sf ../${d##*/} /dev/virtio-ports/$(cat $d/name); done")
    t0 = time.monotonic()
    row = agent_row(d, True, 90)
    t.ok(row.get("agent") == "connected", "the agent reports again on the new channel",
         "agent connected", row)
    if row.get("agent") == "connected":
        t.figure("enable to agent connected", "%.2f" % (time.monotonic() - t0), "s")
    again = cli("enable", "--all")
    t.ok(again.returncode == 0 and "skipped" in again.stdout + again.stderr,
         "enable --all leaves a domain that has the channel as it is", "rc 0, skipped",
         "rc %d: %s" % (again.returncode, again.stdout + again.stderr))
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
            d = check_daemon(t, s)
            check_disable_enable(t, s, d)
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
    return session.main(run_session, cmdline_extra="vt.hog=0",
                        portable_agent=os.environ["VT_E2E_PORTABLE_AGENT"])


if __name__ == "__main__":
    sys.exit(main())
