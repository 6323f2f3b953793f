#!/usr/bin/env python3
"""idpath-gun's AF_XDP port (--xdp) across a veth pair, each end in a network namespace this
test creates: idpathd serves from kernel sockets in the server namespace, idpath-gun builds its
own Ethernet/IP/UDP frames on an AF_XDP socket in the client namespace. Checks that answers come
back over IPv4 and IPv6 (one- and multi-datagram), none wrong or malformed, latency reported, in
closed and open loop, over two queues whose answers cross between them; that a run given a server
of each family mixes IPv4 and IPv6 on the same queues, both answered, counted per family; that
the XDP program leaves with the generator, on SIGINT too; and that
bad arguments and missing privileges are refused with status 2. Needs root; skips (saying why)
where the kernel has no AF_XDP sockets or the generator was built without AF_XDP."""
import errno
import json
import os
import signal
import socket
import subprocess
import time

from harness import Skip, main
from idpath_env import BUILD, SAMPLE, Daemon, stop_then_delete, veth_pair

SRV, CLI = "gun5-srv", "gun5-cli"
SRV_IF, CLI_IF = "gun5v0", "gun5v1"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"
CLI4, CLI6 = "192.0.2.2", "2001:db8:1::2"
GUN = os.path.join(BUILD, "perf", "gun", "idpath-gun")


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20).stdout


def gun(*args, timeout=60, prefix=("ip", "netns", "exec", CLI), source=("--jsonl", SAMPLE)):
    return subprocess.run([*prefix, GUN, *source, *args], capture_output=True, text=True, timeout=timeout)


def records(out):
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [r for r in lines if r["type"] == "interval"], next(r for r in lines if r["type"] == "summary")


def xdp_attached():
    return "xdp" in sh("ip", "-n", CLI, "-d", "link", "show", CLI_IF).split("prog/")[0].split()


def check_summary(s, want_answers=1):
    assert s["transport"] == "udp/af_xdp", s
    assert s["answered"] >= want_answers, s
    for bad in ("wrong", "malformed", "rejected", "duplicate"):
        assert s[bad] == 0, (bad, s)
    assert s["sent"] == s["answered"] + s["lost"] + s["rejected"], s
    assert s["latency_us"]["p50"] > 0 and s["latency_us"]["max"] >= s["latency_us"]["p50"], s


def teardown(d):
    stop_then_delete(d, SRV, CLI)


def setup():
    if os.geteuid() != 0:
        raise Skip("needs root for network namespaces and AF_XDP")
    if not os.path.exists(GUN):
        raise Skip(f"{GUN} is not built")
    try:
        socket.socket(getattr(socket, "AF_XDP", 44), socket.SOCK_RAW).close()
    except OSError as e:
        if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            raise Skip("this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)")
    # An interface that does not exist: the probe must not attach anything to this host's own links.
    probe = subprocess.run([GUN, "--handle", "1/a", "--xdp", "gun5-nosuch", "127.0.0.1", "--duration", "0.1"],
                           capture_output=True, text=True, timeout=20)
    if "built without AF_XDP" in probe.stderr:
        raise Skip("idpath-gun was built without AF_XDP (clang, libbpf-dev, libxdp-dev)")
    if subprocess.run(["ip", "netns", "add", "gun5-probe"], capture_output=True).returncode != 0:
        raise Skip("this kernel does not allow network namespaces")
    subprocess.run(["ip", "netns", "del", "gun5-probe"], capture_output=True)
    teardown(None)
    # Two queues a side: the server's answers land on either client queue whichever queue sent the
    # query, so the generator's cross-queue hand-off is exercised in every test.
    veth_pair(SRV, SRV_IF, (SRV4, SRV6), CLI, CLI_IF, (CLI4, CLI6), queues=2)
    # The kernel-socket server would otherwise hand the veth its UDP checksums only partially
    # computed (offloaded to a NIC that does not exist); the generator verifies every answer's
    # checksum in software, as on a real wire.
    sh("ip", "netns", "exec", SRV, "ethtool", "-K", SRV_IF, "tx", "off")
    return Daemon(udp=("0.0.0.0:2641", "[::]:2641"), tcp=("0.0.0.0:2641", "[::]:2641"), netns=SRV).start()


