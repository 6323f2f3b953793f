#!/usr/bin/env python3
"""idpathd owning a whole port (net_tap standing in for a PCI NIC), with the exception path: the
NIC tap's kernel side is moved into a client namespace and is the wire; the workers answer UDP
queries, ARP, NDP and pings themselves, and hand everything else (TCP 2641 to the daemon's
kernel listener) to the kernel through a second tap, the exception interface. Needs root."""
import json
import os
import subprocess
import time

from harness import Skip, main
import handle_codec as hc
from idpath_env import SOURCE, Daemon, dig, replay_vector, stop_then_delete

SRV, CLI = "idptap-srv", "idptap-cli"
NIC, EXC = "idptap0", "idptx0"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"
CLI4, CLI6 = "192.0.2.2", "2001:db8:1::2"


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, (cmd, r.stderr)
    return r.stdout


def in_cli(*cmd, timeout=20):
    return subprocess.run(["ip", "netns", "exec", CLI, *cmd], capture_output=True, text=True,
                          timeout=timeout)


# The daemon runs with hugepages when this test can reserve them (the table then lives in DPDK's
# heap), with --no-huge otherwise; the count is given back in teardown.
NR_HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
FREE_HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
WANT_PAGES = 256  # memory_mb 256 (128 pages) and the sample table with room to reload
reserved = {"original": None, "hugepages": False}


def read_pages(path):
    try:
        with open(path) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def reserve_hugepages():
    original, free = read_pages(NR_HUGEPAGES), read_pages(FREE_HUGEPAGES)
    if original is None or free is None:
        return False
    if free < WANT_PAGES:
        reserved["original"] = original
        try:
            with open(NR_HUGEPAGES, "w") as f:
                f.write(str(original + WANT_PAGES - free))
        except OSError:
            return False
    return (read_pages(FREE_HUGEPAGES) or 0) >= WANT_PAGES


def release_hugepages():
    if reserved["original"] is not None:
        with open(NR_HUGEPAGES, "w") as f:
            f.write(str(reserved["original"]))
        reserved["original"] = None


def teardown(d):
    try:
        stop_then_delete(d, SRV, CLI)
    finally:
        release_hugepages()


def setup():
    if os.geteuid() != 0:
        raise Skip("needs root for network namespaces and tap devices")
    if not os.path.exists("/dev/net/tun"):
        raise Skip("this kernel has no /dev/net/tun (net_tap needs it)")
    teardown(None)
    sh("ip", "netns", "add", SRV)
    sh("ip", "netns", "add", CLI)
    sh("ip", "-n", SRV, "link", "set", "lo", "up")
    sh("ip", "-n", CLI, "link", "set", "lo", "up")
    reserved["hugepages"] = reserve_hugepages()
    d = Daemon(udp=(), tcp=("0.0.0.0:2641", "[::]:2641"), netns=SRV, dataplane={
        "mode": "dpdk", "lcores": "0-1", "hugepages": reserved["hugepages"], "memory_mb": 256,
        "file_prefix": "idptap", "devices": [f"net_tap0,iface={NIC}"],
        "ipv4": [SRV4], "ipv6": [SRV6], "neighbors": "answer", "other_traffic": "exception",
        "exception_prefix": "idptx", "idle_sleep_us": 50,
    })
    try:
        d.start()
        # The NIC's far side becomes the client host; the exception tap gets the node's
        # addresses, as an operator's interface hook would.
        sh("ip", "-n", SRV, "link", "set", NIC, "netns", CLI)
        sh("ip", "-n", CLI, "addr", "add", CLI4 + "/24", "dev", NIC)
        sh("ip", "-n", CLI, "addr", "add", CLI6 + "/64", "dev", NIC, "nodad")
        sh("ip", "-n", CLI, "link", "set", NIC, "up")
        sh("ip", "-n", SRV, "addr", "add", SRV4 + "/24", "dev", EXC)
        sh("ip", "-n", SRV, "addr", "add", SRV6 + "/64", "dev", EXC, "nodad")
        sh("ip", "-n", SRV, "link", "set", EXC, "up")
    except Exception:
        teardown(d)
        raise
    return d


