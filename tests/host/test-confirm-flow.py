#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Changes that revert unless confirmed, with real processes (virt-tuned on
libvirt's test driver, the real virt-tune-agent on a copy of a fixture guest,
the relay of test-apply-flow.py as QEMU's chardev): the agent reverts at the
deadline by itself with the daemon killed, with the channel gone and across
its own restart; a confirmed change stays; `changes` shows each state, the
measured effect, and a change undone behind the agent's back as drifted."""
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("apply_flow",
                                               os.path.join(HERE, "test-apply-flow.py"))
flow = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(flow)
check, cli, cli_json, wait_for, read = flow.check, flow.cli, flow.cli_json, flow.wait_for, flow.read
active = flow.active_scheduler

WINDOW_S = 3
REC = "blk.scheduler:vda"


def state_of(env, change):
    _, rows, _ = cli_json(env, "changes", "g1")
    for r in rows or []:
        if r.get("change_id") == change and r.get("operation") == "apply":
            return r.get("state")
    return None


class DiskLoad(threading.Thread):
    """Plays the guest's disk: /sys/block/vda/stat grows by 100 reads every
    0.2 s, each taking `latency_ms` (± 10%)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.latency_ms = 1.0
        self.stop = threading.Event()
        with open(path) as f:
            self.fields = [int(x) for x in f.read().split()]

    def run(self):
        step = 0
        while not self.stop.wait(0.2):
            step += 1
            self.fields[0] += 100
            self.fields[3] += int(100 * self.latency_ms * (1 + 0.1 * ((step % 5) - 2) / 2))
            # in place, as the kernel's file: the agent may hold it open
            with open(self.path, "r+") as f:
                f.write(" ".join(str(x) for x in self.fields) + "\n")
                f.truncate()


def main():
    print("1..22")
    tmp = tempfile.mkdtemp(prefix="vt-confirm-flow.")
    procs = {}
    relay = load = None
    try:
        root = os.path.join(tmp, "root")
        shutil.copytree(flow.FIXTURE, root, symlinks=True)
        sched = os.path.join(root, "sys/block/vda/queue/scheduler")
        chan, agent_sock = os.path.join(tmp, "chan.sock"), os.path.join(tmp, "agent.sock")
        relay = flow.Relay(chan, agent_sock)
        relay.start()
        node = os.path.join(tmp, "node.xml")
        with open(node, "w") as f:
            f.write(f"""<node><domain type='test'><name>g1</name>
