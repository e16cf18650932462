#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""e2e: virt-tuned and virt-tune against the real scenario guest, one boot for
every check: discovery and the agent's handshake, the fleet audit next to the
host's view, recommendations, apply / rollback / a policy refusal, and the
resilience cases (daemon killed with SIGKILL, libvirtd restarted, a hostile
second domain, a guest reboot). TAP; every failure says what was expected,
what came, and shows the guest console and daemon log tails. A check whose
subject the host side does not have yet (a CLI command that does not exist)
is `not ok ... # TODO`, never a pass."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import session, util  # noqa: E402
from vte2e.daemon import cli_binary  # noqa: E402
from vte2e.guest import SCENARIO  # noqa: E402
from vte2e.libvirtd import namespace_pids  # noqa: E402
from vte2e.session import GUEST_NAME, HOSTILE_NAME  # noqa: E402
from vte2e.util import HarnessError, run, wait_for  # noqa: E402

MIB = 1024 * 1024
NIC_REC = "nic.queues:eth0"
# The agent.conf a guest admin who allows nothing would have (the default policy).
REPORT_ONLY_CONF = "[agent]\\ninterval=2\\n"


class Ctx:
    def __init__(self, t, s):
        self.t = t
        self.s = s
        self.guest = s.guest
        self.d = s.daemon
        self.disks = {}  # serial -> guest device name
        self.commands = set()

    # ---- the CLI
    def has(self, command):
        return command in self.commands

    def pending_unless(self, command, name):
        if self.has(command):
            return False
        self.t.pending(name, "virt-tune has no '%s' command yet" % command)
        return True

    def row(self, data, section, **match):
        for r in (data or {}).get(section, []) if section else (data or []):
            if all(r.get(k) == v for k, v in match.items()):
                return r
        return None

    def scenario_row(self):
        data = self.d.cli("list").json() or []
        return next((r for r in data if r.get("domain") == GUEST_NAME), None)

    def wait_list(self, predicate, timeout):
        """Polls `virt-tune list` until predicate(scenario row); returns the last row."""
        last = {}

        def probe():
            last["row"] = self.scenario_row()
            return last["row"] is not None and predicate(last["row"])
        wait_for(probe, timeout, 0.5)
        return last.get("row")

    def history(self):
        res = self.d.cli("history", GUEST_NAME, "--limit", "10000")
        data = res.json() if res.rc == 0 else None
        return data if isinstance(data, list) else []

    def audit(self):
        return self.d.cli("audit", "all").json() or {}

    def nic_row(self):
        return self.row(self.audit(), "nics", domain=GUEST_NAME, iface="eth0")

    def guest_combined(self):
        _, out = self.guest.shell.run("ethtool -l eth0")
        cur = re.search(r"Combined:\s+(\d+)", out.partition("Current hardware settings")[2])
        return int(cur.group(1)) if cur else None

    def refresh_until(self, predicate, timeout):
        """Asks for fresh reports until predicate(audit) holds; returns the last audit."""
        last = {}

        def probe():
            self.d.cli("refresh", GUEST_NAME, timeout=20)
            last["a"] = self.audit()
            return predicate(last["a"])
        wait_for(probe, timeout, 0.5)
        return last.get("a", {})


def age(row):
    """report_age_s of a list row; a large number when there is none."""
    a = (row or {}).get("report_age_s")
    return a if isinstance(a, int) else 1 << 30


def find_dicts(node, key):
    """Every dict under node (lists and dicts, any depth) that has key."""
    out = []
    if isinstance(node, dict):
        if key in node:
            out.append(node)
        for v in node.values():
            out.extend(find_dicts(v, key))
    elif isinstance(node, list):
        for v in node:
            out.extend(find_dicts(v, key))
    return out


def recommendations(ctx):
    res = ctx.d.cli("recommend", GUEST_NAME)
    data = res.json() if res.rc in (0, 1) else None
    if data is None:
        raise HarnessError("recommend: " + res.describe())
    return {r.get("id"): r for r in find_dicts(data, "rule") if "id" in r}


def first_value(node, key):
    found = find_dicts(node, key)
    return found[0][key] if found else None


# ------------------------------------------------------------------ checks

