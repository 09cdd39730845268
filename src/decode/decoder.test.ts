import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { hex } from '../../test/support/pcap-writer.js'
import { formatAddress, formatMac } from '../core/address.js'
import { LINKTYPE, newFrame } from '../core/frame.js'
import { DECODE, DECODE_NAMES, type DecodeResult, PacketView } from '../core/packet-view.js'
import { decodeFrame } from './decoder.js'

// ---- Hex building blocks. Each line is one field group; checksums are zero (never verified). ----

const h8 = (n: number) => n.toString(16).padStart(2, '0')
const h16 = (n: number) => n.toString(16).padStart(4, '0')

const ETH =
  '02000a000002' + // destination MAC 02:00:0a:00:00:02
  '02000a000001' // source MAC 02:00:0a:00:00:01
const ETH_IPV4 = `${ETH}0800` // EtherType IPv4
/** The customer's MACs inside a pseudowire: 0a:00:00:00:00:0b <- 0a:00:00:00:00:0a. */
const INNER_ETH = '0a000000000b' + '0a000000000a'
const ETH_IPV6 = `${ETH}86dd` // EtherType IPv6

/** An IPv4 header; `options` is extra hex after the 20 fixed bytes (IHL follows it unless given). */
function ipv4(f: {
  protocol: number
  total: number
  id?: number
  flags?: number
  ihl?: number
  options?: string
}) {
  const options = f.options ?? ''
  const ihl = f.ihl ?? 5 + options.length / 8
  return (
    `4${ihl.toString(16)}00${h16(f.total)}` + // version 4, IHL, TOS 0, total length
    `${h16(f.id ?? 0x1234)}${h16(f.flags ?? 0)}` + // identification, flags + fragment offset
    `40${h8(f.protocol)}0000` + // TTL 64, protocol, checksum
    '0a000001' + // source 10.0.0.1
    '0a000002' + // destination 10.0.0.2
    options
  )
}

/** An IPv6 header from 2001:db8::1 to 2001:db8::2. */
function ipv6(f: { next: number; payload: number }) {
  return (
    '60000000' + // version 6, traffic class 0, flow label 0
    `${h16(f.payload)}${h8(f.next)}40` + // payload length, next header, hop limit 64
    '20010db8000000000000000000000001' + // source 2001:db8::1
    '20010db8000000000000000000000002' // destination 2001:db8::2
  )
}

const TCP_SYN =
  'c3500050' + // source port 50000, destination port 80
  '00000001' + // sequence number
  '00000000' + // acknowledgment number
  '5002ffff' + // data offset 5, flags SYN, window
  '00000000' // checksum, urgent pointer
const TCP_SYN_ACK = TCP_SYN.replace('5002ffff', '5012ffff') // flags SYN|ACK
const UDP_DNS =
  'd4310035' + // source port 54321, destination port 53
  '0008' + // length 8
  '0000' // checksum
const ICMP_ECHO =
  '0800' + // type 8 echo request, code 0
  '0000' + // checksum
  '4d2e0001' // identifier 0x4d2e, sequence 1
const ICMPV6_ECHO = `80000000${'4d2e0001'}` // type 128 echo request, code 0, checksum; identifier, sequence

/** An IPv6 extension header in 8-octet units: next header, length, then zero padding. */
const ext8 = (next: number, units = 0) => `${h8(next)}${h8(units)}${'00'.repeat(6 + units * 8)}`

const V4_TCP = ipv4({ protocol: 6, total: 40 }) + TCP_SYN

const V6_UDP = ipv6({ next: 17, payload: 8 }) + UDP_DNS

interface Expected {
  ipVersion?: number
  protocol?: number
  src?: string
  dst?: string
  srcPort?: number
  dstPort?: number
  tcpFlags?: number
  ipLength?: number
  icmpType?: number
  icmpCode?: number
  icmpId?: number
  fragment?: number
  fragmentId?: number
  srcMac?: string | number
  dstMac?: string | number
  vlan?: number
}

interface Case {
  name: string
  linkType: number
  bytes: string
  /** Cut the capture to this many bytes (snap length). */
  captured?: number
  result: DecodeResult
  expect?: Expected
}

const TCP_V4_FIELDS: Expected = {
  ipVersion: 4,
  protocol: 6,
  src: '10.0.0.1',
  dst: '10.0.0.2',
  srcPort: 50000,
  dstPort: 80,
  tcpFlags: 2,
  ipLength: 40,
}
const UDP_V6_FIELDS: Expected = {
  ipVersion: 6,
  protocol: 17,
  src: '2001:db8::1',
  dst: '2001:db8::2',
  srcPort: 54321,
  dstPort: 53,
  ipLength: 48,
}

const { ETHERNET, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, NFLOG } = LINKTYPE

