#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""packaging/zabbix against the real zabbix_agentd (Debian's zabbix-agent, in
test mode: `zabbix_agentd -c CONF -t KEY`, no service, no server) and a
virt-tuned with simulated guests: the discovery key returns valid low-level
discovery JSON, every dependent item of the template yields a number from its
master key's answer, and every trigger names items the template has.

No Zabbix server runs here: the template's JSONPath preprocessing is applied
by this file, for the forms the template uses ($.a.b, a filter [?(@.k == "v")],
.*, length(), sum()), the way Zabbix documents them."""
import json
import os
import re
import shutil
import subprocess

import vthost
from vthost import wait_until

ZABBIX = os.path.join(vthost.SOURCE, "packaging", "zabbix")
TEMPLATE_NAME = "virt-tune by Zabbix agent"


def agentd():
    path = shutil.which("zabbix_agentd") or "/usr/sbin/zabbix_agentd"
    if not os.path.exists(path):
        raise vthost.Skip("zabbix_agentd is not installed (tools/install-deps test installs it)")
    return path


def get(env, conf, key):
    """The value zabbix_agentd -t prints for @key: "KEY [t|VALUE]"."""
    e = dict(os.environ, VIRT_TUNE_SOCKET=env.socket,
             PATH=os.path.dirname(vthost.CLI) + ":" + os.environ.get("PATH", ""))
    cp = subprocess.run([agentd(), "-c", conf, "-t", key], capture_output=True, text=True,
                        env=e, timeout=60)
    m = re.match(r"^(\S+)\s+\[([a-z])\|(.*)\]\s*$", cp.stdout, re.S)
    assert cp.returncode == 0 and m and m.group(2) == "t", (key, cp.returncode, cp.stdout,
                                                           cp.stderr)
    return m.group(3)


def jsonpath(doc, path):
    """The subset of Zabbix's JSONPath the template uses."""
    rest = path[1:]
    cur, many = doc, False
    while rest:
        m = re.match(r'\[\?\(@\.(\w+) == "([^"]*)"\)\]', rest)
        if m:
            cur, many = [x for x in cur if isinstance(x, dict) and x.get(m.group(1)) == m.group(2)], True
        elif rest.startswith(".length()"):
            return len(cur)
        elif rest.startswith(".sum()"):
            return sum(cur)
        elif rest.startswith(".*"):
            vals = cur if many else [cur]
            cur = [v for x in vals for v in (x.values() if isinstance(x, dict) else x)]
            many = True
        else:
            m = re.match(r"\.(\w+)", rest)
            assert m, path
            cur = [x[m.group(1)] for x in cur] if many else cur[m.group(1)]
        rest = rest[m.end() if m else len(".*"):] if not rest.startswith(".*") else rest[2:]
    if many:
        assert len(cur) == 1, (path, cur)
        return cur[0]
    return cur


def preprocess(value, steps):
    for s in steps:
        p = (s.get("parameters") or [""])[0]
        if s["type"] == "JSONPATH":
            try:
                value = jsonpath(json.loads(value) if isinstance(value, str) else value, p)
            except (KeyError, IndexError, AssertionError, TypeError):
                if s.get("error_handler") == "CUSTOM_VALUE":
                    return s["error_handler_params"]
                raise
        elif s["type"] == "BOOL_TO_DECIMAL":
            value = 1 if value in (True, "true") else 0 if value in (False, "false") else value
        else:
            raise AssertionError("no emulation of preprocessing " + s["type"])
    return value


def template():
    import yaml
    with open(os.path.join(ZABBIX, "template_virt-tune.yaml")) as f:
        return yaml.safe_load(f)["zabbix_export"]


