#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: boot the scenario guest under a private libvirtd and check what the
harness itself provides: the guest image (agent binary + libraries + sysfs), the
scenario's devices as the guest sees them, the channel, libvirt's view (live XML,
domstats), real swapping, the agent handshake, a clean power-off and a teardown
that leaves no process behind. Prints figures (boot time, memory) as TAP comments."""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import probe, session, wire  # noqa: E402
from vte2e.guest import AGENT_CHANNEL, SCENARIO, SHELL_CHANNEL  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.session import POLICY_ALLOWED  # noqa: E402
from vte2e.util import HarnessError, wait_for  # noqa: E402

AGENT_LOOP_MISSING = "the port loop is not implemented"


def agent_loop_missing(console):
    """The agent's own words on the console when it has no port loop yet."""
    return console.find(re.escape(AGENT_LOOP_MISSING)) is not None


def check_once(t, s, guest):
    m = re.search(r"^VT-E2E: once-begin[^\n]*\n(.*?)^VT-E2E: once-end rc=(\d+)",
                  guest.console.text(), re.S | re.M)
    if not t.ok(m is not None, "virt-tune-agent --once ran in the guest",
                "once-begin ... once-end markers", "no such markers"):
        return
    t.eq(int(m.group(2)), 0, "virt-tune-agent --once exits 0 in the guest")
    try:
        report = json.loads(m.group(1))
    except ValueError as e:
        t.ok(False, "--once prints a JSON report", "a JSON object",
             "%s: %r" % (e, m.group(1)[:300]))
        return
    t.ok(isinstance(report, dict), "--once prints a JSON report", "a JSON object",
         type(report).__name__)
    t.comment("--once report: %d bytes, sections %s" % (len(m.group(1)), sorted(report)))
    identity = report.get("identity")
    if identity is None:
        t.pending("--once report names the guest kernel",
                  "the report has no identity section yet (collectors not landed)")
    else:
        t.eq(identity.get("kernel_release"), s.kernel.release,
             "--once report names the guest kernel")


def check_scenario(t, guest):
    _, out = guest.shell.run("ethtool -l eth0")
    maxima, _, current = out.partition("Current hardware settings")
    mx = re.search(r"Combined:\s+(\d+)", maxima)
    cur = re.search(r"Combined:\s+(\d+)", current)
    t.eq(int(mx.group(1)) if mx else out, SCENARIO["nic_queues"],
         "guest eth0 has max combined = the XML's queues")
    t.eq(int(cur.group(1)) if cur else out, SCENARIO["nic_combined_after_init"],
         "init lowered eth0 to 1 combined channel")

    _, out = guest.shell.run(
        "for b in /sys/block/vd*; do echo ${b##*/} $(cat $b/serial) $(cat $b/queue/scheduler); done")
    sched = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3:
            sched[parts[1]] = (parts[0], parts[2])
    t.ok("[bfq]" in sched.get("vt-bfq", ("", ""))[1], "the vt-bfq disk runs bfq",
         "[bfq] active", sched.get("vt-bfq"))
    default = sched.get("vt-default", ("", ""))[1]
    t.ok("[" in default and "[bfq]" not in default,
         "the vt-default disk keeps its default scheduler", "not bfq", default or sched)
    swap_dev = sched.get("vt-swap", ("?",))[0]
    _, out = guest.shell.run("cat /proc/swaps")
    t.ok(re.search(r"^/dev/%s\s+partition" % swap_dev, out, re.M) is not None,
         "swap is on the vt-swap disk", "/dev/%s partition" % swap_dev, out.strip())


def check_channels(t, guest):
    t.eq(guest.channel_state(SHELL_CHANNEL), "connected",
         "live XML: a channel the guest opened shows state='connected'")
    state = wait_for(lambda: guest.channel_state(AGENT_CHANNEL) == "connected"
                     or agent_loop_missing(guest.console), 10, 0.5) \
        and guest.channel_state(AGENT_CHANNEL) == "connected"
    if state:
        t.ok(True, "live XML: the agent channel shows state='connected'")
    elif agent_loop_missing(guest.console):
        t.pending("live XML: the agent channel shows state='connected'",
                  "the agent has no port loop yet (it says: %s)" % AGENT_LOOP_MISSING)
    else:
        t.ok(False, "live XML: the agent channel shows state='connected'", "connected",
             guest.channel_state(AGENT_CHANNEL))