def lcore_queue(d):
    stats = d.ctl_json("stats")
    return stats["dataplane"]["lcores"][0]["queues"][0], stats


def test_status_names_the_exception_interface(d):
    st = d.ctl_json("status")["dataplane"]
    assert st["mode"] == "dpdk"
    nic = [x for x in st["devices"] if x["device"] == "net_tap0"][0]
    assert nic["exception_interface"] == EXC and nic["answers_arp_ndp_ping"] is True
    exc = [x for x in st["devices"] if x.get("exception_for") == "net_tap0"]
    assert len(exc) == 1 and exc[0]["mac"] == nic["mac"]
    # idpathctl workers: one row for the worker's queue on the NIC, both taps in the port table.
    table = d.ctl("workers").stdout
    rows = [line.split() for line in table.splitlines()]
    assert ["1", "net_tap0"] == rows[1][:2], table
    assert any(r and r[0] == exc[0]["device"] for r in rows), table


def test_status_says_where_the_table_lives(d):
    t = d.ctl_json("status")["table"]
    if reserved["hugepages"]:
        assert t["memory"] == "dpdk-hugepages", t
        assert t["memory_kinds"]["dpdk-hugepages"] >= t["memory_bytes"] > 0, t
        assert t["memory_fallbacks"] == 0, t
        assert "--in-memory" in d.ctl_json("status")["dataplane"]["eal_arguments"]
    else:
        assert t["memory"] == "anonymous", t
        assert "--no-huge" in d.ctl_json("status")["dataplane"]["eal_arguments"]
    assert d.ctl_json("stats")["table"]["memory"] == t["memory"]


def test_udp_answers_come_from_the_workers(d):
    for server in (SRV4, SRV6):
        r = dig("@" + server, "--json", "88.100.1/SN-0001", netns=CLI)
        assert r.returncode == 0, (server, r.stdout, r.stderr, d.read_log())
        assert json.loads(r.stdout)["handle"] == "88.100.1/SN-0001"
    r = dig("@" + SRV6, "--json", "88.200.7/big-manual", netns=CLI)
    assert r.returncode == 0 and json.loads(r.stdout)["datagrams"] >= 2, r.stderr
    q, stats = lcore_queue(d)
    assert q["answers"]["responses"].get("RC_SUCCESS", 0) >= 3, q
    assert stats["threads"] == [] or all(t["transport"] != "udp" for t in stats["threads"])


def test_reference_vector_over_the_workers_and_the_exception_path(d):
    """The byte-exact request of an independent HANDLE.NET 9 client, over UDP (workers) and TCP
    (kernel, through the exception tap), IPv4 and IPv6: the same answer every way."""
    v = os.path.join(SOURCE, "tests", "data", "vectors", "resolution-request-88.100.1-abc.hex")
    answers = [replay_vector(t, h, v, CLI) for t in ("udp", "tcp") for h in (SRV4, SRV6)]
    for a in answers:
        assert a["rc"] == hc.RC_SUCCESS and a["rid"] == 0x12345678, a
        assert [x[0] for x in a["values"]] == [1, 2, 3, 100]
    assert all(a == answers[0] for a in answers)


def test_arp_ndp_and_ping_answered_by_the_workers(d):
    for addr in (SRV4, SRV6):
        r = in_cli("ping", "-c", "1", "-W", "2", addr)
        assert r.returncode == 0, (addr, r.stdout, r.stderr)
    neigh = in_cli("ip", "neigh", "show", "dev", NIC).stdout
    mac = [x for x in d.ctl_json("status")["dataplane"]["devices"] if x["device"] == "net_tap0"][0]["mac"]
    for addr in (SRV4, SRV6):
        assert any(line.startswith(addr + " ") and mac in line for line in neigh.splitlines()), neigh
    q, _ = lcore_queue(d)
    v = q["verdicts"]
    assert v.get("arp_request", 0) >= 1 and v.get("neighbor_solicitation", 0) >= 1, v
    assert v.get("icmp_echo_request", 0) >= 1 and v.get("icmpv6_echo_request", 0) >= 1, v


