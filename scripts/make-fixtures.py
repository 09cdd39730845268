#!/usr/bin/python3
"""Writes the deterministic captures and configs the tests and the quick start use.

Run with Debian's python (it has scapy): `npm run fixtures` or `/usr/bin/python3 scripts/make-fixtures.py`.
Every timestamp, sequence number and IP id comes from fixed values or a seeded random.Random, and the
capture files are written by the small writers below (not scapy's), so the output is byte-for-byte the
same on every run and scapy version. Scapy only builds the packet bytes.

Output:
  test/fixtures/mixed.yaml, test/fixtures/captures/mixed.pcap       every feature of the pipeline
  test/fixtures/odd.yaml,   test/fixtures/captures/odd/*            malformed and unusual captures,
                                                                    with odd/manifest.json (expectations)
  examples/quickstart/network.yaml, examples/quickstart/traffic.pcap   what `npm start` replays
"""

import json
import os
import random
import struct
import sys

from scapy.config import conf

conf.verb = 0

from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP, fragment  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrSegmentRouting,
)
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures')
CAPTURES = os.path.join(FIXTURES, 'captures')
ODD = os.path.join(CAPTURES, 'odd')
QUICKSTART = os.path.join(ROOT, 'examples', 'quickstart')

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_LINUX_SLL2 = 276

# 2024-06-01T12:00:00Z, a multiple of 60 and of 120: windows start exactly at the capture's start.
MIXED_T0 = 1717243200
# 2024-06-01T09:00:00Z.
QUICKSTART_T0 = 1717232400

# The tiny network of mixed.pcap and the quick start.
GATEWAY_MAC = '02:00:0a:00:01:01'
WEB_MAC = '02:00:0a:00:01:0a'
DB_MAC = '02:00:0a:00:01:14'
WEB = '10.0.1.10'
WEB6 = '2001:db8:1::10'
DB = '10.0.1.20'
GATEWAY = '10.0.1.1'
RESOLVER = '10.0.0.2'
CLIENT_A = '203.0.113.5'
CLIENT_B = '198.51.100.7'
CLIENT6 = '2001:db8:beef::5'

LOCAL_MACS = {WEB: WEB_MAC, WEB6: WEB_MAC, DB: DB_MAC, GATEWAY: GATEWAY_MAC}


# --------------------------------------------------------------------------------------------------
# Capture file writers (pcap: classic, nanosecond, big-endian; pcapng), all by hand for determinism.

def write_pcap(path, frames, linktype=LINKTYPE_ETHERNET, snaplen=262144, nanos=False, big_endian=False,
               tail=b''):
    """frames: (time in integer nanoseconds, bytes[, original length]). tail: raw bytes appended at the end."""
    e = '>' if big_endian else '<'
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = bytearray(struct.pack(e + 'IHHiIII', magic, 2, 4, 0, 0, snaplen, linktype))
    for frame in frames:
        t_ns, data = frame[0], frame[1]
        orig = frame[2] if len(frame) > 2 else len(data)
        sec, frac_ns = divmod(t_ns, 1_000_000_000)
        frac = frac_ns if nanos else frac_ns // 1000
        out += struct.pack(e + 'IIII', sec, frac, len(data), orig)
        out += data
    out += tail
    _write(path, bytes(out))


def _pad4(data):
    return data + b'\0' * (-len(data) % 4)


def _pcapng_block(block_type, body):
    length = 12 + len(body)
    return struct.pack('<II', block_type, length) + body + struct.pack('<I', length)


def _pcapng_option(code, value):
    return struct.pack('<HH', code, len(value)) + _pad4(value)


def write_pcapng(path, interfaces, packets):
    """interfaces: (name, linktype, tsresol exponent[, if_tsoffset seconds]); packets: (interface index,
    time ns, bytes[, raw timestamp]). Times are absolute: the interface's offset is taken off before its
    units are written. A raw timestamp (64-bit, in the interface's units) is written as given instead."""
    _write(path, _pcapng_section(interfaces, packets))


def _pcapng_section(interfaces, packets):
    """One pcapng section (SHB, IDBs, EPBs) as bytes; see write_pcapng."""
    out = bytearray()
    shb_options = _pcapng_option(4, b'flowlog make-fixtures.py') + _pcapng_option(0, b'')
    out += _pcapng_block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + shb_options)
    for name, linktype, tsresol, *rest in interfaces:
        options = _pcapng_option(2, name.encode())
        if tsresol != 6:
            options += _pcapng_option(9, bytes([tsresol]))
        if rest and rest[0]:
            options += _pcapng_option(14, struct.pack('<q', rest[0]))
        options += _pcapng_option(0, b'')
        out += _pcapng_block(0x00000001, struct.pack('<HHI', linktype, 0, 262144) + options)
    for index, t_ns, data, *raw in packets:
        _, _, tsresol, *rest = interfaces[index]
        offset_ns = (rest[0] if rest else 0) * 1_000_000_000
        units = raw[0] if raw else (t_ns - offset_ns) // 10 ** (9 - tsresol)
        body = struct.pack('<IIIII', index, units >> 32, units & 0xFFFFFFFF, len(data), len(data))
        out += _pcapng_block(0x00000006, body + _pad4(data))
    return bytes(out)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def _write_text(path, text):
    _write(path, text.encode())


# --------------------------------------------------------------------------------------------------
# Traffic builder: hosts, frames on the wire, TCP conversations.

class Capture:
    """Frames of one capture, kept in time order when written. Times are seconds after t0."""

    def __init__(self, t0, seed, macs=None):
        self.t0_ns = t0 * 1_000_000_000
        self.rng = random.Random(seed)
        self.frames = []
        self.ip_ids = {}
        self.macs = dict(LOCAL_MACS if macs is None else macs)

    def mac(self, address):
        # Everything outside the subnet reaches the VMs through the gateway.
        return self.macs.get(address, GATEWAY_MAC)

    def add(self, t, frame):
        self.frames.append((self.t0_ns + round(t * 1_000_000) * 1000, len(self.frames), bytes(frame)))

    def ip_id(self, src):
        if src not in self.ip_ids:
            self.ip_ids[src] = self.rng.randrange(1, 60000)
        self.ip_ids[src] = (self.ip_ids[src] + 1) & 0xFFFF
        return self.ip_ids[src]

    def l3(self, src, dst, l4, ttl=None):
        outside = src not in self.macs
        if ':' in src:
            return IPv6(src=src, dst=dst, hlim=ttl or (52 if outside else 64)) / l4
        return IP(src=src, dst=dst, id=self.ip_id(src), ttl=ttl or (49 if outside else 64), flags='DF') / l4

    def send(self, t, src, dst, l4, vlan=None):
        frame = Ether(src=self.mac(src), dst=self.mac(dst))
        if vlan is not None:
            frame = frame / Dot1Q(vlan=vlan)
        self.add(t, frame / self.l3(src, dst, l4))

    def ping(self, t, src, dst, ident, count, reply=True, vlan=None, interval=1.0):
        v6 = ':' in src
        for seq in range(1, count + 1):
            at = t + (seq - 1) * interval
            payload = Raw(bytes(range(48)))
            request = ICMPv6EchoRequest(id=ident, seq=seq) if v6 else ICMP(type=8, id=ident, seq=seq)
            self.send(at, src, dst, request / payload, vlan)
            if reply:
                answer = ICMPv6EchoReply(id=ident, seq=seq) if v6 else ICMP(type=0, id=ident, seq=seq)
                self.send(at + 0.0007, dst, src, answer / payload, vlan)

    def dns(self, t, client, sport, name, answer_size=60):
        """A query to the VPC resolver and, when answer_size is not None, its answer."""
        query = b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + _qname(name) + b'\x00\x01\x00\x01'
        self.send(t, client, RESOLVER, UDP(sport=sport, dport=53) / Raw(query))
        if answer_size is not None:
            self.send(t + 0.0009, RESOLVER, client, UDP(sport=53, dport=sport) / Raw(query + bytes(answer_size)))

    def write(self, path, **options):
        frames = [(t, data) for t, _, data in sorted(self.frames)]
        write_pcap(path, frames, **options)
        return len(frames)


