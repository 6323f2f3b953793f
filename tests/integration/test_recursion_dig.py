#!/usr/bin/env python3
"""`idpath-dig --recurse` against real authoritative idpathd instances on loopback: a top-level
node holds the prefix handles (0.NA/88.100.1 -> node B; 0.NA/88.200 -> a two-server site B2a +
B2b, each holding only the handles HANDLE.NET's hash assigns to it, so a wrong server choice
answers 100; 0.NA/88 -> HS_SITE.PREFIX of a second-level node S, which holds 0.NA/88.300), and
the engine walks root -> (303 ->) site -> hashed server for handles under every prefix."""
import hashlib
import json
import os
import shutil
import socket
import struct
import tempfile

from harness import main
from idpath_env import Daemon, dig

V4 = "127.0.0.1"
B2_HANDLES = [f"88.200/item-{i}" for i in range(8)]


def java_server_number(handle, num_servers):
    """HANDLE.NET SiteInfo.determineServerNum for hash option 2 (whole handle), written apart
    from the C++ one: MD5 of the a-z-uppercased handle, the last four octets as a signed int,
    Math.abs (MIN_VALUE stays negative), then Java's % (sign of the dividend)."""
    part = bytes(c - 32 if 97 <= c <= 122 else c for c in handle.encode())
    h = struct.unpack(">i", hashlib.md5(part).digest()[-4:])[0]
    if h != -2**31:
        h = abs(h)
    r = abs(h) % num_servers
    return -r if h < 0 else r


def record(handle, *values):
    return json.dumps({"handle": handle, "values": list(values)})


def url(index, text):
    return {"index": index, "type": "URL", "data": text, "timestamp": 1700000000}


