#!/usr/bin/env python3
"""HANDLE.NET replication between idpathd instances over loopback (docs/replication.md): an
upstream loaded from JSON lines serves OC_DUMP_HANDLES and OC_RETRIEVE_TXN_LOG; mirrors
authenticate as replication admins (HS_PUBKEY with a PEM key, with a HANDLE.NET admpriv.bin key
found in the upstream's table, HS_SECKEY), take a full dump, then follow creates, updates and
deletes within the pull interval, resume after a restart from their saved state without a dump,
and prove equality with `idpathctl sync status`. A wrong admin key, a wrong upstream key and a
corrupted stream (from an independent Python upstream speaking the same wire form inside TLS)
are refused and leave the mirror's table as it was."""
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import handle_codec as hc
from harness import main
from idpath_env import Daemon, udp_exchange

ADMIN = "0.NA/88.100.1"
CREATED = "88.100.1/repl-new"
MODIFIED = "88.100.1/repl-kept"
DELETED = "88.100.1/repl-gone"


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


def rsa_key(path):
    run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    run("openssl", "pkey", "-in", path, "-pubout", "-out", path + ".pub")
    return path


def rsa_numbers(path):
    """n, e, d, p, q, dP, dQ, qInv of a PEM key, from openssl's text dump."""
    text = subprocess.run(["openssl", "rsa", "-in", path, "-text", "-noout"], check=True,
                          capture_output=True, text=True).stdout
    fields = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^(\w+):\s*(.*)$", line)
        if m:
            name = m.group(1)
            rest = m.group(2)
            if name == "publicExponent":
                fields[name] = int(rest.split()[0])
                name = None
            else:
                fields[name] = ""
        elif name and line.startswith(" "):
            fields[name] += line.strip().replace(":", "")
    num = {k: (v if isinstance(v, int) else int(v, 16)) for k, v in fields.items() if k != "Private"}
    return [num[k] for k in ("modulus", "publicExponent", "privateExponent", "prime1", "prime2",
                             "exponent1", "exponent2", "coefficient")]


def java_bytes(n):
    """BigInteger.toByteArray(): minimal two's complement, so a leading 00 when the top bit is set."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def hdl_private_key(pem, out):
    """HANDLE.NET's unencrypted private key file (admpriv.bin): int4 1, "RSA_PRIVCRT_KEY", 8 numbers."""
    body = struct.pack(">I", 1) + hc.string(b"RSA_PRIVCRT_KEY")
    body += b"".join(hc.string(java_bytes(x)) for x in rsa_numbers(pem))
    with open(out, "wb") as f:
        f.write(body)
    return out


def hdl_encrypted_private_key(plain_file, passphrase, out):
    """The same key as hdl-keygen writes it by default (type 4): PBKDF2WithHmacSHA1 (Python's
    hashlib) and AES-128-CBC (the openssl command), laid out as int4 4 | salt | int4 iterations |
    int4 key bits | iv | ciphertext, each octet string int4-length-prefixed."""
    with open(plain_file, "rb") as f:
        record = f.read()[4:]
    salt, iv = os.urandom(16), os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), salt, 10000, 16)
    ct = subprocess.run(["openssl", "enc", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()], input=record,
                        capture_output=True, check=True, timeout=20).stdout
    with open(out, "wb") as f:
        f.write(struct.pack(">I", 4) + hc.string(salt) + struct.pack(">II", 10000, 128) + hc.string(iv) + hc.string(ct))
    return out


def hdl_public_record(pem):
    """HANDLE.NET's public key record (HS_PUBKEY data, pubkey.bin)."""
    n, e = rsa_numbers(pem)[:2]
    return hc.string(b"RSA_PUB_KEY") + b"\0\0" + hc.string(java_bytes(e)) + hc.string(java_bytes(n)) + b"\0\0\0\0"


