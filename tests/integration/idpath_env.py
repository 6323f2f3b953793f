"""Starts and stops a real idpathd for integration tests, and talks to it over real sockets."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("IDPATH_BUILD_ROOT", "build")
SOURCE = os.environ.get("IDPATH_SOURCE_ROOT", ".")
IDPATHD = os.path.join(BUILD, "idpathd")
DIG = os.path.join(BUILD, "idpath-dig")
CTL = os.path.join(BUILD, "idpathctl")
SAMPLE = os.path.join(SOURCE, "configs", "sample", "identifiers.jsonl")

SITE_YAML = """site:
  serial: 7
  primary: true
  hash: handle
  attributes:
    desc: idpath integration test node
  servers:
    - id: 1
      address: 192.0.2.1
      interfaces:
        - {type: query, protocol: udp, port: 2641}
        - {type: admin+query, protocol: tcp, port: 2641}
"""


def dataplane_yaml(section):
    if not section:
        return ""
    return "dataplane:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in section.items())


def file_sink_yaml(directory):
    """The log mirror to plain JSON-lines files in `directory`, flushed every 50 ms."""
    return f"""mirror:
  batch_ms: 50
  spool:
    max_mb: 0
  file:
    directory: {json.dumps(directory)}
    format: json
    zstd_level: 0
"""


def file_sink_records(directory):
    """Every record and event in a file sink's files, decoded by idpathctl logs cat."""
    import glob
    files = sorted(glob.glob(os.path.join(directory, "*")))
    r = subprocess.run([CTL, "logs", "cat", *files], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def require_namespaces(probe):
    """Raises harness.Skip unless this process may create network namespaces (root, and a
    kernel that allows them), trying with a namespace named `probe`."""
    from harness import Skip
    if os.geteuid() != 0:
        raise Skip("needs root for network namespaces")
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        raise Skip("this kernel does not allow network namespaces")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def veth_pair(srv, srv_if, srv_addrs, cli, cli_if, cli_addrs, queues=None):
    """Creates namespaces `srv` and `cli` joined by a veth pair srv_if <-> cli_if, each end up
    with its (IPv4, IPv6) addresses as /24 and /64 (no DAD: usable at once) and its loopback up.
    `queues`: RX and TX queues a side (default: the kernel's one)."""
    def run(*cmd):
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20)
    run("ip", "netns", "add", srv)
    run("ip", "netns", "add", cli)
    q = ["numtxqueues", str(queues), "numrxqueues", str(queues)] if queues else []
    run("ip", "link", "add", srv_if, *q, "netns", srv, "type", "veth", "peer", "name", cli_if, *q, "netns", cli)
    for ns, dev, (v4, v6) in ((srv, srv_if, srv_addrs), (cli, cli_if, cli_addrs)):
        run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", dev)
        run("ip", "-n", ns, "addr", "add", v6 + "/64", "dev", dev, "nodad")
        run("ip", "-n", ns, "link", "set", dev, "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")


def delete_namespaces(*names):
    """Removes network namespaces a test made (absent ones are fine)."""
    for ns in names:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def stop_then_delete(d, *namespaces):
    """A namespace test's teardown: the daemon (if started) must exit 0 on SIGTERM; the
    namespaces go either way."""
    try:
        if d:
            rc = d.stop()
            assert rc == 0, rc
    finally:
        delete_namespaces(*namespaces)


def netns_prefix(ns):
    return ["ip", "netns", "exec", ns] if ns else []


