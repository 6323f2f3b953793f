#!/usr/bin/env python3
"""Batches of updates applied while serving (docs/operations.md, "Updates"): client threads
query continuously over UDP and TCP while the test applies more than twenty batches with
`idpathctl update`, each moving 1,500 handles to the batch's version (whole-record replace on
even batches, modify_values of both values on odd ones) and deleting or re-creating 300 others.
Every answer must be wholly one version of its handle (never a mix of two), a version that was
serving while the query was in flight, and no query may go unanswered. A batch with a syntax
error is refused whole; refused changes are counted by reason; a snapshot saved after the
updates brings them back after a restart."""
import json
import os
import socket
import tempfile
import time

import handle_codec as hc
from harness import main
from idpath_env import Daemon, udp_exchange
from querying import V4, QueryingEnv

STABLE = 1500   # 88.100.1/u<n>: always present, its version changes every batch
CHURN = 300     # 88.100.1/c<n>: deleted by odd batches, created again by even ones
BATCHES = 22


def values(version, n):
    return [{"index": 1, "type": "URL", "data": f"v{version}-{n}"},
            {"index": 2, "type": "EMAIL", "data": f"v{version}-{n}@example.org"}]


def initial_data():
    lines = [json.dumps({"handle": f"88.100.1/u{n}", "values": values(0, n)}) for n in range(STABLE)]
    lines += [json.dumps({"handle": f"88.100.1/c{n}", "values": values(0, n)}) for n in range(CHURN)]
    return "\n".join(lines) + "\n"


def batch(version):
    """The update lines that move every handle to `version`."""
    lines = []
    for n in range(STABLE):
        if version % 2 == 0:
            lines.append({"op": "replace", "handle": f"88.100.1/u{n}", "values": values(version, n)})
        else:
            lines.append({"op": "modify_values", "handle": f"88.100.1/u{n}", "values": values(version, n)})
    for n in range(CHURN):
        if version % 2 == 1:
            lines.append({"op": "delete", "handle": f"88.100.1/c{n}"})
        else:
            lines.append({"op": "create", "handle": f"88.100.1/c{n}", "values": values(version, n)})
    return "".join(json.dumps(line) + "\n" for line in lines)


class Env(QueryingEnv):
    initial = 0

    def __init__(self):
        super().__init__()
        self.d = None
        self.dir = tempfile.TemporaryDirectory(prefix="idpath-updates-")
        self.counts.update({"found": 0, "absent": 0})

    def check(self, handle, reply, t_send, t_recv, transport):
        """None when the reply is what one admissible version serves for the handle. After batch
        k a stable handle has version k; a churn handle is absent after an odd k and has version
        k after an even one."""
        ok = self.admissible(t_send, t_recv)
        kind, n = handle.split("/", 1)[1][0], int(handle.split("/", 1)[1][1:])
        expected = {v for v in ok if kind == "u" or v % 2 == 0}
        m = hc.parse_message(reply)
        if m["rc"] == hc.RC_HANDLE_NOT_FOUND:
            if kind == "c" and any(v % 2 == 1 for v in ok):
                self.counts["absent"] += 1
                return None
            return f"{transport} {handle}: not found while versions {sorted(ok)} served"
        if m["rc"] != hc.RC_SUCCESS:
            return f"{transport} {handle}: rc {m['rc']}"
        got = {v["index"]: v["data"].decode() for v in m["values"]}
        for version in expected:
            if got == {1: f"v{version}-{n}", 2: f"v{version}-{n}@example.org"}:
                self.counts["found"] += 1
                return None
        return f"{transport} {handle}: {got} is not wholly one of versions {sorted(expected)}"

    def pick(self, rng):
        if rng.random() < 0.8:
            return f"88.100.1/u{rng.randrange(STABLE)}"
        return f"88.100.1/c{rng.randrange(CHURN)}"

    def update(self, text, name="batch.jsonl"):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return self.d.ctl("update", path)

    def apply(self, version):
        entry = self.begin(version)
        r = self.update(batch(version))
        self.end(entry)
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()


