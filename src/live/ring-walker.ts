import { type Frame, LINKTYPE, newFrame } from '../core/frame.js'

/**
 * The layout of a TPACKET_V3 ring (linux/if_packet.h), in bytes. A block starts with a
 * tpacket_block_desc; its frames follow, each a tpacket3_hdr, a sockaddr_ll and the packet at
 * tp_mac, chained by tp_next_offset. All fields are native-endian, hence the typed arrays.
 */
const BLOCK_STATUS = 8
const BLOCK_PACKETS = 12
const BLOCK_FIRST = 16
const BLOCK_LENGTH = 20
/** sizeof(struct tpacket_block_desc), which no frame can start inside. */
const BLOCK_HEADER = 48
const FRAME_NEXT = 0
const FRAME_SEC = 4
const FRAME_NSEC = 8
const FRAME_SNAPLEN = 12
const FRAME_LEN = 16
const FRAME_STATUS = 20
const FRAME_MAC = 24
const FRAME_VLAN_TCI = 32
const FRAME_VLAN_TPID = 36
/** TPACKET3_HDRLEN: the aligned tpacket3_hdr and the sockaddr_ll; a packet starts after it. */
const FRAME_HEADER = 68
const TP_STATUS_USER = 1
const TP_STATUS_VLAN_VALID = 1 << 4
const TP_STATUS_VLAN_TPID_VALID = 1 << 6
const ETHERTYPE_VLAN = 0x8100
const VLAN_TAG = 4
/** Ethernet's two addresses, before which a VLAN tag goes. */
const MAC_ADDRESSES = 12

export interface RingWalkerOptions {
  device: string
  linkType: number
  /** Bytes of each packet handed on at most. */
  snapLength: number
  /** Called for each frame in ring order; `frame` is reused and valid only during the call. */
  onFrame: (frame: Frame) => void
}

/**
 * Walks the blocks of a TPACKET_V3 ring (or any buffer laid out like one) and hands each packet
 * on as a Frame over the ring's own bytes, with the kernel's nanosecond timestamp: no copy, no
 * allocation per packet. The kernel wrote the blocks, but a frame that does not fit its block (a
 * snap length of 0, offsets past the block) is counted as a problem by reason, never thrown.
 *
 * A VLAN tag the kernel took off into the frame header (tp_vlan_tci) is put back in front of the
 * EtherType, as libpcap does, so the frame is what was on the wire: the kernel leaves room for it
 * between the sockaddr_ll and the packet.
 */
export class RingWalker {
  /** Frames handed on. */
  frames = 0
  /** Their bytes on the wire. */
  bytes = 0
  readonly problems = new Map<string, number>()
  private readonly u8: Uint8Array
  private readonly u16: Uint16Array
  private readonly u32: Uint32Array
  private readonly frame: Frame = newFrame()
  private readonly snapLength: number
  private readonly ethernet: boolean
  private readonly onFrame: (frame: Frame) => void

  constructor(
    ring: ArrayBuffer,
    private readonly blockSize: number,
    options: RingWalkerOptions,
  ) {
    this.u8 = new Uint8Array(ring)
    this.u16 = new Uint16Array(ring, 0, ring.byteLength >>> 1)
    this.u32 = new Uint32Array(ring, 0, ring.byteLength >>> 2)
    this.snapLength = options.snapLength
    this.ethernet = options.linkType === LINKTYPE.ETHERNET
    this.onFrame = options.onFrame
    this.frame.data = this.u8
    this.frame.device = options.device
    this.frame.linkType = options.linkType
  }

  /**
   * Whether the kernel handed block `block` over. An atomic load: on weakly ordered CPUs it keeps
   * the reads of the block's frames after it (the kernel writes the status last, after a barrier).
   */
  ready(block: number): boolean {
    const at = (block * this.blockSize + BLOCK_STATUS) >>> 2
    return at < this.u32.length && (Atomics.load(this.u32, at) & TP_STATUS_USER) !== 0
  }

  /** Hands on every frame of a ready block; returns how many packets the block held. */
  walk(block: number): number {
    const base = block * this.blockSize
    const u32 = this.u32
    const w = base >>> 2
    const count = u32[w + (BLOCK_PACKETS >>> 2)] ?? 0
    let length = u32[w + (BLOCK_LENGTH >>> 2)] ?? 0
    if (length > this.blockSize) {
      this.problem('block-length-past-block', 1)
      length = this.blockSize
    }
    let at = u32[w + (BLOCK_FIRST >>> 2)] ?? 0
    const frame = this.frame
    for (let i = 0; i < count; i++) {
      if (at < BLOCK_HEADER || at + FRAME_HEADER > length || (at & 3) !== 0) {
        // The chain is broken: the rest of the block cannot be found.
        this.problem('frame-offset-past-block', count - i)
        break
      }
      const h = (base + at) >>> 2
      const snap = u32[h + (FRAME_SNAPLEN >>> 2)] ?? 0
      const mac = this.u16[(base + at + FRAME_MAC) >>> 1] ?? 0
      if (snap === 0) this.problem('empty-frame', 1)
      else if (mac < FRAME_HEADER || at + mac + snap > length) this.problem('frame-past-block', 1)
      else {
        const status = u32[h + (FRAME_STATUS >>> 2)] ?? 0
        let start = base + at + mac
        let captured = snap
        let wire = u32[h + (FRAME_LEN >>> 2)] ?? 0
        if ((status & TP_STATUS_VLAN_VALID) !== 0 && this.ethernet) {
          if (mac - VLAN_TAG >= FRAME_HEADER && captured >= MAC_ADDRESSES) {
            start = this.restoreVlanTag(start, h, status)
            captured += VLAN_TAG
            wire += VLAN_TAG
          } else this.problem('vlan-tag-not-restored', 1)
        }
        frame.offset = start
        frame.capturedLength = captured < this.snapLength ? captured : this.snapLength
        frame.originalLength = wire
        frame.time = (u32[h + (FRAME_SEC >>> 2)] ?? 0) + (u32[h + (FRAME_NSEC >>> 2)] ?? 0) / 1e9
        this.frames++
        this.bytes += wire
        this.onFrame(frame)
      }
      if (i + 1 < count) {
        const next = u32[h + (FRAME_NEXT >>> 2)] ?? 0
        if (next === 0) {
          this.problem('frame-offset-past-block', count - i - 1)
          break
        }
        at += next
      }
    }
    return count
  }

  /** Moves the two MAC addresses 4 bytes back and writes the tag after them; the frame's new start. */
  private restoreVlanTag(start: number, h: number, status: number): number {
    const u8 = this.u8
    const tci = (this.u32[h + (FRAME_VLAN_TCI >>> 2)] ?? 0) & 0xffff
    const tpid =
      (status & TP_STATUS_VLAN_TPID_VALID) !== 0
        ? (this.u16[h * 2 + (FRAME_VLAN_TPID >>> 1)] ?? ETHERTYPE_VLAN)
        : ETHERTYPE_VLAN
    const tagged = start - VLAN_TAG
    u8.copyWithin(tagged, start, start + MAC_ADDRESSES)
    const tag = tagged + MAC_ADDRESSES
    u8[tag] = tpid >>> 8
    u8[tag + 1] = tpid & 0xff
    u8[tag + 2] = tci >>> 8
    u8[tag + 3] = tci & 0xff
    return tagged
  }

  private problem(reason: string, packets: number): void {
    this.problems.set(reason, (this.problems.get(reason) ?? 0) + packets)
  }
}
