#!/usr/bin/env python3
"""The recursive role under load (docs/PERFORMANCE.md, "The recursive role"): an authoritative
idpathd loaded with N identifiers from idpath-datagen, and a recursive idpathd in front of it whose
table carries the prefix route (0.NA/88.100.1 -> the authoritative node), as a carrier preloads
it. Prints, for each recursion.threads value given:
- cold misses: every identifier asked once (no repeats, so each is a miss that travels punt ->
  resolver thread -> upstream -> reply -> cache insert), by a client keeping W queries in flight
  over several UDP sockets: resolutions/s, latency percentiles, losses;
- hits: idpath-gun against the recursive node over the same identifiers, now in its table, beside
  idpath-gun against the authoritative node itself: answers/s and their ratio.
--mode sockets runs both daemons on loopback with kernel sockets; --mode dpdk runs the recursive
node's data plane on DPDK (net_af_packet on one end of a veth pair in a namespace this script
creates; clients in a second namespace), the authoritative node on the server namespace's
loopback. Bounded: loopback or the script's own namespaces, N given, every run timed, every process
stopped and every namespace deleted at the end.

usage: perf/system/recursion.py [--build build-rel] [--mode sockets|dpdk] [--count 100000]
                                [--threads 2,8] [--window 256] [--gun-seconds 5]
       (--client: internal, the cold-miss client; run inside the client namespace in dpdk mode)"""
import argparse
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

SRV, CLI = "idprp-srv", "idprp-cli"
SRV_IF, CLI_IF = "idprp0", "idprp1"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"
CLI4, CLI6 = "192.0.2.2", "2001:db8:1::2"
LOOP = "127.0.0.1"


