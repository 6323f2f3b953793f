#!/usr/bin/env python3
"""Probe mode end to end (docs/log-mirror.md "Probe mode"): a real idpathd in sockets mode with
mirror.probe on (and no log sink) answers idpath-dig over IPv4 and IPv6; after it stops, tshark
reads the pcapng files it wrote and finds every request and every response, with the real
addresses and ports, valid IP and UDP checksums, the Handle envelope as UDP payload (a response
carries its request's RequestId), inbound/outbound directions, and nothing for TCP. A second
daemon samples one request in three, exactly. In DPDK mode (net_pcap port, when built with
DPDK) the probe holds each request frame exactly as it came in and each reply frame exactly as
the port sent it, multi-datagram answers included."""
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import handle_codec as hc
import pcap_io as pio
from harness import Skip, main
from idpath_env import DIG, Daemon

TSHARK = "/usr/bin/tshark"
HANDLE = "88.100.1/SN-0001"
BIG = "88.200.7/big-manual"
FIELDS = ["frame.packet_flags_direction", "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst",
          "udp.dstport", "udp.payload", "udp.checksum.status", "ip.checksum.status", "frame.interface_id"]


def probe_daemon(probe_dir, sample):
    return Daemon(extra=f"""mirror:
  probe:
    directory: {probe_dir}
    sample: {sample}
""")


def dig(daemon, family, *args):
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    port = daemon.ports("tcp" if "--tcp" in args else "udp", family)
    r = subprocess.run([DIG, f"@{host}", "-p", str(port), *args], capture_output=True, text=True, timeout=10)
    assert ";; Received" in r.stdout, (r.returncode, r.stdout, r.stderr)
    return port


def packets(probe_dir):
    """Every packet of every probe file, as a dict of FIELDS."""
    files = sorted(glob.glob(os.path.join(probe_dir, "idpath-it_node-*.pcapng")))
    assert files, os.listdir(probe_dir)
    out = []
    for f in files:
        args = [TSHARK, "-r", f, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
                "-T", "fields", "-E", "separator=/t"]
        for x in FIELDS:
            args += ["-e", x]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        for line in r.stdout.splitlines():
            out.append(dict(zip(FIELDS, line.split("\t"))))
    return out


def setup():
    if not os.access(TSHARK, os.X_OK):
        raise Skip("tshark not installed")
    return tempfile.mkdtemp(prefix="idpath-probe-it-")


def teardown(root):
    if root:
        shutil.rmtree(root, ignore_errors=True)


def test_1_requests_and_responses_with_addresses_ports_and_payloads(root):
    probe_dir = os.path.join(root, "all")
    d = probe_daemon(probe_dir, 1).start()
    try:
        ports = {}
        for family in (socket.AF_INET, socket.AF_INET6):
            ports[family] = dig(d, family, HANDLE)
            dig(d, family, "88.100.1/no-such-thing")
            dig(d, family, "--tcp", HANDLE)  # not probed in sockets mode
        dig(d, socket.AF_INET, BIG)  # a three-datagram answer
        stats = d.ctl_json("mirror")
        assert "probe" in stats and "sinks" not in stats, stats
    finally:
        assert d.stop() == 0
    pk = packets(probe_dir)
    handle_hex = HANDLE.encode().hex()
    for family, src, key in ((socket.AF_INET, "127.0.0.1", "ip"), (socket.AF_INET6, "::1", "ipv6")):
        mine = [p for p in pk if p[key + ".src"] == src]
        reqs = [p for p in mine if p["frame.packet_flags_direction"] == "0x00000001"]
        resps = [p for p in mine if p["frame.packet_flags_direction"] == "0x00000002"]
        # Two UDP queries (a hit and a miss) per family, each answered by one datagram; over
        # IPv4 also BIG, answered by three.
        big = 1 if family == socket.AF_INET else 0
        assert len(reqs) == 2 + big and len(resps) == 2 + 3 * big, (family, mine)
        hit = [p for p in reqs if handle_hex in p["udp.payload"]]
        assert len(hit) == 1, reqs
        req = hit[0]
        assert req[key + ".dst"] == src and req["udp.dstport"] == str(ports[family]), req
        client_port = req["udp.srcport"]
        resp = [p for p in resps if p["udp.dstport"] == client_port]
        assert len(resp) == 1, resps
        resp = resp[0]
        assert resp["udp.srcport"] == str(ports[family]) and resp[key + ".dst"] == src, resp
        # The Handle envelope: the response carries the request's RequestId (octets 8-11).
        req_env, resp_env = bytes.fromhex(req["udp.payload"]), bytes.fromhex(resp["udp.payload"])
        assert len(req_env) > 20 and len(resp_env) > 20, (req, resp)
        assert resp_env[8:12] == req_env[8:12], (req_env[:20].hex(), resp_env[:20].hex())
        assert int.from_bytes(resp_env[16:20], "big") == len(resp_env) - 20, resp_env[:20].hex()
        if big:
            big_req = [p for p in reqs if BIG.encode().hex() in p["udp.payload"]]
            assert len(big_req) == 1, reqs
            parts = [bytes.fromhex(p["udp.payload"]) for p in resps if p["udp.dstport"] == big_req[0]["udp.srcport"]]
            assert len(parts) == 3, resps
            message = hc.reassemble(parts)
            assert BIG.encode() in message, message[:64]
        for p in mine:
            assert p["udp.checksum.status"] == "1", p  # Good
            assert p["frame.interface_id"] == "1", p  # the sockets' raw-IP interface
            if key == "ip":
                assert p["ip.checksum.status"] == "1", p
    assert len(pk) == 8 + 4, pk  # nothing else: no TCP
    s = stats["probe"]
    assert s["lost"] == 0 and s["sampled_out"] == 0 and s["write_errors"] == 0, s


