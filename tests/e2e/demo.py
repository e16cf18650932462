#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The README's demo (run through tools/demo, which builds first): boot the
end-to-end scenario guest under a private libvirtd, start virt-tuned next to
it, show `virt-tune audit nics|io|net|memory|host` (each side next to the
other, and the host itself) and `virt-tune recommend`, apply
nic.queues:eth0 with a confirmation window and show the report change,
confirm it and show its measured effect, then tear everything down, also on
Ctrl-C. Progress goes to stderr, the commands' output to stdout.

  --keep   leave the guest, libvirtd and virt-tuned up at the end (prints how
           to reach them and how to tear them down)"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import util  # noqa: E402
from vte2e.session import GUEST_NAME, Interrupted, Session  # noqa: E402
from vte2e.util import HarnessError, wait_for  # noqa: E402

REC = "nic.queues:eth0"
# tools/demo says how long installing and building took, so the clock goes on.
T0 = time.monotonic() - float(os.environ.get("VT_DEMO_ELAPSED") or 0)


def step(msg):
    sys.stderr.write("\n==> [%5.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def show(d, *args):
    """Runs a virt-tune command as an operator would and prints it with its output."""
    res = d.cli(*args, fmt=None)
    sys.stdout.write("\n$ virt-tune %s\n%s" % (" ".join(args), res.out))
    if res.err:
        sys.stdout.write(res.err + "\n")
    sys.stdout.flush()
    return res


def nic(d):
    rows = (d.cli("audit", "nics").json() or [])
    return next((r for r in rows if r.get("domain") == GUEST_NAME and r.get("iface") == "eth0"),
                {})


def swapping(d):
    rows = (d.cli("audit", "swap").json() or [])
    r = next((r for r in rows if r.get("domain") == GUEST_NAME), {})
    return (r.get("swap_in_pages_per_s") or 0) > 0


def demo(s):
    step("preparing the guest image (Debian cloud kernel, busybox initramfs with "
         "virt-tune-agent) and a private libvirtd")
    s.prepare()
    step("booting the guest under %s: 2 vCPUs, 512 MiB, a NIC with 4 queues that init lowers "
         "to 1, a disk on bfq, swap and a memory hog (TCG takes a few seconds)"
         % ("KVM" if os.environ.get("VT_E2E_DOMAIN_TYPE") == "kvm" else "QEMU TCG"))
    s.boot()
    step("the guest is up; starting virt-tuned (history, socket and config in %s)"
         % os.path.join(s.workdir, "virt-tune"))
    d = s.start_daemon()
    if not wait_for(lambda: any(r.get("agent") == "connected" and r.get("hostname")
                                for r in d.cli("list").json() or []), 30, 0.5):
        raise HarnessError("the agent did not connect within 30 s:\n" + d.log_tail())
    t_connected = time.monotonic()
    step("the agent answered and sent its first report")
    show(d, "list")
    step("waiting until the guest swaps and the daemon has two reports to derive rates from")
    s.guest.console.wait(r"^VT-E2E: hog filled", 150)
    wait_for(lambda: swapping(d) and REC in d.cli("recommend", GUEST_NAME, fmt=None).out,
             60, 1)
    step("what the guest runs, next to what the host gave it")
    show(d, "audit", "nics")
    wait_for(lambda: any(r.get("domain") == GUEST_NAME and r.get("host_iops") is not None
                         for r in d.cli("audit", "io").json() or []), 30, 1)
    step("each disk from both sides: guest IOPS and latency, the host's, the part the "
         "guest adds, and how the host serves it")
    show(d, "audit", "io")
    step("each NIC from both sides: channels, drops in the guest and on the tap, MTU")
    show(d, "audit", "net")
    step("memory: available, swap rates, OOM kills, pressure (PSI) and the balloon")
    show(d, "audit", "memory")
    step("the host itself: CPUs and memory handed out, its sysctls against tuned's "
         "virtual-host profile, the scheduler under each image")
    show(d, "audit", "host")
    step("what virt-tuned recommends, and why")
    show(d, "recommend", GUEST_NAME)
    # the effect compares reports from before the change with those after it
    step("letting 30 s of reports accumulate before the change, so that its effect can be "
         "measured against them")
    t_before = t_connected + 30
    wait_for(lambda: time.monotonic() > t_before, 35, 1)
    before = nic(d).get("combined")
    step("applying %s: the guest's agent makes the change (its policy allows 'channels') and "
         "reverts it by itself in 3 minutes unless it is confirmed" % REC)
    res = show(d, "apply", GUEST_NAME, REC, "--confirm-within", "3m")
    if res.rc != 0:
        raise HarnessError("apply failed (exit %d)" % res.rc)
    wait_for(lambda: d.cli("refresh", GUEST_NAME).rc == 0 and nic(d).get("combined") != before,
             20, 0.5)
    after = nic(d).get("combined")
    step("the next report: eth0 combined channels %s -> %s" % (before, after))
    show(d, "audit", "nics")
    show(d, "changes", GUEST_NAME)
    if after == before:
        raise HarnessError("the report still shows combined %s after apply" % before)
    confirm_and_measure(d)
    return 0


def confirm_and_measure(d):
    """Confirm the change, then show its measured effect once the after window has samples."""
    rows = [r for r in d.cli("changes", GUEST_NAME).json() or []
            if r.get("operation") == "apply" and r.get("status") == "applied"]
    if not rows:
        raise HarnessError("changes has no applied change")
    step("the change looks right: confirming it, so that the agent keeps it")
    show(d, "confirm", GUEST_NAME, rows[-1]["change_id"])
    step("its measured effect: the guest's reports and the host's counters (the tap's "
         "drops) of 10 minutes before it against those since (after 30 s of them)")
    t_end = time.monotonic() + 30
    wait_for(lambda: time.monotonic() > t_end, 35, 1)
    show(d, "changes", GUEST_NAME, "--effect")


def main():
    keep = "--keep" in sys.argv[1:]
    missing = util.missing_requirements()
    if missing:
        sys.stderr.write("demo: cannot run a guest here: %s\n" % "; ".join(missing))
        return 1
    s = Session(keep=keep)
    try:
        with s:
            try:
                rc = demo(s)
            except HarnessError as e:
                sys.stderr.write("\ndemo: %s\n" % e)
                if s.guest:
                    sys.stderr.write("--- guest console tail\n%s\n" % s.guest.console.tail(15))
                s.keep = False
                rc = 1
            if not s.keep:
                step("tearing down: virt-tuned, the guest, libvirtd and the run directory")
    except Interrupted as e:
        sys.stderr.write("\ndemo: interrupted (%s); everything it started is gone\n" % e)
        return 130
    if not s.keep:
        step("done: nothing left running, %s removed" % s.workdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
