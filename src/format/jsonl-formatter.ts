import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { BatchFormatContext, FormatContext, Formatter } from '../core/stages.js'
import { encodeColumns, type Spelling } from './column-encoder.js'
import { AWS_COLUMN_FIELDS } from './column-fields.js'
import { planFields } from './field-plan.js'
import { AWS_FIELD_VALUES } from './field-values.js'
import { TextBody } from './text-body.js'

/**
 * JSON Lines: one object per record keyed by the configured field names, numbers as numbers and
 * null where a value does not apply (AWS's `-`). No header: each object names its fields.
 * The fields are AWS's and flowlog's extras, as in text: a JSONL file is a text file's records
 * with their types kept.
 */
export class JsonlFormatter implements Formatter {
  readonly extension = 'jsonl'

  encode(records: readonly FlowRecord[], context: FormatContext): Uint8Array {
    const { names, values, scope } = planFields(context, AWS_FIELD_VALUES, 'jsonl')
    // Keys are escaped once per file, not once per record.
    const keys = names.map((name, f) => `${f === 0 ? '{' : ','}${JSON.stringify(name)}:`)
    const body = new TextBody()
    const n = values.length
    for (const record of records) {
      let line = ''
      for (let f = 0; f < n; f++) {
        const value = values[f]!(record, scope)
        line +=
          keys[f]! + (typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : value)
      }
      body.line(n === 0 ? '{}' : `${line}}`)
    }
    return body.finish()
  }

  encodeBatch(batch: RecordBatch, selection: Uint32Array | null, context: BatchFormatContext): Uint8Array {
    return encodeColumns(batch, selection, context, AWS_FIELD_VALUES, AWS_COLUMN_FIELDS, JSONL)
  }
}

/** `encode`'s spelling, for the column encoder. */
const JSONL: Spelling = {
  formatName: 'jsonl',
  header: () => null,
  before: (name, f) => `${f === 0 ? '{' : ','}${JSON.stringify(name)}:`,
  lineEnd: (n) => (n === 0 ? '{}\n' : '}\n'),
  missing: 'null',
  text: (value) => JSON.stringify(value),
  addressQuote: '"',
}
