// Writes the two benchmark captures fast (millions of packets in seconds): plain Node, no scapy.
// Deterministic: a fixed seed, fixed timestamps. The network matches bench/bench.yaml.
//
//   typical  ~20,000 concurrent TCP/UDP/ICMP flows between the configured interfaces and outside
//            hosts (and web -> db inside), handshakes and closes, 60..1500-byte packets; mostly
//            ACCEPT, some REJECT (SYNs to closed admin ports, stray UDP)
//   scan     nearly every packet a new 5-tuple: SYNs from four scanners to random interfaces and
//            ports, a few RST-ACK answers
//
// Both span DURATION seconds from T0, so the 60 s windows of a flow log close along the way.
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/** 2024-06-01T13:00:00Z. */
export const T0 = 1717246800
export const DURATION = 300
/** Bump when the generated traffic changes: cached captures carry it in their names. */
export const GENERATOR_VERSION = 1

export const WEB_COUNT = 48
export const DB_COUNT = 16
/** 10.0.1.10 + i (eni-web-i), 10.0.2.10 + i (eni-db-i). */
export const webAddress = (i) => ((10 << 24) | (1 << 8) | (10 + i)) >>> 0
export const dbAddress = (i) => ((10 << 24) | (2 << 8) | (10 + i)) >>> 0
const RESOLVER = ((10 << 24) | 2) >>> 0
/** Outside hosts: 198.18.0.0/15, the benchmarking range (RFC 2544). */
const OUTSIDE_BASE = ((198 << 24) | (18 << 16)) >>> 0
const OUTSIDE_SIZE = 1 << 17
/** Scanners 198.18.250.1-4. */
const SCANNER_BASE = ((198 << 24) | (18 << 16) | (250 << 8)) >>> 0