def check_discovery(ctx):
    t, d = ctx.t, ctx.d
    t0 = time.monotonic()
    row = ctx.wait_list(lambda r: r.get("agent") == "connected"
                        and r.get("report_age_s") is not None, 30)
    t.ok(row is not None and row.get("agent") == "connected",
         "virt-tune list shows the guest with agent 'connected'",
         "a row for %s with agent connected" % GUEST_NAME, row or d.cli("list").describe())
    if row and row.get("agent") == "connected":
        t.figure("daemon start to agent connected", "%.2f" % (time.monotonic() - t0), "s")
    t.eq((row or {}).get("kernel"), ctx.s.kernel.release, "list: the guest's kernel, from its report")
    t.eq((row or {}).get("channel_state"), "connected",
         "list: the channel's state='connected' from the live XML")
    t.eq(((row or {}).get("vcpus"), (row or {}).get("memory_bytes")),
         (SCENARIO["vcpus"], SCENARIO["memory_mib"] * MIB), "list: vCPUs and memory from the XML")


def check_audit(ctx):
    t, guest = ctx.t, ctx.guest
    # Rates need two reports with the hog's sweep between them (the first ones
    # after a connect can be a second apart, with the same counters).
    audit = {}

    def ready():
        audit["a"] = ctx.audit()
        sw = ctx.row(audit["a"], "swap", domain=GUEST_NAME) or {}
        return (sw.get("swap_in_pages_per_s") or 0) > 0 and (sw.get("swap_used_bytes") or 0) > 0
    wait_for(ready, 30, 1)
    a = audit.get("a", {})

    # Schedulers: what the guest's sysfs says, next to the host's disk.
    for serial, dev in sorted(ctx.disks.items()):
        r = ctx.row(a, "schedulers", domain=GUEST_NAME, serial=serial)
        _, out = guest.shell.run("cat /sys/block/%s/queue/scheduler" % dev)
        m = re.search(r"\[([^\]]+)\]", out)
        want = m.group(1) if m else out.strip()
        if serial == "vt-bfq":
            t.eq(want, "bfq", "the guest really runs bfq on the vt-bfq disk")
        t.eq((r or {}).get("scheduler"), want,
             "audit schedulers: %s (%s) shows the guest's scheduler %s" % (serial, dev, want))
    r = ctx.row(a, "schedulers", domain=GUEST_NAME, serial="vt-default") or {}
    t.ok(r.get("scheduler") not in (None, "bfq"), "audit schedulers: vt-default keeps a default"
         " scheduler (not bfq)", "none or mq-deadline", r.get("scheduler"))
    t.eq((r.get("host_bus"), r.get("host_format"), r.get("matched_by")),
         ("virtio", "raw", "serial"), "audit schedulers: the host's disk next to the guest's")

    # Swap: the device on the swap disk, in use while the hog runs; balloon from domstats.
    sw = ctx.row(a, "swap", domain=GUEST_NAME) or {}
    devs = sw.get("swap_devices") or []
    swap_dev = "/dev/" + ctx.disks.get("vt-swap", "?")
    t.eq([x.get("path") for x in devs], [swap_dev], "audit swap: one swap device, on vt-swap")
    t.ok(devs and (devs[0].get("used_bytes") or 0) > 0, "audit swap: the swap device is in use",
         "used_bytes > 0", devs)
    t.ok((sw.get("swap_in_pages_per_s") or 0) > 0 and (sw.get("swap_out_pages_per_s") or 0) > 0,
         "audit swap: swap-in and swap-out rates > 0 while the hog runs", "> 0 pages/s each",
         {k: sw.get(k) for k in ("swap_in_pages_per_s", "swap_out_pages_per_s", "rates_window")})
    if sw.get("swap_in_pages_per_s"):
        t.figure("swap-in rate seen by the daemon", "%.0f" % sw["swap_in_pages_per_s"], "pages/s")
    t.eq({k: sw.get(k) for k in ("balloon_actual_bytes", "balloon_maximum_bytes",
                                 "balloon_source", "balloon_stats_period_s")},
         {"balloon_actual_bytes": SCENARIO["memory_mib"] * MIB,
          "balloon_maximum_bytes": SCENARIO["memory_mib"] * MIB,
          "balloon_source": "domstats", "balloon_stats_period_s": SCENARIO["balloon_period"]},
         "audit swap: balloon actual/maximum from domstats and the XML's stats period")

    # NICs: 1 of 4 combined channels in the guest, 4 queues in the XML.
    n = ctx.row(a, "nics", domain=GUEST_NAME, iface="eth0") or {}
    t.eq({k: n.get(k) for k in ("combined", "max_combined", "host_queues", "mac", "host_model")},
         {"combined": SCENARIO["nic_combined_after_init"], "max_combined": SCENARIO["nic_queues"],
          "host_queues": SCENARIO["nic_queues"], "mac": SCENARIO["nic_mac"],
          "host_model": "virtio"},
         "audit nics: eth0 at 1 of 4 combined channels, host queues 4")
    res = ctx.d.cli("audit", "all", fmt=None)
    t.ok(res.rc == 0 and "1/4" in res.out and "bfq" in res.out,
         "audit all prints its tables", "exit 0, 'bfq' and '1/4' in the tables", res.describe())


