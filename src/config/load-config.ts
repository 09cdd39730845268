import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseDocument } from 'yaml'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { crossCheck } from './cross-checks.js'
import { formatIssue, ruleOfIssue, sortProblems } from './problems.js'
import { configSchema } from './schema.js'

/**
 * Reads, parses and validates a config file (DESIGN 4). Throws InputError listing every problem.
 */
export function loadConfig(path: string): NetworkConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT'
        ? 'no such file (ENOENT)'
        : code === 'EISDIR'
          ? 'it is a directory, not a config file (EISDIR)'
          : code === 'EACCES'
            ? 'permission denied (EACCES)'
            : (code ?? String(error))
    throw new InputError(`cannot read config ${path}: ${reason}`, undefined, { cause: error })
  }
  return parseConfig(text, path)
}

/**
 * Parses config text, YAML or JSON: JSON when the source name ends in `.json` or the text starts
 * with `{`. Both go through the YAML parser (YAML 1.2 reads JSON), JSON with the JSON schema, so
 * syntax errors name line and column and duplicate keys are errors in both.
 */
export function parseConfig(text: string, sourceName: string): NetworkConfig {
  const json = extname(sourceName).toLowerCase() === '.json' || /^\uFEFF?\s*\{/.test(text)
  const document = parseDocument(text, {
    schema: json ? 'json' : 'core',
    prettyErrors: true,
    uniqueKeys: true,
  })
  if (document.errors.length > 0) {
    const errors = [...document.errors].sort((a, b) => a.pos[0] - b.pos[0])
    const problems = errors.map((error) => {
      const at = error.linePos?.[0]
      // prettyErrors appends " at line L, column C:" and a code frame; we say the place our way.
      const message =
        error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message
      return at !== undefined ? `${sourceName}:${at.line}:${at.col}: ${message}` : `${sourceName}: ${message}`
    })
    throw invalid(sourceName, problems, json ? 'JSON' : 'YAML')
  }
  const raw: unknown = document.toJS()
  if (raw === null || raw === undefined) throw invalid(sourceName, ['config: the file is empty'])
  const result = configSchema.safeParse(raw, { reportInput: true, error: ruleOfIssue })
  const problems = result.success ? [] : result.error.issues.flatMap(formatIssue)
  problems.push(...crossCheck(raw))
  // A multi-key rule can be found both by the schema and by the cross checks: say it once.
  const unique = sortProblems([...new Set(problems)])
  if (unique.length > 0 || !result.success) throw invalid(sourceName, unique)
  return result.data
}

function invalid(sourceName: string, problems: readonly string[], syntax?: string): InputError {
  const what = syntax !== undefined ? `is not valid ${syntax}` : 'is not a valid flowlog config'
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  return new InputError(`${sourceName} ${what} (${count}):\n  ${problems.join('\n  ')}`, problems)
}