def check_probe(t, guest, kernel_release):
    result = probe.exchange(
        guest.agent_socket, timeout=15,
        give_up=lambda: agent_loop_missing(guest.console) and "the agent has no port loop")
    t.comment("probe: " + result.describe())
    name = "the agent answers Hello with our nonce and sends a Report"
    if result.hello is None and agent_loop_missing(guest.console):
        t.pending(name, "the agent has no port loop yet (it says: %s)" % AGENT_LOOP_MISSING)
        return
    if not t.ok(result.hello is not None and result.report is not None, name,
                "Hello (nonce echoed) then Report", result.describe()):
        return
    t.figure("hello round trip", "%.3f" % result.hello_seconds, "s")
    policy = result.hello.msg(wire.HELLO_POLICY)
    allowed = sorted(v.decode() for v in policy.all(1)) if policy else None
    caps = [v.decode() for v in result.hello.all(wire.HELLO_CAPABILITIES)]
    name = "the agent's Hello carries the policy of agent.conf"
    if not any(c.startswith("apply") for c in caps):
        # The apply policy only means something to an agent that can apply.
        t.pending(name, "the agent announces no apply capability yet (capabilities: %s)"
                  % ", ".join(caps))
    else:
        t.eq(allowed, sorted(POLICY_ALLOWED), name)
    identity = result.report.msg(1)
    t.eq(identity.text(3) if identity else None, kernel_release,
         "the Report over the channel names the guest kernel")
    report = (probe.to_json(result.report_envelope) or {}).get("report", {})
    nics = {n.get("name"): n for n in report.get("nics", [])}
    name = "the Report shows eth0 at 1 of 4 combined channels"
    if not nics:
        t.pending(name, "the Report has no nics section yet (collectors not landed)")
    else:
        channels = nics.get("eth0", {}).get("channels", {})
        t.eq({k: channels.get(k) for k in ("max_combined", "combined")},
             {"max_combined": SCENARIO["nic_queues"],
              "combined": SCENARIO["nic_combined_after_init"]}, name)


def check_domstats(t, guest):
    want = ["balloon.current", "balloon.maximum", "balloon.swap_in", "balloon.swap_out",
            "balloon.available", "balloon.rss", "vcpu.current", "vcpu.maximum",
            "vcpu.0.time", "vcpu.1.time"]
    # Balloon stats appear once the guest driver has sent its first sample.
    stats = wait_for(lambda: (lambda st: st if all(k in st for k in want) else None)(
        guest.domstats("--balloon", "--vcpu")), 15, 0.5) or \
        guest.domstats("--balloon", "--vcpu")
    missing = [k for k in want if k not in stats]
    t.ok(not missing, "virsh domstats has balloon.* and vcpu.* for the guest", want,
         "missing %s in %s" % (missing, sorted(stats)))
    t.eq(stats.get("vcpu.current"), str(SCENARIO["vcpus"]), "domstats vcpu.current")
    t.eq(stats.get("balloon.maximum"), str(SCENARIO["memory_mib"] * 1024),
         "domstats balloon.maximum (KiB)")
    return stats


def vmstat_swap(guest):
    _, out = guest.shell.run("grep -E '^pswp(in|out) ' /proc/vmstat")
    return {k: int(v) for k, v in re.findall(r"^(pswpin|pswpout) (\d+)", out, re.M)}


