# SPDX-License-Identifier: GPL-2.0-or-later
"""One end-to-end run: a temporary directory, the guest image, a private libvirt
and the scenario guest, torn down on exit, on failure, and on SIGINT/SIGTERM/SIGHUP
(unless VT_E2E_KEEP=1 keeps them up for debugging)."""

import os
import shutil
import signal
import tempfile
import time

from . import image, libvirtd
from .daemon import VirtTuned
from .guest import Guest
from .tap import Tap
from .util import HarnessError, log, missing_requirements

GUEST_NAME = "vt-e2e-scenario"
HOSTILE_NAME = "vt-e2e-hostile"
E2E_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT_SCRIPT = os.path.join(E2E_DIR, "guest-init.sh")
# The guest's agent policy (allows channels and scheduler).
AGENT_CONF = os.path.join(E2E_DIR, "agent.conf")
POLICY_ALLOWED = ["channels", "scheduler"]


class Interrupted(Exception):
    pass


def _raise_interrupted(signum, _frame):
    raise Interrupted("signal %d" % signum)


class Session:
    def __init__(self, keep=None, cmdline_extra="", portable_agent=None):
        self.portable_agent = portable_agent
        self.keep = os.environ.get("VT_E2E_KEEP") == "1" if keep is None else keep
        self.cmdline_extra = cmdline_extra
        self.base = os.environ.get("VT_E2E_TMPDIR") or tempfile.gettempdir()
        self.workdir = None
        self.libvirt = None
        self.guest = None
        self.hostile = None
        self.daemon = None
        self.kernel = None
        self.timings = {}
        self.leftover_pids = []
        self._old_handlers = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, _raise_interrupted)
        libvirtd.cleanup_stale(self.base)
        self.workdir = tempfile.mkdtemp(prefix="vt-e2e.", dir=self.base)
        log("run directory %s" % self.workdir)
        return self

    def prepare(self):
        t0 = time.monotonic()
        self.kernel = image.fetch_kernel()
        self.timings["kernel"] = time.monotonic() - t0
        t0 = time.monotonic()
        self.initrd = image.build_initramfs(self.kernel,
                                            os.path.join(self.workdir, "initramfs.gz"),
                                            INIT_SCRIPT, self._guest_files(),
                                            portable_agent=self.portable_agent)
        self.timings["initramfs"] = time.monotonic() - t0
        self.libvirt = libvirtd.PrivateLibvirt(self.workdir)
        self.libvirt.start()
        self.timings["libvirtd"] = self.libvirt.start_seconds

    @staticmethod
    def _guest_files():
        with open(AGENT_CONF, "rb") as f:
            return {"/etc/virt-tune/agent.conf": f.read()}

    def boot(self, ready_timeout=120):
        """Starts the scenario guest and waits for its "VT-E2E: ready" line."""
        self.guest = Guest(self.libvirt, self.workdir, GUEST_NAME, self.kernel.vmlinuz,
                           self.initrd, self.cmdline_extra)
        t0 = time.monotonic()
        self.guest.start()
        self.timings["virsh_start"] = time.monotonic() - t0
        if not self.guest.console.wait(r"^VT-E2E: ready", ready_timeout):
            raise HarnessError("no 'VT-E2E: ready' on the console within %ds (state %s)\n"
                               "--- console tail\n%s" % (ready_timeout, self.guest.state(),
                                                         self.guest.console.tail()))
        self.timings["boot_to_ready"] = time.monotonic() - t0
        m = self.guest.console.find(r"^VT-E2E: ready t=([0-9.]+)")
        if m:
            self.timings["guest_uptime_at_ready"] = float(m.group(1))
        log("guest ready %.2fs after virsh start (guest clock %ss)" % (
            self.timings["boot_to_ready"], m.group(1) if m else "?"))
        return self.guest

    def start_daemon(self, channel="socket", poll_interval=1):
        """virt-tuned against this run's libvirtd (see vte2e/daemon.py)."""
        if self.daemon is None:
            self.daemon = VirtTuned(self.workdir, self.libvirt.uri, channel, poll_interval)
        self.daemon.start()
        return self.daemon

    def boot_hostile(self, ready_timeout=60):
        """A second, small domain whose channel sends garbage and oversize frames."""
        self.hostile = Guest(self.libvirt, self.workdir, HOSTILE_NAME, self.kernel.vmlinuz,
                             self.initrd, role="hostile")
        t0 = time.monotonic()
        self.hostile.start()
        if not self.hostile.console.wait(r"^VT-E2E: ready", ready_timeout):
            raise HarnessError("the hostile guest did not print 'VT-E2E: ready' within %ds\n"
                               "--- console tail\n%s" % (ready_timeout,
                                                          self.hostile.console.tail()))
        self.timings["hostile_boot_to_ready"] = time.monotonic() - t0
        return self.hostile

    def teardown(self):
        if self.daemon:
            self.daemon.stop()
        for g in (self.guest, self.hostile):
            if g:
                g.shell.close()
        if self.libvirt:
            self.leftover_pids = self.libvirt.stop()
            if self.leftover_pids:
                log("teardown: processes still alive: %s" % self.leftover_pids)
        if self.workdir and not self.leftover_pids:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.keep and self.workdir and exc_type is not Interrupted:
                open(os.path.join(self.workdir, libvirtd.KEEP_MARKER), "w").close()
                self.print_keep_help()
            else:
                self.teardown()
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)
        return False

    def print_keep_help(self):
        w = self.workdir
        uri = self.libvirt.uri if self.libvirt else "(libvirtd not started)"
        daemon = ""
        if self.daemon and self.daemon.running():
            daemon = ("  virt-tune list --socket %s   (virt-tuned pid %d, log %s)\n" % (
                self.daemon.socket, self.daemon.proc.pid, self.daemon.log_path))
        log("VT_E2E_KEEP=1: everything stays up in %s\n"
            "  virsh -c '%s' list --all\n"
            "%s"
            "  tail -f %s/console.log\n"
            "  tests/e2e/vt-e2e shell %s 'ethtool -l eth0'\n"
            "  logs: %s/libvirt/log/ (libvirtd.log, virtlogd.log, qemu/%s.log)\n"
            "  tear down: tests/e2e/vt-e2e down %s" % (
                w, uri, daemon, w, w, w, GUEST_NAME, w))


def main(run, programs=(), **session_args):
    """A test's whole run: TAP's skip naming what this machine lacks (the
    harness's requirements and @programs), else run(t, s, t0) in a Session,
    with TAP's bail-out when a signal ends it. Returns the exit code."""
    missing = missing_requirements()
    for prog in programs:
        if not any(os.access(os.path.join(d, prog), os.X_OK)
                   for d in ("/usr/bin", "/usr/sbin", "/sbin", "/bin")):
            missing.append("no %s (tools/install-deps e2e)" % prog)
    if missing:
        print("1..0 # SKIP " + "; ".join(missing))
        return 0
    t = Tap()
    t0 = time.monotonic()
    s = Session(**session_args)
    try:
        return run(t, s, t0)
    except Interrupted as e:
        t.bail("interrupted by %s; everything this run started was torn down" % e)
        return 1
