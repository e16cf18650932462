#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test on the live machine (TAP).

Runs `virt-tune-agent --once --format json` and compares it, field for field,
with what the standard tools print: free -b and /proc/meminfo, swapon --show,
/sys/block/*/queue/scheduler, and ethtool -i/-l/-k/-g for every NIC; and
with /proc/pressure/*, /proc/net/softnet_stat and /proc/interrupts read
before and after it. A NIC or
field is skipped only where the tool itself fails (e.g. `ethtool -l ifb0`),
and then the agent must have left that field unset.

Values that move between two reads (free memory, caches, swap used, and even
Committed_AS, which the agent's own run changes) are checked by bracketing:
the tool runs before and after the agent, and the agent's value must lie
between the two readings, widened by a slack for the processes' own
allocations. These are gauges that move both ways (Mapped can rise while the
agent reads and fall back before the second reading), so the slack is SLACK
plus RELATIVE of the larger reading: wide enough for a busy machine, narrow
enough to catch a wrong field or a wrong unit (kB read as bytes is 1024x). Fixed sizes (MemTotal, SwapTotal, HugePages_Total, ...),
swap devices, schedulers and every ethtool field must be equal.

Usage: differential.py AGENT
"""
import json
import os
import re
import subprocess
import sys

SLACK = 16 * 1024 * 1024  # bytes: page cache and slab churn of the runs themselves
RELATIVE = 0.25  # of a gauge's larger reading: what other processes may move it by

# /proc/meminfo lines that do not move while nobody reconfigures the machine
STATIC = {"MemTotal", "SwapTotal", "VmallocTotal", "HugePages_Total", "Hugepagesize",
          "CommitLimit", "Hugetlb"}

results = []


def check(ok, what, detail=""):
    results.append(("ok" if ok else "not ok", what, detail))


def skip(what, reason):
    results.append(("ok", what, "# SKIP " + reason))


def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    return p.returncode, p.stdout


def agent_report(agent):
    rc, out = run(agent, "--once", "--format", "json")
    if rc != 0:
        print("Bail out! agent failed")
        sys.exit(1)
    return json.loads(out)


def read_meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, rest = line.split(":", 1)
            words = rest.split()
            out[key] = int(words[0]) * (1024 if len(words) > 1 and words[1] == "kB" else 1)
    return out


def read_free():
    rc, out = run("free", "-b")
    assert rc == 0
    rows = {}
    lines = out.splitlines()
    head = lines[0].split()
    for line in lines[1:]:
        name, *vals = line.split()
        rows[name.rstrip(":")] = dict(zip(head, map(int, vals)))
    return rows


def bracket(value, a, b, slack=SLACK):
    slack += RELATIVE * max(abs(a), abs(b))
    return min(a, b) - slack <= value <= max(a, b) + slack


# ---------------------------------------------------------------- memory


def test_bracket():
    # Mapped at 100 MiB before and after, 130 MiB while the agent read it (a
    # busy machine): a gauge that went up and came back down is accepted ...
    mib = 1024 * 1024
    check(bracket(130 * mib, 100 * mib, 100 * mib), "bracket: a gauge that rose and fell back")
    # ... while kB taken for bytes, or another line's value, is not
    check(not bracket(100 * mib * 1024, 100 * mib, 101 * mib), "bracket: kB read as bytes")
    check(not bracket(400 * mib, 100 * mib, 101 * mib), "bracket: another line's value")


def test_memory(agent):
    mem1, free1 = read_meminfo(), read_free()
    report = agent_report(agent)
    mem2, free2 = read_meminfo(), read_free()
    got = report.get("meminfo", {})

    check(set(got) == set(mem1) | set(mem2), "meminfo: every /proc/meminfo line, no other",
          "missing %s extra %s" % (sorted(set(mem2) - set(got)), sorted(set(got) - set(mem2))))
    for key in sorted(mem2):
        if key not in got:
            continue
        if key in STATIC or key.startswith("DirectMap"):
            check(got[key] == mem1.get(key) == mem2[key], "meminfo %s equals /proc/meminfo" % key,
                  "%s != %s" % (got[key], mem2[key]))
        else:
            # moves, and the agent's own run moves it (Committed_AS, AnonPages, ...)
            check(bracket(got[key], mem1.get(key, mem2[key]), mem2[key]),
                  "meminfo %s between the readings before and after" % key,
                  "%s not in [%s, %s] +- %d + %d%%" % (got[key], mem1.get(key), mem2[key],
                                                       SLACK, RELATIVE * 100))

    # free -b: total is MemTotal, swap total SwapTotal (exact); the rest move
    m = got
    check(m["MemTotal"] == free2["Mem"]["total"], "free -b Mem total equals MemTotal")
    check(m["SwapTotal"] == free2["Swap"]["total"], "free -b Swap total equals SwapTotal")
    check(bracket(m["MemFree"], free1["Mem"]["free"], free2["Mem"]["free"]),
          "free -b Mem free brackets MemFree")
    check(bracket(m["MemAvailable"], free1["Mem"]["available"], free2["Mem"]["available"]),
          "free -b Mem available brackets MemAvailable")
    check(bracket(m["Shmem"], free1["Mem"]["shared"], free2["Mem"]["shared"]),
          "free -b Mem shared brackets Shmem")
    # procps 4: buff/cache = Buffers + Cached + SReclaimable
    bc = m["Buffers"] + m["Cached"] + m["SReclaimable"]
    check(bracket(bc, free1["Mem"]["buff/cache"], free2["Mem"]["buff/cache"]),
          "free -b buff/cache brackets Buffers+Cached+SReclaimable")
    check(bracket(m["SwapFree"], free1["Swap"]["free"], free2["Swap"]["free"]),
          "free -b Swap free brackets SwapFree")
    return report


# ---------------------------------------------------------------- swap


def test_swap(report):
    rc, out = run("swapon", "--show", "--bytes", "--noheadings", "--raw")
    if rc != 0:
        skip("swapon --show", "swapon failed")
        return
    tool = []
    for line in out.splitlines():
        name, typ, size, used, prio = line.split()
        tool.append((name, typ, int(size), int(used), int(prio)))
    devs = report.get("swap", {}).get("devices", [])
    check(len(devs) == len(tool), "swap: as many devices as swapon shows (%d)" % len(tool))
    for (name, typ, size, used, prio), d in zip(tool, devs):
        check(d.get("path") == name, "swap %s path" % name)
        check(d.get("type") == typ, "swap %s type" % name)
        check(d.get("size_bytes") == size, "swap %s size" % name)
        check(d.get("priority") == prio, "swap %s priority" % name)
        check(abs(d.get("used_bytes", -1) - used) <= SLACK, "swap %s used (moves)" % name)


# ---------------------------------------------------------------- block


def test_block(report):
    names = sorted(n for n in os.listdir("/sys/block")
                   if not n.startswith("loop") and not n.startswith("ram"))
    got = {b["name"]: b for b in report.get("block", [])}
    check(sorted(got) == names, "block: every /sys/block device but loop/ram",
          "%s vs %s" % (sorted(got), names))
    for name in names:
        path = "/sys/block/%s/queue/scheduler" % name
        try:
            with open(path) as f:
                text = f.read().split()
        except OSError:
            check("scheduler" not in got.get(name, {}),
                  "block %s: no scheduler file, none reported" % name)
            continue
        active = [w[1:-1] for w in text if w.startswith("[")]
        active = active[0] if active else (text[0] if text == ["none"] else None)
        avail = [w.strip("[]") for w in text]
        b = got.get(name, {})
        check(b.get("scheduler") == active, "block %s active scheduler = %s" % (name, active),
              "agent %s" % b.get("scheduler"))
        check(b.get("schedulers") == avail, "block %s available schedulers" % name)


# ---------------------------------------------------------------- ethtool


def parse_colon_lines(text):
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse_two_sections(text):
    """ethtool -l / -g: 'Pre-set maximums:' then 'Current hardware settings:'."""
    maxima, current, part = {}, {}, None
    for line in text.splitlines():
        if line.startswith("Pre-set maximums"):
            part = maxima
        elif line.startswith("Current hardware settings"):
            part = current
        elif part is not None and ":" in line:
            k, v = line.split(":", 1)
            part[k.strip()] = v.strip()
    return maxima, current


def num(v):
    return 0 if v == "n/a" else int(v)


# legacy names ethtool -k prints for one kernel feature each
ALIASES = {
    "rx-checksumming": "rx-checksum",
    "generic-segmentation-offload": "tx-generic-segmentation",
    "generic-receive-offload": "rx-gro",
    "large-receive-offload": "rx-lro",
    "rx-vlan-offload": "rx-vlan-hw-parse",
    "tx-vlan-offload": "tx-vlan-hw-insert",
    "ntuple-filters": "rx-ntuple-filter",
    "receive-hashing": "rx-hashing",
}
# legacy names that stand for several features (the indented lines under them)
GROUPS = {"tx-checksumming", "scatter-gather", "tcp-segmentation-offload"}


def test_nic(name, nic):
    rc, out = run("ethtool", "-i", name)
    if rc != 0:
        skip("ethtool -i %s" % name, "ethtool failed")
    else:
        i = parse_colon_lines(out)
        for key, field in (("driver", "driver"), ("version", "driver_version"),
                           ("firmware-version", "firmware_version"), ("bus-info", "bus_info")):
            check(nic.get(field, "") == i.get(key, ""),
                  "ethtool -i %s %s = '%s'" % (name, key, i.get(key)), "agent %s" % nic.get(field))

    rc, out = run("ethtool", "-l", name)
    if rc != 0:
        skip("ethtool -l %s" % name, "ethtool failed")
        check("channels" not in nic, "%s: channels left unset where ethtool -l fails" % name)
    else:
        mx, cur = parse_two_sections(out)
        ch = nic.get("channels", {})
        for label, f in (("RX", "rx"), ("TX", "tx"), ("Other", "other"), ("Combined", "combined")):
            check(ch.get("max_" + f) == num(mx[label]), "ethtool -l %s max %s" % (name, label))
            check(ch.get(f) == num(cur[label]), "ethtool -l %s current %s" % (name, label))

    rc, out = run("ethtool", "-g", name)
    if rc != 0:
        skip("ethtool -g %s" % name, "ethtool failed")
        check("rings" not in nic, "%s: rings left unset where ethtool -g fails" % name)
    else:
        mx, cur = parse_two_sections(out)
        r = nic.get("rings", {})
        for label, f in (("RX", "rx"), ("RX Mini", "rx_mini"), ("RX Jumbo", "rx_jumbo"),
                         ("TX", "tx")):
            check(r.get(f + "_max") == num(mx[label]), "ethtool -g %s max %s" % (name, label))
            check(r.get(f) == num(cur[label]), "ethtool -g %s current %s" % (name, label))
        # RX Buf Len, CQE Size, TX Push, TCP data split: netlink-only, not in the report

    rc, out = run("ethtool", "-k", name)
    if rc != 0:
        skip("ethtool -k %s" % name, "ethtool failed")
        return
    feats = {f["name"]: f for f in nic.get("features", [])}
    seen = set()
    pat = re.compile(r"^\s*([\w-]+): (on|off)( \[fixed\])?( \[requested (on|off)\])?$")
    for line in out.splitlines()[1:]:
        m = pat.match(line)
        if not m:
            check(False, "ethtool -k %s: line understood" % name, line)
            continue
        tname, state, fixed, _, requested = m.groups()
        if tname in GROUPS:
            continue  # a union of the indented features, each compared on its own line
        fname = ALIASES.get(tname, tname)
        f = feats.get(fname)
        seen.add(fname)
        if f is None:
            check(False, "ethtool -k %s %s reported by the agent" % (name, tname))
            continue
        check(f.get("active", False) == (state == "on"), "ethtool -k %s %s: %s" % (name, tname, state))
        check(f.get("fixed", False) == bool(fixed), "ethtool -k %s %s fixed" % (name, tname))
        if requested is not None:
            check(f.get("requested", False) == (requested == "on"),
                  "ethtool -k %s %s requested %s" % (name, tname, requested))
    check(set(feats) <= seen, "ethtool -k %s prints every feature the agent reports" % name,
          "not printed: %s" % sorted(set(feats) - seen))


def test_nics(report):
    names = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
    got = {n["name"]: n for n in report.get("nics", [])}
    check(sorted(got) == names, "nics: every interface but lo", "%s vs %s" % (sorted(got), names))
    for name in names:
        nic = got.get(name, {})
        test_nic(name, nic)
        with open("/sys/class/net/%s/mtu" % name) as f:
            check(nic.get("mtu") == int(f.read()), "%s mtu equals sysfs" % name)
        with open("/sys/class/net/%s/address" % name) as f:
            check(nic.get("mac") == f.read().strip(), "%s mac equals sysfs" % name)


# ------------------------------------------- PSI, softnet_stat, queue interrupts


def read_pressure():
    out = {}
    for res in ("cpu", "memory", "io"):
        try:
            with open("/proc/pressure/" + res) as f:
                for line in f:
                    kind, *pairs = line.split()
                    vals = dict(p.split("=") for p in pairs)
                    out["%s_%s" % (res, kind)] = {k: float(v) for k, v in vals.items()}
        except OSError:
            pass
    return out


def read_softnet():
    sums = [0, 0, 0]
    with open("/proc/net/softnet_stat") as f:
        for line in f:
            for i, word in enumerate(line.split()[:3]):
                sums[i] += int(word, 16)
    return dict(zip(("processed", "dropped", "time_squeeze"), sums))


def read_queue_irqs():
    """{virtioN: {queue: count}} from /proc/interrupts."""
    out = {}
    with open("/proc/interrupts") as f:
        cpus = len(f.readline().split())
        for line in f:
            words = line.split()
            m = re.match(r"^(virtio\d+)-((?:input|output)\.\d+)$", words[-1]) if words else None
            if m:
                total = sum(int(w) for w in words[1:1 + cpus] if w.isdigit())
                out.setdefault(m.group(1), {})[m.group(2)] = total
    return out


def between(value, a, b):
    return value is not None and min(a, b) <= value <= max(a, b)


def test_counters(agent):
    psi1, soft1, irq1 = read_pressure(), read_softnet(), read_queue_irqs()
    report = agent_report(agent)
    psi2, soft2, irq2 = read_pressure(), read_softnet(), read_queue_irqs()
    got = report.get("pressure", {})
    section = {s["name"]: s for s in report.get("sections", [])}.get("pressure", {})

    if not psi2:
        check("pressure" not in report and section.get("ok") is False,
              "pressure: unset without /proc/pressure, and the section says so")
    check(set(got) == set(psi2), "pressure: every line of /proc/pressure/*",
          "%s vs %s" % (sorted(got), sorted(psi2)))
    for key in sorted(psi2):
        line = got.get(key, {})
        check(between(line.get("total_us"), psi1[key]["total"], psi2[key]["total"]),
              "pressure %s total between the readings" % key,
              "%s not in [%s, %s]" % (line.get("total_us"), psi1[key]["total"], psi2[key]["total"]))
        for avg in ("avg10", "avg60", "avg300"):
            # the averages move every 2 s, both ways: one point of slack
            a, b = psi1[key][avg], psi2[key][avg]
            check(line.get(avg) is not None and min(a, b) - 1 <= line[avg] <= max(a, b) + 1,
                  "pressure %s %s near the readings" % (key, avg), "%s vs %s, %s" % (line.get(avg), a, b))
    for key in ("processed", "dropped", "time_squeeze"):
        check(between(report.get("softnet", {}).get(key), soft1[key], soft2[key]),
              "softnet %s between the readings of /proc/net/softnet_stat" % key)
    for nic in report.get("nics", []):
        try:
            dev = os.path.basename(os.readlink("/sys/class/net/%s/device" % nic["name"]))
        except OSError:
            dev = ""
        queues = {q["queue"]: q["count"] for q in nic.get("queue_interrupts", [])}
        want = irq2.get(dev, {})
        check(set(queues) == set(want), "%s queue interrupts: every %s-input/output vector"
              % (nic["name"], dev or "virtio"), "%s vs %s" % (sorted(queues), sorted(want)))
        for q in sorted(want):
            check(between(queues.get(q), irq1.get(dev, {}).get(q, 0), want[q]),
                  "%s %s interrupts between the readings" % (nic["name"], q))


def main():
    agent = sys.argv[1]
    for tool in ("free", "swapon", "ethtool"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            print("1..0 # SKIP %s not installed (tools/install-deps test)" % tool)
            return 0
    test_bracket()
    report = test_memory(agent)
    test_swap(report)
    test_block(report)
    test_nics(report)
    test_counters(agent)
    failed = 0
    for i, (status, what, detail) in enumerate(results, 1):
        if detail.startswith("# SKIP"):
            print("%s %d - %s %s" % (status, i, what, detail))
        else:
            print("%s %d - %s" % (status, i, what))
            if status != "ok":
                failed += 1
                print("# %s" % detail)
    print("1..%d" % len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