const linkCases: Case[] = [
  {
    name: 'Ethernet IPv4 TCP SYN',
    linkType: ETHERNET,
    bytes: ETH_IPV4 + V4_TCP,
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, dstMac: '02:00:0a:00:00:02', srcMac: '02:00:0a:00:00:01', vlan: -1 },
  },
  {
    name: 'Ethernet padded to 60 bytes (padding is not IP)',
    linkType: ETHERNET,
    bytes: ETH_IPV4 + ipv4({ protocol: 17, total: 28 }) + UDP_DNS + '00'.repeat(18),
    result: DECODE.OK,
    expect: { ipLength: 28, srcPort: 54321 },
  },
  {
    name: '802.1Q tag',
    linkType: ETHERNET,
    bytes: `${ETH}8100` + '2064' + '0800' + V4_TCP, // TPID; PCP 1, VID 100; inner EtherType IPv4
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, vlan: 100 },
  },
  {
    name: '802.1ad QinQ (outer S-VLAN recorded)',
    linkType: ETHERNET,
    bytes: `${ETH}88a8` + '00c8' + '8100' + '0064' + '86dd' + V6_UDP, // S-TAG VID 200; C-TAG VID 100; IPv6
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, vlan: 200 },
  },
  {
    name: 'legacy 0x9100 QinQ',
    linkType: ETHERNET,
    bytes: `${ETH}9100` + '0fff' + '8100' + '0001' + '0800' + V4_TCP, // VID 4095; VID 1; IPv4
    result: DECODE.OK,
    expect: { vlan: 4095, srcPort: 50000 },
  },
  {
    name: 'four tags (the limit)',
    linkType: ETHERNET,
    bytes: `${ETH}8100${'00058100'.repeat(3)}00050800${V4_TCP}`,
    result: DECODE.OK,
    expect: { vlan: 5 },
  },
  {
    name: 'five tags',
    linkType: ETHERNET,
    bytes: `${ETH}8100${'00058100'.repeat(4)}00050800${V4_TCP}`,
    result: DECODE.TOO_MANY_VLAN_TAGS,
  },
  {
    name: 'a VLAN tag cut short',
    linkType: ETHERNET,
    bytes: `${ETH}8100` + '0064', // TPID, VID 100, no inner EtherType
    result: DECODE.TRUNCATED_LINK,
  },
  { name: 'a 13-byte Ethernet frame', linkType: ETHERNET, bytes: ETH + '08', result: DECODE.TRUNCATED_LINK },
  {
    name: 'ARP',
    linkType: ETHERNET,
    bytes: `${ETH}0806` + '0001080006040001', // EtherType ARP; htype, ptype, sizes, request
    result: DECODE.NOT_IP,
    expect: { srcMac: '02:00:0a:00:00:01', ipVersion: 0 },
  },
  { name: 'LLDP', linkType: ETHERNET, bytes: `${ETH}88cc` + '0207', result: DECODE.NOT_IP },
  {
    name: '802.3 length field (LLC)',
    linkType: ETHERNET,
    bytes: `${ETH}0026` + 'aaaa03',
    result: DECODE.NOT_IP,
  },
  {
    name: 'PPPoE session, PPP IPv4',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '1234' + h16(42) + '0021' + V4_TCP, // ver/type, code 0, session, length; PPP IPv4
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, vlan: -1 },
  },
  {
    name: 'PPPoE session behind an 802.1Q tag, PPP IPv6',
    linkType: ETHERNET,
    bytes: `${ETH}8100` + '0064' + '8864' + '1100' + '0001' + h16(50) + '0057' + V6_UDP,
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, vlan: 100 },
  },
  {
    name: 'PPPoE session with a compressed PPP protocol field (0x21)',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '1234' + h16(41) + '21' + V4_TCP,
    result: DECODE.OK,
    expect: TCP_V4_FIELDS,
  },
  {
    name: 'PPPoE session with a compressed field of another protocol (0x23)',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '1234' + h16(41) + '23' + V4_TCP,
    result: DECODE.NOT_IP,
  },
  {
    name: 'PPPoE session carrying LCP',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '0001' + '000a' + 'c021' + '0901000800000000', // LCP echo request
    result: DECODE.NOT_IP,
  },
  {
    name: 'PPPoE discovery (PADI)',
    linkType: ETHERNET,
    bytes: `${ETH}8863` + '1109' + '0000' + '0004' + '01010000',
    result: DECODE.NOT_IP,
  },
  {
    name: 'PPPoE session with a discovery code',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '11a7' + '0001' + h16(42) + '0021' + V4_TCP, // code PADT on the session EtherType
    result: DECODE.NOT_IP,
  },
  {
    name: 'PPPoE session cut inside the PPP protocol',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '0001' + h16(42) + '00',
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'PPPoE session header with no PPP protocol',
    linkType: ETHERNET,
    bytes: `${ETH}8864` + '1100' + '0001' + h16(0),
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'MPLS, one label (bottom of stack), IPv4',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '003e8140' + V4_TCP, // label 1000, TC 0, S 1, TTL 64
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, vlan: -1 },
  },
  {
    name: 'MPLS, three labels behind 802.1Q, IPv6',
    linkType: ETHERNET,
    bytes: `${ETH}8100` + '00c8' + '8847' + '003e8040' + '00001040' + '00064140' + V6_UDP, // S only on the last
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, vlan: 200 },
  },
  {
    name: 'MPLS multicast (0x8848), IPv4',
    linkType: ETHERNET,
    bytes: `${ETH}8848` + '00010140' + V4_TCP,
    result: DECODE.OK,
    expect: TCP_V4_FIELDS,
  },
  {
    name: 'MPLS, eight labels (the limit)',
    linkType: ETHERNET,
    bytes: `${ETH}8847${'00010040'.repeat(7)}00010140${V4_TCP}`,
    result: DECODE.OK,
    expect: { srcPort: 50000 },
  },
  {
    name: 'MPLS, nine labels',
    linkType: ETHERNET,
    bytes: `${ETH}8847${'00010040'.repeat(8)}00010140${V4_TCP}`,
    result: DECODE.TOO_MANY_MPLS_LABELS,
  },
  {
    name: 'MPLS stack without bottom of stack, cut by the capture',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010040' + '0001',
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'MPLS with nothing after the bottom label',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140',
    result: DECODE.TRUNCATED_IP,
  },
  {
    name: 'MPLS Ethernet pseudowire: control word, then the customer frame (its MACs)',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + '00000007' + `${INNER_ETH}0800` + V4_TCP, // CW sequence 7
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, dstMac: '0a:00:00:00:00:0b', srcMac: '0a:00:00:00:00:0a', vlan: -1 },
  },
  {
    name: 'MPLS Ethernet pseudowire without control word (MAC not starting with nibble 0)',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + 'a00000000001' + 'a00000000002' + '86dd' + V6_UDP,
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, dstMac: 'a0:00:00:00:00:01', srcMac: 'a0:00:00:00:00:02' },
  },
  {
    name: 'pseudowire behind an outer VLAN, with its own VLAN inside (the outer id is recorded)',
    linkType: ETHERNET,
    bytes:
      `${ETH}8100` +
      '0064' +
      '8847' +
      '00010140' +
      '00000000' +
      `${INNER_ETH}8100` +
      '00c8' +
      '0800' +
      V4_TCP,
    result: DECODE.OK,
    expect: { vlan: 100, srcPort: 50000 },
  },
  {
    name: 'pseudowire without an outer VLAN, with one inside',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + '00000000' + `${INNER_ETH}8100` + '00c8' + '0800' + V4_TCP,
    result: DECODE.OK,
    expect: { vlan: 200 },
  },
  {
    name: 'pseudowire associated channel (nibble 1)',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + '10000021' + V4_TCP,
    result: DECODE.NOT_IP,
  },
  {
    name: 'MPLS inside a pseudowire is not followed again',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + '00000000' + `${INNER_ETH}8847` + '00010140' + V4_TCP,
    result: DECODE.NOT_IP,
  },
  {
    name: 'pseudowire cut inside the customer frame header',
    linkType: ETHERNET,
    bytes: `${ETH}8847` + '00010140' + '00000000' + INNER_ETH,
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'Linux cooked v1, IPv4 TCP',
    linkType: LINUX_SLL,
    bytes:
      '0000' + // packet type: to us
      '0001' + // ARPHRD_ETHER
      '0006' + // address length 6
      '02000a0000010000' + // source MAC, 2 bytes padding
      '0800' + // protocol IPv4
      V4_TCP,
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, srcMac: '02:00:0a:00:00:01', dstMac: -1 },
  },
  {
    name: 'Linux cooked v1 with a VLAN tag',
    linkType: LINUX_SLL,
    bytes: '0004' + '0001' + '0006' + '02000a0000010000' + '8100' + '0064' + '0800' + V4_TCP, // outgoing; VLAN 100
    result: DECODE.OK,
    expect: { vlan: 100, srcPort: 50000 },
  },
  {
    name: 'Linux cooked v1 from a non-Ethernet device (no MAC)',
    linkType: LINUX_SLL,
    bytes: '0000' + '0300' + '0000' + '0000000000000000' + '86dd' + V6_UDP, // ARPHRD_TUNNEL6 (768), no address
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, srcMac: -1 },
  },
  {
    name: 'Linux cooked v1 cut short',
    linkType: LINUX_SLL,
    bytes: '00'.repeat(15),
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'Linux cooked v2, IPv6 UDP',
    linkType: LINUX_SLL2,
    bytes:
      '86dd' + // protocol IPv6
      '0000' + // reserved
      '00000003' + // interface index 3
      '0001' + // ARPHRD_ETHER
      '00' + // packet type: to us
      '06' + // address length 6
      '02000a0000010000' + // source MAC, padding
      V6_UDP,
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, srcMac: '02:00:0a:00:00:01', dstMac: -1 },
  },
  {
    name: 'Linux cooked v2, ARP',
    linkType: LINUX_SLL2,
    bytes: '0806' + '0000' + '00000003' + '0001' + '00' + '06' + '02000a0000010000' + '0001080006040001',
    result: DECODE.NOT_IP,
  },
  {
    name: 'Linux cooked v2 cut short',
    linkType: LINUX_SLL2,
    bytes: '00'.repeat(19),
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'raw IPv4',
    linkType: RAW,
    bytes: V4_TCP,
    result: DECODE.OK,
    expect: { ...TCP_V4_FIELDS, srcMac: -1 },
  },
  { name: 'raw IPv6', linkType: RAW, bytes: V6_UDP, result: DECODE.OK, expect: UDP_V6_FIELDS },
  {
    name: 'raw IP with version 5',
    linkType: RAW,
    bytes: `5${V4_TCP.slice(1)}`,
    result: DECODE.BAD_IP_VERSION,
  },
  { name: 'raw IP with no bytes', linkType: RAW, bytes: '', result: DECODE.TRUNCATED_IP },
  { name: 'old DLT_RAW (12)', linkType: 12, bytes: V4_TCP, result: DECODE.OK, expect: TCP_V4_FIELDS },
  { name: 'LINKTYPE_IPV4', linkType: IPV4, bytes: V4_TCP, result: DECODE.OK, expect: TCP_V4_FIELDS },
  { name: 'LINKTYPE_IPV4 holding IPv6', linkType: IPV4, bytes: V6_UDP, result: DECODE.BAD_IP_VERSION },
  { name: 'LINKTYPE_IPV6', linkType: IPV6, bytes: V6_UDP, result: DECODE.OK, expect: UDP_V6_FIELDS },
  { name: 'LINKTYPE_IPV6 holding IPv4', linkType: IPV6, bytes: V4_TCP, result: DECODE.BAD_IP_VERSION },
  {
    name: 'BSD loopback, little-endian AF_INET',
    linkType: NULL,
    bytes: '02000000' + V4_TCP, // family 2, host byte order (little-endian)
    result: DECODE.OK,
    expect: TCP_V4_FIELDS,
  },
  {
    name: 'BSD loopback, big-endian AF_INET',
    linkType: NULL,
    bytes: '00000002' + V4_TCP, // family 2, big-endian host
    result: DECODE.OK,
    expect: TCP_V4_FIELDS,
  },
  {
    name: 'BSD loopback, macOS AF_INET6 (30)',
    linkType: NULL,
    bytes: '1e000000' + V6_UDP,
    result: DECODE.OK,
    expect: UDP_V6_FIELDS,
  },
  {
    name: 'OpenBSD LOOP, AF_INET6 (24) in network order',
    linkType: 108,
    bytes: '00000018' + V6_UDP,
    result: DECODE.OK,
    expect: UDP_V6_FIELDS,
  },
  { name: 'BSD loopback, unknown family', linkType: NULL, bytes: '07000000' + V4_TCP, result: DECODE.NOT_IP },
  { name: 'BSD loopback cut short', linkType: NULL, bytes: '020000', result: DECODE.TRUNCATED_LINK },
  {
    name: 'NFLOG, little-endian TLVs',
    linkType: NFLOG,
    bytes:
      '02' + // family AF_INET
      '00' + // version 0
      '0001' + // resource id (group) 1
      '0800' + // TLV length 8 (LE)
      '0100' + // TLV type NFULA_PACKET_HDR (LE)
      '08000300' + // hw protocol, hook, padding
      '0a00' + // TLV length 10 (LE)
      '0a00' + // TLV type NFULA_PREFIX (LE)
      '616200000000' + // prefix "ab\0\0\0\0" (6 bytes)
      '0000' + // padding to a multiple of 4
      '2c00' + // TLV length 44 (LE) = 4 + 40
      '0900' + // TLV type NFULA_PAYLOAD (LE)
      V4_TCP,
    result: DECODE.OK,
    expect: TCP_V4_FIELDS,
  },
  {
    name: 'NFLOG, big-endian TLVs, IPv6',
    linkType: NFLOG,
    bytes: '0a000001' + '0008' + '0001' + '86dd0300' + '0034' + '0009' + V6_UDP, // AF_INET6; hdr TLV; payload TLV 52
    result: DECODE.OK,
    expect: UDP_V6_FIELDS,
  },
  {
    name: 'NFLOG without a payload TLV',
    linkType: NFLOG,
    bytes: '02000001' + '0800' + '0100' + '08000300',
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'NFLOG of a bridge family',
    linkType: NFLOG,
    bytes: '07000001' + '08000100',
    result: DECODE.NOT_IP,
  },
  {
    name: 'NFLOG with a zero-length TLV',
    linkType: NFLOG,
    bytes: '02000001' + '0000' + '0100' + '08000300',
    result: DECODE.TRUNCATED_LINK,
  },
  {
    name: 'an unsupported link type (IEEE 802.11)',
    linkType: 105,
    bytes: ETH_IPV4 + V4_TCP,
    result: DECODE.UNSUPPORTED_LINK_TYPE,
  },
]

