# SPDX-License-Identifier: GPL-2.0-or-later
"""TAP output for meson (protocol: 'tap'). Every failure says what was expected,
what came, and shows the guest console tail."""

import sys


class Tap:
    def __init__(self, console=None):
        self.n = 0
        self.failed = 0
        self.console = console  # a guest.Console, set once the guest exists
        self.logs = []  # (label, callable returning a tail) shown on failure
        self.figures = []

    def _line(self, text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def comment(self, text):
        for line in str(text).splitlines() or [""]:
            self._line("# " + line)

    def ok(self, cond, name, expected=None, got=None):
        self.n += 1
        if cond:
            self._line("ok %d - %s" % (self.n, name))
            return True
        self.failed += 1
        self._line("not ok %d - %s" % (self.n, name))
        if expected is not None:
            self.comment("expected: %s" % (expected,))
        if got is not None:
            self.comment("got:      %s" % (got,))
        if self.console is not None:
            self.comment("--- guest console tail (%s)" % self.console.path)
            self.comment(self.console.tail(25))
        for label, tail in self.logs:
            self.comment("--- %s" % label)
            self.comment(tail())
        return False

    def eq(self, got, expected, name):
        return self.ok(got == expected, name, repr(expected), repr(got))

    def pending(self, name, reason):
        """A check that exists and ran but whose subject is not built yet: reported
        as a TODO failure (never as a pass) with the reason."""
        self.n += 1
        self._line("not ok %d - %s # TODO %s" % (self.n, name, reason))

    def skip(self, name, reason):
        self.n += 1
        self._line("ok %d - %s # SKIP %s" % (self.n, name, reason))

    def figure(self, name, value, unit):
        self.figures.append((name, value, unit))
        self.comment("figure: %s = %s %s" % (name, value, unit))

    def bail(self, reason):
        self._line("Bail out! %s" % reason.splitlines()[0] if reason else "Bail out!")
        for line in reason.splitlines()[1:]:
            self.comment(line)

    def finish(self):
        self._line("1..%d" % self.n)
        return 1 if self.failed else 0
