#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-tuned's control socket with --group, as root: a member of the group
reads through the real CLI but cannot apply or roll back; a user outside the
group cannot connect at all. Skips (with the reason) when not root."""

import grp
import json
import os
import socket
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vthost  # noqa: E402
from vthost import Env, Skip, wait_until  # noqa: E402

NOBODY = 65534
OUTSIDER_GID = 65533  # any group but the socket's


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root: the daemon chowns its socket and clients setuid to nobody")
    try:
        return grp.getgrnam("nogroup").gr_gid
    except KeyError:
        raise Skip("no group 'nogroup' on this system")


def as_user(uid, gid):
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return drop


def raw_request(path, request, uid, gid):
    """One request line from a child that became uid/gid; returns the reply
    object, or ('error', errno) when it cannot connect."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out = {}
        try:
            as_user(uid, gid)()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            try:
                s.connect(path)
            except OSError as e:
                out = {"connect_errno": e.errno}
            else:
                s.sendall((json.dumps(request) + "\n").encode())
                buf = b""
                while b"\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                out = {"reply": json.loads(buf.split(b"\n")[0])}
        except Exception as e:  # reported to the parent, never raised here
            out = {"child_error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(data)
    assert "child_error" not in out, out
    return out


def daemon_with_group(env):
    env.start_sim("a", 1, interval_ms=60000)
    env.start_daemon(env.node([("g0", 0, env.sock("a", 0))]), extra=["--group", "nogroup"])
    wait_until("g0's report", lambda: env.guests()["g0"]["hostname"] == "sim-0")


def test_socket_mode():
    gid = need_root()
    with Env() as env:
        daemon_with_group(env)
        st = os.stat(env.socket)
        assert stat.S_ISSOCK(st.st_mode), st
        assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        assert (st.st_uid, st.st_gid) == (0, gid), st


def test_member_reads():
    gid = need_root()
    with Env() as env:
        daemon_with_group(env)
        drop = as_user(NOBODY, gid)
        r = env.cli("list", "--format", "json", preexec_fn=drop)
        assert r.rc == 0, r
        assert [g["domain"] for g in json.loads(r.out)] == ["g0"], r
        for args in (["status"], ["show", "g0"], ["audit", "all"], ["history", "g0"],
                     ["refresh", "g0"]):
            r = env.cli(*args, preexec_fn=drop)
            assert r.rc == 0, r


def test_member_cannot_apply():
    gid = need_root()
    with Env() as env:
        daemon_with_group(env)
        for command in ("apply", "rollback"):
            req = {"command": command, "args": {"domain": "g0"}}
            as_root = raw_request(env.socket, req, 0, 0)["reply"]
            if not as_root["ok"] and as_root["error"]["code"] == "unknown_command":
                raise Skip("this virt-tuned has no '%s' yet; the privilege check is "
                           "tested on vt_control_request_is_privileged (control-perms)"
                           % command)
            reply = raw_request(env.socket, req, NOBODY, gid)["reply"]
            assert reply["ok"] is False, reply
            assert reply != as_root, (reply, as_root)
            text = (reply["error"]["code"] + " " + reply["error"]["message"]).lower()
            assert any(w in text for w in ("permission", "privileg", "root", "denied",
                                           "forbidden")), reply


def test_outsider_cannot_connect():
    need_root()
    with Env() as env:
        daemon_with_group(env)
        out = raw_request(env.socket, {"command": "list"}, NOBODY, OUTSIDER_GID)
        assert out.get("connect_errno") == 13, out  # EACCES on the 0660 socket
        r = env.cli("list", preexec_fn=as_user(NOBODY, OUTSIDER_GID))
        assert r.rc == 3, r
        assert "permission denied" in r.err and env.socket in r.err, r
        # it names the group that would let the user in
        assert "member of group nogroup" in r.err, r
        # The member still gets in, root too.
        assert env.cli("list").rc == 0


vthost.main([
    ("the control socket is 0660 root:GROUP", test_socket_mode),
    ("a member of --group reads: list, show, audit, history, refresh", test_member_reads),
    ("a member of --group cannot apply or roll back", test_member_cannot_apply),
    ("a user outside the group cannot connect (EACCES, exit 3)",
     test_outsider_cannot_connect),
])
