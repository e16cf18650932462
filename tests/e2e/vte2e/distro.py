# SPDX-License-Identifier: GPL-2.0-or-later
"""The distro guest: a Debian 12 root built once with mmdebstrap from this
machine's own apt sources and cached like the kernel; per run, a copy with the
freshly built virt-tune-agent .deb installed by dpkg -i in a chroot and an
agent.conf, turned into an ext4 image with mkfs.ext4 -d (no loop mount), booted
with its own kernel and initrd. The harness's way in is qemu-guest-agent
(guest-exec), never the product's channel."""

import base64
import glob
import hashlib
import json
import os
import shutil
import time

from .util import HarnessError, cache_dir, log, run, wait_for

SUITE = "bookworm"
PACKAGES = ["systemd", "systemd-sysv", "udev", "dbus", "ethtool", "qemu-guest-agent",
            "linux-image-cloud-amd64", "kmod", "procps", "e2fsprogs"]
IMAGE_MIB = 2048
QGA_CHANNEL = "org.qemu.guest_agent.0"
AGENT_CONF = b"""[agent]
interval=2

[apply]
allow=channels;scheduler
persist=true
"""

DOMAIN_XML = """\
<domain type='{dtype}'>
  <name>{name}</name>
  <memory unit='MiB'>512</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{image}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{data}'/>
      <target dev='vdb' bus='virtio'/>
      <serial>vt-data</serial>
    </disk>
    <interface type='ethernet'>
      <mac address='52:54:00:7e:2e:0d'/>
      <model type='virtio'/>
      <driver name='qemu' queues='4'/>
    </interface>
    <channel type='unix'>
      <source mode='bind' path='{agent_sock}'/>
      <target type='virtio' name='org.virttune.agent.0'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='{qga_sock}'/>
      <target type='virtio' name='{qga}'/>
    </channel>
    <serial type='file'>
      <source path='{console}'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
  </devices>
</domain>
"""


def apt_sources():
    """The machine's configured apt sources files, each passed to mmdebstrap as
    a MIRROR (its contents become the chroot's sources)."""
    files = [f for f in ["/etc/apt/sources.list"] if os.path.getsize(f) > 0] \
        if os.path.exists("/etc/apt/sources.list") else []
    files += sorted(glob.glob("/etc/apt/sources.list.d/*.list") +
                    glob.glob("/etc/apt/sources.list.d/*.sources"))
    if not files:
        raise HarnessError("no apt sources configured on this machine")
    return files


def base_root(extra_packages=()):
    """The cached Debian root (a directory), built on first use (~60-120 s).
    EXTRA_PACKAGES go in on top of PACKAGES; each set has a root of its own."""
    cache = os.path.join(cache_dir(), "distro")
    name = "%s-root" % SUITE
    if extra_packages:
        key = ",".join(sorted(extra_packages)).encode()
        name += "-" + hashlib.sha256(key).hexdigest()[:12]
    root = os.path.join(cache, name)
    if os.path.isdir(root):
        return root
    os.makedirs(cache, exist_ok=True)
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.monotonic()
    run(["mmdebstrap", "--variant=minbase",
         "--include=" + ",".join(PACKAGES + list(extra_packages)), SUITE, tmp]
        + apt_sources(), timeout=1800 if extra_packages else 900)
    os.rename(tmp, root)
    log("distro root %s built in %.0fs" % (root, time.monotonic() - t0))
    return root


def install_debs(root, debs):
    """dpkg -i each .deb in a chroot of ROOT."""
    for deb in debs:
        inside = os.path.join("/tmp", os.path.basename(deb))
        shutil.copy(deb, root + inside)
        res = run(["chroot", root, "dpkg", "-i", inside], check=False, timeout=300)
        if res.returncode != 0:
            raise HarnessError("dpkg -i %s in the image: %s%s" % (
                os.path.basename(deb), res.stdout, res.stderr))
        os.unlink(root + inside)


