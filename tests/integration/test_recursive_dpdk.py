#!/usr/bin/env python3
"""The recursive role (docs/recursion.md) on the DPDK data plane: a recursive idpathd with
`dataplane.mode: dpdk` on net_af_packet, one end of a veth pair in a server network namespace
this test creates, in front of the authoritative hierarchy of hierarchy.py (real idpathd
instances on the server namespace's loopback). Clients in a second namespace ask over IPv4 and
IPv6 with idpath-dig (REC set); the lcore workers punt misses to the resolver threads, which
resolve upstream over kernel sockets and hand the finished reply frames back to the worker that
transmits them. Checked: the answers (one- and multi-datagram, through a 303 referral and a
hashed two-server site), the counters showing the punt path and then the table hits, the
negative cache, that a request without REC is answered from the table alone, and that probe
mode captures the resolver threads' reply frames. Needs root;
skips only where idpathd was built without DPDK."""
import json
import os
import shutil
import subprocess
import time

from harness import Skip, main
from hierarchy import B2_HANDLES, Hierarchy, expect_resolution_logged, java_server_number, record, url
from idpath_env import Daemon, delete_namespaces, dig, file_sink_yaml, json_from_netns, require_namespaces, veth_pair

SRV, CLI = "idprd-srv", "idprd-cli"
SRV_IF, CLI_IF = "idprv0", "idprv1"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"
CLI4, CLI6 = "192.0.2.2", "2001:db8:1::2"
NEGATIVE_TTL = 30
# Three values of 400 octets: an answer of three UDP datagrams (492-octet chunks).
BIG = [f"https://example.org/big/{i}/" + chr(ord("a") + i) * 374 for i in range(3)]


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20).stdout


def recursive_config(root):
    return f"""dataplane:
  mode: dpdk
  lcores: "0-1"
  hugepages: false
  memory_mb: 256
  file_prefix: idprd
  devices: [{json.dumps(f"net_af_packet0,iface={SRV_IF}")}]
recursion:
  roots: [{json.dumps(root)}]
  threads: 2
  udp_timeout_ms: 500
  udp_tries: 1
  tcp_timeout_ms: 1000
  negative_ttl: {NEGATIVE_TTL}
  ring_entries: 256
"""


