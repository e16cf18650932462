# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared harness for the daemon tests: real virt-tuned, real virt-tune, and
vt-guest-sim playing the guests, all under one temporary directory.

A libvirt test:/// node file describes the domains; each one with an agent
channel names DIR/guest-<i>.sock, where a simulator listens as QEMU would.
Tests wait on conditions with deadlines (wait_until), never on fixed sleeps.
"""

import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

BUILD = os.environ.get("VT_BUILD_ROOT", "")
SOURCE = os.environ.get("VT_SOURCE_ROOT", "")
DAEMON = os.environ.get("VT_DAEMON") or os.path.join(BUILD, "host", "virt-tuned")
CLI = os.environ.get("VT_CLI") or os.path.join(BUILD, "host", "cli", "virt-tune")
SIM = os.environ.get("VT_SIM") or os.path.join(BUILD, "tests", "sim", "vt-guest-sim")
# The report every honest simulated guest starts from: a real virtio guest's.
TEMPLATE = os.path.join(SOURCE, "tests", "data", "guests", "virtio-mq", "virtio-mq.expected.json")

CHANNEL = "org.virttune.agent.0"
# The template's devices, so that the daemon can match them to the XML.
TEMPLATE_MAC = "02:fc:00:00:00:01"
TEMPLATE_ROOT_SERIAL = "overlayblk"
TEMPLATE_DATA_SERIAL = "data-disk-01"

DEADLINE_S = 45.0  # generous: other builds share this machine


class Skip(Exception):
    pass


def uuid_of(i):
    return "6e0d7a1c-0000-4000-8000-%012d" % i


def wait_until(what, fn, timeout=DEADLINE_S, interval=0.1):
    """Poll fn() until it returns something true; return it. Fail with
    @what after @timeout seconds, showing the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except (AssertionError, LookupError) as e:  # not met yet (a domain not listed yet)
            last = e
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


def domain_xml(name, index, sock=None, queues=4, vcpus=4, memory_kib=1048576):
    """One running test-driver domain; sock: the agent channel's socket path
    (None: the domain has no agent channel)."""
    channel = ""
    if sock is not None:
        channel = ("    <channel type='unix'>\n"
                   "      <source mode='bind' path=%s/>\n"
                   "      <target type='virtio' name='%s'/>\n"
                   "    </channel>\n" % (quoteattr(sock), CHANNEL))
    driver = "      <driver name='vhost' queues='%d'/>\n" % queues if queues else ""
    return ("<domain type='test'>\n"
            "  <name>%s</name>\n"
            "  <uuid>%s</uuid>\n"
            "  <memory unit='KiB'>%d</memory>\n"
            "  <currentMemory unit='KiB'>%d</currentMemory>\n"
            "  <vcpu>%d</vcpu>\n"
            "  <os><type>hvm</type></os>\n"
            "  <devices>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='raw' cache='none' io='native'/>\n"
            "      <source file='/var/lib/libvirt/images/%s-root.img'/>\n"
            "      <target dev='vda' bus='virtio'/>\n"
            "      <serial>%s</serial>\n"
            "    </disk>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='qcow2' cache='writeback' io='threads'/>\n"
            "      <source file='/var/lib/libvirt/images/%s-data.qcow2'/>\n"
            "      <target dev='vdb' bus='virtio'/>\n"
            "      <serial>%s</serial>\n"
            "    </disk>\n"
            "    <interface type='network'>\n"
            "      <mac address='%s'/>\n"
            "      <source network='default'/>\n"
            "      <model type='virtio'/>\n"
            "%s"
            "    </interface>\n"
            "%s"
            "    <memballoon model='virtio'><stats period='5'/></memballoon>\n"
            "  </devices>\n"
            "</domain>\n"
            % (escape(name), uuid_of(index), memory_kib, memory_kib, vcpus, escape(name),
               TEMPLATE_ROOT_SERIAL, escape(name), TEMPLATE_DATA_SERIAL, TEMPLATE_MAC,
               driver, channel))


class Proc:
    def __init__(self, popen, name, log):
        self.popen = popen
        self.name = name
        self.log = log

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL; returns the exit status."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()

    def kill9(self):
        if self.alive():
            self.popen.kill()
        return self.popen.wait()


