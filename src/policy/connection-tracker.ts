import type { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction, REJECT_REASON } from '../core/verdict.js'
import type { CompiledPolicy } from './compile-policy.js'
import { FragmentVerdicts } from './fragment-verdicts.js'
import { type ConnectionTimeouts, DEFAULT_TIMEOUTS } from './timeouts.js'

/**
 * Stateful security groups (DESIGN 3, reference 10.2): a packet of a tracked connection is
 * accepted whatever the rules of its direction say; a packet of no connection is judged by the
 * rules, and if they allow it, it opens a connection. Verdicts are computed once per connection
 * and cached in its entry.
 *
 * The table is open addressing over typed arrays, bounded by `capacity` live connections, and
 * allocates nothing per packet. Time is the packets' own (replays run at any speed).
 */

const TCP = 6
const UDP = 17
const ICMP = 1
const ICMPV6 = 58

const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

// Slot states. A CLOSED slot is a tombstone: it keeps the key of a connection that ended, so a
// late packet of it is told apart (not-established) until the slot is reused.
const EMPTY = 0
const LIVE = 1
const CLOSED = 2

// Entry flags.
const SEEN_LOCAL = 0x01
const SEEN_REMOTE = 0x02
const ESTABLISHED = 0x04
const FIN_LOCAL = 0x08
const FIN_REMOTE = 0x10
const CLOSING = 0x20

/**
 * Memory layout, chosen for memory accesses: the table is far bigger than the CPU caches (and the
 * TLB), so a field per array would cost a miss per field.
 * - tags: one word per slot, hash >>> 2 << 2 | state (0 = EMPTY). A lookup scans only these, so a
 *   miss (each new flow of a scan) costs one access into a compact array however long the probe.
 * - records: one 64-byte record (a cache line) per slot, read once the tag matches: words 0 flags,
 *   1 cause, 2-3 expiry (a float64), 4-13 the key, 14-15 spare.
 */
const RECORD_WORDS = 16
const FLAGS = 0
const CAUSE = 1
/** Index of the expiry in the Float64Array view of a record (8 float64 per record). */
const EXPIRES = 1
const KEY = 4
/** Key words: iface << 8 | protocol, local port << 16 | remote port, local (4), remote (4). */
const KEY_WORDS = 10
const STATE_MASK = 3

/**
 * A key lives within this many slots of its home slot. Lookups stop there, so a table full of
 * tombstones never degenerates into a scan; an insert that finds no free slot in its neighbourhood
 * is judged without tracking, like one into a full table.
 */
const NEIGHBOURHOOD = 32
/** Slots a new table starts with (about 6 MiB with the tags). */
const INITIAL_SLOTS = 1 << 16

const NOT_ESTABLISHED = -(REJECT_REASON.NOT_ESTABLISHED + 1)
const NO_MATCHING_RULE = -(REJECT_REASON.NO_MATCHING_RULE + 1)

export interface TrackerStats {
  /** Packets judged. */
  packets: number
  /** Packets accepted by a live connection. */
  hits: number
  /** Connections opened (a rule allowed a packet of no connection). */
  created: number
  /** Packets rejected. */
  rejected: number
  /** Connections that ended by timeout or after their closing grace. */
  expired: number
  /** Packets that a rule allowed but no room was left to track (the table or the key's neighbourhood was full). */
  untrackedBecauseFull: number
  /** Full-table sweeps for expired connections. */
  sweeps: number
  /** Later fragments judged by the verdict of their first fragment. */
  fragmentsByFirst: number
}

export interface TrackerOptions {
  timeouts?: Partial<ConnectionTimeouts>
  /**
   * An analysis replay's table (analyze/rejudge.ts): it never forgets a connection. No capacity
   * (`capacity` is ignored), no sweep, and a slot is only ever taken by its own connection again
   * (a tombstone or a timed-out entry stays until then), so each connection is judged by its own
   * packets alone, whatever else the table holds or held: a replay may then judge its records a
   * conversation at a time, with `clear` between them. It starts at 16 slots.
   */
  remember?: boolean
}

/**
 * Slots a remembering table starts with, and the most `clear` keeps (a larger table goes back to
 * the start): a replay clears it once per conversation group, so neither the clear nor a regrowth
 * may cost more than the group's own entries.
 */
const REMEMBER_SLOTS = 64
const REMEMBER_KEEP = 4096

export class ConnectionTracker {
  /** The rules new connections are judged by; `setPolicy` swaps them (a live reload). */
  policy: CompiledPolicy
  /** Most live connections the table holds. */
  readonly capacity: number
  readonly timeouts: Readonly<ConnectionTimeouts>
  readonly stats: TrackerStats = {
    packets: 0,
    hits: 0,
    created: 0,
    rejected: 0,
    expired: 0,
    untrackedBecauseFull: 0,
    sweeps: 0,
    fragmentsByFirst: 0,
  }

