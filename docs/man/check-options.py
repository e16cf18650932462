#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keep the man pages and the binaries in step.

  check-options.py [--binary NAME PATH PAGE.scd]... [--daemon-config PATH PAGE.scd]

--binary: every long option that `PATH --help` prints (and, for a program with
commands, `PATH COMMAND --help` for each command its --help lists) is
described in PAGE, and every option PAGE describes is one the program has.
An option is "described" by a definition line: a line that starts with
`*-`, as in `*-f*, *--format* _FORMAT_`, followed by its tab-indented text. For a program with commands, PAGE
has one `## COMMAND` subsection per command under `# COMMANDS`, holding that
command's own options, and `# OPTIONS` for the ones every command shares.

--daemon-config: every `*key=*` that PAGE (virt-tuned.conf(5)) describes is
accepted by `PATH --config FILE`, and an unknown key is named in a warning.
"""
import os
import re
import subprocess
import sys
import tempfile

LONG = re.compile(r"--[a-z0-9][a-z0-9-]*")
HELP_OPTION = re.compile(r"^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)", re.M)
COMMAND_LINE = re.compile(r"^  ([a-z][a-z-]*)\s{2,}\S", re.M)
TIMEOUT = 20

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=TIMEOUT, env=dict(os.environ, LC_ALL="C"))
    return p.returncode, p.stdout, p.stderr


def help_options(argv):
    rc, out, err = run(argv + ["--help"])
    if rc != 0:
        fail("%s --help exited %d: %s" % (" ".join(argv), rc, err.strip()))
        return set(), ""
    opts = {o for o in HELP_OPTION.findall(out) if not o.startswith("--help")}
    return opts, out


def sections(text):
    """{"# NAME": [lines], "## name": [lines], ...} in order; "## x" keys are
    prefixed with their parent "# " section."""
    result = {}
    top = sub = None
    for line in text.splitlines():
        if line.startswith("# "):
            top, sub = line[2:].strip(), None
            result.setdefault(top, [])
            continue
        if line.startswith("## ") and top is not None:
            sub = line[3:].split()[0]
            result.setdefault(top + "/" + sub, [])
            continue
        if top is not None:
            result[top if sub is None else top + "/" + sub].append(line)
    return result


def defined(lines):
    opts = set()
    for i, line in enumerate(lines):
        if line.startswith("*-") and i + 1 < len(lines) and lines[i + 1].startswith("\t"):
            opts.update(LONG.findall(line))
    return opts


def version_works(path, name):
    rc, out, _ = run([path, "--version"])
    return rc == 0 and out.startswith(name + " ")


def check_simple(name, path, page_text):
    in_help, _ = help_options([path])
    in_page = defined(page_text.splitlines())
    for o in sorted(in_help - in_page):
        fail("%s: %s is in --help but not described in its man page" % (name, o))
    for o in sorted(in_page - in_help):
        if o == "--version" and version_works(path, name):
            continue
        fail("%s: the man page describes %s, which --help does not list" % (name, o))
    print("%s: %d options checked" % (name, len(in_help | in_page)))


def check_commands(name, path, page_text, top_help):
    commands = COMMAND_LINE.findall(top_help.split("Commands:", 1)[1])
    secs = sections(page_text)
    common = defined(secs.get("OPTIONS", []))
    page_commands = [k.split("/", 1)[1] for k in secs if k.startswith("COMMANDS/")]
    for c in commands:
        if c not in page_commands:
            fail("%s: command %s is in --help but has no '## %s' in the man page" % (name, c, c))
    for c in page_commands:
        if c not in commands:
            fail("%s: the man page describes command %s, which --help does not list" % (name, c))
    # The options the top-level --help lists are the shared ones, taken before
    # the command as well: the page's OPTIONS describe them.
    for o in sorted({o for o in HELP_OPTION.findall(top_help) if o != "--help"} - common):
        fail("%s: %s is in --help but not in the man page's OPTIONS" % (name, o))
    all_help = set()
    for c in commands:
        in_help, _ = help_options([path, c])
        all_help |= in_help
        own = defined(secs.get("COMMANDS/" + c, []))
        for o in sorted(in_help - own - common):
            fail("%s %s: %s is in --help but not described in the man page" % (name, c, o))
        for o in sorted(own - in_help):
            fail("%s %s: the man page describes %s, which --help does not list" % (name, c, o))
    for o in sorted(common - all_help):
        if o == "--version" and version_works(path, name):
            continue
        fail("%s: the man page's OPTIONS describe %s, which no command takes" % (name, o))
    print("%s: %d commands, %d distinct options checked" % (name, len(commands), len(all_help | common)))


def check_binary(name, path, page):
    with open(page, encoding="utf-8") as f:
        page_text = f.read()
    rc, out, err = run([path, "--help"])
    if rc != 0:
        fail("%s --help exited %d: %s" % (name, rc, err.strip()))
        return
    if "\nCommands:\n" in out:
        check_commands(name, path, page_text, out)
    else:
        check_simple(name, path, page_text)


def check_daemon_config(path, page):
    with open(page, encoding="utf-8") as f:
        keys = re.findall(r"^\*([a-z][a-z-]*)=\*", f.read(), re.M)
    if not keys:
        fail("%s describes no keys" % page)
        return
    with tempfile.TemporaryDirectory(prefix="vt-man-") as tmp:
        conf = os.path.join(tmp, "virt-tuned.conf")

        def probe(key):
            with open(conf, "w", encoding="utf-8") as f:
                f.write("[daemon]\n%s=1\n" % key)
            # An invalid --channel makes the daemon stop right after reading
            # the file, before it touches libvirt, the state dir or a socket
            # (those point into tmp all the same).
            return run([path, "--config", conf, "--channel", "probe-invalid",
                        "--connect", "test:///default", "--state-dir", tmp,
                        "--socket", os.path.join(tmp, "sock")])

        rc, _, err = probe("no-such-key")
        if "unknown key 'no-such-key' in [daemon], ignoring" not in err:
            fail("virt-tuned said nothing of an unknown key (rc %d: %s): the probe cannot tell"
                 % (rc, err.strip()))
            return
        for key in keys:
            rc, _, err = probe(key)
            if rc != 2 or "--channel must be" not in err or "unknown key" in err:
                fail("virt-tuned.conf(5) describes '%s', which virt-tuned refuses (rc %d: %s)"
                     % (key, rc, err.strip()))
    print("virt-tuned.conf: %d keys checked" % len(keys))


def main(argv):
    i = 1
    while i < len(argv):
        if argv[i] == "--binary" and i + 3 < len(argv):
            check_binary(argv[i + 1], argv[i + 2], argv[i + 3])
            i += 4
        elif argv[i] == "--daemon-config" and i + 2 < len(argv):
            check_daemon_config(argv[i + 1], argv[i + 2])
            i += 3
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if failures:
        print("%d mismatches between the man pages and the binaries" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
