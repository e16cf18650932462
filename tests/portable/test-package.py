#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tools/package tar rpm: the tarball's contents, its install.sh run with
nothing but coreutils on PATH into a DESTDIR (twice: agent.conf is kept), and
the RPM's file list (tools/package has rpmlint check it). TAP on stdout."""
import os
import subprocess
import sys
import tarfile
import tempfile

TAR_FILES = ["install.sh", "COPYING", "agent.conf.example", "sbin/virt-tune-agent",
             "systemd/virt-tune-agent.service", "udev/90-virt-tune-agent.rules",
             "man/virt-tune-agent.8", "man/virt-tune-agent.conf.5"]
INSTALLED = {"usr/sbin/virt-tune-agent": 0o755,
             "etc/systemd/system/virt-tune-agent.service": 0o644,
             "etc/udev/rules.d/90-virt-tune-agent.rules": 0o644,
             "usr/share/man/man8/virt-tune-agent.8": 0o644,
             "usr/share/man/man5/virt-tune-agent.conf.5": 0o644,
             "etc/virt-tune/agent.conf": 0o644}
RPM_FILES = ["/usr/sbin/virt-tune-agent", "/usr/lib/systemd/system/virt-tune-agent.service",
             "/usr/lib/udev/rules.d/90-virt-tune-agent.rules", "/etc/virt-tune/agent.conf",
             "/usr/share/man/man8/virt-tune-agent.8.gz",
             "/usr/share/man/man5/virt-tune-agent.conf.5.gz"]


def coreutils_path(tmp):
    """A directory with sh and the coreutils programs only."""
    bindir = os.path.join(tmp, "coreutils-bin")
    os.mkdir(bindir)
    listing = subprocess.run(["dpkg", "-L", "coreutils"], capture_output=True, text=True,
                             check=True).stdout.split()
    for path in listing + ["/bin/sh"]:
        if "/bin/" in path and os.path.isfile(path) and os.access(path, os.X_OK):
            dest = os.path.join(bindir, os.path.basename(path))
            if not os.path.exists(dest):
                os.symlink(path, dest)
    return bindir


def main():
    root = os.environ["VT_SOURCE_ROOT"]
    builddir = os.environ["VT_PACKAGE_BUILDDIR"]
    checks = []

    def ok(cond, name, detail=""):
        checks.append((bool(cond), name, str(detail)))

    with tempfile.TemporaryDirectory(prefix="vt-package-") as tmp:
        out = os.path.join(tmp, "out")
        res = subprocess.run([os.path.join(root, "tools", "package"), "--build-dir", builddir,
                              "--out", out, "tar", "rpm"], capture_output=True, text=True)
        log = res.stdout + res.stderr
        ok(res.returncode == 0, "tools/package tar rpm (rpmlint clean)", log[-3000:])
        for line in log.splitlines():
            if "packages and 0 specfiles checked" in line:
                print("# rpmlint: " + line.strip())
        names = sorted(os.listdir(out)) if os.path.isdir(out) else []
        tarballs = [n for n in names if n.endswith("-x86_64.tar.gz")]
        rpms = [n for n in names if n.endswith(".x86_64.rpm")]
        ok(len(tarballs) == 1 and len(rpms) == 1, "one tarball and one RPM", names)
        if len(tarballs) != 1 or len(rpms) != 1:
            return report(checks)

        with tarfile.open(os.path.join(out, tarballs[0])) as tf:
            top = tarballs[0][:-len(".tar.gz")]
            members = {m.name[len(top) + 1:] for m in tf.getmembers()}
            missing = [f for f in TAR_FILES if f not in members]
            ok(not missing, "the tarball holds binary, unit, udev rule, man pages, install.sh",
               "missing %s" % missing)
            tf.extractall(tmp)
        dest = os.path.join(tmp, "destdir")
        env = {"PATH": coreutils_path(tmp), "DESTDIR": dest}
        script = os.path.join(tmp, top, "install.sh")
        first = subprocess.run([script], env=env, capture_output=True, text=True)
        ok(first.returncode == 0, "install.sh into DESTDIR with only coreutils on PATH",
           first.stdout + first.stderr)
        wrong = {p: oct(os.stat(os.path.join(dest, p)).st_mode & 0o777)
                 if os.path.exists(os.path.join(dest, p)) else "missing"
                 for p, mode in INSTALLED.items()
                 if not os.path.exists(os.path.join(dest, p)) or
                 os.stat(os.path.join(dest, p)).st_mode & 0o777 != mode}
        ok(not wrong, "every file installed with its mode", wrong)
        conf = os.path.join(dest, "etc/virt-tune/agent.conf")
        if os.path.exists(conf):
            with open(conf, "a") as f:
                f.write("# the admin's edit\n")
        second = subprocess.run([script], env=env, capture_output=True, text=True)
        kept = os.path.exists(conf) and "the admin's edit" in open(conf).read()
        ok(second.returncode == 0 and kept, "a second install.sh keeps the admin's agent.conf",
           second.stdout + second.stderr)
        ver = subprocess.run([os.path.join(dest, "usr/sbin/virt-tune-agent"), "--version"],
                             capture_output=True, text=True)
        ok("(portable)" in ver.stdout, "the installed agent is the portable build", ver.stdout)

        qpl = subprocess.run(["rpm", "-qpl", os.path.join(out, rpms[0])],
                             capture_output=True, text=True)
        listed = qpl.stdout.split()
        missing = [f for f in RPM_FILES if f not in listed]
        ok(qpl.returncode == 0 and not missing, "rpm -qpl lists the agent's files",
           "missing %s in %s" % (missing, listed))
    return report(checks)


def report(checks):
    print("1..%d" % len(checks))
    for i, (good, name, detail) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good:
            for line in detail.splitlines()[-30:]:
                print("# " + line)
    return 0 if all(c[0] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
