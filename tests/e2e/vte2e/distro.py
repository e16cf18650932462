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
import signal
import subprocess
import time
from xml.sax.saxutils import escape

from .util import HarnessError, cache_dir, log, run, wait_for

SUITE = "bookworm"
# Beyond minbase, only what the test uses: systemd as PID 1 with udev, dbus
# (logind, for qemu-ga's shutdown -r), ethtool, qemu-guest-agent, a kernel,
# kmod (modprobe: the kernel loads bfq through it), e2fsprogs (fsck of the
# root) and procps (/bin/kill, the unit's ExecReload). No Recommends
# (mmdebstrap's default).
PACKAGES = ["systemd", "systemd-sysv", "udev", "dbus", "ethtool", "qemu-guest-agent",
            "linux-image-cloud-amd64", "kmod", "e2fsprogs", "procps"]
# Boot-time work nothing here needs, masked in each image: e2scrub_reap
# alone held the boot for ~20 s under TCG, and a timer that fires during
# the test (apt-daily) would compete for the CPU.
MASKED_UNITS = ["e2scrub_reap.service", "e2scrub_all.timer", "apt-daily.timer",
                "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "fstrim.timer",
                "systemd-tmpfiles-clean.timer"]
# Nothing in the test reads these; leaving them out saves unpacking (~66 MB)
# and systemd-hwdb's database build.
PATH_EXCLUDE = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*",
                "/usr/share/locale/*", "/usr/lib/udev/hwdb.d/*"]
# MODULES=list instead of Debian's "most": the initramfs gets only what
# mounts a virtio root (ext4 is built in), ~4x faster to make and 5.8 MB
# instead of 15 MB to load under TCG.
INITRAMFS_FILES = {
    "etc/initramfs-tools/conf.d/vt-e2e.conf": "MODULES=list\n",
    "usr/share/initramfs-tools/modules.d/vt-e2e": "virtio_pci\nvirtio_blk\n",
}
IMAGE_MIB = 2048
QGA_CHANNEL = "org.qemu.guest_agent.0"
NIC_MAC = "52:54:00:7e:2e:0d"
DATA_DEV = "vdb"
DATA_SERIAL = "vt-data"
# The image's own settings, in the distro's directories (/usr/lib) under
# names an image or a distro default would use: one combined channel on eth0
# (4 queues, 2 vCPUs) and bfq on the data disk, so that nic.queues and
# blk.scheduler have something to recommend. The product's drop-ins must win
# over them: only the first matching .link file in lexical order applies
# (10-virt-tune-eth0.link < 50-…), and udev rules run in lexical order with the
# last write winning (60-… < 90-virt-tune.rules).
IMAGE_LINK = "usr/lib/systemd/network/50-vt-e2e-eth0.link"
IMAGE_FILES = {
    IMAGE_LINK: """\
[Match]
MACAddress={mac}

[Link]
NamePolicy=keep kernel database onboard slot path
AlternativeNamesPolicy=database onboard slot path
MACAddressPolicy=persistent
CombinedChannels=1
""".format(mac=NIC_MAC),
    "usr/lib/udev/rules.d/60-vt-e2e-scheduler.rules":
        'ACTION=="add|change", SUBSYSTEM=="block", KERNEL=="{dev}", '
        'ATTR{{queue/scheduler}}="bfq"\n'.format(dev=DATA_DEV),
}
AGENT_CONF = b"""[agent]
interval=2

[apply]
allow=channels;scheduler
persist=true
"""

# A Debian guest booted from its image's own kernel and initrd, with
# qemu-guest-agent's channel and a console file; {devices}: the rest.
DOMAIN_XML = """\
<domain type='{dtype}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
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
{devices}    <channel type='unix'>
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

# The agent's guest: a data disk, a 4-queue NIC and the product's channel.
AGENT_DEVICES = """\
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{data}'/>
      <target dev='{data_dev}' bus='virtio'/>
      <serial>{data_serial}</serial>
    </disk>
    <interface type='ethernet'>
      <mac address='{mac}'/>
      <model type='virtio'/>
      <driver name='qemu' queues='4'/>
    </interface>
    <channel type='unix'>
      <source mode='bind' path='{agent_sock}'/>
      <target type='virtio' name='org.virttune.agent.0'/>
    </channel>
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


