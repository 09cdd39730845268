import { Command } from 'commander'
import { auditCommand } from './audit-command.js'
import { detectCommand } from './detect-command.js'
import { queryCommand } from './query-command.js'
import { replayCommand } from './replay-command.js'
import { reportCommand } from './report-command.js'
import { runAction } from './run-action.js'
import { runCommand } from './run-command.js'
import { sgCommand } from './sg-command.js'
import { spoolCommand } from './spool-command.js'
import { sqlCommand } from './sql-command.js'
import { validateCommand } from './validate-command.js'
import { whatIfCommand } from './what-if-command.js'

/** The one place that assembles the command line (DESIGN 4b). Each command lives in its own file. */
export function buildProgram(): Command {
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
  program.addCommand(validateCommand())
  program.addCommand(replayCommand())
  program.addCommand(runCommand())
  program.addCommand(sgCommand())
  program.addCommand(spoolCommand())
  program.addCommand(queryCommand())
  program.addCommand(sqlCommand())
  program.addCommand(reportCommand())
  program.addCommand(detectCommand())
  program.addCommand(auditCommand())
  program.addCommand(whatIfCommand())
  return program
}

await runAction(() => buildProgram().parseAsync(process.argv))
