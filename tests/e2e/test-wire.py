#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness's hand-written wire code (vte2e/wire.py) against the project's
(common/ frame.c, message.c, json.c through vt-e2e-frame), both ways. No VM."""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vte2e import wire  # noqa: E402
from vte2e.tap import Tap  # noqa: E402

TOOL = os.environ.get("VT_E2E_FRAME")


def tool(mode, data):
    res = subprocess.run([TOOL, mode], input=data, capture_output=True, timeout=30)
    return res.returncode, res.stdout, res.stderr.decode("utf-8", "replace")


def main():
    if not TOOL or not os.access(TOOL, os.X_OK):
        print("1..0 # SKIP VT_E2E_FRAME does not name the vt-e2e-frame tool")
        return 0
    t = Tap()

    # Python -> C: the probe's Hello as common/ reads it.
    nonce = (1 << 62) + 12345
    rc, out, err = tool("decode", wire.frame(wire.hello(3, nonce)))
    t.eq(rc, 0, "common/ decodes the harness's Hello frame")
    lines = out.decode().splitlines()
    env = json.loads(lines[0]) if len(lines) == 1 else {}
    t.eq(env, {"version": 1, "seq": 3, "hello": {"host_version": "vt-e2e", "nonce": nonce}},
         "the Hello's fields survive, nonce included")
    t.ok("garbage=0" in err and "bad_crc=0" in err, "common/ rejects nothing", "no rejects",
         err.strip())

    # C -> Python: a Report the way the agent packs it.
    report = {"version": 1, "seq": 7, "report": {
        "identity": {"kernel_release": "6.1.0-56-cloud-amd64", "uptime_s": 5},
        "meminfo": {"MemTotal": 492584960},
        "nics": [{"name": "eth0", "channels": {"max_combined": 4, "combined": 1}}],
        "cpu": {"online": 2, "loadavg_1": 0.5}}}
    rc, frame, err = tool("encode", json.dumps(report).encode())
    t.ok(rc == 0, "common/ frames a JSON Envelope", "exit 0", "exit %d: %s" % (rc, err.strip()))
    reader = wire.FrameReader()
    # junk, a copy with a broken CRC, then the frame split in two
    broken = bytearray(frame)
    broken[-1] ^= 0xFF
    payloads = reader.feed(b"noise" + bytes(broken)) + reader.feed(frame[:9])
    payloads += reader.feed(frame[9:])
    t.eq(len(payloads), 1, "the harness finds exactly the good frame among junk")
    t.eq(reader.rejects["bad_crc"], 1, "the harness counts the broken frame")
    e = wire.Envelope(payloads[0]) if payloads else None
    t.eq(e.body_name if e else None, "report", "the envelope's body is a report")
    r = e.body if e else None
    t.eq(r.msg(1).text(3) if r else None, "6.1.0-56-cloud-amd64", "identity.kernel_release")
    nic = r.msgs(7)[0] if r and r.msgs(7) else None
    t.eq(nic.msg(8).get(8) if nic else None, 1, "nics[0].channels.combined")
    t.eq(nic.msg(8).get(4) if nic else None, 4, "nics[0].channels.max_combined")
    entry = r.msgs(2)[0] if r and r.msgs(2) else None
    t.eq((entry.text(1), entry.get(2)) if entry else None, ("MemTotal", 492584960),
         "meminfo map entry")
    t.eq(r.msg(8).get(5) if r else None, 0.5, "cpu.loadavg_1 (a double)")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
