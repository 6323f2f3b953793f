#!/usr/bin/env python3
"""Writes configs/sample/identifiers.jsonl, the demo identifier set (docs/data-format.md).

Deterministic: a fixed seed and fixed timestamps, so the committed output only changes when this
script does. Standard library only. Run from anywhere:

    python3 configs/sample/generate.py            # rewrites identifiers.jsonl next to this file
    python3 configs/sample/generate.py -o FILE    # or writes FILE

Named identifiers that tests, docs and the README rely on:
  88.100.1/abc                 URL, EMAIL, manufacturer, HS_ADMIN (the reference vectors' handle)
  88.100.1/SN-0001..SN-5000    product serials
  88.200.7/big-manual          about 1.3 KB of values: a 3-datagram UDP answer
  88.200.7/huge-bom            about 6 KB: more datagrams than the default UDP cap (8), TCP only
  88.100.1/private-1           a public URL and a value without public read
  0.NA/88.100.1, 0.NA/88.200.7 prefix handles: HS_SITE, HS_SITE.6, HS_ADMIN, HS_VLIST, HS_PUBKEY
  0.NA/88                      HS_SITE.PREFIX at 198.51.100.1 (referrals for other 88.x prefixes)
"""

import argparse
import json
import math
import os
import random

SEED = 20240601
BASE_TIME = 1700000000  # 2023-11-14, every generated timestamp is at or after this
PREFIX_A = "88.100.1"
PREFIX_B = "88.200.7"
ADMIN_A = {"handle": "0.NA/" + PREFIX_A, "index": 200}  # permissions: all (the default)
ADMIN_B = {"handle": "0.NA/" + PREFIX_B, "index": 200}

rng = random.Random(SEED)


# ---- wire sizes (handle-protocol.md 1.8.4, 1.10), to check the datagram claims above ----------

def data_size(v):
    if "data" in v:
        return len(v["data"].encode("utf-8"))
    if "data_hex" in v:
        return len(v["data_hex"]) // 2
    if "admin" in v:
        return 2 + 4 + len(v["admin"]["handle"].encode()) + 4
    if "vlist" in v:
        return 4 + sum(8 + len(r["handle"].encode()) for r in v["vlist"])
    site = v["site"]
    size = 2 + 1 + 1 + 2 + 1 + 1 + 4 + 4 + 4
    size += sum(8 + len(k.encode()) + len(x.encode()) for k, x in site.get("attributes", {}).items())
    for s in site["servers"]:
        size += 4 + 16 + 4 + len(s.get("public_key_hex", "")) // 2 + 4 + 6 * len(s["interfaces"])
    return size


def value_size(v):
    refs = sum(8 + len(r["handle"].encode()) for r in v.get("refs", []))
    return 26 + len(v["type"].encode()) + data_size(v) + refs


def udp_datagrams(handle, values):
    # header + String handle + value count + values + credential length, 492 octets per datagram
    length = 24 + 4 + len(handle.encode()) + 4 + sum(value_size(v) for v in values) + 4
    return math.ceil(length / 492), length


# ---- building blocks ---------------------------------------------------------------------------

def ts():
    return BASE_TIME + rng.randrange(0, 30_000_000)


def hex_bytes(n):
    return "".join("%02x" % rng.randrange(256) for _ in range(n))


def text_of(n, words):
    out = []
    while len(" ".join(out)) < n:
        out.append(rng.choice(words))
    return " ".join(out)[:n]


WORDS = ("torque flange bearing housing spindle alloy tolerance coating anodized thread pitch "
         "gasket valve sensor firmware relay voltage current nominal rated ambient humidity "
         "vibration batch lot inspection certificate calibration drift offset gain").split()
MAKERS = ["Example Industrial Co., Ltd.", "Shenzhen Demo Precision Parts", "Chengdu Sample Motors",
          "四川示例智能制造有限公司", "重庆演示装备股份有限公司", "Jiangsu Placeholder Valves"]
