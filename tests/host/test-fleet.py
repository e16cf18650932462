#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fleet through Prometheus: two virt-tuned "hosts", each with its own
libvirt test:/// node and simulated guests, a real Prometheus scraping both
(file service discovery, 1 s interval) with the shipped alert rules (their
`for:` shortened, expressions untouched) and a real Alertmanager.

- `virt-tune audit all|swap|schedulers|nics|io|net|memory --prometheus URL`
  and `recommend --prometheus URL` list the guests of both hosts, each under
  its host, with what each host's own audit says;
- a guest of host 2 that swaps 300 pages/s fires VirtTuneGuestSwapping in
  Alertmanager (amtool alert query), and nothing of host 1 does;
- the Grafana dashboard's `host` variable lists both hosts and every panel
  query runs on that Prometheus without error, for all hosts and for each.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Skip, wait_until  # noqa: E402

RULES = os.path.join(vthost.SOURCE, "packaging", "prometheus", "virt-tune.rules.yml")
DASHBOARD = os.path.join(vthost.SOURCE, "packaging", "grafana", "virt-tune.json")
HOSTS = ("hv-one", "hv-two")
# host -> {domain: (sim directory, report interval in ms)}. The simulator adds
# 30 swapped pages per report: 30/s at 1 s (under the 100/s of the warning
# rule), 300/s at 100 ms (over it, under the 1000/s of the critical one).
GUESTS = {
    "hv-one": {"web-a": ("slow", 1000), "web-b": ("slow", 1000), "shared": ("slow", 1000)},
    "hv-two": {"db-swap": ("fast", 100), "shared": ("slow", 1000)},
}
FOR = "2s"  # every rule's `for:` in the test's copy of the rules


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=10):
    """The JSON at @url; LookupError (not there yet, for wait_until) when the
    server does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except (urllib.error.URLError, ConnectionError) as e:
        raise LookupError("%s: %s" % (url, e))


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise Skip("%s is not installed (tools/install-deps test)" % name)
    return path


class Fleet:
    """Both hosts, Prometheus and Alertmanager, in one Env's directory."""

    def __init__(self, stack):
        self.stack = stack
        self.env = stack.enter_context(vthost.Env())
        self.hosts = {}  # host -> (Env, metrics port)
        self.prom_url = self.am_url = None

    def start_host(self, index, host):
        env = self.env if index == 0 else self.stack.enter_context(vthost.Env())
        domains, i = [], 0
        for sub in ("slow", "fast"):
            names = [d for d, (s, _) in sorted(GUESTS[host].items()) if s == sub]
            if not names:
                continue
            interval = GUESTS[host][names[0]][1]
            env.start_sim(sub, len(names), interval_ms=interval)
            for k, name in enumerate(names):
                domains.append((name, i, env.sock(sub, k)))
                i += 1
        node = env.node(domains)
        port = free_port()
        env.start_daemon(node, extra=["--metrics-listen", "127.0.0.1:%d" % port,
                                      "--metrics-host-label", host])
        self.hosts[host] = (env, port)

    def start_alertmanager(self):
        am = tool("prometheus-alertmanager")
        port = free_port()
        conf = self.env.path("alertmanager.yml")
        with open(conf, "w") as f:
            yaml.safe_dump({"route": {"receiver": "log", "group_wait": "1s",
                                      "group_interval": "1s", "repeat_interval": "1h"},
                            "receivers": [{"name": "log"}]}, f)
        self.env._spawn("alertmanager", [
            am, "--config.file", conf, "--storage.path", self.env.path("am-data"),
            "--web.listen-address", "127.0.0.1:%d" % port, "--cluster.listen-address", ""])
        self.am_url = "http://127.0.0.1:%d" % port
        wait_until("Alertmanager to answer",
                   lambda: http_json(self.am_url + "/api/v2/status").get("cluster"))

    def start_prometheus(self):
        prom = tool("prometheus")
        port = free_port()
        rules = self.env.path("virt-tune.rules.yml")
        with open(RULES) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = FOR
        with open(rules, "w") as f:
            yaml.safe_dump(doc, f)
        targets = self.env.path("targets.json")
        with open(targets, "w") as f:
            json.dump([{"targets": ["127.0.0.1:%d" % p for _, p in self.hosts.values()],
                        "labels": {"role": "hypervisor"}}], f)
        conf = self.env.path("prometheus.yml")
        with open(conf, "w") as f:
            yaml.safe_dump({
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [rules],
                "alerting": {"alertmanagers": [{"static_configs": [
                    {"targets": [self.am_url.split("//")[1]]}]}]},
                "scrape_configs": [{"job_name": "virt-tune",
                                    "file_sd_configs": [{"files": [targets]}]}],
            }, f)
        self.env._spawn("prometheus", [
            prom, "--config.file", conf, "--storage.tsdb.path", self.env.path("prom-data"),
            "--web.listen-address", "127.0.0.1:%d" % port])
        self.prom_url = "http://127.0.0.1:%d" % port
        wait_until("Prometheus to scrape both hosts", lambda: len(
            [r for r in self.query("up == 1")]) == len(self.hosts), timeout=90)

    def query(self, expr):
        q = urllib.parse.quote(expr)
        res = http_json("%s/api/v1/query?query=%s" % (self.prom_url, q))
        assert res["status"] == "success", res
        return res["data"]["result"]

    def cli(self, *args):
        return self.env.cli(*args, "--prometheus", self.prom_url, socket=False)