def check_recommend(ctx):
    t = ctx.t
    names = ["recommend: nic.queues:eth0 sets combined 2 = min(4 queues, 2 vCPUs)",
             "recommend: blk.scheduler for the bfq disk",
             "recommend: mem.swapping with swap rates and balloon numbers from domstats"]
    if ctx.pending_unless("recommend", names[0]):
        for name in names[1:]:
            t.pending(name, "virt-tune has no 'recommend' command yet")
        return
    last = {}

    def complete():
        last["recs"] = recommendations(ctx)
        return all(k in last["recs"] for k in (NIC_REC, "blk.scheduler:" + ctx.disks["vt-bfq"]))
    wait_for(complete, 20, 1)
    recs = last.get("recs", {})
    nic = recs.get(NIC_REC) or {}
    t.eq((first_value(nic.get("action"), "combined"), nic.get("command"), nic.get("target")),
         (2, "ethtool -L eth0 combined 2", "guest"), names[0])
    bfq = ctx.disks["vt-bfq"]
    blk = recs.get("blk.scheduler:" + bfq) or {}
    t.ok(blk.get("target") == "guest" and first_value(blk.get("action"), "device") == bfq
         and (blk.get("evidence") or {}).get("scheduler") == "bfq", names[1],
         "blk.scheduler:%s, action on %s, evidence scheduler bfq" % (bfq, bfq),
         blk or sorted(recs))
    others = [k for k in recs if k.startswith("blk.scheduler:") and k != "blk.scheduler:" + bfq]
    t.eq(others, [], "recommend: no blk.scheduler for the disks left at their default")
    mem = next((r for k, r in recs.items() if k.startswith("mem.swapping:")), {})
    ev = mem.get("evidence") or {}
    t.ok((ev.get("swap_in_pages_per_s") or 0) > 0 and (ev.get("swap_out_pages_per_s") or 0) > 0
         and ev.get("balloon_actual_bytes") == SCENARIO["memory_mib"] * MIB
         and ev.get("balloon_maximum_bytes") == SCENARIO["memory_mib"] * MIB
         and ev.get("balloon_source") == "domstats", names[2],
         "swap rates > 0, balloon 512 MiB of 512 MiB from domstats", mem or sorted(recs))
    res = ctx.d.cli("recommend", GUEST_NAME, fmt=None)
    t.ok(res.rc in (0, 1) and NIC_REC in res.out, "recommend prints a table naming the change",
         NIC_REC, res.describe())


