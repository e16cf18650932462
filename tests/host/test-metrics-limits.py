#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The metrics endpoint against a network client that holds connections
open: 1,000 half-sent requests to /metrics, with the daemon's file limit
lowered to 256, neither stop the control socket nor the guest's reports;
the connections the daemon took are closed after the request timeout, the
others at once; and /metrics answers again afterwards."""

import os
import resource
import select
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

HELD = 1000
DAEMON_NOFILE = 256
# VT_HTTP_MAX_CONNECTIONS in host/export/http.h
MAX_CONNECTIONS = 16


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def lower_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (DAEMON_NOFILE, DAEMON_NOFILE))


def raise_own_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            want = hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 256


def closed_by_peer(s):
    """True once the daemon closed (or reset) this connection."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_half_sent_requests():
    n = min(HELD, raise_own_nofile(HELD))
    assert n >= 4 * MAX_CONNECTIONS, "cannot open enough sockets here: %d" % n
    with Env() as env:
        port = free_port()
        env.start_sim("g", 1, interval_ms=500)
        node = env.node([("web1", 0, env.sock("g", 0))])
        p = env._spawn("virt-tuned",
                       env.daemon_argv(node, extra=["--metrics-listen", "127.0.0.1:%d" % port]),
                       preexec_fn=lower_nofile)
        env.daemon = p
        env.wait_daemon(p)
        url = "http://127.0.0.1:%d/metrics" % port
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
        wait_until("the guest's first report", lambda: env.uptime("web1"))
        held = []
        try:
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never the blank line
                held.append(s)
            vthost.diag("%d half-sent requests open" % len(held))
            # The control socket still answers, and the guest still reports.
            r = env.cli("status")
            assert r.rc == 0, r
            u0 = env.uptime("web1")
            wait_until("a new report", lambda: env.uptime("web1") > u0)
            # Each held connection is closed: the excess at once, the ones
            # the daemon took after the request timeout.
            open_ = list(held)

            def all_closed():
                open_[:] = [s for s in open_ if not closed_by_peer(s)]
                return not open_
            wait_until("every held connection to be closed", all_closed)
        finally:
            for s in held:
                s.close()
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200 and b"virttune_" in r.read()
        assert env.cli("status").rc == 0
        assert p.alive()


vthost.main([
    ("1,000 half-sent metrics requests: control socket answers, connections closed",
     test_half_sent_requests),
])
