#!/usr/bin/env python3
"""idpathd in DPDK mode on a net_pcap port: a pcap of mixed IPv4/IPv6 traffic in (queries, one of
them VLAN-tagged, one with IPv4 options, multi-datagram answers; ARP, NS, pings; malformed
frames, fragments, traffic for other addresses and ports), the pcap it writes compared reply by
reply against frames built here from the RFCs (pcap_io.py) and answers taken from the same
daemon's kernel TCP listener (byte for byte but ExpirationTime and the IPv4 ID), its counters
against what each input frame should have been counted as, and tshark decoding every reply with
IP, UDP, ICMP and ICMPv6 checksums verified. Needs tshark: without it the tshark point fails."""
import collections
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import traceback

import handle_codec as hc
import pcap_io as p
from harness import main
from idpath_env import CTL, Daemon, tcp_exchange

CLIENT_MAC = p.mac("02:00:00:00:c0:01")
# net_pcap's MAC: 02:70:63:61:70:<device index> ("pcap", DPDK drivers/net/pcap/pcap_ethdev.c).
# Queries are sent to it; the worker swaps MACs for UDP and echo replies and writes the port's
# MAC into ARP and NA replies, which is checked against what `idpathctl status` reports.
SERVER_MAC = p.mac("02:70:63:61:70:00")
SERVER4, SERVER6 = "192.0.2.1", "2001:db8::1"
CLIENT4, CLIENT6 = "198.51.100.7", "2001:db8:ffff::7"
PORT = 2641
READY_TIMEOUT = 10.0  # seconds for the worker to receive the whole input pcap
BUDGET = 30.0         # seconds for start, replay and TCP references together; then stop (<= 8 s)
# and two tshark runs (<= 10 s each) keep the whole test under a minute even when it fails.
HANDLE_CHUNK = 492    # message octets per datagram (handle-protocol.md 1.12)

# Expected values from configs/sample/identifiers.jsonl.
SN_0001 = [(1, "URL", b"https://trace.example-factory.cn/p/SN-0001"), (2, "manufacturer", b"Chengdu Sample Motors"),
           (3, "model", b"IM-250X"), (4, "batch", b"B2023-01"), (5, "productionDate", b"2024-02-02")]
ABC = [(1, "URL", b"https://example.org/a"), (2, "EMAIL", b"admin@example.org"),
       (3, "manufacturer", b"Example Industrial Co., Ltd.")]


class Case:
    """One input frame, how the worker should classify it, and what it should answer.
    reply: None, "handle", "arp", "na", "echo4" or "echo6"."""

    def __init__(self, name, frame, verdict, reason=None, reply=None, request=None, rc=None,
                 handle=None, values=None, datagrams=1, **meta):
        self.name, self.frame, self.verdict, self.reason = name, frame, verdict, reason
        self.reply, self.request, self.rc, self.handle = reply, request, rc, handle
        self.values, self.datagrams, self.meta = values, datagrams, meta


def query(name, handle, rid, src, dst, sport, rc=None, values=None, datagrams=1, vlans=(),
          verdict="handle_request", reply="handle", dst_mac=SERVER_MAC, **ip_kw):
    req = hc.resolution_request(handle, request_id=rid)
    pkt = p.udp_ip(src, dst, sport, PORT, req, **ip_kw)
    eth = p.ETH_IPV4 if p.ip(src).version == 4 else p.ETH_IPV6
    return Case(name, p.ethernet(dst_mac, CLIENT_MAC, eth, pkt, vlans), verdict, reply=reply,
                request=req, rc=rc, handle=handle, values=values, datagrams=datagrams,
                src=src, dst=dst, sport=sport, vlans=list(vlans), rid=rid)


