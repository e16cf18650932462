# SPDX-License-Identifier: GPL-2.0-or-later
"""A host-side probe on the agent channel's UNIX socket: sends Hello with a
nonce (resent with backoff, as the daemon must: bytes sent while the guest has
its port closed are lost), waits for the agent's Hello with that nonce, then
for a Report. Only one client may hold the channel: close the probe before a
daemon connects."""

import random
import socket
import time

from . import wire


class ProbeResult:
    def __init__(self):
        self.hello = None       # the agent's Hello (wire.Message) with our nonce
        self.report = None      # the first Report (wire.Message) after it
        self.report_envelope = None  # its whole Envelope (wire.Envelope), for to_json()
        self.frames = []        # every Envelope received, in order
        self.hellos_sent = 0
        self.hello_seconds = None
        self.report_seconds = None
        self.error = None       # why the exchange stopped short, for messages

    @property
    def bodies(self):
        return [e.body_name for e in self.frames]

    def describe(self):
        return ("hellos sent %d, frames received %s, hello after %s s, report after %s s%s" % (
            self.hellos_sent, self.bodies or "none",
            "%.2f" % self.hello_seconds if self.hello_seconds is not None else "-",
            "%.2f" % self.report_seconds if self.report_seconds is not None else "-",
            ", " + self.error if self.error else ""))


def exchange(path, timeout=20.0, want_report=True, give_up=None):
    """Connects to the channel socket and runs the handshake; never raises for
    what the guest does (it is reported in ProbeResult.error). give_up() returning
    a reason ends the wait early (e.g. the agent said it cannot run)."""
    result = ProbeResult()
    nonce = random.getrandbits(63) or 1
    reader = wire.FrameReader()
    t0 = time.monotonic()
    deadline = t0 + timeout
    seq = 0
    resend_at = t0
    backoff = 0.5
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    except OSError as e:
        result.error = "cannot connect to %s: %s" % (path, e)
        return result
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            reason = give_up() if give_up and result.hellos_sent > 1 else None
            if reason:
                result.error = "gave up after %.1f s: %s" % (now - t0, reason)
                break
            if result.hello is None and now >= resend_at:
                seq += 1
                sock.sendall(wire.frame(wire.hello(seq, nonce)))
                result.hellos_sent += 1
                resend_at = now + backoff
                backoff = min(backoff * 2, 4.0)
            sock.settimeout(max(0.05, min(deadline, resend_at) - now))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                result.error = "QEMU closed the channel socket"
                break
            for payload in reader.feed(chunk):
                try:
                    env = wire.Envelope(payload)
                except wire.DecodeError as e:
                    result.error = "undecodable frame: %s" % e
                    continue
                result.frames.append(env)
                if env.body_name == "hello" and result.hello is None:
                    if env.body.get(wire.HELLO_NONCE) == nonce:
                        result.hello = env.body
                        result.hello_seconds = time.monotonic() - t0
                elif env.body_name == "report" and result.hello is not None \
                        and result.report is None:
                    result.report = env.body
                    result.report_envelope = env
                    result.report_seconds = time.monotonic() - t0
            if result.hello is not None and (result.report is not None or not want_report):
                break
        else:
            result.error = "no %s within %.0f s" % (
                "Hello answer" if result.hello is None else "Report", timeout)
    except OSError as e:
        result.error = "channel error: %s" % e
    finally:
        sock.close()
    if any(reader.rejects.values()):
        result.error = (result.error + "; " if result.error else "") + \
            "rejected bytes: %s" % reader.rejects
    return result


def to_json(envelope):
    """The canonical JSON (common/json.c) of a received wire.Envelope, through the
    vt-e2e-frame tool ($VT_E2E_FRAME, built with the tests); None without it."""
    import json
    import os
    import subprocess
    tool = os.environ.get("VT_E2E_FRAME")
    if not tool or envelope is None:
        return None
    res = subprocess.run([tool, "decode"], input=wire.frame(envelope.raw),
                         capture_output=True, timeout=30)
    if res.returncode != 0:
        raise ValueError("vt-e2e-frame decode: %s" % res.stderr.decode(errors="replace"))
    return json.loads(res.stdout.decode().splitlines()[0])