def pack_image(workdir, root, hostname, mib=IMAGE_MIB):
    """ROOT (removed afterwards) → <workdir>/distro.ext4 with an fstab and
    HOSTNAME, and its kernel and initrd copied out. Returns (image, kernel, initrd)."""
    with open(os.path.join(root, "etc/fstab"), "w") as f:
        f.write("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
    with open(os.path.join(root, "etc/hostname"), "w") as f:
        f.write(hostname + "\n")
    boot = os.path.join(workdir, "distro-boot")
    os.makedirs(boot)
    kernel = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")))[-1]
    initrd = sorted(glob.glob(os.path.join(root, "boot", "initrd.img-*")))[-1]
    kernel = shutil.copy(kernel, boot)
    initrd = shutil.copy(initrd, boot)
    image = os.path.join(workdir, "distro.ext4")
    run(["mkfs.ext4", "-q", "-F", "-L", "vt-root", "-d", root, image, "%dM" % mib],
        timeout=300)
    shutil.rmtree(root, ignore_errors=True)
    return image, kernel, initrd


def build_image(workdir, deb):
    """Copy of the cached root + dpkg -i DEB + agent.conf → ext4 image, and
    an empty data disk. Returns (image, data, kernel, initrd)."""
    t0 = time.monotonic()
    root = os.path.join(workdir, "distro-root")
    run(["cp", "-a", base_root(), root], timeout=300)
    install_debs(root, [deb])
    with open(os.path.join(root, "etc/virt-tune/agent.conf"), "wb") as f:
        f.write(AGENT_CONF)
    image, kernel, initrd = pack_image(workdir, root, "vt-e2e-distro")
    data = os.path.join(workdir, "distro-data.raw")
    with open(data, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    log("distro image %s in %.1fs" % (image, time.monotonic() - t0))
    return image, data, kernel, initrd


def domain_xml(name, workdir, image, data, kernel, initrd, dtype):
    from xml.sax.saxutils import escape
    return DOMAIN_XML.format(
        dtype=dtype, name=escape(name), kernel=escape(kernel), initrd=escape(initrd),
        image=escape(image), data=escape(data), qga=QGA_CHANNEL,
        agent_sock=escape(os.path.join(workdir, "distro-agent.sock")),
        qga_sock=escape(os.path.join(workdir, "distro-qga.sock")),
        console=escape(os.path.join(workdir, "distro-console.log")))


class GuestAgent:
    """guest-exec through `virsh qemu-agent-command`."""

    def __init__(self, libvirt, name):
        self.libvirt = libvirt
        self.name = name

    def command(self, cmd, timeout=10):
        res = self.libvirt.virsh("qemu-agent-command", self.name, json.dumps(cmd),
                                 "--timeout", str(timeout), check=False, timeout=timeout + 10)
        if res.returncode != 0:
            return None
        return json.loads(res.stdout).get("return")

    def ping(self):
        return self.command({"execute": "guest-ping"}, timeout=5) is not None

    def wait(self, timeout):
        return wait_for(self.ping, timeout, 2)

    def exec(self, argv, timeout=60):
        """(exit code, stdout, stderr) of argv in the guest; rc None when it
        could not run."""
        started = self.command({"execute": "guest-exec", "arguments": {
            "path": argv[0], "arg": argv[1:], "capture-output": True}})
        if not started:
            return None, "", "guest-exec failed"
        pid = started["pid"]
        status = {}

        def done():
            status.update(self.command({"execute": "guest-exec-status",
                                        "arguments": {"pid": pid}}) or {})
            return status.get("exited", False)
        if not wait_for(done, timeout, 0.5):
            return None, "", "timed out"

        def text(key):
            return base64.b64decode(status.get(key, "")).decode(errors="replace")
        return status.get("exitcode"), text("out-data"), text("err-data")

    def sh(self, script, timeout=60):
        return self.exec(["/bin/sh", "-c", script], timeout)
