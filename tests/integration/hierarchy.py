"""The authoritative hierarchy the recursion tests resolve through, real idpathd instances on
loopback: a top-level node holds the prefix handles (0.NA/88.100.1 -> node B; 0.NA/88.200 -> a
two-server site B2a + B2b, each holding only the handles HANDLE.NET's hash assigns to it, so a
wrong server choice answers 100; 0.NA/88 -> HS_SITE.PREFIX of a second-level node S, which holds
0.NA/88.300)."""
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

from idpath_env import Daemon, file_sink_records

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


class Hierarchy:
    """Starts the hierarchy; `b_records` are added to node B's (88.100.1 and 88.300). With
    `netns`, every node runs inside that network namespace (its loopback is brought up here), so
    the addresses in the sites are that namespace's 127.0.0.1."""

    def __init__(self, prefix, b_records=(), netns=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.nodes = []
        self.netns = netns
        try:
            if netns:
                subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True,
                               capture_output=True, timeout=20)
            self.b = self.node("b", ["88.100.1", "88.300"], [
                record("88.100.1/abc", url(1, "https://example.org/b/abc")),
                *b_records,
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
        d = Daemon(udp=(V4 + ":0",), tcp=(V4 + ":0",), data=data, homed=homed, netns=self.netns)
        self.nodes.append(d)
        return d.start()

    @staticmethod
    def ports(d):
        return d.ports("udp", socket.AF_INET), d.ports("tcp", socket.AF_INET)

    def root(self):
        return f"{V4}:{self.ports(self.top)[0]}"

    def stop(self):
        for d in self.nodes:
            rc = d.stop()
            assert rc == 0, f"idpathd exit status {rc}"
        shutil.rmtree(self.dir, ignore_errors=True)


def expect_resolution_logged(node, logs, handle, response_code, serving="udp-", timeout=15):
    """A recursive node's query log (file sink in `logs`) shows the miss for `handle` twice: the
    serving thread's record (`serving` names its source: "udp-" or "lcore-") with action
    "recursed", and a resolver thread's with action "resolved", the answer's response code, the
    same client, and a latency from the request's arrival. Returns the resolved record."""
    deadline = time.monotonic() + timeout
    while True:
        sources = {s["source"]: s["name"] for s in node.ctl_json("mirror")["sources"]}
        recs = [r for r in file_sink_records(logs) if r.get("kind") == "query" and r.get("handle") == handle]
        recursed = [r for r in recs if r["action"] == "recursed" and sources.get(r["source"], "").startswith(serving)]
        resolved = [r for r in recs if r["action"] == "resolved" and sources.get(r["source"], "").startswith("resolver-")]
        if (recursed and resolved) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert recursed and resolved, (handle, recs, sources)
    first, answer = recursed[0], resolved[0]
    assert first["response_code"] == 0 and first["response_bytes"] == 0, first
    assert answer["response_code"] == response_code, answer
    assert answer["response_bytes"] > 0 and answer["datagrams"] >= 1, answer
    assert answer["latency_ns"] > 0, answer
    assert answer["time_ns"] == first["time_ns"], (first, answer)  # both from the arrival
    for k in ("client_ip", "client_port", "server_ip", "server_port", "family", "transport", "request_bytes"):
        assert answer[k] == first[k], (k, first, answer)
    return answer
