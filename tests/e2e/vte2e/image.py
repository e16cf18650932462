# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest image: Debian's cloud kernel (cached) and an initramfs built per run.

The kernel package is fetched with apt-get download and unpacked with dpkg-deb -x
into the cache; nothing is installed into /boot. The initramfs is a gzip'd cpio
(newc) written here, holding busybox, the virtio modules in dependency order,
virt-tune-agent, ethtool and (when installed) qemu-ga with the shared libraries ldd
lists, and /init.
"""

import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import time

from .util import HarnessError, agent_binary, cache_dir, log, run

KERNEL_META = "linux-image-cloud-amd64"

# Debian 12's 6.1 kernels ship every virtio driver as a module and no
# modules.dep: this is the order insmod needs (each needs the ones before it).
MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
           "virtio_pci", "virtio_console", "failover", "net_failover", "virtio_net",
           "virtio_blk", "virtio_balloon", "bfq"]

AGENT_PATH = "/usr/sbin/virt-tune-agent"


class Kernel:
    def __init__(self, root, release):
        self.root = root
        self.release = release
        self.vmlinuz = os.path.join(root, "boot", "vmlinuz-" + release)
        self.modules_dir = os.path.join(root, "lib", "modules", release)


def resolve_kernel_package():
    """linux-image-<abi>-cloud-amd64 as the metapackage depends on it today."""
    for attempt in range(2):
        res = run(["apt-cache", "depends", KERNEL_META], check=False)
        m = re.search(r"Depends:\s+(linux-image-\S+-cloud-amd64)\b", res.stdout)
        if m:
            return m.group(1)
        if attempt == 0:
            log("apt-cache knows no %s; running apt-get update once" % KERNEL_META)
            run(["apt-get", "update", "-qq"], timeout=300, check=False)
    return None


def fetch_kernel():
    """Returns a Kernel unpacked in the cache, downloading it on the first run."""
    kcache = os.path.join(cache_dir(), "kernel")
    os.makedirs(kcache, exist_ok=True)
    pkg = resolve_kernel_package()
    if pkg is None:
        # Offline: the newest kernel already unpacked will do.
        have = sorted(d for d in os.listdir(kcache) if os.path.exists(
            os.path.join(kcache, d, ".complete")))
        if not have:
            raise HarnessError("cannot resolve %s (apt-cache depends) and no kernel is "
                               "cached in %s" % (KERNEL_META, kcache))
        pkg = have[-1]
        log("apt-cache did not answer; using cached %s" % pkg)
    release = pkg[len("linux-image-"):]
    dest = os.path.join(kcache, pkg)
    if os.path.exists(os.path.join(dest, ".complete")):
        return Kernel(dest, release)

    t0 = time.monotonic()
    log("downloading %s (once; cached in %s)" % (pkg, kcache))
    with tempfile.TemporaryDirectory(dir=kcache, prefix=".dl-") as tmp:
        # apt drops to the _apt user for downloads unless told otherwise, and
        # that user cannot write into a root-owned temporary directory.
        run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg],
            cwd=tmp, timeout=600)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if len(debs) != 1:
            raise HarnessError("apt-get download %s left %r" % (pkg, debs))
        unpack = os.path.join(tmp, "root")
        run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), unpack], timeout=300)
        kernel = Kernel(unpack, release)
        if not os.path.exists(kernel.vmlinuz):
            raise HarnessError("%s has no %s" % (debs[0], kernel.vmlinuz))
        # Keep only what the guest needs: the kernel and its modules.
        shutil.rmtree(os.path.join(unpack, "usr"), ignore_errors=True)
        with open(os.path.join(unpack, ".complete"), "w") as f:
            f.write(debs[0] + "\n")
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.rename(unpack, dest)
    log("kernel %s ready in %.1fs" % (release, time.monotonic() - t0))
    return Kernel(dest, release)


def find_module(kernel, name):
    for dirpath, _dirs, files in os.walk(os.path.join(kernel.modules_dir, "kernel")):
        for f in files:
            if f == name + ".ko":
                return os.path.join(dirpath, f)
            if f.startswith(name + ".ko."):
                raise HarnessError("%s is compressed (%s); the initramfs loads plain "
                                   ".ko files with busybox insmod" % (name, f))
    raise HarnessError("kernel %s has no module %s" % (kernel.release, name))


def shared_libraries(binary):
    """The libraries (and ELF interpreter) ldd lists for binary; [] if static."""
    res = run(["ldd", binary], check=False)
    if "not a dynamic executable" in (res.stdout + res.stderr):
        return []
    if res.returncode != 0:
        raise HarnessError("ldd %s: %s" % (binary, res.stderr.strip()))
    libs = []
    for line in res.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            raise HarnessError("ldd %s: %s" % (binary, line))
        m = re.match(r"\S+ => (/\S+) \(", line) or re.match(r"(/\S+) \(", line)
        if m:
            libs.append(m.group(1))
    return libs


class Cpio:
    """Writes a cpio archive in the "newc" format the kernel unpacks."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.seen = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
        self.ino += 1
        self.out.write(hdr.encode() + name_b)
        self.out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.out.write(data)
        self.out.write(b"\0" * ((4 - len(data) % 4) % 4))

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.seen:
                self.seen.add(d)
                self._entry(d, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if path in self.seen:
            return
        self.mkdir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFREG | mode, data)

    def copy(self, src, path=None, mode=None):
        with open(src, "rb") as f:  # follows symlinks: the guest gets the real file
            data = f.read()
        if mode is None:
            mode = os.stat(src).st_mode & 0o777
        self.file(path or src, data, mode)

    def symlink(self, path, target):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def copy_program(cpio, binary, dest):
    cpio.copy(binary, dest, 0o755)
    for lib in shared_libraries(binary):
        cpio.copy(lib, lib, 0o755)