  /** Slots now allocated; the table doubles at 3/4 load up to #maxSlots (what `capacity` needs). */
  #slots: number
  readonly #maxSlots: number
  #window: number
  #tags: Uint32Array
  #records: Uint32Array
  #times: Float64Array
  readonly #key = new Uint32Array(KEY_WORDS)
  readonly #fragments = new FragmentVerdicts()
  /** The policy setPolicy set for packets from a time on, before the first such packet came. */
  #pending: { policy: CompiledPolicy; from: number } | null = null
  #size = 0
  readonly #remember: boolean
  /** Slots that are not EMPTY (live or tombstones): what fills a remembering table. */
  #occupied = 0
  /** A remembering table's non-EMPTY slots (the first #occupied), which `clear` empties. */
  #taken = new Int32Array(0)
  /** No live entry expires before this time, so a sweep before it would free nothing. */
  #nextExpiry = Number.POSITIVE_INFINITY
  /** Full-table inserts since the last sweep; a sweep waits for enough of them to pay for it. */
  #sweepCredit: number

  constructor(policy: CompiledPolicy, capacity: number, options: TrackerOptions = {}) {
    this.policy = policy
    this.#remember = options.remember === true
    this.capacity = this.#remember ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(capacity))
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
    // Load factor at most 3/4 keeps probes short; any size works (no power-of-two rounding).
    // The table starts small and grows with the connections it holds: memory follows the
    // working set, not the configured bound, and a small table stays in the CPU caches.
    this.#maxSlots = Math.max(16, Math.ceil((this.capacity * 4) / 3))
    this.#slots = this.#remember ? REMEMBER_SLOTS : Math.min(this.#maxSlots, INITIAL_SLOTS)
    this.#window = Math.min(NEIGHBOURHOOD, this.#slots)
    this.#tags = new Uint32Array(this.#slots)
    this.#records = new Uint32Array(this.#slots * RECORD_WORDS)
    this.#times = new Float64Array(this.#records.buffer)
    this.#sweepCredit = this.#slots >>> 4
    if (this.#remember) this.#taken = new Int32Array(this.#slots)
  }

  /** Forgets every connection (a remembering table: a replay's next conversation group). */
  clear(): void {
    if (this.#slots > REMEMBER_KEEP) {
      this.#slots = REMEMBER_SLOTS
      this.#window = Math.min(NEIGHBOURHOOD, this.#slots)
      this.#records = new Uint32Array(this.#slots * RECORD_WORDS)
      this.#times = new Float64Array(this.#records.buffer)
      this.#tags = new Uint32Array(this.#slots)
      this.#taken = new Int32Array(this.#slots)
    } else for (let i = 0; i < this.#occupied; i++) this.#tags[this.#taken[i] ?? 0] = EMPTY
    this.#size = 0
    this.#occupied = 0
    this.#nextExpiry = Number.POSITIVE_INFINITY
  }

  /** Multiply-shift maps the hash onto any table size. */
  #home(hash: number): number {
    const slots = this.#slots
    return Math.min(slots - 1, Math.floor((hash * slots) / 4294967296))
  }

  /**
   * Doubles the table (up to #maxSlots) and moves the live connections; tombstones are dropped,
   * except by a remembering table.
   */
  #grow(): void {
    const oldTags = this.#tags
    const oldRecords = this.#records
    const slots = Math.min(this.#maxSlots, this.#slots * 2)
    this.#slots = slots
    this.#window = Math.min(NEIGHBOURHOOD, slots)
    this.#tags = new Uint32Array(slots)
    this.#records = new Uint32Array(slots * RECORD_WORDS)
    this.#times = new Float64Array(this.#records.buffer)
    this.#sweepCredit = slots >>> 4
    const key = this.#key
    const kept = this.#remember ? CLOSED : LIVE
    this.#occupied = 0
    if (this.#remember) this.#taken = new Int32Array(slots)
    for (let old = 0; old < oldTags.length; old++) {
      const state = (oldTags[old] ?? 0) & STATE_MASK
      if (state !== LIVE && state !== kept) continue
      const from = old * RECORD_WORDS
      for (let w = 0; w < KEY_WORDS; w++) key[w] = oldRecords[from + KEY + w] ?? 0
      const home = this.#home(hashKey(key))
      let to = -1
      for (let k = 0, s = home; k < this.#window; k++, s = s + 1 === slots ? 0 : s + 1) {
        if (this.#tags[s] === EMPTY) {
          to = s
          break
        }
      }
      if (to < 0) {
        // Its whole neighbourhood is taken (vanishingly rare at half load): it is forgotten.
        if (state === LIVE) this.#size--
        this.stats.untrackedBecauseFull++
        continue
      }
      if (this.#remember) this.#taken[this.#occupied] = to
      this.#occupied++
      this.#tags[to] = oldTags[old] ?? 0
      // Word by word: a view per connection would allocate as many objects as the table holds.
      const records = this.#records
      const base = to * RECORD_WORDS
      for (let w = 0; w < RECORD_WORDS; w++) records[base + w] = oldRecords[from + w] ?? 0
    }
  }

  /**
   * Judges new connections by `policy` (a config reload): from the first packet captured at `from`
   * (unix seconds) or later, at once without it. A live capture hands packets over in blocks, so
   * packets sent before the change may still wait to be judged when it comes: they are judged by
   * the rules they were sent under. Tracked connections keep their cached verdict, as AWS keeps
   * tracked flows when a rule is removed. The new policy must keep the old rule indices
   * (compilePolicy(network, previous)) so cached causes still name their rules.
   */
  setPolicy(policy: CompiledPolicy, from = Number.NEGATIVE_INFINITY): void {
    this.#pending = null
    if (from === Number.NEGATIVE_INFINITY) this.policy = policy
    else this.#pending = { policy, from }
  }

  /** Live connections (some may have timed out and not been noticed yet). */
  get size(): number {
    return this.#size
  }

  /** Bytes of the table, for the memory-per-flow figure (68 per slot, 4/3 slot per connection). */
  get memoryBytes(): number {
    return this.#tags.byteLength + this.#records.byteLength
  }

  /**
   * Judges one packet seen on interface `iface` (its index in the config) at `time` (unix seconds).
   * Returns the cause: ≥ 0 accepted, the index of the rule that accepted its connection
   * (policy.ruleIds); < 0 rejected, -(REJECT_REASON + 1). Never throws.
   */
  judge(iface: number, direction: Direction, view: PacketView, time: number): number {
    this.stats.packets++
    if (this.#pending !== null && time >= this.#pending.from) {
      this.policy = this.#pending.policy
      this.#pending = null
    }
    if (view.fragment === 2) return this.#judgeLaterFragment(iface, direction, view, time)
    const cause = this.#judgeConnection(iface, direction, view, time)
    if (view.fragment === 1) this.#fragments.remember(iface, view, cause, time)
    return cause
  }

  #judgeLaterFragment(iface: number, direction: Direction, view: PacketView, time: number): number {
    const cause = this.#fragments.recall(iface, view, time)
    if (cause !== null) {
      this.stats.fragmentsByFirst++
      if (cause < 0) this.stats.rejected++
      return cause
    }
    // Its first fragment was not seen: only a rule that allows any port can vouch for it.
    const rule = this.policy.evaluate(iface, direction, view)
    if (rule < 0) this.stats.rejected++
    return rule >= 0 ? rule : NO_MATCHING_RULE
  }

  #judgeConnection(iface: number, direction: Direction, view: PacketView, time: number): number {
    // While it may grow, the table stays at most 3/4 full, as it is at its full size: probes scan
    // the compact tags, and a smaller table of records misses the CPU caches less (a crowded
    // neighbourhood grows it below).
    if ((this.#remember ? this.#occupied : this.#size) * 4 >= this.#slots * 3 && this.#slots < this.#maxSlots)
      this.#grow()
    const fromLocal = this.#makeKey(iface, direction, view)
    const hash = hashKey(this.#key)
    const tags = this.#tags
    const slots = this.#slots
    const home = this.#home(hash)
    const wanted = hash >>> 2
    let found = -1
    for (let k = 0, s = home; k < this.#window; k++, s = s + 1 === slots ? 0 : s + 1) {
      const tag = tags[s] ?? 0
      if (tag === EMPTY) break
      if (tag >>> 2 === wanted && this.#keyAt(s)) {
        found = s
        break
      }
    }

    let hadConnection = false
    let free = -1
    if (found >= 0) {
      const live = ((tags[found] ?? 0) & STATE_MASK) === LIVE
      if (live && time < (this.#times[found * 8 + EXPIRES] ?? 0)) {
        const record = found * RECORD_WORDS
        const bareSyn = (view.tcpFlags & (SYN | ACK)) === SYN
        // A new SYN on a closing connection starts a new one, judged by the rules.
        if (!(view.protocol === TCP && bareSyn && ((this.#records[record + FLAGS] ?? 0) & CLOSING) !== 0)) {
          this.#touch(found, view.protocol, fromLocal, view.tcpFlags, time)
          this.stats.hits++
          return this.#records[record + CAUSE] ?? 0
        }
        const rule = this.policy.evaluate(iface, direction, view)
        if (rule < 0) {
          this.stats.rejected++
          return NOT_ESTABLISHED
        }
        this.#records[record + FLAGS] = 0
        this.#records[record + CAUSE] = rule
        this.#touch(found, view.protocol, fromLocal, view.tcpFlags, time)
        this.stats.created++
        return rule
      }
      if (live) this.#retire(found)
      hadConnection = true
      free = found
    }

    const rule = this.policy.evaluate(iface, direction, view)
    if (rule < 0) {
      this.stats.rejected++
      return hadConnection ? NOT_ESTABLISHED : NO_MATCHING_RULE
    }
    // When full, look for a timed-out neighbour only if anything can have timed out yet.
    if (free < 0 && (this.#size < this.capacity || time >= this.#nextExpiry))
      free = this.#freeSlotNear(home, time)
    // An expired entry in the key's neighbourhood can be reused even when the table is full.
    const reclaim = free >= 0 && ((tags[free] ?? 0) & STATE_MASK) === LIVE
    if (this.#size >= this.capacity && !reclaim) {
      this.#sweep(time)
      if (this.#size >= this.capacity) {
        this.stats.untrackedBecauseFull++
        return rule
      }
      if (free < 0) free = this.#freeSlotNear(home, time)
    }
    if (free < 0 && this.#slots < this.#maxSlots) {
      // A crowded neighbourhood in a table that may still grow: grow, then look again.
      this.#grow()
      this.#makeKey(iface, direction, view)
      free = this.#freeSlotNear(this.#home(hash), time)
    }
    if (free < 0) {
      this.stats.untrackedBecauseFull++
      return rule
    }
    const tagsNow = this.#tags
    if (((tagsNow[free] ?? 0) & STATE_MASK) === LIVE) this.#retire(free)
    else if (tagsNow[free] === EMPTY) {
      if (this.#remember) this.#taken[this.#occupied] = free
      this.#occupied++
    }
    const records = this.#records
    const record = free * RECORD_WORDS
    const key = this.#key
    for (let w = 0; w < KEY_WORDS; w++) records[record + KEY + w] = key[w] ?? 0
    records[record + FLAGS] = 0
    records[record + CAUSE] = rule
    tagsNow[free] = ((wanted << 2) | LIVE) >>> 0
    this.#touch(free, view.protocol, fromLocal, view.tcpFlags, time)
    this.#size++
    this.stats.created++
    return rule
  }

  /**
   * Fills #key with the connection key of the packet, oriented so both directions of one
   * connection give the same key: local = the interface's side. Returns whether the packet was
   * sent by the local side. Unknown-direction packets (neither address is the interface's) are
   * oriented by address order, so their replies still find their entry.
   */
  #makeKey(iface: number, direction: Direction, view: PacketView): boolean {
    let localIsDst = direction !== DIRECTION.EGRESS
    const protocol = view.protocol
    let srcPort = 0
    let dstPort = 0
    if (protocol === TCP || protocol === UDP) {
      srcPort = view.srcPort
      dstPort = view.dstPort
    } else if (isEcho(protocol, view.icmpType) && view.icmpId >= 0) {
      // Ping is tracked per echo id: request and reply carry the same one.
      srcPort = view.icmpId
      dstPort = view.icmpId
    }
    if (direction === DIRECTION.UNKNOWN) {
      const order = compareAddresses(view.src, view.dst)
      localIsDst = order > 0 || (order === 0 && srcPort > dstPort)
    }
    const key = this.#key
    const local = localIsDst ? view.dst : view.src
    const remote = localIsDst ? view.src : view.dst
    key[0] = ((iface << 8) | protocol) >>> 0
    key[1] = localIsDst ? ((dstPort << 16) | srcPort) >>> 0 : ((srcPort << 16) | dstPort) >>> 0
    for (let w = 0; w < 4; w++) {
      key[2 + w] = local[w] ?? 0
      key[6 + w] = remote[w] ?? 0
    }
    return !localIsDst
  }

  #keyAt(slot: number): boolean {
    const records = this.#records
    const key = this.#key
    const base = slot * RECORD_WORDS + KEY
    for (let w = 0; w < KEY_WORDS; w++) if (records[base + w] !== key[w]) return false
    return true
  }

  /** Updates an entry for one of its packets: who has been seen, TCP state, expiry. */
  #touch(slot: number, protocol: number, fromLocal: boolean, tcpFlags: number, time: number): void {
    const t = this.timeouts
    const flagsAt = slot * RECORD_WORDS + FLAGS
    let flags = (this.#records[flagsAt] ?? 0) | (fromLocal ? SEEN_LOCAL : SEEN_REMOTE)
    let timeout: number
    if (protocol === TCP) {
      if ((flags & CLOSING) !== 0) {
        // The grace runs from the close; retransmissions do not stretch it.
        this.#records[flagsAt] = flags
        return
      }
      if ((tcpFlags & RST) !== 0) {
        flags |= CLOSING
        timeout = t.tcpRstGrace
      } else {
        if ((tcpFlags & FIN) !== 0) flags |= fromLocal ? FIN_LOCAL : FIN_REMOTE
        if ((flags & (FIN_LOCAL | FIN_REMOTE)) === (FIN_LOCAL | FIN_REMOTE)) {
          flags |= CLOSING
          timeout = t.tcpFinGrace
        } else {
          // Anything but a bare SYN means the handshake got further (or we joined mid-stream).
          if ((tcpFlags & (SYN | ACK)) !== SYN) flags |= ESTABLISHED
          timeout = (flags & ESTABLISHED) !== 0 ? t.tcpEstablished : t.tcpOpening
        }
      }
    } else if (protocol === UDP) {
      timeout =
        (flags & (SEEN_LOCAL | SEEN_REMOTE)) === (SEEN_LOCAL | SEEN_REMOTE) ? t.udpStream : t.udpOneWay
    } else if (protocol === ICMP || protocol === ICMPV6) {
      timeout = t.icmp
    } else {
      timeout = t.other
    }
    this.#records[flagsAt] = flags
    const expiry = time + timeout
    this.#times[slot * 8 + EXPIRES] = expiry
    if (expiry < this.#nextExpiry) this.#nextExpiry = expiry
  }

  /** A live entry that timed out or finished its grace becomes a tombstone. */
  #retire(slot: number): void {
    this.#tags[slot] = (((this.#tags[slot] ?? 0) & ~STATE_MASK) | CLOSED) >>> 0
    this.#size--
    this.stats.expired++
  }

  /**
   * Turns every timed-out entry into a tombstone. O(slots), so it runs only when the table is
   * full, something can have expired, and enough full-table inserts have paid for it.
   */
  #sweep(time: number): void {
    this.#sweepCredit++
    if (time < this.#nextExpiry || this.#sweepCredit < this.#slots >>> 4) return
    this.#sweepCredit = 0
    this.stats.sweeps++
    let next = Number.POSITIVE_INFINITY
    const tags = this.#tags
    const times = this.#times
    for (let s = 0; s < this.#slots; s++) {
      if (((tags[s] ?? 0) & STATE_MASK) !== LIVE) continue
      const e = times[s * 8 + EXPIRES] ?? 0
      if (e <= time) this.#retire(s)
      else if (e < next) next = e
    }
    this.#nextExpiry = next
  }

  /**
   * A reusable slot of the key's neighbourhood, or -1: the first empty or tombstone slot (from the
   * tags alone), else the first timed-out one (reading expiries only then).
   */
  #freeSlotNear(home: number, time: number): number {
    const slots = this.#slots
    const tags = this.#tags
    if (this.#remember) {
      // Only an empty slot: a tombstone or a timed-out entry is another connection's memory.
      for (let k = 0, s = home; k < this.#window; k++, s = s + 1 === slots ? 0 : s + 1)
        if (tags[s] === EMPTY) return s
      return -1
    }
    for (let k = 0, s = home; k < this.#window; k++, s = s + 1 === slots ? 0 : s + 1) {
      if (((tags[s] ?? 0) & STATE_MASK) !== LIVE) return s
    }
    for (let k = 0, s = home; k < this.#window; k++, s = s + 1 === slots ? 0 : s + 1) {
      if ((this.#times[s * 8 + EXPIRES] ?? 0) <= time) return s
    }
    return -1
  }
}

function isEcho(protocol: number, type: number): boolean {
  return protocol === ICMP ? type === 8 || type === 0 : protocol === ICMPV6 && (type === 128 || type === 129)
}

function compareAddresses(a: Uint32Array, b: Uint32Array): number {
  for (let w = 0; w < 4; w++) {
    const x = a[w] ?? 0
    const y = b[w] ?? 0
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** Murmur3-style mixing of the key words (deterministic: replays give the same table). */
function hashKey(key: Uint32Array): number {
  let h = 0x811c9dc5
  for (let w = 0; w < KEY_WORDS; w++) {
    let k = Math.imul(key[w] ?? 0, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