def setup():
    env = Env()
    data = os.path.join(env.dir.name, "initial.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        f.write(initial_data())
    env.snapshot = os.path.join(env.dir.name, "table.snap")
    env.d = Daemon(udp=("127.0.0.1:0",), tcp=("127.0.0.1:0",), data=data, snapshot=env.snapshot)
    env.d.start()
    udp_port = env.d.ports("udp", socket.AF_INET)
    tcp_port = env.d.ports("tcp", socket.AF_INET)
    env.start_clients(udp_port, tcp_port, udp_seeds=(21, 22, 23), tcp_seed=51)
    return env


def teardown(env):
    env.stop_clients()
    if env.d:
        rc = env.d.stop()
        assert rc == 0, f"idpathd exit status {rc} after SIGTERM"
    env.dir.cleanup()


def settle(env, seconds=0.15):
    time.sleep(seconds)
    assert not env.errors, "\n".join(env.errors)


def test_1_serves_the_files_at_start_without_a_snapshot(env):
    st = env.d.ctl_json("status")
    assert st["table"]["handles"] == STABLE + CHURN
    assert st["table"]["source"] == "files", st["table"]
    settle(env, 0.3)
    assert env.counts["udp"] > 0 and env.counts["tcp"] > 0, env.counts


def test_2_batches_while_serving_lose_no_query_and_mix_nothing(env):
    for version in range(1, BATCHES + 1):
        text = env.apply(version)
        changes = STABLE + CHURN
        print(f"# batch {version}: {text}", flush=True)
        assert text.startswith(f"updated: {changes} applied, 0 refused"), text
        handles = env.d.ctl_json("status")["table"]["handles"]
        assert handles == STABLE + (0 if version % 2 else CHURN), handles
        settle(env)
    assert env.counts["found"] > 500 and env.counts["absent"] > 0, env.counts


def test_3_a_batch_with_a_syntax_error_is_refused_whole(env):
    before = env.d.ctl_json("status")["table"]
    lines = batch(BATCHES + 1).splitlines(True)
    lines[100] = '{"op":"replace","handle":"88.100.1/u100","values":[{"index":1}\n'
    r = env.update("".join(lines), "bad.jsonl")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "bad.jsonl:101:" in r.stderr, r.stderr
    after = env.d.ctl_json("status")["table"]
    assert after["handles"] == before["handles"] and after["updates"] == before["updates"], (before, after)
    settle(env)


def test_4_refused_changes_are_counted_by_reason(env):
    # After the last (even) batch every churn handle exists: creating one again is refused.
    text = (json.dumps({"op": "create", "handle": "88.100.1/c1", "values": values(99, 1)}) + "\n" +
            json.dumps({"op": "delete", "handle": "88.100.1/nope"}) + "\n" +
            json.dumps({"op": "create", "handle": "88.999/x", "values": values(99, 1)}) + "\n" +
            json.dumps({"op": "remove_values", "handle": "88.100.1/u1", "indexes": [7]}) + "\n")
    r = env.update(text, "refusals.jsonl")
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = r.stdout
    assert "updated: 0 applied, 4 refused" in out, out
    for reason in ("handle_exists", "handle_not_found", "not_homed", "value_not_found"):
        assert reason in out, (reason, out)
    settle(env)


def test_5_snapshot_keeps_the_updates_across_a_restart(env):
    r = env.d.ctl("snapshot", "save")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert os.path.exists(env.snapshot)
    env.stop_clients()
    assert not env.errors, "\n".join(env.errors)
    print(f"# answers checked: {env.counts}", flush=True)
    assert env.d.stop() == 0
    # A new daemon with the same config: the snapshot, not the files, is what it serves.
    data = os.path.join(env.dir.name, "initial.jsonl")
    env.d = Daemon(udp=("127.0.0.1:0",), tcp=("127.0.0.1:0",), data=data, snapshot=env.snapshot)
    env.d.start()
    st = env.d.ctl_json("status")["table"]
    assert st["source"] == "snapshot", st
    assert st["handles"] == STABLE + CHURN, st
    port = env.d.ports("udp", socket.AF_INET)
    got = udp_exchange(V4, port, hc.resolution_request("88.100.1/u7", request_id=9), timeout=2.0)
    m = hc.parse_message(got[0][20:])
    vals = {v["index"]: v["data"].decode() for v in m["values"]}
    assert vals == {1: f"v{BATCHES}-7", 2: f"v{BATCHES}-7@example.org"}, vals


def test_6_a_corrupt_snapshot_is_refused_at_reload_and_the_table_stays(env):
    before = env.d.ctl_json("status")["table"]
    with open(env.snapshot, "r+b") as f:
        f.seek(os.path.getsize(env.snapshot) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    r = env.d.ctl("reload")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "snapshot" in r.stderr and "checksum" in r.stderr, r.stderr
    after = env.d.ctl_json("status")["table"]
    assert after["generation"] == before["generation"] and after["handles"] == before["handles"]


if __name__ == "__main__":
    main(globals(), setup, teardown)
