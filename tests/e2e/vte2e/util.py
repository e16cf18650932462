# SPDX-License-Identifier: GPL-2.0-or-later
"""Small helpers shared by the end-to-end harness: logging, commands, paths."""

import os
import subprocess
import sys
import time

# Every line the harness prints goes to stderr with this prefix, so that the
# TAP stream on stdout stays clean.
_T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[vt-e2e %6.1fs] %s\n" % (time.monotonic() - _T0, msg))
    sys.stderr.flush()


class HarnessError(Exception):
    """A step of the harness failed; the message says which and why."""


def run(argv, timeout=60, check=True, env=None, cwd=None, input=None):
    """Runs argv (never through a shell) and returns CompletedProcess with text."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             env=env, cwd=cwd, input=input)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("%s: no answer within %ss" % (" ".join(argv), timeout)) from e
    if check and res.returncode != 0:
        raise HarnessError("%s: exit %d: %s" % (" ".join(argv), res.returncode,
                                                (res.stderr or res.stdout).strip()[-2000:]))
    return res


def source_root():
    env = os.environ.get("VT_SOURCE_ROOT")
    if env:
        return env
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def build_root():
    env = os.environ.get("VT_BUILD_ROOT")
    if env:
        return env
    return os.path.join(source_root(), "build")


def cache_dir():
    """Downloaded kernels live here across runs ($VT_E2E_CACHE overrides)."""
    d = os.environ.get("VT_E2E_CACHE") or os.path.join(build_root(), "e2e-cache")
    os.makedirs(d, exist_ok=True)
    return d


def agent_binary():
    path = os.environ.get("VT_E2E_AGENT") or os.path.join(build_root(), "guest",
                                                           "virt-tune-agent")
    if not os.access(path, os.X_OK):
        raise HarnessError("no agent binary at %s: build first (ninja -C build) or set "
                           "VT_E2E_AGENT" % path)
    return path


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    """Polls predicate() until it returns a true value; returns it, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def missing_requirements():
    """What this machine lacks to run a guest, as a list of human-readable reasons."""
    missing = []
    if os.geteuid() != 0:
        missing.append("not root (a private libvirtd needs mount and network namespaces)")
    for prog in ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "tini", "unshare",
                 "dpkg-deb", "apt-get", "apt-cache", "ldd"):
        if not any(os.access(os.path.join(d, prog), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/bin:/bin").split(":")
                   + ["/usr/sbin", "/sbin"]):
            missing.append("no %s (tools/install-deps e2e)" % prog)
    if not os.path.exists("/bin/busybox"):
        missing.append("no /bin/busybox (tools/install-deps e2e installs busybox-static)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("no /dev/net/tun (the multi-queue NIC needs a tap)")
    return missing
