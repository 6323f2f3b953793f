#!/usr/bin/env python3
"""Hot reload of the whole data set while serving (docs/operations.md, "Reload"): client threads
query continuously over UDP and TCP while the test reloads between two data sets, A and B, more
than twenty times, by SIGHUP and by `idpathctl reload`, switching both the config's file list and
a file's contents. Every answer must be wholly A or wholly B for its handle (never a mix), of a
generation that was serving while the query was in flight, and none may be missing. A reload
with a corrupt data file, or one changing an init-only key, is refused and serving goes on with
the old data; one changing the answering policy applies it."""
import json
import os
import re
import signal
import socket
import time

import handle_codec as hc
from harness import main
from idpath_env import Daemon, udp_exchange
from querying import V4, QueryingEnv

BOTH = 2000       # 88.100.1/r<n> in A and B, with different values
ONLY_A = 100      # 88.100.1/only-a<n>
ONLY_B = 150      # 88.100.1/only-b<n>
RELOADS = 24


def record(handle, tag, n):
    return json.dumps({"handle": handle, "values": [
        {"index": 1, "type": "URL", "data": f"{tag}-{n}"},
        {"index": 2, "type": "EMAIL", "data": f"{tag.lower()}{n}@{tag.lower()}.example"},
    ]}) + "\n"


def data_set(tag):
    lines = [f"# reload test data set {tag}\n"]
    lines += [record(f"88.100.1/r{n}", tag, n) for n in range(BOTH)]
    only, count = ("only-a", ONLY_A) if tag == "A" else ("only-b", ONLY_B)
    lines += [record(f"88.100.1/{only}{n}", tag, n) for n in range(count)]
    return "".join(lines)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class Env(QueryingEnv):
    initial = "A"

    def __init__(self):
        super().__init__()
        self.d = None
        self.dir = None
        self.files = {}
        self.current = None  # "A" or "B": the data set the daemon serves now
        self.counts.update({"A": 0, "B": 0})

    # --- config ------------------------------------------------------------------------------

    def set_files(self, paths, extra_edit=None):
        with open(self.d.config, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"identifier_files: \[.*\]", "identifier_files: " + json.dumps(paths), text)
        if extra_edit:
            text = extra_edit(text)
        write(self.d.config, text)

    # --- what an answer may be ---------------------------------------------------------------

    def check(self, handle, reply, t_send, t_recv, transport):
        ok_tags = self.admissible(t_send, t_recv)
        m = hc.parse_message(reply)
        name = handle.split("/", 1)[1]
        if name.startswith("r"):
            expect_in, idx = {"A", "B"}, int(name[1:])
        elif name.startswith("only-a"):
            expect_in, idx = {"A"}, int(name[6:])
        else:
            expect_in, idx = {"B"}, int(name[6:])
        if m["rc"] == hc.RC_HANDLE_NOT_FOUND:
            if ok_tags <= expect_in:
                return f"{transport} {handle}: not found while {sorted(ok_tags)} served"
            return None
        if m["rc"] != hc.RC_SUCCESS:
            return f"{transport} {handle}: rc {m['rc']}"
        vals = {v["index"]: v["data"].decode() for v in m["values"]}
        for tag in ok_tags & expect_in:
            if vals == {1: f"{tag}-{idx}", 2: f"{tag.lower()}{idx}@{tag.lower()}.example"}:
                self.counts[tag] += 1
                return None
        return f"{transport} {handle}: {vals} is not wholly one of {sorted(ok_tags & expect_in)}"

    def pick(self, rng):
        r = rng.random()
        if r < 0.8:
            return f"88.100.1/r{rng.randrange(BOTH)}"
        if r < 0.9:
            return f"88.100.1/only-a{rng.randrange(ONLY_A)}"
        return f"88.100.1/only-b{rng.randrange(ONLY_B)}"

    # --- reloads -----------------------------------------------------------------------------

    def status(self):
        return self.d.ctl_json("status")

    def reload(self, via):
        """Triggers a reload and waits for its outcome; returns (ok, text)."""
        before = self.status()["reload"]["reloads"]
        if via == "ctl":
            r = self.d.ctl("reload")
            return r.returncode == 0, (r.stdout + r.stderr).strip()
        self.d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = self.status()["reload"]
            if st["reloads"] > before:
                return st["last_result"].startswith("reloaded"), st["last_result"]
            time.sleep(0.02)
        raise AssertionError("SIGHUP reload did not finish within 30 s")

    def switch(self, tag, via, how):
        """Makes the daemon serve `tag` by rewriting the file list or the file's contents."""
        if how == "list":
            self.set_files([self.files[tag]])
        else:
            write(self.files["live"], data_set(tag))
            self.set_files([self.files["live"]])
        entry = self.begin(tag)
        ok, text = self.reload(via)
        self.end(entry)
        assert ok, f"reload to {tag} via {via} failed: {text}"
        self.current = tag
        return text


def setup():
    env = Env()
    d = Daemon(udp=("127.0.0.1:0",), tcp=("127.0.0.1:0",))
    env.dir = d.tmp.name
    for tag in ("A", "B"):
        env.files[tag] = os.path.join(env.dir, f"{tag}.jsonl")
        write(env.files[tag], data_set(tag))
    env.files["big"] = os.path.join(env.dir, "big.jsonl")
    write(env.files["big"], json.dumps({"handle": "88.100.1/big", "values": [
        {"index": i, "type": "URL", "data": "x" * 300} for i in range(1, 6)]}) + "\n")
    env.files["live"] = os.path.join(env.dir, "live.jsonl")
    write(env.files["live"], data_set("A"))
    env.d = d
    env.set_files([env.files["live"]])
    d.start()
    env.current = "A"
    udp_port = d.ports("udp", socket.AF_INET)
    tcp_port = d.ports("tcp", socket.AF_INET)
    env.start_clients(udp_port, tcp_port, udp_seeds=(11, 12, 13), tcp_seed=41)
    return env


