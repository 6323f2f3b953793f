#!/usr/bin/env python3
"""idpathd's DPDK data plane on a veth pair, each end in a network namespace this test creates:
the daemon runs in the server namespace with `dataplane.mode: dpdk` on net_af_xdp, then again
on net_af_packet, and the client namespace checks what an operator would: UDP answers over IPv4
and IPv6 (one- and multi-datagram), the kernel still resolving neighbours, answering pings and
serving TCP 2641 on the same interface, the daemon's counters showing that the UDP answers came
from the DPDK workers and not from kernel sockets, and a clean SIGTERM that leaves no XDP
program behind. Needs root; the AF_XDP case skips (saying why) only where the kernel has no
AF_XDP sockets."""
import errno
import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness import Skip, main
from idpath_env import Daemon, delete_namespaces, dig, file_sink_records, file_sink_yaml, require_namespaces, veth_pair

SRV, CLI = "idpdt-srv", "idpdt-cli"
SRV_IF, CLI_IF = "idpdv0", "idpdv1"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"
CLI4, CLI6 = "192.0.2.2", "2001:db8:1::2"
# From configs/sample/identifiers.jsonl: six values, four values (indexes 1, 2, 3, 100), and an
# answer in three UDP datagrams.
SAMPLES = ("88.100.1/SN-0001", "88.100.1/abc", "88.200.7/big-manual")
DEVICES = {
    "af_xdp": f"net_af_xdp0,iface={SRV_IF}",
    "af_packet": f"net_af_packet0,iface={SRV_IF}",
}


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20).stdout


def in_cli(*cmd, timeout=20):
    return subprocess.run(["ip", "netns", "exec", CLI, *cmd], capture_output=True, text=True,
                          timeout=timeout)


def af_xdp_unavailable():
    """Why AF_XDP cannot work here, or None."""
    try:
        socket.socket(getattr(socket, "AF_XDP", 44), socket.SOCK_RAW).close()
    except OSError as e:
        if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            return "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"
    return None


def dataplane_config(device, xdp_object):
    return f"""dataplane:
  mode: dpdk
  lcores: "0-1"
  hugepages: false
  memory_mb: 256
  file_prefix: idpdt
  devices: [{json.dumps(device)}]
  xdp_object: {json.dumps(xdp_object)}
"""


class Case:
    """One idpathd in DPDK mode on one kind of device, started by the first check that needs it."""

    def __init__(self, kind):
        self.kind = kind
        self.daemon = None
        self.error = None
        self.stopped = False
        self.queries = 0  # UDP queries sent to the workers
        self.tmp = tempfile.mkdtemp(prefix="idpath-dpdk-it-")

    def start(self):
        if self.kind == "af_xdp" and (why := af_xdp_unavailable()):
            raise Skip(why)
        # The client forgets the server's MAC, so the neighbour check sees this case's work.
        sh("ip", "-n", CLI, "neigh", "flush", "dev", CLI_IF)
        extra = dataplane_config(DEVICES[self.kind], os.path.join(self.tmp, "idpath_xdp.bpf.o"))
        # The log mirror to plain JSON-lines files: the lcores' records are checked below.
        self.logs = os.path.join(self.tmp, "logs")
        extra += file_sink_yaml(self.logs)
        # On AF_XDP the kernel's UDP sockets stay bound to 2641 (they must see nothing: the XDP
        # program steers 2641 to the workers); on AF_PACKET service.udp must be empty.
        udp = ("0.0.0.0:2641", "[::]:2641") if self.kind == "af_xdp" else ()
        tcp = (f"{SRV4}:2641", f"[{SRV6}]:2641")
        self.daemon = Daemon(udp=udp, tcp=tcp, netns=SRV, extra=extra)
        self.daemon.start(timeout=30)  # the admin socket opens last: ping means serving
        mode = self.daemon.ctl_json("status").get("dataplane", {}).get("mode")
        if mode != "dpdk":
            raise RuntimeError(f"dataplane.mode is {mode!r}, not 'dpdk':\n{self.daemon.read_log()}")

    def stop(self):
        self.stopped = True
        rc, log = None, ""
        if self.daemon:
            log = self.daemon.read_log()
            rc = self.daemon.stop(timeout=15)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc, log