MODELS = ["IM-200", "IM-250X", "SV-12", "SV-12B", "PX-9000", "RT-40", "数控-3", "HV-7"]


def site(address, desc, serial=1, primary=True, alt=None):
    s = {"serial": serial, "primary": primary, "multi_primary": False, "hash": "handle",
         "attributes": {"desc": desc},
         "servers": [{"id": 1, "address": address,
                      "interfaces": [{"type": "query", "protocol": "udp", "port": 2641},
                                     {"type": "admin+query", "protocol": "tcp", "port": 2641}]}]}
    if alt:
        s["attributes"]["alt_addr"] = alt
    return s


def rsa_pubkey_record():
    # CNRI Util.getBytesFromPublicKey layout: String "RSA_PUB_KEY", int2 0, String exponent,
    # String modulus, 4 zero octets (handle-protocol.md 1.10.1). A made-up 2048-bit modulus.
    def string(b):
        return "%08x" % len(b) + b.hex()
    modulus = bytes([0xc0 | rng.randrange(64)]) + bytes(rng.randrange(256) for _ in range(255))
    return string(b"RSA_PUB_KEY") + "0000" + string(b"\x01\x00\x01") + string(modulus) + "00000000"


def prefix_record(prefix, desc):
    return {"handle": "0.NA/" + prefix, "values": [
        {"index": 1, "type": "HS_SITE", "site": site("192.0.2.10", desc), "timestamp": BASE_TIME},
        {"index": 2, "type": "HS_SITE.6", "site": site("2001:db8::10", desc + " (IPv6)"),
         "timestamp": BASE_TIME},
        {"index": 100, "type": "HS_ADMIN",
         "admin": {"handle": "0.NA/" + prefix, "index": 200, "permissions": ["all"]},
         "timestamp": BASE_TIME},
        {"index": 200, "type": "HS_VLIST", "vlist": [{"handle": "0.NA/" + prefix, "index": 300}],
         "timestamp": BASE_TIME},
        {"index": 300, "type": "HS_PUBKEY", "data_hex": rsa_pubkey_record(), "timestamp": BASE_TIME},
    ]}


# ---- the named identifiers ---------------------------------------------------------------------

def named():
    recs = []
    recs.append({"handle": PREFIX_A + "/abc", "values": [
        {"index": 1, "type": "URL", "data": "https://example.org/a", "timestamp": BASE_TIME},
        {"index": 2, "type": "EMAIL", "data": "admin@example.org", "timestamp": BASE_TIME},
        {"index": 3, "type": "manufacturer", "data": "Example Industrial Co., Ltd.",
         "timestamp": BASE_TIME},
        {"index": 100, "type": "HS_ADMIN", "admin": dict(ADMIN_A, permissions=["all"]),
         "timestamp": BASE_TIME},
    ]})
    recs.append({"handle": PREFIX_A + "/private-1", "values": [
        {"index": 1, "type": "URL", "data": "https://example.org/private-1", "timestamp": BASE_TIME},
        {"index": 2, "type": "secret", "data": "supplier price list: internal only",
         "permissions": "rw--", "timestamp": BASE_TIME},
    ]})

    sections = ["Installation", "Operation", "Maintenance"]
    manual = [{"index": 1, "type": "URL", "data": "https://docs.example.org/manuals/big-manual.pdf",
               "timestamp": BASE_TIME}]
    for i, name in enumerate(sections):
        manual.append({"index": 10 + i, "type": "manualSection",
                       "data": name + ": " + text_of(320, WORDS), "timestamp": BASE_TIME})
    manual.append({"index": 100, "type": "HS_ADMIN", "admin": ADMIN_B, "timestamp": BASE_TIME})
    recs.append({"handle": PREFIX_B + "/big-manual", "values": manual})

    bom = [{"index": 1, "type": "URL", "data": "https://plm.example.org/bom/huge-bom",
            "timestamp": BASE_TIME},
           {"index": 2, "type": "bomSummary", "data": "assembly HX-9 gearbox, 40 line items",
            "timestamp": BASE_TIME}]
    for i in range(40):
        item = {"line": i + 1, "part": "%s/SN-%04d" % (PREFIX_A, i + 1), "qty": rng.randrange(1, 50),
                "desc": text_of(36, WORDS)}
        bom.append({"index": 1000 + i, "type": "bomItem",
                    "data": json.dumps(item, ensure_ascii=False, separators=(",", ":")),
                    "refs": [{"handle": item["part"], "index": 1}], "timestamp": BASE_TIME})
    bom.append({"index": 100, "type": "HS_ADMIN", "admin": ADMIN_B, "timestamp": BASE_TIME})
    recs.append({"handle": PREFIX_B + "/huge-bom", "values": bom})

    recs.append(prefix_record(PREFIX_A, "idpath demo node, prefix " + PREFIX_A))
    recs.append(prefix_record(PREFIX_B, "idpath demo node, prefix " + PREFIX_B))
    recs.append({"handle": "0.NA/88", "values": [
        {"index": 1, "type": "HS_SITE.PREFIX",
         "site": site("198.51.100.1", "sites for derived prefixes of 88 (demo top-level node)", serial=3),
         "timestamp": BASE_TIME},
        {"index": 100, "type": "HS_ADMIN", "admin": {"handle": "0.NA/88", "index": 300},
         "timestamp": BASE_TIME},
        {"index": 300, "type": "HS_PUBKEY", "data_hex": rsa_pubkey_record(), "timestamp": BASE_TIME},
    ]})
    return recs


