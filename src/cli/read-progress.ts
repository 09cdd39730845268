import type cliProgress from 'cli-progress'
import type { ReadProgress } from '../read/read-options.js'

/**
 * A progress bar for long reads (query, sql): stderr only, only on a terminal, and only once a read
 * has run for a second, so short reads and pipes never see it. Progress is in stored bytes, which
 * is what the reader knows in advance. The bar's module is loaded only then, not by every read.
 */
export function readProgressBar(
  label: string,
): { update: (p: ReadProgress) => void; stop: () => void } | null {
  if (!process.stderr.isTTY) return null
  const started = performance.now()
  let bar: cliProgress.SingleBar | null = null
  let bars: typeof cliProgress | null = null
  let loading = false
  return {
    update: (p) => {
      const seconds = (performance.now() - started) / 1000
      if (bar === null) {
        if (seconds < 1) return
        if (bars === null) {
          // The bar starts at the first update after its module has loaded.
          if (!loading) {
            loading = true
            import('cli-progress').then(
              (m) => {
                bars = m.default
              },
              () => {},
            )
          }
          return
        }
        bar = new bars.SingleBar(
          {
            format: `${label} [{bar}] {percentage}% | {filesDone}/{files} files | {rows} records | {rate} records/s | ETA {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          bars.Presets.shades_classic,
        )
        bar.start(Math.max(p.bytes, 1), 0, { filesDone: 0, files: p.files, rows: '0', rate: '0' })
      }
      bar.update(Math.min(p.bytesDone, p.bytes), {
        filesDone: p.filesDone,
        files: p.files,
        rows: p.rows.toLocaleString('en-US'),
        rate: Math.round(p.rows / Math.max(seconds, 0.001)).toLocaleString('en-US'),
      })
    },
    stop: () => bar?.stop(),
  }
}
