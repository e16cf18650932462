#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: the agent installed the way operators install it. A Debian 12 guest
(vte2e/distro.py) with the freshly built virt-tune-agent .deb installed by
dpkg -i: udev + systemd start the packaged unit, its hardening is in force,
it reports to virt-tuned, its journal is readable and systemd has nothing to
say against the unit; an apply with persistence survives a reboot through the
drop-ins. The way in is qemu-guest-agent's guest-exec. TAP."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import distro, util  # noqa: E402
from vte2e.guest import domain_type  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.session import Interrupted, Session  # noqa: E402
from vte2e.tap import Tap  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

NAME = "vt-e2e-distro"
CAP_NET_ADMIN = 1 << 12


def build_deb(workdir):
    """tools/package agent-deb in a build directory kept in the e2e cache."""
    out = os.path.join(workdir, "deb")
    builddir = os.path.join(util.cache_dir(), "agent-deb-build")
    res = run([os.path.join(util.source_root(), "tools", "package"), "--build-dir", builddir,
               "--out", out, "agent-deb"], timeout=900, check=False)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")] if os.path.isdir(out) else []
    if res.returncode != 0 or len(debs) != 1:
        raise HarnessError("tools/package agent-deb: %s%s" % (res.stdout, res.stderr))
    return os.path.join(out, debs[0])


def boot(t, s, qga):
    deb = build_deb(s.workdir)
    image, data, kernel, initrd = distro.build_image(s.workdir, deb)
    xml = os.path.join(s.workdir, "distro.xml")
    with open(xml, "w") as f:
        f.write(distro.domain_xml(NAME, s.workdir, image, data, kernel, initrd,
                                  domain_type()))
    s.libvirt.virsh("define", xml)
    t0 = time.monotonic()
    s.libvirt.virsh("start", NAME)
    if not qga.wait(240):
        raise HarnessError("qemu-guest-agent did not answer within 240 s")
    t.figure("distro guest: start to qemu-ga answering", "%.1f" % (time.monotonic() - t0),
             "s")


def service(qga, *props):
    rc, out, _ = qga.exec(["systemctl", "show", "virt-tune-agent"] +
                          ["--property=" + p for p in props])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 \
        else {}


def check_started(t, qga):
    props = {}

    def active():
        props.update(service(qga, "ActiveState", "SubState", "WantedBy", "MainPID",
                             "NRestarts"))
        return props.get("ActiveState") == "active"
    wait_for(active, 60, 1)
    t.eq(props.get("ActiveState"), "active", "virt-tune-agent.service is active")
    t.ok(".device" in props.get("WantedBy", ""),
         "it was pulled in by the port's device unit (udev SYSTEMD_WANTS)",
         "a .device in WantedBy", props.get("WantedBy"))
    t.eq(props.get("NRestarts"), "0", "no restarts")
    pid = props.get("MainPID", "0")
    rc, status, _ = qga.exec(["cat", "/proc/%s/status" % pid])
    fields = dict(re.findall(r"^(\w+):\s*(\S+)", status, re.M)) if rc == 0 else {}
    t.eq(int(fields.get("CapEff", "-1"), 16) if "CapEff" in fields else None, CAP_NET_ADMIN,
         "the agent runs with CAP_NET_ADMIN only")
    t.eq(fields.get("NoNewPrivs"), "1", "NoNewPrivileges is in force")
    t.eq(fields.get("Seccomp"), "2", "the seccomp filter is in force")


def check_reports(t, s):
    # libvirt picks the path of a re-attached channel: reach it through libvirt
    d = s.start_daemon(channel="stream")
    t.logs.append(("virt-tuned log tail (%s)" % d.log_path, d.log_tail))
    last = {}

    def connected():
        data = d.cli("list").json() or []
        last["row"] = next((r for r in data if r.get("domain") == NAME), None)
        return last["row"] and last["row"].get("agent") == "connected" and \
            last["row"].get("kernel")
    wait_for(connected, 90, 1)
    row = last.get("row") or {}
    t.ok(row.get("agent") == "connected", "the packaged agent reports to virt-tuned",
         "agent connected", row)
    return d


def agent_connected(d, want, timeout):
    last = {}

    def probe():
        data = d.cli("list").json() or []
        last["row"] = next((r for r in data if r.get("domain") == NAME), None) or {}
        return (last["row"].get("agent") == "connected") == want
    wait_for(probe, timeout, 1)
    return last.get("row") or {}