def check_apply(ctx):
    t, d = ctx.t, ctx.d
    names = ["apply --dry-run changes nothing in the guest",
             "apply nic.queues:eth0: the guest now runs 2 combined channels",
             "apply: the next report shows combined 2",
             "apply: the recommendation is gone",
             "changes lists the applied change",
             "rollback: the guest is back at 1 combined channel",
             "rollback: the next report shows combined 1",
             "report-only policy: apply is refused with reason 'policy'",
             "report-only policy: nothing changed in the guest"]
    missing = [c for c in ("apply", "rollback", "changes") if not ctx.has(c)]
    if missing:
        for name in names:
            t.pending(name, "virt-tune has no '%s' command yet" % "', '".join(missing))
        return
    res = d.cli("apply", GUEST_NAME, NIC_REC, "--dry-run")
    t.ok(res.rc == 0 and ctx.guest_combined() == 1, names[0],
         "exit 0 and the guest still at 1", "%s; guest at %s" % (res.describe(),
                                                                  ctx.guest_combined()))
    t0 = time.monotonic()
    res = d.cli("apply", GUEST_NAME, NIC_REC)
    data = res.json() or {}
    t.figure("apply round trip (CLI)", "%.2f" % (time.monotonic() - t0), "s")
    change_id = first_value(data, "change_id")
    t.ok(res.rc == 0 and ctx.guest_combined() == 2, names[1],
         "exit 0, status applied, ethtool -l eth0 shows 2",
         "%s; guest at %s" % (res.describe(), ctx.guest_combined()))
    a = ctx.refresh_until(lambda a: (ctx.row(a, "nics", domain=GUEST_NAME, iface="eth0")
                                     or {}).get("combined") == 2, 20)
    t.eq((ctx.row(a, "nics", domain=GUEST_NAME, iface="eth0") or {}).get("combined"), 2, names[2])
    last = {}

    def gone():
        last["recs"] = recommendations(ctx)
        return NIC_REC not in last["recs"]
    wait_for(gone, 15, 1)
    recs = last.get("recs", {})
    t.ok(NIC_REC not in recs, names[3], "no %s" % NIC_REC, sorted(recs))
    ch = d.cli("changes", GUEST_NAME)
    rows = find_dicts(ch.json(), "change_id")
    ours = [r for r in rows if change_id is None or r.get("change_id") == change_id]
    t.ok(ch.rc == 0 and change_id is not None and ours, names[4],
         "a row with change_id %s" % change_id, ch.describe())

    res = d.cli("rollback", GUEST_NAME, str(change_id))
    t.ok(res.rc == 0 and ctx.guest_combined() == 1, names[5],
         "exit 0 and ethtool -l eth0 shows 1", "%s; guest at %s" % (res.describe(),
                                                                    ctx.guest_combined()))
    a = ctx.refresh_until(lambda a: (ctx.row(a, "nics", domain=GUEST_NAME, iface="eth0")
                                     or {}).get("combined") == 1, 20)
    t.eq((ctx.row(a, "nics", domain=GUEST_NAME, iface="eth0") or {}).get("combined"), 1, names[6])

    # The guest admin takes the permission back: agent.conf without [apply]
    # (report-only, the default), reloaded with SIGHUP.
    guest = ctx.guest
    mark = len(guest.console.text())
    guest.shell.run("cp /etc/virt-tune/agent.conf /tmp/agent.conf.e2e && "
                    "printf '%s' > /etc/virt-tune/agent.conf && killall -HUP virt-tune-agent"
                    % REPORT_ONLY_CONF)
    wait_for(lambda: "reloaded" in guest.console.text()[mark:], 10, 0.2)
    res = d.cli("apply", GUEST_NAME, NIC_REC)
    text = res.out + res.err
    reason = first_value(res.json(), "reason")
    t.ok(res.rc != 0 and (reason == "policy" or re.search(r"\bpolicy\b", text)), names[7],
         "a non-zero exit, status refused, reason policy", res.describe())
    t.eq(ctx.guest_combined(), 1, names[8])
    guest.shell.run("cp /tmp/agent.conf.e2e /etc/virt-tune/agent.conf && "
                    "killall -HUP virt-tune-agent")