const ipv4Cases: Case[] = [
  {
    name: 'IPv4 options skipped by IHL',
    linkType: RAW,
    bytes:
      ipv4({ protocol: 17, total: 32, options: '94040000' }) + // Router Alert option (4 bytes), IHL 6
      UDP_DNS,
    result: DECODE.OK,
    expect: { srcPort: 54321, dstPort: 53, ipLength: 32 },
  },
  {
    name: 'IHL 4',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 40, ihl: 4 }) + TCP_SYN,
    result: DECODE.BAD_IP_HEADER_LENGTH,
  },
  {
    name: 'total length below the header length',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 19 }) + TCP_SYN,
    result: DECODE.BAD_IP_TOTAL_LENGTH,
  },
  { name: 'a 19-byte IPv4 header', linkType: RAW, bytes: V4_TCP, captured: 19, result: DECODE.TRUNCATED_IP },
  {
    name: 'options cut by the capture',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 80, ihl: 15, options: '01'.repeat(40) }) + TCP_SYN,
    captured: 40,
    result: DECODE.TRUNCATED_IP,
  },
  {
    name: 'snap length cut (ipLength is still the total length)',
    linkType: ETHERNET,
    bytes: ETH_IPV4 + ipv4({ protocol: 6, total: 1500 }) + TCP_SYN + '00'.repeat(1460),
    captured: 68,
    result: DECODE.OK,
    expect: { ipLength: 1500, tcpFlags: 2, srcPort: 50000 },
  },
  {
    name: 'UDP ports beyond the total length (only padding after the IP packet)',
    linkType: ETHERNET,
    bytes: ETH_IPV4 + ipv4({ protocol: 17, total: 22 }) + UDP_DNS,
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'first fragment (MF, offset 0)',
    linkType: RAW,
    bytes: ipv4({ protocol: 17, total: 1500, id: 0xbeef, flags: 0x2000 }) + UDP_DNS,
    result: DECODE.OK,
    expect: { fragment: 1, fragmentId: 0xbeef, srcPort: 54321, dstPort: 53, ipLength: 1500 },
  },
  {
    name: 'middle fragment (MF, offset 185)',
    linkType: RAW,
    bytes: ipv4({ protocol: 17, total: 1500, id: 0xbeef, flags: 0x2000 | 185 }) + UDP_DNS,
    result: DECODE.OK,
    expect: { fragment: 2, fragmentId: 0xbeef, protocol: 17, srcPort: 0, dstPort: 0, ipLength: 1500 },
  },
  {
    name: 'last fragment (offset 370, no MF)',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 100, id: 0xbeef, flags: 370 }) + TCP_SYN,
    result: DECODE.OK,
    expect: { fragment: 2, protocol: 6, srcPort: 0, tcpFlags: 0, ipLength: 100 },
  },
  {
    name: 'DF set is not a fragment',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 40, flags: 0x4000 }) + TCP_SYN,
    result: DECODE.OK,
    expect: { fragment: 0, srcPort: 50000 },
  },
]

