#!/usr/bin/env python3
"""The log mirror end to end (docs/log-mirror.md): a real idpathd answers UDP and TCP queries on
IPv4 and IPv6 and mirrors every one to two sinks at once, rotated zstd files and a real rsyslogd
(started here, RFC 5425 TLS on loopback with a throwaway CA). Checks that each query gives one
record with the right fields, that every serving thread's sequence has no gap and its heartbeats
agree, that control-plane events are in the stream, that the files verify and tampering is found
(`idpathctl logs verify`), and that a syslog outage spools and then replays every record, marked
replayed, with nothing lost: rsyslog ends up with exactly the records the files have."""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import Skip, main
from idpath_env import BUILD, CTL, DIG, SAMPLE, Daemon, file_sink_records

GUN = os.path.join(BUILD, "perf", "gun", "idpath-gun")
RSYSLOGD = "/usr/sbin/rsyslogd"

# rsyslog writes one JSON object per message with the fields its RFC 5424 parser found.
FIELDS_TEMPLATE = r'''template(name="fields" type="list") {
  constant(value="{\"msgid\":\"")
  property(name="msgid" format="json")
  constant(value="\",\"app\":\"")
  property(name="app-name" format="json")
  constant(value="\",\"sd\":\"")
  property(name="structured-data" format="json")
  constant(value="\",\"msg\":\"")
  property(name="msg" format="json")
  constant(value="\"}\n")
}
'''


