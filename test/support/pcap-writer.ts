/**
 * Test-only capture writer: the encode side of src/capture. Builds classic pcap and pcapng files
 * in memory from plain descriptions, including deliberately broken ones (override lengths,
 * arbitrary blocks), so readers can be tested on every variant without checked-in binaries.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface PcapPacket {
  data: Uint8Array
  /** Unix seconds (fractional); ignored when `seconds` is given. */
  time?: number
  /** Raw timestamp fields, written as given (the fraction is µs or ns by the file's precision). */
  seconds?: number
  fraction?: number
  /** Defaults to data.length. */
  originalLength?: number
  /** Written into the record header instead of data.length (for corrupt files). */
  capturedLength?: number
}

export interface PcapOptions {
  linkType?: number
  nanoseconds?: boolean
  bigEndian?: boolean
  snapLength?: number
}

/** A classic pcap file holding `packets`. */
export function pcapBytes(packets: readonly PcapPacket[], options: PcapOptions = {}): Uint8Array {
  const le = !options.bigEndian
  const perSecond = options.nanoseconds ? 1e9 : 1e6
  const parts: Uint8Array[] = []
  const header = new DataView(new ArrayBuffer(24))
  header.setUint32(0, options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le)
  header.setUint16(4, 2, le)
  header.setUint16(6, 4, le)
  header.setUint32(16, options.snapLength ?? 65535, le)
  header.setUint32(20, options.linkType ?? 1, le)
  parts.push(new Uint8Array(header.buffer))
  for (const packet of packets) {
    const record = new DataView(new ArrayBuffer(16))
    let seconds = packet.seconds
    let fraction = packet.fraction ?? 0
    if (seconds === undefined) {
      const time = packet.time ?? 0
      seconds = Math.floor(time)
      fraction = Math.round((time - seconds) * perSecond)
    }
    record.setUint32(0, seconds, le)
    record.setUint32(4, fraction, le)
    record.setUint32(8, packet.capturedLength ?? packet.data.length, le)
    record.setUint32(12, packet.originalLength ?? packet.data.length, le)
    parts.push(new Uint8Array(record.buffer), packet.data)
  }
  return concat(parts)
}

export type PcapngBlock =
  | { kind: 'section'; bigEndian?: boolean; majorVersion?: number }
  | {
      kind: 'interface'
      linkType?: number
      snapLength?: number
      name?: string
      /** Raw if_tsresol byte: 6 = µs (the default), 9 = ns, 0x80 | n = 2^-n. */
      tsresol?: number
      /** if_tsoffset in seconds. */
      tsoffset?: number
    }
  | {
      kind: 'epb' | 'opb'
      interfaceId?: number
      /** Unix seconds (fractional), converted with the interface's resolution. */
      time?: number
      /** Raw 64-bit timestamp in the interface's units; wins over `time`. */
      timestamp?: bigint
      data: Uint8Array
      originalLength?: number
      capturedLength?: number
    }
  | { kind: 'spb'; data: Uint8Array; originalLength?: number }
  /** Any block, e.g. NRB (4), ISB (5), DSB (10), custom (0xbad) or an unknown type. */
  | { kind: 'raw'; type: number; body: Uint8Array; totalLength?: number; trailingLength?: number }

/**
 * A pcapng file holding `blocks` in order. The first block should be a section. Interface ids and
 * timestamp resolutions are tracked per section, as readers must.
 */
export function pcapngBytes(blocks: readonly PcapngBlock[]): Uint8Array {
  const parts: Uint8Array[] = []
  let le = true
  let units: number[] = []
  const block = (type: number, body: Uint8Array, total?: number, trailing?: number) => {
    const padded = (body.length + 3) & ~3
    const length = 12 + padded
    const bytes = new Uint8Array(length)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, type, le)
    view.setUint32(4, total ?? length, le)
    bytes.set(body, 8)
    view.setUint32(length - 4, trailing ?? total ?? length, le)
    parts.push(bytes)
  }
  for (const b of blocks) {
    switch (b.kind) {
      case 'section': {
        le = !b.bigEndian
        units = []
        const body = new DataView(new ArrayBuffer(16))
        body.setUint32(0, 0x1a2b3c4d, le)
        body.setUint16(4, b.majorVersion ?? 1, le)
        body.setUint16(6, 0, le)
        body.setBigInt64(8, -1n, le)
        block(0x0a0d0d0a, new Uint8Array(body.buffer))
        break
      }
      case 'interface': {
        const fixed = new DataView(new ArrayBuffer(8))
        fixed.setUint16(0, b.linkType ?? 1, le)
        fixed.setUint32(4, b.snapLength ?? 0, le)
        const options: Uint8Array[] = []
        if (b.name !== undefined) options.push(option(2, new TextEncoder().encode(b.name), le))
        if (b.tsresol !== undefined) options.push(option(9, Uint8Array.of(b.tsresol), le))
        if (b.tsoffset !== undefined) {
          const value = new DataView(new ArrayBuffer(8))
          value.setBigInt64(0, BigInt(b.tsoffset), le)
          options.push(option(14, new Uint8Array(value.buffer), le))
        }
        if (options.length > 0) options.push(new Uint8Array(4)) // opt_endofopt
        block(1, concat([new Uint8Array(fixed.buffer), ...options]))
        const r = b.tsresol ?? 6
        units.push(r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r)
        break
      }
      case 'epb':
      case 'opb': {
        const id = b.interfaceId ?? 0
        const perSecond = BigInt(units[id] ?? 1e6)
        let ts = b.timestamp
        if (ts === undefined) {
          const time = b.time ?? 0
          const whole = Math.floor(time)
          ts = BigInt(whole) * perSecond + BigInt(Math.round((time - whole) * Number(perSecond)))
        }
        const fixed = new DataView(new ArrayBuffer(20))
        if (b.kind === 'epb') fixed.setUint32(0, id, le)
        else fixed.setUint16(0, id, le)
        fixed.setUint32(4, Number(ts >> 32n), le)
        fixed.setUint32(8, Number(ts & 0xffffffffn), le)
        fixed.setUint32(12, b.capturedLength ?? b.data.length, le)
        fixed.setUint32(16, b.originalLength ?? b.data.length, le)
        block(b.kind === 'epb' ? 6 : 2, concat([new Uint8Array(fixed.buffer), b.data]))
        break
      }
      case 'spb': {
        const fixed = new DataView(new ArrayBuffer(4))
        fixed.setUint32(0, b.originalLength ?? b.data.length, le)
        block(3, concat([new Uint8Array(fixed.buffer), b.data]))
        break
      }
      case 'raw':
        block(b.type, b.body, b.totalLength, b.trailingLength)
        break
    }
  }
  return concat(parts)
}

function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const bytes = new Uint8Array(4 + ((value.length + 3) & ~3))
  const view = new DataView(bytes.buffer)
  view.setUint16(0, code, le)
  view.setUint16(2, value.length, le)
  bytes.set(value, 4)
  return bytes
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Bytes from hex text; spaces and newlines are ignored so fixtures can be laid out by field. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`)
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
}

let tempDir: string | undefined

/** Writes `bytes` to a file in a per-process temp directory (removed at exit) and returns its path. */
export function writeTempCapture(name: string, bytes: Uint8Array): string {
  if (tempDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-capture-'))
    tempDir = dir
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  const path = join(tempDir, name)
  writeFileSync(path, bytes)
  return path
}