const transportCases: Case[] = [
  {
    name: 'TCP SYN-ACK flags',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 40 }) + TCP_SYN_ACK,
    result: DECODE.OK,
    expect: { tcpFlags: 0x12 },
  },
  {
    name: 'TCP with 13 bytes',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 33 }) + TCP_SYN.slice(0, 26),
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'TCP with 14 bytes (ports and flags are enough)',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 34 }) + TCP_SYN.slice(0, 28),
    result: DECODE.OK,
    expect: { srcPort: 50000, tcpFlags: 2 },
  },
  {
    name: 'TCP data offset 4',
    linkType: RAW,
    bytes: ipv4({ protocol: 6, total: 40 }) + TCP_SYN.replace('5002ffff', '4002ffff'),
    result: DECODE.BAD_TCP_HEADER_LENGTH,
  },
  {
    name: 'UDP with 4 bytes (ports but not the whole header)',
    linkType: RAW,
    bytes: ipv4({ protocol: 17, total: 24 }) + UDP_DNS.slice(0, 8),
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'SCTP with 8 bytes',
    linkType: RAW,
    bytes: ipv4({ protocol: 132, total: 28 }) + '0b590b59' + '00000000', // ports; tag, no checksum
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'UDP-Lite ports',
    linkType: RAW,
    bytes: ipv4({ protocol: 136, total: 28 }) + UDP_DNS,
    result: DECODE.OK,
    expect: { protocol: 136, srcPort: 54321, dstPort: 53 },
  },
  {
    name: 'SCTP ports',
    linkType: RAW,
    bytes: ipv4({ protocol: 132, total: 32 }) + '0b590b59' + '00000000' + '00000000', // ports 2905/2905; tag; checksum
    result: DECODE.OK,
    expect: { protocol: 132, srcPort: 2905, dstPort: 2905 },
  },
  {
    name: 'ICMP echo request',
    linkType: RAW,
    bytes: ipv4({ protocol: 1, total: 28 }) + ICMP_ECHO,
    result: DECODE.OK,
    expect: { protocol: 1, icmpType: 8, icmpCode: 0, icmpId: 0x4d2e, srcPort: 0, dstPort: 0 },
  },
  {
    name: 'ICMP echo reply',
    linkType: RAW,
    bytes: ipv4({ protocol: 1, total: 28 }) + ICMP_ECHO.replace(/^0800/, '0000'),
    result: DECODE.OK,
    expect: { icmpType: 0, icmpId: 0x4d2e },
  },
  {
    name: 'ICMP port unreachable (no identifier)',
    linkType: RAW,
    bytes: ipv4({ protocol: 1, total: 28 }) + '0303' + '0000' + '00000000', // type 3 code 3, checksum, unused
    result: DECODE.OK,
    expect: { icmpType: 3, icmpCode: 3, icmpId: -1 },
  },
  {
    name: 'ICMP echo without its identifier',
    linkType: RAW,
    bytes: ipv4({ protocol: 1, total: 24 }) + ICMP_ECHO.slice(0, 8),
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'ICMP with one byte',
    linkType: RAW,
    bytes: ipv4({ protocol: 1, total: 21 }) + '08',
    result: DECODE.TRUNCATED_TRANSPORT,
  },
  {
    name: 'GRE (port-less)',
    linkType: RAW,
    bytes: ipv4({ protocol: 47, total: 28 }) + '00006558' + '00000000', // flags, protocol (transparent Ethernet)
    result: DECODE.OK,
    expect: { protocol: 47, srcPort: 0, dstPort: 0, icmpType: -1 },
  },
  {
    name: 'ESP over IPv4',
    linkType: RAW,
    bytes: ipv4({ protocol: 50, total: 28 }) + '00001000' + '00000001', // SPI, sequence
    result: DECODE.OK,
    expect: { protocol: 50, srcPort: 0 },
  },
]