def cold_client(server, port, handles_file, window, sockets, timeout_s):
    """Asks every handle of the file once, W in flight over `sockets` UDP sockets; prints JSON."""
    from handle_codec import resolution_request
    with open(handles_file, encoding="utf-8") as f:
        handles = [line.strip() for line in f if line.strip()]
    socks = []
    for _ in range(sockets):
        s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.connect((server, port))
        s.setblocking(False)
        socks.append(s)
    sent_at = {}          # request id -> send time
    latencies = []
    codes = {}
    nxt = 0
    start = time.monotonic()
    deadline_idle = start + timeout_s
    poller = select.epoll()
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.EPOLLIN)
    by_fd = {s.fileno(): s for s in socks}
    lost = 0
    while nxt < len(handles) or sent_at:
        while nxt < len(handles) and len(sent_at) < window:
            rid = nxt + 1
            socks[nxt % sockets].send(resolution_request(handles[nxt], request_id=rid))
            sent_at[rid] = time.monotonic()
            nxt += 1
        now = time.monotonic()
        if now > deadline_idle:
            # Nothing answered for timeout_s: what is still in flight is lost.
            lost += len(sent_at)
            sent_at.clear()
            break
        for fd, _ in poller.poll(0.05):
            s = by_fd[fd]
            while True:
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    break
                if len(d) < 28:
                    continue
                rid, seq = struct.unpack_from(">II", d, 8)  # envelope: request id, sequence number
                if seq != 0 or rid not in sent_at:
                    continue  # a later datagram of a multi-datagram answer, or a late one
                code = struct.unpack_from(">I", d, 24)[0]
                codes[code] = codes.get(code, 0) + 1
                latencies.append(time.monotonic() - sent_at.pop(rid))
                deadline_idle = time.monotonic() + timeout_s
    elapsed = time.monotonic() - start
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3 if latencies else 0.0
    print(json.dumps({"asked": len(handles), "answered": len(latencies), "lost": lost,
                      "codes": {str(k): v for k, v in sorted(codes.items())}, "seconds": elapsed,
                      "per_second": len(latencies) / elapsed if elapsed else 0.0,
                      "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0)}))


def split_handles(data, handles, out):
    """Writes out/{bulk,single,cacheable}.txt: the identifiers in two disjoint sets for the
    loaded and the one-at-a-time cold runs (each asked once, so each is a miss), and those whose
    every value may be cached for a minute or more (idpath-datagen gives some values TTL 0 or
    300 s, as real data has): the pure-hit run's set."""
    with open(handles, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    single = names[-min(1000, len(names) // 10):]
    bulk = names[:len(names) - len(single)]
    cacheable = []
    with open(data, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            ttls = [v.get("ttl") for v in r["values"]]
            if all(t is None or (60 <= t < 100_000_000 and v.get("ttl_type", "relative") == "relative")
                   for t, v in zip(ttls, r["values"])):
                cacheable.append(r["handle"])
    paths = {}
    for name, items in (("bulk", bulk), ("single", single), ("cacheable", cacheable)):
        paths[name] = os.path.join(out, name + ".txt")
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write("\n".join(items) + "\n")
    return paths, len(bulk), len(single), len(cacheable)


def run(cmd, netns=None, timeout=None):
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run(prefix + cmd, check=True, capture_output=True, text=True, timeout=timeout).stdout


def gun(build, server, handles, seconds, netns=None):
    out = run([os.path.join(build, "perf/gun/idpath-gun"), "--handles", handles, "--duration", str(seconds),
               "--sockets", "4", "--window", "64", "--json", server], netns=netns, timeout=seconds + 60)
    return json.loads(out.strip().splitlines()[-1])


def answers_per_second(report):
    assert report.get("type") == "summary", report
    return report["qps"]


def recursive_yaml(route_root, threads, count, dpdk):
    """The recursive node's sections (route_root None: the dataplane section only)."""
    yaml = ""
    if dpdk:
        yaml += f"""dataplane:
  mode: dpdk
  lcores: "0-1"
  hugepages: false
  memory_mb: 1024
  file_prefix: idprp
  devices: [{json.dumps(f"net_af_packet0,iface={SRV_IF}")}]
"""
    if route_root is None:
        return yaml
    # The root is never asked (the route is preloaded); it only has to be valid.
    return yaml + f"""recursion:
  roots: [{json.dumps(route_root)}]
  threads: {threads}
  udp_timeout_ms: 1000
  udp_tries: 2
  cache_entries: {max(count * 2, 1024)}
  ring_entries: 16384
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--mode", choices=("sockets", "dpdk"), default="sockets")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--threads", default="2,8")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--gun-seconds", type=int, default=5)
    ap.add_argument("--client", nargs=3, metavar=("SERVER", "PORT", "HANDLES"))
    args = ap.parse_args()
    if args.client:
        cold_client(args.client[0], int(args.client[1]), args.client[2], args.window,
                    min(8, args.window), 5.0)
        return
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["IDPATH_BUILD_ROOT"] = build
    os.environ["IDPATH_SOURCE_ROOT"] = ROOT
    from idpath_env import Daemon, delete_namespaces, veth_pair  # noqa: E402 (needs the environment)
    from hierarchy import record, site  # noqa: E402

    dpdk = args.mode == "dpdk"
    ns = SRV if dpdk else None
    cli_ns = CLI if dpdk else None
    root = tempfile.mkdtemp(prefix="idpath-perf-recursion-")
    daemons = []
    try:
        if dpdk:
            delete_namespaces(SRV, CLI)
            veth_pair(SRV, SRV_IF, (SRV4, SRV6), CLI, CLI_IF, (CLI4, CLI6))
            # net_af_packet hands the kernel's unchecksummed frames to the workers as they are.
            run(["ethtool", "-K", CLI_IF, "tx", "off"], netns=CLI)
        p = lambda name: os.path.join(root, name)
        data, handles = p("ids.jsonl"), p("handles.txt")
        run([os.path.join(build, "perf/datagen/idpath-datagen"), "--count", str(args.count), "--prefix",
             "88.100.1", "--out", data, "--handles-out", handles], timeout=600)
        auth = Daemon(udp=(LOOP + ":0",), tcp=(LOOP + ":0",), netns=ns, data=data, homed=("88.100.1",))
        auth.start(timeout=600)
        daemons.append(auth)
        auth_udp, auth_tcp = auth.ports("udp", socket.AF_INET), auth.ports("tcp", socket.AF_INET)
        routes = p("routes.jsonl")
        with open(routes, "w", encoding="utf-8") as f:
            f.write(record("0.NA/88.100.1", site(1, "HS_SITE", [(1, auth_udp, auth_tcp)])) + "\n")
        sets, n_bulk, n_single, n_cacheable = split_handles(data, handles, root)
        print(f"# mode {args.mode}, {args.count} identifiers ({n_bulk} loaded cold, {n_single} one at a time, "
              f"{n_cacheable} cacheable for the hit run), window {args.window}, gun {args.gun_seconds} s; "
              f"build {args.build}")
        if not dpdk:
            a = gun(build, f"{LOOP}:{auth_udp}", sets["cacheable"], args.gun_seconds)
            print(f"authoritative hits (reference): {answers_per_second(a):,.0f} answers/s")
            # The cold-miss client's own ceiling: the same client and window against the
            # authoritative node, where every question is answered from its table.
            out = run([sys.executable, os.path.abspath(__file__), "--window", str(args.window), "--client",
                       LOOP, str(auth_udp), sets["bulk"]], timeout=3600)
            c = json.loads(out.strip().splitlines()[-1])
            print(f"cold-miss client's ceiling (the same client against the authoritative node): "
                  f"{c['per_second']:,.0f} answers/s")
        for threads in [int(t) for t in args.threads.split(",")]:
            r = Daemon(udp=() if dpdk else (LOOP + ":0",), tcp=(LOOP + ":0",), netns=ns, data=routes,
                       homed=(), role="recursive",
                       extra=recursive_yaml(f"{LOOP}:1", threads, args.count, dpdk))
            r.start(timeout=60)
            daemons.append(r)
            server, port = (SRV4, 2641) if dpdk else (LOOP, r.ports("udp", socket.AF_INET))
            def cold(handles_file, window):
                out = run([sys.executable, os.path.abspath(__file__), "--window", str(window), "--client",
                           server, str(port), handles_file], netns=cli_ns, timeout=3600)
                return json.loads(out.strip().splitlines()[-1])

            c = cold(sets["bulk"], args.window)
            rec = r.ctl_json("stats")["recursion"]
            print(f"threads {threads}: cold misses, {args.window} in flight: {c['per_second']:,.0f} resolutions/s "
                  f"({c['answered']} of {c['asked']} answered in {c['seconds']:.2f} s, lost {c['lost']}, "
                  f"codes {c['codes']}); latency p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms; "
                  f"punted {rec['punted']}, punt_dropped {rec['punt_dropped']}, "
                  f"upstream questions {rec['engine']['upstream_udp'] + rec['engine']['upstream_tcp']}")
            c1 = cold(sets["single"], 1)
            print(f"threads {threads}: cold misses one at a time: latency p50 {c1['p50_ms']:.3f} ms, "
                  f"p90 {c1['p90_ms']:.3f} ms, p99 {c1['p99_ms']:.3f} ms ({c1['answered']} of {c1['asked']})")
            time.sleep(0.5)  # the resolver's inserts reach the table in batches
            before = r.ctl_json("stats")["recursion"]["punted"]
            h = gun(build, f"{SRV4 if dpdk else LOOP}:{port}", sets["cacheable"], args.gun_seconds, netns=cli_ns)
            mid = r.ctl_json("stats")["recursion"]["punted"]
            m = gun(build, f"{SRV4 if dpdk else LOOP}:{port}", handles, args.gun_seconds, netns=cli_ns)
            after = r.ctl_json("stats")["recursion"]["punted"]
            print(f"threads {threads}: hits {answers_per_second(h):,.0f} answers/s (cacheable identifiers; "
                  f"{mid - before} punted meanwhile); every identifier (TTL 0 ones resolved each time): "
                  f"{answers_per_second(m):,.0f} answers/s, {after - mid} punted")
            rc = r.stop(timeout=30)
            daemons.remove(r)
            assert rc == 0, rc
        if dpdk:
            # The reference on the same path: an authoritative idpathd on the same DPDK port,
            # holding the identifiers itself, asked from the client namespace the same way.
            ref = Daemon(udp=(), tcp=(LOOP + ":0",), netns=ns, data=data, homed=("88.100.1",),
                         extra=recursive_yaml(None, 0, 0, True))
            ref.start(timeout=600)
            daemons.append(ref)
            a = gun(build, f"{SRV4}:2641", sets["cacheable"], args.gun_seconds, netns=cli_ns)
            print(f"authoritative hits on the same DPDK port (reference): {answers_per_second(a):,.0f} answers/s")
    finally:
        for d in daemons:
            d.stop(timeout=30)
        if dpdk:
            delete_namespaces(SRV, CLI)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
