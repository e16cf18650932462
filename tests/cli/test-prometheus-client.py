#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`virt-tune audit|recommend --prometheus URL` against a canned HTTP server
(http.server in this process) that plays Prometheus' query API: its errors
are named with the URL and the right exit code, and what it sends is
untrusted (checked for shape, escaped on the way to a terminal or CSV)."""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse

CLI = os.environ.get("VT_CLI") or os.path.join(os.environ.get("VT_BUILD_ROOT", ""), "host",
                                               "cli", "virt-tune")


def vector(*series):
    return {"status": "success",
            "data": {"resultType": "vector",
                     "result": [{"metric": m, "value": [1700000000.0, v]} for m, v in series]}}


class Canned:
    """A server whose answer to /api/v1/query is answer(promql) ->
    (status, body bytes); None: never answer (hold the connection)."""

    def __init__(self, answer):
        self.answer = answer
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
                got = outer.answer(query) if url.path == "/api/v1/query" else (404, b"")
                if got is None:
                    outer.release.wait(60)
                    return
                status, body = got
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def run(*args):
    cp = subprocess.run([CLI] + list(args), capture_output=True, timeout=60,
                        stdin=subprocess.DEVNULL)
    return cp.returncode, cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")


def with_server(answer, *args):
    s = Canned(answer)
    try:
        return (s.url,) + run(*[a.replace("URL", s.url) for a in args])
    finally:
        s.close()


def fixed(status, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda q: (status, data)


def test_http_error():
    url, rc, out, err = with_server(fixed(503, b"overloaded"), "audit", "swap",
                                    "--prometheus", "URL")
    assert rc == 4 and url in err and "HTTP 503" in err, (rc, err)


def test_prometheus_error_json():
    body = {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}
    url, rc, out, err = with_server(fixed(400, body), "recommend", "--prometheus", "URL")
    assert rc == 4 and url in err and "bad_data: parse error at char 3" in err, (rc, err)
    body = {"status": "error", "errorType": "execution", "error": "\x1b]0;owned\x07 boom"}
    url, rc, out, err = with_server(fixed(422, body), "audit", "swap", "--prometheus", "URL")
    assert rc == 4 and "\x1b" not in err and "\\x1b]0;owned\\x07 boom" in err, (rc, err)


def test_not_json():
    url, rc, out, err = with_server(fixed(200, b"<html>"), "audit", "all", "--prometheus", "URL")
    assert rc == 4 and url in err and "not JSON" in err, (rc, err)


def test_not_a_vector():
    body = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    url, rc, out, err = with_server(fixed(200, body), "audit", "nics", "--prometheus", "URL")
    assert rc == 4 and "not an instant vector" in err, (rc, err)


def test_malformed_series():
    body = vector(({"domain": "a"}, "1"))
    body["data"]["result"][0]["value"][1] = 1  # a number, not the string the API sends
    url, rc, out, err = with_server(fixed(200, body), "audit", "swap", "--prometheus", "URL")
    assert rc == 4 and "malformed" in err, (rc, err)
    body = vector(({"domain": 7}, "1"))  # a label that is no string
    url, rc, out, err = with_server(fixed(200, body), "audit", "swap", "--prometheus", "URL")
    assert rc == 4 and "malformed" in err, (rc, err)


def test_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d" % s.getsockname()[1]
        rc, out, err = run("audit", "all", "--prometheus", url)
    assert rc == 3 and url in err and "cannot reach Prometheus" in err, (rc, err)


def test_timeout():
    url, rc, out, err = with_server(lambda q: None, "audit", "swap", "--prometheus", "URL",
                                    "--prometheus-timeout", "1")
    assert rc == 3 and url in err, (rc, err)


def test_areas_not_in_metrics():
    """The area the metrics do not carry (the host's own settings, whose
    recommended values come from the rules) is refused; "all" is the others."""
    rc, out, err = run("audit", "host", "--prometheus", "http://127.0.0.1:9")
    assert rc == 2 and "not from Prometheus" in err, (rc, err)
    url, rc, out, err = with_server(fixed(200, vector()), "audit", "all", "--prometheus",
                                    "URL")
    assert rc == 0 and "CRITICAL" not in err and "null" not in out, (rc, out, err)
    titles = [ln for ln in out.splitlines() if ln and not ln.startswith(("HOST", "("))]
    assert titles == ["Swap", "Block schedulers", "NICs", "I/O, guest and host",
                      "Network, guest and host", "Memory"], out


def test_bad_options():
    for args in (["--prometheus", "ftp://example.org"], ["--prometheus", "not a url"],
                 ["--prometheus", "http://127.0.0.1:9", "--prometheus-timeout", "0"],
                 ["--prometheus", "http://127.0.0.1:9", "--prometheus-timeout", "601"]):
        rc, out, err = run("audit", "swap", *args)
        assert rc == 2 and err, (args, rc, err)


EVIL_HOST = "hv\x1b[2J\x07"
EVIL_DOMAIN = "\u202eevil\nline"


def hostile(q):
    """Valid answers whose strings would drive a terminal."""
    if q == "virttune_host_info":
        return 200, json.dumps(vector(({"instance": "h:1", "host": EVIL_HOST}, "1"))).encode()
    if q == "virttune_agent_connected":
        return 200, json.dumps(vector(({"instance": "h:1", "domain": EVIL_DOMAIN}, "1"),
                                      ({"instance": "h:2", "domain": "plain"}, "1"))).encode()
    if q == "virttune_guest_agent_info":
        return 200, json.dumps(vector(({"instance": "h:1", "domain": EVIL_DOMAIN,
                                        "state": "\x1b]0;owned\x07"}, "1"))).encode()
    if q.startswith("virttune_guest_swappiness"):
        return 200, json.dumps(vector(({"instance": "h:2", "domain": "plain"}, "NaN"),
                                      ({"instance": "h:1", "domain": EVIL_DOMAIN}, "+Inf"))
                               ).encode()
    return 200, json.dumps(vector()).encode()


def test_hostile_strings():
    for fmt in ("table", "csv"):
        url, rc, out, err = with_server(hostile, "audit", "swap", "--prometheus", "URL",
                                        "--format", fmt)
        assert rc == 0, (rc, err)
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
        assert "\\x1b" in out and "\\u202e" in out, repr(out)
        # the host without virttune_host_info is named by its instance
        assert "h:2" in out, out
    url, rc, out, err = with_server(hostile, "audit", "swap", "--prometheus", "URL",
                                    "--format", "json")
    rows = json.loads(out)
    assert [(r["host"], r["domain"]) for r in rows] == [("h:2", "plain"),
                                                         (EVIL_HOST, EVIL_DOMAIN)], rows
    # NaN and Inf are no swappiness
    assert all("swappiness" not in r for r in rows), rows


def test_recommend_rows():
    def answer(q):
        if q.startswith("virttune_recommendation_info or") and \
                "virttune_host_recommendation_info" in q:
            # what Prometheus makes of it: the guests' and, relabelled, the host's
            return 200, json.dumps(vector(
                ({"instance": "a:1", "domain": "web", "id": "nic.queues:eth0",
                  "rule": "nic.queues", "severity": "critical", "target": "guest"}, "1"),
                ({"instance": "b:1", "domain": "db", "id": "blk.cache:vdb",
                  "rule": "blk.cache", "severity": "info", "target": "host"}, "1"),
                ({"instance": "a:1", "domain": "(host)", "id": "host.ksm:host",
                  "rule": "host.ksm", "severity": "warning", "target": "host",
                  "scope": "host"}, "1"))).encode()
        if q == "virttune_host_info":
            return 200, json.dumps(vector(({"instance": "a:1", "host": "alpha"}, "1"))).encode()
        return 200, json.dumps(vector()).encode()
    url, rc, out, err = with_server(answer, "recommend", "--prometheus", "URL", "--format",
                                    "json")
    recs = json.loads(out)["recommendations"]
    assert rc == 0 and [(r["host"], r["domain"], r["id"], r["severity"]) for r in recs] == [
        ("alpha", "(host)", "host.ksm:host", "warning"),
        ("alpha", "web", "nic.queues:eth0", "critical"), ("b:1", "db", "blk.cache:vdb", "info")
    ], recs
    assert recs[0]["scope"] == "host" and recs[0]["target"] == "host", recs[0]
    url, rc, out, err = with_server(answer, "recommend", "--prometheus", "URL", "--fail-on",
                                    "critical")
    assert rc == 1 and out.split()[:5] == ["HOST", "DOMAIN", "SEVERITY", "TARGET", "ID"], out
    url, rc, out, err = with_server(answer, "recommend", "db", "--prometheus", "URL",
                                    "--fail-on", "critical")
    assert rc == 0 and "web" not in out and "(host)" not in out and "db" in out, (rc, out)
    # audit --fail-on counts the fleet's recommendations of the audit's area
    url, rc, out, err = with_server(answer, "audit", "nics", "--prometheus", "URL",
                                    "--fail-on", "critical")
    assert rc == 1, (rc, out, err)
    url, rc, out, err = with_server(answer, "audit", "schedulers", "--prometheus", "URL",
                                    "--fail-on", "warning")
    assert rc == 0, (rc, out, err)


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    failed = 0
    for i, (name, fn) in enumerate(TESTS, 1):
        try:
            fn()
            print("ok %d - %s" % (i, name))
        except Exception as e:  # report and go on
            failed += 1
            print("not ok %d - %s" % (i, name))
            for line in repr(e).splitlines():
                print("# " + line)
        sys.stdout.flush()
    print("1..%d" % len(TESTS))
    sys.exit(1 if failed else 0)