const ipv6Cases: Case[] = [
  {
    name: 'IPv6 TCP',
    linkType: ETHERNET,
    bytes: ETH_IPV6 + ipv6({ next: 6, payload: 20 }) + TCP_SYN,
    result: DECODE.OK,
    expect: { ipVersion: 6, protocol: 6, srcPort: 50000, tcpFlags: 2, ipLength: 60, fragmentId: 0 },
  },
  {
    name: 'Hop-by-Hop then UDP',
    linkType: RAW,
    bytes: ipv6({ next: 0, payload: 16 }) + ext8(17) + UDP_DNS,
    result: DECODE.OK,
    expect: { ...UDP_V6_FIELDS, ipLength: 56 },
  },
  {
    name: 'Routing (24 bytes) then Destination Options then TCP',
    linkType: RAW,
    bytes: ipv6({ next: 43, payload: 52 }) + ext8(60, 2) + ext8(6) + TCP_SYN,
    result: DECODE.OK,
    expect: { protocol: 6, srcPort: 50000, dstPort: 80 },
  },
  {
    name: 'AH (length in 4-octet units + 2) then TCP',
    linkType: RAW,
    bytes:
      ipv6({ next: 51, payload: 44 }) +
      '06' + // next header TCP
      '04' + // payload length 4 → (4 + 2) * 4 = 24 bytes
      '0000' + // reserved
      '00001000' + // SPI
      '00000001' + // sequence
      '00'.repeat(12) + // ICV
      TCP_SYN,
    result: DECODE.OK,
    expect: { protocol: 6, srcPort: 50000 },
  },
  {
    name: 'first fragment',
    linkType: RAW,
    bytes:
      ipv6({ next: 44, payload: 16 }) +
      '11' + // next header UDP
      '00' + // reserved
      '0001' + // offset 0, M = 1
      'cafe0001' + // identification
      UDP_DNS,
    result: DECODE.OK,
    expect: { fragment: 1, fragmentId: 0xcafe0001, protocol: 17, srcPort: 54321, dstPort: 53 },
  },
  {
    name: 'later fragment',
    linkType: RAW,
    bytes: ipv6({ next: 44, payload: 16 }) + '11' + '00' + '05a8' + 'cafe0001' + UDP_DNS, // offset 181, M 0
    result: DECODE.OK,
    expect: { fragment: 2, fragmentId: 0xcafe0001, protocol: 17, srcPort: 0, dstPort: 0, ipLength: 56 },
  },
  {
    name: 'atomic fragment (offset 0, no M) is a whole packet',
    linkType: RAW,
    bytes: ipv6({ next: 44, payload: 16 }) + '11' + '00' + '0000' + 'cafe0001' + UDP_DNS,
    result: DECODE.OK,
    expect: { fragment: 0, fragmentId: 0xcafe0001, srcPort: 54321 },
  },
  {
    name: 'Hop-by-Hop, Fragment (later), protocol from the Fragment header',
    linkType: RAW,
    bytes: ipv6({ next: 0, payload: 24 }) + ext8(44) + '3a' + '00' + '0010' + '00000007' + '00'.repeat(8), // ICMPv6, offset 2
    result: DECODE.OK,
    expect: { fragment: 2, protocol: 58, icmpType: -1 },
  },
  {
    name: 'ESP ends the walk',
    linkType: RAW,
    bytes: ipv6({ next: 0, payload: 16 }) + ext8(50) + '00001000' + '00000001',
    result: DECODE.OK,
    expect: { protocol: 50, srcPort: 0 },
  },
  {
    name: 'No Next Header',
    linkType: RAW,
    bytes: ipv6({ next: 60, payload: 8 }) + ext8(59),
    result: DECODE.OK,
    expect: { protocol: 59, ipLength: 48 },
  },
  {
    name: 'Mobility header (RFC 7045 extension)',
    linkType: RAW,
    bytes: ipv6({ next: 135, payload: 8 }) + ext8(59),
    result: DECODE.OK,
    expect: { protocol: 59 },
  },
  {
    name: 'eight extension headers (the limit)',
    linkType: RAW,
    bytes: ipv6({ next: 60, payload: 72 }) + ext8(60).repeat(7) + ext8(17) + UDP_DNS,
    result: DECODE.OK,
    expect: { srcPort: 54321 },
  },
  {
    name: 'nine extension headers',
    linkType: RAW,
    bytes: ipv6({ next: 60, payload: 80 }) + ext8(60).repeat(8) + ext8(17) + UDP_DNS,
    result: DECODE.TOO_MANY_IPV6_EXTENSIONS,
  },
  {
    name: 'an extension header cut by the capture',
    linkType: RAW,
    bytes: ipv6({ next: 43, payload: 32 }) + ext8(17, 2) + UDP_DNS,
    captured: 50,
    result: DECODE.TRUNCATED_IPV6_EXTENSION,
  },
  {
    name: 'an extension header longer than the payload length',
    linkType: RAW,
    bytes: ipv6({ next: 0, payload: 8 }) + ext8(17, 1) + UDP_DNS,
    result: DECODE.TRUNCATED_IPV6_EXTENSION,
  },
  {
    name: 'a Fragment header cut short',
    linkType: RAW,
    bytes: `${ipv6({ next: 44, payload: 16 })}1100`,
    result: DECODE.TRUNCATED_IPV6_EXTENSION,
  },
  { name: 'a 39-byte IPv6 header', linkType: RAW, bytes: V6_UDP, captured: 39, result: DECODE.TRUNCATED_IP },
  {
    name: 'jumbogram (payload length 0) counts the captured bytes',
    linkType: RAW,
    bytes: ipv6({ next: 17, payload: 0 }) + UDP_DNS + '00'.repeat(12),
    result: DECODE.OK,
    expect: { ipLength: 60, srcPort: 54321 },
  },
  {
    name: 'ICMPv6 echo request',
    linkType: RAW,
    bytes: ipv6({ next: 58, payload: 8 }) + ICMPV6_ECHO,
    result: DECODE.OK,
    expect: { protocol: 58, icmpType: 128, icmpCode: 0, icmpId: 0x4d2e },
  },
  {
    name: 'ICMPv6 neighbor solicitation (no identifier)',
    linkType: RAW,
    bytes:
      ipv6({ next: 58, payload: 24 }) + '8700' + '0000' + '00000000' + '20010db8000000000000000000000002',
    result: DECODE.OK,
    expect: { icmpType: 135, icmpId: -1 },
  },
]