def expected_rows():
    return sorted((h, d) for h in HOSTS for d in GUESTS[h])


def test_fleet():
    tool("prometheus")
    tool("prometheus-alertmanager")
    tool("amtool")
    with contextlib.ExitStack() as stack:
        fleet = Fleet(stack)
        started = time.monotonic()
        steps = [lambda: [fleet.start_host(i, host) for i, host in enumerate(HOSTS)],
                 fleet.start_alertmanager, fleet.start_prometheus,
                 lambda: audit_lists_both_hosts(fleet), lambda: audits_match_each_host(fleet),
                 lambda: recommend_lists_both_hosts(fleet), lambda: swap_alert_fires(fleet),
                 lambda: dashboard_queries_run(fleet)]
        for n, step in enumerate(steps):
            step()
            vthost.diag("step %d done at %.1f s" % (n, time.monotonic() - started))


def audit_lists_both_hosts(fleet):
    def listed():
        r = fleet.cli("audit", "all", "--format", "json")
        assert r.rc == 0, r
        rows = json.loads(r.out)["swap"]
        got = sorted((x["host"], x["domain"]) for x in rows)
        assert got == expected_rows(), got
        return json.loads(r.out)
    result = wait_until("audit all --prometheus to list both hosts' guests", listed)
    started = time.monotonic()
    fleet.cli("audit", "all", "--format", "json")
    vthost.diag("audit all --prometheus took %.2f s" % (time.monotonic() - started))
    vthost.diag("audit all --prometheus: %d swap rows, %d disks, %d NICs" % (
        len(result["swap"]), len(result["schedulers"]), len(result["nics"])))
    # two disks and one NIC per guest, each under its own host
    assert sorted((x["host"], x["domain"]) for x in result["nics"]) == expected_rows()
    disks = sorted((x["host"], x["domain"], x["device"]) for x in result["schedulers"])
    assert disks == sorted((h, d, v) for h, d in expected_rows() for v in ("vda", "vdb")), disks
    table = fleet.cli("audit", "all")
    assert table.rc == 0, table
    lines = table.out.splitlines()
    assert lines[0].startswith("Swap") and lines[1].split()[:2] == ["HOST", "DOMAIN"], lines
    for host, domain in expected_rows():
        assert any(ln.split()[:2] == [host, domain] for ln in lines), (host, domain, lines)


def audits_match_each_host(fleet):
    """Each fleet row carries what the host's own audit says, plus host (a
    scrape behind it: compared until they agree)."""
    wait_until("the fleet audits to match each host's", lambda: audits_match(fleet) or True)
    csv = fleet.cli("audit", "swap", "--format", "csv")
    assert csv.rc == 0 and csv.out.splitlines()[0].startswith("host,domain,"), csv


