#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`virt-tune enable|disable` against libvirt's test driver (a node file with a
running domain without the agent channel, one with it and one shut off): the
XML and the views (--live, --config, the default), the refusals that name the
domain, --all skipping the domains that have the channel, and the exit codes.
The test driver cannot attach devices, so a real attach ends in libvirt's
error; the proof that the channel appears is the e2e suite's."""

import os
import subprocess
import sys
import tempfile

CLI = os.environ.get("VT_CLI") or os.path.join(os.environ.get("VT_BUILD_ROOT", ""), "host",
                                               "cli", "virt-tune")
NAME = "org.virttune.agent.0"

NODE = """<node>
  <domain type='test'>
    <name>plain</name>
    <memory>131072</memory>
    <os><type>hvm</type></os>
    <devices/>
  </domain>
  <domain type='test'>
    <name>agent</name>
    <memory>131072</memory>
    <os><type>hvm</type></os>
    <devices>
      <channel type='unix'>
        <source mode='bind' path='/run/vt-test/agent.sock'/>
        <target type='virtio' name='org.virttune.agent.0'/>
      </channel>
    </devices>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>off</name>
    <memory>131072</memory>
    <os><type>hvm</type></os>
    <devices/>
    <test:runstate>5</test:runstate>
  </domain>
</node>
"""

TMP = tempfile.mkdtemp(prefix="vt-enable-test.")
NODE_FILE = os.path.join(TMP, "node.xml")
with open(NODE_FILE, "w") as f:
    f.write(NODE)
URI = "test://" + NODE_FILE


def run(*args, uri=URI):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    argv = [CLI] + list(args) + (["--connect", uri] if uri else [])
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def test_dry_run_default_views():
    rc, out, err = run("enable", "plain", "--dry-run")
    assert rc == 0, (rc, out, err)
    # a running persistent domain: the live domain and its definition
    assert "plain: would attach (live):" in out and "plain: would attach (config):" in out, out
    assert out.count("<target type='virtio' name='%s'/>" % NAME) == 2, out
    assert "<channel type='unix'>" in out and "<source mode='bind'/>" in out, out


def test_dry_run_one_view():
    rc, out, err = run("enable", "plain", "--dry-run", "--live")
    assert rc == 0 and "(live)" in out and "(config)" not in out, (rc, out, err)
    rc, out, err = run("enable", "off", "-n", "--config")
    assert rc == 0 and "off: would attach (config):" in out and "(live)" not in out, (rc, out)
    # an inactive domain: the definition only by default
    rc, out, err = run("enable", "off", "-n")
    assert rc == 0 and "(config)" in out and "(live)" not in out, (rc, out)


def test_live_on_inactive_refused():
    rc, out, err = run("enable", "off", "--live")
    assert rc == 2 and "off is not running" in err, (rc, out, err)


def test_enable_refused_when_present():
    rc, out, err = run("enable", "agent")
    assert rc == 2 and "agent already has the %s channel" % NAME in err, (rc, out, err)
    assert out == "", out


def test_disable_refused_when_absent():
    rc, out, err = run("disable", "plain", "--config")
    assert rc == 2 and "plain has no %s channel (config)" % NAME in err, (rc, out, err)


def test_disable_dry_run_detaches_what_the_xml_holds():
    rc, out, err = run("disable", "agent", "--dry-run")
    assert rc == 0, (rc, out, err)
    assert "agent: would detach (live):" in out and "agent: would detach (config):" in out, out
    assert out.count("<source mode='bind' path='/run/vt-test/agent.sock'/>") == 2, out


def test_all_skips_those_with_the_channel():
    rc, out, err = run("enable", "--all", "--dry-run")
    assert rc == 0, (rc, out, err)
    assert "agent: already has the %s channel (live and config), skipped" % NAME in out, out
    assert "plain: would attach (live)" in out and "plain: would attach (config)" in out, out
    assert "off: would attach (config)" in out and "off: would attach (live)" not in out, out


def test_libvirt_failure_is_exit_4():
    # the test driver has no device hotplug: libvirt's own error, exit 4
    rc, out, err = run("enable", "plain", "--config")
    assert rc == 4 and "plain: cannot attach the channel (config):" in err, (rc, out, err)
    assert "not supported" in err, err


def test_usage_errors():
    for args in (["enable"], ["enable", "a", "b"], ["enable", "--all", "plain"],
                 ["disable", "--all"], ["enable", "plain", "--bogus"]):
        rc, out, err = run(*args)
        assert rc == 2, (args, rc, out, err)
    rc, out, err = run("disable", "--all")
    assert "--all is for enable only" in err, err
    rc, out, err = run("enable", "nosuch")
    assert rc == 2 and "no domain 'nosuch'" in err, (rc, err)
    rc, out, err = run("enable", "bad\x1b[31mname")
    assert rc == 2 and "\x1b" not in err, repr(err)


def test_unreachable_is_exit_3():
    rc, out, err = run("enable", "plain", uri="test://" + os.path.join(TMP, "missing.xml"))
    assert rc == 3 and "cannot connect to test://" in err, (rc, err)


def test_help():
    rc, out, err = run("enable", "--help", uri=None)
    assert rc == 0, (rc, err)
    for o in ("--connect", "--live", "--config", "--dry-run", "--all"):
        assert o in out, (o, out)
    rc, out, err = run("--help", uri=None)
    assert "enable" in out and "disable" in out, out


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
    os.unlink(NODE_FILE)
    os.rmdir(TMP)
    sys.exit(1 if failed else 0)
