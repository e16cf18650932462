#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpus of fuzz-wire: framed envelopes made with
vt-e2e-frame (common/'s own encoder) plus hostile shapes. Run once; the
files are committed."""
import os, struct, subprocess, sys, zlib

out = sys.argv[1]
tool = sys.argv[2]  # build/tests/e2e/vt-e2e-frame
os.makedirs(out, exist_ok=True)
MAGIC = b"\x8eVT1"

def frame(payload):
    return MAGIC + struct.pack(">II", len(payload), zlib.crc32(payload)) + payload

def encode(js):
    return subprocess.run([tool, "encode"], input=js.encode(), capture_output=True,
                          check=True).stdout

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
    with open(os.path.join(out, name), "wb") as f:
        f.write(encode(js))
with open(os.path.join(out, "oversize"), "wb") as f:
    f.write(MAGIC + struct.pack(">II", 0xFFFFFFFF, 0) + b"x" * 16)
with open(os.path.join(out, "bad-crc"), "wb") as f:
    f.write(MAGIC + struct.pack(">II", 3, 1) + b"abc" + frame(b""))
with open(os.path.join(out, "empty-blocks"), "wb") as f:
    f.write(frame(b"\x5a\x02\x32\x00" * 1000))
