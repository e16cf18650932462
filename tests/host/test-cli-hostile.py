#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a hostile guest writes, through every command and format of
virt-tune and into virt-tuned's log: no raw control byte, invalid UTF-8 or
bidi/format character reaches a terminal or a log line, JSON stays JSON with
the strings intact, and no copy-paste command carries an unquoted $(.

Each simulated guest names its NIC and its first disk, and its hostname,
with one hostile string; its agent answers apply and rollback with that
string in reason, before, after and a careless command."""

import csv
import io
import json
import os
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

HOSTILE = [
    "\x1b[2J",               # clear the screen
    "\x1b]0;title\x07",      # set the window title
    "$(touch /tmp/x)",       # a command substitution (not a kernel name: '/', ' ')
    "a\nb",                  # a forged line
    "x\u202ey",              # right-to-left override
    "$(id)",                 # a command substitution the kernel would take as a name
]
# Invalid UTF-8 cannot come from a guest (the daemon refuses the report): it
# comes from the operator's own arguments.
RAW_ARG = os.fsdecode(b"\xff\x1b")
FORMATS = ("table", "csv", "json")
COMMAND_WORDS = ("ethtool ", "echo ", "virsh ")


def hostile_report(name):
    with open(vthost.TEMPLATE) as f:
        rep = json.load(f)
    rep["nics"][0]["name"] = name
    rep["block"][0]["name"] = name
    rep["block"][0]["scheduler"] = "bfq"  # blk.scheduler: a command with the name
    return rep


def unquoted_dollar(line):
    """Whether $( appears outside single quotes in @line."""
    quoted = False
    for i, c in enumerate(line):
        if c == "'":
            quoted = not quoted
        elif not quoted and line.startswith("$(", i):
            return True
    return False


def check_text(what, data, csv_format=False):
    """@data: bytes a command printed, not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s: invalid UTF-8 (%s): %r" % (what, e, data[:400]))
    if csv_format:
        # RFC 4180: records end in \r\n; a line break stays inside a quoted field
        for row in csv.reader(io.StringIO(text, newline="")):
            for field in row:
                check_chars(what, field.replace("\n", ""))
                check_command(what, field)
        check_chars(what, text.replace("\r\n", "").replace("\n", ""))
        return
    check_chars(what, text.replace("\n", ""))
    for line in text.splitlines():
        check_command(what, line)


def check_chars(what, text):
    for c in text:
        cat = unicodedata.category(c)
        if cat in ("Cc", "Cf", "Zl", "Zp"):
            raise AssertionError("%s: raw U+%04X in %r" % (what, ord(c), text[:400]))


def check_command(what, line):
    if any(w in line for w in COMMAND_WORDS) and unquoted_dollar(line):
        raise AssertionError("%s: unquoted $( in a command: %r" % (what, line))


def check_json(what, data):
    for b in data:
        if b < 0x20 and b != 0x0a:
            raise AssertionError("%s: raw byte 0x%02x in JSON: %r" % (what, b, data[:400]))
    doc = json.loads(data.decode("utf-8"))

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("command"), str):
                check_command(what, node["command"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return doc


def run(env, args, fmt, expect=(0,)):
    """virt-tune @args in @fmt; both streams checked; (rc, stdout bytes)."""
    import subprocess
    argv = [vthost.CLI] + list(args)
    if args[0] != "analyze":
        argv += ["--socket", env.socket]
    if fmt is not None:
        argv += ["--format", fmt]
    cp = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    what = " ".join(repr(a) for a in args) + " --format %s" % fmt
    assert cp.returncode in expect, "%s: exit %d: %r %r" % (what, cp.returncode, cp.stdout,
                                                           cp.stderr)
    check_text(what + " (stderr)", cp.stderr)
    if fmt == "json" and cp.returncode == 0:
        check_json(what, cp.stdout)
    else:
        check_text(what, cp.stdout, csv_format=fmt == "csv")
    return cp.returncode, cp.stdout


def start(env):
    doms = []
    for i, name in enumerate(HOSTILE):
        path = env.path("report-%d.json" % i)
        with open(path, "w") as f:
            json.dump(hostile_report(name), f)
        env.start_sim("h%d" % i, 1, interval_ms=60000, report=path, hostname=name)
        doms.append(("h%d" % i, i, env.sock("h%d" % i, 0)))
    env.start_daemon(env.node(doms))
    wait_until("every hostile guest's report",
               lambda: all(g["hostname"] is not None for g in env.guests().values()))
    return {"h%d" % i: name for i, name in enumerate(HOSTILE)}


def nic_rec(env, dom):
    recs = env.json("recommend", dom)["recommendations"]
    ids = [r["id"] for r in recs if r["rule"] == "nic.queues"]
    assert ids, recs
    return ids[0]


def test_every_command_and_format():
    with Env() as env:
        names = start(env)
        for dom, name in names.items():
            # JSON keeps the guest's string as it is, escaped per JSON
            shown = env.json("show", dom)
            assert shown["report"]["nics"][0]["name"] == name, shown["report"]["nics"][0]
            rec = nic_rec(env, dom)
            for fmt in FORMATS:
                for args in (["status"], ["list"], ["show", dom], ["audit", "all"],
                             ["audit", "nics"], ["audit", "schedulers"], ["audit", "swap"],
                             ["recommend"], ["recommend", dom], ["history", dom, "--limit", "3"],
                             ["apply", dom, rec, "--dry-run"], ["apply", dom, rec],
                             ["rollback", dom, "sim-change-1"], ["changes", dom]):
                    run(env, args, fmt)
        # analyze: the same guests from saved files, offline
        for i, name in enumerate(HOSTILE):
            xml = env.path("domain-%d.xml" % i)
            with open(xml, "w") as f:
                f.write(vthost.domain_xml("h%d" % i, i))
            for fmt in ("table", "json"):
                for extra in ([], ["--domain-xml", xml]):
                    run(env, ["analyze", "--report", env.path("report-%d.json" % i)] + extra,
                        fmt)
        for fmt in ("table", "json"):
            run(env, ["analyze", "--report", env.path(RAW_ARG)], fmt, expect=(2,))
        # what the operator's own arguments carry
        for fmt in FORMATS:
            for args in (["show", RAW_ARG], ["history", RAW_ARG], ["changes", RAW_ARG],
                         ["apply", "h0", RAW_ARG], ["rollback", "h0", RAW_ARG],
                         ["recommend", RAW_ARG], [RAW_ARG], ["list", RAW_ARG]):
                run(env, args, fmt, expect=(0, 1, 2))


def test_commands_quoted_or_refused():
    with Env() as env:
        start(env)
        out = {r["domain"]: r for r in env.json("recommend")["recommendations"]
               if r["rule"] == "nic.queues"}
        # a kernel name is quoted; a name the kernel refuses is not shown
        assert out["h5"]["command"] == "ethtool -L '$(id)' combined 4", out["h5"]
        for dom in ("h0", "h1", "h2", "h3"):
            assert out[dom]["command"].startswith("(not shown: the interface name "), out[dom]
        assert "'a\\nb'" in out["h3"]["command"], out["h3"]
        # the agent's own command, with a name in it unquoted, is not passed on
        r = env.json("apply", "h5", out["h5"]["id"])
        assert r["status"] == "applied", r
        assert r["command"].startswith("(not shown: "), r
        assert r["before"] == "$(id): 1", r  # the guest's text, kept in JSON
        _, table = run(env, ["apply", "h3", out["h3"]["id"]], "table")
        # the forged second line of "a\nb" stays on its line, escaped
        assert b"sim: a\\nb" in table and b"\nb" not in table, table


def test_daemon_log():
    with Env() as env:
        names = start(env)
        for dom in names:
            run(env, ["apply", dom, nic_rec(env, dom)], "json")
        # the log line of an apply carries the guest's reason: wait for it
        log = env.daemon.log

        def logged():
            with open(log, "rb") as f:
                data = f.read()
            return data if b"sim: a\\nb" in data else None
        data = wait_until("the apply of h3 in the daemon log", logged)
        check_text("virt-tuned's log", data)
        for line in data.decode().splitlines():
            # "a\nb" forges no line beginning with the guest's "b"
            assert not re.match(r"^b\b", line), line
        assert b"\\x1b[2J" in data and b"\\u202e" in data, data[-2000:]


vthost.main([
    ("hostile strings through every command and format", test_every_command_and_format),
    ("copy-paste commands quote names or refuse invalid ones", test_commands_quoted_or_refused),
    ("the daemon log escapes what guests wrote", test_daemon_log),
])
