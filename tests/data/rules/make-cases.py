#!/usr/bin/env python3
"""Writes the rule fixture sets: one directory per case with report.json
[previous.json] [domain.xml] [domstats.txt] [config.ini] and ids.txt (the
recommendation ids the case must produce, in order). expected.json, the whole
output, is written by the test itself with VT_TEST_REGENERATE=1.

Every case starts from one healthy guest for which no rule fires, and changes
the one thing its rule is about. Run from anywhere: ./make-cases.py
"""
import copy
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
FACTS = os.path.join(HERE, "..", "facts")
GIB = 1024 ** 3
MIB = 1024 ** 2

FEATURES = [
    ("rx-checksum", True, True), ("tx-checksum-ip-generic", True, False),
    ("tx-scatter-gather", True, False), ("tx-tcp-segmentation", True, False),
    ("tx-tcp-ecn-segmentation", True, False), ("tx-tcp6-segmentation", True, False),
    ("tx-generic-segmentation", True, False), ("rx-gro", True, False),
    ("rx-lro", False, True), ("tx-udp-segmentation", False, True),
]


def block(name, serial, sched="none", hwq=2, rot=False):
    return {
        "name": name, "scheduler": sched,
        "schedulers": ["none", "mq-deadline", "kyber", "bfq"],
        "nr_requests": 256, "read_ahead_kb": 128, "rotational": rot, "nr_hw_queues": hwq,
        "max_sectors_kb": 1280, "size_bytes": 20 * GIB, "driver": "virtio_blk",
        "serial": serial, "discard_max_bytes": 2147483136,
        "stats": {"reads": 10412, "reads_merged": 2210, "sectors_read": 1503848,
                  "read_ms": 8123, "writes": 40213, "writes_merged": 18021,
                  "sectors_written": 3012044, "write_ms": 60231, "in_flight": 0,
                  "io_ms": 51230, "weighted_io_ms": 70211, "discards": 12,
                  "discard_ms": 3, "flushes": 3021, "flush_ms": 1402},
    }


BASE_REPORT = {
    "identity": {"hostname": "web1", "os_pretty_name": "Debian GNU/Linux 12 (bookworm)",
                 "kernel_release": "6.1.0-18-cloud-amd64",
                 "boot_id": "6c0f3e8a-41d2-4f7e-9a51-1b3c8d2e7f90", "uptime_s": 86400,
                 "agent_version": "0.1.0"},
    "meminfo": {"MemTotal": 4 * GIB - 180 * MIB, "MemFree": 1200 * MIB,
                "MemAvailable": 2600 * MIB, "Buffers": 80 * MIB, "Cached": 1500 * MIB,
                "SwapCached": 4 * MIB, "AnonHugePages": 0, "SwapTotal": GIB,
                "SwapFree": GIB - 40 * MIB, "HugePages_Total": 0},
    "swap": {"devices": [{"path": "/swapfile", "type": "file", "size_bytes": GIB,
                          "used_bytes": 40 * MIB, "priority": -2}],
             "pswpin": 1060, "pswpout": 2060},
    "sysctl": {"vm.swappiness": "30", "vm.dirty_ratio": "20",
               "vm.dirty_background_ratio": "10", "vm.vfs_cache_pressure": "100",
               "vm.overcommit_memory": "0", "vm.min_free_kbytes": "67584",
               "kernel.transparent_hugepage.enabled": "madvise"},
    "vmstat": {"oom_kill": 0, "pgmajfault": 3100, "pgfault": 91000000, "allocstall": 0},
    "block": [block("vda", "vt-root"), block("vdb", "vt-data")],
    "nics": [{
        "name": "eth0", "driver": "virtio_net", "bus_info": "0000:01:00.0",
        "mac": "52:54:00:12:34:56", "mtu": 1500, "link_up": True,
        "channels": {"max_combined": 2, "combined": 2},
        "rings": {"rx_max": 256, "rx": 256, "tx_max": 256, "tx": 256},
        "features": [{"name": n, "active": a, "fixed": f} for n, a, f in FEATURES],
        "stats": {"rx_bytes": 981233441, "rx_packets": 1203121, "rx_errors": 0,
                  "rx_dropped": 0, "tx_bytes": 120334112, "tx_packets": 803121,
                  "tx_errors": 0, "tx_dropped": 0},
    }],
    "cpu": {"online": 2, "total_ticks": 17280000, "steal_ticks": 10120,
            "iowait_ticks": 3000, "loadavg_1": 0.42, "loadavg_5": 0.38, "loadavg_15": 0.3,
            "ticks_per_second": 100},
    "sections": [{"name": n, "ok": True} for n in
                 ("identity", "meminfo", "swap", "sysctl", "vmstat", "block", "nic", "cpu")],
    "pressure": {k: {"avg10": 0.5, "avg60": 0.4, "avg300": 0.3, "total_us": 5200000}
                 for k in ("cpu_some", "memory_some", "memory_full", "io_some", "io_full")},
    "softnet": {"processed": 98123411, "dropped": 0, "time_squeeze": 12},
    "collected_at_ms": 1763805600000,
    "monotonic_ms": 86400000,
}
BASE_REPORT["sysctl"].update({"net.core.netdev_max_backlog": "1000",
                              "net.core.rmem_max": "212992", "net.core.wmem_max": "212992"})


