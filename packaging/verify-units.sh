#!/bin/sh
# systemd-analyze verify on the built units.
# Usage: verify-units.sh SYSTEMD-ANALYZE UNIT... -- BINARY...
# ExecStart names the installed binary, which need not exist at build time:
# a copy of each unit runs the built binary of the same name instead.
set -eu
analyze=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
units=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	cp "$1" "$tmp/"
	units="$units $tmp/$(basename "$1")"
	shift
done
[ $# -gt 0 ] && shift
for bin in "$@"; do
	bin=$(realpath "$bin")
	name=$(basename "$bin")
	for u in $units; do
		sed -i "s|^ExecStart=/.*/$name\$|ExecStart=$bin|" "$u"
	done
done
# shellcheck disable=SC2086
out=$("$analyze" verify --man=no $units 2>&1) || {
	printf '%s\n' "$out"
	echo "systemd-analyze verify failed"
	exit 1
}
if [ -n "$out" ]; then
	# verify exits 0 on some warnings; a clean unit prints nothing
	printf '%s\n' "$out"
	echo "systemd-analyze verify printed warnings"
	exit 1
fi
for u in $units; do
	echo "verified $(basename "$u")"
done