def test_closed_loop_ipv4(d):
    # More than 2 s can send: the duration ends the run, so interval records always come out.
    r = gun("--xdp", CLI_IF, "--json", "--duration", "2", "--count", "2000000", "--interval", "0.5", SRV4)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert f"AF_XDP on {CLI_IF}: 2 queue(s)" in r.stderr, r.stderr
    intervals, s = records(r.stdout)
    assert intervals, r.stdout
    check_summary(s, want_answers=100)
    assert s["response_codes"].get("RC_SUCCESS", 0) > 0, s


def test_closed_loop_ipv6_multi_datagram(d):
    # 88.200.7/big-manual is answered in three datagrams: reassembled as in socket mode.
    r = gun("--xdp", CLI_IF, "--json", "--interval", "0", "--duration", "2", "--count", "3000",
            "--handle", "88.200.7/big-manual", "--src-ports", "30000-30999", f"[{SRV6}]")
    assert r.returncode == 0, (r.returncode, r.stderr)
    _, s = records(r.stdout)
    check_summary(s)
    assert s["multi_datagram_answers"] > 0, s


def test_open_loop_with_misses(d):
    r = gun("--xdp", CLI_IF, "--json", "--interval", "0", "--rate", "2000", "--duration", "1",
            "--miss-ratio", "0.2", "--dst-mac", sh("ip", "netns", "exec", SRV, "cat",
                                                    f"/sys/class/net/{SRV_IF}/address").strip(), SRV4)
    assert r.returncode == 0, (r.returncode, r.stderr)
    _, s = records(r.stdout)
    check_summary(s, want_answers=1000)
    assert s["response_codes"].get("RC_HANDLE_NOT_FOUND", 0) > 0, s
    assert s["sent"] <= 2100, s


def check_families(s):
    """A mixed run's per-family split: both families answered, each adding up, the sum the total."""
    fam = s["families"]
    for f in ("ipv4", "ipv6"):
        assert fam[f]["answered"] > 0, (f, s)
        assert fam[f]["sent"] == fam[f]["answered"] + fam[f]["lost"] + fam[f]["rejected"], (f, s)
    for k in ("sent", "answered", "lost", "rejected"):
        assert fam["ipv4"][k] + fam["ipv6"][k] == s[k], (k, s)
    # Half and half: each query's family is a hash of its RequestId.
    assert abs(fam["ipv4"]["sent"] - fam["ipv6"]["sent"]) <= max(0.1 * s["sent"], 20), s
    return fam


def test_mixed_ipv4_ipv6_closed_loop(d):
    # One server of each family, IPv6 first (either order works): both go over the same two queues.
    # The count is more than 2 s can send here (about 240 k/s), so the duration ends the run and
    # interval records come out however fast the path is.
    r = gun("--xdp", CLI_IF, "--json", "--duration", "2", "--count", "2000000", "--interval", "0.5",
            f"[{SRV6}]:2641", SRV4)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert f"AF_XDP on {CLI_IF}: 2 queue(s)" in r.stderr and "IPv4 and IPv6 mixed" in r.stderr, r.stderr
    assert f"{CLI4} -> {SRV4} via" in r.stderr and f"{CLI6} -> {SRV6} via" in r.stderr, r.stderr
    intervals, s = records(r.stdout)
    assert intervals and all("families" in i for i in intervals), r.stdout
    check_summary(s, want_answers=100)
    check_families(s)
    assert s["server"] == f"[{SRV6}]:2641 + {SRV4}:2641", s