def teardown(env):
    env.stop_clients()
    rc = env.d.stop()
    assert rc == 0, f"idpathd exit status {rc} after SIGTERM"


def settle(env, seconds=0.15):
    time.sleep(seconds)
    assert not env.errors, "\n".join(env.errors)


def test_1_serves_a_at_start(env):
    st = env.status()
    assert st["table"]["handles"] == BOTH + ONLY_A
    assert st["table"]["generation"] == 1
    assert st["reload"]["reloads"] == 0 and st["reload"]["last_result"] is None
    settle(env, 0.3)
    assert env.counts["udp"] > 0 and env.counts["tcp"] > 0, env.counts


def test_2_repeated_reloads_lose_no_query(env):
    gen = env.status()["table"]["generation"]
    for i in range(RELOADS):
        tag = "B" if env.current == "A" else "A"
        via = "ctl" if i % 2 == 0 else "sighup"
        how = "list" if (i // 2) % 2 == 0 else "contents"
        before = BOTH + (ONLY_A if env.current == "A" else ONLY_B)
        now = BOTH + (ONLY_A if tag == "A" else ONLY_B)
        text = env.switch(tag, via, how)
        print(f"# {via:6} {how:8} -> {tag}: {text}", flush=True)
        assert re.match(rf"reloaded: {now} handles \(was {before}\) in [0-9.]+ s", text), text
        gen += 1
        st = env.status()
        assert st["table"]["generation"] == gen, (st["table"], gen)
        assert st["table"]["handles"] == now
        settle(env)
    assert env.status()["reload"]["reloads"] == RELOADS
    assert env.counts["udp"] > 500, env.counts
    log = env.d.read_log()
    assert log.count("reloaded: ") >= RELOADS, log[-2000:]


def test_3_corrupt_file_is_refused(env):
    st = env.status()
    gen, handles = st["table"]["generation"], st["table"]["handles"]
    other = "B" if env.current == "A" else "A"
    bad = os.path.join(env.dir, "bad.jsonl")
    text = data_set(other)
    lines = text.splitlines(True)
    lines[len(lines) // 2] = '{"handle":"88.100.1/broken","values":[{"index":1,"type":"URL"\n'
    write(bad, "".join(lines))
    env.set_files([bad])
    r = env.d.ctl("reload")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "identifier data rejected" in r.stderr and "bad.jsonl" in r.stderr, r.stderr
    ok, text = env.reload("sighup")
    assert not ok and "identifier data rejected" in text, text
    st = env.status()
    assert st["table"]["generation"] == gen and st["table"]["handles"] == handles
    assert st["reload"]["failures"] == 2
    settle(env, 0.5)
    # Back to a good file: reloads work again.
    env.switch(other, "ctl", "list")
    settle(env)


def test_4_init_only_key_is_refused(env):
    st = env.status()
    gen = st["table"]["generation"]
    other = "B" if env.current == "A" else "A"
    env.set_files([env.files[other]], extra_edit=lambda t: t.replace("id: it-node", "id: it-node-renamed"))
    r = env.d.ctl("reload")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "restart required" in r.stderr and "node.id" in r.stderr, r.stderr
    st = env.status()
    assert st["table"]["generation"] == gen
    assert st["node"]["id"] == "it-node"
    settle(env, 0.5)
    env.set_files([env.files[env.current]],
                  extra_edit=lambda t: t.replace("id: it-node-renamed", "id: it-node"))


def test_5_policy_keys_apply_on_reload(env):
    """The answering policy goes out with the new table: a lower UDP datagram cap turns a
    two-datagram answer into "use TCP", and the old cap comes back with the next reload."""
    port = env.d.ports("udp", socket.AF_INET)

    def big_answer():
        got = udp_exchange(V4, port, hc.resolution_request("88.100.1/big", request_id=77), timeout=2.0)
        assert got, "no answer"
        return hc.parse_message(got[0][20:] if len(got) == 1 else hc.reassemble(got))["rc"], len(got)

    def set_cap(n):
        env.set_files([env.files[env.current], env.files["big"]],
                      extra_edit=lambda t: re.sub(r"max_udp_datagrams: [0-9]+", f"max_udp_datagrams: {n}", t))
        r = env.d.ctl("reload")
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = set_cap(8)
    rc, datagrams = big_answer()
    assert rc == hc.RC_SUCCESS and datagrams >= 2, (rc, datagrams)
    out = set_cap(1)
    assert "answering with the new service.max_udp_datagrams" in out, out
    assert env.status()["policy"]["max_udp_datagrams"] == 1
    rc, datagrams = big_answer()
    assert rc != hc.RC_SUCCESS and datagrams == 1, (rc, datagrams)
    set_cap(8)
    assert big_answer()[0] == hc.RC_SUCCESS
    env.set_files([env.files[env.current]])
    assert env.d.ctl("reload").returncode == 0
    settle(env)


def test_6_no_answer_missing_or_mixed(env):
    settle(env, 0.5)
    print(f"# answers checked: {env.counts}", flush=True)
    assert env.counts["A"] > 0 and env.counts["B"] > 0 and env.counts["tcp"] > 0, env.counts


if __name__ == "__main__":
    main(globals(), setup, teardown)