def check_confirm(ctx):
    """apply --confirm-within: the agent reverts unless confirmed; the effect."""
    t, d = ctx.t, ctx.d
    names = ["apply --confirm-within 20s: the guest runs 2 combined channels",
             "not confirmed: after the deadline ethtool shows 1 again",
             "changes shows it reverted: not confirmed",
             "confirmed: after the deadline ethtool still shows 2",
             "changes --effect: numbers from both windows",
             "changes --effect: the tap's drops on the host's side, from both windows",
             "rollback of the confirmed change: back at 1"]
    if ctx.pending_unless("confirm", names[0]):
        for name in names[1:]:
            t.pending(name, "virt-tune has no 'confirm' command yet")
        return

    def rec_back():
        return NIC_REC in recommendations(ctx)
    wait_for(rec_back, 30, 1)
    res = d.cli("apply", GUEST_NAME, NIC_REC, "--confirm-within", "20s")
    change = first_value(res.json(), "change_id")
    t.ok(res.rc == 0 and ctx.guest_combined() == 2, names[0], "exit 0 and 2 channels",
         "%s; guest at %s" % (res.describe(), ctx.guest_combined()))
    t0 = time.monotonic()
    wait_for(lambda: ctx.guest_combined() == 1, 45, 1)
    t.ok(ctx.guest_combined() == 1, names[1], "1 within 45 s",
         "%s after %.0f s" % (ctx.guest_combined(), time.monotonic() - t0))
    t.figure("revert after the deadline (20 s window)", "%.1f" % (time.monotonic() - t0), "s")

    def state(cid):
        rows = find_dicts(d.cli("changes", GUEST_NAME).json(), "change_id")
        return next((r.get("state") for r in rows
                     if r.get("change_id") == cid and r.get("operation") == "apply"), None)
    wait_for(lambda: state(change) == "reverted: not confirmed", 20, 1)
    t.eq(state(change), "reverted: not confirmed", names[2])

    wait_for(rec_back, 30, 1)
    res = d.cli("apply", GUEST_NAME, NIC_REC, "--confirm-within", "20s")
    change = first_value(res.json(), "change_id")
    conf = d.cli("confirm", GUEST_NAME, str(change))
    deadline = time.monotonic() + 25
    wait_for(lambda: time.monotonic() > deadline, 30, 1)
    t.ok(res.rc == 0 and conf.rc == 0 and ctx.guest_combined() == 2, names[3],
         "exit 0 twice and 2 channels 25 s later",
         "%s; %s; guest at %s" % (res.describe(), conf.describe(), ctx.guest_combined()))
    eff = d.cli("changes", GUEST_NAME, "--effect")
    rows = [r for r in find_dicts(eff.json(), "effect") if r.get("change_id") == change]
    metrics = (rows[0]["effect"].get("metrics") if rows else None) or []
    both = [m for m in metrics if m["before"]["n"] > 0 and m["after"]["n"] > 0]
    text = d.cli("changes", GUEST_NAME, "--effect", fmt=None)
    t.ok(eff.rc == 0 and both and str(change) in text.out, names[4],
         "a metric with samples before and after, printed",
         "%s %s %s" % (eff.describe(), metrics, text.describe()))
    host = [m for m in metrics if m.get("side") == "host" and m.get("name") == "drops_per_s"]
    t.ok(len(host) == 1 and host[0]["before"]["n"] > 0 and host[0]["after"]["n"] > 0
         and "host drops_per_s" in text.out, names[5],
         "host drops_per_s with samples before and after, printed", "%s" % host)
    for line in text.out.splitlines():
        t.comment(line)
    res = d.cli("rollback", GUEST_NAME, str(change))
    t.ok(res.rc == 0 and ctx.guest_combined() == 1, names[6], "exit 0 and 1 channel",
         "%s; guest at %s" % (res.describe(), ctx.guest_combined()))


def check_daemon_crash(ctx):
    t, d = ctx.t, ctx.d
    before = ctx.history()
    row = ctx.scenario_row() or {}
    pid = d.kill9()
    t.ok(not os.path.exists("/proc/%d" % pid) or util.proc_comm(pid) != "virt-tuned",
         "kill -9: the daemon is gone", "no process %d" % pid, util.proc_comm(pid))
    t0 = time.monotonic()
    d.start()
    row2 = ctx.wait_list(lambda r: r.get("agent") == "connected", 30) or {}
    t.eq(row2.get("agent"), "connected", "after kill -9 and a restart the agent reconnects")
    t.figure("restart to agent connected", "%.2f" % (time.monotonic() - t0), "s")
    t.eq(row2.get("boot_id"), row.get("boot_id"), "same guest boot after the daemon restart")
    after = ctx.history()
    old = {h.get("time_ms") for h in before}
    kept = old & {h.get("time_ms") for h in after}
    t.ok(before and kept == old, "history is intact after kill -9 (every earlier report)",
         "%d reports from before" % len(before), "%d of them, %d now" % (len(kept), len(after)))
    wait_for(lambda: len(ctx.history()) > len(after), 10, 0.5)
    t.ok(len(ctx.history()) > len(after), "new reports go into the same history",
         "more than %d" % len(after), len(ctx.history()))


