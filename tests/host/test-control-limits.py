#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The control socket's limits against a local user who wants to exhaust the
daemon: a client that pipelines requests and never reads does not grow the
daemon's memory; idle connections cannot lock the CLI out (it says "busy",
exit 5), nor another user; idle clients are closed; a read-only user who
loops `refresh` on 8 connections neither cuts the guest off nor makes it
blamed in its reject counters."""

import grp
import json
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, Skip, wait_until  # noqa: E402

NOBODY = 65534
EXIT_BUSY = 5
# VT_CONTROL_MAX_CLIENTS_PER_UID in host/control.h
PER_UID = 16
# How much the daemon's VmRSS may grow while a client pipelines requests it
# never reads: the soft cap on queued replies (1 MiB), one reply past it,
# the pipelined input and what the allocator keeps. Unbounded, it grows by
# the size of every reply (tens of MB a second here).
RSS_GROWTH_BOUND_KB = 48 * 1024


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def nogroup():
    if os.geteuid() != 0:
        raise Skip("needs root: a second user connects as nobody")
    try:
        return grp.getgrnam("nogroup").gr_gid
    except KeyError:
        raise Skip("no group 'nogroup' on this system")


def as_nobody(gid):
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(NOBODY)
    return drop


def test_pipelined_history_keeps_rss_bounded():
    with Env() as env:
        env.start_sim("g", 1, interval_ms=50)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]))
        wait_until("200 stored reports", lambda: len(env.history("web1")) >= 200)
        pid = env.daemon.pid
        before = rss_kb(pid)
        # Padding makes each request 4 KiB, so that the kernel's socket
        # buffers hold few of them: what the daemon took is what it read.
        line = ('{"command": "history",%s"args": {"domain": "web1", "limit": 10000}}\n'
                % (" " * 4000)).encode()
        s = connect(env.socket)
        s.setblocking(False)
        sent = 0
        stalled = False
        peak = before
        while sent < 20000 * len(line):
            _, w, _ = select.select([], [s], [], 5.0)
            if not w:
                stalled = True  # the daemon stopped reading us
                break
            try:
                sent += s.send(line[sent % len(line):])
            except BlockingIOError:
                continue
            peak = max(peak, rss_kb(pid))
            if peak - before > RSS_GROWTH_BOUND_KB:
                break
        growth = rss_kb(pid) - before
        vthost.diag("VmRSS %d kB before, %d kB peak, %+d kB after %d requests sent"
                    % (before, peak, growth, sent // len(line)))
        assert peak - before <= RSS_GROWTH_BOUND_KB, (before, peak)
        assert stalled, "the daemon kept reading a client that does not read"
        # Others are still served meanwhile.
        r = env.cli("status")
        assert r.rc == 0, r
        # Once the client reads, every request it sent is answered.
        s.setblocking(True)
        s.settimeout(60)
        complete = sent // len(line)
        if sent % len(line):
            s.sendall(line[sent % len(line):])
            complete += 1
        buf = b""
        replies = 0
        while replies < complete:
            chunk = s.recv(1 << 20)
            assert chunk, "closed after %d of %d replies" % (replies, complete)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for one in lines:
                assert json.loads(one)["ok"] is True, one[:200]
            replies += len(lines)
        assert replies == complete, (replies, complete)
        s.close()


def test_idle_connections_busy_not_broken_pipe():
    gid = nogroup()
    with Env() as env:
        env.start_sim("g", 1)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]),
                         extra=["--group", "nogroup"])
        held = [connect(env.socket) for _ in range(64)]
        try:
            # Past this user's slots the daemon answers busy and closes.
            r = env.cli("status")
            assert r.rc == EXIT_BUSY, r
            assert "daemon busy" in r.err and "busy: %d clients" % PER_UID in r.err, r
            assert "Broken pipe" not in r.err and "unreachable" not in r.err, r
            # Another user still gets in.
            r = env.cli("list", preexec_fn=as_nobody(gid))
            assert r.rc == 0, r
        finally:
            for s in held:
                s.close()
        wait_until("the CLI to be served again", lambda: env.cli("status").rc == 0)


def test_idle_clients_are_closed():
    with Env() as env:
        env.start_sim("g", 1)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]),
                         extra=["--control-idle-timeout", "2"])
        held = [connect(env.socket) for _ in range(PER_UID)]
        r = env.cli("status")
        assert r.rc == EXIT_BUSY, r
        for s in held:
            s.settimeout(vthost.DEADLINE_S)
            assert s.recv(100) == b"", "an idle client was answered instead of closed"
            s.close()
        wait_until("the slots to be free", lambda: env.cli("status").rc == 0)


def refresh_loop(path, stop, counts, errors, gid):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            as_nobody(gid)()
            s = connect(path)
            s.settimeout(30)
            f = s.makefile("rb")
            req = b'{"command": "refresh", "args": {"domain": "web1"}}\n'
            n = 0
            while not os.path.exists(stop):
                s.sendall(req)
                reply = json.loads(f.readline())
                if not reply.get("ok"):
                    code = 3
                    break
                n += 1
            code = code or (0 if n > 0 else 4)
        except Exception:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    (counts if os.waitstatus_to_exitcode(status) == 0 else errors).append(status)


def test_refresh_loop_does_not_cut_off_the_guest():
    gid = nogroup()
    with Env() as env:
        env.start_sim("g", 1, interval_ms=1000)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]),
                         extra=["--group", "nogroup"])
        wait_until("the guest's first report", lambda: env.uptime("web1"))
        stop = env.path("stop")
        ok, failed = [], []
        threads = [threading.Thread(target=refresh_loop,
                                    args=(env.socket, stop, ok, failed, gid))
                   for _ in range(8)]
        for t in threads:
            t.start()
        # Long enough that the refresh answers alone are far over the
        # guest's 20 frames/s: 400 more reports than its own 1 a second.
        u0 = env.uptime("web1")

        def done_or_cut_off():
            g = env.guests()["web1"]
            return g["agent"] != "connected" or env.uptime("web1") >= u0 + 400
        try:
            wait_until("400 refreshed reports", done_or_cut_off, timeout=120)
        finally:
            open(stop, "w").close()
            for t in threads:
                t.join(60)
        assert failed == [] and len(ok) == 8, (ok, failed)
        g = env.guests()["web1"]
        assert g["agent"] == "connected", g
        assert g["rejected"] == {}, g
        assert env.daemon.alive()


vthost.main([
    ("a client pipelining history without reading keeps the daemon's RSS bounded",
     test_pipelined_history_keeps_rss_bounded),
    ("64 idle connections: the CLI says busy (exit 5), another user gets in",
     test_idle_connections_busy_not_broken_pipe),
    ("idle control clients are closed after control-idle-timeout",
     test_idle_clients_are_closed),
    ("8 connections looping refresh: the guest is not cut off nor blamed",
     test_refresh_loop_does_not_cut_off_the_guest),
])