def cpu_ticks(qga):
    """utime + stime of the running agent (clock ticks), None when it is not running."""
    props = service(qga, "ActiveState", "MainPID")
    if props.get("ActiveState") != "active" or props.get("MainPID", "0") == "0":
        return None
    rc, out, _ = qga.exec(["cat", "/proc/%s/stat" % props["MainPID"]])
    fields = out.rsplit(")", 1)[-1].split() if rc == 0 else []
    return int(fields[11]) + int(fields[12]) if len(fields) > 12 else None


def check_unplug(t, s, d, qga):
    """The channel taken away (virt-tune disable --live) and given back."""
    def cli(*args):
        return run([os.environ["VT_E2E_CLI"]] + list(args) + ["--connect", s.libvirt.uri],
                   check=False)
    res = cli("disable", NAME, "--live")
    t.ok(res.returncode == 0, "virt-tune disable --live detaches the channel", "rc 0",
         res.stdout + res.stderr)
    row = agent_connected(d, False, 30)
    t.ok(row.get("agent") != "connected", "the daemon sees the agent go", "not connected", row)
    first = cpu_ticks(qga)
    time.sleep(5)  # the measurement window of the CPU rate, not a wait for an event
    second = cpu_ticks(qga)
    idle = second is None or (first is not None and second - first < 5)
    t.ok(idle, "without its port the agent stops or idles (< 50 ms CPU in 5 s)",
         "stopped, or < 5 ticks", "ticks %s then %s" % (first, second))
    res = cli("enable", NAME, "--live")
    t.ok(res.returncode == 0, "virt-tune enable --live attaches it again", "rc 0",
         res.stdout + res.stderr)
    row = agent_connected(d, True, 90)
    t.ok(row.get("agent") == "connected", "udev and systemd start the agent again; it reports",
         "agent connected", row)


def check_journal_and_units(t, qga):
    rc, out, _ = qga.exec(["journalctl", "-u", "virt-tune-agent", "--no-pager", "-o", "cat"])
    lines = [line for line in out.splitlines() if line.strip()]
    t.ok(rc == 0 and lines and all(line.isprintable() for line in lines),
         "journalctl -u virt-tune-agent holds readable lines", "printable lines", out[-2000:])
    t.comment("journal: " + " | ".join(lines[-5:]))
    # --man=no: a minbase guest has no man(1) to check Documentation= with
    rc, out, err = qga.exec(["systemd-analyze", "verify", "--man=no",
                             "virt-tune-agent.service"])
    t.ok(rc == 0 and not (out + err).strip(), "systemd-analyze verify has nothing to say",
         "rc 0, no output", out + err)
    rc, out, err = qga.exec(["systemd-analyze", "security", "--no-pager",
                             "virt-tune-agent.service"])
    m = re.search(r"Overall exposure level for virt-tune-agent.service: ([0-9.]+) (\S+)", out)
    t.ok(m is not None, "systemd-analyze security scores the unit", "a score", out[-500:])
    if m:
        t.figure("systemd-analyze security exposure", "%s %s" % (m.group(1), m.group(2)), "")


def console_tail(workdir, lines=40):
    try:
        with open(os.path.join(workdir, "distro-console.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return "(no console log)"
    return "\n".join(text.splitlines()[-lines:])


def run_session(t, s, t0):
    with s:
        try:
            s.prepare()
            qga = distro.GuestAgent(s.libvirt, NAME)
            boot(t, s, qga)
            t.logs.append(("distro console tail", lambda: console_tail(s.workdir)))
            check_started(t, qga)
            d = check_reports(t, s)
            check_journal_and_units(t, qga)
            check_unplug(t, s, d, qga)
        except HarnessError as e:
            t.ok(False, "the harness ran every step", "no harness error", str(e))
        mnt_ns, marker = (s.libvirt.mnt_ns, s.libvirt.marker) if s.libvirt else (None, None)
    if not s.keep and mnt_ns:
        left = namespace_pids(mnt_ns, marker)
        t.ok(not left and not s.leftover_pids, "teardown ended every process", "none",
             left or s.leftover_pids)
    t.figure("whole run (wall)", "%.1f" % (time.monotonic() - t0), "s")
    return t.finish()


def main():
    missing = util.missing_requirements()
    for prog in ("mmdebstrap", "mkfs.ext4", "chroot"):
        if not any(os.access(os.path.join(d, prog), os.X_OK)
                   for d in ("/usr/bin", "/usr/sbin", "/sbin", "/bin")):
            missing.append("no %s (tools/install-deps e2e)" % prog)
    if missing:
        print("1..0 # SKIP " + "; ".join(missing))
        return 0
    t = Tap()
    t0 = time.monotonic()
    s = Session()
    try:
        return run_session(t, s, t0)
    except Interrupted as e:
        t.bail("interrupted by %s; everything this run started was torn down" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
