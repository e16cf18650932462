#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The store's byte budget per domain against a guest that sends a unique
report (a new hostname each time: no two share a layout) as fast as its rate
limit lets it: the domain's stored bytes stay within --store-budget-mib, its
newest reports are kept, the count of times it went over is exported and a
warning logged. Also prints what an honest report costs, the figure the
default budget is sized from (virt-tuned.conf(5))."""

import os
import re
import socket
import sqlite3
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, wait_until  # noqa: E402

BUDGET_MIB = 1
# The SQL of vt_store_domain_bytes() (host/store/budget.c), kept apart so
# that the test measures rather than trusts the daemon.
DOMAIN_BYTES = (
    "SELECT (SELECT COALESCE(SUM(length(counters)), 0) FROM reports WHERE domain_id = d.id)"
    " + (SELECT COALESCE(SUM(length(data)), 0) FROM sections WHERE id IN"
    "   (SELECT p.section_id FROM layout_parts p WHERE p.layout_id IN"
    "     (SELECT layout_id FROM reports WHERE domain_id = d.id AND layout_id IS NOT NULL)))"
    " FROM domains d WHERE d.name = ?")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def db(env):
    return sqlite3.connect("file:%s?mode=ro" % env.path("state", "virt-tune.db"), uri=True,
                           timeout=30)


def domain_bytes(env, name):
    with db(env) as c:
        row = c.execute(DOMAIN_BYTES, (name,)).fetchone()
    return row[0] if row else 0


def exceeded(url, name):
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    m = re.search(r'^virttune_store_budget_exceeded_total\{domain="%s"\} (\S+)$' % name,
                  text, re.M)
    return float(m.group(1)) if m else 0.0


def test_unique_reports_stay_within_budget():
    with Env() as env:
        port = free_port()
        url = "http://127.0.0.1:%d/metrics" % port
        # 60 ms: 16 frames a second, under the 20 a second the host allows.
        env.start_sim("g", 1, mode="unique", interval_ms=60)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]),
                         extra=["--store-budget-mib", str(BUDGET_MIB),
                                "--metrics-listen", "127.0.0.1:%d" % port])
        wait_until("the budget to be exceeded twice", lambda: exceeded(url, "web1") >= 2,
                   timeout=300)
        used = domain_bytes(env, "web1")
        with db(env) as c:
            rows, keys = c.execute("SELECT count(*), count(layout_id) FROM reports").fetchone()
        size = sum(os.path.getsize(env.path("state", f))
                   for f in os.listdir(env.path("state")) if f.startswith("virt-tune.db"))
        vthost.diag("domain bytes %d of a %d byte budget; %d rows (%d keys); database files "
                    "%d bytes; %s" % (used, BUDGET_MIB << 20, rows, keys, size,
                                      env.guests()["web1"]["agent"]))
        assert used <= BUDGET_MIB << 20, used
        assert env.guests()["web1"]["agent"] == "connected"
        # the newest reports are the ones kept
        u = env.uptime("web1")
        hist = env.history("web1")
        assert hist and len(hist) < u - 100, (len(hist), u)
        with open(env.daemon.log, errors="replace") as f:
            assert "over its store budget" in f.read()


def test_honest_report_cost():
    """What one honest report costs in the store: a key row holds every
    counter as a value, a delta row only what changed."""
    with Env() as env:
        env.start_sim("g", 1, interval_ms=100)
        env.start_daemon(env.node([("web1", 0, env.sock("g", 0))]))
        wait_until("130 stored reports", lambda: len(env.history("web1")) >= 130)
        with db(env) as c:
            key, = c.execute("SELECT max(length(counters)) FROM reports"
                             " WHERE layout_id IS NOT NULL").fetchone()
            delta, = c.execute("SELECT avg(length(counters)) FROM reports"
                               " WHERE layout_id IS NULL").fetchone()
            sections, = c.execute("SELECT sum(length(data)) FROM sections").fetchone()
        vthost.diag("key row %d bytes, delta row %.0f bytes on average, layout sections "
                    "%d bytes" % (key, delta, sections))
        assert key > 0 and sections > 0


vthost.main([
    ("a guest sending unique reports stays within its store budget",
     test_unique_reports_stay_within_budget),
    ("the cost of an honest report (sizes the default budget)", test_honest_report_cost),
])
