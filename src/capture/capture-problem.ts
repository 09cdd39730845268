/**
 * Names of the capture-file problems a reader counts in `problems` instead of throwing. They are
 * user-facing (summaries, metrics), so they never change once released.
 */
export const CAPTURE_PROBLEM = {
  /** The file ends inside a record: usually a capture still being written, or cut by a copy. */
  TRUNCATED_RECORD: 'truncated-record',
  /** A length that cannot be right (captured > 256 KiB or > its block, block lengths disagree). */
  BAD_RECORD_LENGTH: 'bad-record-length',
  /** A pcapng packet names an interface its section never described: the packet is skipped. */
  UNKNOWN_INTERFACE: 'unknown-interface',
  /** A pcapng section header with a bad byte-order magic or an unknown major version. */
  BAD_SECTION_HEADER: 'bad-section-header',
  /**
   * A pcapng packet further out of time order than the reorder across interfaces absorbs: still
   * read (recorded if its window is open, else counted late), but not in time order.
   */
  OUT_OF_ORDER: 'out-of-order',
} as const

export type CaptureProblem = (typeof CAPTURE_PROBLEM)[keyof typeof CAPTURE_PROBLEM]

/**
 * The largest captured length believed, whatever the header says: libpcap's MAXIMUM_SNAPLEN.
 * Anything larger is a corrupt length field, not a packet.
 */
export const MAX_CAPTURED_LENGTH = 256 * 1024

export function countProblem(problems: Map<string, number>, problem: CaptureProblem): void {
  problems.set(problem, (problems.get(problem) ?? 0) + 1)
}