function check(c: Case) {
  const bytes = hex(c.bytes)
  // Place the frame at an offset inside a larger buffer, as readers do.
  const data = new Uint8Array(bytes.length + 7).fill(0xee)
  data.set(bytes, 3)
  const frame = newFrame()
  frame.data = data
  frame.offset = 3
  frame.capturedLength = c.captured ?? bytes.length
  frame.originalLength = bytes.length
  frame.linkType = c.linkType
  const view = new PacketView()
  const result = decodeFrame(frame, view)
  assert.equal(DECODE_NAMES[result], DECODE_NAMES[c.result])
  const actual: Record<string, unknown> = {}
  const expected: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(c.expect ?? {})) {
    let got = (view as unknown as Record<string, unknown>)[key]
    if (key === 'src' || key === 'dst') got = formatAddress(got as Uint32Array)
    if ((key === 'srcMac' || key === 'dstMac') && typeof value === 'string') got = formatMac(got as number)
    actual[key] = got
    expected[key] = value
  }
  assert.deepEqual(actual, expected)
}

describe('decodeFrame', () => {
  for (const [group, cases] of [
    ['link layer', linkCases],
    ['IPv4', ipv4Cases],
    ['transport', transportCases],
    ['IPv6', ipv6Cases],
  ] as const) {
    describe(group, () => {
      for (const c of cases) test(`${c.name} → ${DECODE_NAMES[c.result]}`, () => check(c))
    })
  }

  test('resets every field of the view, so nothing leaks from the previous packet', () => {
    const view = new PacketView()
    const frame = newFrame()
    // A packet that sets everything: QinQ, ICMP echo, first fragment, IPv6 addresses.
    frame.data = hex(
      `${ETH}8100` +
        '0064' +
        '86dd' +
        ipv6({ next: 44, payload: 16 }) +
        '3a00' +
        '0001' +
        'cafe0001' +
        ICMPV6_ECHO,
    )
    frame.capturedLength = frame.data.length
    frame.linkType = ETHERNET
    assert.equal(decodeFrame(frame, view), DECODE.OK)
    assert.equal(view.icmpId, 0x4d2e)
    assert.equal(view.fragment, 1)
    // Then packets that set little: each must leave nothing of the first behind.
    const fresh = new PacketView()
    for (const next of [
      { linkType: RAW, bytes: '' },
      { linkType: 147, bytes: '00' },
      { linkType: RAW, bytes: V4_TCP },
      { linkType: ETHERNET, bytes: `${ETH}0806` },
    ]) {
      frame.data = hex(next.bytes)
      frame.capturedLength = frame.data.length
      frame.linkType = next.linkType
      const expected = decodeFrame(frame, fresh)
      assert.equal(decodeFrame(frame, view), expected)
      assert.deepEqual({ ...view }, { ...fresh }, `after ${next.bytes || 'an empty frame'}`)
      // Dirty it again for the next round.
      frame.data = hex(`${ETH}8100` + '0064' + '86dd' + ipv6({ next: 58, payload: 8 }) + ICMPV6_ECHO)
      frame.capturedLength = frame.data.length
      frame.linkType = ETHERNET
      decodeFrame(frame, view)
    }
  })

  test('reads no further than the buffer when capturedLength claims more', () => {
    const frame = newFrame()
    frame.data = hex(V4_TCP).subarray(0, 30)
    frame.capturedLength = 1000
    frame.linkType = RAW
    assert.equal(decodeFrame(frame, new PacketView()), DECODE.TRUNCATED_TRANSPORT)
    frame.offset = 31
    assert.equal(decodeFrame(frame, new PacketView()), DECODE.TRUNCATED_LINK)
  })
})

