import { Command } from 'commander'
import { runAction } from './run-action.js'

/**
 * Every command, by the name users type, loaded on demand: a command pulls in only its own
 * dependencies (DuckDB, the S3 SDK, nftables rendering, ...), so `flowlog query` starts in a
 * fraction of the time it would take to load them all.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate-command.js')).validateCommand(),
  replay: async () => (await import('./replay-command.js')).replayCommand(),
  run: async () => (await import('./run-command.js')).runCommand(),
  sg: async () => (await import('./sg-command.js')).sgCommand(),
  spool: async () => (await import('./spool-command.js')).spoolCommand(),
  query: async () => (await import('./query-command.js')).queryCommand(),
  sql: async () => (await import('./sql-command.js')).sqlCommand(),
  report: async () => (await import('./report-command.js')).reportCommand(),
  detect: async () => (await import('./detect-command.js')).detectCommand(),
  audit: async () => (await import('./audit-command.js')).auditCommand(),
  'what-if': async () => (await import('./what-if-command.js')).whatIfCommand(),
  import: async () => (await import('./import-command.js')).importCommand(),
  'export-config': async () => (await import('./export-config-command.js')).exportConfigCommand(),
  datastore: async () => (await import('./datastore-command.js')).datastoreCommand(),
  console: async () => (await import('./console-command.js')).consoleCommand(),
}

/**
 * The one place that assembles the command line (DESIGN 4b). Each command lives in its own file.
 * With `only`, just that command is loaded (the others are not needed to run it); for --version,
 * none; otherwise all of them, for the help that lists them.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('flowlog')
    .description('VPC flow logs for any Linux host and any packet capture')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 success, 1 bad input (the message names it), 2 runtime failure.
Docs: docs/config.md (configuration), docs/formats.md (fields and files).`,
    )
  const load = only === undefined ? undefined : COMMANDS[only]
  // --version needs no command at all; help without a command lists them all.
  const makers =
    load !== undefined ? [load] : only === '-V' || only === '--version' ? [] : Object.values(COMMANDS)
  for (const make of makers) program.addCommand(await make())
  return program
}

await runAction(async () => (await buildProgram(process.argv[2])).parseAsync(process.argv))
