#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`virt-tune check` as a Monitoring Plugin: its status lines and exit codes,
then under a real Nagios (Debian's nagios4, run as a test with a private
configuration directory, not the system service) whose status.dat must show
each service's state and performance data. The daemon sees simulated guests
(vt-guest-sim) on a libvirt test:/// node."""
import os
import re
import shutil
import subprocess

import vthost
from vthost import wait_until

PERF = re.compile(r"^'(?:[^']|'')+'=-?[0-9.]+(?:[a-zA-Z%]*);[0-9.]*;[0-9.]*;[0-9.]*;[0-9.]*$")


def perf_ok(text):
    """Every item is 'label'=value[UOM];warn;crit;min;max (the guidelines'
    form; a quoted label may hold spaces)."""
    items = re.findall(r"'(?:[^']|'')+'=\S*", text)
    return bool(items) and all(PERF.match(i) for i in items), items


def start(env):
    env.start_sim("a", 2)
    node = env.node([("web1", 1, env.sock("a", 0)), ("db1", 2, env.sock("a", 1))])
    env.start_daemon(node)

    def ready():
        g = env.guests()
        return len(g) == 2 and all(x["agent"] == "connected" and x["recommendations"]
                                   for x in g.values())
    wait_until("both agents to connect and be analysed", ready)
    # two reports each: the daemon has swap rates
    wait_until("swap rates", lambda: all(
        r.get("swap_out_pages_per_s") is not None for r in env.json("audit", "swap")))


def test_plugin_output():
    with vthost.Env() as env:
        start(env)
        r = env.cli("check", "--area", "nics")
        first = r.out.splitlines()[0]
        assert r.rc == 1 and first.startswith("VIRT-TUNE WARNING - "), r
        assert "web1 nic.queues:eth0 (warning)" in first, r
        status, _, perf = first.partition(" | ")
        ok, items = perf_ok(perf)
        assert ok and "'recommendations_warning'=2;;;0;" in items, items

        r = env.cli("check", "--area", "swap")
        assert r.rc == 0 and r.out.startswith("VIRT-TUNE OK - 2 domains, 2 agents"), r
        tail = r.out.splitlines()[-1]
        ok, items = perf_ok(tail[2:])
        assert tail.startswith("| ") and ok and any(
            i.startswith("'web1 swap_pages_per_s'=") and i.endswith(";100;1000;0;")
            for i in items), r

        r = env.cli("check", "--area", "swap", "--domain", "web1", "-w", "0.001", "-c", "0.002")
        assert r.rc == 2 and r.out.startswith("VIRT-TUNE CRITICAL - web1 swaps"), r
        r = env.cli("check", "--domain", "nope")
        assert r.rc == 3 and r.out.startswith("VIRT-TUNE UNKNOWN - nope: no running domain"), r
        r = env.cli("check", "--socket", env.path("no.sock"))
        assert r.rc == 3 and r.out.startswith("VIRT-TUNE UNKNOWN - virt-tuned unreachable at "
                                              + env.path("no.sock")), r
        r = env.cli("check", "--area", "bogus")
        assert r.rc == 3 and r.out.startswith("VIRT-TUNE UNKNOWN - usage"), r


NAGIOS_CFG = """log_file={d}/nagios.log
cfg_file={d}/objects.cfg
object_cache_file={d}/objects.cache
precached_object_file={d}/objects.precache
status_file={d}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={group}
check_external_commands=0
lock_file={d}/nagios.lock
temp_file={d}/nagios.tmp
temp_path={d}
check_result_path={d}/checkresults
retain_state_information=0
state_retention_file={d}/retention.dat
interval_length=1
max_service_check_spread=1
max_host_check_spread=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
check_result_reaper_frequency=1
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
use_syslog=0
"""

