/**
 * A captured frame as a packet source hands it on. One Frame object is reused for every packet:
 * `data` is valid only until the source's next call, and nothing on the packet path keeps it.
 */
export interface Frame {
  /** The buffer the frame lies in (often a whole read chunk). */
  data: Uint8Array
  /** Where the frame starts in `data`. */
  offset: number
  /** Bytes captured (≤ originalLength when the snap length cut the packet). */
  capturedLength: number
  /** Bytes on the wire. */
  originalLength: number
  /** Capture time in unix seconds, fractional (double precision keeps sub-microsecond detail). */
  time: number
  /** LINKTYPE_* of this frame (pcapng lets each interface have its own). */
  linkType: number
  /** Name of the capture device (pcapng if_name, or --device), or null when the capture names none. */
  device: string | null
}

export function newFrame(): Frame {
  return {
    data: new Uint8Array(0),
    offset: 0,
    capturedLength: 0,
    originalLength: 0,
    time: 0,
    linkType: 0,
    device: null,
  }
}

/** Link-layer header types, tcpdump.org/linktypes.html. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const

/** Reads frames one at a time. Synchronous and allocation-free per frame; throws only for a broken file. */
export interface FrameReader {
  /** Fills `frame` with the next packet; false at the end of the capture. */
  next(frame: Frame): boolean
  /** Counts of capture-file problems that were skipped rather than fatal (e.g. a truncated last record). */
  readonly problems: ReadonlyMap<string, number>
  close(): void
}