def _qname(name):
    return b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'


class Tcp:
    """One TCP connection between client and server, with real sequence numbers."""

    MSS = 1448

    def __init__(self, cap, client, sport, server, dport, rtt=0.02):
        self.cap, self.client, self.sport, self.server, self.dport = cap, client, sport, server, dport
        self.rtt = rtt
        self.seq = {True: cap.rng.randrange(2**32), False: cap.rng.randrange(2**32)}
        self.ack = {True: 0, False: 0}

    def segment(self, t, from_client, flags, size=0, fill=b'x', vlan=None):
        """One segment of size bytes taken from fill (repeated as needed)."""
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        options = [('MSS', 1460 if ':' not in src else 1440), ('SAckOK', b''), ('WScale', 7)] if 'S' in flags else []
        ack = self.ack[from_client] if 'A' in flags else 0
        tcp = TCP(sport=sport, dport=dport, flags=flags, seq=self.seq[from_client], ack=ack, window=502,
                  options=options)
        payload = (fill * (size // len(fill) + 1))[:size]
        self.cap.send(t, src, dst, tcp / Raw(payload) if size else tcp, vlan)
        consumed = size + (1 if 'S' in flags else 0) + (1 if 'F' in flags else 0)
        self.seq[from_client] = (self.seq[from_client] + consumed) & 0xFFFFFFFF
        self.ack[not from_client] = self.seq[from_client]
        return t

    def handshake(self, t):
        half = self.rtt / 2
        self.segment(t, True, 'S')
        self.segment(t + half, False, 'SA')
        self.segment(t + self.rtt, True, 'A')
        return t + self.rtt

    def transfer(self, t, from_client, size, fill=b'x'):
        """Sends size bytes in MSS segments; the receiver ACKs every second one and the last."""
        stream = (fill * (size // len(fill) + 1))[:size]
        sent = 0
        n = 0
        while sent < size:
            chunk = min(self.MSS, size - sent)
            piece = stream[sent:sent + chunk]
            sent += chunk
            n += 1
            last = sent >= size
            t += 0.0002
            self.segment(t, from_client, 'PA' if last else 'A', chunk, piece)
            if last or n % 2 == 0:
                self.segment(t + self.rtt / 2, not from_client, 'A')
        return t + self.rtt / 2

    def exchange(self, t, request, response, fill=b'x'):
        head = b'GET / HTTP/1.1\r\nHost: www.example.com\r\nCookie: '
        t = self.transfer(t, True, request, head + b'x' * max(0, request - len(head) - 4) + b'\r\n\r\n')
        return self.transfer(t + 0.003, False, response, fill)

    def close(self, t, from_client=True):
        half = self.rtt / 2
        self.segment(t, from_client, 'FA')
        self.segment(t + half, not from_client, 'FA')
        self.segment(t + self.rtt, from_client, 'A')
        return t + self.rtt


# --------------------------------------------------------------------------------------------------
# Configs

AWS_DEFAULT_FORMAT = ('${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} '
                      '${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}')

NETWORK_YAML = '''account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16, "2001:db8:1::/56"]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24, "2001:db8:1::/64"], az: kr1-az1 }
securityGroups:
  - id: sg-web
    vpc: vpc-0a1
    description: web server
    inbound:
      - { id: sgr-web-http, protocol: tcp, ports: "80", source: 0.0.0.0/0 }
      - { id: sgr-web-https, protocol: tcp, ports: "443", source: 0.0.0.0/0 }
      - { id: sgr-web-http6, protocol: tcp, ports: "80-443", source: "::/0" }
      - { id: sgr-web-ssh, protocol: tcp, ports: "22", source: 203.0.113.0/24 }
      - { id: sgr-web-ping, protocol: icmp, icmpType: 8, source: 203.0.113.0/24 }
      - { id: sgr-web-ping6, protocol: icmpv6, icmpType: 128, source: "::/0" }
      - { id: sgr-web-gre, protocol: 47, source: 203.0.113.0/24 }
    outbound:
      - { id: sgr-web-out, protocol: all, destination: 0.0.0.0/0 }
      - { id: sgr-web-out6, protocol: all, destination: "::/0" }
  - id: sg-db
    vpc: vpc-0a1
    description: database, reachable from the web tier only
    inbound:
      - { id: sgr-db-pg, protocol: tcp, ports: "5432", source: sg-web }
    outbound:
      - { id: sgr-db-out, protocol: all, destination: 10.0.0.0/16 }
interfaces:
  - id: eni-web1
    instance: i-web1
    subnet: subnet-0a1
    mac: "02:00:0a:00:01:0a"
    addresses: [10.0.1.10, "2001:db8:1::10"]
    device: tap-web1
    securityGroups: [sg-web]
  - id: eni-db1
    instance: i-db1
    subnet: subnet-0a1
    mac: "02:00:0a:00:01:14"
    addresses: [10.0.1.20]
    device: tap-db1
    securityGroups: [sg-db]
'''

MIXED_YAML_HEADER = '''# Config for test/fixtures/captures/mixed.pcap (written by scripts/make-fixtures.py; do not edit by hand).
#
# The capture: 2024-06-01 12:00:00Z to 12:02:56Z (windows 12:00, 12:01, 12:02 of 60 s; 12:00 and 12:02
# of 120 s), one Ethernet pcap holding the traffic of both interfaces (no device names: attribution is
# by address/MAC). eni-web1 = 10.0.1.10 + 2001:db8:1::10 (sg-web), eni-db1 = 10.0.1.20 (sg-db).
#
# Expected verdicts (ingress/egress relative to the interface):
#   ACCEPT  203.0.113.5, 198.51.100.7 -> web tcp/80 and tcp/443: handshakes, data, FIN closes; one
#           198.51.100.7:50001 -> 443 connection stays open 12:00:02..12:02:30 (a record in every window)
#   ACCEPT  203.0.113.5:40022 -> web tcp/22 (sgr-web-ssh)
#   REJECT  198.51.100.7:50022 -> web tcp/22: a SYN and 3 retransmits, no answer (no-matching-rule)
#   ACCEPT  web:45000 -> 198.51.100.7:443 (egress, outbound rule), ended by a RST from 198.51.100.7 at
#           12:00:41; then REJECT the late packet 198.51.100.7:443 -> web:45000 at 12:01:41 (ingress,
#           not-established: the connection is closed and no inbound rule allows port 45000)
#   ACCEPT  short connection 203.0.113.5:40090 -> web:443 in 10 ms (AWS tcp-flags: client 3, web 19;
#           NHN tcp_flag: client 19, web 19)
#   ACCEPT  web -> 10.0.0.2 udp/53 queries and their answers (answers by connection tracking)
#   ACCEPT  a 1800-byte DNS answer 10.0.0.2:53 -> web:53002 in two IPv4 fragments at 12:01:01: the first
#           has the UDP ports, the later one has none (ports 0); both should be ACCEPT (the later
#           fragment follows its first fragment's verdict)
#   ACCEPT  ICMP echo 203.0.113.5 -> web (sgr-web-ping) and replies; web -> 198.51.100.7 echo (egress)
#           and its replies (tracked); also one echo pair 203.0.113.5 <-> web tagged 802.1Q VLAN 100
#   REJECT  ICMP echo 198.51.100.7 -> web, 2 requests, no reply (only 203.0.113.0/24 may ping)
#   ACCEPT  IPv6 2001:db8:beef::5 -> [2001:db8:1::10]:80 TCP (sgr-web-http6) and ICMPv6 echo (sgr-web-ping6)
#   ACCEPT  GRE (protocol 47) 203.0.113.5 -> web, 2 packets (sgr-web-gre, a numbered protocol)
#   ACCEPT  web:46000 -> db:5432: web egress AND db ingress (sgr-db-pg, source = the sg-web group); the
#           answers db -> web likewise on both interfaces
#   REJECT  db:46100 -> web:22 (a SYN + 1 retransmit): ACCEPT on db (egress to 10.0.0.0/16 allowed),
#           REJECT on web (ingress: SSH only from 203.0.113.0/24)
#   not IP  2 ARP frames (counted as not-ip, no records)
#   NODATA  eni-db1 has no traffic in the windows 12:01 and 12:02 (fl-0001)
'''

MIXED_FLOW_LOGS = f'''flowLogs:
  - id: fl-0001
    resource: vpc-0a1
    trafficType: ALL
    aggregationInterval: 60
    logFormat: "{AWS_DEFAULT_FORMAT}"
    fileFormat: text
    destination: file:///tmp/flowlog-fixtures/mixed
    layout: aws
    compression: gzip
  - id: fl-nhn01
    resource: subnet-0a1
    trafficType: ALL
    aggregationInterval: 120
    fileFormat: nhn-csv
    destination: file:///tmp/flowlog-fixtures/mixed-nhn
    layout: nhn
    compression: gzip
'''

ODD_YAML = f'''# Config for the captures in test/fixtures/captures/odd/ (written by scripts/make-fixtures.py).
# The same network as mixed.yaml. What each capture holds and how every frame should decode:
# captures/odd/manifest.json. Nothing in them may crash flowlog; bad frames are counted by reason.
{NETWORK_YAML}flowLogs:
  - id: fl-odd
    resource: vpc-0a1
    trafficType: ALL
    aggregationInterval: 60
    logFormat: "{AWS_DEFAULT_FORMAT}"
    fileFormat: text
    destination: file:///tmp/flowlog-fixtures/odd
    layout: aws
    compression: none
'''


# --------------------------------------------------------------------------------------------------
# mixed.pcap

def make_mixed():
    cap = Capture(MIXED_T0, seed=20240601)

    # ARP: web asks for its gateway (not IP: no records).
    cap.add(0.2, Ether(src=WEB_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=WEB_MAC, psrc=WEB, pdst=GATEWAY))
    cap.add(0.2004, Ether(src=GATEWAY_MAC, dst=WEB_MAC) /
            ARP(op=2, hwsrc=GATEWAY_MAC, psrc=GATEWAY, hwdst=WEB_MAC, pdst=WEB))

    cap.dns(0.5, WEB, 53001, 'www.example.com')

    # HTTP with a full close.
    c = Tcp(cap, CLIENT_A, 40001, WEB, 80)
    t = c.handshake(1.0)
    t = c.exchange(t + 0.001, 120, 3500)
    c.close(t + 0.05)

    # A long HTTPS connection, open across all three 60 s windows.
    long = Tcp(cap, CLIENT_B, 50001, WEB, 443, rtt=0.04)
    t = long.handshake(2.0)
    t = long.transfer(t + 0.001, True, 517)  # ClientHello
    t = long.transfer(t + 0.002, False, 4200)  # ServerHello .. Finished
    for at in range(17, 150, 15):
        t = long.transfer(float(at), True, 380)
        long.transfer(t + 0.004, False, 1200 + 97 * at % 900)
    long.close(150.5)

    cap.ping(5.0, CLIENT_A, WEB, 0x1234, 3)
    cap.ping(8.0, WEB, CLIENT_B, 0x2222, 2)
    cap.ping(9.0, CLIENT_B, WEB, 0x3333, 2, reply=False)

    # SSH allowed from 203.0.113.0/24.
    s = Tcp(cap, CLIENT_A, 40022, WEB, 22)
    t = s.handshake(10.0)
    t = s.transfer(t + 0.01, False, 41, b'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')
    t = s.transfer(t + 0.01, True, 39, b'SSH-2.0-OpenSSH_9.6\r\n')
    for i in range(6):
        t = s.transfer(t + 0.3, i % 2 == 0, 180 + 40 * i)
    s.close(t + 1.0)

    # SSH from 198.51.100.7: the group drops it, the client retransmits its SYN.
    r = Tcp(cap, CLIENT_B, 50022, WEB, 22)
    for at in (20.0, 21.0, 23.0, 27.0):
        r.seq[True] = (r.seq[True] - 1) & 0xFFFFFFFF if at > 20.0 else r.seq[True]
        r.segment(at, True, 'S')

    # web -> db, seen on both interfaces.
    d = Tcp(cap, WEB, 46000, DB, 5432, rtt=0.0004)
    t = d.handshake(30.0)
    t = d.exchange(t + 0.001, 90, 2600)
    d.close(t + 0.01)

    # db -> web:22 is allowed out of db but not into web.
    x = Tcp(cap, DB, 46100, WEB, 22)
    x.segment(33.0, True, 'S')
    x.seq[True] = (x.seq[True] - 1) & 0xFFFFFFFF
    x.segment(34.0, True, 'S')

    # Outbound connection ended by the peer's RST, then a late packet from the peer.
    o = Tcp(cap, WEB, 45000, CLIENT_B, 443)
    t = o.handshake(40.0)
    t = o.transfer(t + 0.001, True, 517)
    t = o.transfer(t + 0.002, False, 1800)
    o.segment(41.0, False, 'R')
    o.segment(101.0, False, 'PA', 100)

    # A short connection: open and closed within 10 ms.
    q = Tcp(cap, CLIENT_A, 40090, WEB, 443, rtt=0.002)
    t = q.handshake(45.0)
    q.close(t + 0.004, from_client=False)

    # IPv6.
    v6 = Tcp(cap, CLIENT6, 40100, WEB6, 80)
    t = v6.handshake(50.0)
    t = v6.exchange(t + 0.001, 110, 2000)
    v6.close(t + 0.02)
    cap.ping(52.0, CLIENT6, WEB6, 0x6666, 2)

    # An 802.1Q tagged echo pair.
    cap.ping(55.0, CLIENT_A, WEB, 0x4444, 1, vlan=100)

    # GRE carrying an inner IPv4 packet.
    for i, at in enumerate((57.0, 57.5)):
        inner = IP(src='192.168.50.1', dst='192.168.50.2', id=100 + i) / ICMP(type=8, id=7, seq=i + 1)
        cap.send(at, CLIENT_A, WEB, GRE(proto=0x0800) / inner)

    # A DNS answer too big for one frame: two IPv4 fragments (first with the UDP header, then the rest).
    cap.dns(60.9, WEB, 53002, 'big.example.com', answer_size=None)
    query = b'\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00' + _qname('big.example.com') + b'\x00\x10\x00\x01'
    answer = IP(src=RESOLVER, dst=WEB, id=cap.ip_id(RESOLVER), ttl=64) / UDP(sport=53, dport=53002) / Raw(
        query + bytes(1800 - 8 - len(query)))
    for i, piece in enumerate(fragment(answer, fragsize=1480)):
        cap.add(61.0 + i * 0.00002, Ether(src=GATEWAY_MAC, dst=WEB_MAC) / piece)

    # Ordinary web traffic through the three windows.
    rng = cap.rng
    port = 41000
    for at in [63.0, 68.5, 75.0, 82.0, 90.5, 97.0, 110.0, 118.5, 125.0, 133.0, 141.5, 160.0, 168.0, 175.5]:
        client = (CLIENT_A, CLIENT_B, CLIENT6)[int(at) % 3]
        server = WEB6 if client == CLIENT6 else WEB
        conn = Tcp(cap, client, port, server, 80 if int(at) % 2 else 443)
        port += 1
        t = conn.handshake(at)
        t = conn.exchange(t + 0.001, 100 + rng.randrange(300), 300 + rng.randrange(5000))
        conn.close(t + 0.03)

    cap.dns(170.0, WEB, 53003, 'updates.example.org')
    return cap.write(os.path.join(CAPTURES, 'mixed.pcap'))


# --------------------------------------------------------------------------------------------------
# odd/ captures

def _eth(packet, src=CLIENT_A):
    """An Ethernet frame around an IP packet (scapy or bytes): from the gateway to web, or from src if local."""
    data = bytes(packet)
    ethertype = 0x86DD if data[0] >> 4 == 6 else 0x0800
    header = Ether(src=LOCAL_MACS.get(src, GATEWAY_MAC), dst=GATEWAY_MAC if src in LOCAL_MACS else WEB_MAC,
                   type=ethertype)
    return bytes(header) + data


def _set_ihl(raw_ip, ihl):
    """Rewrites the IHL of an IPv4 packet (bytes) without fixing anything else."""
    data = bytearray(raw_ip)
    data[0] = 0x40 | ihl
    return bytes(data)


def _set_total_length(raw_ip, length):
    data = bytearray(raw_ip)
    data[2:4] = struct.pack('>H', length)
    return bytes(data)


def _fixed_ipv4(packet):
    """IPv4 header checksum recomputed after hand edits (keeps the fault the only fault)."""
    data = bytearray(packet)
    ihl = (data[0] & 0x0F) * 4
    if ihl < 20 or ihl > len(data):
        return bytes(data)
    data[10:12] = b'\0\0'
    total = 0
    for i in range(0, ihl, 2):
        total += (data[i] << 8) | data[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    data[10:12] = struct.pack('>H', ~total & 0xFFFF)
    return bytes(data)


def _sll(pkttype, mac, proto, payload):
    address = bytes.fromhex(mac.replace(':', '')) + b'\0\0'
    return struct.pack('>HHH', pkttype, 1, 6) + address + struct.pack('>H', proto) + payload


def _sll2(pkttype, ifindex, mac, proto, payload):
    address = bytes.fromhex(mac.replace(':', '')) + b'\0\0'
    return struct.pack('>HHIHBB', proto, 0, ifindex, 1, pkttype, 6) + address + payload


def _pppoe_session_raw(ppp):
    """A PPPoE session frame (code 0, session 0x2a01) from the gateway to web around a PPP frame (bytes)."""
    header = struct.pack('>BBHH', 0x11, 0x00, 0x2A01, len(ppp))
    return bytes(Ether(src=GATEWAY_MAC, dst=WEB_MAC, type=0x8864)) + header + ppp


def _pppoe_discovery():
    """A PADI (code 0x09) broadcast with an empty Service-Name tag."""
    tags = struct.pack('>HH', 0x0101, 0)
    return bytes(Ether(src=GATEWAY_MAC, dst='ff:ff:ff:ff:ff:ff', type=0x8863)) + struct.pack(
        '>BBHH', 0x11, 0x09, 0, len(tags)) + tags


def _pppoe(frame, vlan=None, compressed=False):
    """An Ethernet frame (bytes) re-sent as a PPPoE session frame, keeping its MACs: PPP 0x0021 or 0x0057,
    in one byte when `compressed` (Protocol-Field-Compression)."""
    ip = frame[14:]
    protocol = 0x0057 if ip[0] >> 4 == 6 else 0x0021
    ppp = (bytes([protocol]) if compressed else struct.pack('>H', protocol)) + ip
    header = struct.pack('>BBHH', 0x11, 0x00, 0x2A01, len(ppp))
    tag = struct.pack('>HH', vlan, 0x8864) if vlan is not None else b''
    ethertype = 0x8100 if vlan is not None else 0x8864
    return frame[:12] + struct.pack('>H', ethertype) + tag + header + ppp


PROVIDER_MACS = bytes.fromhex('02000000f002' '02000000f001')


def _mpls(frame, labels, vlan=None, ethertype=0x8847, pseudowire=False):
    """An Ethernet frame (bytes) re-sent under an MPLS label stack (TTL 64, bottom of stack on the last):
    its IP packet, keeping its MACs; or, as an Ethernet pseudowire, the whole frame after a control word
    (RFC 4448), between two provider routers."""
    stack = b''.join(struct.pack('>I', (label << 12) | ((1 if i == len(labels) - 1 else 0) << 8) | 64)
                     for i, label in enumerate(labels))
    tag = struct.pack('>HH', vlan, ethertype) if vlan is not None else b''
    outer = PROVIDER_MACS if pseudowire else frame[:12]
    payload = struct.pack('>I', 0) + frame if pseudowire else frame[14:]
    return outer + struct.pack('>H', 0x8100 if vlan is not None else ethertype) + tag + stack + payload


def make_odd():
    t0 = (MIXED_T0 + 3600) * 1_000_000_000
    ms = 1_000_000
    manifest = []

    def tcp_ip(sport=40500, dport=80, flags='S', size=0, src=CLIENT_A, dst=WEB, ident=1):
        l4 = TCP(sport=sport, dport=dport, flags=flags, seq=1000, ack=0 if 'A' not in flags else 1)
        return bytes(IP(src=src, dst=dst, id=ident, ttl=49) / (l4 / Raw(bytes(size)) if size else l4))

    def udp_ip(sport=53, dport=53010, size=32, src=RESOLVER, dst=WEB, ident=1):
        return bytes(IP(src=src, dst=dst, id=ident, ttl=64) / UDP(sport=sport, dport=dport) / Raw(bytes(size)))

    def entry(name, link, description, expect, **extra):
        manifest.append({'file': name, 'linkType': link, 'description': description, 'expect': expect, **extra})

    # Truncated last record: the file ends inside the 4th packet.
    frames = [(t0 + i * ms, _eth(udp_ip(ident=i + 1), RESOLVER)) for i in range(3)]
    last = _eth(udp_ip(ident=4), RESOLVER)
    tail = struct.pack('<IIII', (t0 + 3 * ms) // 10**9, (t0 + 3 * ms) % 10**9 // 1000, len(last), len(last)) + last[:20]
    write_pcap(os.path.join(ODD, 'truncated-last.pcap'), frames, tail=tail)
    entry('truncated-last.pcap', LINKTYPE_ETHERNET, 'three good UDP frames, then a record header promising '
          f'{len(last)} bytes of which only 20 are in the file', ['ok', 'ok', 'ok'], truncatedRecords=1)

    # Snap length cut: headers complete, payload missing; bytes must come from the IP total length.
    full = [_eth(tcp_ip(flags='A', size=1460, ident=10 + i)) for i in range(3)]
    frames = [(t0 + i * ms, f[:68], len(f)) for i, f in enumerate(full)]
    cut_header = _eth(tcp_ip(flags='A', size=1460, ident=13))
    frames.append((t0 + 3 * ms, cut_header[:14 + 20 + 6], len(cut_header)))
    write_pcap(os.path.join(ODD, 'snaplen.pcap'), frames, snaplen=68)
    entry('snaplen.pcap', LINKTYPE_ETHERNET, 'snaplen 68: three 1514-byte TCP frames cut to 68 bytes '
          '(headers complete; bytes = IP total length 1500 each), then one cut inside the TCP header',
          ['ok', 'ok', 'ok', 'truncated-transport-header'], ipLengths=[1500, 1500, 1500, None])

    # Bad IHL.
    good = tcp_ip(ident=20)
    frames = [(t0, _eth(good)),
              (t0 + ms, _eth(_set_ihl(tcp_ip(ident=21), 4))),
              (t0 + 2 * ms, _eth(_set_ihl(tcp_ip(ident=22), 0)))]
    write_pcap(os.path.join(ODD, 'bad-ihl.pcap'), frames)
    entry('bad-ihl.pcap', LINKTYPE_ETHERNET, 'a good TCP SYN, then IHL 4 and IHL 0',
          ['ok', 'bad-ip-header-length', 'bad-ip-header-length'])

    # IPv4 total length shorter than its header.
    frames = [(t0, _eth(tcp_ip(ident=30))),
              (t0 + ms, _eth(_fixed_ipv4(_set_total_length(tcp_ip(ident=31), 10)))),
              (t0 + 2 * ms, _eth(_fixed_ipv4(_set_total_length(tcp_ip(ident=32), 19))))]
    write_pcap(os.path.join(ODD, 'ip-total-length-short.pcap'), frames)
    entry('ip-total-length-short.pcap', LINKTYPE_ETHERNET, 'a good TCP SYN, then total length 10 and 19 '
          '(< the 20-byte header; checksums correct)', ['ok', 'bad-ip-total-length', 'bad-ip-total-length'])

    # IPv6 extension header chains.
    srh = IPv6ExtHdrSegmentRouting(addresses=[WEB6, '2001:db8:1::1'], segleft=0)
    chain = (IPv6(src=CLIENT6, dst=WEB6, hlim=52) / IPv6ExtHdrHopByHop() / srh / IPv6ExtHdrDestOpt() /
             IPv6ExtHdrFragment(offset=0, m=0, id=0x1001) / TCP(sport=40600, dport=443, flags='S', seq=1))
    chain2 = (IPv6(src=CLIENT6, dst=WEB6, hlim=52) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
              IPv6ExtHdrSegmentRouting(addresses=[WEB6], segleft=0) / IPv6ExtHdrDestOpt() /
              UDP(sport=40601, dport=5001) / Raw(bytes(24)))
    datagram = UDP(sport=40602, dport=5000) / Raw(bytes(range(256)) * 6)  # 1544 bytes of UDP
    raw_datagram = bytes(IPv6(src=CLIENT6, dst=WEB6, hlim=52) / datagram)[40:]
    first = (IPv6(src=CLIENT6, dst=WEB6, hlim=52, nh=44) /
             IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0x2002) / Raw(raw_datagram[:1200]))
    later = (IPv6(src=CLIENT6, dst=WEB6, hlim=52, nh=44) /
             IPv6ExtHdrFragment(nh=17, offset=150, m=0, id=0x2002) / Raw(raw_datagram[1200:]))
    # Hop-by-hop header promised, but the payload is only 4 bytes long (an extension needs at least 8).
    short = bytearray(bytes(IPv6(src=CLIENT6, dst=WEB6, hlim=52, nh=0, plen=4)) + b'\x06\x00\x00\x00')
    frames = [(t0 + i * ms, _eth(p, CLIENT6)) for i, p in enumerate([chain, chain2, first, later])]
    frames.append((t0 + 4 * ms, _eth(bytes(short), CLIENT6)))
    write_pcap(os.path.join(ODD, 'ipv6-extensions.pcap'), frames)
    entry('ipv6-extensions.pcap', LINKTYPE_ETHERNET,
          'IPv6: hop-by-hop + routing (SRH) + destination options + atomic fragment + TCP SYN to 443; '
          'HBH + dest-opts + routing + dest-opts + UDP; a first fragment (UDP header, ports 40602 -> 5000) '
          'and its later fragment (no ports); then a hop-by-hop header cut short',
          ['ok', 'ok', 'ok', 'ok', 'truncated-ipv6-extension'],
          protocols=[6, 17, 17, 17, None], fragments=[0, 0, 1, 2, None])

    # Truncated transport headers (the IP datagram itself is too short, not the capture).
    syn = tcp_ip(ident=40)
    tcp_short = _fixed_ipv4(_set_total_length(syn[:30], 30))
    udp_short = _fixed_ipv4(_set_total_length(udp_ip(ident=41)[:24], 24))
    frames = [(t0, _eth(tcp_short)), (t0 + ms, _eth(udp_short, RESOLVER))]
    write_pcap(os.path.join(ODD, 'truncated-transport.pcap'), frames)
    entry('truncated-transport.pcap', LINKTYPE_ETHERNET, 'IPv4 datagrams holding 10 bytes of a TCP header '
          'and 4 bytes of a UDP header', ['truncated-transport-header', 'truncated-transport-header'])

    # TCP data offset below 5 words.
    frames = []
    for i, offset in enumerate((4, 0)):
        data = bytearray(tcp_ip(ident=50 + i))
        data[20 + 12] = (offset << 4) | (data[20 + 12] & 0x0F)
        frames.append((t0 + i * ms, _eth(bytes(data))))
    write_pcap(os.path.join(ODD, 'tcp-data-offset.pcap'), frames)
    entry('tcp-data-offset.pcap', LINKTYPE_ETHERNET, 'TCP SYNs with data offset 4 and 0 (< 5 words)',
          ['bad-tcp-header-length', 'bad-tcp-header-length'])

    # QinQ: 802.1ad outer tag + 802.1Q inner tag, and two stacked 802.1Q tags.
    echo = IP(src=CLIENT_A, dst=WEB, id=60, ttl=49) / ICMP(type=8, id=0x5151, seq=1) / Raw(bytes(32))
    qinq = Ether(src=GATEWAY_MAC, dst=WEB_MAC) / Dot1AD(vlan=200) / Dot1Q(vlan=100) / echo
    qq = Ether(src=GATEWAY_MAC, dst=WEB_MAC) / Dot1Q(vlan=300) / Dot1Q(vlan=100) / echo
    write_pcap(os.path.join(ODD, 'qinq.pcap'), [(t0, bytes(qinq)), (t0 + ms, bytes(qq))])
    entry('qinq.pcap', LINKTYPE_ETHERNET, 'ICMP echo 203.0.113.5 -> 10.0.1.10 under 802.1ad 200 + 802.1Q 100, '
          'then under 802.1Q 300 + 802.1Q 100 (outermost VLAN 200, then 300)', ['ok', 'ok'], vlans=[200, 300])

    # Linux cooked captures (tcpdump -i any): v1 (LINKTYPE_LINUX_SLL) and v2 (LINKTYPE_LINUX_SLL2).
    incoming = tcp_ip(flags='S', ident=70)
    outgoing = tcp_ip(sport=80, dport=40500, flags='SA', src=WEB, dst=CLIENT_A, ident=71)
    v6 = bytes(IPv6(src=CLIENT6, dst=WEB6, hlim=52) / TCP(sport=40700, dport=80, flags='S', seq=5))
    sll = [(t0, _sll(0, GATEWAY_MAC, 0x0800, incoming)),
           (t0 + ms, _sll(4, WEB_MAC, 0x0800, outgoing)),
           (t0 + 2 * ms, _sll(0, GATEWAY_MAC, 0x86DD, v6))]
    write_pcap(os.path.join(ODD, 'sll.pcap'), sll, linktype=LINKTYPE_LINUX_SLL)
    entry('sll.pcap', LINKTYPE_LINUX_SLL, 'Linux cooked v1: SYN in (to us), SYN-ACK out (outgoing), an IPv6 SYN',
          ['ok', 'ok', 'ok'])
    sll2 = [(t0, _sll2(0, 7, GATEWAY_MAC, 0x0800, incoming)),
            (t0 + ms, _sll2(4, 7, WEB_MAC, 0x0800, outgoing)),
            (t0 + 2 * ms, _sll2(0, 7, GATEWAY_MAC, 0x86DD, v6))]
    write_pcap(os.path.join(ODD, 'sll2.pcap'), sll2, linktype=LINKTYPE_LINUX_SLL2)
    entry('sll2.pcap', LINKTYPE_LINUX_SLL2, 'Linux cooked v2 (ifindex 7): the same three packets as sll.pcap',
          ['ok', 'ok', 'ok'])

    # Raw IP link types: LINKTYPE_IPV4 (228) and LINKTYPE_RAW (101, IPv4 or IPv6 by version nibble).
    write_pcap(os.path.join(ODD, 'raw-ipv4.pcap'), [(t0, incoming), (t0 + ms, outgoing)], linktype=LINKTYPE_IPV4)
    entry('raw-ipv4.pcap', LINKTYPE_IPV4, 'LINKTYPE_IPV4: SYN and SYN-ACK, no link header', ['ok', 'ok'])
    write_pcap(os.path.join(ODD, 'raw.pcap'), [(t0, incoming), (t0 + ms, outgoing), (t0 + 2 * ms, v6)],
               linktype=LINKTYPE_RAW)
    entry('raw.pcap', LINKTYPE_RAW, 'LINKTYPE_RAW: IPv4 SYN, IPv4 SYN-ACK, IPv6 SYN', ['ok', 'ok', 'ok'])

    # pcapng with two interfaces: web -> db seen on both taps (tap-db1 has nanosecond timestamps).
    cap = Capture(MIXED_T0 + 3600, seed=7)
    d = Tcp(cap, WEB, 46200, DB, 5432, rtt=0.0004)
    t = d.handshake(0.0)
    t = d.exchange(t + 0.001, 90, 600)
    d.close(t + 0.01)
    h = Tcp(cap, CLIENT_A, 40800, WEB, 80)
    t = h.handshake(0.5)
    h.close(t + 0.01)
    packets = []
    for t_ns, _, data in sorted(cap.frames):
        ip = IP(data[14:])
        on_web = WEB in (ip.src, ip.dst)
        on_db = DB in (ip.src, ip.dst)
        if on_web:
            packets.append((0, t_ns, data))
        if on_db:
            packets.append((1, t_ns + 1234, data))
    write_pcapng(os.path.join(ODD, 'two-interfaces.pcapng'),
                 [('tap-web1', LINKTYPE_ETHERNET, 6), ('tap-db1', LINKTYPE_ETHERNET, 9)], packets)
    entry('two-interfaces.pcapng', LINKTYPE_ETHERNET, 'pcapng, interface 0 tap-web1 (µs), interface 1 tap-db1 '
          '(if_tsresol 9, ns): a web -> db:5432 connection seen on both devices (the db copy 1234 ns later), '
          'and an HTTP handshake+close 203.0.113.5 -> web on tap-web1 only',
          ['ok'] * len(packets), devices=['tap-web1' if i == 0 else 'tap-db1' for i, _, _ in packets])

    # Nanosecond and big-endian classic pcap.
    frames = [(t0 + i * ms + 123, _eth(tcp_ip(ident=80 + i, sport=40900 + i))) for i in range(3)]
    write_pcap(os.path.join(ODD, 'nanosecond.pcap'), frames, nanos=True)
    entry('nanosecond.pcap', LINKTYPE_ETHERNET, 'magic a1b23c4d: three SYNs at ...000123 ns past the ms',
          ['ok', 'ok', 'ok'], firstTimeNs=str(t0 + 123))
    write_pcap(os.path.join(ODD, 'big-endian.pcap'), frames, big_endian=True)
    entry('big-endian.pcap', LINKTYPE_ETHERNET, 'big-endian header and records (µs): the same three SYNs',
          ['ok', 'ok', 'ok'], firstTimeNs=str(t0))

    # PPPoE sessions (RFC 2516), some behind an 802.1Q tag as access networks send them.
    cap = Capture(MIXED_T0 + 7200, seed=11)
    h = Tcp(cap, CLIENT_A, 41000, WEB, 80)
    t = h.handshake(0.0)
    t = h.exchange(t + 0.001, 120, 3000)
    h.close(t + 0.01)
    cap.ping(1.0, CLIENT6, WEB6, ident=0x6161, count=2)
    cap.dns(1.5, WEB, 53100, 'pppoe.example.org')
    frames = [(0, _pppoe_discovery())]
    for i, (t_ns, _, data) in enumerate(sorted(cap.frames)):
        frames.append((t_ns, _pppoe(data, vlan=10 if i % 3 == 1 else None, compressed=i % 5 == 4)))
    lcp = bytes.fromhex('c021' '0101000e' '0104 05d4' '0506 1a2b3c4d'.replace(' ', ''))
    frames.append((frames[-1][0] + ms, _pppoe_session_raw(lcp)))
    write_pcap(os.path.join(ODD, 'pppoe.pcap'), frames)
    entry('pppoe.pcap', LINKTYPE_ETHERNET, 'PPPoE: a PADI (discovery, not IP), then session frames (0x8864) '
          'carrying an HTTP connection 203.0.113.5 -> web (PPP 0x0021), an IPv6 ping (PPP 0x0057) and a DNS '
          'query and answer, every third behind 802.1Q 10, every fifth with the PPP protocol compressed to one '
          'byte; then an LCP configure-request (not IP)',
          ['not-ip'] + ['ok'] * len(cap.frames) + ['not-ip'],
          vlans=[-1] + [10 if i % 3 == 1 else -1 for i in range(len(cap.frames))] + [-1])

    # MPLS label stacks (RFC 3032): one label, two behind 802.1Q, three, multicast, explicit null.
    cap = Capture(MIXED_T0 + 7300, seed=12)
    h = Tcp(cap, CLIENT_B, 41100, WEB, 443)
    t = h.handshake(0.0)
    t = h.exchange(t + 0.001, 200, 5000)
    h.close(t + 0.01)
    cap.dns(0.5, WEB, 53200, 'mpls.example.org')
    cap.ping(0.8, CLIENT6, WEB6, ident=0x6262, count=2)
    cap.send(1.2, WEB, DB, UDP(sport=40000, dport=5000) / Raw(bytes(40)))
    stacks = [([1000], None, 0x8847, False), ([2000, 16], 20, 0x8847, False), ([3000, 17, 7], None, 0x8847, False),
              ([4000], None, 0x8848, False), ([0], None, 0x8847, False), ([5000, 300], None, 0x8847, True)]
    frames = []
    for i, (t_ns, _, data) in enumerate(sorted(cap.frames)):
        labels, vlan, ethertype, pseudowire = stacks[i % len(stacks)]
        frames.append((t_ns, _mpls(data, labels, vlan, ethertype, pseudowire)))
    write_pcap(os.path.join(ODD, 'mpls.pcap'), frames)
    entry('mpls.pcap', LINKTYPE_ETHERNET, 'MPLS: an HTTPS connection 198.51.100.7 -> web, a DNS query and '
          'answer, an IPv6 ping and a UDP datagram web -> db, frames cycling through stacks of 1 label, '
          '2 labels behind 802.1Q 20, 3 labels, 1 label as 0x8848 (multicast), the IPv4 explicit null label and '
          'an Ethernet pseudowire (2 labels, control word, the whole frame)',
          ['ok'] * len(frames), vlans=[20 if i % len(stacks) == 1 else -1 for i in range(len(frames))])

    # pcapng whose two interfaces are written in 45-s batches: each batch goes back in time by up to
    # 45 s, far more than a window's lateness, so only a reorder across interfaces keeps every packet.
    cap = Capture(MIXED_T0 + 7500, seed=13)
    for k in range(60):
        cap.ping(k * 5.0 + 0.1, CLIENT_A, WEB, ident=0x7000 + k, count=1)
    for k in range(12):
        d = Tcp(cap, WEB, 46300 + k, DB, 5432, rtt=0.0004)
        t = d.handshake(k * 25.0 + 3.0)
        t = d.exchange(t + 0.001, 90, 600)
        d.close(t + 0.01)
        cap.dns(k * 25.0 + 7.0, DB, 53300 + k, 'db.example.org')
    batches = {}
    for t_ns, _, data in sorted(cap.frames):
        ip = IP(data[14:])
        span = 0 if CLIENT_A in (ip.src, ip.dst) else 1
        batch = (t_ns - cap.t0_ns) // (45 * 1_000_000_000)
        batches.setdefault((batch, span), []).append((span, t_ns, data))
    packets = [p for key in sorted(batches) for p in batches[key]]
    write_pcapng(os.path.join(ODD, 'interfaces-out-of-order.pcapng'),
                 [('span0', LINKTYPE_ETHERNET, 6), ('span1', LINKTYPE_ETHERNET, 9)], packets)
    ordered = sorted(packets, key=lambda p: p[1])
    entry('interfaces-out-of-order.pcapng', LINKTYPE_ETHERNET, 'pcapng, span0 (µs) and span1 (ns) written in '
          'alternate 45-s batches over 300 s: pings 203.0.113.5 -> web on span0, web -> db:5432 connections and '
          'db DNS on span1; read back in time order', ['ok'] * len(packets),
          devices=['span0' if span == 0 else 'span1' for span, _, _ in ordered])

    # Corrupt and impossible timestamps: 2^64 - 1 µs (18446744073709 s) and past 9999 in a first section,
    # before 1970 in a second one whose interface has if_tsoffset -2000000000 s. Each is bad input,
    # counted as bad-timestamp; one interface per section, so the frames come back in file order.
    cap = Capture(MIXED_T0 + 7800, seed=14)
    h = Tcp(cap, CLIENT_A, 41200, WEB, 80)
    t = h.handshake(0.0)
    h.close(t + 0.01)
    good = [(0, t_ns, data) for t_ns, _, data in sorted(cap.frames)]
    first = good[:2] + [(0, None, _eth(tcp_ip(sport=41201, ident=91)), 2**64 - 1)] + good[2:4] + [
        (0, 253402300800 * 10**9 + 5 * 10**9, _eth(tcp_ip(sport=41202, ident=92)))] + good[4:]
    second = [(0, -1999999000 * 10**9, _eth(udp_ip(ident=90), RESOLVER)),
              (0, -1 * 10**9, _eth(udp_ip(ident=93), RESOLVER))]
    _write(os.path.join(ODD, 'bad-timestamps.pcapng'),
           _pcapng_section([('span0', LINKTYPE_ETHERNET, 6)], first) +
           _pcapng_section([('span1', LINKTYPE_ETHERNET, 6, -2000000000)], second))
    entry('bad-timestamps.pcapng', LINKTYPE_ETHERNET, 'pcapng: an HTTP handshake and close 203.0.113.5 -> web '
          'with a SYN stamped 2^64 - 1 µs (corrupt) and one stamped 10000-01-01T00:00:05Z among them; then a '
          'second section whose interface has if_tsoffset -2000000000 s, with two UDP frames stamped 1906 and '
          '1969: four bad-timestamp frames',
          ['ok' if p[1] is not None and 0 <= p[1] < (253402300800 - 900) * 10**9 else 'bad-timestamp'
           for p in first + second])

    with open(os.path.join(ODD, 'manifest.json'), 'w') as f:
        json.dump({'comment': 'Written by scripts/make-fixtures.py. expect: the decode result name (DECODE_NAMES '
                              'in src/core/packet-view.ts) of each frame the reader returns, in order.',
                   'captures': manifest}, f, indent=2, ensure_ascii=False)
        f.write('\n')
    return len(manifest)


# --------------------------------------------------------------------------------------------------
# examples/quickstart

QUICKSTART_HEADER = '''# flowlog quick start: `npm start` replays traffic.pcap (2024-06-01 09:00:00Z to 09:02:39Z) against
# this network and writes AWS-style flow-log files (gzip text, one per 60 s window) under ./flowlogs-out
# (npm start passes --out flowlogs-out; without --out they go to /tmp/flowlog-quickstart).
#
# The network: a VPC with one subnet, a web server (eni-web1, 10.0.1.10, group sg-web) and its database
# (eni-db1, 10.0.1.20, group sg-db). What you will see in the files (zcat flowlogs-out/AWSLogs/.../*.log.gz):
#   ACCEPT  visitors 203.0.113.0/24 and 192.0.2.0/24 browsing the web server on ports 80 and 443
#   ACCEPT  the web server querying the database on 5432 (records on BOTH interfaces: egress on eni-web1,
#           ingress on eni-db1), and its DNS lookups to the VPC resolver 10.0.0.2
#   ACCEPT  an administrator's SSH session from the office network 192.0.2.0/24
#   REJECT  198.51.100.66 trying SSH on the web server again and again (a brute-force attempt)
#   REJECT  198.51.100.66 scanning ports 1-1024 of the web server, and trying the database directly
#   REJECT  a packet from an already closed connection (198.51.100.20 answering after its own RST)
#   NODATA  one record for eni-db1 in the window where it saw no traffic
# Edit the security groups below (e.g. allow 198.51.100.0/24 to port 22) and run `npm start` again to see
# the verdicts change.
'''

QUICKSTART_FLOW_LOGS = f'''flowLogs:
  - id: fl-quickstart
    resource: vpc-0a1
    trafficType: ALL
    aggregationInterval: 60
    logFormat: "{AWS_DEFAULT_FORMAT}"
    fileFormat: text
    destination: file:///tmp/flowlog-quickstart
    layout: aws
    compression: gzip
'''

QUICKSTART_NETWORK = '''account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24], az: kr1-az1 }
securityGroups:
  - id: sg-web
    vpc: vpc-0a1
    description: public web server
    inbound:
      - { id: sgr-web-http, protocol: tcp, ports: "80", source: 0.0.0.0/0, description: public HTTP }
      - { id: sgr-web-https, protocol: tcp, ports: "443", source: 0.0.0.0/0, description: public HTTPS }
      - { id: sgr-web-ssh, protocol: tcp, ports: "22", source: 192.0.2.0/24, description: office SSH }
      - { id: sgr-web-ping, protocol: icmp, icmpType: 8, source: 192.0.2.0/24, description: office ping }
    outbound:
      - { id: sgr-web-out, protocol: all, destination: 0.0.0.0/0 }
  - id: sg-db
    vpc: vpc-0a1
    description: database, only the web tier may connect
    inbound:
      - { id: sgr-db-pg, protocol: tcp, ports: "5432", source: sg-web }
    outbound:
      - { id: sgr-db-out, protocol: all, destination: 10.0.0.0/16 }
interfaces:
  - id: eni-web1
    instance: i-web1
    subnet: subnet-0a1
    mac: "02:00:0a:00:01:0a"
    addresses: [10.0.1.10]
    securityGroups: [sg-web]
  - id: eni-db1
    instance: i-db1
    subnet: subnet-0a1
    mac: "02:00:0a:00:01:14"
    addresses: [10.0.1.20]
    securityGroups: [sg-db]
'''


def make_quickstart():
    cap = Capture(QUICKSTART_T0, seed=9000)
    rng = cap.rng
    office, attacker, mirror = '192.0.2.10', '198.51.100.66', '198.51.100.20'
    visitors = ['203.0.113.5', '203.0.113.17', '203.0.113.42', '192.0.2.77']

    # Visitors browsing, each page view a connection, and a database query behind most of them.
    port = 50000
    db_port = 47000
    for i, at in enumerate([1.0, 4.5, 9.0, 15.2, 22.0, 31.5, 38.0, 47.3, 58.0, 66.0, 74.4, 83.0, 95.5, 104.0,
                            112.0, 126.0, 133.3, 141.0, 150.0, 158.5]):
        if 58.0 < at < 120.0 and i % 2:
            continue
        visitor = visitors[i % len(visitors)]
        web = Tcp(cap, visitor, port, WEB, 443 if i % 3 else 80, rtt=0.03)
        port += 7
        t = web.handshake(at)
        t = web.transfer(t + 0.001, True, 300 + rng.randrange(400))
        if at < 60.0 or at > 120.0:  # the database has a quiet minute
            q = Tcp(cap, WEB, db_port, DB, 5432, rtt=0.0004)
            db_port += 1
            qt = q.handshake(t + 0.002)
            qt = q.exchange(qt + 0.0005, 80 + rng.randrange(100), 200 + rng.randrange(3000))
            q.close(qt + 0.001)
            t = qt + 0.01
        t = web.transfer(t + 0.002, False, 800 + rng.randrange(9000))
        web.close(t + 0.2)

    cap.dns(0.5, WEB, 40001, 'api.payments.example')
    cap.dns(64.0, WEB, 40002, 'api.payments.example')
    cap.dns(130.0, WEB, 40003, 'cdn.example.net')

    # The administrator: ping, then an SSH session.
    cap.ping(10.0, office, WEB, 0x0101, 2)
    ssh = Tcp(cap, office, 51022, WEB, 22, rtt=0.012)
    t = ssh.handshake(12.0)
    for i in range(12):
        t = ssh.transfer(t + 0.4 + rng.random(), i % 3 != 0, 60 + rng.randrange(600))
    ssh.close(t + 0.5)

    # Brute force: new SSH connection attempts every couple of seconds, all dropped (SYN + 1 retry).
    for i in range(18):
        at = 20.0 + i * 7.5
        b = Tcp(cap, attacker, 33000 + i * 11, WEB, 22)
        b.segment(at, True, 'S')
        b.seq[True] = (b.seq[True] - 1) & 0xFFFFFFFF
        b.segment(at + 1.0, True, 'S')

    # A port scan of the web server, ports 1-1024 (every 16th port, so the file stays small), and the db.
    for i, p in enumerate(range(1, 1025, 16)):
        Tcp(cap, attacker, 61000, WEB, p).segment(70.0 + i * 0.02, True, 'S')
    for i in range(3):
        Tcp(cap, attacker, 61000, DB, 5432).segment(140.0 + i, True, 'S')

    # An outbound update check, reset by the mirror, which then sends one more (late) packet.
    o = Tcp(cap, WEB, 45500, mirror, 443, rtt=0.05)
    t = o.handshake(100.0)
    t = o.transfer(t + 0.001, True, 517)
    t = o.transfer(t + 0.002, False, 3000)
    o.segment(t + 0.5, False, 'R')
    o.segment(t + 45.0, False, 'PA', 200)

    n = cap.write(os.path.join(QUICKSTART, 'traffic.pcap'))
    _write_text(os.path.join(QUICKSTART, 'network.yaml'), QUICKSTART_HEADER + QUICKSTART_NETWORK + QUICKSTART_FLOW_LOGS)
    return n


def main():
    n_mixed = make_mixed()
    _write_text(os.path.join(FIXTURES, 'mixed.yaml'), MIXED_YAML_HEADER + NETWORK_YAML + MIXED_FLOW_LOGS)
    _write_text(os.path.join(FIXTURES, 'odd.yaml'), ODD_YAML)
    n_odd = make_odd()
    n_quick = make_quickstart()
    print(f'mixed.pcap: {n_mixed} frames; odd/: {n_odd} captures; quickstart traffic.pcap: {n_quick} frames')
    return 0


if __name__ == '__main__':
    sys.exit(main())
