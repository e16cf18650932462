#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: `virt-tune enable` / `disable` against the private libvirtd. A domain
defined without the agent channel gets it in its definition (and libvirt adds
the virtio-serial controller), --dry-run changes nothing, disable takes it out,
refusals name the domain; on the running scenario guest the channel is
hot-unplugged and hot-plugged again (--live) and virt-tuned (--channel stream:
libvirt chose the new socket's path inside the namespace) sees the agent come
back; `enable --all` twice is idempotent. TAP."""

import os
import re
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e.daemon import cli_binary  # noqa: E402
from vte2e.guest import AGENT_CHANNEL, domain_type  # noqa: E402
from vte2e.session import GUEST_NAME, Interrupted, Session  # noqa: E402
from vte2e.tap import Tap  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

BARE = "vt-e2e-bare"
BARE_XML = """<domain type='{dtype}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices/>
</domain>
"""
# What udev does in a distro guest: /dev/virtio-ports/NAME for every port.
LINK_PORTS = ("for d in /sys/class/virtio-ports/vport*; do n=$(cat $d/name); "
              "[ -n \"$n\" ] && ln -sf ../${d##*/} /dev/virtio-ports/$n; done; "
              "ls /dev/virtio-ports")


class Ctx:
    def __init__(self, t, s):
        self.t = t
        self.s = s
        self.lv = s.libvirt

    def cli(self, *args):
        argv = [cli_binary()] + list(args) + ["--connect", self.lv.uri]
        res = run(argv, timeout=120, check=False)
        return res.returncode, res.stdout, res.stderr.strip()

    def channels(self, name, inactive):
        args = ["dumpxml", name] + (["--inactive"] if inactive else [])
        root = ET.fromstring(self.lv.virsh(*args).stdout)
        return root, [c for c in root.iter("channel")
                      if c.find("target") is not None
                      and c.find("target").get("name") == AGENT_CHANNEL]

    def xml(self, name, inactive):
        """The domain XML without what moves by itself in a running domain:
        a channel's state='connected|disconnected' follows the guest's port."""
        args = ["dumpxml", name] + (["--inactive"] if inactive else [])
        return re.sub(r"\s+state='(?:dis)?connected'", "", self.lv.virsh(*args).stdout)


def check_config(c):
    t = c.t
    path = os.path.join(c.s.workdir, BARE + ".xml")
    with open(path, "w") as f:
        f.write(BARE_XML.format(dtype=domain_type(), name=BARE))
    c.lv.virsh("define", path)
    root, chans = c.channels(BARE, True)
    t.ok(not chans and root.find("devices/controller[@type='virtio-serial']") is None,
         "the bare domain is defined without the channel or a virtio-serial controller")
    before = c.xml(BARE, True)
    rc, out, err = c.cli("enable", BARE, "--config", "--dry-run")
    t.ok(rc == 0 and "would attach (config)" in out and AGENT_CHANNEL in out
         and c.xml(BARE, True) == before, "enable --dry-run prints the XML, changes nothing",
         "rc 0, XML printed, definition unchanged", (rc, out, err))
    rc, out, err = c.cli("enable", BARE, "--config")
    root, chans = c.channels(BARE, True)
    t.ok(rc == 0 and len(chans) == 1, "enable --config: virsh dumpxml --inactive shows the "
         "channel", "one %s channel" % AGENT_CHANNEL, (rc, out, err, len(chans)))
    t.ok(root.find("devices/controller[@type='virtio-serial']") is not None,
         "libvirt added the virtio-serial controller for it", "a virtio-serial controller",
         [e.get("type") for e in root.iter("controller")])
    rc, out, err = c.cli("enable", BARE, "--config")
    t.ok(rc == 2 and BARE in err and "already has" in err, "enable again is refused, naming "
         "the domain", "exit 2, 'already has'", (rc, err))
    rc, out, err = c.cli("disable", BARE, "--config")
    _, chans = c.channels(BARE, True)
    t.ok(rc == 0 and not chans, "disable --config removes it", "no channel", (rc, out, err))
    rc, out, err = c.cli("disable", BARE)
    t.ok(rc == 2 and BARE in err and "has no" in err, "disable without the channel is refused",
         "exit 2, 'has no'", (rc, err))


def agent_row(c):
    res = c.s.daemon.cli("list")
    rows = res.json() or []
    return next((r for r in rows if r.get("domain") == GUEST_NAME), None) or {}


def wait_agent(c, connected, timeout):
    wait_for(lambda: (agent_row(c).get("agent") == "connected") == connected, timeout, 0.5)
    return agent_row(c)


def check_live(c):
    t, guest = c.t, c.s.guest
    c.s.start_daemon(channel="stream")
    row = wait_agent(c, True, 60)
    t.eq(row.get("agent"), "connected", "virt-tuned sees the scenario guest's agent")
    before = c.xml(GUEST_NAME, False)
    rc, out, err = c.cli("disable", GUEST_NAME, "--live", "--dry-run")
    t.ok(rc == 0 and "would detach (live)" in out and c.xml(GUEST_NAME, False) == before,
         "disable --live --dry-run changes nothing", "unchanged live XML", (rc, out, err))
    rc, out, err = c.cli("disable", GUEST_NAME, "--live")
    wait_for(lambda: not c.channels(GUEST_NAME, False)[1], 30, 0.5)
    t.ok(rc == 0 and not c.channels(GUEST_NAME, False)[1] and c.channels(GUEST_NAME, True)[1],
         "disable --live: gone from the live XML, still in the definition",
         "live: none, config: one", (rc, out, err))
    row = wait_agent(c, False, 30)
    t.ok(row.get("agent") != "connected", "virt-tuned sees the agent gone",
         "not connected", {k: row.get(k) for k in ("agent", "channel_state", "last_error")})
    rc, out, err = c.cli("enable", GUEST_NAME, "--live")
    _, chans = c.channels(GUEST_NAME, False)
    t.ok(rc == 0 and len(chans) == 1, "enable --live: the channel is in the live XML",
         "one channel", (rc, out, err, len(chans)))
    guest.shell.run(LINK_PORTS)
    t0 = time.monotonic()
    row = wait_agent(c, True, 90)
    t.ok(row.get("agent") == "connected", "the guest's agent reopens the hot-plugged port and "
         "virt-tuned sees it", "connected",
         {k: row.get(k) for k in ("agent", "channel_state", "last_error")})
    if row.get("agent") == "connected":
        t.figure("hot-plug to agent connected", "%.1f" % (time.monotonic() - t0), "s")


def check_all(c):
    t = c.t
    rc, out, err = c.cli("enable", "--all", "--config")
    t.ok(rc == 0 and "%s: attached" % BARE in out and "%s: already has" % GUEST_NAME in out,
         "enable --all --config: the bare domain gets it, the scenario guest is skipped",
         "attached + skipped", (rc, out, err))
    rc, out, err = c.cli("enable", "--all", "--config")
    t.ok(rc == 0 and "attached" not in out and out.count("skipped") == 2,
         "enable --all again changes nothing (idempotent)", "two skipped", (rc, out, err))


def run_checks(t, s):
    c = Ctx(t, s)
    check_config(c)
    s.boot()
    t.console = s.guest.console
    t.logs.append(("virt-tuned log tail", lambda: s.daemon.log_tail() if s.daemon else ""))
    check_live(c)
    check_all(c)
    if s.daemon:
        t.eq(s.daemon.stop(), 0, "virt-tuned stops cleanly")


def main():
    from vte2e import util
    missing = util.missing_requirements()
    if missing:
        print("1..0 # SKIP " + "; ".join(missing))
        return 0
    t = Tap()
    t0 = time.monotonic()
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
    t.figure("whole run (wall)", "%.1f" % (time.monotonic() - t0), "s")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