def mounts_under(path):
    """Mount points at or below path in this mount namespace."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].replace("\\040", " ") for line in f]
    return [p for p in points if p == path or p.startswith(path + "/")]


def stage_files(stage):
    """The files put into the root before anything is installed (mmdebstrap's
    sync-in, no shell): the initramfs configuration."""
    shutil.rmtree(stage, ignore_errors=True)
    for rel, text in INITRAMFS_FILES.items():
        path = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.makedirs(os.path.join(stage, "var/cache/apt/archives"), exist_ok=True)


class BaseRoot:
    """The cached Debian root (a directory). When it is not cached yet,
    mmdebstrap builds it in the background (start()) while the caller does
    other work (the .deb); wait() returns it. mmdebstrap runs in a mount
    namespace of its own, so the bind mounts it makes in the chroot die with
    it even when it is killed; the .debs it downloads are kept in
    e2e-cache/distro/apt-archives for the next cold build."""

    def __init__(self, extra_packages=()):
        self.cache = os.path.join(cache_dir(), "distro")
        self.packages = PACKAGES + sorted(set(extra_packages) - set(PACKAGES))
        # one root per package set ("agent": PACKAGES alone), named after what
        # it is built from: a change of the recipe builds anew
        self.flavor = "agent" if not extra_packages else "extra" + hashlib.sha256(
            ",".join(sorted(extra_packages)).encode()).hexdigest()[:8]
        recipe = json.dumps([SUITE, self.packages, PATH_EXCLUDE, INITRAMFS_FILES, "unsafe-io"],
                            sort_keys=True)
        self.name = "%s-%s-%s-root" % (SUITE, self.flavor,
                                       hashlib.sha256(recipe.encode()).hexdigest()[:12])
        self.path = os.path.join(self.cache, self.name)
        self.tmp = self.path + ".tmp"
        self.proc = None
        self.t0 = None
        self.seconds = None  # how long the build took; None when it was cached

    def argv(self, stage, archives):
        return (["unshare", "--mount", "--propagation", "private", "nice", "mmdebstrap",
                 "--variant=minbase", "--include=" + ",".join(self.packages),
                 "--skip=essential/unlink",
                 "--setup-hook=sync-in %s /" % stage,
                 "--setup-hook=sync-in %s /var/cache/apt/archives/" % archives,
                 "--customize-hook=sync-out /var/cache/apt/archives %s" % archives]
                # no fsync per unpacked file: one syncfs before the root is
                # renamed into place (wait()); an unfinished build is rebuilt
                + ["--dpkgopt=force-unsafe-io"]
                + ["--dpkgopt=path-exclude=%s" % x for x in PATH_EXCLUDE]
                + [SUITE, self.tmp] + apt_sources())

    def start(self):
        if os.path.isdir(self.path):
            return self
        os.makedirs(self.cache, exist_ok=True)
        if os.path.exists(self.tmp):
            left = mounts_under(self.tmp)
            if left:
                raise HarnessError("%s has mounts (%s): unmount them first" % (self.tmp, left))
            shutil.rmtree(self.tmp)
        stage = os.path.join(self.cache, "stage")
        archives = os.path.join(self.cache, "apt-archives")
        for d in (stage, archives):
            if " " in d:
                raise HarnessError("mmdebstrap's sync hooks take no spaces: %s" % d)
        stage_files(stage)
        os.makedirs(archives, exist_ok=True)
        self.log = open(os.path.join(self.cache, "mmdebstrap.log"), "w")
        self.t0 = time.monotonic()
        log("building the distro root with mmdebstrap (log: %s)" % self.log.name)
        self.proc = subprocess.Popen(self.argv(stage, archives), stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait(self, timeout=1200):
        if self.proc is None:
            return self.path
        try:
            rc = self.proc.wait(timeout=max(1, timeout - (time.monotonic() - self.t0)))
        except subprocess.TimeoutExpired:
            self.stop()
            raise HarnessError("mmdebstrap took over %d s (%s)" % (timeout, self.log.name))
        self.proc = None
        self.log.close()
        if rc != 0:
            with open(self.log.name, errors="replace") as f:
                raise HarnessError("mmdebstrap exit %d: %s" % (rc, f.read()[-3000:]))
        run(["sync", "--file-system", self.tmp], timeout=300)
        os.rename(self.tmp, self.path)
        self.seconds = time.monotonic() - self.t0
        for old in glob.glob(os.path.join(self.cache, "%s-%s-*root" % (SUITE, self.flavor))):
            if os.path.basename(old) != self.name and not mounts_under(old):
                shutil.rmtree(old, ignore_errors=True)  # from an earlier recipe
        log("distro root %s built in %.0fs" % (self.path, self.seconds))
        return self.path

    def stop(self):
        """Ends a build still running (the caller failed meanwhile)."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc = None
        self.log.close()


