import { readFileSync } from 'node:fs'

/** A device's packet counters as the kernel keeps them (rx + tx), or null when unreadable. */
export function readDeviceCounters(device: string): { packets: number; bytes: number } | null {
  try {
    const base = `/sys/class/net/${device}/statistics/`
    const read = (name: string) => Number(readFileSync(base + name, 'utf8'))
    return { packets: read('rx_packets') + read('tx_packets'), bytes: read('rx_bytes') + read('tx_bytes') }
  } catch {
    return null
  }
}

/**
 * Packets the kernel saw on a device that never reached the capture (DESIGN 9: "never hidden").
 *
 * libpcap counts its ring's drops (pcap_stats), but the `cap` binding does not expose them, so the
 * count is derived: the device's own rx + tx counters grow by every packet libpcap would see; what
 * they gained beyond the frames captured is lost. A packet still in the ring when the counters are
 * read is not lost yet, so a shortfall counts only once two samples a tick apart both show it
 * (`confirm`), and the total only ever grows.
 */
export class KernelDropEstimate {
  /** Packets confirmed lost since the capture opened. */
  dropped = 0
  droppedBytes = 0
  private basePackets: number
  private baseBytes: number
  private lastShortfall = 0
  private lastShortfallBytes = 0

  constructor(
    private readonly device: string,
    private readonly read: (device: string) => { packets: number; bytes: number } | null = readDeviceCounters,
  ) {
    const now = this.read(device)
    this.basePackets = now?.packets ?? 0
    this.baseBytes = now?.bytes ?? 0
  }

  /**
   * Takes a sample given the frames and bytes captured so far; returns the packets newly
   * confirmed lost (and sets `newBytes`).
   */
  sample(capturedFrames: number, capturedBytes: number): { packets: number; bytes: number } {
    const counters = this.read(this.device)
    if (counters === null) return { packets: 0, bytes: 0 }
    if (counters.packets < this.basePackets) {
      // The device was recreated (a VM restarted): its counters started again from zero.
      this.basePackets = counters.packets - capturedFrames
      this.baseBytes = counters.bytes - capturedBytes
    }
    const shortfall = Math.max(0, counters.packets - this.basePackets - capturedFrames)
    const shortfallBytes = Math.max(0, counters.bytes - this.baseBytes - capturedBytes)
    const confirmed = Math.min(shortfall, this.lastShortfall)
    const confirmedBytes = Math.min(shortfallBytes, this.lastShortfallBytes)
    this.lastShortfall = shortfall
    this.lastShortfallBytes = shortfallBytes
    if (confirmed <= this.dropped) return { packets: 0, bytes: 0 }
    const packets = confirmed - this.dropped
    const bytes = Math.max(0, confirmedBytes - this.droppedBytes)
    this.dropped = confirmed
    this.droppedBytes = Math.max(this.droppedBytes, confirmedBytes)
    return { packets, bytes }
  }
}
