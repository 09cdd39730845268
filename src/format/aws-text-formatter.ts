import type { FlowRecord } from '../core/flow-record.js'
import type { FormatContext, Formatter } from '../core/stages.js'
import { planFields } from './field-plan.js'
import { AWS_FIELD_VALUES } from './field-values.js'
import { TextBody } from './text-body.js'

/**
 * AWS VPC flow-log text (reference §2): a header line of the field names as configured, then one
 * space-separated line per record with `-` where a value does not apply. Athena's DDL skips the
 * header (`skip.header.line.count=1`), so AWS parsers read these files unchanged.
 */
export class AwsTextFormatter implements Formatter {
  readonly extension = 'log'

  encode(records: readonly FlowRecord[], context: FormatContext): Uint8Array {
    const { names, values, scope } = planFields(context, AWS_FIELD_VALUES, 'text (AWS)')
    const body = new TextBody()
    body.line(names.join(' '))
    const n = values.length
    for (const record of records) {
      let line = ''
      for (let f = 0; f < n; f++) {
        const value = values[f]!(record, scope)
        line += f === 0 ? (value ?? '-') : ` ${value ?? '-'}`
      }
      body.line(line)
    }
    return body.finish()
  }
}
