# SPDX-License-Identifier: GPL-2.0-or-later
"""The wire format, written independently of common/ so that the harness checks
the agent against the documented format rather than against the same code:
frames are magic 8E 56 54 31 | u32 BE length | u32 BE crc32 | payload, and each
payload is one protobuf Envelope (proto/virttune.proto), encoded and decoded
here by hand (varint and length-delimited fields are all the schema uses,
plus the fixed64 of Cpu's doubles)."""

import struct
import zlib

MAGIC = b"\x8eVT1"
HEADER_SIZE = 12
FRAME_MAX = 64 * 1024
PROTOCOL_VERSION = 1

# Envelope field numbers (proto/virttune.proto).
ENVELOPE_VERSION = 1
ENVELOPE_SEQ = 2
ENVELOPE_BODIES = {10: "hello", 11: "report", 12: "report_request", 13: "apply_request",
                   14: "apply_result", 15: "rollback_request", 16: "error"}
BODY_FIELDS = {name: num for num, name in ENVELOPE_BODIES.items()}

# Hello
HELLO_HOST_VERSION = 1
HELLO_AGENT_VERSION = 2
HELLO_NONCE = 3
HELLO_BOOT_ID = 4
HELLO_CAPABILITIES = 5
HELLO_POLICY = 6  # PolicySummary: 1 allowed (repeated string), 2 persist


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(num, value):
    return _varint(num << 3) + _varint(value)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint((num << 3) | 2) + _varint(len(data)) + data


def envelope(seq, body_name, body=b""):
    return (field_varint(ENVELOPE_VERSION, PROTOCOL_VERSION) + field_varint(ENVELOPE_SEQ, seq)
            + field_bytes(BODY_FIELDS[body_name], body))


def hello(seq, nonce, host_version="vt-e2e"):
    return envelope(seq, "hello", field_bytes(HELLO_HOST_VERSION, host_version)
                    + field_varint(HELLO_NONCE, nonce))


def report_request(seq, reason="vt-e2e"):
    return envelope(seq, "report_request", field_bytes(1, reason))


def frame(payload):
    if len(payload) > FRAME_MAX:
        raise ValueError("payload of %d bytes exceeds the frame limit" % len(payload))
    return MAGIC + struct.pack(">II", len(payload), zlib.crc32(payload) & 0xFFFFFFFF) + payload


class DecodeError(ValueError):
    pass


def decode(data):
    """Protobuf bytes -> {field number: [values]}; varints as int, length-delimited
    fields as bytes (decode nested messages again with decode())."""
    fields = {}
    i = 0
    n = len(data)

    def varint():
        nonlocal i
        shift = 0
        value = 0
        while True:
            if i >= n or shift > 63:
                raise DecodeError("truncated or overlong varint at %d" % i)
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < n:
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 2:
            length = varint()
            if i + length > n:
                raise DecodeError("field %d runs past the end" % num)
            value = bytes(data[i:i + length])
            i += length
        elif wire == 1:
            if i + 8 > n:
                raise DecodeError("truncated fixed64")
            value = struct.unpack("<d", data[i:i + 8])[0]
            i += 8
        elif wire == 5:
            if i + 4 > n:
                raise DecodeError("truncated fixed32")
            value = struct.unpack("<I", data[i:i + 4])[0]
            i += 4
        else:
            raise DecodeError("wire type %d at %d" % (wire, i))
        fields.setdefault(num, []).append(value)
    return fields


class Message:
    """A decoded message: m.get(3) is the last value of field 3 (or None),
    m.all(3) every value, m.msg(1) field 1 decoded as a nested Message."""

    def __init__(self, data):
        self.raw = data
        self.fields = decode(data)

    def get(self, num, default=None):
        values = self.fields.get(num)
        return values[-1] if values else default

    def all(self, num):
        return self.fields.get(num, [])

    def text(self, num, default=None):
        value = self.get(num)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else default

    def msg(self, num):
        value = self.get(num)
        return Message(value) if isinstance(value, bytes) else None

    def msgs(self, num):
        return [Message(v) for v in self.all(num) if isinstance(v, bytes)]


class Envelope(Message):
    @property
    def body_name(self):
        for num, name in ENVELOPE_BODIES.items():
            if num in self.fields:
                return name
        return "empty"

    @property
    def body(self):
        num = BODY_FIELDS.get(self.body_name)
        return self.msg(num) if num else None


class FrameReader:
    """Splits a byte stream into payloads; counts what it had to throw away."""

    def __init__(self):
        self.buf = bytearray()
        self.rejects = {"garbage": 0, "oversize": 0, "bad_crc": 0}

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            at = self.buf.find(MAGIC)
            if at < 0:
                if len(self.buf) > 3:
                    self.rejects["garbage"] += 1
                    del self.buf[:-3]
                return out
            if at > 0:
                self.rejects["garbage"] += 1
                del self.buf[:at]
            if len(self.buf) < HEADER_SIZE:
                return out
            length, crc = struct.unpack(">II", self.buf[4:12])
            if length > FRAME_MAX:
                self.rejects["oversize"] += 1
                del self.buf[:1]
                continue
            if len(self.buf) < HEADER_SIZE + length:
                return out
            payload = bytes(self.buf[HEADER_SIZE:HEADER_SIZE + length])
            if zlib.crc32(payload) & 0xFFFFFFFF != crc:
                self.rejects["bad_crc"] += 1
                del self.buf[:1]
                continue
            del self.buf[:HEADER_SIZE + length]
            out.append(payload)
