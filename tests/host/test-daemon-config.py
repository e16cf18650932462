#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-tuned.conf as people get it wrong: every error names the file and the
line, a binary file is refused without being echoed, and an unknown group is
treated like an unknown key (a warning naming it, then the daemon goes on).
Each run passes an invalid --channel, so the daemon stops right after reading
the file, before it touches libvirt, a socket or the state directory."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402

DAEMON = os.environ["VT_DAEMON"]


def run_with(content):
    with tempfile.TemporaryDirectory(prefix="vt-conf-") as tmp:
        conf = os.path.join(tmp, "virt-tuned.conf")
        with open(conf, "wb") as f:
            f.write(content)
        p = subprocess.run([DAEMON, "--config", conf, "--channel", "probe-invalid",
                            "--connect", "test:///default", "--state-dir", tmp,
                            "--socket", os.path.join(tmp, "sock")],
                           capture_output=True, timeout=30)
        return p.returncode, p.stderr.decode("utf-8", "replace"), conf


def expect(content, rc_want, needle):
    rc, err, conf = run_with(content)
    vthost.diag("rc %d: %s" % (rc, err.strip()))
    if rc != rc_want or (conf + needle) not in err:
        vthost.fail("wanted rc %d and '%s%s' in: %s" % (rc_want, conf, needle, err))
    return err


def test_bad_value_names_line():
    expect(b"# comment\n[daemon]\n\npoll-interval = often\n", 2,
           ":4: poll-interval: 'often' is not a whole number")


def test_unknown_group_and_key_warn_alike():
    err = expect(b"[deamon]\nconnect=qemu:///system\n[daemon]\nbogus=1\n", 2,
                 ":1: unknown group [deamon], ignoring")
    if ":4: unknown key 'bogus' in [daemon], ignoring" not in err:
        vthost.fail("no warning for the unknown key: " + err)
    if "--channel must be" not in err:
        vthost.fail("the daemon did not go on past the warnings: " + err)


def test_binary_refused_without_echo():
    blob = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) + b"\x1b]0;owned\x07"
    err = expect(blob, 2, ":1: not valid UTF-8 (or a NUL byte)")
    if any(c in err for c in ("\x1b", "\x07", "ELF")):
        vthost.fail("the file's bytes were echoed: %r" % err)


def test_control_character_refused():
    err = expect(b"[daemon]\ngroup=ops\x1b[2J\n", 2, ":2: a control character at column 10")
    if "\x1b" in err:
        vthost.fail("ESC echoed: %r" % err)


def test_bidi_and_c1_refused():
    expect("[daemon]\ngroup=ops\u202e\n".encode(), 2, ":2: a control character at column 10")
    expect("[daemon]\ngroup=ops\u009b2J\n".encode(), 2, ":2: a control character at column 10")
    expect(b"[daemon]\ngroup=ops\x7f\n", 2, ":2: a control character at column 10")


def test_oversize_refused():
    expect(b"#" * (64 * 1024 + 1), 2, ": larger than 65536 bytes")


if __name__ == "__main__":
    vthost.main([
        ("a bad value names file and line", test_bad_value_names_line),
        ("unknown group and key are both warnings", test_unknown_group_and_key_warn_alike),
        ("a binary file is refused without echoing it", test_binary_refused_without_echo),
        ("a control character is refused", test_control_character_refused),
        ("bidi overrides, C1 and DEL are refused", test_bidi_and_c1_refused),
        ("an oversize file is refused", test_oversize_refused),
    ])