<uuid>11111111-2222-3333-4444-555555555502</uuid>
<memory unit='MiB'>2048</memory><vcpu>2</vcpu><os><type>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>
<source file='{tmp}/disk.img'/><target dev='vda' bus='virtio'/></disk>
<channel type='unix'><source mode='bind' path='{chan}'/>
<target type='virtio' name='org.virttune.agent.0'/></channel></devices></domain></node>""")
        conf = os.path.join(tmp, "agent.conf")
        with open(conf, "w") as f:
            f.write("[agent]\ninterval=1\n[apply]\nallow=scheduler\n")
        empty = os.path.join(tmp, "virt-tuned.conf")
        open(empty, "w").close()
        ctl = os.path.join(tmp, "ctl.sock")
        env = dict(os.environ, VIRT_TUNE_SOCKET=ctl, NO_COLOR="1")

        def start_agent():
            procs["agent"] = subprocess.Popen(
                [flow.AGENT, "--port", agent_sock, "--sysroot", root, "--config", conf,
                 "--state-dir", os.path.join(tmp, "agent-state")],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "agent.log"), "a"))

        metrics_port = flow.free_port()

        def start_daemon():
            procs["daemon"] = subprocess.Popen(
                [flow.DAEMON, "--connect", "test://" + node, "--state-dir",
                 os.path.join(tmp, "state"), "--socket", ctl, "--config", empty,
                 "--poll-interval", "1", "--metrics-listen", f"127.0.0.1:{metrics_port}"],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "daemon.log"), "a"))

        def connected():
            rc, rows, _ = cli_json(env, "list")
            return rc == 0 and rows and rows[0]["agent"] == "connected" and \
                rows[0]["report_age_s"] is not None and rows

        def has_rec():
            rc, recs, _ = cli_json(env, "recommend", "g1")
            return REC in [r["id"] for r in (recs or {}).get("recommendations", [])]

        def as_kernel_shows():
            """A fake tree holds the name written; the kernel would list them all."""
            name = active(read(sched))
            with open(sched, "w") as f:
                f.write(f"none mq-deadline kyber [{name}]\n")

        def apply(window=WINDOW_S, *extra):
            as_kernel_shows()
            wait_for(has_rec, 10)
            rc, res, err = cli_json(env, "apply", "g1", REC, "--confirm-within",
                                    f"{window}s", *extra)
            return rc, res or {}, err

        load = DiskLoad(os.path.join(root, "sys/block/vda/stat"))
        load.start()
        start_agent()
        start_daemon()
        check(bool(wait_for(connected, 20)) and bool(wait_for(has_rec, 10)),
              "the agent connects and g1 has " + REC)

        # 1. not confirmed: the agent reverts at the deadline
        rc, res, err = apply()
        change = res.get("change_id")
        check(rc == 0 and res.get("status") == "applied" and "confirm_deadline" in res
              and active(read(sched)) == "mq-deadline",
              "apply --confirm-within 3s applies and says when it reverts", f"{rc} {res} {err}")
        st = wait_for(lambda: (state_of(env, change) or "").startswith("awaiting confirmation")
                      and state_of(env, change), 5)
        check(bool(st) and st.endswith("s left)"),
              "changes shows it awaiting confirmation with the time left", st)
        check(bool(wait_for(lambda: active(read(sched)) == "bfq", 15)),
              "unconfirmed, the agent reverts it at the deadline", read(sched))
        st = wait_for(lambda: state_of(env, change) == "reverted: not confirmed", 10)
        check(bool(st), "changes shows it reverted: not confirmed", state_of(env, change))
        rc, res, err = cli_json(env, "confirm", "g1", change or "none")
        check(rc != 0 and res and res.get("reason") == "expired",
              "a confirmation after the deadline is refused: expired", f"{rc} {res} {err}")

        # 2. confirmed: it stays
        rc, res, err = apply(20)
        change = res.get("change_id")
        rc2, res2, err2 = cli_json(env, "confirm", "g1", change or "none")
        check(rc2 == 0 and res2 and res2.get("status") == "confirmed",
              "virt-tune confirm keeps the change", f"{rc} {res} {err}; {rc2} {res2} {err2}")
        st = wait_for(lambda: state_of(env, change) == "confirmed", 10)
        check(bool(st) and active(read(sched)) == "mq-deadline",
              "changes shows it confirmed and the new value stays", state_of(env, change))
        rc, _, err = cli(env, "changes", "g1", "--effect")
        check(rc == 0 and change in (_ or "") and "drops_per_s" not in (_ or "") and
              ("iops" in (_ or "")), "changes --effect prints the disk's metrics of the change",
              f"{rc} {_} {err}")

        # closed loop: the daemon confirms at the deadline unless the effect regressed
        rc0, res0, _ = cli_json(env, "rollback", "g1", change or "none")
        rc, res, err = apply(6, "--confirm-if-better")
        loop_change = res.get("change_id")

        def confirmed_by_daemon():
            _, rows, _ = cli_json(env, "changes", "g1")
            return [r for r in rows or [] if r.get("operation") == "confirm" and
                    r.get("change_id") == loop_change and r.get("status") == "confirmed"]
        rows = wait_for(confirmed_by_daemon, 15)
        check(rc0 == 0 and rc == 0 and bool(rows) and rows[0].get("peer_uid") == 0 and
              "iops" in (rows[0].get("reason") or "") and
              state_of(env, loop_change) == "confirmed" and active(read(sched)) == "mq-deadline",
              "--confirm-if-better: the daemon confirms a change that did not regress, and the "
              "audit trail has the numbers", f"{rc0} {rc} {res} {err} {rows}")
        change = loop_change

        rc, out, err = cli(env, "show", change or "none")
        check(rc == 0 and "confirmed" in out and "iops" in out and "mq-deadline" in out,
              "show CHANGE_ID prints the change, its state and its measured effect",
              f"{rc} {out} {err}")

        # 3. drift: someone sets the old scheduler back
        with open(sched, "w") as f:
            f.write("none mq-deadline kyber [bfq]\n")
        st = wait_for(lambda: state_of(env, change) == "drifted", 10)
        check(bool(st), "a change undone behind the agent's back shows as drifted",
              state_of(env, change))
        _, _, body = flow.http_get(f"http://127.0.0.1:{metrics_port}/metrics")
        check(f'virttune_change_drifted{{domain="g1",change="{change}"}} 1' in (body or ""),
              "the metric virttune_change_drifted says so", body)

        def undone():
            rc, recs, _ = cli_json(env, "recommend", "g1")
            return [r.get("undone") for r in (recs or {}).get("recommendations", [])
                    if r["id"] == REC and r.get("undone")]
        notes = wait_for(undone, 10)
        rc, out, _ = cli(env, "recommend", "g1")
        check(bool(notes) and notes[0].startswith("was applied on ") and
              "undone since (drifted)" in notes[0] and notes[0] in out,
              "recommend brings it back with: was applied on DATE, undone since", f"{notes} {out}")

        # 4. the agent restarts mid-window: down at the deadline, reverted when it starts
        wait_for(has_rec, 10)
        applied_at = time.time()
        rc, res, err = apply()
        procs["agent"].send_signal(signal.SIGKILL)
        procs["agent"].wait()
        # the deadline passes while the agent is down
        wait_for(lambda: time.time() > applied_at + WINDOW_S + 1, WINDOW_S + 3)
        check(rc == 0 and active(read(sched)) == "mq-deadline",
              "with the agent down at the deadline nothing reverted it yet",
              f"{rc} {res} {err} {read(sched)}")
        start_agent()
        # QEMU tells the host when the guest side of the port closes; the
        # relay does not, so the host's side is cut to have the daemon say Hello
        if relay.hc:
            relay.hc.shutdown(socket.SHUT_RDWR)
        check(bool(wait_for(lambda: active(read(sched)) == "bfq", 10)),
              "the restarted agent reverts the change that came due while it was down",
              repr(read(sched)) + read(os.path.join(tmp, "agent.log")))
        check(bool(wait_for(connected, 20)), "and reconnects")

        # 5. the daemon is killed: the agent reverts by itself
        rc, res, err = apply()
        ok = rc == 0 and active(read(sched)) == "mq-deadline"
        procs["daemon"].send_signal(signal.SIGKILL)
        procs["daemon"].wait()
        check(ok and bool(wait_for(lambda: active(read(sched)) == "bfq", 15)),
              "with the daemon killed the agent reverts at the deadline",
              f"{rc} {res} {err} {read(sched)}")
        start_daemon()
        check(bool(wait_for(connected, 30)), "the daemon comes back")

        # closed loop, regressed: the daemon does not confirm, the agent reverts
        rc, res, err = apply(10, "--confirm-if-better")
        bad = res.get("change_id")
        load.latency_ms = 20.0

        def refused_by_daemon():
            _, rows, _ = cli_json(env, "changes", "g1")
            return [r for r in rows or [] if r.get("operation") == "confirm" and
                    r.get("change_id") == bad and r.get("status") == "not_confirmed"]
        rows = wait_for(refused_by_daemon, 20)
        reason = (rows or [{}])[0].get("reason") or ""
        check(rc == 0 and reason.startswith("regressed") and "latency_ms" in reason,
              "--confirm-if-better: a regressed change is not confirmed, with the numbers",
              f"{rc} {err} {rows} " + str([r.get("reason") for r in
                                           cli_json(env, "changes", "g1")[1] or []
                                           if r.get("change_id") == bad]))
        check(bool(wait_for(lambda: active(read(sched)) == "bfq", 15)) and
              bool(wait_for(lambda: state_of(env, bad) == "reverted: not confirmed", 10)),
              "and the agent reverts it at the deadline", f"{read(sched)} {state_of(env, bad)}")
        load.latency_ms = 1.0

        # 6. the channel goes away: the agent reverts by itself
        rc, res, err = apply()
        ok = rc == 0 and active(read(sched)) == "mq-deadline"
        relay.stop = True
        relay.join()
        for s in (relay.hc, relay.gc, relay.h, relay.g):
            if s:
                s.close()
        check(ok and bool(wait_for(lambda: active(read(sched)) == "bfq", 15)),
              "with the channel closed the agent reverts at the deadline", f"{res} {read(sched)}")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if relay:
            relay.stop = True
        if load:
            load.stop.set()
        if os.environ.get("VT_KEEP_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = flow.results.count(False)
    print(f"# {len(flow.results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
