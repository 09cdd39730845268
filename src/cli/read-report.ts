import type { ReadStats } from '../read/read-options.js'

/** How many bad lines are shown one by one; the rest are counted. */
const SHOWN = 10

/**
 * Bad lines, reported on stderr as they are found (file:line: reason) up to SHOWN, then counted;
 * and the one-line account of a read that query and sql print on stderr when they finish.
 */
export class ReadReport {
  private shown = 0

  constructor(private readonly command: string) {}

  readonly onBadLine = (file: string, line: number, reason: string): void => {
    if (this.shown++ < SHOWN) process.stderr.write(`flowlog ${this.command}: ${file}:${line}: ${reason}\n`)
  }

  summary(stats: ReadStats, what: string): string {
    const n = (v: number) => v.toLocaleString('en-US')
    const parts = [`${what} from ${n(stats.rows)} record(s) in ${n(stats.files)} file(s)`]
    if (stats.skippedFiles > 0) parts.push(`${n(stats.skippedFiles)} file(s)/folder(s) skipped by time`)
    if (stats.badLines > 0) {
      parts.push(
        `${n(stats.badLines)} bad line(s)${stats.badLines > SHOWN ? ` (first ${SHOWN} shown above)` : ''}`,
      )
    }
    return `flowlog ${this.command}: ${parts.join('; ')}`
  }
}