def wait_for(what, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="idpath-repl-")
        p = lambda name: os.path.join(self.root, name)
        self.server_key = rsa_key(p("server.pem"))
        self.admin_a = rsa_key(p("admin-a.pem"))     # PEM, key file on the upstream
        self.admin_b = rsa_key(p("admin-b.pem"))     # HANDLE.NET admpriv.bin, key in the table
        self.stranger = rsa_key(p("stranger.pem"))   # nobody's key
        hdl_private_key(self.admin_b, p("admin-b.bin"))
        hdl_encrypted_private_key(p("admin-b.bin"), "口令 pass", p("admin-b.enc.bin"))
        with open(p("admin-b.pass"), "w", encoding="utf-8") as f:
            f.write("口令 pass\n")
        with open(p("server.bin"), "wb") as f:
            f.write(hdl_public_record(self.server_key))
        with open(p("secret"), "w") as f:
            f.write("replication secret\n")
        self.data = p("identifiers.jsonl")
        with open(self.data, "w") as f:
            f.write(json.dumps({"handle": ADMIN, "values": [
                {"index": 301, "type": "HS_PUBKEY", "data_hex": hdl_public_record(self.admin_b).hex(),
                 "timestamp": 1700000000}]}) + "\n")
            for i in range(200):
                f.write(json.dumps({"handle": f"88.100.1/item-{i}", "values": [
                    {"index": 1, "type": "URL", "data": f"https://example.org/{i}", "timestamp": 1700000000}]}) + "\n")
            for h in (MODIFIED, DELETED, "88.200.7/other"):
                f.write(json.dumps({"handle": h, "values": [
                    {"index": 1, "type": "URL", "data": "https://example.org/" + h, "timestamp": 1700000000}]}) + "\n")
        serve = f"""replication:
  serve:
    listen: ["127.0.0.1:0"]
    key: {json.dumps(self.server_key)}
    admins: ["300:{ADMIN} {self.admin_a}.pub", "301:{ADMIN}", "302:{ADMIN} {p('secret')}"]
"""
        self.upstream = Daemon(data=self.data, journal=p("upstream.journal"), extra=serve).start()
        self.port = int(self.upstream.ctl_json("status")["listen"]["replication"][0].rsplit(":", 1)[1])
        self.mirrors = []

    def mirror(self, name, admin_index=300, admin_key=None, upstream_key=None, auth="HS_PUBKEY", shard=None,
               port=None, data="", journal=True, homed=(), more=""):
        p = lambda f: os.path.join(self.root, f"{name}.{f}")
        extra = f"""replication:
  upstream: "127.0.0.1:{port or self.port}"
  upstream_key: {json.dumps(upstream_key or self.server_key + '.pub')}
  admin: "{admin_index}:{ADMIN}"
  admin_key: {json.dumps(admin_key or self.admin_a)}
  auth: {auth}
  state: {json.dumps(p('state.json'))}
  interval_seconds: 1
  timeout_ms: 5000
  backoff_min_ms: 200
  backoff_max_ms: 1000
"""
        extra += more
        if shard:
            extra += f"  num_servers: {shard[0]}\n  server_num: {shard[1]}\n"
        d = Daemon(data=data, role="mirror", homed=homed, journal=p("journal") if journal else None, extra=extra)
        self.mirrors.append(d)
        return d.start()

    def digest(self, d):
        return d.ctl_json("digest")["digest"]

    def status(self, d):
        return d.ctl_json("status")["replication"]["mirror"]


def setup():
    return Env()


def teardown(env):
    if env:
        for m in env.mirrors:
            m.stop()
        env.upstream.stop()
        shutil.rmtree(env.root, ignore_errors=True)


def in_step(env, mirror):
    return env.digest(mirror) == env.digest(env.upstream)


def test_1_full_dump(env):
    env.m = env.mirror("m1")
    wait_for("the first dump", lambda: in_step(env, env.m))
    s = env.status(env.m)
    assert s["counters"]["dumps"] == 1, s
    up = env.upstream.ctl_json("status")["table"]
    mt = env.m.ctl_json("status")["table"]
    assert mt["handles"] == up["handles"] == 204, (mt, up)
    assert sorted(mt["homed_prefixes"]) == sorted(up["homed_prefixes"]), (mt, up)
    # The mirror answers queries for what it replicated, on IPv4 and IPv6.
    for host, family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
        port = env.m.ports("udp", family)
        got = udp_exchange(host, port, hc.resolution_request("88.100.1/item-7"))
        reply = hc.parse_message(hc.reassemble(got))
        assert reply["rc"] == hc.RC_SUCCESS, reply
        assert reply["values"][0]["data"] == b"https://example.org/7", reply
        assert not reply["flags"] & hc.FLAG_AT, "a mirror's answers are not authoritative"