def cases():
    out = [
        query("v4 SN-0001", "88.100.1/SN-0001", 0x1001, CLIENT4, SERVER4, 40001, hc.RC_SUCCESS, SN_0001),
        query("v6 abc", "88.100.1/abc", 0x1002, CLIENT6, SERVER6, 40002, hc.RC_SUCCESS, ABC),
        query("v4 miss", "88.100.1/nope", 0x1003, CLIENT4, SERVER4, 40003, hc.RC_HANDLE_NOT_FOUND),
        query("v6 not homed", "88.300.9/anything", 0x1004, CLIENT6, SERVER6, 40004, hc.RC_SERVER_NOT_RESP),
        query("v4 multi-datagram", "88.200.7/big-manual", 0x1005, CLIENT4, SERVER4, 40005, hc.RC_SUCCESS,
              datagrams=3),
        query("v6 multi-datagram", "88.200.7/big-manual", 0x1006, CLIENT6, SERVER6, 40006, hc.RC_SUCCESS,
              datagrams=3),
        query("v4 VLAN 100", "88.100.1/abc", 0x1007, CLIENT4, SERVER4, 40007, hc.RC_SUCCESS, ABC,
              vlans=[100]),
        query("v6 VLAN 4094 pcp 5", "88.100.1/SN-0001", 0x1008, CLIENT6, SERVER6, 40008, hc.RC_SUCCESS,
              SN_0001, vlans=[0xA000 | 4094]),
        query("v4 QinQ 200/100", "88.100.1/abc", 0x100D, CLIENT4, SERVER4, 40013, hc.RC_SUCCESS, ABC,
              vlans=[(p.ETH_QINQ, 200), 100]),
        # Router Alert (RFC 2113) plus a NOP: the reply carries no options.
        query("v4 with options", "88.100.1/abc", 0x1009, CLIENT4, SERVER4, 40009, hc.RC_SUCCESS, ABC,
              options=b"\x94\x04\x00\x00\x01"),
        # RFC 768: a zero UDP checksum over IPv4 means "none" and is accepted.
        query("v4 zero UDP checksum", "88.100.1/abc", 0x100A, CLIENT4, SERVER4, 40010, hc.RC_SUCCESS, ABC,
              udp_checksum=0),
        query("v4 TTL 3, ID 77", "88.100.1/abc", 0x100B, CLIENT4, SERVER4, 40011, hc.RC_SUCCESS, ABC,
              ttl=3, ident=77, flags_offset=0),
    ]
    # An IPv6 query behind a Destination Options header (PadN): the reply has no extension header.
    req = hc.resolution_request("88.100.1/abc", request_id=0x100C)
    dopt = struct.pack(">BBBB4x", p.PROTO_UDP, 0, 1, 4)
    pkt = p.ipv6(CLIENT6, SERVER6, 60, dopt + p.udp(CLIENT6, SERVER6, 40012, PORT, req))
    out.append(Case("v6 destination options", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6, pkt),
                    "handle_request", reply="handle", request=req, rc=hc.RC_SUCCESS, handle="88.100.1/abc",
                    values=ABC, src=CLIENT6, dst=SERVER6, sport=40012, vlans=[], rid=0x100C))

    # Local services.
    out.append(Case("ARP for 192.0.2.1", p.arp_request(CLIENT_MAC, CLIENT4, SERVER4), "arp_request",
                    reply="arp"))
    out.append(Case("ARP for 192.0.2.1 on VLAN 100", p.arp_request(CLIENT_MAC, CLIENT4, SERVER4, vlans=[100]),
                    "arp_request", reply="arp", vlans=[100]))
    out.append(Case("NS for 2001:db8::1", p.neighbor_solicitation(CLIENT_MAC, CLIENT6, SERVER6),
                    "neighbor_solicitation", reply="na"))
    echo4 = p.ipv4(CLIENT4, SERVER4, p.PROTO_ICMP, p.icmp_echo(0x4242, 1, b"idpath ping v4 " * 3), ttl=50,
                   ident=4242)
    out.append(Case("ping v4", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4, echo4), "icmp_echo_request",
                    reply="echo4", ident=0x4242, seq=1, data=b"idpath ping v4 " * 3, ipv4_id=4242))
    echo6 = p.ipv6(CLIENT6, SERVER6, p.PROTO_ICMPV6,
                   p.icmpv6_echo(CLIENT6, SERVER6, 0x6666, 2, b"idpath ping v6 " * 3), hop_limit=50)
    out.append(Case("ping v6", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6, echo6), "icmpv6_echo_request",
                    reply="echo6", ident=0x6666, seq=2, data=b"idpath ping v6 " * 3))

    # Malformed: dropped and counted by reason.
    req = hc.resolution_request("88.100.1/abc", request_id=0x2001)
    bad_udp4 = p.udp_ip(CLIENT4, SERVER4, 41001, PORT, req)
    bad_udp4 = bad_udp4[:26] + bytes([bad_udp4[26] ^ 0xFF]) + bad_udp4[27:]
    out.append(Case("v4 bad UDP checksum", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4, bad_udp4),
                    "malformed", "bad_udp_checksum"))
    out.append(Case("v6 bad UDP checksum", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6,
                                                      p.udp_ip(CLIENT6, SERVER6, 41002, PORT, req,
                                                               udp_checksum=0x1234)),
                    "malformed", "bad_udp_checksum"))
    out.append(Case("v6 zero UDP checksum", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6,
                                                       p.udp_ip(CLIENT6, SERVER6, 41003, PORT, req,
                                                                udp_checksum=0)),
                    "malformed", "zero_udp_checksum_ipv6"))
    full = p.udp_ip(CLIENT4, SERVER4, 41004, PORT, req)
    out.append(Case("v4 truncated IP header", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4, full[:12], pad=False),
                    "malformed", "truncated_ip"))
    out.append(Case("v4 cut short of its total length",
                    p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4, full[:len(full) - 30]),
                    "malformed", "bad_ip_total_length"))
    out.append(Case("v4 bad header checksum",
                    p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                               p.udp_ip(CLIENT4, SERVER4, 41005, PORT, req, checksum=0xBEEF)),
                    "malformed", "bad_ipv4_checksum"))
    # Fragments: never reassembled, dropped.
    whole = p.udp(CLIENT4, SERVER4, 41006, PORT, req)
    out.append(Case("v4 first fragment", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                    p.ipv4(CLIENT4, SERVER4, p.PROTO_UDP, whole[:32],
                                                           ident=9, flags_offset=p.IPV4_MF)),
                    "fragment"))
    out.append(Case("v4 last fragment", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                   p.ipv4(CLIENT4, SERVER4, p.PROTO_UDP, whole[32:],
                                                          ident=9, flags_offset=4)),
                    "fragment"))
    whole6 = p.udp(CLIENT6, SERVER6, 41007, PORT, req)
    out.append(Case("v6 fragment", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6,
                                              p.ipv6(CLIENT6, SERVER6, p.PROTO_FRAGMENT,
                                                     p.fragment_header(p.PROTO_UDP, 0, True, 7) + whole6[:48])),
                    "fragment"))
    # Well-formed, not ours.
    out.append(query("v4 other address", "88.100.1/abc", 0x3001, CLIENT4, "192.0.2.77", 42001,
                     verdict="not_for_us", reply=None))
    out.append(query("v6 other address", "88.100.1/abc", 0x3002, CLIENT6, "2001:db8::99", 42002,
                     verdict="not_for_us", reply=None))
    out.append(Case("v4 UDP to port 53", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                    p.udp_ip(CLIENT4, SERVER4, 42003, 53, b"\0" * 12)),
                    "not_for_us"))
    out.append(Case("v6 UDP to port 2642", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV6,
                                                      p.udp_ip(CLIENT6, SERVER6, 42004, 2642, req)),
                    "not_for_us"))
    out.append(query("v4 query to the broadcast MAC", "88.100.1/abc", 0x3003, CLIENT4, SERVER4, 42005,
                     verdict="not_for_us", reply=None, dst_mac=b"\xff" * 6))
    out.append(Case("ARP for another address", p.arp_request(CLIENT_MAC, CLIENT4, "192.0.2.99"), "not_for_us"))
    syn = struct.pack(">HHIIBBHHH", 42006, PORT, 1, 0, 0x50, 0x02, 65535, 0, 0)
    out.append(Case("v4 TCP SYN", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                             p.ipv4(CLIENT4, SERVER4, p.PROTO_TCP, syn)), "other"))
    # A datagram to the service port that is no Handle message: classified, then left silent.
    out.append(Case("v4 garbage to 2641", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                     p.udp_ip(CLIENT4, SERVER4, 42007, PORT, b"GET / HTTP/1.0\r\n")),
                    "handle_request", silent=True))
    out.append(Case("v4 source port 0", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                   p.udp_ip(CLIENT4, SERVER4, 0, PORT, req)),
                    "malformed", "bad_source_address"))
    out.append(Case("v4 source 127.0.0.1", p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                                                      p.udp_ip("127.0.0.1", SERVER4, 42008, PORT, req)),
                    "malformed", "bad_source_address"))
    # A request of two datagrams (RFC 3652 section 2.3.1, TC set): the worker reassembles it and
    # answers once, after the second. 80 type filters that match nothing: RC_VALUES_NOT_FOUND.
    big = hc.resolution_request("88.100.1/abc", types=[f"T{i:03}" for i in range(80)], request_id=0x100E)
    msg = big[20:]
    assert HANDLE_CHUNK < len(msg) <= 2 * HANDLE_CHUNK
    for k in range(2):
        env = struct.pack(">BBBBIIII", big[0], big[1], 0x20 | big[2], big[3], 0, 0x100E, k, len(msg))
        frame = p.ethernet(SERVER_MAC, CLIENT_MAC, p.ETH_IPV4,
                           p.udp_ip(CLIENT4, SERVER4, 40014, PORT, env + msg[k * HANDLE_CHUNK:(k + 1) * HANDLE_CHUNK]))
        if k == 0:
            out.append(Case("v4 two-datagram request, part 0", frame, "handle_request", partial=True))
        else:
            out.append(Case("v4 two-datagram request, part 1", frame, "handle_request", reply="handle",
                            request=big, rc=hc.RC_VALUES_NOT_FOUND, handle="88.100.1/abc", src=CLIENT4,
                            dst=SERVER4, sport=40014, vlans=[], rid=0x100E))
    return out


