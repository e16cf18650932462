#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: the agent installed the way operators install it. A Debian 12 guest
(vte2e/distro.py) with the freshly built virt-tune-agent .deb installed by
dpkg -i: udev + systemd start the packaged unit, its hardening is in force,
it reports to virt-tuned, its journal is readable and systemd has nothing to
say against the unit; an apply with persistence survives a reboot through the
drop-ins (udev and systemd's .link handling set the values again, the agent
applies nothing), and a rollback removes them so that the next boot is back at
the image's own settings. The way in is qemu-guest-agent's guest-exec. TAP."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import distro, session, util  # noqa: E402
from vte2e.guest import domain_type  # noqa: E402
from vte2e.libvirtd import PrivateLibvirt, namespace_pids  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

NAME = "vt-e2e-distro"
CAP_NET_ADMIN = 1 << 12
NIC_REC = "nic.queues:eth0"
BLK_REC = "blk.scheduler:" + distro.DATA_DEV
# the product's drop-ins (guest/apply/dropins.c)
LINK_DROPIN = "/etc/systemd/network/10-virt-tune-eth0.link"
UDEV_DROPIN = "/etc/udev/rules.d/90-virt-tune.rules"
APPLY_JOURNAL = "/var/lib/virt-tune-agent/journal"


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


def boot(t, s):
    """Image, libvirtd and guest up; returns the way in (qemu-guest-agent)."""
    t0 = time.monotonic()
    # a cold root builds (mostly downloads and unpacks) while the .deb compiles
    base = distro.BaseRoot().start()
    try:
        # the private libvirtd only: the busybox guest's kernel and initramfs
        # (Session.prepare) are not used here
        s.libvirt = PrivateLibvirt(s.workdir)
        s.libvirt.start()
        t1 = time.monotonic()
        deb = build_deb(s.workdir)
        t.figure("agent .deb (tools/package agent-deb)", "%.1f" % (time.monotonic() - t1), "s")
        root = base.wait()
    finally:
        base.stop()
    if base.seconds is not None:
        t.figure("distro root: mmdebstrap, cold cache (beside the .deb)",
                 "%.1f" % base.seconds, "s")
    t.figure("libvirtd, .deb and root ready", "%.1f" % (time.monotonic() - t0), "s")
    t0 = time.monotonic()
    image, data, kernel, initrd = distro.build_image(s.workdir, deb, root)
    t.figure("distro image: copy, dpkg -i, mkfs.ext4", "%.1f" % (time.monotonic() - t0), "s")
    xml = os.path.join(s.workdir, "distro.xml")
    with open(xml, "w") as f:
        f.write(distro.domain_xml(NAME, s.workdir, image, data, kernel, initrd,
                                  domain_type()))
    s.libvirt.virsh("define", xml)
    qga = distro.GuestAgent(s.libvirt, NAME)
    t0 = time.monotonic()
    s.libvirt.virsh("start", NAME)
    if not qga.wait(240):
        raise HarnessError("qemu-guest-agent did not answer within 240 s")
    t.figure("distro guest: start to qemu-ga answering", "%.1f" % (time.monotonic() - t0),
             "s")
    return qga


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


# /proc/net/netlink's Eth column: the protocols the agent reads through
NETLINK_PROTOCOLS = {0: "rtnetlink (the link dump)", 15: "uevents (device announcements)",
                     16: "generic netlink (ethtool's monitor group)"}


def agent_netlink(qga):
    """The netlink protocols of the running agent's open sockets."""
    pid = service(qga, "MainPID").get("MainPID", "0")
    rc, links, _ = qga.exec(["find", "/proc/%s/fd" % pid, "-lname", "socket:*",
                             "-printf", "%l\n"])
    inodes = set(re.findall(r"socket:\[(\d+)\]", links)) if rc == 0 else set()
    rc, table, _ = qga.exec(["cat", "/proc/net/netlink"])
    protocols = set()
    for line in (table.splitlines()[1:] if rc == 0 else []):
        f = line.split()  # sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        if len(f) >= 10 and f[-1] in inodes:
            protocols.add(int(f[1]))
    return protocols