describe('decodeFrame on arbitrary input (property)', () => {
  const allCases = [...linkCases, ...ipv4Cases, ...transportCases, ...ipv6Cases]
  const linkTypes = [...new Set([...allCases.map((c) => c.linkType), 0, 108, 14, 239, 999, -1])]

  /** Every field within the range its consumers assume, whatever the input. */
  function assertInRange(result: number, view: PacketView, captured: number) {
    assert.ok(Number.isInteger(result) && result >= 0 && result < DECODE_NAMES.length, `result ${result}`)
    const inRange = (name: string, value: number, min: number, max: number) =>
      assert.ok(Number.isInteger(value) && value >= min && value <= max, `${name} ${value}`)
    inRange('srcPort', view.srcPort, 0, 0xffff)
    inRange('dstPort', view.dstPort, 0, 0xffff)
    inRange('protocol', view.protocol, 0, 255)
    inRange('tcpFlags', view.tcpFlags, 0, 255)
    inRange('ipLength', view.ipLength, 0, Math.max(0xffff + 40, captured))
    inRange('icmpType', view.icmpType, -1, 255)
    inRange('icmpCode', view.icmpCode, -1, 255)
    inRange('icmpId', view.icmpId, -1, 0xffff)
    inRange('fragment', view.fragment, 0, 2)
    inRange('fragmentId', view.fragmentId, 0, 0xffffffff)
    inRange('vlan', view.vlan, -1, 4095)
    inRange('srcMac', view.srcMac, -1, 2 ** 48 - 1)
    inRange('dstMac', view.dstMac, -1, 2 ** 48 - 1)
    if (result === DECODE.OK) assert.ok(view.ipVersion === 4 || view.ipVersion === 6)
    if (view.fragment === 2 && result === DECODE.OK) assert.equal(view.srcPort | view.dstPort, 0)
  }

  function run(bytes: Uint8Array, offset: number, captured: number, linkType: number) {
    const frame = newFrame()
    frame.data = bytes
    frame.offset = offset
    frame.capturedLength = captured
    frame.linkType = linkType
    const view = new PacketView()
    assertInRange(decodeFrame(frame, view), view, captured)
  }

  test('never throws on random bytes, any link type, any captured length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(...linkTypes),
        fc.nat(),
        fc.integer({ min: -5, max: 300 }),
        (bytes, linkType, offsetSeed, captured) =>
          run(bytes, bytes.length === 0 ? 0 : offsetSeed % bytes.length, captured, linkType),
      ),
      { numRuns: 3000 },
    )
  })

  test('never throws on mutated valid packets (deep paths)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...allCases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom(...linkTypes),
        fc.boolean(),
        (c, mutations, captured, otherLinkType, keepLinkType) => {
          const bytes = hex(c.bytes)
          for (const [at, value] of mutations) if (bytes.length > 0) bytes[at % bytes.length] = value
          run(bytes, 0, Math.min(captured, bytes.length + 10), keepLinkType ? c.linkType : otherLinkType)
        },
      ),
      { numRuns: 5000 },
    )
  })
})
