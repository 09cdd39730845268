import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Command } from 'commander'
import { auditCommand } from './audit-command.js'
import { detectCommand } from './detect-command.js'
import { importCommand } from './import-command.js'
import { queryCommand } from './query-command.js'
import { reportCommand } from './report-command.js'
import { sqlCommand } from './sql-command.js'
import { validateCommand } from './validate-command.js'
import { whatIfCommand } from './what-if-command.js'

/**
 * One command line (docs/analysis.md): an option means the same letter and the same name in every
 * command that has it. replay and run's `-o, --out <dir>` is the directory form of `-o, --output`.
 */
const commands: Command[] = [
  queryCommand(),
  sqlCommand(),
  reportCommand(),
  detectCommand(),
  auditCommand(),
  whatIfCommand(),
  validateCommand(),
  ...importCommand().commands,
]

function options(): { command: string; short: string | undefined; long: string }[] {
  return commands.flatMap((c) =>
    c.options.map((o) => ({ command: c.name(), short: o.short, long: o.long ?? '' })),
  )
}

test('every short letter names one option, the same in every command', () => {
  const longOf = new Map<string, Set<string>>()
  for (const o of options()) {
    if (o.short === undefined) continue
    const set = longOf.get(o.short) ?? new Set()
    set.add(o.long)
    longOf.set(o.short, set)
  }
  for (const [short, longs] of longOf)
    assert.equal(longs.size, 1, `${short} means ${[...longs].join(' and ')}`)
})

test('every option name has the same letter (or none) in every command', () => {
  const shortOf = new Map<string, Set<string>>()
  for (const o of options()) {
    const set = shortOf.get(o.long) ?? new Set()
    set.add(o.short ?? '(none)')
    shortOf.set(o.long, set)
  }
  for (const [long, shorts] of shortOf)
    assert.equal(shorts.size, 1, `${long} is written ${[...shorts].join(' and ')} in different commands`)
})

test('the output options are -f, --format and -o, --output wherever results are written', () => {
  for (const c of commands.filter((c) => !['validate', 'aws'].includes(c.name()))) {
    const names = c.options.map((o) => `${o.short} ${o.long}`)
    assert.ok(names.includes('-f --format'), `${c.name()} has -f, --format`)
    assert.ok(names.includes('-o --output'), `${c.name()} has -o, --output`)
  }
})

test('names of a fixed list are taken in any case, as the config takes protocols and actions', () => {
  const detect = detectCommand().exitOverride()
  detect.parseOptions(['--only', 'PORT-SCAN,Sweep', '-f', 'JSON'])
  assert.deepEqual(detect.opts().only, ['port-scan', 'sweep'])
  assert.equal(detect.opts().format, 'json')
  const report = reportCommand().exitOverride()
  report.parseOptions(['--kind', 'Top-Talkers', '--format', 'CSV'])
  assert.deepEqual(report.opts().kind, ['top-talkers'])
  assert.equal(report.opts().format, 'csv')
})
