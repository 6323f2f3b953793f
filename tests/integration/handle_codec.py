"""A second, independent Handle-protocol codec (RFC 3652; shared/research/handle-protocol.md)
used by the integration tests to build requests and check replies byte by byte, so the daemon is
never checked only against its own C++ codec."""
import hashlib
import struct

OC_RESOLUTION = 1
OC_GET_SITE_INFO = 2
RC_SUCCESS, RC_ERROR, RC_PROTOCOL_ERROR, RC_NOT_SUPPORTED = 1, 2, 4, 5
RC_HANDLE_NOT_FOUND, RC_VALUES_NOT_FOUND = 100, 200
RC_SERVER_NOT_RESP, RC_PREFIX_REFERRAL = 301, 303
RC_INSUFFICIENT_PERMISSIONS = 401
FLAG_AT, FLAG_REC, FLAG_CA, FLAG_PO, FLAG_RD, FLAG_DNRF = (
    0x80000000, 0x10000000, 0x08000000, 0x01000000, 0x00800000, 0x00100000)
DEFAULT_FLAGS = FLAG_REC | FLAG_CA | FLAG_PO


def string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def resolution_body(handle: str, indexes=(), types=()) -> bytes:
    body = string(handle.encode())
    body += struct.pack(">I", len(indexes)) + b"".join(struct.pack(">I", i) for i in indexes)
    body += struct.pack(">I", len(types)) + b"".join(string(t.encode()) for t in types)
    return body


def request(body: bytes, opcode=OC_RESOLUTION, flags=DEFAULT_FLAGS, request_id=0x12345678,
            expiration=2000000000, version=(2, 11), response_code=0) -> bytes:
    header = struct.pack(">IIIHBBII", opcode, response_code, flags, 0, 0, 0, expiration, len(body))
    message = header + body + struct.pack(">I", 0)
    env = struct.pack(">BBBBIIII", version[0], version[1], version[0] & 0x1F, version[1], 0,
                      request_id, 0, len(message))
    return env + message


def resolution_request(handle: str, indexes=(), types=(), **kw) -> bytes:
    return request(resolution_body(handle, indexes, types), **kw)


class Reader:
    def __init__(self, data: bytes):
        self.d, self.p = data, 0

    def take(self, n: int) -> bytes:
        if self.p + n > len(self.d):
            raise ValueError(f"truncated at {self.p}+{n} of {len(self.d)}")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u8(self): return self.take(1)[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def string(self): return self.take(self.u32())


def parse_envelope(dgram: bytes) -> dict:
    major, minor, f2, f3, session, rid, seq, length = struct.unpack(">BBBBIIII", dgram[:20])
    return dict(major=major, minor=minor, flags=f2 & 0xE0, suggested=(f2 & 0x1F, f3),
                session=session, request_id=rid, sequence=seq, length=length)


def parse_value(r: Reader) -> dict:
    index, ts, ttl_type, ttl, perms = struct.unpack(">IIBIB", r.take(14))
    vtype = r.string().decode()
    data = r.string()
    refs = [(r.string().decode(), r.u32()) for _ in range(r.u32())]
    return dict(index=index, timestamp=ts, ttl_type=ttl_type, ttl=ttl, permissions=perms,
                type=vtype, data=data, refs=refs)


def parse_message(message: bytes) -> dict:
    """Header, body fields and credential of a reply message (envelope excluded)."""
    op, rc, flags, serial, rcount, _, expiration, body_len = struct.unpack(">IIIHBBII", message[:24])
    body = message[24:24 + body_len]
    tail = message[24 + body_len:]
    out = dict(opcode=op, rc=rc, flags=flags, site_serial=serial, recursion=rcount,
               expiration=expiration, body=body, credential_length=None)
    if len(tail) >= 4:
        out["credential_length"] = struct.unpack(">I", tail[:4])[0]
        out["trailing"] = len(tail) - 4 - out["credential_length"]
    r = Reader(body)
    if flags & FLAG_RD and rc != 0:
        htype = r.u8()
        out["digest"] = (htype, r.take({1: 16, 2: 20, 3: 32}[htype]))
    if op == OC_RESOLUTION and rc == RC_SUCCESS:
        out["handle"] = r.string().decode()
        out["values"] = [parse_value(r) for _ in range(r.u32())]
        out["leftover"] = len(body) - r.p
    elif rc == RC_PREFIX_REFERRAL:
        out["handle"] = r.string().decode()
        out["values"] = [parse_value(r) for _ in range(r.u32())] if r.p < len(body) else []
    elif op == OC_GET_SITE_INFO and rc == RC_SUCCESS:
        out["site"] = body[r.p:]
    else:
        out["message"] = r.string().decode("utf-8", "replace") if r.p < len(body) else ""
    return out


def request_digest(req: bytes) -> bytes:
    """SHA-256 of a request's header and body (RD), HANDLE.NET 9.2's choice."""
    body_len = struct.unpack(">I", req[40:44])[0]
    return hashlib.sha256(req[20:44 + body_len]).digest()


def reassemble(datagrams: list) -> bytes:
    """Joins the datagrams of one multi-datagram message by SequenceNumber (492-octet chunks)."""
    envs = [parse_envelope(d) for d in datagrams]
    total = envs[0]["length"]
    buf = bytearray(total)
    for e, d in zip(envs, datagrams):
        buf[e["sequence"] * 492:e["sequence"] * 492 + len(d) - 20] = d[20:]
    return bytes(buf)