def test_2_changes_follow_within_the_interval(env):
    path = os.path.join(env.root, "update.jsonl")
    with open(path, "w") as f:
        for line in (
            {"op": "create", "handle": CREATED, "values": [{"index": 1, "type": "URL", "data": "https://example.org/n"}]},
            {"op": "modify_values", "handle": MODIFIED,
             "values": [{"index": 1, "type": "URL", "data": "https://example.org/m"}]},
            {"op": "delete", "handle": DELETED},
        ):
            f.write(json.dumps(line) + "\n")
    r = env.upstream.ctl("update", path)
    assert r.returncode == 0 and "3 applied" in r.stdout, (r.stdout, r.stderr)
    t0 = time.monotonic()
    wait_for("the mirror to follow", lambda: in_step(env, env.m), timeout=10)
    assert time.monotonic() - t0 < 5, "changes took longer than a few pull intervals"
    assert env.m.ctl_json("lookup", MODIFIED)["values"][0]["data"] == "https://example.org/m"
    assert env.m.ctl("lookup", DELETED).returncode != 0 or "not found" in env.m.ctl("lookup", DELETED).stdout
    s = env.status(env.m)
    assert s["last_txn_id"] == env.upstream.ctl_json("status")["table"]["journal"]["last_txn"], s
    sync = env.m.ctl_json("sync", "status")
    assert sync["digest"].get("in_sync") is True, sync


def test_3_restart_resumes_without_a_dump(env):
    txn = env.status(env.m)["last_txn_id"]
    cfg = open(env.m.config).read()
    env.m.stop()
    env.mirrors.remove(env.m)
    env.m = Daemon(data="", role="mirror", homed=(), journal=os.path.join(env.root, "m1.journal"),
                   extra=cfg[cfg.index("replication:"):])
    env.mirrors.append(env.m)
    env.m.start()
    assert in_step(env, env.m), "the journal replay did not restore the replicated table"
    with open(os.path.join(env.root, "update2.jsonl"), "w") as f:
        f.write(json.dumps({"op": "create", "handle": CREATED + "-2",
                            "values": [{"index": 1, "type": "URL", "data": "https://example.org/2"}]}) + "\n")
    assert env.upstream.ctl("update", os.path.join(env.root, "update2.jsonl")).returncode == 0
    wait_for("the restarted mirror to follow", lambda: in_step(env, env.m))
    s = env.status(env.m)
    assert s["counters"]["dumps"] == 0 and s["last_txn_id"] > txn, s


def test_4_handle_net_key_files_and_a_key_from_the_table(env):
    m = env.mirror("m2", admin_index=301, admin_key=os.path.join(env.root, "admin-b.bin"),
                   upstream_key=os.path.join(env.root, "server.bin"))
    wait_for("a dump with HANDLE.NET key files", lambda: in_step(env, m))


def test_4b_encrypted_handle_net_admin_key(env):
    enc, pw = os.path.join(env.root, "admin-b.enc.bin"), os.path.join(env.root, "admin-b.pass")
    m = env.mirror("m2e", admin_index=301, admin_key=enc, upstream_key=os.path.join(env.root, "server.bin"),
                   more=f"  admin_key_passphrase_file: {json.dumps(pw)}\n")
    wait_for("a dump with an encrypted HANDLE.NET admin key", lambda: in_step(env, m))
    # Without the passphrase the key cannot be read: idpathd refuses to start, saying why.
    d = Daemon(role="mirror", data="", extra=f"""replication:
  upstream: "127.0.0.1:{env.port}"
  upstream_key: {json.dumps(os.path.join(env.root, "server.bin"))}
  admin: "301:{ADMIN}"
  admin_key: {json.dumps(enc)}
  state: {json.dumps(os.path.join(env.root, "nopass.state.json"))}
""")
    try:
        d.start()
        raise AssertionError("started without the key's passphrase")
    except RuntimeError as e:
        assert "encrypted (type 4): give its passphrase" in str(e), e
    finally:
        d.stop()