def check_libvirtd_restart(ctx):
    t, d, lv = ctx.t, ctx.d, ctx.s.libvirt
    mark = len(d.log_text())
    n_before = len(ctx.history())
    seconds = lv.restart_libvirtd()
    t.figure("libvirtd restart", "%.2f" % seconds, "s")
    lost = wait_for(lambda: re.search(r"lost the libvirt connection", d.log_text()[mark:]), 15, 0.2)
    t.ok(lost, "the daemon notices that libvirtd went away", "'lost the libvirt connection'",
         d.log_tail(10))
    back = wait_for(lambda: (d.cli("status").json() or {}).get("libvirt_connected")
                    and re.search(r"connected to qemu", d.log_text()[mark:]), 40, 0.5)
    t.ok(back, "the daemon reconnects to the new libvirtd by itself",
         "status libvirt_connected true, 'connected to' in its log", d.log_tail(10))
    # Reports sent after the restart (a stream channel dies with the old connection).
    wait_for(lambda: len(ctx.history()) >= n_before + 2, 20, 0.5)
    n_after = len(ctx.history())
    row = ctx.scenario_row() or {}
    t.ok(row.get("agent") == "connected" and age(row) <= 6 and n_after >= n_before + 2,
         "the guest's reports keep arriving across the libvirtd restart",
         "agent connected, report age <= 6 s, >= %d reports" % (n_before + 2),
         "%s, %d reports" % ({k: row.get(k) for k in ("agent", "report_age_s", "last_error")},
                             n_after))
    t.ok(d.running(), "the daemon survived the libvirtd restart", "running", d.proc.poll())


def check_hostile(ctx):
    t, d, s = ctx.t, ctx.d, ctx.s
    n_before = len(ctx.history())
    t0 = time.monotonic()
    hostile = s.boot_hostile()
    t.figure("hostile guest boot to ready", "%.2f" % s.timings["hostile_boot_to_ready"], "s")
    last = {}

    def cut():
        rows = d.cli("list").json() or []
        last["rows"] = rows
        r = next((x for x in rows if x.get("domain") == HOSTILE_NAME), None)
        return r is not None and r.get("agent") == "cut off" and r
    row = wait_for(cut, 40, 0.5)
    t.ok(row, "a domain found after the libvirtd restart, sending garbage, is cut off",
         "%s with agent 'cut off'" % HOSTILE_NAME, last.get("rows") or "no rows")
    if row:
        t.figure("hostile boot to cut off", "%.2f" % (time.monotonic() - t0), "s")
    rej = (row or {}).get("rejected") or {}
    t.ok(rej.get("garbage", 0) > 0 and rej.get("oversize", 0) > 0,
         "list counts its refusals by reason (garbage, oversize)",
         "garbage > 0 and oversize > 0", rej)
    t.comment("hostile: %s, last_error %s" % (rej, (row or {}).get("last_error")))
    # the scenario guest goes on reporting: wait for a newer report than
    # the ones stored before the hostile guest came, not for a while
    fresh = wait_for(lambda: len(ctx.history()) > n_before
                     and (ctx.scenario_row() or {}).get("agent") == "connected", 30, 0.5)
    first = ctx.scenario_row() or {}
    n_after = len(ctx.history())
    t.comment("scenario guest reported again: %s" % bool(fresh))
    t.comment("scenario reports: %d before the hostile guest, %d after" % (n_before, n_after))
    t.ok(first.get("agent") == "connected" and age(first) <= 6 and n_after > n_before,
         "the scenario guest's reports keep arriving meanwhile",
         "agent connected, age <= 6 s, more reports than %d" % n_before,
         "%s, %d reports" % ({k: first.get(k) for k in ("agent", "report_age_s")}, n_after))
    t.ok(d.running(), "the daemon is still running", "running", d.proc.poll())
    s.libvirt.virsh("destroy", HOSTILE_NAME, check=False)