def test_mixed_open_loop_sources_per_family_text(d):
    # --src-ip once per family, --dst-mac for both; the text summary has a line per family.
    mac = sh("ip", "netns", "exec", SRV, "cat", f"/sys/class/net/{SRV_IF}/address").strip()
    r = gun("--xdp", CLI_IF, "--interval", "0", "--rate", "2000", "--duration", "1", "--src-ip", CLI6,
            "--src-ip", CLI4, "--dst-mac", mac, SRV4, SRV6)
    assert r.returncode == 0, (r.returncode, r.stderr)
    lines = {line.split()[0]: line for line in r.stdout.splitlines() if line.startswith("  IPv")}
    assert set(lines) == {"IPv4", "IPv6"}, r.stdout
    for line in lines.values():
        words = line.replace(",", "").split()
        sent, answered = int(words[words.index("sent") + 1]), int(words[words.index("answered") + 1])
        assert sent > 500 and answered > 0.9 * sent, r.stdout
    assert "wrong 0, malformed 0" in r.stdout, r.stdout
    # JSON of the same run shape: the split adds up.
    r = gun("--xdp", CLI_IF, "--json", "--interval", "0", "--rate", "2000", "--duration", "1", "--src-ip", CLI6,
            "--src-ip", CLI4, "--dst-mac", mac, SRV4, SRV6)
    assert r.returncode == 0, (r.returncode, r.stderr)
    _, s = records(r.stdout)
    check_summary(s, want_answers=1000)
    check_families(s)


def test_one_family_has_no_split(d):
    r = gun("--xdp", CLI_IF, "--json", "--interval", "0", "--duration", "0.5", "--count", "1000", SRV4)
    assert r.returncode == 0, (r.returncode, r.stderr)
    _, s = records(r.stdout)
    check_summary(s)
    assert "families" not in s and "mixed" not in r.stderr, (s, r.stderr)


def test_count_below_queue_count(d):
    # One query on a two-queue interface: its answer may land on the queue that sends nothing,
    # which must still be read (and hand the answer over) until every query is settled.
    for seed in range(1, 5):
        r = gun("--xdp", CLI_IF, "--json", "--interval", "0", "--count", "1", "--seed", str(seed),
                "--duration", "2", SRV4)
        assert r.returncode == 0, (r.returncode, r.stderr)
        _, s = records(r.stdout)
        assert s["sent"] == 1 and s["answered"] == 1 and s["lost"] == 0, s


def test_program_leaves_on_sigint(d):
    p = subprocess.Popen(["ip", "netns", "exec", CLI, GUN, "--jsonl", SAMPLE, "--xdp", CLI_IF, "--json",
                          "--duration", "30", "--rate", "1000", SRV4],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not xdp_attached():
            assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.poll() is not None else ""
            time.sleep(0.05)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, (p.returncode, err)
    _, s = records(out)
    assert s["send_s"] < 10 and s["answered"] > 0, s
    assert not xdp_attached(), sh("ip", "-n", CLI, "-d", "link", "show", CLI_IF)


def test_zz_no_program_left_after_runs(d):
    assert not xdp_attached(), sh("ip", "-n", CLI, "-d", "link", "show", CLI_IF)


def test_bad_arguments_and_privileges(d):
    r = gun("--xdp", "gun5-nosuch", SRV4)
    assert r.returncode == 2 and "no such interface" in r.stderr, (r.returncode, r.stderr)
    r = gun("--xdp", CLI_IF, "--queues", "9", SRV4)
    assert r.returncode == 2 and "--queues" in r.stderr, (r.returncode, r.stderr)
    r = gun("--xdp", CLI_IF, "--src-ip", "2001:db8:1::2", SRV4)
    assert r.returncode == 2 and "--src-ip" in r.stderr, (r.returncode, r.stderr)
    r = gun("--xdp", CLI_IF, "--sockets", "2", SRV4)
    assert r.returncode == 2 and "--sockets" in r.stderr, (r.returncode, r.stderr)
    r = gun("--xdp", CLI_IF, SRV4, "192.0.2.9")
    assert r.returncode == 2 and "two SERVERs of one family" in r.stderr, (r.returncode, r.stderr)
    r = gun("--xdp", CLI_IF, "--src-ip", CLI4, "--src-ip", "192.0.2.3", SRV4, SRV6)
    assert r.returncode == 2 and "--src-ip: one range per address family" in r.stderr, (r.returncode, r.stderr)
    # --handle, not --jsonl: the identifier file may sit where nobody cannot read it (a fresh clone in a
    # mode-0700 mktemp directory), and that refusal would hide the one under test.
    r = gun("--xdp", CLI_IF, SRV4, source=("--handle", "88.100.1/SN-0001"),
            prefix=("ip", "netns", "exec", CLI, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    assert r.returncode == 2 and "needs root" in r.stderr, (r.returncode, r.stderr)
    assert not xdp_attached()


if __name__ == "__main__":
    main(globals(), setup, teardown)