def test_5_secret_key_admin(env):
    m = env.mirror("m3", admin_index=302, admin_key=os.path.join(env.root, "secret"), auth="HS_SECKEY")
    wait_for("a dump with HS_SECKEY", lambda: in_step(env, m))


def test_6_sharded_mirrors_split_the_table(env):
    a = env.mirror("s0", shard=(2, 0))
    b = env.mirror("s1", shard=(2, 1))
    total = env.upstream.ctl_json("status")["table"]["handles"]
    wait_for("both shards", lambda: env.status(a)["counters"]["dumps"] >= 1 and env.status(b)["counters"]["dumps"] >= 1)
    na = a.ctl_json("status")["table"]["handles"]
    nb = b.ctl_json("status")["table"]["handles"]
    assert na + nb == total and 0 < na < total, (na, nb, total)
    for m in (a, b):
        sync = m.ctl_json("sync", "status")
        assert sync["digest"].get("in_sync") is True, sync


def test_7_wrong_admin_key_is_refused(env):
    m = env.mirror("bad-admin", admin_key=env.stranger)
    s = wait_for("an authentication failure", lambda: (lambda s: s if s["counters"]["auth_failures"] > 0 else None)(env.status(m)))
    assert m.ctl_json("status")["table"]["handles"] == 0, "a refused mirror got records"
    assert s["last_error"], s


def test_8_wrong_upstream_key_is_refused(env):
    m = env.mirror("bad-upstream", upstream_key=env.stranger + ".pub")
    s = wait_for("a refused stream", lambda: (lambda s: s if s["consecutive_failures"] > 0 else None)(env.status(m)))
    assert m.ctl_json("status")["table"]["handles"] == 0, "records from an unverified upstream were served"
    assert "key" in (s["last_error"] or ""), s


class FakeUpstream:
    """A Python upstream speaking the 9.x wire form: the 402 challenge, any answer accepted, then
    "TLS\\0" and a dump stream that turns to garbage after one good record."""

    def __init__(self, root):
        self.key = rsa_key(os.path.join(root, "fake.pem"))
        self.crt = os.path.join(root, "fake.crt")
        run("openssl", "req", "-x509", "-new", "-key", self.key, "-subj", "/CN=anonymous", "-days", "2",
            "-out", self.crt)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.crt, self.key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.streams = 0
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.one(conn)
            except Exception:  # a fake upstream's troubles are the mirror's to count, not ours
                pass
            finally:
                conn.close()

    @staticmethod
    def read(conn):
        env = b""
        while len(env) < 20:
            env += conn.recv(20 - len(env))
        length = struct.unpack(">I", env[16:20])[0]
        msg = b""
        while len(msg) < length:
            msg += conn.recv(length - len(msg))
        return env, msg

    @staticmethod
    def reply(env, opcode, rc, body, session):
        header = struct.pack(">IIIHBBII", opcode, rc, 0x99000000, 0, 0, 0, 2000000000, len(body))
        message = header + body + struct.pack(">I", 0)
        out = bytearray(env[:20])
        struct.pack_into(">I", out, 4, session)
        struct.pack_into(">I", out, 16, len(message))
        return bytes(out) + message

    def one(self, conn):
        env, msg = self.read(conn)
        opcode = struct.unpack(">I", msg[:4])[0]
        body_len = struct.unpack(">I", msg[20:24])[0]
        if opcode != 200:
            digest = hashlib.sha256(msg[:24 + body_len]).digest()
            conn.sendall(self.reply(env, opcode, 402, b"\x03" + digest + hc.string(os.urandom(16)), 77))
            return
        conn.sendall(self.reply(env, 1002, 1, b"", 77) + b"TLS\0")
        tls = self.ctx.wrap_socket(conn, server_side=True)
        self.streams += 1
        value = struct.pack(">IIBIB", 1, 1700000000, 0, 86400, 0x0e) + hc.string(b"URL") + hc.string(b"x") + struct.pack(">I", 0)
        stream = struct.pack(">I", 2) + b"\x00" + struct.pack(">qQ", int(time.time() * 1000), 1)
        stream += b"\x01" + hc.string(b"88.100.1/FAKE") + struct.pack(">I", 1) + hc.string(value)
        stream += b"\x01" + struct.pack(">I", 0x7ffffff0) + b"garbage"  # a handle no limit allows
        tls.sendall(stream)
        tls.close()