class Daemon:
    """One idpathd with the sample data, its own config, admin socket and temp dir."""

    def __init__(self, udp=("127.0.0.1:0", "[::1]:0"), tcp=("127.0.0.1:0", "[::1]:0"), netns=None,
                 extra="", data=None, max_udp_datagrams=8, dataplane=None, snapshot=None,
                 snapshot_interval=None, journal=None, role="authoritative",
                 homed=("88.100.1", "88.200.7"), service_extra="", data_extra=""):
        """`dataplane`, when given, is the dataplane section as a dict (values written as JSON,
        which YAML reads); without it the daemon runs in its default sockets mode. `snapshot`
        sets data.snapshot (a path; relative ones are inside the daemon's temp dir), and
        `snapshot_interval` data.snapshot_interval_seconds, and `journal` data.journal (as
        `snapshot`). `role` is node.role; `data=""` loads no identifier file (a mirror's table
        comes from its upstream) and `homed` is data.homed_prefixes. `service_extra` and
        `data_extra` are more lines of the service and data sections ("  key: value\n" each)."""
        self.tmp = tempfile.TemporaryDirectory(prefix="idpath-it-")
        self.netns = netns
        self.socket = os.path.join(self.tmp.name, "admin.sock")
        self.config = os.path.join(self.tmp.name, "idpathd.yaml")
        self.log = os.path.join(self.tmp.name, "idpathd.log")
        data = SAMPLE if data is None else data
        files = json.dumps([os.path.abspath(data)] if data else [])
        snapshot_yaml = ""
        if snapshot:
            snapshot_yaml = f"  snapshot: {json.dumps(os.path.join(self.tmp.name, snapshot))}\n"
        if snapshot_interval is not None:
            snapshot_yaml += f"  snapshot_interval_seconds: {snapshot_interval}\n"
        if journal:
            snapshot_yaml += f"  journal: {json.dumps(os.path.join(self.tmp.name, journal))}\n"
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(f"""node:
  id: it-node
  role: {role}
service:
  udp: {json.dumps(list(udp))}
  tcp: {json.dumps(list(tcp))}
  max_udp_datagrams: {max_udp_datagrams}
{service_extra}{SITE_YAML}data:
  homed_prefixes: {json.dumps(list(homed))}
  identifier_files: {files}
{snapshot_yaml}{data_extra}admin:
  socket: {json.dumps(self.socket)}
{dataplane_yaml(dataplane)}{extra}""")
        self.proc = None

    def start(self, timeout=30.0):
        logf = open(self.log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(netns_prefix(self.netns) + [IDPATHD, "--config", self.config],
                                     stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"idpathd exited {self.proc.returncode}:\n{self.read_log()}")
            if os.path.exists(self.socket) and self.ctl("ping").returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError("idpathd did not become ready:\n" + self.read_log())

    def read_log(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def ctl(self, *args):
        return subprocess.run([CTL, "-s", self.socket, *args], capture_output=True, text=True, timeout=10)

    def ctl_json(self, *args):
        r = self.ctl(*args)
        if r.returncode != 0:
            raise RuntimeError(f"idpathctl {args}: {r.returncode} {r.stderr}")
        return json.loads(r.stdout)

    def ports(self, transport, family):
        """The kernel-chosen port of the first listener of a transport and family."""
        for ep in self.ctl_json("status")["listen"][transport]:
            if family == socket.AF_INET6 and ep.startswith("["):
                return int(ep.rsplit(":", 1)[1])
            if family == socket.AF_INET and not ep.startswith("["):
                return int(ep.rsplit(":", 1)[1])
        raise KeyError(f"no {transport} listener for family {family}")

    def stop(self, timeout=10.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("idpathd did not stop within %.0f s of SIGTERM" % timeout)
        rc = self.proc.returncode if self.proc else None
        self.tmp.cleanup()
        return rc


def udp_exchange(host, port, payload, timeout=2.0, family=None):
    """Sends one datagram; returns every reply datagram with the request's RequestId, in arrival
    order, stopping once the declared message is complete."""
    family = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (host, port))
        rid = payload[8:12]
        got, need = [], None
        while need is None or len(got) < need:
            try:
                d, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            if d[8:12] != rid:
                continue
            got.append(d)
            length = int.from_bytes(d[16:20], "big")
            need = 1 if length <= 492 else (length + 491) // 492
        return got


def tcp_exchange(host, port, payload, timeout=5.0):
    """Sends one request over a fresh TCP connection; returns envelope + message of the reply."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(payload)
        return read_frame(s)


def read_frame(s):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError(f"closed after {len(buf)} of {n} octets")
            buf += chunk
        return buf
    env = exact(20)
    return env + exact(int.from_bytes(env[16:20], "big"))


def dig(*args, netns=None):
    r = subprocess.run(netns_prefix(netns) + [DIG, *args], capture_output=True, text=True, timeout=30)
    return r


def json_from_netns(netns, code):
    """Runs Python `code` inside `netns` with idpath_env as `e`, handle_codec as `hc` and json
    imported; returns the JSON it printed."""
    here = os.path.dirname(os.path.abspath(__file__))
    prelude = f"import sys, json; sys.path.insert(0, {here!r}); import idpath_env as e, handle_codec as hc;"
    out = subprocess.run(netns_prefix(netns) + [sys.executable, "-c", prelude + code],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def replay_vector(transport, host, hexfile, netns):
    """Sends a reference request (tests/data/vectors/*.hex) from `netns` over "udp" or "tcp" to
    host:2641; returns the reply's RC, RequestId and values as parsed by handle_codec."""
    return json_from_netns(netns, (
        f"req = bytes.fromhex(open({hexfile!r}).read().strip());"
        f"r = e.udp_exchange({host!r}, 2641, req) if {transport!r} == 'udp' else [e.tcp_exchange({host!r}, 2641, req)];"
        "m = hc.parse_message(hc.reassemble(r) if len(r) > 1 else r[0][20:]);"
        "print(json.dumps(dict(rc=m['rc'], rid=hc.parse_envelope(r[0])['request_id'],"
        " values=[(v['index'], v['type'], v['data'].hex()) for v in m.get('values', [])])))"))
