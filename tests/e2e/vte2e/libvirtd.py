# SPDX-License-Identifier: GPL-2.0-or-later
"""A private virtlogd + libvirtd that touch nothing outside one temporary directory.

They run in their own mount and network namespaces (unshare --mount --net), where
private directories under the run directory are bind-mounted over /etc/libvirt,
/var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /run/libvirt. Where one
of those does not exist on the host, its parent gets an overlay inside the
namespace so that the mount point is made there and not on the host. tini -s is
the namespace's first process and a child subreaper, with libvirtd as its direct
child (the host's PID 1 reaps orphans slowly and libvirt waits for each QEMU to
vanish). Clients outside use qemu:///system?socket=<run>/run/libvirt-sock.

Teardown kills every process whose mount namespace is this one (checked twice:
the namespace inode, and that the process sees this run's bind mounts), after
which the namespace and all its mounts and the tap devices are gone with it.
"""

import json
import os
import shutil
import signal
import subprocess
import time

from .util import HarnessError, log, proc_comm, rss_kib, run, wait_for

PRIVATE_DIRS = [
    ("etc", "/etc/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("log", "/var/log/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("run", "/run/libvirt"),
]

STATE_FILE = "libvirt-state.json"
KEEP_MARKER = "KEEP"

LIBVIRTD_CONF = """\
# Private libvirtd of the virt-tune end-to-end harness.
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
log_outputs = "{level}:file:/var/log/libvirt/libvirtd.log"
"""

VIRTLOGD_CONF = """\
log_outputs = "{level}:file:/var/log/libvirt/virtlogd.log"
"""

# user/group root: otherwise libvirt re-probes QEMU on every start (/dev/kvm is
# root-only here). No cgroups: they would leave empty directories on the host.
# No per-QEMU mount namespace and no security driver: nothing to gain inside an
# already private namespace, and they cost start time.
QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
"""

# Runs as the namespace's first shell; $1 is the run directory.
NS_SCRIPT = r"""
set -eu
run=$1
mount --make-rprivate /
for pair in etc:/etc/libvirt lib:/var/lib/libvirt log:/var/log/libvirt \
            cache:/var/cache/libvirt run:/run/libvirt; do
	src=$run/${pair%%:*}
	dst=${pair#*:}
	if [ ! -d "$dst" ]; then
		parent=${dst%/*}
		ov=$run/overlay/$(echo "$parent" | tr / _)
		if [ ! -d "$ov" ]; then
			mkdir -p "$ov/upper" "$ov/work"
			mount -t overlay overlay -o "lowerdir=$parent,upperdir=$ov/upper,workdir=$ov/work" "$parent"
		fi
		mkdir -p "$dst"
	fi
	mount --bind "$src" "$dst"
done
# libvirt resolves its built-in QEMU user before reading qemu.conf, and only
# libvirt-daemon-system (which would also start a libvirtd on the host) creates
# it: give the namespace a passwd and group that have it.
mount --bind "$run/passwd" /etc/passwd
mount --bind "$run/group" /etc/group
ip link set lo up
echo ready > "$run/ns-ready"
# libvirtd is started again only when the harness asked for a restart (it
# creates $run/libvirtd.restart first); otherwise its exit ends the run.
exec tini -s -- sh -c '
virtlogd -d || exit 1
while :; do
	libvirtd
	rc=$?
	[ -e "$0/libvirtd.restart" ] || exit $rc
	rm -f "$0/libvirtd.restart"
	echo "libvirtd exited rc=$rc; starting it again"
done' "$run"
"""


def _ns_id(pid, kind="mnt"):
    try:
        return os.readlink("/proc/%d/ns/%s" % (pid, kind))
    except OSError:
        return None


def proc_start_time(pid):
    """Start time of pid in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _sees_mount(pid, path):
    try:
        with open("/proc/%d/mountinfo" % pid) as f:
            return path in f.read()
    except OSError:
        return False


def namespace_pids(mnt_ns, marker_path):
    """Pids in mount namespace mnt_ns that also see marker_path among their mounts
    (a namespace inode number alone could be reused by a later namespace)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == os.getpid() or _ns_id(pid) != mnt_ns:
            continue
        if _sees_mount(pid, marker_path):
            pids.append(pid)
    return pids


def kill_namespace(mnt_ns, marker_path, grace=3.0, reaper=None):
    """SIGTERM, then SIGKILL, every process of the namespace; returns leftovers.

    The reaper (tini) goes last, so that it reaps the others at once: orphans
    left to the host's PID 1 stay zombies for a second or two."""
    for last_round in (False, True):
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            pids = [p for p in namespace_pids(mnt_ns, marker_path)
                    if last_round or p != reaper]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            wait_for(lambda: not set(pids) & set(namespace_pids(mnt_ns, marker_path)),
                     wait, 0.05)
    return namespace_pids(mnt_ns, marker_path)


class PrivateLibvirt:
    def __init__(self, workdir):
        self.workdir = workdir
        self.dir = os.path.join(workdir, "libvirt")
        self.proc = None
        self.mnt_ns = None
        self.uri = "qemu:///system?socket=%s" % os.path.join(self.dir, "run", "libvirt-sock")
        self.log_dir = os.path.join(self.dir, "log")
        self.start_seconds = None

    # The run/ directory is bind-mounted in the namespace: seeing it in a
    # process's mountinfo proves that process belongs to this run.
    @property
    def marker(self):
        return os.path.join(self.dir, "run")

    def _write_config(self):
        level = "1" if os.environ.get("VT_E2E_DEBUG") else "3"
        for sub, _ in PRIVATE_DIRS:
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        etc = os.path.join(self.dir, "etc")
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write(LIBVIRTD_CONF.format(level=level))
        with open(os.path.join(etc, "virtlogd.conf"), "w") as f:
            f.write(VIRTLOGD_CONF.format(level=level))
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write(QEMU_CONF)
        # libvirt.conf on the host may set uri_default; here it is empty on purpose.
        open(os.path.join(etc, "libvirt.conf"), "w").close()
        for name, line in (("passwd", "libvirt-qemu:x:64055:64055:libvirt:/nonexistent:"
                                      "/usr/sbin/nologin\n"),
                           ("group", "libvirt-qemu:x:64055:\nkvm:x:64054:\n")):
            with open("/etc/" + name) as f:
                text = f.read()
            if not text.endswith("\n"):
                text += "\n"
            for entry in line.splitlines(True):
                if not any(l.split(":")[0] == entry.split(":")[0] for l in text.splitlines()):
                    text += entry
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)

    def start(self, timeout=30):
        t0 = time.monotonic()
        self._write_config()
        out = open(os.path.join(self.log_dir, "daemons.out"), "ab")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--net", "--propagation", "private", "--",
             "sh", "-c", NS_SCRIPT, "vt-e2e-ns", self.dir],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        out.close()
        ready = wait_for(lambda: os.path.exists(os.path.join(self.dir, "ns-ready"))
                         or self.proc.poll() is not None, 10)
        if self.proc.poll() is not None or not ready:
            raise HarnessError("the private namespace did not come up: see %s/daemons.out"
                               % self.log_dir)
        self.mnt_ns = _ns_id(self.proc.pid)
        with open(os.path.join(self.workdir, STATE_FILE), "w") as f:
            json.dump({"harness_pid": os.getpid(),
                       "harness_start": proc_start_time(os.getpid()), "ns_pid": self.proc.pid,
                       "mnt_ns": self.mnt_ns, "marker": self.marker}, f)

        def answers():
            if self.proc.poll() is not None:
                return "exited"
            sock = os.path.join(self.dir, "run", "libvirt-sock")
            if not os.path.exists(sock):
                return None
            res = run(["virsh", "-c", self.uri, "version"], check=False, timeout=15)
            return "ok" if res.returncode == 0 else None

        state = wait_for(answers, timeout, 0.1)
        if state != "ok":
            raise HarnessError("libvirtd %s: see %s/libvirtd.log and daemons.out" % (
                "exited" if state == "exited" else "did not answer within %ds" % timeout,
                self.log_dir))
        self.start_seconds = time.monotonic() - t0
        log("libvirtd up in %.2fs (%s)" % (self.start_seconds, self.uri))

    def libvirtd_pid(self):
        pids = [p for p in self.pids() if proc_comm(p) == "libvirtd"]
        return pids[0] if pids else None

    def restart_libvirtd(self, timeout=30):
        """Stops libvirtd (SIGTERM) and lets the namespace start it again; the
        guests keep running. Returns the seconds until the new one answers."""
        old = self.libvirtd_pid()
        if old is None:
            raise HarnessError("no libvirtd in the private namespace to restart")
        t0 = time.monotonic()
        open(os.path.join(self.dir, "libvirtd.restart"), "w").close()
        os.kill(old, signal.SIGTERM)
        if not wait_for(lambda: not os.path.exists("/proc/%d" % old)
                        or proc_comm(old) != "libvirtd", 15, 0.05):
            raise HarnessError("libvirtd %d did not stop within 15 s" % old)

        def answers():
            pid = self.libvirtd_pid()
            if pid is None or pid == old:
                return None
            res = run(["virsh", "-c", self.uri, "version"], check=False, timeout=15)
            return pid if res.returncode == 0 else None

        new = wait_for(answers, timeout, 0.1)
        if new is None:
            raise HarnessError("libvirtd did not come back within %ds: see %s/daemons.out"
                               % (timeout, self.log_dir))
        seconds = time.monotonic() - t0
        log("libvirtd restarted (pid %d -> %d) in %.2fs" % (old, new, seconds))
        return seconds

    def virsh(self, *args, timeout=60, check=True):
        return run(["virsh", "-q", "-c", self.uri] + list(args), timeout=timeout, check=check)

    def pids(self):
        if self.mnt_ns is None:
            return []
        return namespace_pids(self.mnt_ns, self.marker)

    def memory(self):
        """RSS in KiB by process name (qemu-system-x86_64, libvirtd, virtlogd, ...)."""
        out = {}
        for pid in self.pids():
            name = proc_comm(pid)
            out[name] = out.get(name, 0) + rss_kib(pid)
        return out

    def destroy_all_domains(self):
        res = self.virsh("list", "--all", "--name", check=False, timeout=20)
        for name in res.stdout.split():
            self.virsh("destroy", name, check=False, timeout=20)
            self.virsh("undefine", name, "--nvram", check=False, timeout=20)

    def stop(self):
        """Stops everything this run started; returns pids that survived (none)."""
        if self.proc is None:
            return []
        if self.proc.poll() is None and self.mnt_ns:
            try:
                self.destroy_all_domains()
            except HarnessError as e:
                log("teardown: %s" % e)
        left = kill_namespace(self.mnt_ns, self.marker, reaper=self.proc.pid) \
            if self.mnt_ns else []
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            left.append(self.proc.pid)
        self.proc = None
        return left


def cleanup_stale(base):
    """Tears down runs whose harness died (SIGKILL, power cut) and were not kept."""
    try:
        entries = os.listdir(base)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith("vt-e2e."):
            continue
        workdir = os.path.join(base, entry)
        state_path = os.path.join(workdir, STATE_FILE)
        if os.path.exists(os.path.join(workdir, KEEP_MARKER)):
            continue
        try:
            with open(state_path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            continue
        if proc_start_time(state["harness_pid"]) == state.get("harness_start"):
            continue  # a run in progress (someone else's, maybe)
        from . import daemon  # the run's virt-tuned, outside the namespace
        daemon.cleanup_stale(workdir)
        left = kill_namespace(state["mnt_ns"], state["marker"], reaper=state["ns_pid"])
        if left:
            log("stale run %s: could not end %s" % (workdir, left))
            continue
        log("removed stale run %s" % workdir)
        shutil.rmtree(workdir, ignore_errors=True)