def audits_match(fleet):
    for host, (env, _) in fleet.hosts.items():
        local = {r["domain"]: r for r in env.json("audit", "nics")}
        remote = json.loads(fleet.cli("audit", "nics", "--format", "json").out)
        for row in (r for r in remote if r["host"] == host):
            mine = local[row["domain"]]
            for key in ("iface", "driver", "mac", "combined", "max_combined", "host_queues",
                        "host_model", "offloads_off"):
                assert row.get(key) == mine.get(key), (host, key, row, mine)
        local = {(r["domain"], r["device"]): r for r in env.json("audit", "schedulers")}
        remote = json.loads(fleet.cli("audit", "schedulers", "--format", "json").out)
        for row in (r for r in remote if r["host"] == host):
            mine = local[(row["domain"], row["device"])]
            for key in ("scheduler", "schedulers", "nr_requests", "read_ahead_kb", "rotational",
                        "nr_hw_queues", "driver", "serial", "size_bytes", "host_target",
                        "host_bus", "host_cache", "host_io", "host_format", "matched_by"):
                assert row.get(key) == mine.get(key), (host, key, row, mine)
        local = {r["domain"]: r for r in env.json("audit", "swap")}
        remote = json.loads(fleet.cli("audit", "swap", "--format", "json").out)
        for row in (r for r in remote if r["host"] == host):
            mine = local[row["domain"]]
            for key in ("agent", "swap_total_bytes", "swap_used_bytes", "swappiness",
                        "mem_total_bytes", "balloon_actual_bytes", "balloon_maximum_bytes",
                        "balloon_source", "balloon_stats_period_s", "rates_window"):
                assert row.get(key) == mine.get(key), (host, key, row, mine)
            assert set(mine) - set(row) == {"swap_devices"}, set(mine) - set(row)
        sides_match(fleet, host, env)
        swap = json.loads(fleet.cli("audit", "swap", "--domain", "shared", "--format",
                                    "json").out)
        assert sorted(r["host"] for r in swap) == list(HOSTS), swap
        for row in swap:
            assert row["agent"] == "connected" and row["swappiness"] == 60, row
            assert row["balloon_maximum_bytes"] == 1073741824, row


# Per audit of both sides: the row key, the members that stay put between
# reports (compared), those that move (present on both or on neither), and
# those no metric carries.
SIDES = {
    "io": (("domain", "device"),
           ("host_target", "scheduler", "nr_requests", "host_cache", "host_io", "host_cache_io",
            "host_format", "iothread", "chain_depth", "rates_window"),
           ("guest_iops", "guest_ms", "host_iops", "host_ms", "added_ms", "guest_read_iops",
            "host_read_iops", "guest_read_ms", "host_read_ms"),
           {"host_window"}),
    "net": (("domain", "iface"),
            ("host_target", "combined", "max_combined", "host_queues", "guest_rx_dropped",
             "guest_tx_dropped", "host_rx_drop", "host_tx_drop", "softnet_dropped", "mtu",
             "host_mtu", "rates_window"),
            (),
            {"guest_rx_drop_per_s", "host_rx_drop_per_s", "softnet_squeezed"}),
    "memory": (("domain",),
               ("agent", "mem_total_bytes", "balloon_actual_bytes", "balloon_maximum_bytes",
                "balloon_source", "rates_window"),
               ("mem_available_bytes", "mem_available_pct", "swap_in_pages_per_s",
                "swap_out_pages_per_s", "oom_kills", "psi_memory_some_avg60"),
               set()),
}


def sides_match(fleet, host, env):
    for kind, (key, same, present, missing) in SIDES.items():
        local = {tuple(r[k] for k in key): r for r in env.json("audit", kind)}
        remote = json.loads(fleet.cli("audit", kind, "--format", "json").out)
        mine_rows = [r for r in remote if r["host"] == host]
        assert sorted(local) == sorted(tuple(r[k] for k in key) for r in mine_rows), \
            (kind, host, sorted(local), mine_rows)
        for row in mine_rows:
            # the one-host audit writes null for a value it does not have
            mine = {k: v for k, v in local[tuple(row[k] for k in key)].items() if v is not None}
            for k in same:
                assert row.get(k) == mine.get(k), (kind, host, k, row, mine)
            for k in present:
                assert (k in row) == (k in mine), (kind, host, k, row, mine)
            assert set(mine) - set(row) <= missing, (kind, set(mine) - set(row))
            assert set(row) - set(mine) == {"host"}, (kind, set(row) - set(mine))
        vthost.diag("audit %s --prometheus: %d rows of %s match its own audit" % (
            kind, len(mine_rows), host))


