#!/usr/bin/env python3
"""The real idpathd with the sample data on loopback (IPv4 and IPv6, UDP and TCP): the reference
vectors of a HANDLE.NET 9.2 client byte for byte, every answer kind, the UDP size policy,
malformed input, idpath-dig and idpathctl against the same daemon."""
import json
import os
import socket
import struct
import time

import handle_codec as hc
from harness import main
from idpath_env import SOURCE, Daemon, dig, tcp_exchange, udp_exchange

V4, V6 = "127.0.0.1", "::1"


def vector(name):
    with open(os.path.join(SOURCE, "tests", "data", "vectors", name), encoding="ascii") as f:
        return bytes.fromhex(f.read().strip())


def udp(d, payload, host=V4, **kw):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return udp_exchange(host, d.ports("udp", fam), payload, **kw)


def tcp(d, payload, host=V4):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return tcp_exchange(host, d.ports("tcp", fam), payload)


def one(d, payload, host=V4):
    """A single-datagram UDP reply: its envelope and parsed message."""
    got = udp(d, payload, host)
    assert len(got) == 1, f"expected one datagram, got {len(got)}"
    assert len(got[0]) <= 512
    return hc.parse_envelope(got[0]), hc.parse_message(got[0][20:])


def answer(d, payload, host=V4):
    """A UDP reply of any number of datagrams, reassembled and parsed."""
    got = udp(d, payload, host)
    assert got, "no reply"
    return hc.parse_message(hc.reassemble(got) if len(got) > 1 else got[0][20:])


def check_reply_envelope(env, req, datagram_len=None):
    assert env["request_id"] == hc.parse_envelope(req)["request_id"], "RequestId not echoed"
    assert (env["major"], env["minor"]) == (req[0], req[1]), "version not echoed"
    assert env["suggested"] == (2, 11)


def setup():
    return Daemon().start()


def teardown(d):
    rc = d.stop()
    assert rc == 0, f"idpathd exit status {rc} after SIGTERM"


# --- the reference vectors, byte for byte -----------------------------------------------------

def test_vector_unfiltered_ipv4(d):
    req = vector("resolution-request-88.100.1-abc.hex")
    env, m = one(d, req)
    check_reply_envelope(env, req)
    assert m["rc"] == hc.RC_SUCCESS and m["opcode"] == hc.OC_RESOLUTION
    assert m["handle"] == "88.100.1/abc"  # echoed as requested
    assert [v["index"] for v in m["values"]] == [1, 2, 3, 100]
    assert m["values"][0]["type"] == "URL" and m["values"][0]["data"] == b"https://example.org/a"
    assert m["leftover"] == 0 and m["credential_length"] == 0 and m["trailing"] == 0
    assert m["expiration"] > time.time(), "ExpirationTime must be in the future"
    assert m["flags"] & hc.FLAG_AT, "a primary site sets AT"
    assert m["flags"] & (hc.FLAG_REC | hc.FLAG_CA | hc.FLAG_PO) == hc.FLAG_REC | hc.FLAG_CA | hc.FLAG_PO
    assert m["site_serial"] == 7


def test_vector_filtered_index_or_type(d):
    req = vector("resolution-request-88.100.1-abc-filtered.hex")
    env, m = one(d, req)
    check_reply_envelope(env, req)
    assert m["rc"] == hc.RC_SUCCESS
    # indexes {1, 100} OR types {URL, HS_ADMIN}
    assert [(v["index"], v["type"]) for v in m["values"]] == [(1, "URL"), (100, "HS_ADMIN")]


def test_vector_same_answer_on_every_transport(d):
    req = vector("resolution-request-88.100.1-abc.hex")
    answers = set()
    for host in (V4, V6):
        answers.add(udp(d, req, host)[0][20:])
        answers.add(tcp(d, req, host)[20:])
    # every octet equal but ExpirationTime (header octets 16-19), which is "now + 12 h"
    assert len({a[:16] + a[20:] for a in answers}) == 1