def build_initramfs(kernel, out_path, init_script, extra_files=None):
    """Writes the initramfs; extra_files maps guest paths to bytes (config, policy)."""
    t0 = time.monotonic()
    cpio = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp",
              "etc", "var/lib", "lib/modules", "mnt"):
        cpio.mkdir(d)
    copy_program(cpio, "/bin/busybox", "/bin/busybox")
    cpio.symlink("/bin/sh", "busybox")
    copy_program(cpio, agent_binary(), AGENT_PATH)
    copy_program(cpio, shutil.which("ethtool") or "/usr/sbin/ethtool", "/usr/sbin/ethtool")
    # QEMU's guest agent, for tests/bench/roundtrip; optional (qemu-guest-agent)
    qga = shutil.which("qemu-ga") or "/usr/sbin/qemu-ga"
    if os.access(qga, os.X_OK):
        copy_program(cpio, qga, "/usr/sbin/qemu-ga")
    for name in MODULES:
        cpio.copy(find_module(kernel, name), "/lib/modules/%s.ko" % name, 0o644)
    cpio.file("/lib/modules/order", ("\n".join(MODULES) + "\n").encode())
    with open(init_script, "rb") as f:
        cpio.file("/init", f.read(), 0o755)
    cpio.file("/etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
    cpio.file("/etc/group", b"root:x:0:\n")
    cpio.file("/etc/hostname", b"vt-e2e-guest\n")
    cpio.file("/etc/os-release",
              b'PRETTY_NAME="virt-tune e2e guest (busybox)"\nID=vt-e2e\n')
    for path, data in sorted((extra_files or {}).items()):
        cpio.file(path, data)
    raw = cpio.finish()
    # Level 1: the kernel inflates it under TCG, where size matters less than
    # the harness's own time to compress.
    packed = gzip.compress(raw, compresslevel=1, mtime=0)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(packed)
    os.rename(tmp, out_path)
    log("initramfs %s: %d KiB (%d KiB unpacked, sha256 %s) in %.2fs" % (
        os.path.basename(out_path), len(packed) // 1024, len(raw) // 1024,
        hashlib.sha256(packed).hexdigest()[:12], time.monotonic() - t0))
    return out_path

