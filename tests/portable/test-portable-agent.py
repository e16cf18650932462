#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The portable agent as built: no shared libraries, no JSON library, small
enough to ship, and it still collects a report. TAP on stdout."""
import os
import subprocess
import sys
import tempfile

SIZE_MAX = 3 * 1024 * 1024  # stripped


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=60, **kw)


def main():
    agent = os.environ["VT_PORTABLE_AGENT"]
    sysroot = os.environ["VT_AGENT_SYSROOT"]
    checks = []

    def ok(cond, name, detail=""):
        checks.append((bool(cond), name, detail))

    ldd = run(["ldd", agent])
    text = (ldd.stdout + ldd.stderr).decode(errors="replace")
    ok("not a dynamic executable" in text, "ldd: not a dynamic executable", text.strip())

    elf = run(["readelf", "-lW", agent]).stdout.decode()
    ok("INTERP" not in elf and "DYNAMIC" not in elf, "no ELF interpreter, no dynamic section")

    syms = run(["nm", agent]).stdout.decode()
    ok(" json_" not in syms, "no JSON-GLib symbol linked in")

    with tempfile.TemporaryDirectory(prefix="vt-portable-") as tmp:
        stripped = os.path.join(tmp, "agent")
        res = run(["strip", "-o", stripped, agent])
        size = os.path.getsize(stripped) if res.returncode == 0 else -1
        print("# figure: portable agent %d bytes stripped (%.2f MiB), %d unstripped" % (
            size, size / 1048576.0, os.path.getsize(agent)))
        ok(0 < size <= SIZE_MAX, "stripped size <= 3 MiB", "got %d bytes" % size)

        ver = run([agent, "--version"])
        ok(ver.returncode == 0 and b"(portable)" in ver.stdout, "--version names the build",
           ver.stdout.decode(errors="replace"))

        out = os.path.join(tmp, "report.pb")
        once = run([agent, "--once", "--sysroot", sysroot, "--output", out])
        size = os.path.getsize(out) if os.path.exists(out) else 0
        ok(once.returncode == 0 and size > 0, "--once writes a protobuf report",
           "rc %d, %d bytes, %s" % (once.returncode, size, once.stderr.decode(errors="replace")))

        js = run([agent, "--once", "--format", "json", "--sysroot", sysroot])
        ok(js.returncode == 2 and b"pb only" in js.stderr, "--format json refused, saying why",
           js.stderr.decode(errors="replace"))

    print("1..%d" % len(checks))
    for i, (good, name, detail) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good and detail:
            for line in detail.splitlines()[:20]:
                print("# " + line)
    return 0 if all(c[0] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
