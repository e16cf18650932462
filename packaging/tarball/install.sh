#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the portable virt-tune-agent from this directory (the unpacked
# tarball) on any x86_64 Linux with systemd and udev. Needs only coreutils.
#
#   ./install.sh                 as root, onto this system
#   DESTDIR=/tmp/root ./install.sh   into a staging tree (packagers)
#
# Paths, overridable in the environment:
#   SBINDIR=/usr/sbin  UNITDIR=/etc/systemd/system  UDEVRULESDIR=/etc/udev/rules.d
#   MANDIR=/usr/share/man  CONFDIR=/etc/virt-tune
# The unit runs /usr/sbin/virt-tune-agent: with another SBINDIR, add a drop-in
# that sets ExecStart. An existing agent.conf is kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
DESTDIR=${DESTDIR:-}
SBINDIR=${SBINDIR:-/usr/sbin}
UNITDIR=${UNITDIR:-/etc/systemd/system}
UDEVRULESDIR=${UDEVRULESDIR:-/etc/udev/rules.d}
MANDIR=${MANDIR:-/usr/share/man}
CONFDIR=${CONFDIR:-/etc/virt-tune}

for f in sbin/virt-tune-agent systemd/virt-tune-agent.service \
	udev/90-virt-tune-agent.rules man/virt-tune-agent.8 man/virt-tune-agent.conf.5 \
	agent.conf.example; do
	if [ ! -f "$here/$f" ]; then
		echo "install.sh: $here/$f is missing; unpack the whole tarball" >&2
		exit 1
	fi
done

install -d -m 0755 "$DESTDIR$SBINDIR" "$DESTDIR$UNITDIR" "$DESTDIR$UDEVRULESDIR" \
	"$DESTDIR$MANDIR/man5" "$DESTDIR$MANDIR/man8" "$DESTDIR$CONFDIR"
install -m 0755 "$here/sbin/virt-tune-agent" "$DESTDIR$SBINDIR/virt-tune-agent"
install -m 0644 "$here/systemd/virt-tune-agent.service" "$DESTDIR$UNITDIR/"
install -m 0644 "$here/udev/90-virt-tune-agent.rules" "$DESTDIR$UDEVRULESDIR/"
install -m 0644 "$here/man/virt-tune-agent.8" "$DESTDIR$MANDIR/man8/"
install -m 0644 "$here/man/virt-tune-agent.conf.5" "$DESTDIR$MANDIR/man5/"
if [ -e "$DESTDIR$CONFDIR/agent.conf" ]; then
	echo "install.sh: keeping $DESTDIR$CONFDIR/agent.conf (the new default is agent.conf.example here)"
else
	install -m 0644 "$here/agent.conf.example" "$DESTDIR$CONFDIR/agent.conf"
fi

echo "install.sh: installed virt-tune-agent under ${DESTDIR:-/}"
if [ -z "$DESTDIR" ]; then
	echo "Now start it for a port that is already there (udev does it at the next hot-plug or boot):"
	echo "  systemctl daemon-reload && udevadm trigger --action=add --subsystem-match=virtio-ports"
fi