class Context:
    def __init__(self):
        self.cases = {}

    def case(self, kind):
        c = self.cases.get(kind)
        if c is None:
            c = self.cases[kind] = Case(kind)
            try:
                c.start()
            except Skip as s:
                c.error = s
            except Exception as e:  # every later check of this case reports the same cause
                c.error = RuntimeError(f"idpathd on {kind} did not start: {e}")
        if isinstance(c.error, Skip):
            raise Skip(str(c.error))
        if c.error:
            raise c.error
        if c.stopped:
            raise RuntimeError(f"idpathd on {kind} already stopped")
        return c


def teardown(ctx):
    try:
        for c in (ctx.cases.values() if ctx else ()):
            if not c.stopped:
                c.stop()
    finally:
        delete_namespaces(SRV, CLI)


def setup():
    require_namespaces("idpdt-probe")
    for tool in ("ethtool", "ping"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: run scripts/setup")
    teardown(None)
    veth_pair(SRV, SRV_IF, (SRV4, SRV6), CLI, CLI_IF, (CLI4, CLI6))
    # A veth hands its peer checksums only partially computed (offloaded, for a NIC that never
    # comes); the kernel trusts them, but the workers read the frame's bytes and drop bad
    # checksums. So the client sends complete ones, as a real NIC would put on the wire.
    sh("ip", "netns", "exec", CLI, "ethtool", "-K", CLI_IF, "tx", "off")
    return Context()


def dig_json(case, server, handle, *extra):
    r = dig("@" + server, *extra, "--json", handle, netns=CLI)
    assert r.returncode == 0, (case.kind, server, handle, extra, r.stdout, r.stderr,
                               case.daemon.read_log())
    return json.loads(r.stdout)


def values(answer):
    return [(v["index"], v["type"], v["data_hex"]) for v in answer["values"]]


def link(ns, dev):
    return json.loads(sh("ip", "-j", "-n", ns, "link", "show", "dev", dev))[0]


# The checks, run in this order for each device kind.

def check_udp_answers_ipv4_ipv6(case):
    for server in (SRV4, SRV6):
        answers = {h: dig_json(case, server, h) for h in SAMPLES}
        case.queries += len(SAMPLES)
        sn = answers["88.100.1/SN-0001"]
        assert sn["handle"] == "88.100.1/SN-0001" and len(sn["values"]) >= 4, sn
        abc = answers["88.100.1/abc"]
        assert [v[0] for v in values(abc)] == [1, 2, 3, 100], abc
        big = answers["88.200.7/big-manual"]
        assert big["transport"] == "udp" and big["datagrams"] >= 2, big
    r = dig("@" + SRV4, "--json", "88.100.1/no-such-product", netns=CLI)
    case.queries += 1
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)


def check_neighbours_resolved_by_the_kernel(case):
    mac = link(SRV, SRV_IF)["address"]
    table = json.loads(sh("ip", "-j", "-n", CLI, "neigh", "show", "dev", CLI_IF))
    for addr in (SRV4, SRV6):
        entry = next((n for n in table if n.get("dst") == addr), None)
        assert entry is not None, (addr, table)
        assert entry.get("lladdr") == mac, (addr, entry, mac)
        assert set(entry.get("state", [])) & {"REACHABLE", "STALE", "DELAY"}, (addr, entry)


def check_ping_through_the_kernel(case):
    for host in (SRV4, SRV6):
        r = in_cli("ping", "-c1", "-W2", host)
        assert r.returncode == 0, (host, r.stdout, r.stderr)


def check_tcp_through_the_kernel(case):
    for server in (SRV4, SRV6):
        for h in SAMPLES:
            over_tcp = dig_json(case, server, h, "--tcp")
            assert over_tcp["transport"] == "tcp"
            over_udp = dig_json(case, server, h)  # the workers' answer, value for value the same
            case.queries += 1
            assert values(over_tcp) == values(over_udp), (h, server)