class Env:
    def __init__(self):
        self.h = Hierarchy("idpath-recursive-dpdk-", netns=SRV, b_records=(
            record("88.100.1/v4", url(1, "https://example.org/b/v4")),
            record("88.100.1/v6", url(1, "https://example.org/b/v6")),
            record("88.100.1/big", *[url(i + 1, d) for i, d in enumerate(BIG)]),
            record("88.100.1/twice", url(1, "https://example.org/b/twice")),
            record("88.100.1/norec", url(1, "https://example.org/b/norec")),
            record("88.100.1/logged", url(1, "https://example.org/b/logged"))))
        self.logs = os.path.join(self.h.dir, "logs")
        # On net_af_packet service.udp must be []: the workers answer UDP 2641; TCP stays with
        # the kernel (on loopback here: unused).
        self.r = Daemon(udp=(), tcp=("127.0.0.1:0",), netns=SRV, data="", homed=(),
                        role="recursive", extra=recursive_config(self.h.root()) + file_sink_yaml(self.logs)
                        + f"  probe:\n    directory: {json.dumps(os.path.join(self.h.dir, 'probe'))}\n")
        try:
            try:
                self.r.start(timeout=30)
            except RuntimeError as e:
                if "built without DPDK" in str(e):
                    raise Skip("idpathd was built without DPDK") from e
                raise
            mode = self.r.ctl_json("status").get("dataplane", {}).get("mode")
            if mode != "dpdk":
                raise RuntimeError(f"dataplane.mode is {mode!r}, not 'dpdk':\n{self.r.read_log()}")
        except BaseException:
            try:
                self.r.stop(timeout=15)
            finally:
                self.h.stop()
            raise

    def stop(self):
        rc = None
        try:
            if self.r:
                log = self.r.read_log()
                rc = self.r.stop(timeout=15)
                assert rc == 0, (rc, log)
        finally:
            if self.h:
                self.h.stop()

    def ask(self, handle, server=SRV4, *extra):
        r = dig("@" + server, "--timeout", "3000", "--tries", "1", "--json", *extra, handle,
                netns=CLI)
        assert r.stdout, (handle, server, r.returncode, r.stderr, self.r.read_log()[-4000:])
        return json.loads(r.stdout)

    def stats(self):
        return self.r.ctl_json("stats")

    def recursion(self):
        return self.stats()["recursion"]

    def upstream(self, rec=None):
        e = (rec or self.recursion())["engine"]
        return e["upstream_udp"] + e["upstream_tcp"]

    def queues(self, stats=None):
        dp = (stats or self.stats())["dataplane"]
        return [q for lc in dp["lcores"] for q in lc["queues"]]

    def worker(self, key):
        return sum(q[key] for q in self.queues())

    def worker_requests(self):
        return sum(q["answers"]["requests"] for q in self.queues())

    def snapshot(self):
        s = self.stats()
        rec = s["recursion"]
        qs = self.queues(s)
        return dict(punted=rec["punted"], punt_dropped=rec["punt_dropped"],
                    resolved=rec["resolved"], answered=rec["answered"], cached=rec["cached"],
                    upstream=self.upstream(rec), negative_hits=rec["engine"]["negative_hits"],
                    punt_tx=sum(q["punt_tx"] for q in qs),
                    punt_tx_dropped=sum(q["punt_tx_dropped"] for q in qs),
                    requests=sum(q["answers"]["requests"] for q in qs), rec=rec)

    def settle(self, cond, what, timeout=3.0):
        """The counters once `cond(snapshot)` holds (a worker counts its transmit just after the
        client may have read the reply); fails saying `what` if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.snapshot()
            if cond(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: {s}\n{self.r.read_log()[-4000:]}")
            time.sleep(0.02)

    def resolved_by_the_worker(self, handle, server, expect):
        """Asks for an uncached `handle`; checks the answer came through the punt path."""
        before = self.snapshot()
        j = self.ask(handle, server)
        assert j["response_code"] == 1 and datas(j) == expect, (handle, server, j)
        assert "AT" not in j["flags"], j["flags"]
        assert j["transport"] == "udp", j
        after = self.settle(lambda s: s["punt_tx"] >= before["punt_tx"] + j["datagrams"],
                            f"{handle}: worker punt_tx did not grow by {j['datagrams']}")
        assert after["punted"] == before["punted"] + 1, (before, after)
        assert after["upstream"] > before["upstream"], (before, after)
        assert after["punt_dropped"] == before["punt_dropped"] == 0, after
        assert after["punt_tx_dropped"] == before["punt_tx_dropped"] == 0, after
        return j


def setup():
    require_namespaces("idprd-probe")
    if not shutil.which("ethtool"):
        raise RuntimeError("ethtool is missing: run scripts/setup")
    delete_namespaces(SRV, CLI)
    try:
        veth_pair(SRV, SRV_IF, (SRV4, SRV6), CLI, CLI_IF, (CLI4, CLI6))
        # The workers check UDP checksums; a veth leaves them to an offload that never comes.
        sh("ip", "netns", "exec", CLI, "ethtool", "-K", CLI_IF, "tx", "off")
        return Env()
    except BaseException:
        delete_namespaces(SRV, CLI)
        raise


def teardown(env):
    try:
        if env:
            env.stop()
    finally:
        delete_namespaces(SRV, CLI)


def datas(j):
    return [v["data"] for v in j.get("values", [])]


def ask_without_rec(handle):
    """A RESOLUTION request with CA and PO but not REC, from the client namespace; the reply's
    response code and values as handle_codec parses them."""
    reply = json_from_netns(CLI, (
        f"req = hc.resolution_request({handle!r}, flags=hc.FLAG_CA | hc.FLAG_PO);"
        f"r = e.udp_exchange({SRV4!r}, 2641, req, timeout=3.0);"
        "m = hc.parse_message(hc.reassemble(r) if len(r) > 1 else r[0][20:]) if r else None;"
        "print(json.dumps(None if m is None else dict(rc=m['rc'], flags=m['flags'],"
        " values=[v['data'].decode() for v in m.get('values', [])])))"))
    assert reply is not None, f"no reply to {handle} without REC"
    return reply


def test_01_miss_resolved_by_the_worker_ipv4(env):
    status = env.r.ctl_json("status")
    assert status["node"]["role"] == "recursive" and status["dataplane"]["mode"] == "dpdk", status
    assert status["dataplane"]["devices"][0]["driver"] == "net_af_packet", status["dataplane"]
    assert not [t for t in env.stats()["threads"] if t["transport"] == "udp"], "no UDP sockets"
    env.resolved_by_the_worker("88.100.1/v4", SRV4, ["https://example.org/b/v4"])


def test_02_miss_resolved_by_the_worker_ipv6(env):
    env.resolved_by_the_worker("88.100.1/v6", SRV6, ["https://example.org/b/v6"])


def test_03_prefix_referral_303(env):
    referrals = env.recursion()["engine"]["referrals"]
    env.resolved_by_the_worker("88.300/deep", SRV4, ["https://example.org/b/deep"])
    assert env.recursion()["engine"]["referrals"] > referrals


def test_04_two_server_site_hash(env):
    seen = set()
    for i, h in enumerate(B2_HANDLES):
        n = java_server_number(h, 2)
        seen.add(n)
        env.resolved_by_the_worker(h, SRV6 if i % 2 else SRV4, [f"https://example.org/b2{'ab'[n]}/{h}"])
    assert seen == {0, 1}, "the handles must exercise both servers"


def test_05_multi_datagram_answer(env):
    for server in (SRV4, SRV6):
        if server == SRV4:
            j = env.resolved_by_the_worker("88.100.1/big", server, BIG)
        else:  # cached by now: the hot path's multi-datagram answer, the same values
            j = env.ask("88.100.1/big", server)
            assert j["response_code"] == 1 and datas(j) == BIG, j
        assert j["transport"] == "udp" and j["datagrams"] >= 2, j
        assert [v["index"] for v in j["values"]] == [1, 2, 3], j


def test_06_second_query_is_a_table_hit(env):
    before = env.snapshot()
    env.resolved_by_the_worker("88.100.1/twice", SRV4, ["https://example.org/b/twice"])
    env.settle(lambda s: s["cached"] > before["cached"], "88.100.1/twice was not cached")
    assert env.r.ctl("lookup", "88.100.1/twice").returncode == 0
    mid = env.snapshot()
    for server in (SRV4, SRV6):
        j = env.ask("88.100.1/twice", server)
        assert j["response_code"] == 1 and datas(j) == ["https://example.org/b/twice"], j
        assert "AT" not in j["flags"], j["flags"]
    after = env.settle(lambda s: s["requests"] >= mid["requests"] + 2,
                       "the workers did not count the two hits")
    for key in ("punted", "resolved", "answered", "upstream", "punt_tx"):
        assert after[key] == mid[key], (key, mid, after)


def test_07_missing_handle_is_100_then_negatively_cached(env):
    before = env.snapshot()
    j = env.ask("88.100.1/absent")
    assert j["response_code"] == 100, j
    mid = env.settle(lambda s: s["punt_tx"] > before["punt_tx"], "no punted reply transmitted")
    assert mid["punted"] == before["punted"] + 1, (before, mid)
    assert mid["upstream"] > before["upstream"], (before, mid)
    j = env.ask("88.100.1/absent", SRV6)
    assert j["response_code"] == 100, j
    after = env.settle(lambda s: s["punt_tx"] > mid["punt_tx"], "no punted reply transmitted")
    assert after["punted"] == mid["punted"] + 1, (mid, after)  # not in the table: punted again
    assert after["upstream"] == mid["upstream"], (mid, after)  # ... and not asked upstream
    assert after["negative_hits"] == mid["negative_hits"] + 1, (mid, after)
    assert env.r.ctl("lookup", "88.100.1/absent").returncode != 0  # not in the table


def test_08_without_rec_answered_from_the_table_alone(env):
    before = env.snapshot()
    # Uncached: what an authoritative node without the prefix answers (no homed prefixes: 301).
    reply = ask_without_rec("88.100.1/norec")
    assert reply["rc"] == 301, reply
    after = env.settle(lambda s: s["requests"] > before["requests"], "the workers did not answer")
    for key in ("punted", "resolved", "upstream", "punt_tx"):
        assert after[key] == before[key], (key, before, after)
    assert env.r.ctl("lookup", "88.100.1/norec").returncode != 0
    # Cached (resolved in an earlier check): the table's answer, without REC too.
    reply = ask_without_rec("88.100.1/v4")
    assert reply["rc"] == 1 and reply["values"] == ["https://example.org/b/v4"], reply
    assert env.snapshot()["punted"] == before["punted"]


def test_08b_resolver_answers_are_in_the_query_log(env):
    # The worker's record of the miss ("recursed", from its lcore's ring) and the resolver
    # thread's record of the answer it handed back to that worker ("resolved").
    assert env.ask("88.100.1/logged", SRV6)["response_code"] == 1
    r = expect_resolution_logged(env.r, env.logs, "88.100.1/logged", 1, serving="lcore-")
    assert r["family"] == 6 and r["client_ip"] == CLI6 and r["server_ip"] == SRV6, r
    sources = env.r.ctl_json("mirror")["sources"]
    assert all(s["lost"] == 0 and s["gaps"] == 0 for s in sources), sources


def test_09_counters_consistent(env):
    s = env.snapshot()
    rec = s["rec"]
    assert rec["punt_dropped"] == 0 and s["punt_tx_dropped"] == 0, s
    assert rec["punted"] == rec["resolved"], rec
    assert rec["send_errors"] == 0, rec
    assert s["punt_tx"] >= rec["punted"], s


def test_10_probe_captured_every_reply_frame(env):
    """mirror.probe (every request): each punted miss's reply frames were captured by the resolver
    threads (sources resolver-N) as they handed them to the worker, so they match what the
    workers transmitted from their inboxes; the requests by the lcore (source lcore-0)."""
    s = env.snapshot()
    probe = env.r.ctl_json("mirror")["probe"]
    by = {src["name"]: src for src in probe["sources"]}
    resolvers = sum(v["captured"] for k, v in by.items() if k.startswith("resolver-"))
    assert resolvers == s["punt_tx"] > 0, (by, s)
    assert by["lcore-0"]["captured"] >= s["requests"], (by, s)
    assert probe["lost"] == 0 and probe["write_errors"] == 0, probe


if __name__ == "__main__":
    main(globals(), setup, teardown)
