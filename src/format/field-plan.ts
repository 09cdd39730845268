import { awsVersionOf } from '../config/fields.js'
import { InputError } from '../core/errors.js'
import type { FormatContext } from '../core/stages.js'
import { FileScope, type ValueOf } from './field-values.js'
import { interfaceDirectory } from './interface-directory.js'

/** A file's fields resolved once: the inner loop calls `values[i]` for field i, nothing else. */
export interface FieldPlan {
  names: readonly string[]
  values: readonly ValueOf[]
  scope: FileScope
}

/**
 * Resolves the flow log's field list against a format's value table. An unknown name is an input
 * error naming the flow log, the field and the format (the config loader should have caught it).
 */
export function planFields(
  context: FormatContext,
  table: ReadonlyMap<string, ValueOf>,
  formatName: string,
): FieldPlan {
  const { flowLog, network } = context
  const values: ValueOf[] = []
  const unknown: string[] = []
  for (const name of flowLog.fields) {
    const value = table.get(name)
    if (value === undefined) unknown.push(name)
    else values.push(value)
  }
  if (unknown.length > 0) {
    const problems = unknown.map(
      (name) => `flowLogs ${flowLog.id}: field "${name}" is not a ${formatName} field`,
    )
    throw new InputError(problems[0] ?? '', problems)
  }
  const scope = new FileScope(
    network.account,
    network.region,
    awsVersionOf(flowLog.fields),
    interfaceDirectory(network),
  )
  return { names: flowLog.fields, values, scope }
}
