#!/usr/bin/env python3
"""Two hosts on a veth pair, each in a network namespace this test creates: idpathd on one,
clients on the other, IPv4 and IPv6, UDP and TCP, the reference vectors replayed from the client
side. Needs root and network namespaces; skips (saying why) only where they are missing."""
import json
import os
import subprocess

import handle_codec as hc
from harness import main
from idpath_env import SOURCE, Daemon, dig, replay_vector, require_namespaces, stop_then_delete, veth_pair

SRV, CLI = "idpit-srv", "idpit-cli"
SRV4, SRV6 = "192.0.2.1", "2001:db8:1::1"


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def teardown(d):
    stop_then_delete(d, SRV, CLI)


def setup():
    require_namespaces("idpit-probe")
    teardown(None)
    veth_pair(SRV, "idpit0", (SRV4, SRV6), CLI, "idpit1", ("192.0.2.2", "2001:db8:1::2"))
    return Daemon(udp=("0.0.0.0:2641", "[::]:2641"), tcp=("0.0.0.0:2641", "[::]:2641"), netns=SRV).start()


def test_vectors_over_udp_and_tcp_ipv4_ipv6(d):
    v = os.path.join(SOURCE, "tests", "data", "vectors", "resolution-request-88.100.1-abc.hex")
    answers = [replay_vector(t, h, v, CLI) for t in ("udp", "tcp") for h in (SRV4, SRV6)]
    for a in answers:
        assert a["rc"] == hc.RC_SUCCESS and a["rid"] == 0x12345678
        assert [x[0] for x in a["values"]] == [1, 2, 3, 100]
    assert all(a == answers[0] for a in answers)


def test_dig_from_the_other_host(d):
    for server in (SRV4, SRV6):
        for extra in ([], ["--tcp"]):
            r = dig("@" + server, *extra, "--json", "88.100.1/SN-0001", netns=CLI)
            assert r.returncode == 0, (server, extra, r.stderr)
            j = json.loads(r.stdout)
            assert j["handle"] == "88.100.1/SN-0001" and len(j["values"]) >= 4


def test_multi_datagram_across_the_veth(d):
    r = dig("@" + SRV6, "--json", "88.200.7/big-manual", netns=CLI)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["datagrams"] >= 2


if __name__ == "__main__":
    main(globals(), setup, teardown)
