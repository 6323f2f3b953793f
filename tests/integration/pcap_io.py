"""Classic pcap files (LINKTYPE_ETHERNET) and the frames in them, in plain Python: a writer and a
reader, builders for Ethernet (+ 802.1Q), IPv4 (options optional), IPv6, UDP, ARP, ICMP and
ICMPv6 echo and Neighbor Solicitation, and a decoder that checks every checksum itself. Written
from the RFCs, not from the daemon's code, so the pcap test checks the daemon against a second
implementation (as handle_codec.py does for the Handle protocol)."""
import ipaddress
import struct

LINKTYPE_ETHERNET = 1
PCAP_MAGIC = 0xA1B2C3D4       # microsecond timestamps
PCAP_MAGIC_NS = 0xA1B23C4D    # nanosecond timestamps
ETH_IPV4, ETH_ARP, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x0806, 0x86DD, 0x8100, 0x88A8
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_FRAGMENT, PROTO_ICMPV6 = 1, 6, 17, 44, 58
IPV4_DF = 0x4000
IPV4_MF = 0x2000


# --- pcap files ---------------------------------------------------------------------------------

def write_pcap(path, frames, snaplen=65535, start=1_700_000_000):
    """One record per frame, 1 ms apart, captured whole."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", start + i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """The frames of a classic pcap file of either byte order and timestamp precision."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} octets, no pcap header")
    for order in ("<", ">"):
        magic = struct.unpack(order + "I", data[:4])[0]
        if magic in (PCAP_MAGIC, PCAP_MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a classic pcap file (magic {data[:4].hex()})")
    linktype = struct.unpack(order + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    frames, at = [], 24
    while at < len(data):
        if len(data) - at < 16:
            raise ValueError(f"{path}: truncated record header at {at}")
        _, _, caplen, wirelen = struct.unpack(order + "IIII", data[at:at + 16])
        at += 16
        if caplen != wirelen or len(data) - at < caplen:
            raise ValueError(f"{path}: record at {at - 16} captured {caplen} of {wirelen} octets")
        frames.append(data[at:at + caplen])
        at += caplen
    return frames


# --- checksums and addresses --------------------------------------------------------------------

def internet_checksum(data: bytes) -> int:
    """RFC 1071: the ones' complement of the ones' complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(addr):
    """An ipaddress object from text or one already made."""
    return addr if isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address)) \
        else ipaddress.ip_address(addr)


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def pseudo_header(src, dst, proto: int, length: int) -> bytes:
    """RFC 768 (IPv4) / RFC 8200 section 8.1 (IPv6) pseudo-header."""
    s, d = ip(src), ip(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack(">BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack(">IxxxB", length, proto)


def solicited_node(target) -> ipaddress.IPv6Address:
    """RFC 4291 section 2.7.1: ff02::1:ff00:0/104 plus the low 24 bits."""
    return ipaddress.IPv6Address(b"\xff\x02" + b"\0" * 9 + b"\x01\xff" + ip(target).packed[13:])


def multicast_mac(group) -> bytes:
    """RFC 2464 section 7: 33:33 and the low 32 bits of an IPv6 multicast address."""
    return b"\x33\x33" + ip(group).packed[12:]


# --- builders -----------------------------------------------------------------------------------

def vlan_tags(vlans):
    """(TPID, TCI) pairs, outermost first, from TCIs (802.1Q) or (TPID, TCI) pairs."""
    return [v if isinstance(v, tuple) else (ETH_VLAN, v) for v in vlans]


def ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes, vlans=(), pad=True) -> bytes:
    """Ethernet II with VLAN tags `vlans` (see vlan_tags), zero-padded to the 60-octet minimum
    unless pad=False."""
    tags = b"".join(struct.pack(">HH", tpid, tci) for tpid, tci in vlan_tags(vlans))
    frame = dst + src + tags + struct.pack(">H", ethertype) + payload
    return frame + b"\0" * (60 - len(frame)) if pad and len(frame) < 60 else frame


def ipv4(src, dst, proto: int, payload: bytes, ttl=64, ident=0, flags_offset=IPV4_DF,
         options=b"", tos=0, total_length=None, checksum=None) -> bytes:
    """RFC 791 header (options padded to 32 bits) + payload; the header checksum is computed
    unless `checksum` forces a value."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    total = total_length if total_length is not None else ihl * 4 + len(payload)
    header = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, tos, total, ident, flags_offset, ttl, proto, 0,
                         ip(src).packed, ip(dst).packed) + options
    c = internet_checksum(header) if checksum is None else checksum
    return header[:10] + struct.pack(">H", c) + header[12:] + payload


def ipv6(src, dst, next_header: int, payload: bytes, hop_limit=64, payload_length=None) -> bytes:
    """RFC 8200 fixed header + payload (extension headers, if any, are in `payload`)."""
    plen = len(payload) if payload_length is None else payload_length
    return struct.pack(">IHBB", 0x60000000, plen, next_header, hop_limit) + \
        ip(src).packed + ip(dst).packed + payload


def udp(src, dst, sport: int, dport: int, payload: bytes, checksum=None) -> bytes:
    """RFC 768 header + payload; the checksum over the pseudo-header of `src`/`dst` unless forced
    (0 means "none", legal over IPv4 only)."""
    length = 8 + len(payload)
    head = struct.pack(">HHHH", sport, dport, length, 0)
    if checksum is None:
        checksum = internet_checksum(pseudo_header(src, dst, PROTO_UDP, length) + head + payload) or 0xFFFF
    return head[:6] + struct.pack(">H", checksum) + payload


def udp_ip(src, dst, sport: int, dport: int, payload: bytes, **ip_kw) -> bytes:
    """An IPv4 or IPv6 packet (by the address family) carrying one UDP datagram."""
    seg = udp(src, dst, sport, dport, payload, checksum=ip_kw.pop("udp_checksum", None))
    if ip(src).version == 4:
        return ipv4(src, dst, PROTO_UDP, seg, **ip_kw)
    return ipv6(src, dst, PROTO_UDP, seg, **ip_kw)


def arp(op: int, sha: bytes, spa, tha: bytes, tpa) -> bytes:
    """RFC 826 over Ethernet / IPv4: 28 octets."""
    return struct.pack(">HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, op, sha, ip(spa).packed, tha, ip(tpa).packed)


def arp_request(sha: bytes, spa, tpa, vlans=()) -> bytes:
    return ethernet(b"\xff" * 6, sha, ETH_ARP, arp(1, sha, spa, b"\0" * 6, tpa), vlans)


def icmp_echo(ident: int, seq: int, data: bytes, icmp_type=8) -> bytes:
    """RFC 792 echo request (type 8) or reply (type 0) with its checksum."""
    head = struct.pack(">BBHHH", icmp_type, 0, 0, ident, seq)
    c = internet_checksum(head + data)
    return head[:2] + struct.pack(">H", c) + head[4:] + data


def icmpv6(src, dst, icmp_type: int, code: int, rest: bytes) -> bytes:
    """RFC 4443 message: type, code, checksum over the pseudo-header, then `rest`."""
    msg = struct.pack(">BBH", icmp_type, code, 0) + rest
    c = internet_checksum(pseudo_header(src, dst, PROTO_ICMPV6, len(msg)) + msg)
    return msg[:2] + struct.pack(">H", c) + msg[4:]


def icmpv6_echo(src, dst, ident: int, seq: int, data: bytes, icmp_type=128) -> bytes:
    return icmpv6(src, dst, icmp_type, 0, struct.pack(">HH", ident, seq) + data)


def neighbor_solicitation(src_mac: bytes, src, target, vlans=()) -> bytes:
    """RFC 4861 section 4.3 to the target's solicited-node group, hop limit 255, with a Source
    Link-Layer Address option."""
    group = solicited_node(target)
    body = b"\0" * 4 + ip(target).packed + b"\x01\x01" + src_mac
    return ethernet(multicast_mac(group), src_mac, ETH_IPV6,
                    ipv6(src, group, PROTO_ICMPV6, icmpv6(src, group, 135, 0, body), hop_limit=255),
                    vlans)


def fragment_header(next_header: int, offset8: int, more: bool, ident: int) -> bytes:
    """RFC 8200 section 4.5."""
    return struct.pack(">BBHI", next_header, 0, (offset8 << 3) | int(more), ident)


# --- decoding -----------------------------------------------------------------------------------

class Frame:
    """One decoded frame: Ethernet, VLAN tags, then ARP, IPv4 or IPv6 and UDP / ICMP / ICMPv6.
    Every checksum is verified here; a field is None where the frame has no such layer."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.dst_mac, self.src_mac = raw[:6], raw[6:12]
        self.vlans = []
        at = 12
        etype = struct.unpack(">H", raw[at:at + 2])[0]
        at += 2
        while etype in (ETH_VLAN, ETH_QINQ):
            self.vlans.append((etype, struct.unpack(">H", raw[at:at + 2])[0]))
            etype = struct.unpack(">H", raw[at + 2:at + 4])[0]
            at += 4
        self.ethertype, self.l3_offset = etype, at
        self.family = self.src = self.dst = self.proto = self.l4_offset = None
        self.ip_ok = self.l4_ok = None
        self.sport = self.dport = self.payload = self.arp = None
        self.ipv4_id = self.ttl = None
        if etype == ETH_ARP:
            f = struct.unpack(">HHBBH6s4s6s4s", raw[at:at + 28])
            self.arp = dict(op=f[4], sha=f[5], spa=ipaddress.IPv4Address(f[6]), tha=f[7],
                            tpa=ipaddress.IPv4Address(f[8]))
            self.end = at + 28
        elif etype == ETH_IPV4:
            self._ipv4(at)
        elif etype == ETH_IPV6:
            self._ipv6(at)
        else:
            self.end = len(raw)
        self.padding = raw[self.end:]

    def _ipv4(self, at):
        h = self.raw[at:]
        ihl = (h[0] & 0x0F) * 4
        total, self.ipv4_id, self.ipv4_flags, self.ttl, self.proto = struct.unpack(">HHHBB", h[2:10])
        self.family, self.ip_header_length = 4, ihl
        self.src, self.dst = ipaddress.IPv4Address(h[12:16]), ipaddress.IPv4Address(h[16:20])
        self.ip_ok = internet_checksum(h[:ihl]) == 0
        self.l4_offset, self.end = at + ihl, at + total
        self._l4()

    def _ipv6(self, at):
        h = self.raw[at:]
        plen, self.proto, self.ttl = struct.unpack(">HBB", h[4:8])
        self.family, self.ip_header_length = 6, 40
        self.src, self.dst = ipaddress.IPv6Address(h[8:24]), ipaddress.IPv6Address(h[24:40])
        self.l4_offset, self.end = at + 40, at + 40 + plen
        self._l4()

    def _l4(self):
        seg = self.raw[self.l4_offset:self.end]
        if self.proto == PROTO_UDP:
            self.sport, self.dport, length, stored = struct.unpack(">HHHH", seg[:8])
            self.udp_length = length
            self.payload = seg[8:length]
            self.l4_ok = length == len(seg) and stored != 0 and internet_checksum(
                pseudo_header(self.src, self.dst, PROTO_UDP, length) + seg[:length]) == 0
        elif self.proto == PROTO_ICMP:
            self.icmp_type = seg[0]
            self.payload = seg
            self.l4_ok = internet_checksum(seg) == 0
        elif self.proto == PROTO_ICMPV6:
            self.icmp_type = seg[0]
            self.payload = seg
            self.l4_ok = internet_checksum(
                pseudo_header(self.src, self.dst, PROTO_ICMPV6, len(seg)) + seg) == 0

    def __repr__(self):
        if self.arp:
            return f"<ARP op {self.arp['op']} {self.arp['spa']} -> {self.arp['tpa']}>"
        return (f"<{self.ethertype:#06x} vlan {self.vlans} {self.src} -> {self.dst} proto {self.proto} "
                f"ports {self.sport}->{self.dport} {len(self.raw)} octets>")