export const dotted = (a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`

/** MAC 02:00:0a:00:<tier>:<host>: web 1, db 2; the gateway is tier 0 host 1. */
const WEB_TIER = 1
const DB_TIER = 2
const GATEWAY = -1
export const macOf = (tier, host) =>
  `02:00:0a:00:${tier.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`

const TCP = 6
const UDP = 17
const ICMP = 1
const F_FIN = 0x01
const F_SYN = 0x02
const F_RST = 0x04
const F_PSH = 0x08
const F_ACK = 0x10

/** mulberry32: small, fast, good enough for traffic shapes. */
function random(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** Classic pcap, microseconds, Ethernet; frames are assembled in place in a large buffer. */
class PcapWriter {
  constructor(path) {
    this.path = path
    this.tmp = `${path}.tmp-${process.pid}`
    mkdirSync(dirname(path), { recursive: true })
    this.fd = openSync(this.tmp, 'w')
    this.buf = Buffer.alloc(1 << 24)
    this.off = 0
    this.buf.writeUInt32LE(0xa1b2c3d4, 0)
    this.buf.writeUInt16LE(2, 4)
    this.buf.writeUInt16LE(4, 6)
    this.buf.writeUInt32LE(65535, 16)
    this.buf.writeUInt32LE(1, 20)
    this.off = 24
    this.bytes = 0
  }

  /** Reserves a record of frameLength bytes, zeroed; returns where the frame starts. */
  record(sec, usec, frameLength) {
    if (this.off + 16 + frameLength > this.buf.length) this.flush()
    const b = this.buf
    const o = this.off
    b.writeUInt32LE(sec, o)
    b.writeUInt32LE(usec, o + 4)
    b.writeUInt32LE(frameLength, o + 8)
    b.writeUInt32LE(frameLength, o + 12)
    b.fill(0, o + 16, o + 16 + frameLength)
    this.off = o + 16 + frameLength
    return o + 16
  }

  flush() {
    let done = 0
    while (done < this.off) done += writeSync(this.fd, this.buf, done, this.off - done)
    this.bytes += this.off
    this.off = 0
  }

  close() {
    this.flush()
    closeSync(this.fd)
    renameSync(this.tmp, this.path)
  }
}

function writeMac(b, o, tier, host) {
  if (tier < 0) {
    b.writeUInt32BE(0x02000a00, o)
    b.writeUInt16BE(0x0001, o + 4)
  } else {
    b.writeUInt32BE(0x02000a00, o)
    b.writeUInt16BE((tier << 8) | host, o + 4)
  }
}

/**
 * Writes Ethernet + IPv4 + transport headers; the payload stays zero. srcHost/dstHost: index of a
 * web (tier 1) or db (tier 2) interface, or GATEWAY for anything outside the subnet.
 * Returns nothing: the frame is complete in the writer's buffer.
 */
function frame(w, sec, usec, p) {
  const headerLen = p.proto === TCP ? (p.flags & F_SYN ? 24 : 20) : 8
  const ipLen = Math.max(p.ipLen, 20 + headerLen)
  const frameLen = Math.max(60, 14 + ipLen)
  const o = w.record(sec, usec, frameLen)
  const b = w.buf
  writeMac(b, o, p.dstTier, p.dstHost)
  writeMac(b, o + 6, p.srcTier, p.srcHost)
  b.writeUInt16BE(0x0800, o + 12)
  const ip = o + 14
  b[ip] = 0x45
  b.writeUInt16BE(ipLen, ip + 2)
  b.writeUInt16BE(p.ipId & 0xffff, ip + 4)
  b.writeUInt16BE(0x4000, ip + 6)
  b[ip + 8] = p.srcTier < 0 ? 52 : 64
  b[ip + 9] = p.proto
  b.writeUInt32BE(p.src, ip + 12)
  b.writeUInt32BE(p.dst, ip + 16)
  let sum = 0
  for (let i = 0; i < 20; i += 2) sum += (b[ip + i] << 8) | b[ip + i + 1]
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  b.writeUInt16BE(~sum & 0xffff, ip + 10)
  const l4 = ip + 20
  if (p.proto === TCP) {
    b.writeUInt16BE(p.sport, l4)
    b.writeUInt16BE(p.dport, l4 + 2)
    b.writeUInt32BE(p.seq >>> 0, l4 + 4)
    b.writeUInt32BE(p.flags & F_ACK ? p.ack >>> 0 : 0, l4 + 8)
    b[l4 + 12] = (headerLen / 4) << 4
    b[l4 + 13] = p.flags
    b.writeUInt16BE(502, l4 + 14)
    if (p.flags & F_SYN) b.writeUInt32BE(0x020405b4, l4 + 20) // MSS 1460
  } else if (p.proto === UDP) {
    b.writeUInt16BE(p.sport, l4)
    b.writeUInt16BE(p.dport, l4 + 2)
    b.writeUInt16BE(ipLen - 20, l4 + 4)
  } else {
    b[l4] = p.icmpType
    b.writeUInt16BE(p.sport, l4 + 4) // echo identifier
    b.writeUInt16BE(p.dport, l4 + 6) // echo sequence
  }
}

// Connection kinds of the typical capture, with their share (per mille) of new connections.
const K_TCP_IN = 0 // outside -> web 443/80
const K_TCP_DB = 1 // web -> db 5432 (two interfaces)
const K_TCP_OUT = 2 // web -> outside 443
const K_QUIC_IN = 3 // outside -> web udp 443
const K_DNS = 4 // web -> 10.0.0.2 udp 53
const K_REJ_TCP = 5 // outside -> web 22/23/445/3389: SYN and retransmits, dropped
const K_REJ_UDP = 6 // outside -> web 161/1900/5060, dropped
const K_ICMP_IN = 7 // outside -> web echo request/reply
const SHARES = [
  [K_TCP_IN, 520],
  [K_TCP_DB, 100],
  [K_TCP_OUT, 100],
  [K_QUIC_IN, 80],
  [K_DNS, 80],
  [K_REJ_TCP, 60],
  [K_REJ_UDP, 30],
  [K_ICMP_IN, 30],
]
const KIND_OF = new Uint8Array(1000)
{
  let at = 0
  for (const [kind, share] of SHARES) {
    KIND_OF.fill(kind, at, at + share)
    at += share
  }
}
const MEAN_DATA = [40, 20, 30, 40, 0, 0, 0, 0]
const REJECTED_PORTS = [22, 23, 445, 3389]
const REJECTED_UDP_PORTS = [161, 1900, 5060]

/**
 * Writes the typical capture: `packets` packets drawn from `concurrent` connection slots; a
 * finished connection is replaced by a new one. Returns packet and byte counts.
 */
export function writeTypical(path, packets, concurrent = 20_000, seed = 1) {
  const rnd = random(seed)
  const w = new PcapWriter(path)
  const kind = new Uint8Array(concurrent)
  const step = new Uint32Array(concurrent)
  const last = new Uint32Array(concurrent) // steps in the connection
  const dataSteps = new Uint32Array(concurrent)
  const client = new Uint32Array(concurrent)
  const server = new Uint32Array(concurrent)
  const cport = new Uint16Array(concurrent)
  const sport = new Uint16Array(concurrent)
  const cSeq = new Uint32Array(concurrent)
  const sSeq = new Uint32Array(concurrent)
  // Interface index of each side, -1 outside; tier 1 web, 2 db.
  const cHost = new Int16Array(concurrent)
  const sHost = new Int16Array(concurrent)
  const cTier = new Int8Array(concurrent)
  const sTier = new Int8Array(concurrent)
  const rstClose = new Uint8Array(concurrent)

  const outside = () => (OUTSIDE_BASE + (rnd() % OUTSIDE_SIZE)) >>> 0
  const ephemeral = () => 32768 + (rnd() % 28000)
  const geometric = (mean) => 1 + Math.floor(-mean * Math.log((rnd() + 1) / 4294967297))

  function start(i) {
    const k = KIND_OF[rnd() % 1000]
    kind[i] = k
    step[i] = 0
    cSeq[i] = rnd()
    sSeq[i] = rnd()
    rstClose[i] = rnd() % 10 === 0 ? 1 : 0
    const web = rnd() % WEB_COUNT
    cport[i] = ephemeral()
    if (k === K_TCP_DB || k === K_TCP_OUT || k === K_DNS) {
      client[i] = webAddress(web)
      cHost[i] = 10 + web
      cTier[i] = WEB_TIER
    } else {
      client[i] = outside()
      cHost[i] = 1
      cTier[i] = GATEWAY
    }
    server[i] = webAddress(web)
    sHost[i] = 10 + web
    sTier[i] = WEB_TIER
    const data = MEAN_DATA[k] > 0 ? Math.min(geometric(MEAN_DATA[k]), 5000) : 0
    dataSteps[i] = data
    switch (k) {
      case K_TCP_IN:
        sport[i] = rnd() % 10 < 7 ? 443 : 80
        last[i] = 3 + data + (rstClose[i] ? 1 : 3)
        break
      case K_TCP_DB: {
        const db = rnd() % DB_COUNT
        server[i] = dbAddress(db)
        sHost[i] = 10 + db
        sTier[i] = DB_TIER
        sport[i] = 5432
        last[i] = 3 + data + (rstClose[i] ? 1 : 3)
        break
      }
      case K_TCP_OUT:
        server[i] = outside()
        sHost[i] = 1
        sTier[i] = GATEWAY
        sport[i] = 443
        last[i] = 3 + data + (rstClose[i] ? 1 : 3)
        break
      case K_QUIC_IN:
        sport[i] = 443
        last[i] = data + 1
        break
      case K_DNS:
        server[i] = RESOLVER
        sHost[i] = 1
        sTier[i] = GATEWAY
        sport[i] = 53
        last[i] = 2
        break
      case K_REJ_TCP:
        sport[i] = REJECTED_PORTS[rnd() % REJECTED_PORTS.length]
        last[i] = 1 + (rnd() % 3)
        break
      case K_REJ_UDP:
        sport[i] = REJECTED_UDP_PORTS[rnd() % REJECTED_UDP_PORTS.length]
        last[i] = 1 + (rnd() % 2)
        break
      case K_ICMP_IN:
        cport[i] = rnd() & 0xffff // echo identifier
        sport[i] = 0
        last[i] = 2 * (1 + (rnd() % 4))
        break
    }
  }

  for (let i = 0; i < concurrent; i++) start(i)

  const p = {
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    proto: 0,
    flags: 0,
    seq: 0,
    ack: 0,
    ipLen: 0,
    ipId: 0,
    icmpType: 0,
    srcTier: 0,
    srcHost: 0,
    dstTier: 0,
    dstHost: 0,
  }
  const usPerPacket = (DURATION * 1e6) / packets
  let bytes = 0
  for (let n = 0; n < packets; n++) {
    const t = Math.floor(n * usPerPacket)
    const sec = T0 + Math.floor(t / 1e6)
    const usec = t % 1e6
    const i = rnd() % concurrent
    const k = kind[i]
    const s = step[i]
    let fromClient = true
    p.ipId = n
    p.flags = 0
    p.icmpType = 0
    if (k === K_TCP_IN || k === K_TCP_DB || k === K_TCP_OUT) {
      p.proto = TCP
      const data = dataSteps[i]
      let size = 0
      if (s === 0) p.flags = F_SYN
      else if (s === 1) {
        p.flags = F_SYN | F_ACK
        fromClient = false
      } else if (s === 2) p.flags = F_ACK
      else if (s < 3 + data) {
        fromClient = rnd() % 100 < 45
        const r = rnd() % 100
        if (fromClient) size = r < 60 ? 0 : 50 + (rnd() % 550)
        else size = k === K_TCP_DB ? 60 + (rnd() % 1400) : r < 70 ? 1460 : 100 + (rnd() % 1360)
        p.flags = size > 0 && r % 3 === 0 ? F_PSH | F_ACK : F_ACK
      } else if (rstClose[i]) p.flags = F_RST | F_ACK
      else if (s === 3 + data) p.flags = F_FIN | F_ACK
      else if (s === 4 + data) {
        p.flags = F_FIN | F_ACK
        fromClient = false
      } else p.flags = F_ACK
      p.ipLen = 40 + size
      if (fromClient) {
        p.seq = cSeq[i]
        p.ack = sSeq[i]
        cSeq[i] = (cSeq[i] + size + (p.flags & (F_SYN | F_FIN) ? 1 : 0)) >>> 0
      } else {
        p.seq = sSeq[i]
        p.ack = cSeq[i]
        sSeq[i] = (sSeq[i] + size + (p.flags & (F_SYN | F_FIN) ? 1 : 0)) >>> 0
      }
    } else if (k === K_QUIC_IN) {
      p.proto = UDP
      fromClient = s === 0 || rnd() % 100 < 35
      p.ipLen = 28 + (fromClient ? (s === 0 ? 1252 : 30 + (rnd() % 300)) : 1200 + (rnd() % 150))
    } else if (k === K_DNS) {
      p.proto = UDP
      fromClient = s === 0
      p.ipLen = fromClient ? 60 + (rnd() % 20) : 90 + (rnd() % 300)
    } else if (k === K_REJ_TCP) {
      p.proto = TCP
      p.flags = F_SYN
      p.seq = cSeq[i]
      p.ipLen = 44
    } else if (k === K_REJ_UDP) {
      p.proto = UDP
      p.ipLen = 28 + 20 + (rnd() % 200)
    } else {
      p.proto = ICMP
      fromClient = (s & 1) === 0
      p.icmpType = fromClient ? 8 : 0
      p.ipLen = 84
    }
    if (fromClient) {
      p.src = client[i]
      p.dst = server[i]
      p.srcTier = cTier[i]
      p.srcHost = cHost[i]
      p.dstTier = sTier[i]
      p.dstHost = sHost[i]
      p.sport = cport[i]
      p.dport = k === K_ICMP_IN ? (s >>> 1) + 1 : sport[i]
    } else {
      p.src = server[i]
      p.dst = client[i]
      p.srcTier = sTier[i]
      p.srcHost = sHost[i]
      p.dstTier = cTier[i]
      p.dstHost = cHost[i]
      p.sport = k === K_ICMP_IN ? cport[i] : sport[i]
      p.dport = k === K_ICMP_IN ? (s >>> 1) + 1 : cport[i]
    }
    frame(w, sec, usec, p)
    bytes += p.ipLen
    if (++step[i] >= last[i]) start(i)
  }
  w.close()
  return { packets, ipBytes: bytes, fileBytes: w.bytes }
}

/**
 * Writes the scan-heavy capture: SYNs from four scanners to random interfaces and ports (some
 * to 80/443, which the web group allows), with an RST-ACK answer to about 3 in 100.
 */
export function writeScan(path, packets, seed = 2) {
  const rnd = random(seed)
  const w = new PcapWriter(path)
  const p = {
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    proto: TCP,
    flags: 0,
    seq: 0,
    ack: 0,
    ipLen: 44,
    ipId: 0,
    icmpType: 0,
    srcTier: GATEWAY,
    srcHost: 1,
    dstTier: 0,
    dstHost: 0,
  }
  const usPerPacket = (DURATION * 1e6) / packets
  let bytes = 0
  for (let n = 0; n < packets; n++) {
    const t = Math.floor(n * usPerPacket)
    const sec = T0 + Math.floor(t / 1e6)
    const usec = t % 1e6
    p.ipId = n
    if (n > 0 && rnd() % 100 < 3) {
      // The target answers the previous SYN: RST-ACK back to the scanner.
      const { src, dst, sport, dport, srcTier, srcHost, dstTier, dstHost, seq } = p
      Object.assign(p, { src: dst, dst: src, sport: dport, dport: sport, srcTier: dstTier, srcHost: dstHost })
      Object.assign(p, {
        dstTier: srcTier,
        dstHost: srcHost,
        flags: F_RST | F_ACK,
        seq: 0,
        ack: seq + 1,
        ipLen: 40,
      })
      frame(w, sec, usec, p)
      bytes += p.ipLen
      Object.assign(p, { src, dst, sport, dport, srcTier, srcHost, dstTier, dstHost, seq })
      continue
    }
    p.src = (SCANNER_BASE + 1 + (rnd() & 3)) >>> 0
    p.srcTier = GATEWAY
    p.srcHost = 1
    if (rnd() % 4 === 0) {
      const db = rnd() % DB_COUNT
      p.dst = dbAddress(db)
      p.dstTier = DB_TIER
      p.dstHost = 10 + db
    } else {
      const web = rnd() % WEB_COUNT
      p.dst = webAddress(web)
      p.dstTier = WEB_TIER
      p.dstHost = 10 + web
    }
    const r = rnd() % 100
    p.dport = r < 5 ? 443 : r < 10 ? 80 : 1 + (rnd() % 65535)
    p.sport = 1024 + (rnd() % 64500)
    p.flags = F_SYN
    p.seq = rnd()
    p.ipLen = 44
    frame(w, sec, usec, p)
    bytes += p.ipLen
  }
  w.close()
  return { packets, ipBytes: bytes, fileBytes: w.bytes }
}

/** The interfaces bench/bench.yaml must list (checked by scripts/bench.js before a run). */
export function benchInterfaces() {
  const list = []
  for (let i = 0; i < WEB_COUNT; i++) {
    list.push({
      id: `eni-web-${i + 1}`,
      mac: macOf(WEB_TIER, 10 + i),
      address: dotted(webAddress(i)),
      group: 'sg-web',
    })
  }
  for (let i = 0; i < DB_COUNT; i++) {
    list.push({
      id: `eni-db-${i + 1}`,
      mac: macOf(DB_TIER, 10 + i),
      address: dotted(dbAddress(i)),
      group: 'sg-db',
    })
  }
  return list
}