def site(index, vtype, servers):
    """An HS_SITE-style value; servers: [(id, udp_port, tcp_port)] on 127.0.0.1."""
    return {"index": index, "type": vtype, "timestamp": 1700000000, "site": {
        "serial": 1, "primary": True, "hash": "handle",
        "servers": [{"id": sid, "address": V4, "interfaces": [
            {"type": "query", "protocol": "udp", "port": udp},
            {"type": "admin+query", "protocol": "tcp", "port": tcp}]} for sid, udp, tcp in servers]}}


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="idpath-recursion-")
        self.nodes = []
        try:
            self.b = self.node("b", ["88.100.1", "88.300"], [
                record("88.100.1/abc", url(1, "https://example.org/b/abc")),
                record("88.300/deep", url(1, "https://example.org/b/deep"))])
            self.b2 = []
            for n in (0, 1):
                mine = [h for h in B2_HANDLES if java_server_number(h, 2) == n]
                self.b2.append(self.node(f"b2{'ab'[n]}", ["88.200"], [
                    record(h, url(1, f"https://example.org/b2{'ab'[n]}/{h}")) for h in mine]))
            self.s = self.node("s", ["88.998"], [
                record("0.NA/88.300", site(1, "HS_SITE", [(1, *self.ports(self.b))]))])
            self.top = self.node("top", ["88.999"], [
                record("0.NA/88.100.1", site(1, "HS_SITE", [(1, *self.ports(self.b))])),
                record("0.NA/88.200", site(1, "HS_SITE", [(1, *self.ports(self.b2[0])),
                                                          (2, *self.ports(self.b2[1]))])),
                record("0.NA/88", site(1, "HS_SITE.PREFIX", [(1, *self.ports(self.s))]))])
        except Exception:
            self.stop()
            raise

    def node(self, name, homed, lines):
        data = os.path.join(self.dir, name + ".jsonl")
        with open(data, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        d = Daemon(udp=(V4 + ":0",), tcp=(V4 + ":0",), data=data, homed=homed)
        self.nodes.append(d)
        return d.start()

    @staticmethod
    def ports(d):
        return d.ports("udp", socket.AF_INET), d.ports("tcp", socket.AF_INET)

    def root(self):
        return f"{V4}:{self.ports(self.top)[0]}"

    def recurse(self, handle, *extra):
        return dig("--recurse", self.root(), "--timeout", "1000", "--tries", "1", *extra, handle)

    def stop(self):
        for d in self.nodes:
            rc = d.stop()
            assert rc == 0, f"idpathd exit status {rc}"
        shutil.rmtree(self.dir, ignore_errors=True)


def setup():
    return Env()


def teardown(env):
    env.stop()


def answer(env, handle):
    r = env.recurse(handle, "--json")
    assert r.returncode == 0, (handle, r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_root_site_then_answer(env):
    j = answer(env, "88.100.1/abc")
    assert j["response_code"] == 1 and j["values"][0]["data"] == "https://example.org/b/abc", j
    hops = j["recursion"]["hops"]
    assert [h["question"] for h in hops] == ["0.NA/88.100.1", "88.100.1/abc"], hops
    assert hops[0]["server"] == env.root() and hops[0]["transport"] == "udp"
    assert hops[1]["server"] == f"{V4}:{env.ports(env.b)[0]}"
    assert j["recursion"]["levels"] == 2


def test_two_server_site_hash_picks_the_holder(env):
    seen = set()
    for h in B2_HANDLES:
        n = java_server_number(h, 2)
        seen.add(n)
        j = answer(env, h)
        assert j["values"][0]["data"] == f"https://example.org/b2{'ab'[n]}/{h}", (h, j)
        assert j["recursion"]["hops"][-1]["server"] == f"{V4}:{env.ports(env.b2[n])[0]}", j
    assert seen == {0, 1}, "the handles must exercise both servers"


def test_wrong_server_would_answer_not_found(env):
    # The premise of the test above: each shard holds only its own handles.
    h = B2_HANDLES[0]
    other = env.b2[1 - java_server_number(h, 2)]
    r = dig("@" + V4, "-p", str(env.ports(other)[0]), h)
    assert r.returncode == 1 and "RC_HANDLE_NOT_FOUND" in r.stdout, r.stdout


def test_prefix_referral_to_second_level(env):
    j = answer(env, "88.300/deep")
    assert j["values"][0]["data"] == "https://example.org/b/deep", j
    hops = j["recursion"]["hops"]
    assert [(h["question"], h["response_code"]) for h in hops] == [
        ("0.NA/88.300", 303), ("0.NA/88.300", 1), ("88.300/deep", 1)], hops
    assert hops[1]["server"] == f"{V4}:{env.ports(env.s)[0]}"
    assert hops[0]["note"] == "prefix referral to 1 site"


def test_missing_handle_is_100(env):
    r = env.recurse("88.200/no-such-item")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "RC_HANDLE_NOT_FOUND" in r.stdout and ";; HOP 2:" in r.stdout, r.stdout
    r = env.recurse("88.100.1/absent", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["response_code"] == 100, r.stdout


def test_text_output_shows_hops_then_the_answer(env):
    r = env.recurse("88.100.1/abc")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(";; HOP 1: 0.NA/88.100.1 -> " + env.root() + " (UDP): RC_SUCCESS (1)"), lines
    assert lines[1].startswith(";; HOP 2: 88.100.1/abc -> "), lines
    assert any("https://example.org/b/abc" in ln for ln in lines), r.stdout
    assert lines[-1].startswith(";; RECURSION: 2 levels, 2 exchanges"), lines


def test_unreachable_root_fails_with_status_3(env):
    r = dig("--recurse", f"{V4}:1", "--timeout", "200", "--tries", "1", "88.100.1/abc")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "recursion failed" in r.stderr


def test_usage_errors(env):
    assert dig("--recurse", "not-an-address", "88.100.1/abc").returncode == 2
    assert dig("--recurse", env.root(), "@127.0.0.1", "88.100.1/abc").returncode == 2
    assert dig("--recurse", env.root(), "--type", "URL", "88.100.1/abc").returncode == 2


if __name__ == "__main__":
    main(globals(), setup, teardown)