def test_idpath_dig_prints_what_the_wire_says(d):
    req = vector("resolution-request-88.100.1-abc.hex")
    _, m = one(d, req)
    for args in (["@127.0.0.1"], ["@::1"], ["@127.0.0.1", "--tcp"], ["@::1", "--tcp"]):
        host = args[0][1:]
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        port = d.ports("tcp" if "--tcp" in args else "udp", fam)
        r = dig(*args, "-p", str(port), "--json", "88.100.1/abc")
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        got = [(v["index"], v["type"], bytes.fromhex(v["data_hex"])) for v in j["values"]]
        assert got == [(v["index"], v["type"], v["data"]) for v in m["values"]], (args, got)


def test_idpath_dig_human_output_and_exit_status(d):
    port = str(d.ports("udp", socket.AF_INET))
    r = dig("@127.0.0.1", "-p", port, "88.100.1/abc")
    assert r.returncode == 0 and "https://example.org/a" in r.stdout and "RC_SUCCESS" in r.stdout, r.stdout
    r = dig("@127.0.0.1", "-p", port, "88.100.1/no-such-thing")
    assert r.returncode == 1 and "RC_HANDLE_NOT_FOUND" in r.stdout, (r.returncode, r.stdout)
    r = dig("@127.0.0.1", "-p", "1", "--timeout", "200", "--tries", "1", "88.100.1/abc")
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    r = dig("--no-such-option")
    assert r.returncode == 2


# --- answer kinds -------------------------------------------------------------------------------

def test_case_insensitive_lookup(d):
    _, m = one(d, hc.resolution_request("88.100.1/ABC"))
    assert m["rc"] == hc.RC_SUCCESS and m["handle"] == "88.100.1/ABC"


def test_not_found_and_not_homed(d):
    _, m = one(d, hc.resolution_request("88.100.1/definitely-absent"))
    assert m["rc"] == hc.RC_HANDLE_NOT_FOUND and m["message"] == ""
    _, m = one(d, hc.resolution_request("88.300.9/anything"))
    assert m["rc"] == hc.RC_SERVER_NOT_RESP


def test_filter_matching_nothing_is_200(d):
    _, m = one(d, hc.resolution_request("88.100.1/abc", indexes=[77], types=["NOPE"]))
    assert m["rc"] == hc.RC_VALUES_NOT_FOUND


def test_type_family_filter(d):
    # "url." is the family URL, URL.*; a bare stem is no wildcard.
    _, m = one(d, hc.resolution_request("88.100.1/abc", types=["url."]))
    assert m["rc"] == hc.RC_SUCCESS and [v["type"] for v in m["values"]] == ["URL"]
    _, m = one(d, hc.resolution_request("88.100.1/abc", types=["HS_"]))
    assert m["rc"] == hc.RC_VALUES_NOT_FOUND


def test_public_only_and_restricted_values(d):
    _, m = one(d, hc.resolution_request("88.100.1/private-1"))
    assert m["rc"] == hc.RC_SUCCESS and [v["index"] for v in m["values"]] == [1]
    _, m = one(d, hc.resolution_request("88.100.1/private-1", flags=hc.FLAG_REC | hc.FLAG_CA))
    assert m["rc"] == hc.RC_INSUFFICIENT_PERMISSIONS
    _, m = one(d, hc.resolution_request("88.100.1/private-1", indexes=[2]))
    assert m["rc"] == hc.RC_VALUES_NOT_FOUND


