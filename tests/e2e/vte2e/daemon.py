# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-tuned and virt-tune against the run's private libvirtd.

The daemon runs on the host side of the namespace (as an operator's would),
with every path in the run directory: --state-dir <run>/virt-tune, --socket
<run>/virt-tune/virt-tuned.sock, --config <run>/virt-tune/virt-tuned.conf. It
reaches the guest's channel through the socket path of the live XML, which
the scenario puts in the run directory where both sides see it
(--channel socket), or through virDomainOpenChannel (--channel stream). Its
pid is recorded in <run>/virt-tuned.json so that a run whose harness was
killed is cleaned up by the next one."""

import json
import os
import signal
import subprocess
import time

from .libvirtd import proc_start_time
from .util import HarnessError, build_root, log, run, wait_for

STATE_FILE = "virt-tuned.json"


def daemon_binary():
    path = os.environ.get("VT_E2E_DAEMON") or os.path.join(build_root(), "host", "virt-tuned")
    if not os.access(path, os.X_OK):
        raise HarnessError("no virt-tuned at %s: build first (ninja -C build) or set "
                           "VT_E2E_DAEMON" % path)
    return path


def cli_binary():
    path = os.environ.get("VT_E2E_CLI") or os.path.join(build_root(), "host", "cli", "virt-tune")
    if not os.access(path, os.X_OK):
        raise HarnessError("no virt-tune at %s: build first (ninja -C build) or set VT_E2E_CLI"
                           % path)
    return path


class CliResult:
    def __init__(self, argv, res):
        self.argv = argv
        self.rc = res.returncode
        self.out = res.stdout
        self.err = res.stderr.strip()

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None

    def describe(self):
        return "`%s` exit %d: %s%s" % (" ".join(self.argv[1:]), self.rc,
                                       self.err + (" / " if self.err else ""),
                                       self.out.strip()[:1500])


class VirtTuned:
    def __init__(self, workdir, uri, channel="socket", poll_interval=1):
        self.workdir = workdir
        self.dir = os.path.join(workdir, "virt-tune")
        self.socket = os.path.join(self.dir, "virt-tuned.sock")
        self.config = os.path.join(self.dir, "virt-tuned.conf")
        self.log_path = os.path.join(self.dir, "virt-tuned.log")
        self.uri = uri
        self.channel = channel
        self.poll_interval = poll_interval
        self.proc = None
        self.starts = 0
        os.makedirs(self.dir, exist_ok=True)
        with open(self.config, "w") as f:
            f.write("# virt-tuned of the end-to-end run: every path is a flag\n[daemon]\n")

    def argv(self):
        return [daemon_binary(), "--connect", self.uri, "--state-dir", self.dir,
                "--socket", self.socket, "--config", self.config,
                "--poll-interval", str(self.poll_interval), "--channel", self.channel]

    def start(self, timeout=15):
        """Starts virt-tuned and waits until `virt-tune status` answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("virt-tuned already runs (pid %d)" % self.proc.pid)
        # Info messages (connected, reconnecting, agent connected) are what a
        # reader of the log needs; the daemon logs without a domain, so "all".
        env = dict(os.environ, G_MESSAGES_DEBUG="all")
        out = open(self.log_path, "ab")
        out.write(("--- start %d: %s\n" % (self.starts + 1, " ".join(self.argv()))).encode())
        out.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        out.close()
        self.starts += 1
        with open(os.path.join(self.workdir, STATE_FILE), "w") as f:
            json.dump({"pid": self.proc.pid, "start": proc_start_time(self.proc.pid)}, f)
        t0 = time.monotonic()
        ok = wait_for(lambda: self.proc.poll() is not None
                      or self.cli("status", fmt="json").rc == 0, timeout, 0.1)
        if self.proc.poll() is not None or not ok:
            raise HarnessError("virt-tuned did not answer within %ds (exit %s)\n"
                               "--- %s\n%s" % (timeout, self.proc.poll(), self.log_path,
                                               self.log_tail()))
        log("virt-tuned up (pid %d, --channel %s) in %.2fs" % (
            self.proc.pid, self.channel, time.monotonic() - t0))
        return self.proc.pid

    def kill9(self):
        """SIGKILL, as a crash would: no cleanup of the socket or the database."""
        pid = self.proc.pid
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        log("virt-tuned %d killed with SIGKILL" % pid)
        return pid

    def stop(self):
        """SIGTERM, then SIGKILL; returns the exit code (None if it was not running)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(timeout=10)
        self.proc = None
        try:
            os.unlink(os.path.join(self.workdir, STATE_FILE))
        except OSError:
            pass
        return rc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args, fmt="json", timeout=60):
        argv = [cli_binary()] + list(args) + ["--socket", self.socket]
        if fmt:
            argv += ["--format", fmt]
        return CliResult(argv, run(argv, timeout=timeout, check=False))

    def cli_json(self, *args, timeout=60):
        """The parsed JSON of a command that must succeed."""
        res = self.cli(*args, timeout=timeout)
        data = res.json() if res.rc == 0 else None
        if data is None:
            raise HarnessError(res.describe())
        return data

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=25):
        """The last lines of the log, without libvirt-glib's event-loop debug chatter."""
        keep = [l for l in self.log_text().splitlines() if l.strip() and "DEBUG:" not in l]
        return "\n".join(keep[-lines:])


def cleanup_stale(workdir):
    """Ends the virt-tuned of a run whose harness died (same pid *and* start time)."""
    try:
        with open(os.path.join(workdir, STATE_FILE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return
    pid = state.get("pid")
    start = state.get("start")

    def alive():
        # A zombie keeps its start time; its state letter tells it apart.
        if not isinstance(pid, int) or proc_start_time(pid) != start:
            return False
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if not alive():
            break
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        wait_for(lambda: not alive(), grace, 0.05)
    try:
        os.unlink(os.path.join(workdir, STATE_FILE))
    except OSError:
        pass
