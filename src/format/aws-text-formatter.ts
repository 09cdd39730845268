import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { BatchFormatContext, FormatContext, Formatter } from '../core/stages.js'
import { encodeColumns, type Spelling } from './column-encoder.js'
import { AWS_COLUMN_FIELDS } from './column-fields.js'
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

  encodeBatch(batch: RecordBatch, selection: Uint32Array | null, context: BatchFormatContext): Uint8Array {
    return encodeColumns(batch, selection, context, AWS_FIELD_VALUES, AWS_COLUMN_FIELDS, AWS_TEXT)
  }
}

/** `encode`'s spelling, for the column encoder. */
const AWS_TEXT: Spelling = {
  formatName: 'text (AWS)',
  header: (names) => names.join(' '),
  before: (_, f) => (f === 0 ? '' : ' '),
  lineEnd: () => '\n',
  missing: '-',
  text: (value) => value,
  addressQuote: '',
}
