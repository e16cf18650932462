# SPDX-License-Identifier: GPL-2.0-or-later
"""The scenario guest: its domain XML, its console, and a command channel into it."""

import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from .util import HarnessError, log, wait_for

AGENT_CHANNEL = "org.virttune.agent.0"
SHELL_CHANNEL = "org.virttune.e2e.shell"
# QEMU's own guest agent (qemu-ga, when the host has it): tests/bench/roundtrip
# compares its round trip with the agent's.
QGA_CHANNEL = "org.qemu.guest_agent.0"

# What the scenario is made of; tests compare the guest against these.
SCENARIO = {
    "vcpus": 2,
    "memory_mib": 512,
    "nic_queues": 4,
    "nic_mac": "52:54:00:7e:2e:01",
    "nic_combined_after_init": 1,
    "balloon_period": 2,
    # serial -> (size MiB, role)
    "disks": [("vt-default", 64, "default scheduler"),
              ("vt-bfq", 64, "bfq set by init"),
              ("vt-swap", 384, "swap")],
}

DOMAIN_XML = """\
<domain type='{dtype}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <currentMemory unit='MiB'>{memory}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/><apic/></features>
{cpu}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{emulator}</emulator>
{disks}    <interface type='ethernet'>
      <mac address='{mac}'/>
      <model type='virtio'/>
      <driver name='qemu' queues='{queues}'/>
    </interface>
    <channel type='unix'>
      <source mode='bind' path='{agent_sock}'/>
      <target type='virtio' name='{agent_channel}'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='{shell_sock}'/>
      <target type='virtio' name='{shell_channel}'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='{qga_sock}'/>
      <target type='virtio' name='{qga_channel}'/>
    </channel>
    <serial type='file'>
      <source path='{console}'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='virtio'>
      <stats period='{balloon_period}'/>
    </memballoon>
  </devices>
</domain>
"""

# A second, small guest whose init sends garbage and oversize frames on the
# agent channel instead of running the agent (kernel command line vt.role=hostile).
HOSTILE = {"vcpus": 1, "memory_mib": 160}

HOSTILE_XML = """\
<domain type='{dtype}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <currentMemory unit='MiB'>{memory}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/><apic/></features>
{cpu}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{emulator}</emulator>
    <channel type='unix'>
      <source mode='bind' path='{agent_sock}'/>
      <target type='virtio' name='{agent_channel}'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='{shell_sock}'/>
      <target type='virtio' name='{shell_channel}'/>
    </channel>
    <serial type='file'>
      <source path='{console}'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""

DISK_XML = """\
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{path}'/>
      <target dev='{dev}' bus='virtio'/>
      <serial>{serial}</serial>
    </disk>
"""


def domain_type():
    """'qemu' (TCG) unless VT_E2E_DOMAIN_TYPE=kvm says this machine's KVM boots
    guests: /dev/kvm can exist and still fail to run one (a nested host whose
    KVM aborts on -cpu host and hangs on other models), and a probe boot would
    cost more than the suite's budget allows."""
    forced = os.environ.get("VT_E2E_DOMAIN_TYPE")
    if forced in ("kvm", "qemu"):
        return forced
    return "qemu"