def test_prefix_handles_and_referral(d):
    for h in ("0.NA/88.100.1", "88.100.1", "0.na/88.100.1"):
        m = answer(d, hc.resolution_request(h))
        assert m["rc"] == hc.RC_SUCCESS, h
        assert "HS_SITE" in [v["type"] for v in m["values"]], h
    _, m = one(d, hc.resolution_request("0.NA/88.999.5"))
    assert m["rc"] == hc.RC_PREFIX_REFERRAL and m["handle"] == ""
    assert [v["type"] for v in m["values"]] == ["HS_SITE.PREFIX"]
    _, m = one(d, hc.resolution_request("0.NA/88.999.5", flags=hc.DEFAULT_FLAGS | hc.FLAG_DNRF))
    assert m["rc"] == hc.RC_SERVER_NOT_RESP


def test_request_digest(d):
    req = hc.resolution_request("88.100.1/abc", flags=hc.DEFAULT_FLAGS | hc.FLAG_RD)
    _, m = one(d, req)
    assert m["rc"] == hc.RC_SUCCESS and m["flags"] & hc.FLAG_RD
    assert m["digest"] == (3, hc.request_digest(req))
    assert m["handle"] == "88.100.1/abc"


def test_get_site_info(d):
    _, m = one(d, hc.request(hc.string(b"88.100.1/abc"), opcode=hc.OC_GET_SITE_INFO))
    assert m["rc"] == hc.RC_SUCCESS
    site = m["site"]
    assert struct.unpack(">HBBH", site[:6]) == (1, 2, 11, 7)
    assert site[6] & 0x80, "primary"


def test_unsupported_opcode(d):
    _, m = one(d, hc.request(hc.string(b"88.100.1/abc"), opcode=100))
    assert m["rc"] == hc.RC_NOT_SUPPORTED and m["opcode"] == 100


# --- multi-datagram answers and the UDP size policy -------------------------------------------

def test_multi_datagram_answer(d):
    req = hc.resolution_request("88.200.7/big-manual")
    got = udp(d, req)
    assert len(got) >= 2, f"big-manual should need several datagrams, got {len(got)}"
    envs = [hc.parse_envelope(g) for g in got]
    assert sorted(e["sequence"] for e in envs) == list(range(len(got)))
    assert all(len(g) <= 512 for g in got)
    assert len({e["length"] for e in envs}) == 1, "every datagram carries the total MessageLength"
    assert all(e["request_id"] == 0x12345678 for e in envs)
    message = hc.reassemble(got)
    m = hc.parse_message(message)
    assert m["rc"] == hc.RC_SUCCESS and m["leftover"] == 0
    t = hc.parse_message(tcp(d, req)[20:])
    assert [v["data"] for v in m["values"]] == [v["data"] for v in t["values"]]


def test_answer_over_udp_cap_says_use_tcp(d):
    req = hc.resolution_request("88.200.7/huge-bom")
    env, m = one(d, req)
    assert m["rc"] == hc.RC_ERROR and "TCP" in m["message"]
    reply = tcp(d, req)
    t = hc.parse_message(reply[20:])
    assert t["rc"] == hc.RC_SUCCESS and len(reply) - 20 > 8 * 492 and t["leftover"] == 0


def test_multi_datagram_request(d):
    # A request whose type list pushes it past 492 octets arrives in two datagrams.
    types = [f"TYPE-{i:03d}-PADDING-PADDING" for i in range(20)] + ["URL"]
    req = hc.resolution_request("88.100.1/abc", types=types, request_id=0x0BADCAFE)
    message = req[20:]
    assert len(message) > 492
    env = bytearray(req[:20])
    env[2] |= 0x20  # TC
    fam_port = d.ports("udp", socket.AF_INET)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for k in (1, 0):  # out of order on purpose
            e = bytearray(env)
            e[12:16] = k.to_bytes(4, "big")
            s.sendto(bytes(e) + message[k * 492:(k + 1) * 492], (V4, fam_port))
        reply, _ = s.recvfrom(4096)
    m = hc.parse_message(reply[20:])
    assert m["rc"] == hc.RC_SUCCESS and [v["type"] for v in m["values"]] == ["URL"]


# --- malformed input ----------------------------------------------------------------------------

