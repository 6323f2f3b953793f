#!/usr/bin/env python3
"""Replication figures (docs/PERFORMANCE.md, "Replication"): an upstream idpathd loaded with N
identifiers from idpath-datagen and a mirror over loopback, both on this machine. Prints
- the full dump: from the mirror's start to its table served (records/s, MB/s of values);
- the transaction log: K replaced records applied on the upstream, until the mirror has them all
  (transactions/s, including the pull interval's wait);
- the proof: how long `idpathctl sync status` takes at that size.
Bounded: loopback only, N and K given, every process stopped at the end.

usage: perf/system/replication.py [--build build-rel] [--count 1000000] [--changes 100000]"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--changes", type=int, default=100000)
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["IDPATH_BUILD_ROOT"] = build
    os.environ["IDPATH_SOURCE_ROOT"] = ROOT
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from idpath_env import Daemon  # noqa: E402  (needs the environment above)
    from test_replication import rsa_key  # noqa: E402

    root = tempfile.mkdtemp(prefix="idpath-perf-repl-")
    daemons = []
    try:
        p = lambda name: os.path.join(root, name)
        data = p("ids.jsonl")
        handles = p("handles.txt")
        subprocess.run([os.path.join(build, "perf/datagen/idpath-datagen"), "--count", str(args.count),
                        "--prefix", "88.100.1", "--out", data, "--handles-out", handles], check=True,
                       capture_output=True)
        server, admin = rsa_key(p("server.pem")), rsa_key(p("admin.pem"))
        serve = f"""replication:
  serve:
    listen: ["127.0.0.1:0"]
    key: {json.dumps(server)}
    admins: ["300:0.NA/88.100.1 {admin}.pub"]
"""
        up = Daemon(data=data, homed=("88.100.1",), journal=p("up.journal"), extra=serve).start(timeout=600)
        daemons.append(up)
        port = int(up.ctl_json("status")["listen"]["replication"][0].rsplit(":", 1)[1])
        table = up.ctl_json("status")["table"]
        mirror_cfg = f"""replication:
  upstream: "127.0.0.1:{port}"
  upstream_key: {json.dumps(server + '.pub')}
  admin: "300:0.NA/88.100.1"
  admin_key: {json.dumps(admin)}
  state: {json.dumps(p('state.json'))}
  interval_seconds: 1
  timeout_ms: 60000
"""
        t0 = time.monotonic()
        m = Daemon(data="", role="mirror", homed=(), journal=p("m.journal"), extra=mirror_cfg).start(timeout=600)
        daemons.append(m)
        while m.ctl_json("status")["replication"]["mirror"]["counters"]["dumps"] < 1:
            time.sleep(0.05)
        dump_s = time.monotonic() - t0
        assert m.ctl_json("digest")["digest"] == up.ctl_json("digest")["digest"], "dump differs"
        print(f"full dump: {table['handles']} records, {table['value_bytes'] / 1e6:.1f} MB of values in "
              f"{dump_s:.2f} s (mirror start to served, journaled): {table['handles'] / dump_s / 1e3:.0f} k records/s, "
              f"{table['value_bytes'] / 1e6 / dump_s:.1f} MB/s")

        names = [h.strip() for h in open(handles)][:args.changes]
        update = p("update.jsonl")
        with open(update, "w") as f:
            for i, h in enumerate(names):
                f.write(json.dumps({"op": "replace", "handle": h, "values": [
                    {"index": 1, "type": "URL", "data": f"https://example.org/changed/{i}"}]}) + "\n")
        r = up.ctl("-t", "900", "update", update)
        assert r.returncode == 0, r.stdout + r.stderr
        target = up.ctl_json("status")["table"]["journal"]["last_txn"]
        t1 = time.monotonic()
        m.ctl("sync", "now")
        while m.ctl_json("status")["replication"]["mirror"]["last_txn_id"] < target:
            time.sleep(0.02)
        log_s = time.monotonic() - t1
        print(f"transaction log: {len(names)} replaced records in {log_s:.2f} s after the upstream acknowledged "
              f"them: {len(names) / log_s / 1e3:.0f} k transactions/s")

        t2 = time.monotonic()
        sync = m.ctl_json("sync", "status")
        print(f"sync status (digests of both at {table['handles']} records): {time.monotonic() - t2:.2f} s, "
              f"in_sync {sync['digest'].get('in_sync')}")
    finally:
        for d in reversed(daemons):
            d.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