class Result:
    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def __repr__(self):
        return "virt-tune %s -> %d\nstdout: %s\nstderr: %s" % (
            " ".join(self.args), self.rc, self.out[-2000:], self.err[-2000:])


class Env:
    """One test's directory and the processes it started; close() ends
    every one of them and removes the directory. poll_interval_s: the
    daemon's --poll-interval (the tests poll every second, so that what
    libvirt says shows without waiting the daemon's default 10 s)."""

    def __init__(self, poll_interval_s=1):
        self.dir = tempfile.mkdtemp(prefix="vt-host-", dir="/tmp")
        # Traversable by the unprivileged clients of the permission tests.
        os.chmod(self.dir, 0o755)
        self.procs = []
        self.socket = os.path.join(self.dir, "ctl.sock")
        self.daemon = None
        self.poll_interval_s = poll_interval_s
        self.libvirt_socket = None  # set by start_libvirtd
        self.config = self.path("virt-tuned.conf")
        with open(self.config, "w") as f:
            f.write("[daemon]\n")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        if etype is not None and etype is not Skip:
            self.dump_logs()
        self.close()
        return False

    def dump_logs(self):
        for p in self.procs:
            try:
                with open(p.log, errors="replace") as f:
                    tail = f.read()[-3000:]
            except OSError:
                continue
            diag("--- %s (pid %d) log tail ---" % (p.name, p.pid))
            diag(tail)

    def close(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:  # keep cleaning up the others
                p.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _spawn(self, name, argv, **kw):
        log = self.path("%s-%d.log" % (name, len(self.procs)))
        logf = open(log, "w")
        popen = subprocess.Popen(argv, stdout=kw.pop("stdout", logf), stderr=logf,
                                 stdin=subprocess.DEVNULL, **kw)
        logf.close()
        p = Proc(popen, name, log)
        self.procs.append(p)
        return p

    # ------------------------------------------------------------ guests

    def node(self, domains, name="node.xml"):
        """domains: list of (name, index, sock or None[, extra kwargs])."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write("<node>\n")
            for d in domains:
                kw = d[3] if len(d) > 3 else {}
                f.write(domain_xml(d[0], d[1], d[2], **kw))
            f.write("</node>\n")
        return path

    def start_sim(self, subdir, count, mode="honest", interval_ms=1000, report=TEMPLATE,
                  hostname=None, timeout=DEADLINE_S, extra=()):
        """Start vt-guest-sim listening on DIR/subdir/guest-<i>.sock; returns
        once it says it is ready."""
        d = self.path(subdir)
        os.makedirs(d, exist_ok=True)
        argv = [SIM, "--dir", d, "--count", str(count), "--mode", mode,
                "--interval-ms", str(interval_ms)]
        if report:
            argv += ["--report", report]
        if hostname is not None:
            argv += ["--hostname", hostname]
        argv += list(extra)
        p = self._spawn("sim-" + subdir, argv, stdout=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not p.alive():
                raise AssertionError("vt-guest-sim did not get ready: %r" % line)
            r, _, _ = select.select([p.popen.stdout], [], [], left)
            if r:
                c = os.read(p.popen.stdout.fileno(), 1)
                if not c:
                    raise AssertionError("vt-guest-sim exited: %r" % line)
                line += c
        words = line.decode().split()
        assert words[0] == "ready" and int(words[1]) == count, line
        p.report_bytes = int(words[3]) if len(words) > 3 else None
        p.dir = d
        return p

    def sock(self, subdir, i):
        return self.path(subdir, "guest-%d.sock" % i)

    # ------------------------------------------------------------ libvirt

    def node_uri(self, node):
        """The URI of the test:/// node file @node: opened in the daemon's
        own process, or served by the libvirtd of start_libvirtd."""
        if self.libvirt_socket is None:
            return "test://" + node
        return "test+unix://%s?socket=%s" % (quote(node), quote(self.libvirt_socket))

    def start_libvirtd(self, timeout=DEADLINE_S):
        """A private libvirtd, unprivileged (session mode), with its socket,
        configuration and caches under DIR/libvirtd, so that it sees nothing
        of the user's own; the daemons started after this reach their node
        through it. Run as root, it runs as nobody: a root libvirtd is the
        system one (/run/libvirt, /var/lib/libvirt, the host's networks).
        Returns once its socket accepts a connection."""
        exe = shutil.which("libvirtd", path=os.pathsep.join(
            [os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
        if exe is None:
            raise Skip("no libvirtd")
        home = self.path("libvirtd")
        run = os.path.join(home, "run")
        os.makedirs(home)
        conf = os.path.join(home, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\n' % run)
        os.chmod(conf, 0o644)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C",
               "HOME": home, "XDG_RUNTIME_DIR": run,
               "XDG_CONFIG_HOME": os.path.join(home, "config"),
               "XDG_CACHE_HOME": os.path.join(home, "cache"),
               "XDG_DATA_HOME": os.path.join(home, "data")}
        kw = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            os.chown(home, pw.pw_uid, pw.pw_gid)
            kw = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        p = self._spawn("libvirtd", [exe, "--config", conf], env=env, cwd=home, **kw)
        path = os.path.join(run, "libvirt-sock")

        def accepts():
            if not p.alive():
                raise RuntimeError("libvirtd exited with status %s" % p.popen.returncode)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(path)
                except OSError:
                    return False
            return True
        wait_until("libvirtd to listen on %s" % path, accepts, timeout=timeout)
        self.libvirt_socket = path
        return p

    # ------------------------------------------------------------ daemon

    def daemon_argv(self, node, state="state", extra=(), socket_path=None):
        return [DAEMON, "--connect", self.node_uri(node), "--channel", "socket",
                "--state-dir", self.path(state), "--socket", socket_path or self.socket,
                "--config", self.config, "--poll-interval", str(self.poll_interval_s)
                ] + list(extra)

    def start_daemon(self, node, state="state", extra=(), wait=True):
        p = self._spawn("virt-tuned", self.daemon_argv(node, state, extra),
                        env=dict(os.environ, G_MESSAGES_DEBUG=""))
        self.daemon = p
        if wait:
            self.wait_daemon(p)
        return p

    def wait_daemon(self, p):
        def answers():
            if not p.alive():
                raise RuntimeError("virt-tuned exited with status %s" % p.popen.returncode)
            return self.cli("status").rc == 0
        wait_until("the control socket to answer", answers)

    # ------------------------------------------------------------ CLI

    def cli(self, *args, socket=True, env=None, timeout=60, **kw):
        argv = [CLI] + list(args)
        if socket and "--socket" not in args and args and args[0] not in ("analyze",):
            argv += ["--socket", self.socket]
        e = dict(os.environ)
        e.pop("VIRT_TUNE_SOCKET", None)
        # a GLib critical in the CLI (a JSON member read without checking) fails the test
        e["G_DEBUG"] = ",".join(x for x in (e.get("G_DEBUG"), "fatal-criticals") if x)
        if env:
            e.update(env)
        cp = subprocess.run(argv, capture_output=True, timeout=timeout, env=e,
                            stdin=subprocess.DEVNULL, **kw)
        return Result(list(args), cp.returncode, cp.stdout.decode(errors="replace"),
                      cp.stderr.decode(errors="replace"))

    def json(self, *args, **kw):
        r = self.cli(*args, "--format", "json", **kw)
        assert r.rc == 0, r
        return json.loads(r.out)

    def guests(self):
        """`virt-tune list` as a dict by domain name."""
        return {g["domain"]: g for g in self.json("list")}

    def show(self, domain):
        return self.json("show", domain)

    def uptime(self, domain):
        """The simulated guest's report counter: uptime_s grows by one per
        report it sends (see vt-guest-sim)."""
        rep = self.show(domain).get("report") or {}
        return (rep.get("identity") or {}).get("uptime_s")

    def history(self, domain, limit=10000):
        return self.json("history", domain, "--limit", str(limit))


def fail(msg):
    raise AssertionError(msg)


# ------------------------------------------------------------------ TAP


def diag(text):
    for line in str(text).splitlines():
        print("# " + line)
    sys.stdout.flush()


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def run(self, name, fn):
        self.n += 1
        try:
            fn()
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (self.n, name, e))
        except Exception:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            diag(traceback.format_exc())
        else:
            print("ok %d - %s" % (self.n, name))
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def main(tests):
    """tests: list of (name, function); run them all (or those named in
    argv) as one TAP stream."""
    tap = Tap()
    only = sys.argv[1:]
    for name, fn in tests:
        if only and not any(o in name for o in only):
            continue
        tap.run(name, fn)
    tap.done()