class Rsyslogd:
    """A private rsyslogd with one TLS input on loopback, writing what it parses to out.log."""

    def __init__(self, root):
        self.dir = os.path.join(root, "rsyslog")
        os.makedirs(os.path.join(self.dir, "work"), exist_ok=True)
        self.proc = None
        self.port = 0
        self.out = os.path.join(self.dir, "out.log")
        self.make_pki()

    def path(self, name):
        return os.path.join(self.dir, name)

    def make_pki(self):
        def run(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        with open(self.path("server.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        run("req", *ec, "-x509", "-days", "2", "-subj", "/CN=idpath it CA", "-keyout", self.path("ca.key"),
            "-out", self.path("ca.pem"))
        run("req", *ec, "-subj", "/CN=localhost", "-keyout", self.path("server.key"), "-out", self.path("server.csr"))
        run("x509", "-req", "-days", "2", "-in", self.path("server.csr"), "-CA", self.path("ca.pem"), "-CAkey",
            self.path("ca.key"), "-CAcreateserial", "-extfile", self.path("server.ext"), "-out", self.path("server.pem"))

    def start(self):
        """Listens on self.port (rsyslog picks one the first time, the same one after)."""
        port_file = self.path("port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        with open(self.path("rsyslog.conf"), "w") as f:
            f.write(f'''global(workDirectory="{self.path("work")}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{self.port}" listenPortFileName="{port_file}"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon"
      streamDriver.CAFile="{self.path("ca.pem")}" streamDriver.CertFile="{self.path("server.pem")}"
      streamDriver.KeyFile="{self.path("server.key")}")
{FIELDS_TEMPLATE}
if $app-name == "idpathd" then {{
  action(type="omfile" file="{self.out}" template="fields")
  stop
}}
action(type="omfile" file="{self.path("other.log")}")
''')
        self.proc = subprocess.Popen([RSYSLOGD, "-f", self.path("rsyslog.conf"), "-i", self.path("pid"), "-n"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.path("stderr"), "a"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "rsyslogd exited: " + open(self.path("stderr")).read()
            # The first start learns the port from rsyslog's port file; a restart asks for the same
            # port, which rsyslog then does not write.
            if not self.port and os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read().strip())
            if self.port and self.listening():
                return
            time.sleep(0.05)
        raise RuntimeError("rsyslogd did not listen within 15 s")

    def listening(self):
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def records(self):
        """(source, seq) -> (replayed, record) of every idpathd message rsyslog parsed."""
        got = {}
        if not os.path.exists(self.out):
            return got
        with open(self.out, encoding="utf-8") as f:
            for line in f:
                m = json.loads(line)
                rec = json.loads(m["msg"])
                got[(rec["source"], rec["seq"])] = ('replayed="1"' in m["sd"], rec)
        return got


class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="idpath-mirror-")
        self.logs = os.path.join(self.root, "logs")
        self.spool = os.path.join(self.root, "spool")
        self.rsyslog = Rsyslogd(self.root)
        self.rsyslog.start()
        self.daemon = Daemon(extra=f"""mirror:
  heartbeat_seconds: 1
  batch_ms: 50
  spool:
    directory: {json.dumps(self.spool)}
    max_mb: 64
  file:
    directory: {json.dumps(self.logs)}
    rotate_seconds: 2
  syslog:
    address: "127.0.0.1:{self.rsyslog.port}"
    tls: true
    ca_file: {json.dumps(self.rsyslog.path("ca.pem"))}
    server_name: localhost
""")
        self.daemon.start()

    def mirror(self):
        return self.daemon.ctl_json("mirror")

    def sink(self, name):
        return next(s for s in self.mirror()["sinks"] if s["name"] == name)

    def file_records(self):
        """Every record and event in the file sink's files, decoded by idpathctl logs cat."""
        return file_sink_records(self.logs)

    def settle(self, timeout=20):
        """Waits until the exporter has taken everything every source produced and every sink has
        delivered every batch (queues and spools empty), and that held across a batch interval (the
        exporter's open batch is not in the metrics)."""
        def caught_up(m):
            return (all(s["received"] + s["gaps"] == s["produced"] for s in m["sources"]) and
                    all(s["spool"]["batches"] == 0 and s["queue"]["batches"] == 0 and s["state"] == "up" and
                        s["sent"]["batches"] == m["exporter"]["batches"] for s in m["sinks"]))
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            m = self.mirror()
            if caught_up(m):
                if last is not None and m["exporter"] == last["exporter"]:
                    return m
                last = m
            else:
                last = None
            time.sleep(0.2)  # > mirror.batch_ms
        raise AssertionError("sinks did not catch up: " + json.dumps(self.mirror(), indent=1))


def setup():
    for tool in (RSYSLOGD, GUN, shutil.which("openssl")):
        if not tool or not os.path.exists(tool):
            raise Skip(f"{tool or 'openssl'} is not installed (scripts/setup installs rsyslog)")
    return Env()


def teardown(env):
    if env is None:
        return
    env.daemon.stop()
    env.rsyslog.stop()
    shutil.rmtree(env.root, ignore_errors=True)


def dig(env, family, *args):
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    port = env.daemon.ports("tcp" if "--tcp" in args else "udp", family)
    return subprocess.run([DIG, f"@{host}", "-p", str(port), *args], capture_output=True, text=True, timeout=10)


def queries(recs):
    return [r for r in recs if r["kind"] == "query"]


def test_1_one_record_per_query_with_its_fields(env):
    for family in (socket.AF_INET, socket.AF_INET6):
        dig(env, family, "88.100.1/SN-0001")
        dig(env, family, "--tcp", "88.100.1/SN-0001")
        dig(env, family, "88.100.1/no-such-thing")
    env.settle()
    recs = [r for r in queries(env.file_records()) if r["handle"] in ("88.100.1/SN-0001", "88.100.1/no-such-thing")]
    by = {(r["family"], r["transport"], r["handle"]): r for r in recs}
    assert len(recs) == 6 and len(by) == 6, recs
    for fam, client in ((4, "127.0.0.1"), (6, "::1")):
        hit = by[(fam, "udp", "88.100.1/SN-0001")]
        assert hit["response_code"] == 1 and hit["values"] > 0 and hit["client_ip"] == client, hit
        assert hit["opcode"] == 1 and hit["latency_ns"] > 0 and hit["response_bytes"] > 0, hit
        assert hit["node_id"] == "it-node" and hit["replayed"] is False, hit
        assert by[(fam, "tcp", "88.100.1/SN-0001")]["response_code"] == 1
        assert by[(fam, "udp", "88.100.1/no-such-thing")]["response_code"] == 100


def test_2_load_every_thread_seq_without_gaps(env):
    port4, port6 = env.daemon.ports("udp", socket.AF_INET), env.daemon.ports("udp", socket.AF_INET6)
    env.settle()
    before = sum(1 for x in queries(env.file_records()) if x["transport"] == "udp")
    r = subprocess.run([GUN, "--jsonl", SAMPLE, "--json", "--count", "20000", "--duration", "10",
                        f"127.0.0.1:{port4}", f"[::1]:{port6}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    summary = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")][-1]
    time.sleep(1.2)  # a heartbeat after the load from every thread
    m = env.settle()
    recs = env.file_records()
    by_source = {}
    for rec in recs:
        if rec["kind"] in ("query", "heartbeat"):
            by_source.setdefault(rec["source"], []).append(rec)
    assert by_source, recs[:5]
    for source, rs in by_source.items():
        seqs = sorted(x["seq"] for x in rs)
        assert seqs == list(range(1, len(seqs) + 1)), (source, seqs[:10], len(seqs))
        beats = [x for x in rs if x["kind"] == "heartbeat"]
        assert beats, source
        for b in beats:
            assert b["lost"] == 0 and b["produced"] == b["seq"], b
    udp = [x for x in queries(recs) if x["transport"] == "udp"]
    assert len(udp) - before == summary["sent"], (len(udp), before, summary)
    assert {x["family"] for x in udp} == {4, 6}
    for s in m["sources"]:
        assert s["gaps"] == 0, s


def test_3_control_plane_events_in_the_stream(env):
    assert env.daemon.ctl("reload").returncode == 0
    env.settle()
    events = [r for r in env.file_records() if r["kind"] == "event"]
    cats = [e["category"] for e in events]
    assert "daemon.start" in cats and "config.reload" in cats and "admin" in cats, cats
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), seqs


def test_4_syslog_outage_spools_then_replays_everything(env):
    env.settle()
    env.rsyslog.stop()
    port4 = env.daemon.ports("udp", socket.AF_INET)
    for _ in range(5):
        subprocess.run([GUN, "--jsonl", SAMPLE, "--count", "2000", "--duration", "5", f"127.0.0.1:{port4}"],
                       capture_output=True, text=True, timeout=60)
    deadline = time.monotonic() + 15
    while env.sink("syslog")["spooled"]["records"] == 0:
        assert time.monotonic() < deadline, env.sink("syslog")
        time.sleep(0.1)
    s = env.sink("syslog")
    assert s["state"] in ("down", "backoff"), s
    env.rsyslog.start()
    env.settle(timeout=60)
    s = env.sink("syslog")
    assert s["replayed"]["records"] > 0 and sum(d["records"] for d in s["dropped"].values()) == 0, s
    time.sleep(0.5)  # rsyslog's output file
    want = {(r["source"], r["seq"]) for r in env.file_records()}
    got = env.rsyslog.records()
    # Heartbeats keep coming: rsyslog may have a newer one than the files had when read.
    last = {}
    for source, seq in want:
        last[source] = max(seq, last.get(source, 0))
    extra = {k for k in set(got) - want if k[1] <= last.get(k[0], 0)}
    assert want <= set(got) and not extra, (len(want), len(got), sorted(want - set(got))[:10], sorted(extra)[:10])
    assert any(replayed for replayed, _ in got.values()), "no record marked replayed"


def test_5_files_verify_and_tampering_is_found(env):
    env.settle()
    r = subprocess.run([CTL, "logs", "verify", env.logs], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    copy = os.path.join(env.root, "tampered")
    shutil.copytree(env.logs, copy)
    victim = sorted(glob.glob(os.path.join(copy, "*")))[0]
    with open(victim, "r+b") as f:
        f.seek(os.path.getsize(victim) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x40]))
    r = subprocess.run([CTL, "logs", "verify", copy], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert os.path.basename(victim) in r.stdout + r.stderr, (r.stdout, r.stderr)


if __name__ == "__main__":
    main(globals(), setup, teardown)