def check_netlink(t, qga):
    """The unit lets the agent open what it reads through (a family missing
    from RestrictAddressFamilies= would only make it fall back, silently)."""
    seen = set()

    def opened():
        seen.clear()
        seen.update(agent_netlink(qga))
        return set(NETLINK_PROTOCOLS) <= seen
    wait_for(opened, 30, 1)
    t.ok(set(NETLINK_PROTOCOLS) <= seen,
         "under its unit the agent holds its netlink sockets: " +
         ", ".join(NETLINK_PROTOCOLS.values()), sorted(NETLINK_PROTOCOLS), sorted(seen))


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


# ------------------------------------------------------------ persistence

def list_row(d):
    data = d.cli("list").json() or []
    return next((r for r in data if r.get("domain") == NAME), None) or {}


def find_dicts(node, key):
    """Every dict under node (lists and dicts, any depth) that has key."""
    if isinstance(node, dict):
        return ([node] if key in node else []) + \
            [x for v in node.values() for x in find_dicts(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in find_dicts(v, key)]
    return []


def guest_state(qga, raw=None):
    """(current combined channels of eth0, scheduler of the data disk) as the
    guest's own tools show them; raw (a dict) gets what they printed."""
    rc, out, err = qga.exec(["ethtool", "-l", "eth0"])
    cur = re.search(r"Combined:\s+(\d+)", out.partition("Current hardware settings")[2]) \
        if rc == 0 else None
    rc2, sched, err2 = qga.exec(["cat", "/sys/block/%s/queue/scheduler" % distro.DATA_DEV])
    m = re.search(r"\[(\S+)\]", sched) if rc2 == 0 else None
    if raw is not None:
        raw.update(ethtool=(rc, out[-400:], err[-400:]), scheduler=(rc2, sched, err2))
    return (int(cur.group(1)) if cur else None, m.group(1) if m else None)


def check_guest_state(t, qga, want, name):
    """The guest shows want (waits: right after a boot udev may still be at work)."""
    raw = {}
    got = wait_for(lambda: guest_state(qga, raw) == want and want, 60, 2)
    return t.ok(got == want, name, repr(want), "%r (%r)" % (guest_state(qga, raw), raw))


def report_state(d):
    """The same two values as the latest report has them (`virt-tune audit`)."""
    a = d.cli("audit", "all").json() or {}
    nic = next((r for r in a.get("nics", []) if r.get("domain") == NAME
                and r.get("iface") == "eth0"), {})
    blk = next((r for r in a.get("schedulers", []) if r.get("domain") == NAME
                and r.get("serial") == distro.DATA_SERIAL), {})
    return (nic.get("combined"), blk.get("scheduler"))


def wait_report(d, want, timeout):
    last = {}

    def probe():
        d.cli("refresh", NAME, timeout=20)
        last["state"] = report_state(d)
        return last["state"] == want
    wait_for(probe, timeout, 1)
    return last.get("state")


def recommendations(d):
    res = d.cli("recommend", NAME)
    data = res.json() if res.rc in (0, 1) else None
    return {r.get("id"): r for r in find_dicts(data, "rule") if "id" in r}


def guest_file(qga, path):
    """The file's text, or None when it does not exist."""
    rc, out, _ = qga.exec(["cat", path])
    return out if rc == 0 else None


def link_file(qga):
    """The .link file udev applied to eth0 in this boot (ID_NET_LINK_FILE)."""
    rc, out, _ = qga.exec(["udevadm", "info", "--query=property", "/sys/class/net/eth0"])
    m = re.search(r"^ID_NET_LINK_FILE=(.*)$", out, re.M) if rc == 0 else None
    return m.group(1) if m else None


def image_link_applied(t, qga, name):
    # /lib is /usr/lib in this root: either may be the one udev names
    got = link_file(qga)
    want = os.path.basename(distro.IMAGE_LINK)
    t.ok(got is not None and os.path.basename(got) == want and "/lib/" in got, name,
         "ID_NET_LINK_FILE=…/lib/systemd/network/" + want, got)


def journal_files(qga):
    rc, out, err = qga.exec(["ls", APPLY_JOURNAL])
    if rc != 0:
        raise HarnessError("ls %s in the guest: %s" % (APPLY_JOURNAL, err))
    return sorted(out.split())


def reboot(t, d, s, qga, label):
    """virsh reboot through qemu-guest-agent; waits for the agent to report
    from a new boot by itself."""
    old = list_row(d).get("boot_id")
    t0 = time.monotonic()
    res = s.libvirt.virsh("reboot", NAME, "--mode", "agent", check=False)
    t.ok(res.returncode == 0, "%s: virsh reboot --mode agent" % label, "exit 0",
         res.stdout + res.stderr)
    last = {}

    def back():
        last["row"] = list_row(d)
        return last["row"].get("boot_id") not in (None, old) and \
            last["row"].get("agent") == "connected"
    wait_for(back, 300, 1)
    row = last.get("row") or {}
    ok = t.ok(row.get("boot_id") not in (None, old) and row.get("agent") == "connected",
              "%s: the agent reports from a new boot by itself" % label,
              "boot_id != %s, agent connected" % old,
              {k: row.get(k) for k in ("boot_id", "agent", "last_error")})
    if ok:
        t.figure("%s: reboot to the agent reporting the new boot_id" % label,
                 "%.1f" % (time.monotonic() - t0), "s")
    if not qga.wait(120):
        raise HarnessError("qemu-guest-agent did not answer after the reboot")
    return ok


def wait_recommended(d, ids, timeout):
    last = {}

    def probe():
        last["recs"] = recommendations(d)
        return set(ids) <= set(last["recs"])
    wait_for(probe, timeout, 1)
    return last.get("recs", {})


def apply_persist(t, d, qga):
    """Both recommendations applied with --persist; returns ({rec: change
    id}, the values they set) or None."""
    recs = wait_recommended(d, (NIC_REC, BLK_REC), 60)
    if not t.ok({NIC_REC, BLK_REC} <= set(recs), "recommend: %s and %s" % (NIC_REC, BLK_REC),
                "both", sorted(recs)):
        return None
    # virtio-blk says rotational, so the rule may want mq-deadline, not none
    sched = next((x["name"] for x in find_dicts(recs[BLK_REC].get("action"), "name")), None)
    t.ok(sched in ("none", "mq-deadline"), "%s recommends none or mq-deadline" % BLK_REC,
         "none or mq-deadline", recs[BLK_REC].get("action"))
    changes = {}
    for rec in (NIC_REC, BLK_REC):
        res = d.cli("apply", NAME, rec, "--persist")
        found = find_dicts(res.json(), "change_id")
        changes[rec] = found[0]["change_id"] if found else None
        t.ok(res.rc == 0 and changes[rec], "apply %s --persist" % rec, "exit 0, a change id",
             res.describe())
    applied = (2, sched)
    check_guest_state(t, qga, applied, "applied: eth0 at 2 combined channels, %s on %s"
                      % (distro.DATA_DEV, sched))
    link, rules = guest_file(qga, LINK_DROPIN), guest_file(qga, UDEV_DROPIN)
    t.ok(link is not None and "CombinedChannels=2" in link and
         "MACAddress=%s" % distro.NIC_MAC in link,
         "the .link drop-in sets CombinedChannels=2 for eth0's MAC", LINK_DROPIN, link)
    t.ok(rules is not None and 'KERNEL=="%s", ATTR{queue/scheduler}="%s"'
         % (distro.DATA_DEV, sched) in rules,
         "the udev drop-in sets %s's scheduler to %s" % (distro.DATA_DEV, sched),
         UDEV_DROPIN, rules)
    return changes, applied


def check_persist(t, s, d, qga):
    """apply --persist → reboot → still applied, by the drop-ins; rollback →
    reboot → the image's own settings again."""
    base = (1, "bfq")
    check_guest_state(t, qga, base, "the image's own settings: eth0 at 1 combined channel, "
                      "%s on bfq (its .link file and udev rule)" % distro.DATA_DEV)
    image_link_applied(t, qga, "udev configured eth0 from the image's own .link file")
    done = apply_persist(t, d, qga)
    if done is None:
        return
    changes, applied = done
    entries = journal_files(qga)

    if not reboot(t, d, s, qga, "persist"):
        return
    check_guest_state(t, qga, applied, "after the reboot the guest is still at %r" % (applied,))
    t.eq(wait_report(d, applied, 30), applied, "after the reboot the report shows %r"
         % (applied,))
    t.eq(link_file(qga), LINK_DROPIN, "udev configured eth0 from the .link drop-in")
    rules = guest_file(qga, UDEV_DROPIN)
    t.ok(rules is not None and 'ATTR{queue/scheduler}="%s"' % applied[1] in rules,
         "the udev drop-in is still there", UDEV_DROPIN, rules)
    t.eq(journal_files(qga), entries,
         "the agent applied nothing at boot: its apply journal is unchanged")
    rows = find_dicts(d.cli("changes", NAME).json(), "change_id")
    states = {rec: next((r.get("state") for r in rows if r.get("change_id") == cid
                         and r.get("operation") == "apply"), None)
              for rec, cid in changes.items()}
    t.eq(states, {NIC_REC: "applied", BLK_REC: "applied"},
         "changes: both changes are applied, not drifted, in the new boot")

    for rec in (NIC_REC, BLK_REC):
        res = d.cli("rollback", NAME, str(changes[rec]))
        t.ok(res.rc == 0, "rollback %s" % rec, "exit 0", res.describe())
    check_guest_state(t, qga, base, "rolled back: the guest is at 1 and bfq again")
    t.eq((guest_file(qga, LINK_DROPIN), guest_file(qga, UDEV_DROPIN)), (None, None),
         "rolled back: both drop-ins are gone")
    if not reboot(t, d, s, qga, "rollback"):
        return
    check_guest_state(t, qga, base, "after the next reboot the guest is at the image's own "
                      "settings (1, bfq)")
    image_link_applied(t, qga, "udev configured eth0 from the image's own .link file again")
    t.eq(wait_report(d, base, 30), base, "after the next reboot the report shows 1 and bfq")
    recs = wait_recommended(d, (NIC_REC, BLK_REC), 60)
    t.ok({NIC_REC, BLK_REC} <= set(recs), "after the next reboot both recommendations are back",
         "both", sorted(recs))


def console_tail(workdir, lines=40):
    try:
        with open(os.path.join(workdir, "distro-console.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return "(no console log)"
    return "\n".join(text.splitlines()[-lines:])


def timed(t, name, fn, *args):
    t0 = time.monotonic()
    try:
        return fn(*args)
    finally:
        t.figure(name, "%.1f" % (time.monotonic() - t0), "s")


def run_session(t, s, t0):
    with s:
        try:
            qga = boot(t, s)
            t.logs.append(("distro console tail", lambda: console_tail(s.workdir)))
            timed(t, "checks: unit started, hardening", check_started, t, qga)
            d = timed(t, "checks: reports to virt-tuned", check_reports, t, s)
            timed(t, "checks: netlink sockets", check_netlink, t, qga)
            timed(t, "checks: journal, systemd-analyze", check_journal_and_units, t, qga)
            timed(t, "checks: unplug and plug", check_unplug, t, s, d, qga)
            timed(t, "checks: persist, reboot, rollback, reboot", check_persist, t, s, d, qga)
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
    return session.main(run_session, programs=('mmdebstrap', 'mkfs.ext4', 'chroot'))


if __name__ == "__main__":
    sys.exit(main())
