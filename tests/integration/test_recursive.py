#!/usr/bin/env python3
"""A recursive idpathd (node.role: recursive, docs/recursion.md) in front of the authoritative
hierarchy of test_recursion_dig.py: a top-level node with the 0.NA prefix handles, a second-level
node reached by a 303 prefix referral, and a two-server site split by HANDLE.NET's hash. Clients
ask the recursive node over UDP (IPv4 and IPv6) and TCP; misses are resolved upstream by its
resolver threads (a TCP connection waits for the answer) and positive answers cached in its
serving table until their TTL passes."""
import json
import os
import socket
import time

from handle_codec import resolution_request
from harness import Skip, main
from idpath_env import Daemon, dig, file_sink_yaml
from hierarchy import B2_HANDLES, V4, Hierarchy, expect_resolution_logged, java_server_number, record, site, url

NEGATIVE_TTL = 30


def value(index, vtype, data, ttl=None):
    v = {"index": index, "type": vtype, "data": data, "timestamp": 1700000000}
    if ttl is not None:
        v["ttl"] = ttl
    return v


class Env(Hierarchy):
    def __init__(self):
        super().__init__("idpath-recursive-", b_records=(
            record("88.100.1/multi", value(1, "URL", "https://example.org/m1"),
                   value(2, "EMAIL", "m@example.org"), value(3, "URL", "https://example.org/m3")),
            record("88.100.1/filters", value(1, "URL", "https://example.org/f1"),
                   value(2, "EMAIL", "f@example.org"), value(3, "URL", "https://example.org/f3")),
            record("88.100.1/v6", url(1, "https://example.org/b/v6")),
            record("88.100.1/logged", url(1, "https://example.org/b/logged")),
            record("88.100.1/tcp", url(1, "https://example.org/b/tcp")),
            record("88.100.1/tcp-logged", url(1, "https://example.org/b/tcp-logged")),
            record("88.100.1/at", url(1, "https://example.org/b/at")),
            record("88.100.1/short", value(1, "URL", "https://example.org/short", ttl=2))))
        self.logs = os.path.join(self.dir, "logs")
        try:
            self.r = Daemon(udp=(V4 + ":0", "[::1]:0"), tcp=(V4 + ":0",), data="", homed=(),
                            role="recursive",
                            extra=f"recursion:\n  roots: [\"{self.root()}\"]\n  threads: 2\n"
                                  f"  udp_timeout_ms: 500\n  udp_tries: 1\n  tcp_timeout_ms: 1000\n"
                                  f"  negative_ttl: {NEGATIVE_TTL}\n  ring_entries: 256\n"
                                  + file_sink_yaml(self.logs))
            self.nodes.append(self.r)
            self.r.start()
        except Exception:
            self.stop()
            raise

    def ask(self, handle, *extra, family=socket.AF_INET, tcp=False):
        """The recursive node's answer (idpath-dig --json; REC is set, as HANDLE.NET clients set it)."""
        if tcp:
            server, port = "@" + V4, self.r.ports("tcp", socket.AF_INET)
        elif family == socket.AF_INET6:
            server, port = "@::1", self.r.ports("udp", socket.AF_INET6)
        else:
            server, port = "@" + V4, self.r.ports("udp", socket.AF_INET)
        r = dig(server, "-p", str(port), "--timeout", "3000", "--tries", "1", "--json",
                *(["--tcp"] if tcp else []), *extra, handle)
        assert r.stdout, (handle, r.returncode, r.stderr)
        return json.loads(r.stdout)

    def recursion(self):
        return self.r.ctl_json("stats")["recursion"]

    def upstream(self):
        e = self.recursion()["engine"]
        return e["upstream_udp"] + e["upstream_tcp"]

    def wait_cached(self, before, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.recursion()["cached"] > before:
                return
            time.sleep(0.02)
        raise AssertionError(f"nothing cached: {self.recursion()}")



def setup():
    return Env()


def teardown(env):
    env.stop()


def datas(j):
    return [v["data"] for v in j.get("values", [])]


def indexes(j):
    return [v["index"] for v in j.get("values", [])]


def test_resolves_through_referrals(env):
    j = env.ask("88.100.1/abc")
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/abc"], j
    j = env.ask("88.300/deep")  # 0.NA/88.300: 303 from the top to the second-level node
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/deep"], j
    assert env.recursion()["engine"]["referrals"] >= 1


def test_two_server_site_hash(env):
    for h in B2_HANDLES:
        n = java_server_number(h, 2)
        j = env.ask(h)
        assert datas(j) == [f"https://example.org/b2{'ab'[n]}/{h}"], (h, j)


def test_ipv6_client(env):
    j = env.ask("88.100.1/v6", family=socket.AF_INET6)
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/v6"], j


def test_answers_are_not_authoritative(env):
    j = env.ask("88.100.1/abc")
    assert "AT" not in j["flags"], j["flags"]


def test_second_query_is_a_table_hit(env):
    cached = env.recursion()["cached"]
    j = env.ask("88.100.1/multi")
    assert j["response_code"] == 1 and indexes(j) == [1, 2, 3], j
    env.wait_cached(cached)
    before, upstream = env.recursion(), env.upstream()
    answers = env.r.ctl_json("stats")["total"]["answers"]
    j = env.ask("88.100.1/multi")
    assert j["response_code"] == 1 and indexes(j) == [1, 2, 3], j
    after = env.recursion()
    assert after["punted"] == before["punted"], (before, after)  # answered on the hot path
    assert env.upstream() == upstream
    assert env.r.ctl_json("stats")["total"]["answers"] == answers + 1
    assert env.r.ctl("lookup", "88.100.1/multi").returncode == 0


def test_filters_on_cached_answers(env):
    cached = env.recursion()["cached"]
    assert indexes(env.ask("88.100.1/filters", "--index", "2")) == [2]  # the miss, filtered
    env.wait_cached(cached)
    punted = env.recursion()["punted"]
    assert indexes(env.ask("88.100.1/filters", "--index", "2")) == [2]
    assert indexes(env.ask("88.100.1/filters", "--type", "URL")) == [1, 3]
    assert env.ask("88.100.1/filters", "--index", "9")["response_code"] == 200
    assert env.recursion()["punted"] == punted


def test_short_ttl_is_fetched_again_after_expiry(env):
    cached = env.recursion()["cached"]
    assert env.ask("88.100.1/short")["response_code"] == 1
    env.wait_cached(cached)
    upstream = env.upstream()
    assert env.ask("88.100.1/short")["response_code"] == 1
    assert env.upstream() == upstream  # still cached
    time.sleep(4.0)  # TTL 2 s, plus the once-a-second sweep
    assert env.recursion()["expired"] >= 1
    assert env.r.ctl("lookup", "88.100.1/short").returncode != 0
    j = env.ask("88.100.1/short")
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/short"], j
    assert env.upstream() > upstream


def test_missing_handle_is_100_then_negatively_cached(env):
    j = env.ask("88.100.1/absent")
    assert j["response_code"] == 100, j
    upstream, negative = env.upstream(), env.recursion()["engine"]["negative_hits"]
    j = env.ask("88.100.1/absent")
    assert j["response_code"] == 100, j
    assert env.upstream() == upstream
    assert env.recursion()["engine"]["negative_hits"] == negative + 1
    assert env.r.ctl("lookup", "88.100.1/absent").returncode != 0  # not in the table


def test_unknown_prefix(env):
    # The idpath top-level node answers 301 for a prefix handle it neither holds nor can refer,
    # so no server answers and the client gets RC_ERROR (a HANDLE.NET GHR answers 100 instead,
    # which the recursive node passes on as 100; docs/recursion.md).
    j = env.ask("77.1/x")
    assert j["response_code"] == 2, j
    assert j.get("error_message", "").startswith("recursion failed"), j


def test_tcp_miss_is_resolved_through_the_hierarchy(env):
    """A miss over TCP goes to the resolver threads as a UDP one does, and the answer comes back
    on the same connection; once cached it is a hit over TCP too."""
    before = env.recursion()
    j = env.ask("88.100.1/tcp", tcp=True)
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/tcp"], j
    assert "AT" not in j["flags"], j["flags"]
    after = env.recursion()
    assert after["punted"] == before["punted"] + 1, (before, after)
    assert after["punt_dropped"] == before["punt_dropped"], after
    assert after["answered"] > before["answered"], after
    env.wait_cached(before["cached"])
    assert env.ask("88.100.1/tcp", tcp=True)["response_code"] == 1
    assert env.recursion()["punted"] == after["punted"]  # a hit
    # Through the 303 referral, and a handle the upstream does not hold, over TCP as well.
    j = env.ask("88.300/deep", tcp=True)
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/deep"], j
    assert env.ask("88.100.1/tcp-never-registered", tcp=True)["response_code"] == 100
    tcp = env.r.ctl_json("stats")["tcp_connections"]
    assert tcp["closed_punt_timeout"] == 0 and tcp["punt_replies_stale"] == 0, tcp


def test_tcp_resolution_is_in_the_query_log(env):
    assert env.ask("88.100.1/tcp-logged", tcp=True)["response_code"] == 1
    r = expect_resolution_logged(env.r, env.logs, "88.100.1/tcp-logged", 1, serving="tcp")
    assert r["transport"] == "tcp" and r["client_ip"] == V4 and r["datagrams"] == 1, r


def test_prefix_routes_preloaded_from_the_table(env):
    """A recursive node whose identifier files carry 0.NA/88.100.1 answers that prefix handle as
    a hit and resolves handles under it without its (here unreachable) root."""
    routes = os.path.join(env.dir, "routes.jsonl")
    with open(routes, "w", encoding="utf-8") as f:
        f.write(record("0.NA/88.100.1", site(1, "HS_SITE", [(1, *env.ports(env.b))])) + "\n")
    d = Daemon(udp=(V4 + ":0",), tcp=(V4 + ":0",), data=routes, homed=(), role="recursive",
               extra="recursion:\n  roots: [\"127.0.0.1:1\"]\n  udp_timeout_ms: 200\n  udp_tries: 1\n"
                     "  tcp_timeout_ms: 200\n")
    d.start()
    try:
        port = str(d.ports("udp", socket.AF_INET))
        ask = lambda h: json.loads(dig("@" + V4, "-p", port, "--timeout", "3000", "--tries", "1", "--json", h).stdout)
        j = ask("88.100.1/abc")
        assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/abc"], j
        rec = d.ctl_json("stats")["recursion"]
        assert rec["engine"]["service_hits"] >= 1 and rec["engine"]["timeouts"] == 0, rec
        assert ask("0.NA/88.100.1")["response_code"] == 1
        assert d.ctl_json("stats")["recursion"]["punted"] == rec["punted"]  # a hit
    finally:
        assert d.stop() == 0


def test_at_bypasses_the_cache(env):
    cached = env.recursion()["cached"]
    assert env.ask("88.100.1/at")["response_code"] == 1
    env.wait_cached(cached)
    before, upstream = env.recursion(), env.upstream()
    assert datas(env.ask("88.100.1/at")) == ["https://example.org/b/at"]  # a table hit
    assert env.recursion()["punted"] == before["punted"]
    j = env.ask("88.100.1/at", "--auth")  # AT: the primary's answer, not the cached copy
    assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/at"], j
    after = env.recursion()
    assert after["punted"] == before["punted"] + 1, (before, after)
    assert after["engine"]["authoritative"] == before["engine"]["authoritative"] + 1, after
    assert env.upstream() == upstream + 1  # the handle asked again; its prefix's sites cached
    assert "AT" not in j["flags"], j["flags"]  # still a relayed answer


def test_resolver_answers_are_in_the_query_log(env):
    assert env.ask("88.100.1/logged")["response_code"] == 1
    r = expect_resolution_logged(env.r, env.logs, "88.100.1/logged", 1)
    assert r["values"] == 1 and r["client_ip"] == V4, r
    assert env.ask("88.100.1/never-registered", family=socket.AF_INET6)["response_code"] == 100
    r = expect_resolution_logged(env.r, env.logs, "88.100.1/never-registered", 100)
    assert r["family"] == 6 and r["client_ip"] == "::1", r
    sources = env.r.ctl_json("mirror")["sources"]
    assert all(s["lost"] == 0 and s["gaps"] == 0 for s in sources), sources


def test_stats_and_status(env):
    rec = env.recursion()
    for key in ("engine", "punted", "punt_dropped", "resolved", "answered", "cached", "expired"):
        assert key in rec, rec
    assert rec["punt_dropped"] == 0 and rec["punted"] == rec["resolved"], rec
    status = env.r.ctl_json("status")
    assert status["node"]["role"] == "recursive"
    assert status["policy"]["recursive"] is True and status["policy"]["primary"] is False
    assert status["recursion"]["answered"] >= 1


def test_tcp_punt_timeout_closes_the_waiting_connection(env):
    """service.tcp_punt_timeout_ms: a TCP client whose miss waits on an upstream that never answers
    (a UDP socket nobody reads, a TCP listener that never accepts) loses its connection after the
    configured time, and the close is counted."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((V4, 0))
    port = udp.getsockname()[1]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind((V4, port))
    tcp.listen(8)
    d = Daemon(udp=(V4 + ":0",), tcp=(V4 + ":0",), data="", homed=(), role="recursive",
               service_extra="  tcp_punt_timeout_ms: 300\n",
               extra=f"recursion:\n  roots: [\"{V4}:{port}\"]\n  udp_timeout_ms: 5000\n  udp_tries: 1\n")
    d.start()
    try:
        with socket.create_connection((V4, d.ports("tcp", socket.AF_INET)), timeout=5) as c:
            c.sendall(resolution_request("88.100.1/black-hole"))
            started = time.monotonic()
            assert c.recv(4096) == b"", "the connection should close without an answer"
            waited = time.monotonic() - started
        assert 0.2 <= waited < 4.0, waited
        assert d.ctl_json("stats")["tcp_connections"]["closed_punt_timeout"] == 1
    finally:
        assert d.stop() == 0
        udp.close()
        tcp.close()


def test_probe_captures_the_resolvers_replies(env):
    """mirror.probe on a recursive node: a miss's request is captured by the UDP thread that
    punted it and its reply by the resolver thread that sent it, over IPv4 and IPv6, as a hit's
    pair is; each reply goes to its request's client port with its RequestId."""
    from test_probe import TSHARK, packets
    if not os.access(TSHARK, os.X_OK):
        raise Skip("tshark not installed")
    probe_dir = os.path.join(env.dir, "probe")
    d = Daemon(udp=(V4 + ":0", "[::1]:0"), tcp=(V4 + ":0",), data="", homed=(), role="recursive",
               extra=f"recursion:\n  roots: [\"{env.root()}\"]\n  udp_timeout_ms: 500\n  udp_tries: 1\n"
                     f"mirror:\n  probe:\n    directory: {json.dumps(probe_dir)}\n")
    d.start()
    try:
        ports = {}
        for handle, host, family in (("88.100.1/abc", V4, socket.AF_INET), ("88.100.1/multi", "::1", socket.AF_INET6),
                                     ("88.100.1/abc", V4, socket.AF_INET)):  # the last one a hit
            ports[family] = d.ports("udp", family)
            r = dig("@" + host, "-p", str(ports[family]), "--timeout", "3000", "--tries", "1", "--json", handle)
            assert json.loads(r.stdout)["response_code"] == 1, r.stdout
        rec = d.ctl_json("stats")["recursion"]
        assert rec["punted"] == 2 and rec["answered"] == 2, rec
        probe = d.ctl_json("mirror")["probe"]
    finally:
        assert d.stop() == 0
    assert probe["lost"] == 0 and probe["write_errors"] == 0, probe
    pk = packets(probe_dir)
    reqs = [p for p in pk if p["frame.packet_flags_direction"] == "0x00000001"]
    resps = [p for p in pk if p["frame.packet_flags_direction"] == "0x00000002"]
    assert len(reqs) == 3 and len(resps) == 3, pk
    for q in reqs:
        v6 = q["ipv6.src"] != ""
        key = "ipv6" if v6 else "ip"
        answer = [p for p in resps if p["udp.dstport"] == q["udp.srcport"] and p[key + ".dst"] == q[key + ".src"]
                  and bytes.fromhex(p["udp.payload"])[8:12] == bytes.fromhex(q["udp.payload"])[8:12]]
        assert len(answer) == 1, (q, resps)
        a = answer[0]
        assert a["udp.srcport"] == str(ports[socket.AF_INET6 if v6 else socket.AF_INET]), a
        assert a["udp.checksum.status"] == "1", a
        assert int.from_bytes(bytes.fromhex(a["udp.payload"])[24:28], "big") == 1, a  # RC_SUCCESS


if __name__ == "__main__":
    main(globals(), setup, teardown)