# --- expected replies, built from the RFCs ------------------------------------------------------

def expected_handle_frames(case, message, actual):
    """The datagrams of the answer to `case`, the Handle message being `message` (from the TCP
    listener). ExpirationTime and the IPv4 ID are taken from `actual` (the frames the worker
    sent, in sequence order) and every checksum is recomputed over them."""
    n = max(1, -(-len(message) // HANDLE_CHUNK))
    m = case.meta
    out = []
    for k in range(n):
        env = struct.pack(">BBBBIIII", case.request[0], case.request[1], (0x20 if n > 1 else 0) | 2, 11,
                          0, m["rid"], k, len(message))
        chunk = bytearray(message[k * HANDLE_CHUNK:(k + 1) * HANDLE_CHUNK])
        got = actual[k] if k < len(actual) else None
        if k == 0 and got is not None and len(got.payload) >= 44:
            chunk[16:20] = got.payload[36:40]  # ExpirationTime: "now + 12 h" on each path
        kw = dict(ident=got.ipv4_id if got is not None and got.family == 4 else 0) \
            if p.ip(m["src"]).version == 4 else {}
        pkt = p.udp_ip(m["dst"], m["src"], PORT, m["sport"], env + bytes(chunk), **kw)
        eth = p.ETH_IPV4 if p.ip(m["src"]).version == 4 else p.ETH_IPV6
        out.append(p.ethernet(CLIENT_MAC, SERVER_MAC, eth, pkt, m["vlans"]))
    return out


def expected_local_frame(case, port_mac):
    m = case.meta
    vlans = m.get("vlans", [])
    if case.reply == "arp":
        return p.ethernet(CLIENT_MAC, port_mac, p.ETH_ARP, p.arp(2, port_mac, SERVER4, CLIENT_MAC, CLIENT4), vlans)
    if case.reply == "na":
        body = struct.pack(">I", 0x60000000) + p.ip(SERVER6).packed + b"\x02\x01" + port_mac
        return p.ethernet(CLIENT_MAC, port_mac, p.ETH_IPV6,
                          p.ipv6(SERVER6, CLIENT6, p.PROTO_ICMPV6, p.icmpv6(SERVER6, CLIENT6, 136, 0, body),
                                 hop_limit=255))
    if case.reply == "echo4":
        return p.ethernet(CLIENT_MAC, SERVER_MAC, p.ETH_IPV4,
                          p.ipv4(SERVER4, CLIENT4, p.PROTO_ICMP, p.icmp_echo(m["ident"], m["seq"], m["data"], 0),
                                 ident=m["ipv4_id"]))
    return p.ethernet(CLIENT_MAC, SERVER_MAC, p.ETH_IPV6,
                      p.ipv6(SERVER6, CLIENT6, p.PROTO_ICMPV6,
                             p.icmpv6_echo(SERVER6, CLIENT6, m["ident"], m["seq"], m["data"], 129)))


def reply_key(f):
    """What ties a reply frame to its request."""
    if f.arp:
        return ("arp", f.arp["op"], str(f.arp["spa"]), tuple(v[1] for v in f.vlans))
    if f.proto == p.PROTO_UDP:
        return ("handle", f.dport, struct.unpack(">I", f.payload[8:12])[0], struct.unpack(">I", f.payload[12:16])[0])
    if f.proto in (p.PROTO_ICMP, p.PROTO_ICMPV6):
        return ("icmp", f.family, f.icmp_type)
    return ("other", f.ethertype, f.proto)


def case_keys(case):
    m = case.meta
    if case.reply == "handle":
        return [("handle", m["sport"], m["rid"], k) for k in range(case.datagrams)]
    if case.reply == "arp":
        return [("arp", 2, SERVER4, tuple(m.get("vlans", [])))]
    return [{"na": ("icmp", 6, 136), "echo4": ("icmp", 4, 0), "echo6": ("icmp", 6, 129)}[case.reply]]


# --- running the daemon -------------------------------------------------------------------------

def stats(d):
    r = subprocess.run([CTL, "-s", d.socket, "stats"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"idpathctl stats: {r.returncode} {r.stderr}")
    out = r.stdout[3:] if r.stdout.startswith("ok\n") else r.stdout
    return json.loads(out)


def queues(st):
    return [q for lc in st["dataplane"]["lcores"] for q in lc["queues"]]


def merged(qs, key):
    total = collections.Counter()
    for q in qs:
        for k, v in q.get(key, {}).items():
            total[k] += v
    return {k: v for k, v in total.items() if v}


def settled(d, want, deadline):
    """Stats once the worker has received all `want` frames and its counters have stopped
    moving (the last burst's replies are counted after its frames); None at the deadline."""
    last = None
    while time.monotonic() < deadline:
        st = stats(d)
        now = [(q["rx"], q["tx"], q["dropped"]) for q in queues(st)]
        if sum(q[0] for q in now) >= want and now == last:
            return st
        last = now
        time.sleep(0.1)
    return None


def run(ctx):
    tmp = ctx["tmp"]
    deadline = time.monotonic() + BUDGET
    in_pcap, out_pcap = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    p.write_pcap(in_pcap, [c.frame for c in ctx["cases"]])
    ctx["out_pcap"], ctx["in_pcap"] = out_pcap, in_pcap
    d = Daemon(udp=(), tcp=("127.0.0.1:0",), dataplane={
        "mode": "dpdk",
        "lcores": "0-1",
        "hugepages": False,
        "memory_mb": 256,
        "file_prefix": f"idpath-pcap-{os.getpid()}",
        "devices": [f"net_pcap0,rx_pcap={in_pcap},tx_pcap={out_pcap}"],
        "ipv4": [SERVER4],
        "ipv6": [SERVER6],
        "neighbors": "answer",
    })
    ctx["daemon"] = d
    d.start(timeout=15.0)
    st = settled(d, len(ctx["cases"]), min(deadline, time.monotonic() + READY_TIMEOUT))
    ctx["stats"] = st or stats(d)
    ctx["rx_seen"] = sum(q["rx"] for q in queues(ctx["stats"]))
    ctx["status"] = d.ctl_json("status")
    # The same requests over the kernel TCP listener: the Handle messages the UDP answers must
    # carry.
    port = int(ctx["status"]["listen"]["tcp"][0].rsplit(":", 1)[1])
    ctx["tcp"] = {}
    for c in ctx["cases"]:
        if c.reply == "handle":
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the test's {BUDGET:.0f} s budget ran out before the TCP references")
            ctx["tcp"][c.meta["rid"]] = tcp_exchange("127.0.0.1", port, c.request, timeout=min(2.0, left))
    ctx["exit"] = d.stop(timeout=8.0)
    ctx["out"] = [p.Frame(f) for f in p.read_pcap(out_pcap)]


def setup():
    ctx = {"tmp": tempfile.mkdtemp(prefix="idpath-pcap-"), "cases": cases(), "error": None}
    try:
        run(ctx)
    except Exception:  # every point then fails with this, and teardown still cleans up
        d = ctx.get("daemon")
        log = ""
        if d is not None and d.proc is not None:
            try:
                log = d.read_log()
            except OSError:
                pass
        tb = traceback.format_exc()
        ctx["error"] = tb if log in tb else tb + "\ndaemon log:\n" + log
    return ctx


def teardown(ctx):
    d = ctx.get("daemon")
    try:
        if d is not None:
            d.stop()  # a no-op but for its temp dir when run() already stopped it
        keep = os.environ.get("IDPATH_PCAP_KEEP")  # a directory to keep in.pcap and out.pcap in
        if keep:
            os.makedirs(keep, exist_ok=True)
            for name in ("in.pcap", "out.pcap"):
                if os.path.exists(os.path.join(ctx["tmp"], name)):
                    shutil.copy(os.path.join(ctx["tmp"], name), keep)
    finally:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)


def ready(ctx):
    assert ctx["error"] is None, ctx["error"]
    return ctx


def replies_by_key(ctx):
    got = collections.defaultdict(list)
    for f in ctx["out"]:
        got[reply_key(f)].append(f)
    return got


def port_mac(ctx):
    macs = {f.src_mac for f in ctx["out"] if f.arp or (f.proto == p.PROTO_ICMPV6 and f.icmp_type == 136)}
    assert len(macs) == 1, f"ARP and NA replies disagree on the port's MAC: {[m.hex(':') for m in macs]}"
    mac = macs.pop()
    assert not mac[0] & 1 and mac != b"\0" * 6, f"port MAC {mac.hex(':')} is no unicast address"
    return mac


# --- the test points ----------------------------------------------------------------------------

def test_01_daemon_received_everything_and_exited_cleanly(ctx):
    ready(ctx)
    assert ctx["rx_seen"] == len(ctx["cases"]), \
        f"the worker received {ctx['rx_seen']} of {len(ctx['cases'])} frames within {READY_TIMEOUT} s"
    assert ctx["exit"] == 0, f"idpathd exit status {ctx['exit']} after SIGTERM"


def test_02_exactly_the_expected_replies(ctx):
    ready(ctx)
    want = collections.Counter(k for c in ctx["cases"] if c.reply for k in case_keys(c))
    got = collections.Counter(reply_key(f) for f in ctx["out"])
    assert got == want, f"missing {dict(want - got)}, unexpected {dict(got - want)}"
    n = sum(c.datagrams if c.reply == "handle" else 1 for c in ctx["cases"] if c.reply)
    assert len(ctx["out"]) == n


def test_03_handle_replies_golden(ctx):
    """Every UDP answer equals, octet for octet, the frames built here: MACs, VLAN tags, IP
    addresses and ports swapped, TTL 64, DF, no options or extension headers, lengths and
    checksums, the envelope (RequestId echoed, SequenceNumber, TC on multi-datagram answers) and
    the message the kernel TCP path gives for the same request. Masked: ExpirationTime (its own
    clock read on each path) and the IPv4 ID (any value is right for an atomic datagram)."""
    ready(ctx)
    got = replies_by_key(ctx)
    for c in ctx["cases"]:
        if c.reply != "handle":
            continue
        frames = [got[k][0] for k in case_keys(c) if got.get(k)]
        assert len(frames) == c.datagrams, (c.name, len(frames))
        tcp = ctx["tcp"][c.meta["rid"]]
        want = expected_handle_frames(c, tcp[20:], frames)
        for k, (w, f) in enumerate(zip(want, frames)):
            if w != f.raw:
                diff = [i for i in range(max(len(w), len(f.raw))) if w[i:i + 1] != f.raw[i:i + 1]]
                raise AssertionError(f"{c.name} datagram {k}: {len(f.raw)} octets, expected {len(w)}; "
                                     f"first differing offsets {diff[:16]}\n got  {f.raw.hex()}\n want {w.hex()}")


def test_04_handle_replies_decode(ctx):
    """Independently of the golden frames: decode each answer with handle_codec (reassembling the
    multi-datagram ones) and check RC, handle, values and the envelope."""
    ready(ctx)
    got = replies_by_key(ctx)
    now = time.time()
    for c in ctx["cases"]:
        if c.reply != "handle":
            continue
        frames = [got[k][0] for k in case_keys(c)]
        for f in frames:
            assert f.ip_ok is not False and f.l4_ok, (c.name, "checksum")
            assert (str(f.src), str(f.dst), f.sport, f.dport) == \
                (str(p.ip(c.meta["dst"])), str(p.ip(c.meta["src"])), PORT, c.meta["sport"]), c.name
            assert (f.dst_mac, f.src_mac) == (CLIENT_MAC, SERVER_MAC), c.name
            assert f.vlans == p.vlan_tags(c.meta["vlans"]), (c.name, f.vlans)
            assert f.ttl == 64 and f.ip_header_length == (20 if f.family == 4 else 40), c.name
            assert len(f.payload) <= 512, (c.name, len(f.payload))
            env = hc.parse_envelope(f.payload)
            assert env["request_id"] == c.meta["rid"] and env["suggested"] == (2, 11), (c.name, env)
        dgrams = [f.payload for f in frames]
        m = hc.parse_message(hc.reassemble(dgrams) if len(dgrams) > 1 else dgrams[0][20:])
        assert m["rc"] == c.rc, (c.name, m["rc"])
        assert m["credential_length"] == 0 and m["trailing"] == 0, c.name
        assert now < m["expiration"] < now + 2 * 86400, (c.name, m["expiration"])
        if c.rc == hc.RC_SUCCESS:
            assert m["handle"] == c.handle and m["leftover"] == 0, c.name
            if c.values is not None:
                got_values = [(v["index"], v["type"], v["data"]) for v in m["values"] if v["type"] != "HS_ADMIN"]
                assert got_values == c.values, (c.name, got_values)
            else:
                assert len(m["values"]) > 2 and sum(len(v["data"]) for v in m["values"]) > HANDLE_CHUNK, c.name


def test_05_arp_na_echo_replies_golden(ctx):
    ready(ctx)
    mac = port_mac(ctx)
    got = replies_by_key(ctx)
    for c in ctx["cases"]:
        if c.reply in ("arp", "na", "echo4", "echo6"):
            (f,) = got[case_keys(c)[0]]
            want = expected_local_frame(c, mac)
            if c.reply == "echo4":
                assert f.ttl == 64, f.ttl
            assert f.raw == want, f"{c.name}:\n got  {f.raw.hex()}\n want {want.hex()}"
    devices = ctx["status"]["dataplane"]["devices"]
    assert [p.mac(dev["mac"]) for dev in devices] == [mac] == [SERVER_MAC], (devices, mac.hex(":"))


def test_06_counters_match_the_input(ctx):
    ready(ctx)
    st = ctx["stats"]
    qs = queues(st)
    cs = ctx["cases"]
    replies = sum(c.datagrams if c.reply == "handle" else 1 for c in cs if c.reply)
    assert sum(q["rx"] for q in qs) == len(cs)
    assert sum(q["tx"] for q in qs) == replies, sum(q["tx"] for q in qs)
    assert sum(q["dropped"] for q in qs) == sum(1 for c in cs if not c.reply), sum(q["dropped"] for q in qs)
    assert merged(qs, "verdicts") == dict(collections.Counter(c.verdict for c in cs)), merged(qs, "verdicts")
    assert merged(qs, "malformed") == dict(collections.Counter(c.reason for c in cs if c.reason)), \
        merged(qs, "malformed")
    answers = collections.Counter()
    responses = collections.Counter()
    for q in qs:
        a = q["answers"]
        for k in ("requests", "answers", "datagrams_out"):
            answers[k] += a.get(k, 0)
        responses.update(a.get("responses", {}))
    for key in ("tx_dropped", "oversize", "alloc_failed", "too_many_datagrams"):
        assert sum(q[key] for q in qs) == 0, (key, [q[key] for q in qs])
    silent = [c for c in cs if c.meta.get("silent")]
    partial = [c for c in cs if c.meta.get("partial")]  # held for reassembly: no answer yet
    assert sum(q["unanswered"] for q in qs) == len(silent) + len(partial), [q["unanswered"] for q in qs]
    assert sum(sum(q["answers"].get("silenced", {}).values()) for q in qs) == len(silent)
    handled = [c for c in cs if c.reply == "handle"]
    assert answers["requests"] == sum(1 for c in cs if c.verdict == "handle_request") - len(partial), answers
    assert answers["answers"] == len(handled), answers
    assert answers["datagrams_out"] == sum(c.datagrams for c in handled), answers
    names = {hc.RC_SUCCESS: "RC_SUCCESS", hc.RC_HANDLE_NOT_FOUND: "RC_HANDLE_NOT_FOUND",
             hc.RC_SERVER_NOT_RESP: "RC_SERVER_NOT_RESP", hc.RC_VALUES_NOT_FOUND: "RC_VALUES_NOT_FOUND"}
    assert dict(responses) == dict(collections.Counter(names[c.rc] for c in handled)), dict(responses)
    for port in st["dataplane"].get("ports", []):
        assert port["ipackets"] == len(cs), port
        assert port["opackets"] == replies, port


def tshark(path, *fields):
    exe = shutil.which("tshark")
    assert exe, "tshark is not installed (scripts/setup installs it); this test needs it"
    cmd = [exe, "-r", path, "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return [dict(zip(fields, line.split("|"))) for line in r.stdout.splitlines()]


# tshark's checksum status (epan/proto.h, proto_checksum_vals): 0 bad, 1 good, 2 unverified,
# 3 not present, 4 illegal.
GOOD, BAD = "1", "0"
FIELDS = ("frame.number", "frame.protocols", "ip.checksum.status", "udp.checksum.status",
          "icmp.checksum.status", "icmpv6.checksum.status", "ip.len", "ipv6.plen", "udp.length",
          "udp.payload", "arp.opcode")


def test_07_tshark_verifies_every_reply(ctx):
    """tshark decodes every reply; every IP, UDP, ICMP and ICMPv6 checksum it checks is good and
    the UDP length, the IP length and the payload it shows agree."""
    ready(ctx)
    rows = tshark(ctx["out_pcap"], *FIELDS)
    assert len(rows) == len(ctx["out"]), (len(rows), len(ctx["out"]))
    kinds = collections.Counter()
    for row, f in zip(rows, ctx["out"]):
        protos = row["frame.protocols"].split(":")
        n = row["frame.number"]
        if "arp" in protos:
            assert row["arp.opcode"] == "2", row
            kinds["arp"] += 1
            continue
        if "ip" in protos:
            assert row["ip.checksum.status"] == GOOD, (n, row)
        if "udp" in protos:
            assert row["udp.checksum.status"] == GOOD, (n, row)
            udp_len = int(row["udp.length"])
            payload = bytes.fromhex(row["udp.payload"].replace(":", ""))
            assert udp_len == 8 + len(payload) == 8 + len(f.payload), (n, udp_len, len(payload))
            if "ip" in protos:
                assert int(row["ip.len"]) == 20 + udp_len, (n, row["ip.len"], udp_len)
            else:
                assert int(row["ipv6.plen"]) == udp_len, (n, row["ipv6.plen"], udp_len)
            assert payload == f.payload, n
            kinds["udp"] += 1
        elif "icmpv6" in protos:
            assert row["icmpv6.checksum.status"] == GOOD, (n, row)
            kinds["icmpv6"] += 1
        elif "icmp" in protos:
            assert row["icmp.checksum.status"] == GOOD, (n, row)
            kinds["icmp"] += 1
        else:
            raise AssertionError(f"reply {n} is neither ARP, UDP, ICMP nor ICMPv6: {row}")
    cs = ctx["cases"]
    assert kinds["udp"] == sum(c.datagrams for c in cs if c.reply == "handle"), kinds
    assert kinds["arp"] == sum(1 for c in cs if c.reply == "arp"), kinds
    assert kinds["icmp"] == 1 and kinds["icmpv6"] == 2, kinds


def test_08_tshark_sees_the_bad_checksums_in_the_input(ctx):
    """The same tshark check on the input pcap flags the frames built with bad checksums, so a
    "good" above is tshark's verdict and not a check that cannot fail."""
    ready(ctx)
    rows = tshark(ctx["in_pcap"], *FIELDS)
    assert len(rows) == len(ctx["cases"])
    for row, c in zip(rows, ctx["cases"]):
        if c.reason == "bad_ipv4_checksum":
            assert row["ip.checksum.status"] == BAD, (c.name, row)
        elif c.reason == "bad_udp_checksum":
            assert row["udp.checksum.status"] == BAD, (c.name, row)
        elif c.reply == "handle":
            assert row["udp.checksum.status"] in (GOOD, "3"), (c.name, row)  # 3: zero over IPv4


if __name__ == "__main__":
    main(globals(), setup, teardown)