def recommend_lists_both_hosts(fleet):
    r = fleet.cli("recommend", "--format", "json")
    assert r.rc == 0, r
    recs = json.loads(r.out)["recommendations"]
    got = sorted({(x["host"], x["domain"]) for x in recs if x["id"] == "nic.queues:eth0"})
    assert got == expected_rows(), got

    def same():
        recs = json.loads(fleet.cli("recommend", "--format", "json").out)["recommendations"]
        for host, (env, _) in fleet.hosts.items():
            local = sorted((x["domain"], x["id"], x["severity"], x["target"])
                           for x in env.json("recommend")["recommendations"])
            remote = sorted((x["domain"], x["id"], x["severity"], x["target"])
                            for x in recs if x["host"] == host)
            assert local == remote, (host, local, remote)
        return True
    wait_until("the fleet's recommendations to match each host's", same)
    failing = fleet.cli("recommend", "--fail-on", "warning")
    assert failing.rc == 1 and "HOST" in failing.out.splitlines()[0], failing


def amtool_alerts(fleet, *matchers):
    amtool = tool("amtool")
    cp = subprocess.run([amtool, "alert", "query", "--alertmanager.url", fleet.am_url,
                         "-o", "json"] + list(matchers), capture_output=True, timeout=30,
                        stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout.decode() or "[]")


def swap_alert_fires(fleet):
    def fired():
        alerts = amtool_alerts(fleet, "alertname=VirtTuneGuestSwapping")
        return [a for a in alerts if a["labels"].get("domain") == "db-swap"]
    # rate(…[5m]) of a series younger than 5 minutes divides what it saw by
    # the whole window: at ~300 pages/s it crosses 100/s after ~100 s, and
    # surely once the window is full.
    alerts = wait_until("VirtTuneGuestSwapping for db-swap in Alertmanager", fired,
                        timeout=330, interval=1)
    labels = alerts[0]["labels"]
    vthost.diag("alert: %s" % json.dumps(labels, sort_keys=True))
    assert labels["host"] == "hv-two" and labels["severity"] == "warning", labels
    assert "hv-two" in alerts[0]["annotations"]["summary"], alerts[0]
    swapping = amtool_alerts(fleet, "alertname=~VirtTuneGuestSwapping.*")
    others = [a["labels"] for a in swapping if a["labels"].get("domain") != "db-swap"]
    assert not others, others  # 30 pages/s stays under the warning rate
    hard = [a for a in swapping if a["labels"]["alertname"] == "VirtTuneGuestSwappingHard"]
    assert not hard, hard  # 300 pages/s stays under the critical one


def substitute(expr, host):
    return expr.replace("${host}", host).replace("$host", host)


def dashboard_queries_run(fleet):
    with open(DASHBOARD) as f:
        board = json.load(f)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    host_var = variables["host"]
    assert host_var["query"]["query"] == "label_values(virttune_host_info, host)", host_var
    values = http_json("%s/api/v1/label/host/values?%s" % (
        fleet.prom_url, urllib.parse.urlencode({"match[]": "virttune_host_info"})))
    assert values["status"] == "success" and sorted(values["data"]) == list(HOSTS), values
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert all("$host" in e for e in exprs), exprs
    seen = {}
    for choice in [host_var["allValue"]] + list(HOSTS):
        for e in exprs:
            result = fleet.query(substitute(e, choice))
            seen[(choice, e)] = result
    # one host's panels show that host only
    for host in HOSTS:
        rows = seen[(host, [e for e in exprs if "report_age" in e][0])]
        assert rows and {r["metric"]["host"] for r in rows} == {host}, rows
    vthost.diag("%d dashboard queries ran for All and each host" % len(seen))


def test_errors():
    """Unreachable Prometheus: exit 3, the URL named."""
    with vthost.Env() as env:
        url = "http://127.0.0.1:%d" % free_port()
        r = env.cli("audit", "all", "--prometheus", url, socket=False)
        assert r.rc == 3 and url in r.err and "cannot reach Prometheus" in r.err, r


def test_default_host_label():
    """Without --metrics-host-label the host is the hostname."""
    with vthost.Env() as env:
        port = free_port()
        env.start_daemon(env.node([]), extra=["--metrics-listen", "127.0.0.1:%d" % port])
        url = "http://127.0.0.1:%d/metrics" % port
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode()
        want = 'virttune_host_info{host="%s",' % socket.gethostname()
        assert want in body, body[:500]


if __name__ == "__main__":
    vthost.main([
        ("audit, recommend, alerts and the dashboard across two hosts", test_fleet),
        ("an unreachable Prometheus is named", test_errors),
        ("the host label defaults to the hostname", test_default_host_label),
    ])