def check_udp_answered_by_the_workers(case):
    d = case.daemon
    status = d.ctl_json("status")["dataplane"]
    assert status["mode"] == "dpdk", status
    assert status["devices"] and status["devices"][0]["driver"] == "net_" + case.kind, status
    stats = d.ctl_json("stats")
    dp = stats["dataplane"]
    queues = [q for lc in dp["lcores"] for q in lc["queues"]]
    assert queues, dp
    rx = sum(q["rx"] for q in queues)
    requests = sum(q["answers"]["requests"] for q in queues)
    datagrams = sum(q["answers"]["datagrams_out"] for q in queues)
    assert requests >= case.queries, (requests, case.queries, dp)
    assert rx >= requests and datagrams >= requests, dp
    assert sum(q["tx"] for q in queues) >= datagrams, dp
    assert dp["ports"][0]["ipackets"] >= rx and dp["ports"][0]["opackets"] >= datagrams, dp["ports"]
    kernel_udp = [t for t in stats["threads"] if t["transport"] == "udp"]
    if case.kind == "af_xdp":
        assert kernel_udp, "service.udp is bound: its threads must be listed (and idle)"
        assert dp["xdp"] and dp["xdp"][0]["redirected"] >= requests, dp["xdp"]
    assert all(t["requests"] == 0 and t["datagrams_out"] == 0 for t in kernel_udp), kernel_udp
    tcp = [t for t in stats["threads"] if t["transport"] == "tcp"]
    assert sum(t["requests"] for t in tcp) >= 2 * len(SAMPLES), tcp


def check_queries_mirrored_from_the_lcores(case):
    """Every query the workers answered has a record from an lcore's ring, in the file sink."""
    deadline = time.monotonic() + 15
    while True:
        recs = file_sink_records(case.logs)
        mirror = case.daemon.ctl_json("mirror")
        lcores = {s["source"] for s in mirror["sources"] if s["name"].startswith("lcore-")}
        udp = [x for x in recs if x["kind"] == "query" and x["source"] in lcores and x["transport"] == "udp"]
        if len(udp) >= case.queries or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert lcores, mirror["sources"]
    assert len(udp) >= case.queries, (len(udp), case.queries, mirror)
    assert {x["family"] for x in udp} == {4, 6}, udp[:3]
    assert all(x["latency_ns"] > 0 and x["response_bytes"] > 0 for x in udp), udp[:3]
    assert all(x["response_code"] == 1 for x in udp if x["handle"] == "88.100.1/SN-0001"), udp[:3]
    assert all(s["lost"] == 0 and s["gaps"] == 0 for s in mirror["sources"]), mirror["sources"]


def check_sigterm_exits_0_and_detaches(case):
    rc, log = case.stop()
    assert rc == 0, (rc, log)
    left = link(SRV, SRV_IF)
    assert "xdp" not in left, left
    assert "xdp" not in sh("ip", "-n", SRV, "link", "show", "dev", SRV_IF).replace(SRV_IF, ""), left


CHECKS = [
    check_udp_answers_ipv4_ipv6,
    check_neighbours_resolved_by_the_kernel,
    check_ping_through_the_kernel,
    check_tcp_through_the_kernel,
    check_udp_answered_by_the_workers,
    check_queries_mirrored_from_the_lcores,
    check_sigterm_exits_0_and_detaches,
]


def run_check(kind, check, ctx):
    check(ctx.case(kind))


# test_<kind>_<n>_<check>: the harness runs tests in name order, so n keeps each case's order.
for _kind in DEVICES:
    for _n, _check in enumerate(CHECKS, 1):
        globals()[f"test_{_kind}_{_n}_{_check.__name__[len('check_'):]}"] = functools.partial(
            run_check, _kind, _check)

if __name__ == "__main__":
    main(globals(), setup, teardown)