OBJECTS = """define command {{
    command_name  check_virt_tune
    command_line  {cli} check --socket {sock} $ARG1$
}}
define command {{
    command_name  check_always_up
    command_line  /bin/true
}}
define timeperiod {{
    timeperiod_name 24x7
    alias           always
    sunday    00:00-24:00
    monday    00:00-24:00
    tuesday   00:00-24:00
    wednesday 00:00-24:00
    thursday  00:00-24:00
    friday    00:00-24:00
    saturday  00:00-24:00
}}
define contact {{
    contact_name                  nobody
    host_notifications_enabled    0
    service_notifications_enabled 0
    host_notification_period      24x7
    service_notification_period   24x7
    host_notification_options     n
    service_notification_options  n
    host_notification_commands    check_always_up
    service_notification_commands check_always_up
}}
define host {{
    host_name           kvm1
    address             127.0.0.1
    check_command       check_always_up
    max_check_attempts  1
    check_period        24x7
    contacts            nobody
    notification_period 24x7
}}
"""

SERVICE = """define service {{
    host_name            kvm1
    service_description  {name}
    check_command        check_virt_tune!{args}
    max_check_attempts   1
    check_interval       2
    retry_interval       2
    check_period         24x7
    contacts             nobody
    notification_period  24x7
}}
"""

# service -> (arguments, expected state, a perfdata item it must show)
SERVICES = {
    "virt-tune nics": ("--area nics", 1, "'recommendations_warning'=2;;;0;"),
    "virt-tune swap": ("--area swap", 0, "'web1 swap_pages_per_s'="),
    "virt-tune web1 swap": ("--area swap --domain web1 -w 0.001 -c 0.002", 2,
                            "'web1 swap_pages_per_s'="),
    "virt-tune missing": ("--domain nope", 3, None),
}


def status_dat(path):
    """servicestatus blocks of Nagios' status.dat, by service description."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    out = {}
    for block in re.findall(r"servicestatus \{\n(.*?)\n\s*\}", text, re.S):
        kv = dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)
        out[kv.get("service_description")] = kv
    return out


def test_under_nagios():
    nagios = shutil.which("nagios4") or (os.path.exists("/usr/sbin/nagios4") and
                                         "/usr/sbin/nagios4")
    if not nagios:
        raise vthost.Skip("nagios4 is not installed (tools/install-deps test installs it)")
    with vthost.Env() as env:
        start(env)
        d = env.path("nagios")
        os.makedirs(os.path.join(d, "checkresults"))
        user = "root" if os.getuid() == 0 else os.environ.get("USER", "nobody")
        with open(os.path.join(d, "nagios.cfg"), "w") as f:
            f.write(NAGIOS_CFG.format(d=d, user=user, group=user))
        with open(os.path.join(d, "objects.cfg"), "w") as f:
            f.write(OBJECTS.format(cli=vthost.CLI, sock=env.socket))
            for name, (args, _, _) in SERVICES.items():
                f.write(SERVICE.format(name=name, args=args))
        cfg = os.path.join(d, "nagios.cfg")
        v = subprocess.run([nagios, "-v", cfg], capture_output=True, text=True, timeout=60)
        assert v.returncode == 0, v.stdout[-2000:]
        env._spawn("nagios4", [nagios, cfg])

        def checked():
            st = status_dat(os.path.join(d, "status.dat"))
            done = {k: v for k, v in st.items() if k in SERVICES and
                    v.get("has_been_checked") == "1"}
            return len(done) == len(SERVICES) and done
        st = wait_until("Nagios to run every service once", checked, timeout=90)
        for name, (args, state, item) in SERVICES.items():
            s = st[name]
            assert int(s["current_state"]) == state, (name, s)
            assert s["plugin_output"].startswith("VIRT-TUNE " + ("OK", "WARNING", "CRITICAL",
                                                                 "UNKNOWN")[state]), (name, s)
            if item:
                assert item in s["performance_data"], (name, s["performance_data"])
                assert perf_ok(s["performance_data"])[0], (name, s["performance_data"])


vthost.main([
    ("check prints the plugin status line, perfdata and exits 0-3", test_plugin_output),
    ("a real nagios4 runs the check: status.dat shows each state and perfdata",
     test_under_nagios),
])
