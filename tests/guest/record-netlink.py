#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Records the netlink messages that test-netlink plays back.

Run as root inside a throw-away network namespace, so that no other program
sees the change it makes:  unshare -n tests/guest/record-netlink.py OUTDIR

Writes OUTDIR/ctrl-family-ethtool.bin (the generic netlink controller's answer
about the "ethtool" family), OUTDIR/ethtool-features-ntf-lo.bin (what the
family's "monitor" group announces when `ethtool -K lo gro off` runs) and
OUTDIR/rtnl-getlink-dump.bin (the first datagram of an RTM_GETLINK dump: lo,
the namespace's one interface, up after `ip link set lo up`), and prints the
family and group ids the kernel chose.
"""
import os
import socket
import struct
import subprocess
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
SOL_NETLINK = 270
NETLINK_ROUTE = 0
RTM_GETLINK = 18
NLM_F_REQUEST_DUMP = 0x1 | 0x300
NETLINK_ADD_MEMBERSHIP = 1


def attrs(data):
    off = 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from("HH", data, off)
        if length < 4:
            raise ValueError("attribute shorter than its header")
        yield kind & 0x3FFF, data[off + 4:off + length]
        off += (length + 3) & ~3


def getfamily(sock, name):
    value = name.encode() + b"\0"
    value += b"\0" * (-len(value) % 4)
    attr = struct.pack("HH", 4 + len(name) + 1, CTRL_ATTR_FAMILY_NAME) + value
    body = struct.pack("BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr
    sock.send(struct.pack("IHHII", 16 + len(body), GENL_ID_CTRL, 1, 1, 0) + body)
    return sock.recv(65536)


def getlink_dump():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    sock.bind((0, 0))
    body = struct.pack("BBHiII", 0, 0, 0, 0, 0, 0)
    sock.send(struct.pack("IHHII", 16 + len(body), RTM_GETLINK, NLM_F_REQUEST_DUMP, 1, 0) + body)
    return sock.recv(65536)


def main():
    out = sys.argv[1]
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    answer = getfamily(sock, "ethtool")
    family = group = None
    for kind, value in attrs(answer[20:]):
        if kind == CTRL_ATTR_FAMILY_ID:
            family = struct.unpack("H", value)[0]
        elif kind == CTRL_ATTR_MCAST_GROUPS:
            for _, entry in attrs(value):
                fields = dict(attrs(entry))
                if fields.get(1, b"").rstrip(b"\0") == b"monitor":
                    group = struct.unpack("I", fields[2])[0]
    sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    subprocess.run(["ethtool", "-K", "lo", "gro", "off"], check=True)
    note = sock.recv(65536)
    with open(os.path.join(out, "ctrl-family-ethtool.bin"), "wb") as f:
        f.write(answer)
    with open(os.path.join(out, "ethtool-features-ntf-lo.bin"), "wb") as f:
        f.write(note)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open(os.path.join(out, "rtnl-getlink-dump.bin"), "wb") as f:
        f.write(getlink_dump())
    print("family", family, "monitor group", group)


if __name__ == "__main__":
    main()