def test_9_a_corrupted_stream_leaves_the_table_alone(env):
    fake = FakeUpstream(env.root)
    try:
        m = env.mirror("corrupt", port=fake.port, upstream_key=fake.key + ".pub", data=env.data,
                       journal=False, homed=("88.100.1", "88.200.7"))
        before = env.digest(m)
        s = wait_for("a stream error", lambda: (lambda s: s if s["counters"]["stream_errors"] > 0 else None)(env.status(m)))
        assert fake.streams >= 1, "the fake upstream never got to send its stream"
        assert env.digest(m) == before, "a corrupted stream changed the table"
        assert m.ctl("lookup", "88.100.1/FAKE").returncode != 0 or "not found" in m.ctl("lookup", "88.100.1/FAKE").stdout
        assert s["last_error"], s
    finally:
        fake.stop = True
        fake.sock.close()


class ResumingUpstream(FakeUpstream):
    """An upstream whose first dump stream breaks after three handles and which then, like an
    idpathd before resumable dumps, ignores the starting point and sends everything again."""

    def __init__(self, root):
        super().__init__(root)
        self.pending = None          # the challenged request: (opcode, body)
        self.starting_points = []    # what each dump request asked to resume after

    def one(self, conn):
        env, msg = self.read(conn)
        opcode = struct.unpack(">I", msg[:4])[0]
        body_len = struct.unpack(">I", msg[20:24])[0]
        if opcode != 200:
            self.pending = (opcode, msg[24:24 + body_len])
            digest = hashlib.sha256(msg[:24 + body_len]).digest()
            conn.sendall(self.reply(env, opcode, 402, b"\x03" + digest + hc.string(os.urandom(16)), 77))
            return
        opcode, body = self.pending
        now = int(time.time() * 1000)
        if opcode == 1001:  # nothing new since the dump
            conn.sendall(self.reply(env, 1001, 1, b"\x00", 77) + b"TLS\0")
            tls = self.ctx.wrap_socket(conn, server_side=True)
            tls.sendall(struct.pack(">II", 1, 2) + b"\x00" + struct.pack(">q", now))
            tls.close()
            return
        point = None
        if len(body) > 9:
            n = struct.unpack(">I", body[9:13])[0]
            point = (body[13:13 + n].decode(), struct.unpack(">I", body[13 + n:17 + n])[0])
        self.starting_points.append(point)
        conn.sendall(self.reply(env, 1002, 1, b"", 77) + b"TLS\0")
        tls = self.ctx.wrap_socket(conn, server_side=True)
        self.streams += 1
        stream = struct.pack(">I", 2) + b"\x00" + struct.pack(">qQ", now, 5)
        for i in range(6):
            if self.streams == 1 and i == 3:
                break
            value = (struct.pack(">IIBIB", 1, 1700000000, 0, 86400, 0x0e) + hc.string(b"URL") +
                     hc.string(f"https://example.org/r{i}".encode()) + struct.pack(">I", 0))
            stream += b"\x01" + hc.string(f"88.100.1/R{i}".encode()) + struct.pack(">I", 1) + hc.string(value)
        if self.streams > 1:
            stream += b"\x02" + hc.string(b"0.NA/88.100.1") + b"\xff"
        tls.sendall(stream)
        tls.close()


def test_10_a_broken_dump_resumes_and_tolerates_a_resend(env):
    fake = ResumingUpstream(env.root)
    try:
        m = env.mirror("resume", port=fake.port, upstream_key=fake.key + ".pub")
        s = wait_for("the resumed dump", lambda: (lambda s: s if s["counters"]["dumps"] == 1 else None)(env.status(m)))
        assert fake.starting_points[:2] == [None, ("88.100.1/R2", 2)], fake.starting_points
        assert s["counters"]["dump_resumes"] == 1, s
        # The three handles sent twice were staged once, not refused.
        assert s["counters"]["records_refused"] == 0, s
        assert m.ctl_json("status")["table"]["handles"] == 6, m.ctl_json("status")["table"]
        assert s["last_txn_id"] == 5, s
    finally:
        fake.stop = True
        fake.sock.close()


if __name__ == "__main__":
    main(globals(), setup, teardown)
