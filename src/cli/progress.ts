import { statSync } from 'node:fs'
import cliProgress from 'cli-progress'

/**
 * A progress bar with packets/s on stderr, shown only on a terminal (never in pipes or logs).
 * Progress is measured in capture bytes, so the bar is right for any packet size.
 */
export function startProgress(
  captures: readonly string[],
): { update: (p: { packets: number; bytes: number }) => void; stop: () => void } | null {
  if (!process.stderr.isTTY) return null
  let total = 0
  for (const c of captures) {
    try {
      total += statSync(c).size
    } catch {
      // A missing file is reported by the reader with a proper message.
    }
  }
  const started = performance.now()
  const bar = new cliProgress.SingleBar(
    {
      format: 'replay [{bar}] {percentage}% | {packets} packets | {rate} packets/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      synchronousUpdate: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(Math.max(total, 1), 0, { packets: '0', rate: '0' })
  return {
    update: ({ packets, bytes }) => {
      const seconds = (performance.now() - started) / 1000
      bar.update(Math.min(bytes, total), {
        packets: packets.toLocaleString('en-US'),
        rate: seconds > 0 ? Math.round(packets / seconds).toLocaleString('en-US') : '0',
      })
    },
    stop: () => bar.stop(),
  }
}