def check_reboot(ctx):
    t, guest = ctx.t, ctx.guest
    old = (ctx.scenario_row() or {}).get("boot_id")
    readies = len(re.findall(r"^VT-E2E: ready", guest.console.text(), re.M))
    t0 = time.monotonic()
    try:
        guest.shell.run("reboot -f", timeout=2, check=False)
    except HarnessError:
        pass  # the channel goes away with the guest's kernel
    guest.shell.close()
    up = guest.console.wait(r"(?s)(^VT-E2E: ready.*){%d}" % (readies + 1), 120)
    t.ok(up, "the guest reboots (a second 'VT-E2E: ready')", "ready again", guest.state())
    row = ctx.wait_list(lambda r: r.get("boot_id") not in (None, old)
                        and r.get("agent") == "connected", 60) or {}
    t.ok(row.get("boot_id") not in (None, old) and row.get("agent") == "connected",
         "after the reboot: a new boot_id and the agent connected", "boot_id != %s" % old,
         {k: row.get(k) for k in ("boot_id", "agent", "last_error")})
    if row.get("boot_id") not in (None, old):
        t.figure("reboot to new boot_id reported", "%.2f" % (time.monotonic() - t0), "s")
    n = ctx.nic_row() or {}
    t.eq(n.get("combined"), 1, "after the reboot the report shows the rebooted guest's eth0")
    a = len(ctx.history())
    wait_for(lambda: len(ctx.history()) > a, 10, 0.5)
    t.ok(len(ctx.history()) > a, "reports resume after the reboot", "> %d" % a, len(ctx.history()))


def run_checks(t, s):
    guest = s.boot()
    t.console = guest.console
    t.ok(True, "guest booted to 'VT-E2E: ready' (%.1f s after virsh start)"
         % s.timings["boot_to_ready"])
    ctx = Ctx(t, s)
    _, out = guest.shell.run("for b in /sys/block/vd*; do echo ${b##*/} $(cat $b/serial); done")
    ctx.disks = {p[1]: p[0] for p in (l.split() for l in out.splitlines()) if len(p) == 2}
    if not guest.console.wait(r"^VT-E2E: hog filled", 150):
        raise HarnessError("the memory hog did not fill the guest's memory within 150 s")
    help_text = run([cli_binary(), "--help"], check=False).stdout
    ctx.commands = set(re.findall(r"^\s+([a-z]+)\s", help_text, re.M))
    t.comment("virt-tune commands: %s" % " ".join(sorted(ctx.commands)))
    channel = os.environ.get("VT_E2E_CHANNEL", "socket")
    ctx.d = s.start_daemon(channel=channel)
    t.logs.append(("virt-tuned log tail (%s)" % ctx.d.log_path, ctx.d.log_tail))
    t.comment("virt-tuned --channel %s" % channel)
    check_discovery(ctx)
    check_audit(ctx)
    check_recommend(ctx)
    check_apply(ctx)
    check_confirm(ctx)
    check_daemon_crash(ctx)
    check_libvirtd_restart(ctx)
    check_hostile(ctx)
    check_reboot(ctx)
    for name, kib in sorted(s.libvirt.memory().items()):
        t.figure("RSS %s" % name, kib // 1024, "MiB")
    t.figure("RSS virt-tuned", util.rss_kib(ctx.d.proc.pid) // 1024, "MiB")
    if not s.keep:
        rc = ctx.d.stop()
        t.eq(rc, 0, "virt-tuned stops cleanly on SIGTERM")


def main():
    return session.main(run_session)


def run_session(t, s, t0):
    with s:
        try:
            s.prepare()
            run_checks(t, s)
        except HarnessError as e:
            t.ok(False, "the harness ran every step", "no harness error", str(e))
        mnt_ns, marker = (s.libvirt.mnt_ns, s.libvirt.marker) if s.libvirt else (None, None)
        daemon_pid = s.daemon.proc.pid if s.daemon and s.daemon.proc else None
    if not s.keep and mnt_ns:
        left = namespace_pids(mnt_ns, marker)
        if daemon_pid and os.path.exists("/proc/%d" % daemon_pid):
            left.append(daemon_pid)
        t.ok(not left and not s.leftover_pids,
             "teardown ended every process (namespace and virt-tuned)", "none",
             left or s.leftover_pids)
        t.ok(not os.path.exists(s.workdir), "teardown removed the run directory",
             "gone", s.workdir)
        with open("/proc/self/mountinfo") as f:
            t.ok(s.workdir not in f.read(), "no mount of the run directory is left on the host")
    t.figure("whole run (wall)", "%.1f" % (time.monotonic() - t0), "s")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