def previous_of(report, seconds=60, pswpin=None, pswpout=None, steal=None, total=None):
    p = copy.deepcopy(report)
    p["monotonic_ms"] -= seconds * 1000
    p["collected_at_ms"] -= seconds * 1000
    p["identity"]["uptime_s"] -= seconds
    p["swap"]["pswpin"] = pswpin if pswpin is not None else report["swap"]["pswpin"] - 60
    p["swap"]["pswpout"] = pswpout if pswpout is not None else report["swap"]["pswpout"] - 60
    p["cpu"]["total_ticks"] = total if total is not None else report["cpu"]["total_ticks"] - 12000
    p["cpu"]["steal_ticks"] = steal if steal is not None else report["cpu"]["steal_ticks"] - 120
    return p


XML = """<domain type='{dtype}' id='7'>
  <name>web1</name>
  <uuid>4d3b2c1a-9f8e-4d7c-8b6a-5f4e3d2c1b0a</uuid>
  <metadata/>
  <memory unit='{mem_unit}'>{memory}</memory>
  <currentMemory unit='{mem_unit}'>{current}</currentMemory>
{backing}  <vcpu placement='static'>{vcpus}</vcpu>
{cputune}  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
{cpu}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web1-root.qcow2' index='2'/>
      {root_backing}
      <target dev='vda' bus='virtio'/>
      <serial>vt-root</serial>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
{data_disk}{extra_disks}    <controller type='scsi' index='0' model='virtio-scsi'>
      <alias name='scsi0'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </controller>
    <controller type='sata' index='0'>
      <alias name='ide'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
    </controller>
    <controller type='virtio-serial' index='0'>
      <alias name='virtio-serial0'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </controller>
    <interface type='{if_type}'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default' portid='1c5f2a3b-7d8e-4f9a-a0b1-c2d3e4f5a6b7' bridge='virbr0'/>
      <target dev='vnet3'/>
{if_model}{if_driver}      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/4'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
      <alias name='serial0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='/run/libvirt/qemu/channel/7-web1/org.virttune.agent.0'/>
      <target type='virtio' name='org.virttune.agent.0' state='connected'/>
      <alias name='channel0'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/>
    </channel>
    <input type='mouse' bus='ps2'/>
{balloon}    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
      <alias name='rng0'/>
    </rng>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+994</label>
  </seclabel>
</domain>
"""

DATA_DISK = """    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='{cache}' io='{io}'{data_iothread}/>
      <source file='/var/lib/libvirt/images/web1-data.img' index='1'/>
      <backingStore/>
      <target dev='vdb' bus='virtio'/>
      <serial>vt-data</serial>
      <alias name='virtio-disk1'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </disk>
"""

BASE_XML = dict(root_backing="<backingStore/>", data_iothread="", dtype="kvm", mem_unit="KiB", memory=4194304, current=4194304, backing="",
                vcpus=2, cputune="",
                cpu="  <cpu mode='host-passthrough' check='none' migratable='on'/>\n",
                cache="none", io="native", extra_disks="", if_type="network",
                if_model="      <model type='virtio'/>\n",
                if_driver="      <driver name='vhost' queues='2'/>\n",
                balloon="""    <memballoon model='virtio'>
      <stats period='10'/>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </memballoon>
""")

BASE_STATS = dict(balloon_current=4194304, balloon_maximum=4194304, vcpus=2,
                  vcpu_time=[41230000000, 39870000000], vcpu_delay=[402000000, 388000000],
                  net={"rx.drop": 0, "tx.drop": 0},
                  block=[{"rd.reqs": 10412, "rd.times": 8123000000, "wr.reqs": 40213,
                          "wr.times": 60231000000},
                         {"rd.reqs": 2210, "rd.times": 2210000000, "wr.reqs": 1021,
                          "wr.times": 1021000000}])


def xml_text(x):
    x = dict(x)
    x["data_disk"] = DATA_DISK.format(cache=x["cache"], io=x["io"],
                                      data_iothread=x["data_iothread"])
    return XML.format(**x)


