#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The virt-tune command against a real virt-tuned: exit codes, CSV, table
width and colour."""

import csv
import io
import json
import os
import pty
import subprocess
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

TABLE_WIDTH = 100


def display_width(line):
    w = 0
    for ch in line:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def test_unreachable():
    with Env() as env:
        nowhere = env.path("nobody-listens.sock")
        for args in (["status"], ["list"], ["show", "g0"], ["audit", "all"],
                     ["history", "g0"], ["refresh", "g0"], ["watch", "--count", "1"]):
            r = env.cli(*args, "--socket", nowhere)
            assert r.rc == 3, r
            assert nowhere in r.err and "virt-tuned --socket" in r.err, r
            assert r.out == "", r
        # VIRT_TUNE_SOCKET when no --socket is given.
        r = env.cli("list", socket=False, env={"VIRT_TUNE_SOCKET": nowhere})
        assert r.rc == 3 and nowhere in r.err, r
        # A socket file nobody listens on (a daemon killed hard).
        import socket as so
        s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        s.bind(env.path("stale.sock"))
        s.close()
        r = env.cli("list", "--socket", env.path("stale.sock"))
        assert r.rc == 3 and env.path("stale.sock") in r.err, r


def test_usage():
    with Env() as env:
        nowhere = env.path("nobody-listens.sock")
        cases = [
            [],
            ["frobnicate"],
            ["list", "--format", "yaml"],
            ["list", "--bogus-flag"],
            ["list", "extra"],
            ["show"],
            ["show", "a", "b"],
            ["audit"],
            ["audit", "disks"],
            ["history", "g0", "--since", "yesterday-ish"],
            ["history", "g0", "--limit", "0"],
            ["watch", "--interval", "0"],
        ]
        for args in cases:
            # Usage is checked before the daemon is reached: 2, not 3.
            r = env.cli(*args, socket=False, env={"VIRT_TUNE_SOCKET": nowhere})
            assert r.rc == 2, r
            assert r.err != "", r


def fleet(env, n, hostname=None, nochan=True):
    env.start_sim("a", n, interval_ms=60000, hostname=hostname)
    doms = [("g%d" % i, i, env.sock("a", i)) for i in range(n)]
    if nochan:
        doms.append(("nochan", 99, None))
    env.start_daemon(env.node(doms))
    wait_until("the guests' reports",
               lambda: all(g["hostname"] is not None
                           for g in env.guests().values() if g["domain"] != "nochan"))


def test_unknown_domain():
    with Env() as env:
        fleet(env, 1)
        for args in (["show", "nosuch"], ["refresh", "nosuch"], ["history", "nosuch"],
                     ["audit", "all", "--domain", "nosuch"]):
            r = env.cli(*args)
            assert r.rc == 2, r
            assert "nosuch" in r.err, r
        assert env.cli("show", "g0").rc == 0
        assert env.cli("show", vthost.uuid_of(0)).rc == 0  # a UUID names it too


def test_csv():
    with Env() as env:
        n = 3
        fleet(env, n)
        r = env.cli("list", "--format", "csv")
        assert r.rc == 0, r
        rows = list(csv.reader(io.StringIO(r.out)))
        header, body = rows[0], rows[1:]
        assert "domain" in [h.lower() for h in header], header
        assert len(body) == n + 1, rows  # one per guest, the one without channel too
        col = [h.lower() for h in header].index("domain")
        assert sorted(row[col] for row in body) == ["g0", "g1", "g2", "nochan"], body
        assert all(len(row) == len(header) for row in body), rows
        r = env.cli("audit", "nics", "--format", "csv")
        rows = list(csv.reader(io.StringIO(r.out)))
        assert r.rc == 0 and len(rows) == 1 + n, r  # one NIC per guest
        assert len(env.cli("audit", "swap", "--format", "csv").out.splitlines()) == 1 + n + 1


# What a guest may put in its hostname (valid UTF-8, within the string bound):
# double-width characters, and terminal escapes (set the title, clear the
# screen, a C1 CSI) that must never reach the operator's terminal raw.
WIDE_NAME = "\u6570\u636e\u5e93" * 20
ESCAPE_NAME = "\x1b]0;owned\x07\x1b[2J\u009b31mevil\r\x08"


def table_outputs(env):
    outs = {}
    for args in (["status"], ["list"], ["audit", "swap"], ["audit", "schedulers"],
                 ["audit", "nics"], ["audit", "all"], ["history", "g0"], ["show", "g0"],
                 ["watch", "--count", "1"]):
        r = env.cli(*args)
        assert r.rc == 0, r
        outs[" ".join(args)] = r.out
    return outs


def test_tables_fit():
    with Env() as env:
        fleet(env, 3, hostname=WIDE_NAME, nochan=False)
        assert env.guests()["g0"]["hostname"] == WIDE_NAME
        for cmd, out in table_outputs(env).items():
            if cmd == "show g0":
                continue  # a key: value listing, not a table
            for line in out.splitlines():
                assert display_width(line) <= TABLE_WIDTH, \
                    "%s: %d columns: %r" % (cmd, display_width(line), line)


def test_no_escapes_off_tty():
    with Env() as env:
        fleet(env, 2, hostname=ESCAPE_NAME, nochan=False)
        assert env.guests()["g0"]["hostname"] == ESCAPE_NAME
        for cmd, out in table_outputs(env).items():
            bad = [c for c in out if c != "\n" and unicodedata.category(c) == "Cc"]
            assert not bad, "%s: %r" % (cmd, out[:600])
        # CSV as well: only the records' own "\r\n" line ends are left.
        r = env.cli("list", "--format", "csv")
        assert r.rc == 0 and ESCAPE_NAME[:2] not in r.out, r
        bad = [c for c in r.out.replace("\r\n", "\n")
               if c != "\n" and unicodedata.category(c) == "Cc"]
        assert not bad, "list --format csv: %r" % r.out[:600]
        # On a terminal there is colour: the check above can tell.
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(vthost.CLI, [vthost.CLI, "list", "--socket", env.socket])
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        assert os.WEXITSTATUS(status) == 0, data
        assert b"\x1b[" in data, data[:200]
        # ... and NO_COLOR turns it off there too.
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["NO_COLOR"] = "1"
            os.execv(vthost.CLI, [vthost.CLI, "list", "--socket", env.socket])
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.waitpid(pid, 0)
        os.close(fd)
        assert b"\x1b[1m" not in data, data[:200]


def test_options_before_command():
    with Env() as env:
        fleet(env, 1)
        # as with `virsh -c URI list`: the shared options before the command
        r = env.cli("--socket", env.socket, "list")
        assert r.rc == 0 and "g0" in r.out, r
        r = env.cli("--format", "json", "--socket", env.socket, "audit", "all")
        assert r.rc == 0, r
        json.loads(r.out)
        r = env.cli("-f", "csv", "--socket=" + env.socket, "list")
        assert r.rc == 0 and "domain" in r.out.splitlines()[0].lower(), r
        # after the command, as before
        assert env.cli("list", "--format", "json").rc == 0
        nowhere = env.path("nobody-listens.sock")
        for args in (["--socket"], ["--socket", nowhere], ["--format", "yaml", "list"],
                     ["--format"], ["--bogus", "list"]):
            r = env.cli(*args, socket=False, env={"VIRT_TUNE_SOCKET": nowhere})
            assert r.rc == 2 and r.err != "", r
        r = env.cli("--socket", nowhere, "list", socket=False)
        assert r.rc == 3 and nowhere in r.err, r
        r = env.cli("--format", "json", "--help", socket=False)
        assert r.rc == 0 and "--socket" in r.out and "before or after" in r.out, r


def test_old_agent_cannot_confirm():
    """An agent whose Hello lacks "confirm" (the simulator's) is never sent a
    window: the CLI says it cannot, and nothing reaches the guest."""
    with Env() as env:
        fleet(env, 1)
        recs = env.json("recommend", "g0")["recommendations"]
        guest_recs = [r["id"] for r in recs if r.get("target") == "guest" and r.get("action")]
        assert guest_recs, recs
        r = env.cli("apply", "g0", guest_recs[0], "--confirm-within", "20s")
        assert r.rc != 0 and "cannot revert changes by itself" in r.err, r
        r = env.cli("confirm", "g0", "0000-1")
        assert r.rc != 0 and "cannot confirm changes" in r.err, r
        r = env.cli("apply", "g0", guest_recs[0], "--confirm-within", "20x")
        assert r.rc == 2 and "--confirm-within" in r.err, r
        r = env.cli("apply", "g0", guest_recs[0], "--confirm-if-better")
        assert r.rc == 2 and "--confirm-within" in r.err, r
        rows = env.json("changes", "g0")
        assert not [x for x in rows if x.get("operation") in ("apply", "confirm")], rows


vthost.main([
    ("no daemon: exit 3 naming the socket and how to start it", test_unreachable),
    ("usage errors exit 2 before reaching the daemon", test_usage),
    ("unknown domains exit 2", test_unknown_domain),
    ("--format csv: a header and one row per guest", test_csv),
    ("tables fit 100 columns, with wide guest-supplied text", test_tables_fit),
    ("no escape sequences when stdout is not a terminal, colour when it is",
     test_no_escapes_off_tty),
    ("--socket and --format before the command", test_options_before_command),
    ("an agent without the confirm capability: the CLI says it cannot",
     test_old_agent_cannot_confirm),
])
