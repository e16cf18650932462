#!/bin/sh
# Copies the files the collectors read from this machine into a fixture
# sysroot, so fixtures keep the kernel's real formats. Edit values afterwards
# to make a case. Usage: capture-sysroot.sh DEST DISK... -- NIC...
# The recorded ethtool answers come from vt-ethtool-record (same directory).
set -eu
dest=${1:?usage: capture-sysroot.sh DEST DISK... -- NIC...}
shift
disks=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do disks="$disks $1"; shift; done
[ $# -gt 0 ] && shift
nics="$*"

copy() { # copy FILE: content only, as a regular file
	mkdir -p "$dest/$(dirname "$1")"
	cat "/$1" > "$dest/$1" 2>/dev/null || rm -f "$dest/$1"
}
for f in proc/meminfo proc/vmstat proc/swaps proc/stat proc/loadavg proc/uptime \
	proc/sys/kernel/hostname proc/sys/kernel/osrelease proc/sys/kernel/random/boot_id \
	proc/sys/vm/swappiness proc/sys/vm/dirty_ratio proc/sys/vm/dirty_background_ratio \
	proc/sys/vm/vfs_cache_pressure proc/sys/vm/overcommit_memory proc/sys/vm/min_free_kbytes \
	proc/sys/net/core/rmem_max proc/sys/net/core/wmem_max proc/sys/net/core/netdev_max_backlog \
	sys/kernel/mm/transparent_hugepage/enabled sys/kernel/mm/transparent_hugepage/defrag \
	sys/module/zswap/parameters/enabled sys/devices/system/cpu/online etc/os-release; do
	copy "$f"
done
for d in $disks; do
	for f in dev size stat serial queue/scheduler queue/nr_requests queue/read_ahead_kb \
		queue/rotational queue/max_sectors_kb queue/discard_max_bytes; do
		copy "sys/block/$d/$f"
	done
	if [ -d "/sys/block/$d/mq" ]; then
		for q in /sys/block/"$d"/mq/*; do
			mkdir -p "$dest/sys/block/$d/mq/$(basename "$q")"
			cat "$q/cpu_list" > "$dest/sys/block/$d/mq/$(basename "$q")/cpu_list"
		done
	fi
	if [ -L "/sys/block/$d/device/driver" ]; then
		mkdir -p "$dest/sys/block/$d/device"
		ln -sfn "$(readlink "/sys/block/$d/device/driver")" "$dest/sys/block/$d/device/driver"
	fi
done
for n in $nics; do
	for f in ifindex mtu address carrier speed statistics/rx_bytes statistics/rx_packets \
		statistics/rx_errors statistics/rx_dropped statistics/tx_bytes \
		statistics/tx_packets statistics/tx_errors statistics/tx_dropped; do
		copy "sys/class/net/$n/$f"
	done
done