def test_truncated_request_gets_protocol_error(d):
    req = vector("resolution-request-88.100.1-abc.hex")
    env, m = one(d, req[:-6])
    assert m["rc"] == hc.RC_PROTOCOL_ERROR and m["opcode"] == 0
    assert env["request_id"] == 0x12345678


def test_bad_body_gets_protocol_error(d):
    body = struct.pack(">I", 0xFFFFFFF0) + b"88.100.1/abc"
    _, m = one(d, hc.request(body))
    assert m["rc"] == hc.RC_PROTOCOL_ERROR and m["opcode"] == hc.OC_RESOLUTION


def test_opcode_zero_gets_protocol_error(d):
    _, m = one(d, hc.request(hc.resolution_body("88.100.1/abc"), opcode=0))
    assert m["rc"] == hc.RC_PROTOCOL_ERROR


def test_garbage_and_responses_get_silence(d):
    assert udp(d, b"\x00" * 7, timeout=0.5) == []
    assert udp(d, b"\x09\x09" + b"\x00" * 60, timeout=0.5) == []  # major version 9
    reflected = hc.resolution_request("88.100.1/abc", response_code=1)
    assert udp(d, reflected, timeout=0.5) == []


def test_server_survives_everything_above(d):
    _, m = one(d, hc.resolution_request("88.100.1/SN-0001"))
    assert m["rc"] == hc.RC_SUCCESS


# --- the admin side -----------------------------------------------------------------------------

def test_idpathctl_status_lookup_stats(d):
    st = d.ctl_json("status")
    assert st["node"]["id"] == "it-node" and st["table"]["handles"] >= 10000
    assert st["table"]["homed_prefixes"] == ["88.100.1", "88.200.7"]
    t = st["table"]
    # The table's memory: every encoded value plus the index, reported per identifier.
    assert t["memory_bytes"] > t["value_bytes"] > 0 and t["shards"] >= 1
    assert t["bytes_per_identifier"] == t["memory_bytes"] // t["handles"]
    assert 0 < t["overhead_bytes_per_identifier"] < t["bytes_per_identifier"]
    # Sockets mode: the table is in ordinary memory.
    assert t["memory"] == "anonymous" and t["memory_kinds"]["anonymous"] >= t["memory_bytes"], t
    # stats carries the same table figures (the "bytes per identifier").
    ts = d.ctl_json("stats")["table"]
    for k in ("handles", "memory_bytes", "value_bytes", "bytes_per_identifier",
              "overhead_bytes_per_identifier", "shards", "memory"):
        assert ts[k] == t[k], (k, ts, t)
    look = d.ctl_json("lookup", "88.100.1/abc")
    assert [v["index"] for v in look["values"]] == [1, 2, 3, 100]
    before = d.ctl_json("stats")["total"].get("requests", 0)
    for _ in range(5):
        one(d, hc.resolution_request("88.100.1/SN-0002"))
    after = d.ctl_json("stats")["total"]
    assert after["requests"] - before == 5, (before, after)
    assert after["responses"]["RC_SUCCESS"] >= 5
    r = d.ctl("lookup", "88.100.1/absent")
    assert r.returncode == 1
    r = d.ctl("frobnicate")
    assert r.returncode == 1 and "unknown command" in r.stderr


def test_idpathctl_timeout_option(d):
    r = d.ctl("--timeout", "30", "ping")
    assert r.returncode == 0 and r.stdout == "pong\n", (r.stdout, r.stderr)
    r = d.ctl("status", "-t", "0.5")
    assert r.returncode == 0 and json.loads(r.stdout)["node"]["id"] == "it-node", r.stderr
    for bad in ("0", "-1", "soon", "1e9"):
        r = d.ctl("-t", bad, "ping")
        assert r.returncode == 2 and "seconds" in r.stderr, (bad, r.stderr)
    r = d.ctl("ping", "--timeout")
    assert r.returncode == 2, r.stderr


if __name__ == "__main__":
    main(globals(), setup, teardown)
