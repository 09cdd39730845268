/**
 * A progress bar for the work after the read (audit's and what-if's replay of every record through
 * the connection tracker), which runs synchronously: stderr only, only on a terminal, and only once
 * the phase has run for a second. Its module is loaded before the phase starts, since a synchronous
 * loop leaves no turn for an import to finish.
 */
export async function phaseProgressBar(
  label: string,
  enabled: boolean,
  /** Called once, before the bar first shows: the read's bar, finished by then, makes room. */
  before: () => void = () => {},
): Promise<{ update: (done: number, total: number) => void; stop: () => void } | null> {
  if (!enabled || !process.stderr.isTTY) return null
  const bars = (await import('cli-progress')).default
  const started = performance.now()
  let bar: InstanceType<typeof bars.SingleBar> | null = null
  return {
    update: (done, total) => {
      const seconds = (performance.now() - started) / 1000
      if (bar === null) {
        if (seconds < 1 || done >= total) return
        before()
        bar = new bars.SingleBar(
          {
            format: `${label} [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
            // The loop never yields: draw on update, not on a timer.
            synchronousUpdate: true,
            etaBuffer: 20,
          },
          bars.Presets.shades_classic,
        )
        bar.start(total, done)
      }
      bar.update(done)
    },
    stop: () => bar?.stop(),
  }
}