def base_root(extra_packages=(), timeout=1800):
    """The cached root with EXTRA_PACKAGES on top of PACKAGES, built now
    when it is not cached yet (mmdebstrap in the foreground)."""
    return BaseRoot(extra_packages).start().wait(timeout)


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
    """ROOT (removed afterwards) → <workdir>/distro.ext4 with an fstab,
    HOSTNAME and the boot-time work nothing here needs masked, and its kernel
    and initrd copied out. Returns (image, kernel, initrd)."""
    with open(os.path.join(root, "etc/fstab"), "w") as f:
        f.write("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
    with open(os.path.join(root, "etc/hostname"), "w") as f:
        f.write(hostname + "\n")
    for unit in MASKED_UNITS:
        os.symlink("/dev/null", os.path.join(root, "etc/systemd/system", unit))
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


def build_image(workdir, deb, base):
    """Copy of the cached root BASE + dpkg -i DEB + agent.conf and the
    image's own starting settings → ext4 image, and an empty data disk.
    Returns (image, data disk, kernel, initrd)."""
    t0 = time.monotonic()
    root = os.path.join(workdir, "distro-root")
    run(["cp", "-a", base, root], timeout=300)
    install_debs(root, [deb])
    with open(os.path.join(root, "etc/virt-tune/agent.conf"), "wb") as f:
        f.write(AGENT_CONF)
    for rel, text in IMAGE_FILES.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    image, kernel, initrd = pack_image(workdir, root, "vt-e2e-distro")
    data = os.path.join(workdir, "distro-data.raw")
    with open(data, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    log("distro image %s in %.1fs" % (image, time.monotonic() - t0))
    return image, data, kernel, initrd


def guest_xml(name, workdir, image, kernel, initrd, dtype, memory_mib, devices=""):
    """DOMAIN_XML for a guest whose files are in WORKDIR; DEVICES: XML, escaped."""
    return DOMAIN_XML.format(
        dtype=dtype, name=escape(name), memory=memory_mib, kernel=escape(kernel),
        initrd=escape(initrd), image=escape(image), qga=QGA_CHANNEL, devices=devices,
        qga_sock=escape(os.path.join(workdir, "distro-qga.sock")),
        console=escape(os.path.join(workdir, "distro-console.log")))


def domain_xml(name, workdir, image, data, kernel, initrd, dtype):
    devices = AGENT_DEVICES.format(
        data=escape(data), mac=NIC_MAC, data_dev=DATA_DEV, data_serial=DATA_SERIAL,
        agent_sock=escape(os.path.join(workdir, "distro-agent.sock")))
    return guest_xml(name, workdir, image, kernel, initrd, dtype, 512, devices)


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