# ---- bulk --------------------------------------------------------------------------------------

def maybe_ttl(v):
    r = rng.random()
    if r < 0.10:
        v["ttl"] = 3600
    elif r < 0.15:
        v["ttl"] = 0  # do not cache
    elif r < 0.18:
        v["ttl_type"] = "absolute"
        v["ttl"] = 1900000000
    elif r < 0.22:
        v["ttl"] = 604800
    return v


def serial(n):
    handle = "%s/SN-%04d" % (PREFIX_A, n)
    made = BASE_TIME + n * 600
    values = [
        maybe_ttl({"index": 1, "type": "URL", "data": "https://trace.example-factory.cn/p/SN-%04d" % n,
                   "timestamp": made}),
        {"index": 2, "type": "manufacturer", "data": rng.choice(MAKERS)},
        {"index": 3, "type": "model", "data": rng.choice(MODELS)},
        {"index": 4, "type": "batch", "data": "B%04d-%02d" % (2023 + n // 2000, 1 + (n // 50) % 12)},
        {"index": 5, "type": "productionDate",
         "data": "2024-%02d-%02d" % (1 + n % 12, 1 + n % 28)},  # timestamp: load time
        {"index": 100, "type": "HS_ADMIN", "admin": ADMIN_A},
    ]
    if n % 7 == 0:
        values[2]["permissions"] = "rwrw"
    if n % 11 == 0:
        values[3]["permissions"] = "r-r-"
    return {"handle": handle, "values": values}


def device(n):
    handle = "%s/DEV-%06x" % (PREFIX_B, 0x100000 + n * 7919 % 0xfffff)
    t = ts()
    values = [maybe_ttl({"index": 1, "type": "URL",
                         "data": "https://iot.example-plant.cn/devices/%d" % n, "timestamp": t})]
    r = rng.random()
    spec_len = rng.randrange(900, 1500) if r < 0.03 else rng.randrange(10, 160)
    spec = {"rated": "%d W" % rng.randrange(10, 5000), "notes": text_of(spec_len, WORDS)}
    values.append(maybe_ttl({"index": 2, "type": "specification",
                             "data": json.dumps(spec, separators=(",", ":")), "timestamp": t}))
    values.append({"index": 3, "type": "manufacturer", "data": rng.choice(MAKERS)})
    if rng.random() < 0.4:
        size = 600 if rng.random() < 0.03 else rng.choice([20, 24, 32, 48, 64, 128])
        values.append({"index": 4, "type": "calibration", "data_hex": hex_bytes(size)})
    if rng.random() < 0.3:
        values.append({"index": 5, "type": "EMAIL", "data": "maint-%d@example-plant.cn" % (n % 50)})
    if rng.random() < 0.2:
        parts = [{"handle": "%s/SN-%04d" % (PREFIX_A, rng.randrange(1, 5001)), "index": 1}
                 for _ in range(rng.randrange(1, 6))]
        values.append({"index": 6, "type": "HS_VLIST", "vlist": parts, "timestamp": t})
    if rng.random() < 0.1:
        values.append({"index": 7, "type": "internalNote", "data": text_of(80, WORDS),
                       "permissions": "rw--", "timestamp": t})
    if rng.random() < 0.15:
        values.append({"index": 8, "type": "firmware",
                       "data": "v%d.%d.%d" % (rng.randrange(4), rng.randrange(20), rng.randrange(100)),
                       "refs": [{"handle": "%s/firmware" % PREFIX_B, "index": 1}], "timestamp": t})
    values.append({"index": 100, "type": "HS_ADMIN", "admin": ADMIN_B})
    return {"handle": handle, "values": values}


def batch(n):
    members = [{"handle": "%s/SN-%04d" % (PREFIX_A, 1 + (n * 10 + k) % 5000), "index": 1}
               for k in range(10)]
    return {"handle": "%s/batch/2024-%04d" % (PREFIX_A, n), "values": [
        {"index": 1, "type": "URL", "data": "https://trace.example-factory.cn/batch/2024-%04d" % n,
         "timestamp": BASE_TIME + n},
        {"index": 2, "type": "batch", "data": "2024-%04d" % n, "refs": members[:3],
         "timestamp": BASE_TIME + n},
        {"index": 50, "type": "HS_VLIST", "vlist": members, "timestamp": BASE_TIME + n},
        {"index": 100, "type": "HS_ADMIN", "admin": ADMIN_A, "timestamp": BASE_TIME + n},
    ]}


def unicode_device(n):
    return {"handle": "%s/设备-%04d" % (PREFIX_B, n), "values": [
        {"index": 1, "type": "URL", "data": "https://iot.example-plant.cn/设备/%d" % n,
         "timestamp": BASE_TIME},
        {"index": 2, "type": "manufacturer", "data": MAKERS[3 + n % 2], "timestamp": BASE_TIME},
        {"index": 100, "type": "HS_ADMIN", "admin": ADMIN_B, "timestamp": BASE_TIME},
    ]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=os.path.join(here, "identifiers.jsonl"))
    args = ap.parse_args()

    records = named()
    records += [serial(n) for n in range(1, 5001)]
    records += [batch(n) for n in range(1, 401)]
    records += [device(n) for n in range(1, 5001)]
    records += [unicode_device(n) for n in range(1, 11)]
    records.append({"handle": PREFIX_B + "/firmware", "values": [
        {"index": 1, "type": "URL", "data": "https://iot.example-plant.cn/firmware/",
         "timestamp": BASE_TIME}]})

    by_handle = {r["handle"]: r for r in records}
    assert len(by_handle) == len(records), "duplicate handles"
    manual = by_handle[PREFIX_B + "/big-manual"]
    assert udp_datagrams(manual["handle"], manual["values"])[0] == 3, udp_datagrams(
        manual["handle"], manual["values"])
    bom = by_handle[PREFIX_B + "/huge-bom"]
    assert udp_datagrams(bom["handle"], bom["values"])[0] > 8, udp_datagrams(bom["handle"], bom["values"])

    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        out.write("# idpath sample identifiers: generated by configs/sample/generate.py (seed %d);"
                  " do not edit by hand\n" % SEED)
        out.write("# format: docs/data-format.md\n")
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("wrote %d identifiers to %s" % (len(records), args.output))


if __name__ == "__main__":
    main()