def test_2_one_request_in_three(root):
    probe_dir = os.path.join(root, "sampled")
    d = probe_daemon(probe_dir, 3).start()
    try:
        for _ in range(10):
            dig(d, socket.AF_INET, HANDLE)
        stats = d.ctl_json("mirror")["probe"]
    finally:
        assert d.stop() == 0
    pk = packets(probe_dir)
    # One UDP serving thread per socket; the IPv4 one saw requests 0..9 and sampled 0, 3, 6, 9.
    reqs = [p for p in pk if p["frame.packet_flags_direction"] == "0x00000001"]
    resps = [p for p in pk if p["frame.packet_flags_direction"] == "0x00000002"]
    assert len(reqs) == 4 and len(resps) == 4, pk
    assert stats["sampled_out"] == 6 and stats["captured"] == 8 and stats["lost"] == 0, stats


def frames_by_direction(probe_dir):
    """(requests, responses): the raw frames of the probe files, in file order."""
    reqs, resps = [], []
    for f in sorted(glob.glob(os.path.join(probe_dir, "idpath-it_node-*.pcapng"))):
        r = subprocess.run([TSHARK, "-r", f, "-T", "json", "-x"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        for pkt in json.loads(r.stdout):
            layers = pkt["_source"]["layers"]
            frame = bytes.fromhex(layers["frame_raw"][0])
            assert layers["frame"]["frame.interface_id"] == "0", layers["frame"]  # Ethernet
            flags = layers["frame"].get("frame.packet_flags_tree", {})
            direction = flags.get("frame.packet_flags_direction") or layers["frame"].get("frame.packet_flags_direction")
            (reqs if direction == "0x00000001" else resps).append(frame)
    return reqs, resps


def test_3_dpdk_frames_as_received_and_as_sent(root):
    server4, server6 = "192.0.2.1", "2001:db8::1"
    server_mac, client_mac = pio.mac("02:70:63:61:70:00"), pio.mac("02:00:00:00:c0:01")
    frames = []
    for i, (handle, src, dst) in enumerate([("88.100.1/SN-0001", "198.51.100.7", server4),
                                            ("88.100.1/abc", "2001:db8:ffff::7", server6),
                                            ("88.200.7/big-manual", "198.51.100.7", server4)]):
        req = hc.resolution_request(handle, request_id=0x2000 + i)
        eth = pio.ETH_IPV4 if ":" not in src else pio.ETH_IPV6
        frames.append(pio.ethernet(server_mac, client_mac, eth, pio.udp_ip(src, dst, 41000 + i, 2641, req)))
    in_pcap, out_pcap = os.path.join(root, "in.pcap"), os.path.join(root, "out.pcap")
    probe_dir = os.path.join(root, "dpdk")
    pio.write_pcap(in_pcap, frames)
    d = Daemon(udp=(), tcp=("127.0.0.1:0",), extra=f"""mirror:
  probe:
    directory: {probe_dir}
""", dataplane={
        "mode": "dpdk", "lcores": "0-1", "hugepages": False, "memory_mb": 256,
        "file_prefix": f"idpath-probe-{os.getpid()}",
        "devices": [f"net_pcap0,rx_pcap={in_pcap},tx_pcap={out_pcap}"],
        "ipv4": [server4], "ipv6": [server6],
    })
    try:
        d.start(timeout=15.0)
    except RuntimeError as e:
        if "without DPDK" in str(e):
            raise Skip("idpathd built without DPDK")
        raise
    try:
        deadline = time.monotonic() + 10
        while d.ctl_json("mirror")["probe"]["captured"] < 3 + 5:
            assert time.monotonic() < deadline, d.ctl_json("mirror")
            time.sleep(0.1)
    finally:
        assert d.stop(timeout=8.0) == 0
    sent = pio.read_pcap(out_pcap)
    reqs, resps = frames_by_direction(probe_dir)
    assert len(sent) == 5, len(sent)  # 1 + 1 + the big answer's 3 datagrams
    # The reply is written over the request in its buffer: the probe must still hold the request.
    assert reqs == frames, [f.hex() for f in reqs]
    assert resps == sent, ([f.hex() for f in resps], [f.hex() for f in sent])


if __name__ == "__main__":
    main(globals(), setup, teardown)