def make_disks(workdir):
    disks = []
    for i, (serial, size_mib, _role) in enumerate(SCENARIO["disks"]):
        path = os.path.join(workdir, "%s.raw" % serial)
        with open(path, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        disks.append({"path": path, "dev": "vd" + "abcdefgh"[i], "serial": serial})
    return disks


def scenario_xml(name, workdir, kernel, initrd, dtype, cmdline_extra=""):
    disks = make_disks(workdir)
    cmdline = "console=ttyS0 quiet loglevel=4 panic=-1 " + cmdline_extra
    cpu = "  <cpu mode='host-passthrough'/>\n" if dtype == "kvm" else ""
    return DOMAIN_XML.format(
        dtype=dtype, name=escape(name), memory=SCENARIO["memory_mib"],
        vcpus=SCENARIO["vcpus"], kernel=escape(kernel), initrd=escape(initrd),
        cmdline=escape(cmdline.strip()), cpu=cpu, emulator="/usr/bin/qemu-system-x86_64",
        disks="".join(DISK_XML.format(**{k: escape(v) for k, v in d.items()}) for d in disks),
        mac=SCENARIO["nic_mac"], queues=SCENARIO["nic_queues"],
        agent_sock=escape(os.path.join(workdir, "agent.sock")), agent_channel=AGENT_CHANNEL,
        shell_sock=escape(os.path.join(workdir, "shell.sock")), shell_channel=SHELL_CHANNEL,
        qga_sock=escape(os.path.join(workdir, "qga.sock")), qga_channel=QGA_CHANNEL,
        console=escape(os.path.join(workdir, "console.log")),
        balloon_period=SCENARIO["balloon_period"])


def hostile_xml(name, workdir, kernel, initrd, dtype, prefix):
    cmdline = "console=ttyS0 quiet loglevel=4 panic=-1 vt.role=hostile"
    cpu = "  <cpu mode='host-passthrough'/>\n" if dtype == "kvm" else ""
    return HOSTILE_XML.format(
        dtype=dtype, name=escape(name), memory=HOSTILE["memory_mib"], vcpus=HOSTILE["vcpus"],
        kernel=escape(kernel), initrd=escape(initrd), cmdline=cmdline, cpu=cpu,
        emulator="/usr/bin/qemu-system-x86_64",
        agent_sock=escape(os.path.join(workdir, prefix + "agent.sock")),
        agent_channel=AGENT_CHANNEL,
        shell_sock=escape(os.path.join(workdir, prefix + "shell.sock")),
        shell_channel=SHELL_CHANNEL,
        console=escape(os.path.join(workdir, prefix + "console.log")))


class Console:
    """The serial console log, which QEMU (through virtlogd) appends to."""

    def __init__(self, path):
        self.path = path

    def text(self):
        try:
            with open(self.path, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            return ""

    def tail(self, lines=40):
        return "\n".join(self.text().splitlines()[-lines:])

    def find(self, pattern):
        """The first match of regex pattern, or None."""
        return re.search(pattern, self.text(), re.M)

    def wait(self, pattern, timeout):
        return wait_for(lambda: self.find(pattern), timeout, 0.05)


class Shell:
    """Runs commands in the guest over the org.virttune.e2e.shell channel.

    The guest's init reads "ID COMMAND" lines and answers with the output and a
    "VT-E2E-END ID RC" line. Bytes a host sends while the guest has its port
    closed can be lost, so every connection starts with a sync that is retried."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.buf = b""
        self.next_id = 1

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def _send_and_collect(self, cmd, timeout):
        cid = "c%d" % self.next_id
        self.next_id += 1
        self.sock.sendall(("%s %s\n" % (cid, cmd)).encode())
        end = re.compile(rb"VT-E2E-END %s (\d+)\n" % cid.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = end.search(self.buf)
            if m:
                out = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return int(m.group(1)), out.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0:
                return None, self.buf.decode("utf-8", "replace")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise HarnessError("guest shell channel closed by QEMU")
            self.buf += chunk

    def connect(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.close()
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(self.path)
            except OSError:
                time.sleep(0.2)
                continue
            self.buf = b""
            for _ in range(20):
                rc, _out = self._send_and_collect("true", 1.0)
                if rc == 0:
                    return
                self.buf = b""
            break
        self.close()
        raise HarnessError("guest shell channel %s did not answer within %ds" % (
            self.path, timeout))

    def run(self, cmd, timeout=30, check=True):
        """Returns (rc, output); rc None on timeout."""
        if self.sock is None:
            self.connect()
        rc, out = self._send_and_collect(cmd, timeout)
        if check and rc != 0:
            raise HarnessError("guest command %r: rc=%s: %s" % (cmd, rc, out[-2000:]))
        return rc, out


class Guest:
    def __init__(self, libvirt, workdir, name, kernel, initrd, cmdline_extra="",
                 role="scenario"):
        self.libvirt = libvirt
        self.workdir = workdir
        self.name = name
        self.role = role
        self.dtype = domain_type()
        self.xml_path = os.path.join(workdir, name + ".xml")
        # The scenario guest's files keep their plain names; others get a prefix.
        prefix = "" if role == "scenario" else role + "-"
        with open(self.xml_path, "w") as f:
            if role == "hostile":
                f.write(hostile_xml(name, workdir, kernel, initrd, self.dtype, prefix))
            else:
                f.write(scenario_xml(name, workdir, kernel, initrd, self.dtype, cmdline_extra))
        self.console = Console(os.path.join(workdir, prefix + "console.log"))
        self.shell = Shell(os.path.join(workdir, prefix + "shell.sock"))
        self.agent_socket = os.path.join(workdir, prefix + "agent.sock")
        self.started_at = None

    def start(self):
        # A persistent domain left from an aborted run would make define fail.
        if self.libvirt.virsh("domstate", self.name, check=False).returncode == 0:
            log("removing a leftover domain %s" % self.name)
            self.libvirt.virsh("destroy", self.name, check=False)
            self.libvirt.virsh("undefine", self.name, "--nvram", check=False)
        self.libvirt.virsh("define", self.xml_path)
        t0 = time.monotonic()
        self.libvirt.virsh("start", self.name)
        self.started_at = t0
        log("%s started (type=%s) in %.2fs" % (self.name, self.dtype, time.monotonic() - t0))

    def state(self):
        res = self.libvirt.virsh("domstate", self.name, check=False)
        return res.stdout.strip() if res.returncode == 0 else "undefined"

    def live_xml(self):
        return self.libvirt.virsh("dumpxml", self.name).stdout

    def channel_state(self, target_name):
        """state= of the channel's <target> in the live XML ('connected',
        'disconnected', or None when libvirt does not say)."""
        root = ET.fromstring(self.live_xml())
        for ch in root.iter("channel"):
            target = ch.find("target")
            if target is not None and target.get("name") == target_name:
                return target.get("state")
        raise HarnessError("the live XML has no channel %s" % target_name)

    def domstats(self, *groups):
        res = self.libvirt.virsh("domstats", *groups, self.name)
        stats = {}
        for line in res.stdout.splitlines():
            line = line.strip()
            if "=" in line:
                k, v = line.split("=", 1)
                stats[k] = v
        return stats

    def poweroff(self, timeout=30):
        """Asks init to power off; returns the seconds until libvirt saw it shut off."""
        t0 = time.monotonic()
        try:
            self.shell.run("poweroff", timeout=5, check=False)
        except HarnessError:
            pass  # the channel goes away with the guest
        self.shell.close()
        if not wait_for(lambda: self.state() == "shut off", timeout, 0.1):
            return None
        return time.monotonic() - t0