def test_template_consistent():
    t = template()
    assert t["version"] == "6.0"
    uuids = re.findall(r"uuid: ([0-9a-f]+)", open(os.path.join(ZABBIX,
                                                               "template_virt-tune.yaml")).read())
    assert all(len(u) == 32 for u in uuids) and len(set(uuids)) == len(uuids), uuids
    tpl = t["templates"][0]
    keys = {i["key"] for i in tpl["items"]}
    rule = tpl["discovery_rules"][0]
    keys |= {i["key"] for i in rule["item_prototypes"]}
    exprs = [tr["expression"] for i in tpl["items"] for tr in i.get("triggers", [])]
    exprs += [tr["expression"] for tr in rule["trigger_prototypes"]]
    assert len(exprs) == 9, exprs  # one per alert rule of packaging/prometheus
    for e in exprs:
        for tname, key in re.findall(r"\(/([^/]+)/([^,)\[]+(?:\[[^\]]*\])?)", e):
            assert tname == TEMPLATE_NAME and key in keys, (e, key)
    masters = {i["master_item"]["key"] for i in tpl["items"] + rule["item_prototypes"]
               if i.get("type") == "DEPENDENT"}
    assert masters <= keys | {"virt-tune.discovery"}, masters - keys


def test_agent_items():
    agentd()
    t = template()["templates"][0]
    with vthost.Env() as env:
        env.start_sim("a", 2)
        node = env.node([("web1", 1, env.sock("a", 0)), ("db1", 2, env.sock("a", 1))])
        env.start_daemon(node)
        wait_until("both agents analysed", lambda: len(env.guests()) == 2 and all(
            g["agent"] == "connected" and g["recommendations"] for g in env.guests().values()))
        wait_until("swap rates", lambda: all(
            r.get("swap_out_pages_per_s") is not None for r in env.json("audit", "swap")))
        conf = env.path("zabbix_agentd.conf")
        with open(conf, "w") as f:
            f.write("LogType=console\nHostname=kvm1\nServer=127.0.0.1\nAllowRoot=1\n"
                    "Timeout=30\nInclude=%s\n"
                    % os.path.join(ZABBIX, "userparameter_virt-tune.conf"))

        answers = {}
        lld = json.loads(get(env, conf, "virt-tune.discovery"))
        answers["virt-tune.discovery"] = lld
        # Zabbix 4.2+ LLD: an array of objects; the rule's macro paths pick the macros
        paths = {m["lld_macro"]: m["path"] for m in t["discovery_rules"][0]["lld_macro_paths"]}
        assert isinstance(lld, list) and all(isinstance(x, dict) for x in lld), lld
        domains = sorted(jsonpath(x, paths["{#DOMAIN}"]) for x in lld)
        assert domains == ["db1", "web1"], domains

        answers["virt-tune.status"] = get(env, conf, "virt-tune.status")
        for d in domains:
            answers["virt-tune.show[%s]" % d] = get(env, conf, "virt-tune.show[%s]" % d)
            answers["virt-tune.recommend[%s]" % d] = get(env, conf, "virt-tune.recommend[%s]" % d)
            state = get(env, conf, "virt-tune.check[%s,nics]" % d)
            assert state == "1", (d, state)  # the simulated guests' NICs use 1 of 4 queues
        state = get(env, conf, "virt-tune.check[nope,all]")
        assert state == "3", state

        items = [(i, None) for i in t["items"]]
        items += [(i, d) for d in domains for i in t["discovery_rules"][0]["item_prototypes"]]
        seen = {}
        for item, d in items:
            if item.get("type") != "DEPENDENT":
                continue
            master = item["master_item"]["key"].replace("{#DOMAIN}", d or "")
            steps = [dict(s, parameters=[p.replace("{#DOMAIN}", d or "")
                                         for p in s.get("parameters", [])])
                     for s in item.get("preprocessing", [])]
            value = preprocess(answers[master], steps)
            key = item["key"].replace("{#DOMAIN}", d or "")
            seen[key] = value
            if item.get("value_type", "UNSIGNED") in ("UNSIGNED", "FLOAT"):
                assert isinstance(value, (int, float)) or re.match(r"^-?[0-9.]+$", str(value)), (
                    key, value)
        assert seen["virt-tune.libvirt_connected"] == 1, seen
        assert seen["virt-tune.agent[web1]"] == "connected", seen
        assert seen["virt-tune.nic_queues[web1]"] == 1, seen
        assert seen["virt-tune.frames_rejected[db1]"] in (0, "0"), seen
        vthost.diag(json.dumps(seen, sort_keys=True))


vthost.main([
    ("the Zabbix template's triggers and dependent items name its own items", test_template_consistent),
    ("zabbix_agentd -t: LLD of the domains, and every item a number", test_agent_items),
])