def check_swapping(t, guest):
    m = guest.console.wait(r"^VT-E2E: hog filled (\d+)MiB.*since t=([0-9.]+).* t=([0-9.]+)",
                           150)
    if not t.ok(m is not None, "the memory hog filled more than the guest's RAM",
                "VT-E2E: hog filled ...", "no such line"):
        return
    t.figure("hog fill (guest clock)", "%.1f" % (float(m.group(3)) - float(m.group(2))), "s")
    a = vmstat_swap(guest)
    t0 = time.monotonic()
    # wait for swap-in to move (the hog keeps touching its pages), not for a while
    b = wait_for(lambda: (lambda v: v if v.get("pswpin", 0) > a.get("pswpin", 0) else None)(
        vmstat_swap(guest)), 60, 1.0) or vmstat_swap(guest)
    took = max(time.monotonic() - t0, 0.001)
    t.ok(a.get("pswpout", 0) > 0, "the guest swapped out (pswpout > 0)", "> 0", a)
    moved_in = b.get("pswpin", 0) - a.get("pswpin", 0)
    moved_out = b.get("pswpout", 0) - a.get("pswpout", 0)
    t.ok(moved_in > 0, "the guest keeps swapping in (pswpin grows)",
         "pswpin growing within 60 s", "%s -> %s" % (a, b))
    t.figure("swap-in rate", "%.0f" % (moved_in / took), "pages/s")
    t.figure("swap-out rate", "%.0f" % (moved_out / took), "pages/s")
    # The host sees it too, through the balloon driver's statistics.
    stats = wait_for(lambda: (lambda st: st if int(st.get("balloon.swap_out", "0")) > 0
                              else None)(guest.domstats("--balloon")), 10, 0.5) or {}
    t.ok(int(stats.get("balloon.swap_out", "0")) > 0,
         "domstats balloon.swap_out > 0 while the guest swaps", "> 0",
         stats.get("balloon.swap_out"))


def run_checks(t, s):
    guest = s.boot()
    t.console = guest.console
    t.ok(True, "guest booted to 'VT-E2E: ready' (%.1f s after virsh start)"
         % s.timings["boot_to_ready"])
    t.figure("virsh start", "%.2f" % s.timings["virsh_start"], "s")
    t.figure("boot to ready (wall, %s)" % guest.dtype, "%.2f" % s.timings["boot_to_ready"], "s")
    if "guest_uptime_at_ready" in s.timings:
        t.figure("boot to ready (guest clock)", s.timings["guest_uptime_at_ready"], "s")
    check_once(t, s, guest)
    check_scenario(t, guest)
    check_channels(t, guest)
    check_probe(t, guest, s.kernel.release)
    check_domstats(t, guest)
    check_swapping(t, guest)
    for name, kib in sorted(s.libvirt.memory().items()):
        t.figure("RSS %s" % name, kib // 1024, "MiB")
    if s.keep:
        t.skip("the guest powers off cleanly on request", "VT_E2E_KEEP=1 keeps it up")
        return
    seconds = guest.poweroff()
    t.ok(seconds is not None, "the guest powers off cleanly on request",
         "state 'shut off' within 30 s", guest.state())
    if seconds is not None:
        t.figure("poweroff", "%.2f" % seconds, "s")


def main():
    return session.main(run)


def run(t, s, t0):
    with s:
        try:
            s.prepare()
            t.figure("kernel (download on a cold cache)", "%.2f" % s.timings["kernel"], "s")
            t.figure("initramfs build", "%.2f" % s.timings["initramfs"], "s")
            t.figure("libvirtd start", "%.2f" % s.timings["libvirtd"], "s")
            run_checks(t, s)
        except HarnessError as e:
            t.ok(False, "the harness ran every step", "no harness error", str(e))
        mnt_ns, marker = (s.libvirt.mnt_ns, s.libvirt.marker) if s.libvirt else (None, None)
    if not s.keep and mnt_ns:
        left = namespace_pids(mnt_ns, marker)
        t.ok(not left and not s.leftover_pids,
             "teardown ended every process of the private namespace", "none",
             left or s.leftover_pids)
        t.ok(not os.path.exists(s.workdir), "teardown removed the run directory",
             "gone", s.workdir)
        with open("/proc/self/mountinfo") as f:
            t.ok(s.workdir not in f.read(), "no mount of the run directory is left on the host")
    t.figure("whole run (wall)", "%.1f" % (time.monotonic() - t0), "s")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
