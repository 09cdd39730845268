import type { Frame } from '../core/frame.js'
import { DIRECTION } from '../core/verdict.js'
import { NflogMeta, readNflogMeta } from '../decode/nflog-meta.js'
import type { PacketPipeline } from '../pipeline/packet-pipeline.js'
import { type ParsedVerdict, parseVerdictPrefix } from './verdict-prefix.js'

/**
 * Turns the kernel's logged verdicts (NFLOG frames from libpcap's `nflog:N` devices) into records:
 * the prefix names the interface, the side and the cause; the payload is the packet; the kernel's
 * timestamp, when it sent one, is the packet time. A frame without flowlog's prefix (another NFLOG
 * user of the same group) is counted, not recorded. Allocation-free per frame.
 */
export class NflogVerdicts {
  /** Frames whose prefix was not flowlog's. */
  foreign = 0
  /** Frames naming an interface the config does not have (a ruleset from another config). */
  unknownInterface = 0
  /** Per cause sign: frames accepted and dropped by the kernel. */
  accepted = 0
  dropped = 0
  private readonly meta = new NflogMeta()
  private readonly verdict: ParsedVerdict = { iface: 0, direction: DIRECTION.INGRESS, cause: 0 }

  constructor(
    private readonly pipeline: PacketPipeline,
    private readonly interfaceCount: number,
  ) {}

  readonly onFrame = (frame: Frame): void => {
    const meta = this.meta
    const d = frame.data
    const s = frame.offset
    const end = s + frame.capturedLength
    readNflogMeta(d, s, end, meta)
    const verdict = this.verdict
    if (meta.prefixStart < 0 || !parseVerdictPrefix(d, meta.prefixStart, meta.prefixEnd, verdict)) {
      this.foreign++
      return
    }
    if (verdict.iface >= this.interfaceCount) {
      this.unknownInterface++
      return
    }
    if (meta.timestamp > 0) frame.time = meta.timestamp
    if (verdict.cause >= 0) this.accepted++
    else this.dropped++
    this.pipeline.processJudged(frame, verdict.iface, verdict.direction, verdict.cause)
  }
}
