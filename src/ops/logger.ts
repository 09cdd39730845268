import { pino } from 'pino'

export type Logger = pino.Logger

/**
 * Structured JSON logs (one object per line on stdout), for journald, Loki or any log shipper.
 * `level` follows LOG_LEVEL (info by default). Nothing secret is ever logged: no tokens, no
 * credentials, only ids from the validated config, devices and counts.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info'
  return pino(
    {
      name: 'flowlog',
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  )
}
