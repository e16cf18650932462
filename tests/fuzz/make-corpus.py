#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpus of every fuzz target under CORPUS/TARGET/: the
fixtures of tests/data plus hand-written edge cases. The files are committed;
run again after changing a seed (tests/fuzz/README.md).

Usage: make-corpus.py CORPUS_DIR [VT_E2E_FRAME]
  VT_E2E_FRAME (build/tests/e2e/vt-e2e-frame, common/'s own encoder) is
  needed only to rewrite the framed envelopes of the wire target."""
import os, shutil, struct, subprocess, sys, zlib

out = sys.argv[1]
tool = sys.argv[2] if len(sys.argv) > 2 else None
root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
data = os.path.join(root, "tests", "data")


def write(target, name, content):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(content)


def copy(target, name, *path):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(root, *path), os.path.join(d, name))


# ---------------------------------------------------------------- wire
MAGIC = b"\x8eVT1"


def frame(payload):
    return MAGIC + struct.pack(">II", len(payload), zlib.crc32(payload)) + payload


def encode(js):
    return subprocess.run([tool, "encode"], input=js.encode(), capture_output=True,
                          check=True).stdout


if tool:
    seeds = {
        "hello": '{"version":1,"seq":1,"hello":{"host_version":"0.1.0","nonce":42}}',
        "report": '{"version":1,"seq":2,"report":{"identity":{"hostname":"g"},'
                  '"meminfo":{"MemTotal":1024},"nics":[{"name":"eth0","channels":'
                  '{"max_combined":4,"combined":1},"features":[{"name":"rx-gro","active":true}]}],'
                  '"block":[{"name":"vda","scheduler":"none","schedulers":["none","bfq"]}]}}',
        "apply-result": '{"version":1,"seq":3,"apply_result":{"request_id":"r","status":"applied",'
                        '"before":"combined=1","after":"combined=2","change_id":"c-1"}}',
    }
    for name, js in seeds.items():
        write("wire", name, encode(js))
    write("wire", "oversize", MAGIC + struct.pack(">II", 0xFFFFFFFF, 0) + b"x" * 16)
    write("wire", "bad-crc", MAGIC + struct.pack(">II", 3, 1) + b"abc" + frame(b""))
    write("wire", "empty-blocks", frame(b"\x5a\x02\x32\x00" * 1000))

# ---------------------------------------------------------------- report
copy("report", "e2e-report", "tests", "data", "facts", "e2e-report-1.json")
copy("report", "healthy", "tests", "data", "rules", "healthy", "report.json")
copy("report", "several", "tests", "data", "rules", "several", "report.json")
write("report", "empty", "{}")
write("report", "nul-escape", '{"identity":{"hostname":"g\\u0000x"}}')
write("report", "u64-max", '{"meminfo":{"MemTotal":18446744073709551615}}')
write("report", "negative", '{"meminfo":{"MemTotal":-1}}')
write("report", "duplicate-nics",
      '{"nics":[{"name":"eth0","channels":{"max_combined":4,"combined":1}},'
      '{"name":"eth0","channels":{"max_combined":8,"combined":1}}]}')
write("report", "hostile-name",
      '{"nics":[{"name":"\\u001b[2J$(touch x)\\n\\u202e","features":'
      '[{"name":"rx-gro","active":true}]}]}')
write("report", "deep", "[" * 200 + "]" * 200)
write("report", "packed-identity", b"\x0a\x03\x0a\x01g")
write("report", "packed-truncated", b"\x0a\xff\xff\xff\xff\x0f")

# ---------------------------------------------------------------- domain XML
for f in ("legacy.xml", "virtio-mq.xml", "chain-iothread.xml", "e2e-live.xml"):
    copy("domain-xml", f[:-4], "tests", "data", "facts", f)
write("domain-xml", "model-case",
      "<domain type='kvm'><name>d</name><vcpu>2</vcpu><memory unit='GiB'>1</memory>"
      "<devices><interface type='network'><model type='ViRtIo'/>"
      "<driver name='vhost' queues='4'/></interface>"
      "<disk type='file' device='disk'><target dev='sdb'/></disk></devices></domain>")
write("domain-xml", "entities",
      "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
      "<domain><name>&b;</name></domain>")
write("domain-xml", "deep", "<domain>" + "<x>" * 40 + "</x>" * 40 + "</domain>")
write("domain-xml", "big-numbers",
      "<domain><vcpu current='4294967296'>99999999999999999999</vcpu>"
      "<memory unit='EiB'>18446744073709551615</memory><iothreads>-1</iothreads></domain>")
write("domain-xml", "agent-channel",
      "<domain><devices><channel type='unix'><source mode='bind' path='/run/x'/>"
      "<target type='virtio' name='org.virttune.agent.0' state='connected'/>"
      "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"
      "<controller type='virtio-serial' index='0'/></devices></domain>")

# ---------------------------------------------------------------- domstats
copy("domstats", "domstats", "tests", "data", "facts", "domstats.txt")
copy("domstats", "e2e", "tests", "data", "facts", "e2e-domstats-1.txt")
copy("domstats", "healthy", "tests", "data", "rules", "healthy", "domstats.txt")
write("domstats", "two-domains",
      "Domain: 'a'\n  block.count=1\n  block.0.name=vda\n  block.0.rd.reqs=5\n\n"
      "Domain: 'b'\n  net.count=2\n  net.0.name=vnet0\n  net.1.name=vnet0\n"
      "  net.0.rx.drop=18446744073709551615\n")
write("domstats", "odd-values",
      "Domain: 'x'\n  block.count=99999999\n  cpu.time=nan\n  balloon.current=-5\n"
      "  vcpu.0.delay=1e400\n  block.0.path=/a b\n  =\n  key\n")
write("domstats", "no-domain", "  block.count=1\n")
write("domstats", "quote", "Domain: 'it''s'\n  state.state=1\n")

# ---------------------------------------------------------------- capabilities
copy("capabilities", "default", "tests", "data", "facts", "test-default-capabilities.xml")
copy("capabilities", "e2e", "tests", "data", "facts", "e2e-capabilities.xml")
write("capabilities", "two-cells",
      "<capabilities><host><cpu><arch>x86_64</arch></cpu><topology><cells num='2'>"
      "<cell id='0'><memory unit='KiB'>1024</memory><cpus num='2'><cpu id='0'/><cpu id='1'/>"
      "</cpus></cell><cell id='1'><memory unit='KiB'>1024</memory><cpus num='1'>"
      "<cpu id='8191'/></cpus></cell></cells></topology></host></capabilities>")
write("capabilities", "bad-ids",
      "<capabilities><host><topology><cells><cell id='0'><cpus><cpu id='8192'/>"
      "<cpu id='-1'/></cpus></cell><cell id='0'/></cells></topology></host></capabilities>")
write("capabilities", "cpuset", "0-3,^2,8,10-8191")

# ---------------------------------------------------------------- rules config
copy("rules-config", "disabled", "tests", "data", "rules", "disabled", "config.ini")
write("rules-config", "thresholds",
      "# thresholds\n[rules]\nmem.swapping.warning_pages_per_s = 200\n"
      "mem.swapping.critical_pages_per_s=1000\ncpu.steal.warning_pct=5\n"
      "cpu.steal.critical_pct=20\nblk.scheduler.accept=none;mq-deadline\n"
      "nic.offload.features=rx-gro;tso\ncpu.mode.target=host-passthrough\n")
write("rules-config", "order", "[rules]\ncpu.steal.critical_pct=1\n")
write("rules-config", "unknown", "[rulez]\nx=1\n[rules]\nnope.enable=true\nnic.queues.enable=maybe\n")
write("rules-config", "binary", b"[rules]\n\x00\xff\xfe")
write("rules-config", "range", "[rules]\nmem.hugepages.min_gib=1e308\ncpu.steal.warning_pct=-0\n")

# ---------------------------------------------------------------- agent.conf
copy("agent-conf", "example", "packaging", "agent.conf.example")
copy("agent-conf", "e2e", "tests", "e2e", "agent.conf")
write("agent-conf", "full",
      "[agent]\ninterval=10\nexclude=sr*;vd[x-z]\nsections=meminfo;nics;block\n"
      "[apply]\nallow=channels;features;rings;scheduler;queue;sysctl:vm.swappiness\n"
      "persist=true\nchannels.max=4\nrings.max=1024\nqueue.nr_requests.min=4\n"
      "queue.nr_requests.max=1024\nqueue.read_ahead_kb.max=4096\n"
      "sysctl.vm.swappiness.min=0\nsysctl.vm.swappiness.max=60\n")
write("agent-conf", "min-over-max",
      "[apply]\nallow=sysctl:vm.swappiness;queue\nsysctl.vm.swappiness.min=70\n"
      "sysctl.vm.swappiness.max=60\nqueue.nr_requests.max=4294967295\n")
write("agent-conf", "unknown", "[agnet]\ninterval=1\n[agent]\nintervall=2\ninterval=86401\n")
write("agent-conf", "globs", "[agent]\nexclude=" + ";".join("d%d*" % i for i in range(70)) + "\n")
write("agent-conf", "escapes", "[agent]\nexclude=a\\tb;\\x41;\\\n")

# ---------------------------------------------------------------- virt-tuned.conf
copy("daemon-conf", "example", "packaging", "virt-tuned.conf.example")
write("daemon-conf", "full",
      "[daemon]\nconnect=qemu:///system\nstate-dir=/var/lib/virt-tune\n"
      "socket=/run/virt-tune/virt-tuned.sock\ngroup=virt-tune\nchannel=org.virttune.agent.0\n"
      "rules-config=/etc/virt-tune/rules.conf\nmetrics-listen=127.0.0.1:9177\nmetrics-host-label=h1\n"
      "poll-interval=10\nretention-days=30\nretention-reports=100000\n")
write("daemon-conf", "unknown", "[deamon]\npoll-interval=1\n[daemon]\npoll-intervall=3\n")
write("daemon-conf", "range", "[daemon]\npoll-interval=2147483648\nretention-days=-1\n")
write("daemon-conf", "no-group", "poll-interval=5\n")
write("daemon-conf", "long", "[daemon]\ngroup=" + "g" * 300 + "\n")

# ---------------------------------------------------------------- control requests
write("control", "commands",
      '{"command":"list"}\n{"command":"history","args":{"domain":"db1","limit":5}}\n'
      '{"command":"refresh","args":null}\n{"command":"apply","args":{"domain":"d",'
      '"id":"nic.queues:eth0","dry_run":true}}\n')
write("control", "bad", '{"command":1}\n[]\n{"args":[]}\n{"command":"x","args":"y"}\nnot json\n')
write("control", "deep", '{"command":"x","args":' + '{"a":' * 20 + "1" + "}" * 21 + "\n")
write("control", "utf8", b'{"command":"\xff\xfe"}\n{"command":"\\u0000"}\n')
write("control", "numbers", '{"command":"history","args":{"limit":99999999999999999999}}\n')

# ---------------------------------------------------------------- journal entries
ACTION = '{"set_channels":{"iface":"eth0","combined":4}}'


def entry(seq, kind, state, extra=""):
    return ('{"format":1,"seq":%d,"change_id":"c-%d","request_id":"r-%d","kind":"%s",'
            '"action":%s,"persist":false,"state":"%s","before":"combined=1",'
            '"target":"combined=4"%s,"created_ms":1,"updated_ms":2}'
            % (seq, seq, seq, kind, ACTION, state, extra))


write("journal", "prepared", entry(1, "apply", "prepared"))
write("journal", "applied", entry(2, "apply", "applied", ',"after":"combined=4"'))
write("journal", "failed", entry(3, "apply", "failed", ',"reason":"kernel","errnum":22'))
write("journal", "rollback",
      entry(4, "rollback", "applied", ',"rollback_of":"c-2","after":"combined=1"'))
write("journal", "inconsistent", entry(5, "rollback", "rolled_back"))
write("journal", "sysctl", entry(6, "apply", "applied", ',"after":"60"')
      .replace(ACTION, '{"set_sysctl":{"key":"vm.swappiness","value":"60"}}'))
write("journal", "empty-action", entry(7, "apply", "prepared").replace(ACTION, "{}"))
write("journal", "big-seq", entry(1, "apply", "prepared").replace('"seq":1', '"seq":9223372036854775807'))
write("journal", "deep", "[" * 300 + "]" * 300)

# ---------------------------------------------------------------- NICs' features
# Envelopes as the daemon gets them (unframed): the captured agent report, and
# hand-made wire the scan must decline or take (field numbers of
# proto/virttune.proto: Envelope.report 11, Report.nics 7, Nic.name 1,
# Nic.features 10, Feature.name 1, Feature.active 2).


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7F | 0x80])
        v >>= 7
    return out + bytes([v])


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def feature(name, active):
    return field(1, name.encode()) + varint(2 << 3) + varint(1 if active else 0)


def nic(*parts):
    return field(7, b"".join(parts))


def envelope(*nics):
    return varint(1 << 3) + varint(1) + field(11, b"".join(nics))


FEATS = [field(10, feature("rx-gro", True)), field(10, feature("tx-tcp-segmentation", False))]
write("nic-features", "two-nics", envelope(nic(field(1, b"eth0"), *FEATS),
                                           nic(field(1, b"eth1"))))
write("nic-features", "split-run", envelope(nic(FEATS[0], field(1, b"eth0"), FEATS[1])))
write("nic-features", "blank-number", envelope(nic(field(536870911, b"xyz"), *FEATS)))
write("nic-features", "two-reports", envelope(nic(*FEATS)) + field(11, nic(*FEATS)))
write("nic-features", "short-run", envelope(nic(field(10, b""))))
write("nic-features", "features-varint", envelope(nic(varint(10 << 3) + varint(1))))
write("nic-features", "truncated", envelope(nic(*FEATS))[:-3])
# the features' tag padded to two bytes (a varint may be): as sent, the
# store's copy must still decode
# fields numbered 0 and past 2^29 - 1 in Report.cpu, which protobuf-c
# decodes and the validation refuses
write("nic-features", "bad-field-numbers",
      envelope() + b"\x5a\x0b\x42\x09\xfa\xff\xff\xff\x5a\x00\x80\x00\x5a")
write("nic-features", "padded-tag",
      envelope(nic(b"\xd2\x00" + FEATS[0][1:], FEATS[1], field(1, b"eth0"))))
if tool:
    import json
    with open(os.path.join(data, "host", "agent-capture.json")) as f:
        capture = json.load(f)
    # the frame's 12 bytes (magic, length, CRC) off: the payload
    write("nic-features", "agent-capture",
          encode(json.dumps({"version": 1, "seq": 2, "report": capture}))[12:])