def test_tcp_goes_through_the_exception_path(d):
    for server in (SRV4, SRV6):
        r = dig("@" + server, "--tcp", "--json", "88.100.1/abc", netns=CLI)
        assert r.returncode == 0, (server, r.stderr, d.read_log())
        assert json.loads(r.stdout)["handle"] == "88.100.1/abc"
    q, stats = lcore_queue(d)
    assert q["exception_out"] > 0 and q["exception_in"] > 0, q
    tcp = [t for t in stats["threads"] if t["transport"] == "tcp"]
    assert sum(t["answers"] for t in tcp) >= 2, tcp


def test_y_reload_republishes_to_the_workers(d):
    """A reload hands the new table to the workers through RCU (Dataplane::publish waits for
    every worker's quiescent state): it must return, and the workers answer from it."""
    before = d.ctl_json("status")["table"]
    r = d.ctl("reload")
    assert r.returncode == 0 and "reloaded" in r.stdout, (r.stdout, r.stderr, d.read_log())
    after = d.ctl_json("status")["table"]
    assert after["generation"] == before["generation"] + 1
    # The new generation where the old one was; the old one's blocks are freed.
    assert after["memory"] == before["memory"], (before, after)
    assert after["memory_kinds"] == before["memory_kinds"], (before, after)
    q_before, _ = lcore_queue(d)
    for server in (SRV4, SRV6):
        r = dig("@" + server, "--json", "88.100.1/SN-0002", netns=CLI)
        assert r.returncode == 0, (server, r.stderr)
        assert json.loads(r.stdout)["handle"] == "88.100.1/SN-0002"
    q_after, _ = lcore_queue(d)
    assert q_after["answers"]["answers"] >= q_before["answers"]["answers"] + 2


def test_y_updates_reach_the_workers(d):
    """`idpathctl update` changes the table the workers read, in place: a created handle is
    answered by the workers, a deleted one is not found (and the grace period, rte_rcu_qsbr,
    returns)."""
    path = os.path.join(d.tmp.name, "updates.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"op": "create", "handle": "88.100.1/upd-1",
                            "values": [{"index": 1, "type": "URL", "data": "https://example.org/u1"}]}) + "\n")
        f.write(json.dumps({"op": "delete", "handle": "88.100.1/SN-0003"}) + "\n")
    r = d.ctl("update", path)
    assert r.returncode == 0 and "updated: 2 applied, 0 refused" in r.stdout, (r.stdout, r.stderr, d.read_log())
    for server in (SRV4, SRV6):
        r = dig("@" + server, "--json", "88.100.1/upd-1", netns=CLI)
        assert r.returncode == 0, (server, r.stdout, r.stderr)
        assert json.loads(r.stdout)["values"][0]["data"] == "https://example.org/u1", r.stdout
        r = dig("@" + server, "--json", "88.100.1/SN-0003", netns=CLI)
        assert r.returncode != 0 and "100" in (r.stdout + r.stderr), (r.stdout, r.stderr)


def test_z_sigterm_removes_the_taps(d):
    assert d.stop() == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        links = subprocess.run(["ip", "-n", SRV, "link"], capture_output=True, text=True).stdout
        links += subprocess.run(["ip", "-n", CLI, "link"], capture_output=True, text=True).stdout
        if EXC not in links and NIC not in links:
            return
        time.sleep(0.1)
    raise AssertionError("taps left behind:\n" + links)


if __name__ == "__main__":
    main(globals(), setup, teardown)
