#!/bin/sh
# /init of the end-to-end guest (busybox sh as PID 1, no udev).
#
# Loads the virtio modules, makes /dev/virtio-ports/<name> links, sets up the
# scenario (NIC at 1 combined channel, one disk on bfq, swap on a third disk,
# a memory hog that makes the guest swap), runs `virt-tune-agent --once`, keeps
# the agent running on its port, and serves a line-based command channel for
# the harness on org.virttune.e2e.shell. Every milestone is a "VT-E2E: " line on
# the serial console; the harness waits for them.
#
# Kernel command line knobs: vt.interval=N (agent --interval), vt.hog_mb=N (size
# of the memory hog; default MemTotal + 64 MiB), vt.hog=0 (no hog),
# vt.role=hostile (no agent: garbage and oversize frames on the agent port).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox --install -s

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/virtio-ports /dev/pts /run /tmp /var/lib/virt-tune-agent
hostname -F /etc/hostname

AGENT_PORT_NAME=org.virttune.agent.0
SHELL_PORT_NAME=org.virttune.e2e.shell

uptime_s() { cut -d' ' -f1 /proc/uptime; }
say() { echo "VT-E2E: $* t=$(uptime_s)"; }

arg() { # arg NAME DEFAULT: value of NAME= on the kernel command line
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}

say "init started kernel=$(uname -r)"

for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
say "modules loaded"

# Port names appear in sysfs shortly after virtio_console binds.
link_ports() {
	for d in /sys/class/virtio-ports/vport*; do
		[ -r "$d/name" ] || continue
		n=$(cat "$d/name")
		[ -n "$n" ] && ln -sf "../${d##*/}" "/dev/virtio-ports/$n"
	done
}
i=0
while [ $i -lt 50 ]; do
	link_ports
	[ -e "/dev/virtio-ports/$AGENT_PORT_NAME" ] && [ -e "/dev/virtio-ports/$SHELL_PORT_NAME" ] && break
	sleep 0.1
	i=$((i + 1))
done
say "ports $(ls /dev/virtio-ports | tr '\n' ' ')"

# QEMU's guest agent, when the image has it (tests/bench/roundtrip compares with it)
QGA_PORT_NAME=org.qemu.guest_agent.0
if [ -x /usr/sbin/qemu-ga ]; then
	link_ports
	if [ -e "/dev/virtio-ports/$QGA_PORT_NAME" ]; then
		mkdir -p /var/run
		qemu-ga -m virtio-serial -p "/dev/virtio-ports/$QGA_PORT_NAME" -t /run \
			-l /tmp/qemu-ga.log &
		say "qemu-ga started"
	fi
fi

# --- the harness's command channel (both roles): "ID COMMAND" per line; the output, then
# "VT-E2E-END ID RC". The port reads EOF while no host is connected: poll
# gently then.
poweroff_now() {
	say "poweroff"
	kill "$AGENT_LOOP" 2>/dev/null
	killall virt-tune-agent 2>/dev/null
	# Dropping the hog's tmpfs is quicker than swapping it back in.
	[ -n "$HOG" ] && kill "$HOG" 2>/dev/null
	killall dd 2>/dev/null
	sleep 0.2
	umount /hog 2>/dev/null
	sync
	poweroff -f
}
shell_loop() {
	port=/dev/virtio-ports/$SHELL_PORT_NAME
	while :; do
		if exec 3<>"$port"; then
			while IFS= read -r line <&3; do
				id=${line%% *}
				cmd=${line#* }
				if [ "$cmd" = poweroff ]; then
					echo "VT-E2E-END $id 0" >&3
					poweroff_now
				fi
				sh -c "$cmd" </dev/null >&3 2>&1
				echo "VT-E2E-END $id $?" >&3
			done
			exec 3>&-
		fi
		sleep 0.3
	done
}

# --- vt.role=hostile: no agent and no scenario; the agent port gets garbage
# and frames that claim 1 MiB (over the host's 64 KiB limit), five times a second
hostile_sender() {
	port=/dev/virtio-ports/$AGENT_PORT_NAME
	head -c 4096 /dev/urandom > /tmp/garbage
	n=0
	while :; do
		if exec 4>"$port"; then
			while :; do
				cat /tmp/garbage >&4 || break
				# magic 8E 56 54 31, length 0x00100000, crc 0
				printf '\216VT1\000\020\000\000\000\000\000\000' >&4 || break
				n=$((n + 1))
				[ $((n % 50)) = 1 ] && say "hostile round $n"
				sleep 0.2
			done
			exec 4>&-
		fi
		sleep 0.5
	done
}
if [ "$(arg vt.role agent)" = hostile ]; then
	hostile_sender &
	shell_loop &
	say "ready"
	while :; do
		wait
		sleep 1
	done
fi

# --- scenario: NIC with 4 queues, lowered to 1 combined channel
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
	ip link set eth0 up
	ethtool -L eth0 combined 1 || say "ethtool -L eth0 combined 1 failed"
	say "nic eth0 $(ethtool -l eth0 | tr -s ' \t\n' ' ')"
else
	say "nic eth0 missing"
fi

# --- scenario: disks by serial (the guest names disks in probe order)
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	dev=${b##*/}
	serial=$(cat "$b/serial" 2>/dev/null)
	case "$serial" in
	vt-bfq)
		echo bfq > "$b/queue/scheduler" || say "cannot set bfq on $dev"
		;;
	vt-swap)
		mkswap "/dev/$dev" >/dev/null && swapon "/dev/$dev" || say "swap on $dev failed"
		;;
	esac
	say "disk $dev serial=$serial scheduler=$(cat "$b/queue/scheduler")"
done
say "swaps $(tail -n +2 /proc/swaps | tr -s ' \t\n' ' ')"

# --- the agent, once: proves binary + libraries + /proc and /sys reading
say "once-begin"
virt-tune-agent --once
rc=$?
echo
say "once-end rc=$rc"

# --- the agent on its port, restarted with backoff if it exits
agent_loop() {
	delay=1
	while :; do
		say "agent start"
		virt-tune-agent --port "/dev/virtio-ports/$AGENT_PORT_NAME" --interval "$(arg vt.interval 2)" </dev/null
		say "agent exited rc=$?"
		sleep $delay
		delay=$((delay * 2))
		[ $delay -gt 30 ] && delay=30
	done
}
agent_loop &
AGENT_LOOP=$!

# --- memory hog: a tmpfs file larger than RAM, then read over and over in
# order, a slice at a time: the oldest pages are always the ones in swap, so
# every sweep swaps some in and others out, at a rate the guest can bear
hog() {
	mem_mb=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
	mb=$(arg vt.hog_mb $((mem_mb + 64)))
	mkdir -p /hog
	mount -t tmpfs -o size=$((mb + 16))m tmpfs /hog
	t0=$(uptime_s)
	dd if=/dev/zero of=/hog/fill bs=1M count="$mb" 2>/dev/null || say "hog dd failed"
	say "hog filled ${mb}MiB (MemTotal ${mem_mb}MiB) since t=$t0 $(grep -E '^pswp(in|out) ' /proc/vmstat | tr '\n' ' ')"
	at=0
	while :; do
		dd if=/hog/fill of=/dev/null bs=1M count=16 skip=$at 2>/dev/null
		at=$((at + 16))
		[ $at -ge "$mb" ] && at=0
		sleep 0.5
	done
}
HOG=
if [ "$(arg vt.hog 1)" != 0 ]; then
	hog &
	HOG=$!
fi

shell_loop &

say "ready"

# PID 1 never exits; it reaps what is reparented to it.
while :; do
	wait
	sleep 1
done
