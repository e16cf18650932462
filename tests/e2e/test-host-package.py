#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: the host package installed the way operators install it. A Debian 12
guest (vte2e/hostpkg.py) with libvirt's system daemon, QEMU and the freshly
built virt-tune .deb (dpkg -i): sysusers.d made the group, systemd runs
virt-tuned under its hardened unit against the guest's qemu:///system, the
control socket lets the group in and tells everyone else why not, a reload
and a libvirtd restart are survived, and a domain defined inside the guest
and given the channel by `virt-tune enable --config` is found with its
channel. The way in is qemu-guest-agent's guest-exec. TAP."""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import distro, hostpkg, session, util  # noqa: E402
from vte2e.guest import domain_type  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

NAME = "vt-e2e-host"
NESTED = "vt-nested"
SOCKET = "/run/virt-tune/virt-tuned.sock"
GROUP = "virt-tune"
MEMBER = "vtmember"
OUTSIDER = "vtoutsider"
CAP_DAC_OVERRIDE = 1 << 1
CHANNEL_DIR = "/var/lib/libvirt/qemu/channel/target/"
# A domain that only has to exist: no disk, it sits in its firmware.
NESTED_XML = """<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
""" % NESTED
# What the unit file says, as `systemctl show` spells it.
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "CapabilityBoundingSet": "cap_dac_override",
    "SupplementaryGroups": GROUP,
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}


def build_deb(t, workdir):
    """tools/package host-deb in a build directory kept in the e2e cache."""
    out = os.path.join(workdir, "deb")
    builddir = os.path.join(util.cache_dir(), "host-deb-build")
    t0 = time.monotonic()
    res = run([os.path.join(util.source_root(), "tools", "package"), "--host-build-dir",
               builddir, "--out", out, "host-deb"], timeout=1800, check=False)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")] if os.path.isdir(out) else []
    if res.returncode != 0 or len(debs) != 1:
        raise HarnessError("tools/package host-deb: %s%s" % (res.stdout, res.stderr))
    t.figure("tools/package host-deb", "%.1f" % (time.monotonic() - t0), "s")
    return os.path.join(out, debs[0])


def boot(t, s, qga):
    deb = build_deb(t, s.workdir)
    t0 = time.monotonic()
    image, kernel, initrd = hostpkg.build_image(s.workdir, deb)
    t.figure("host-package image (root copy, dpkg -i, mkfs)", "%.1f" % (time.monotonic() - t0),
             "s")
    xml = os.path.join(s.workdir, "host.xml")
    with open(xml, "w") as f:
        f.write(hostpkg.domain_xml(NAME, s.workdir, image, kernel, initrd, domain_type()))
    s.libvirt.virsh("define", xml)
    t0 = time.monotonic()
    s.libvirt.virsh("start", NAME)
    if not qga.wait(300):
        raise HarnessError("qemu-guest-agent did not answer within 300 s")
    t.figure("host guest: start to qemu-ga answering", "%.1f" % (time.monotonic() - t0), "s")


def show(qga, unit, *props):
    rc, out, _ = qga.exec(["systemctl", "show", unit] + ["--property=" + p for p in props])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 \
        else {}


def journal(qga):
    _, out, _ = qga.exec(["journalctl", "-u", "virt-tuned", "--no-pager", "-o", "cat"])
    return out