def domstats_text(s):
    lines = ["Domain: 'web1'",
             "  state.state=1", "  state.reason=1",
             "  cpu.time=%d" % (sum(s["vcpu_time"]) + 5300000000),
             "  cpu.user=%d" % (sum(s["vcpu_time"]) // 2),
             "  cpu.system=%d" % (sum(s["vcpu_time"]) // 3),
             "  cpu.haltpoll.success.time=0", "  cpu.haltpoll.fail.time=0",
             "  balloon.current=%d" % s["balloon_current"],
             "  balloon.maximum=%d" % s["balloon_maximum"],
             "  balloon.swap_in=4240", "  balloon.swap_out=8240",
             "  balloon.major_fault=3100", "  balloon.minor_fault=91000000",
             "  balloon.unused=1228800", "  balloon.available=3960012",
             "  balloon.usable=2662400", "  balloon.disk_caches=1617920",
             "  balloon.hugetlb_pgalloc=0", "  balloon.hugetlb_pgfail=0",
             "  balloon.rss=3012044", "  balloon.last-update=1763805590",
             "  vcpu.current=%d" % s["vcpus"], "  vcpu.maximum=%d" % s["vcpus"]]
    for i in range(s["vcpus"]):
        lines += ["  vcpu.%d.state=1" % i, "  vcpu.%d.time=%d" % (i, s["vcpu_time"][i]),
                  "  vcpu.%d.wait=0" % i, "  vcpu.%d.delay=%d" % (i, s["vcpu_delay"][i])]
    lines += ["  net.count=1", "  net.0.name=vnet3", "  net.0.rx.bytes=981233441",
              "  net.0.rx.pkts=1203121", "  net.0.rx.errs=0",
              "  net.0.rx.drop=%d" % s["net"]["rx.drop"],
              "  net.0.tx.bytes=120334112", "  net.0.tx.pkts=803121", "  net.0.tx.errs=0",
              "  net.0.tx.drop=%d" % s["net"]["tx.drop"],
              "  block.count=2",
              "  block.0.name=vda", "  block.0.path=/var/lib/libvirt/images/web1-root.qcow2",
              "  block.0.backingIndex=2", "  block.0.rd.reqs=%d" % s["block"][0]["rd.reqs"], "  block.0.rd.bytes=769970176",
              "  block.0.rd.times=%d" % s["block"][0]["rd.times"], "  block.0.wr.reqs=%d" % s["block"][0]["wr.reqs"],
              "  block.0.wr.bytes=1542166528", "  block.0.wr.times=%d" % s["block"][0]["wr.times"],
              "  block.0.fl.reqs=3021", "  block.0.fl.times=1402000000",
              "  block.0.allocation=6442450944", "  block.0.capacity=21474836480",
              "  block.0.physical=6442450944",
              "  block.1.name=vdb", "  block.1.path=/var/lib/libvirt/images/web1-data.img",
              "  block.1.backingIndex=1", "  block.1.rd.reqs=%d" % s["block"][1]["rd.reqs"], "  block.1.rd.bytes=9052160",
              "  block.1.rd.times=%d" % s["block"][1]["rd.times"], "  block.1.wr.reqs=%d" % s["block"][1]["wr.reqs"],
              "  block.1.wr.bytes=4182016", "  block.1.wr.times=%d" % s["block"][1]["wr.times"],
              "  block.1.fl.reqs=12", "  block.1.fl.times=3000000",
              "  block.1.allocation=21474836480", "  block.1.capacity=21474836480",
              "  block.1.physical=21474836480"]
    return "\n".join(lines) + "\n\n"


CASES = {}


def case(name, ids, report=None, previous="auto", xml=None, stats=None, config=None,
         no_xml=False, no_stats=False, prev_stats=None, caps=None, files=None):
    """report/xml/stats: functions mutating copies of the base."""
    r = copy.deepcopy(BASE_REPORT)
    if report:
        report(r)
    p = None
    if previous == "auto":
        p = previous_of(r)
    elif previous is not None:
        p = previous(r)
    x = dict(BASE_XML)
    if xml:
        xml(x)
    s = copy.deepcopy(BASE_STATS)
    if stats:
        stats(s)
    ps = None
    if prev_stats:
        ps = copy.deepcopy(s)
        prev_stats(ps)
    CASES[name] = dict(report=r, previous=p, xml=None if no_xml else xml_text(x),
                       stats=None if no_stats else domstats_text(s), config=config, ids=ids,
                       prev_stats=None if ps is None or no_stats else domstats_text(ps),
                       caps=caps, files=files or {})


def setp(d, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        d = d[k] if not isinstance(d, list) else d[int(k)]
    if isinstance(d, list):
        d[int(keys[-1])] = value
    else:
        d[keys[-1]] = value


def feature(r, name, active, fixed=False):
    for f in r["nics"][0]["features"]:
        if f["name"] == name:
            f["active"] = active
            f["fixed"] = fixed


# ------------------------------------------------------------------ healthy
case("healthy", [])

# ------------------------------------------------------------------ nic.queues
case("nic-queues-positive", ["nic.queues:eth0"],
     report=lambda r: setp(r, "nics.0.channels.combined", 1))
# 4 queues, 2 vCPUs: the kernel's default min(vCPUs, max) = 2 is right
case("nic-queues-negative", [],
     report=lambda r: setp(r, "nics.0.channels", {"max_combined": 4, "combined": 2}),
     xml=lambda x: x.update(if_driver="      <driver name='vhost' queues='4'/>\n"))
# one below min(4 queues, 4 vCPUs)
case("nic-queues-edge", ["nic.queues:eth0"],
     report=lambda r: (setp(r, "nics.0.channels", {"max_combined": 4, "combined": 3}),
                       setp(r, "cpu.online", 4)),
     xml=lambda x: x.update(vcpus=4, if_driver="      <driver name='vhost' queues='4'/>\n"))
case("nic-queues-missing", [], report=lambda r: setp(r, "nics.0.channels.combined", 1),
     no_xml=True)

# ------------------------------------------------------------------ nic.mq-missing
case("nic-mq-missing-positive", ["nic.mq-missing:eth0"],
     report=lambda r: setp(r, "nics.0.channels", {"max_combined": 1, "combined": 1}),
     xml=lambda x: x.update(if_driver=""))
case("nic-mq-missing-negative", [],
     report=lambda r: (setp(r, "nics.0.channels", {"max_combined": 1, "combined": 1}),
                       setp(r, "cpu.online", 1)),
     xml=lambda x: x.update(vcpus=1, if_driver=""))
# queues='1' is a single queue too
case("nic-mq-missing-edge", ["nic.mq-missing:eth0"],
     report=lambda r: setp(r, "nics.0.channels", {"max_combined": 1, "combined": 1}),
     xml=lambda x: x.update(if_driver="      <driver name='vhost' queues='1'/>\n"))
case("nic-mq-missing-missing", [],
     report=lambda r: setp(r, "nics.0.channels", {"max_combined": 1, "combined": 1}),
     no_xml=True)


def e1000(r):
    n = r["nics"][0]
    n["driver"] = "e1000"
    n["channels"] = {}
    del n["channels"]
    n["features"] = [{"name": "tx-tcp-segmentation", "active": True, "fixed": False},
                     {"name": "rx-gro", "active": True, "fixed": False}]


# ------------------------------------------------------------------ nic.model
case("nic-model-positive", ["nic.model:eth0"], report=e1000,
     xml=lambda x: x.update(if_model="      <model type='e1000'/>\n", if_driver=""))
# type='user' has no multi-queue backend, but virtio is still the right model
case("nic-model-negative", [],
     report=lambda r: setp(r, "nics.0.channels", {"max_combined": 1, "combined": 1}),
     xml=lambda x: x.update(if_type="user", if_driver=""))
# no <model> at all: the hypervisor's default, an emulated NIC
case("nic-model-edge", ["nic.model:eth0"], report=e1000,
     xml=lambda x: x.update(if_model="", if_driver=""))
case("nic-model-missing", [], report=e1000, no_xml=True)

# ------------------------------------------------------------------ nic.offload
case("nic-offload-positive", ["nic.offload:eth0/rx-gro"],
     report=lambda r: feature(r, "rx-gro", False))
# off but fixed: the device does not offer it
case("nic-offload-negative", [],
     report=lambda r: feature(r, "tx-tcp-segmentation", False, fixed=True))
case("nic-offload-edge", ["nic.offload:eth0/tx-tcp-segmentation"],
     report=lambda r: (feature(r, "tx-tcp-segmentation", False),
                       feature(r, "tx-generic-segmentation", False, fixed=True)))
case("nic-offload-missing", [], report=lambda r: setp(r, "nics.0.features", []))

# ------------------------------------------------------------------ blk.scheduler
case("blk-scheduler-positive", ["blk.scheduler:vdb"],
     report=lambda r: setp(r, "block.1.scheduler", "bfq"))
# single-queue device on the kernel's own default
case("blk-scheduler-negative", [],
     report=lambda r: (setp(r, "block.1.scheduler", "mq-deadline"),
                       setp(r, "block.1.nr_hw_queues", 1)))
# rotational backing: mq-deadline rather than none
case("blk-scheduler-edge", ["blk.scheduler:vdb"],
     report=lambda r: (setp(r, "block.1.scheduler", "kyber"),
                       setp(r, "block.1.rotational", True)))
case("blk-scheduler-missing", [],
     report=lambda r: r["block"][1].pop("scheduler"))


def sata_guest(r):
    b = block("sda", "vt-data", sched="mq-deadline", hwq=1, rot=True)
    b["driver"] = "sd"
    r["block"][1] = b


SATA_DISK = """    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source file='/var/lib/libvirt/images/web1-archive.img' index='3'/>
      <target dev='sda' bus='sata'/>
      <serial>vt-archive</serial>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
"""
CDROM = """    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/debian-12.iso'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
      <address type='drive' controller='0' bus='0' target='0' unit='1'/>
    </disk>
"""
IDE_DISK = """    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg0/web1-legacy'/>
      <target dev='hda' bus='ide'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
"""


def add_sata_guest(r):
    b = block("sda", "vt-archive", sched="mq-deadline", hwq=1, rot=True)
    b["driver"] = "sd"
    r["block"].append(b)


# ------------------------------------------------------------------ blk.bus
case("blk-bus-positive", ["blk.bus:sda"], report=add_sata_guest,
     xml=lambda x: x.update(extra_disks=SATA_DISK))
case("blk-bus-negative", [], xml=lambda x: x.update(extra_disks=CDROM))
# a disk the guest does not show: named by its XML target
case("blk-bus-edge", ["blk.bus:hda"], xml=lambda x: x.update(extra_disks=IDE_DISK))
case("blk-bus-missing", [], report=add_sata_guest, no_xml=True)

# ------------------------------------------------------------------ blk.cache
case("blk-cache-positive", ["blk.cache:vdb"],
     xml=lambda x: x.update(cache="unsafe", io="threads"))
case("blk-cache-negative", [], xml=lambda x: x.update(cache="writethrough", io="threads"))
case("blk-cache-edge", ["blk.cache:vdb"], xml=lambda x: x.update(cache="writeback", io="threads"))
case("blk-cache-missing", [], no_xml=True)


# ------------------------------------------------------------------ mem.swapping
def swapping(pps_in, pps_out):
    def f(r):
        r["swap"]["pswpin"] = 500000
        r["swap"]["pswpout"] = 900000
    return f


def prev_swap(pps_in, pps_out, seconds=60):
    return lambda r: previous_of(r, seconds, pswpin=r["swap"]["pswpin"] - pps_in * seconds,
                                 pswpout=r["swap"]["pswpout"] - pps_out * seconds)


def ballooned(s):
    s["balloon_current"] = 3145728


case("mem-swapping-positive", ["mem.swapping:domain"], report=swapping(0, 0),
     previous=prev_swap(200, 100), stats=ballooned,
     xml=lambda x: x.update(current=3145728))


def low_memory(r):
    swapping(0, 0)(r)
    r["meminfo"]["MemAvailable"] = 150 * MIB


case("mem-swapping-grow", ["mem.swapping:domain"], report=low_memory,
     previous=prev_swap(700, 500))
case("mem-swapping-negative", [], report=swapping(0, 0), previous=prev_swap(30, 20),
     stats=ballooned, xml=lambda x: x.update(current=3145728))
# exactly the warning threshold, 100 pages/s
case("mem-swapping-edge", ["mem.swapping:domain"], report=low_memory,
     previous=prev_swap(60, 40))
case("mem-swapping-missing", [], report=lambda r: r.pop("swap"), previous=None)

# ------------------------------------------------------------------ mem.swappiness
case("mem-swappiness-positive", ["mem.swappiness:vm.swappiness"],
     report=lambda r: setp(r, "sysctl.vm\x00", None) if False else r["sysctl"].update(
         {"vm.swappiness": "60"}))
case("mem-swappiness-negative", [],
     report=lambda r: (r["sysctl"].update({"vm.swappiness": "60"}),
                       r["swap"].update({"devices": []})))
# at the target exactly
case("mem-swappiness-edge", [], report=lambda r: r["sysctl"].update({"vm.swappiness": "30"}))
case("mem-swappiness-role", ["mem.swappiness:vm.swappiness"],
     config="[rules]\nmem.swappiness.role=throughput-performance\n")
case("mem-swappiness-missing", [], report=lambda r: r["sysctl"].pop("vm.swappiness"))

# ------------------------------------------------------------------ mem.balloon-stats
NO_STATS_BALLOON = """    <memballoon model='virtio'>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </memballoon>
"""
case("mem-balloon-stats-positive", ["mem.balloon-stats:domain"],
     xml=lambda x: x.update(balloon=NO_STATS_BALLOON))
case("mem-balloon-stats-negative", [],
     xml=lambda x: x.update(balloon="    <memballoon model='none'/>\n"))
case("mem-balloon-stats-edge", [],
     xml=lambda x: x.update(balloon=BASE_XML["balloon"].replace("period='10'", "period='1'")))
case("mem-balloon-stats-missing", [], no_xml=True)

# ------------------------------------------------------------------ mem.hugepages
case("mem-hugepages-positive", ["mem.hugepages:domain"],
     xml=lambda x: x.update(memory=16777216, current=16777216))
case("mem-hugepages-negative", [],
     xml=lambda x: x.update(memory=16777216, current=16777216,
                            backing="  <memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n"))
# exactly 8 GiB, written in GiB
case("mem-hugepages-edge", ["mem.hugepages:domain"],
     xml=lambda x: x.update(mem_unit="GiB", memory=8, current=8))
case("mem-hugepages-missing", [], no_xml=True)


# ------------------------------------------------------------------ cpu.steal
def steal(pct):
    # 60 s x 2 CPUs x 100 Hz = 12000 ticks in the interval
    return lambda r: previous_of(r, 60, steal=r["cpu"]["steal_ticks"] - int(12000 * pct / 100))


def delay(s):
    s["vcpu_delay"] = [9000000000, 8000000000]


case("cpu-steal-positive", ["cpu.steal:domain"], previous=steal(15), stats=delay)
case("cpu-steal-critical", ["cpu.steal:domain"], previous=steal(30), stats=delay,
     xml=lambda x: x.update(cputune="  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n"
                                    "    <vcpupin vcpu='1' cpuset='3'/>\n  </cputune>\n"))
# steal without host delay: not the host's CPUs
case("cpu-steal-negative", [], previous=steal(15))
case("cpu-steal-edge", ["cpu.steal:domain"], previous=steal(10), stats=delay)
case("cpu-steal-missing", [], previous=steal(15), no_stats=True)

# ------------------------------------------------------------------ cpu.mode
CUSTOM = "  <cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>qemu64</model>\n  </cpu>\n"
case("cpu-mode-positive", ["cpu.mode:domain"], xml=lambda x: x.update(cpu=CUSTOM))
case("cpu-mode-negative", [],
     xml=lambda x: x.update(cpu="  <cpu mode='host-model' check='partial'/>\n"))
# TCG: host modes are not possible
case("cpu-mode-edge", [], xml=lambda x: x.update(cpu=CUSTOM, dtype="qemu"))
case("cpu-mode-missing", [], no_xml=True)


# ------------------------------------------------------------------ both sides: helpers
# Interval cases add the interval's requests to the current counters; the
# previous snapshots (report and domstats) hold the base counters.
def add_block(disk, reqs, host_ms, kind="rd", sign=1):
    def f(s):
        s["block"][disk][kind + ".reqs"] += sign * reqs
        s["block"][disk][kind + ".times"] += sign * int(reqs * host_ms * 1e6)
    return f


def add_guest(r, disk, reqs, guest_ms, kind="rd", sign=1):
    st = r["block"][disk]["stats"]
    st["reads" if kind == "rd" else "writes"] += sign * reqs
    st["read_ms" if kind == "rd" else "write_ms"] += sign * int(reqs * guest_ms)


def prev_guest(disk, reqs, guest_ms):
    def f(r):
        p = previous_of(r)
        add_guest(p, disk, reqs, guest_ms, sign=-1)
        return p
    return f


def latency_case(name, ids, disk, reqs, host_ms, guest_ms, report_extra=None, **kw):
    def report(r):
        add_guest(r, disk, reqs, guest_ms)
        if report_extra:
            report_extra(r)
    case(name, ids, report=report, previous=prev_guest(disk, reqs, guest_ms),
         stats=add_block(disk, reqs, host_ms),
         prev_stats=add_block(disk, reqs, host_ms, sign=-1), **kw)


# ------------------------------------------------------------------ blk.latency
# host side: 30 ms per read on the host, 31 ms in the guest
latency_case("blk-latency-positive", ["blk.latency:vdb"], 1, 600, 30, 31)
# guest side: 1 ms on the host, 45 ms in the guest with 256 requests queued
latency_case("blk-latency-guest", ["blk.latency:vdb"], 1, 600, 1, 45)
latency_case("blk-latency-negative", [], 1, 600, 2, 5)
# exactly the host threshold, 20 ms
latency_case("blk-latency-edge", ["blk.latency:vdb"], 1, 600, 20, 20.5)
# guest side, but the queue is already short on mq-deadline: nothing left to change
latency_case("blk-latency-guest-short", [], 1, 600, 1, 45,
             report_extra=lambda r: (setp(r, "block.1.nr_requests", 32),
                                     setp(r, "block.1.scheduler", "mq-deadline")))
latency_case("blk-latency-missing", [], 1, 600, 30, 31, no_stats=True)
# real captures from the e2e guest: vdb throttled to 40 IOPS by <iotune>
# (the scenario's other findings fire too: one channel of four, bfq, swappiness)
case("blk-latency-e2e", ["nic.queues:eth0", "blk.scheduler:vdb", "blk.latency:vdb",
                         "mem.swappiness:vm.swappiness"], previous=None, no_xml=True, no_stats=True,
     files={"report.json": "e2e-throttled-report-2.json",
            "previous.json": "e2e-throttled-report-1.json",
            "domstats.txt": "e2e-throttled-2.txt",
            "previous-domstats.txt": "e2e-throttled-1.txt",
            "domain.xml": "e2e-live.xml"})

# ------------------------------------------------------------------ blk.iothread
IOTHREAD_XML = dict(iothreads="  <iothreads>1</iothreads>\n")


def busy(disk, iops):
    return dict(stats=add_block(disk, iops * 60, 0.2),
                prev_stats=add_block(disk, iops * 60, 0.2, sign=-1))


case("blk-iothread-positive", ["blk.iothread:vdb"], **busy(1, 1000))
case("blk-iothread-negative", [], **busy(1, 1000),
     xml=lambda x: x.update(backing="  <iothreads>1</iothreads>\n",
                            data_iothread=" iothread='1'"))
case("blk-iothread-edge", ["blk.iothread:vdb"], **busy(1, 500))
case("blk-iothread-missing", [], **busy(1, 1000), no_xml=True)

# ------------------------------------------------------------------ blk.chain
def chain(depth):
    inner = "<backingStore/>"
    for i in range(depth):
        fmt = "raw" if i == 0 else "qcow2"
        inner = ("<backingStore type='file' index='%d'><format type='%s'/>"
                 "<source file='/var/lib/libvirt/images/web1-layer%d.%s'/>%s</backingStore>"
                 % (i + 3, fmt, i, fmt, inner))
    return inner


case("blk-chain-positive", ["blk.chain:vda"], xml=lambda x: x.update(root_backing=chain(3)))
case("blk-chain-negative", [], xml=lambda x: x.update(root_backing=chain(1)))
# exactly max_depth (2): left alone
case("blk-chain-edge", [], xml=lambda x: x.update(root_backing=chain(2)))
case("blk-chain-config", ["blk.chain:vda"], xml=lambda x: x.update(root_backing=chain(2)),
     config="[rules]\nblk.chain.max_depth=1\n")
case("blk-chain-missing", [], no_xml=True)

# ------------------------------------------------------------------ blk.format
case("blk-format-positive", ["blk.format:vda"], **busy(0, 250))
# the busy disk is raw
case("blk-format-negative", [], **busy(1, 250))
case("blk-format-edge", ["blk.format:vda"], **busy(0, 200))
case("blk-format-missing", [], **busy(0, 250), no_xml=True)


# ------------------------------------------------------------------ net.drops
def host_drops(n):
    def f(s):
        s["net"]["rx.drop"] += 20000
    return f, (lambda s: s["net"].update({"rx.drop": s["net"]["rx.drop"] - n}))


def net_case(name, ids, host=0, guest=0, softnet=0, report_extra=None, **kw):
    def stats(s):
        s["net"]["rx.drop"] = 20000 + host

    def report(r):
        r["nics"][0]["stats"]["rx_dropped"] = 7000 + guest
        r["softnet"]["dropped"] = 9000 + softnet
        if report_extra:
            report_extra(r)

    def previous(r):
        p = previous_of(r)
        p["nics"][0]["stats"]["rx_dropped"] = 7000
        p["softnet"]["dropped"] = 9000
        return p
    case(name, ids, report=report, previous=previous, stats=stats,
         prev_stats=lambda s: s["net"].update({"rx.drop": 20000}), **kw)


# the tap drops: the guest has its queues, so longer rings
net_case("net-drops-positive", ["net.drops:eth0"], host=5000)
# the tap drops and the guest runs one of its two channels
net_case("net-drops-channels", ["nic.queues:eth0", "net.drops:eth0"], host=5000,
         report_extra=lambda r: setp(r, "nics.0.channels.combined", 1))
# the guest's backlog drops
net_case("net-drops-guest", ["net.drops:eth0"], guest=3000, softnet=3000)
net_case("net-drops-negative", [], host=50, guest=40)
# exactly min_packets on the host side
net_case("net-drops-edge", ["net.drops:eth0"], host=100)
net_case("net-drops-missing", [], host=5000, no_stats=True)

# ------------------------------------------------------------------ net.mtu
MTU = "      <driver name='vhost' queues='2'/>\n      <mtu size='%d'/>\n"
case("net-mtu-positive", ["net.mtu:eth0"], xml=lambda x: x.update(if_driver=MTU % 9000))
case("net-mtu-negative", [], xml=lambda x: x.update(if_driver=MTU % 1500))
# guest larger than the host path
case("net-mtu-edge", ["net.mtu:eth0"], report=lambda r: setp(r, "nics.0.mtu", 9000),
     xml=lambda x: x.update(if_driver=MTU % 1500))
case("net-mtu-missing", [], xml=lambda x: x.update(if_driver=MTU % 9000),
     report=lambda r: r["nics"][0].pop("mtu"))


# ------------------------------------------------------------------ mem.oom
def oom(now, before):
    def report(r):
        r["vmstat"]["oom_kill"] = now

    def previous(r):
        p = previous_of(r)
        p["vmstat"]["oom_kill"] = before
        return p
    return dict(report=report, previous=previous)


case("mem-oom-positive", ["mem.oom:domain"], **oom(3, 1))
case("mem-oom-negative", [], **oom(0, 0))
# kills earlier in this boot, none in the interval: a warning
case("mem-oom-edge", ["mem.oom:domain"], **oom(2, 2))
case("mem-oom-ballooned", ["mem.oom:domain"], **oom(1, 0), stats=ballooned,
     xml=lambda x: x.update(current=3145728))
case("mem-oom-missing", [], report=lambda r: r["vmstat"].pop("oom_kill"))


# ------------------------------------------------------------------ pressure
def psi(**lines):
    def f(r):
        for k, v in lines.items():
            r["pressure"][k]["avg60"] = v
    return f


case("mem-pressure-positive", ["mem.pressure:domain"], report=psi(memory_some=25))
case("mem-pressure-host", ["mem.pressure:domain"], report=psi(memory_some=40, memory_full=8),
     stats=ballooned, xml=lambda x: x.update(current=3145728))
case("mem-pressure-negative", [], report=psi(memory_some=9.9))
case("mem-pressure-edge", ["mem.pressure:domain"], report=psi(memory_some=10))
case("mem-pressure-missing", [], report=lambda r: r.pop("pressure"))

case("cpu-pressure-positive", ["cpu.pressure:domain"], report=psi(cpu_some=40), stats=delay)
case("cpu-pressure-guest", ["cpu.pressure:domain"], report=psi(cpu_some=40))
case("cpu-pressure-negative", [], report=psi(cpu_some=19))
case("cpu-pressure-edge", ["cpu.pressure:domain"], report=psi(cpu_some=20))
case("cpu-pressure-missing", [], report=psi(cpu_some=40), no_stats=True)

latency_case("io-pressure-positive", ["io.pressure:domain", "blk.latency:vdb"], 1, 600, 30, 31,
             report_extra=psi(io_some=30, io_full=15))
latency_case("io-pressure-guest", ["blk.latency:vdb", "io.pressure:domain"], 1, 600, 1, 45,
             report_extra=psi(io_some=30))
case("io-pressure-negative", [], report=psi(io_some=19, io_full=9))
case("io-pressure-edge", ["io.pressure:domain"], report=psi(io_some=20))
case("io-pressure-missing", [], report=lambda r: r.pop("pressure"))

# ------------------------------------------------------------------ cpu.numa
PIN_ACROSS = ("  <cputune>\n    <vcpupin vcpu='0' cpuset='0'/>\n"
              "    <vcpupin vcpu='1' cpuset='8'/>\n  </cputune>\n")
PIN_ONE = ("  <cputune>\n    <vcpupin vcpu='0' cpuset='8'/>\n"
           "    <vcpupin vcpu='1' cpuset='9'/>\n  </cputune>\n")
NUMATUNE = "  <numatune>\n    <memory mode='strict' nodeset='1'/>\n  </numatune>\n"
TWO_NODES = "test-default-capabilities.xml"
case("cpu-numa-positive", ["cpu.numa:domain"], caps=TWO_NODES)
case("cpu-numa-pinned", ["cpu.numa:domain"], caps=TWO_NODES,
     xml=lambda x: x.update(cputune=PIN_ACROSS))
case("cpu-numa-negative", [], caps=TWO_NODES, xml=lambda x: x.update(cputune=PIN_ONE))
case("cpu-numa-numatune", [], caps=TWO_NODES, xml=lambda x: x.update(cputune=NUMATUNE))
# one node (the e2e host): nothing to place
case("cpu-numa-edge", [], caps="e2e-capabilities.xml")
case("cpu-numa-missing", [])

# ------------------------------------------------------------------ several at once
def messy(r):
    r["nics"][0]["channels"]["combined"] = 1
    feature(r, "rx-gro", False)
    r["block"][1]["scheduler"] = "bfq"
    r["sysctl"]["vm.swappiness"] = "60"


case("several", ["nic.queues:eth0", "nic.offload:eth0/rx-gro", "blk.scheduler:vdb",
                 "blk.cache:vdb", "mem.swappiness:vm.swappiness", "mem.balloon-stats:domain",
                 "cpu.mode:domain"],
     report=messy,
     xml=lambda x: x.update(cpu=CUSTOM, cache="unsafe", balloon=NO_STATS_BALLOON))
case("disabled", [], report=messy, config="[rules]\nnic.queues.enable=false\n"
     "nic.offload.enable=false\nblk.scheduler.enable=false\nmem.swappiness.enable=false\n")
case("report-only", ["nic.offload:eth0/rx-gro", "blk.scheduler:vdb",
                     "mem.swappiness:vm.swappiness"], report=messy, previous=None,
     no_xml=True, no_stats=True)


def main():
    for name in os.listdir(HERE):
        path = os.path.join(HERE, name)
        if os.path.isdir(path) and name not in CASES:
            shutil.rmtree(path)
    for name, c in sorted(CASES.items()):
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        for f in ("previous.json", "domain.xml", "domstats.txt", "config.ini",
                  "previous-domstats.txt", "capabilities.xml"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        with open(os.path.join(d, "report.json"), "w") as f:
            json.dump(c["report"], f, indent=2)
            f.write("\n")
        if c["previous"] is not None:
            with open(os.path.join(d, "previous.json"), "w") as f:
                json.dump(c["previous"], f, indent=2)
                f.write("\n")
        if c["xml"] is not None:
            with open(os.path.join(d, "domain.xml"), "w") as f:
                f.write(c["xml"])
        if c["stats"] is not None:
            with open(os.path.join(d, "domstats.txt"), "w") as f:
                f.write(c["stats"])
        if c["config"] is not None:
            with open(os.path.join(d, "config.ini"), "w") as f:
                f.write(c["config"])
        if c["prev_stats"] is not None:
            with open(os.path.join(d, "previous-domstats.txt"), "w") as f:
                f.write(c["prev_stats"])
        if c["caps"] is not None:
            shutil.copyfile(os.path.join(FACTS, c["caps"]), os.path.join(d, "capabilities.xml"))
        for dst, src in c["files"].items():
            shutil.copyfile(os.path.join(FACTS, src), os.path.join(d, dst))
        with open(os.path.join(d, "ids.txt"), "w") as f:
            f.write("".join(i + "\n" for i in c["ids"]))


main()