def as_user(qga, user, *argv, timeout=60):
    """argv run as USER with USER's groups (setpriv: no PAM, no shell)."""
    return qga.exec(["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                     "--"] + list(argv), timeout)


def listing(qga, user=MEMBER):
    """(rc, rows, stderr) of `virt-tune list --format json` run as USER."""
    rc, out, err = as_user(qga, user, "virt-tune", "list", "--format", "json")
    try:
        rows = json.loads(out) if rc == 0 else None
    except ValueError:
        rows = None
    return rc, rows, err


def nested_row(qga, want):
    """Polls list until the nested domain's row satisfies WANT(row)."""
    last = {}

    def probe():
        rc, rows, err = listing(qga)
        last["rc"], last["err"] = rc, err
        last["row"] = next((r for r in rows or [] if r.get("domain") == NESTED), None)
        return last["row"] is not None and want(last["row"])
    wait_for(probe, 120, 2)
    return last


def check_package(t, qga):
    rc, out, _ = qga.exec(["dpkg-query", "-W", "-f", "${Status}", "virt-tune"])
    t.eq(out, "install ok installed", "dpkg knows the virt-tune package as installed")
    rc, out, _ = qga.exec(["dpkg-query", "-S", "/usr/lib/sysusers.d/virt-tune.conf"])
    t.ok(rc == 0 and out.startswith("virt-tune:"), "the package ships the sysusers.d file",
         "virt-tune: /usr/lib/sysusers.d/virt-tune.conf", out)
    # the shipped file alone makes the group: systemd-sysusers on an empty root
    rc, out, err = qga.sh("r=$(mktemp -d) && mkdir -p $r/etc $r/usr/lib/sysusers.d && "
                          "cp /usr/lib/sysusers.d/virt-tune.conf $r/usr/lib/sysusers.d/ && "
                          "systemd-sysusers --root=$r && grep '^virt-tune:' $r/etc/group; "
                          "rc=$?; rm -rf $r; exit $rc")
    t.ok(rc == 0 and out.startswith("virt-tune:x:"),
         "systemd-sysusers makes the group from the shipped file on an empty root",
         "virt-tune:x:GID:", (rc, out, err))
    rc, out, _ = qga.exec(["getent", "group", GROUP])
    fields = out.strip().split(":")
    t.ok(rc == 0 and len(fields) == 4 and fields[0] == GROUP and int(fields[2]) < 1000,
         "the virt-tune group exists and is a system group", "virt-tune:x:<1000:", out)


def check_service(t, qga):
    props = {}

    def active():
        props.update(show(qga, "virt-tuned", "ActiveState", "SubState", "NRestarts",
                          "MainPID", "UnitFileState", *HARDENING))
        return props.get("ActiveState") == "active"
    wait_for(active, 120, 2)
    t.eq(props.get("ActiveState"), "active", "virt-tuned.service is active")
    t.eq(props.get("UnitFileState"), "enabled", "the package enabled it")
    t.eq(props.get("NRestarts"), "0", "no restarts")
    got = {k: props.get(k) for k in HARDENING}
    want = dict(HARDENING)
    # systemd prints the address families in an order of its own
    for d in (got, want):
        d["RestrictAddressFamilies"] = sorted((d["RestrictAddressFamilies"] or "").split())
    t.ok(got == want, "the unit's hardening is what systemd applies", want, got)
    pid = props.get("MainPID", "0")
    rc, status, _ = qga.exec(["cat", "/proc/%s/status" % pid])
    fields = dict(re.findall(r"^(\w+):\s*(\S+)", status, re.M)) if rc == 0 else {}
    t.eq(int(fields["CapEff"], 16) if "CapEff" in fields else None, CAP_DAC_OVERRIDE,
         "the daemon runs with CAP_DAC_OVERRIDE only")
    t.eq(fields.get("NoNewPrivs"), "1", "NoNewPrivileges is in force")
    t.eq(fields.get("Seccomp"), "2", "the system call filter is in force")
    text = ""

    def connected():
        nonlocal text
        text = journal(qga)
        return "connected to qemu:///system" in text
    wait_for(connected, 60, 2)
    t.ok("connected to qemu:///system" in text, "it connected to the guest's qemu:///system",
         "'connected to qemu:///system' in its journal", text[-1500:])
    return props


def check_socket(t, qga):
    rc, out, _ = qga.exec(["stat", "-c", "%F %a %U %G", SOCKET])
    t.eq(out.strip(), "socket 660 root virt-tune",
         "the control socket is a 0660 socket owned by root, group virt-tune")
    for argv in (["useradd", "-G", GROUP, MEMBER], ["useradd", OUTSIDER]):
        rc, out, err = qga.exec(argv)
        if rc != 0:
            raise HarnessError("%s: %s%s" % (" ".join(argv), out, err))
    rc, rows, err = listing(qga, MEMBER)
    t.ok(rc == 0 and isinstance(rows, list),
         "a member of virt-tune runs `virt-tune list` (exit 0, a JSON list)", "rc 0", (rc, err))
    rc, rows, err = listing(qga, OUTSIDER)
    want = ("virt-tune: permission denied on %s (mode 0660, group virt-tune): run as root "
            "or as a member of group virt-tune (usermod -aG virt-tune USER, then log in "
            "again)" % SOCKET)
    t.eq(rc, 3, "a user outside the group is refused (exit 3, daemon unreachable)")
    t.eq(err.strip(), want, "the refusal names the socket, the group and the way in")


def check_nested(t, qga):
    script = "cat > /root/%s.xml <<'EOF'\n%sEOF\nvirsh define /root/%s.xml" % (
        NESTED, NESTED_XML, NESTED)
    t0 = time.monotonic()
    rc, out, err = qga.sh(script, timeout=300)
    if rc != 0:
        raise HarnessError("virsh define in the guest: %s%s" % (out, err))
    t.figure("virsh define in the guest (libvirt probes QEMU)",
             "%.1f" % (time.monotonic() - t0), "s")
    rc, out, err = qga.exec(["virt-tune", "enable", NESTED, "--config"], timeout=120)
    t.ok(rc == 0, "`virt-tune enable %s --config` against the guest's system libvirtd" % NESTED,
         "rc 0", (rc, out, err))
    _, xml, _ = qga.exec(["virsh", "dumpxml", "--inactive", NESTED])
    # libvirt writes a bind source without a path as no <source> at all
    m = re.search(r"<channel type='unix'>((?:(?!</channel>).)*)</channel>", xml, re.S)
    channel = m.group(1) if m else ""
    t.ok("name='org.virttune.agent.0'" in channel and "path=" not in channel,
         "the inactive XML has the channel, with no path (libvirt picks it)",
         "a unix channel org.virttune.agent.0 without path", xml)
    t0 = time.monotonic()
    rc, out, err = qga.exec(["virsh", "start", NESTED], timeout=300)
    if rc != 0:
        raise HarnessError("virsh start %s in the guest: %s%s" % (NESTED, out, err))
    t.figure("virsh start of the nested domain", "%.1f" % (time.monotonic() - t0), "s")
    _, xml, _ = qga.exec(["virsh", "dumpxml", NESTED])
    m = re.search(r"<source mode='bind' path='([^']+)'/>\s*<target type='virtio' "
                  r"name='org.virttune.agent.0'", xml)
    path = m.group(1) if m else ""
    t.ok(path.startswith(CHANNEL_DIR) and path.endswith("/org.virttune.agent.0"),
         "libvirt made the channel's socket under %s" % CHANNEL_DIR,
         CHANNEL_DIR + "domain-N-%s/org.virttune.agent.0" % NESTED, path or xml)
    last = nested_row(qga, lambda r: r.get("agent") not in (None, "no channel"))
    row = last.get("row") or {}
    t.comment("nested row: %s" % json.dumps(row, sort_keys=True))
    t.ok(row.get("agent") == "waiting",
         "virt-tuned found the channel and waits for an agent (agent 'waiting')",
         "agent waiting", row or last)
    t.eq(row.get("last_error"), "waiting for the agent to answer",
         "it opened the channel's socket and waits for an answer")
    t.eq(row.get("channel_state"), "disconnected",
         "libvirt reports the guest side of the channel closed (no agent runs)")
    return row


def check_reload(t, qga, before):
    rc, out, err = qga.exec(["systemctl", "reload", "virt-tuned"])
    t.ok(rc == 0, "systemctl reload virt-tuned", "rc 0", (rc, out, err))
    text = ""

    def reloaded():
        nonlocal text
        text = journal(qga)
        return "SIGHUP:" in text
    wait_for(reloaded, 30, 1)
    t.ok("SIGHUP:" in text, "the daemon handled the reload (a SIGHUP line in its journal)",
         "SIGHUP: …", text[-1000:])
    after = show(qga, "virt-tuned", "ActiveState", "NRestarts", "MainPID")
    t.ok(after.get("ActiveState") == "active" and
         after.get("MainPID") == before.get("MainPID") and
         after.get("NRestarts") == before.get("NRestarts"),
         "after the reload: still active, same process, no restart",
         {"ActiveState": "active", "MainPID": before.get("MainPID"),
          "NRestarts": before.get("NRestarts")}, after)
    last = nested_row(qga, lambda r: r.get("agent") == "waiting")
    t.ok((last.get("row") or {}).get("agent") == "waiting",
         "after the reload `virt-tune list` still shows the nested domain waiting", "waiting",
         last)


def check_libvirtd_restart(t, qga, before):
    connects = journal(qga).count("connected to qemu:///system")
    t0 = time.monotonic()
    rc, out, err = qga.exec(["systemctl", "restart", "libvirtd"], timeout=180)
    t.ok(rc == 0, "systemctl restart libvirtd", "rc 0", (rc, out, err))
    text = ""

    def reconnected():
        nonlocal text
        text = journal(qga)
        return text.count("connected to qemu:///system") > connects
    ok = wait_for(reconnected, 120, 2)
    t.ok(ok, "virt-tuned saw the connection go and connected again",
         "a new 'connected to qemu:///system' line", text[-1500:])
    if ok:
        t.figure("libvirtd restart to virt-tuned reconnected", "%.1f" % (time.monotonic() - t0),
                 "s")
    after = show(qga, "virt-tuned", "ActiveState", "NRestarts", "MainPID")
    t.ok(after.get("ActiveState") == "active" and
         after.get("MainPID") == before.get("MainPID") and
         after.get("NRestarts") == before.get("NRestarts"),
         "after the libvirtd restart: still active, same process, no restart",
         {"ActiveState": "active", "MainPID": before.get("MainPID"),
          "NRestarts": before.get("NRestarts")}, after)
    last = nested_row(qga, lambda r: r.get("agent") == "waiting")
    t.ok((last.get("row") or {}).get("agent") == "waiting",
         "after it `virt-tune list` still shows the nested domain with its channel", "waiting",
         last)


def check_unit_analysis(t, qga):
    rc, out, err = qga.exec(["systemd-analyze", "verify", "--man=no", "virt-tuned.service"])
    t.ok(rc == 0 and not (out + err).strip(), "systemd-analyze verify has nothing to say",
         "rc 0, no output", out + err)
    rc, out, err = qga.exec(["systemd-analyze", "security", "--no-pager", "virt-tuned.service"])
    m = re.search(r"Overall exposure level for virt-tuned.service: ([0-9.]+) (\S+)", out)
    t.ok(m is not None, "systemd-analyze security scores the unit", "a score", out[-500:])
    if m:
        t.figure("systemd-analyze security exposure (virt-tuned)",
                 "%s %s" % (m.group(1), m.group(2)), "")


def console_tail(workdir, lines=40):
    try:
        with open(hostpkg.console_path(workdir), "rb") as f:
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
            t.logs.append(("host guest console tail", lambda: console_tail(s.workdir)))
            t.logs.append(("virt-tuned journal tail", lambda: journal(qga)[-1500:]))
            check_package(t, qga)
            props = check_service(t, qga)
            check_socket(t, qga)
            check_nested(t, qga)
            check_reload(t, qga, props)
            check_libvirtd_restart(t, qga, props)
            check_unit_analysis(t, qga)
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
    return session.main(run_session, programs=('mmdebstrap', 'mkfs.ext4', 'chroot', 'dpkg-shlibdeps'))


if __name__ == "__main__":
    sys.exit(main())
