import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { BatchFormatContext, FormatContext, Formatter } from '../core/stages.js'
import { encodeColumns, type Spelling } from './column-encoder.js'
import { NHN_COLUMN_FIELDS } from './column-fields.js'
import { csvCell } from './csv-cell.js'
import { planFields } from './field-plan.js'
import { NHN_FIELD_VALUES } from './field-values.js'
import { TextBody } from './text-body.js'

/**
 * NHN Cloud flow-log CSV (reference §5.2): a header row of the configured NHN field names, then
 * one RFC 4180 row per record, quoted only where needed. A value that does not apply is an empty
 * cell, which CSV readers (DuckDB, pandas, Spark) take as NULL and which keeps numeric columns
 * numeric; NHN documents no marker of its own.
 */
export class NhnCsvFormatter implements Formatter {
  readonly extension = 'csv'

  encode(records: readonly FlowRecord[], context: FormatContext): Uint8Array {
    const { names, values, scope } = planFields(context, NHN_FIELD_VALUES, 'nhn-csv')
    const body = new TextBody()
    body.line(names.map(csvCell).join(','))
    const n = values.length
    for (const record of records) {
      let line = ''
      for (let f = 0; f < n; f++) {
        const value = values[f]!(record, scope)
        const cell = value === null ? '' : typeof value === 'number' ? value : csvCell(value)
        line += f === 0 ? cell : `,${cell}`
      }
      body.line(line)
    }
    return body.finish()
  }

  encodeBatch(batch: RecordBatch, selection: Uint32Array | null, context: BatchFormatContext): Uint8Array {
    return encodeColumns(batch, selection, context, NHN_FIELD_VALUES, NHN_COLUMN_FIELDS, NHN_CSV)
  }
}

/** `encode`'s spelling, for the column encoder. */
const NHN_CSV: Spelling = {
  formatName: 'nhn-csv',
  header: (names) => names.map(csvCell).join(','),
  before: (_, f) => (f === 0 ? '' : ','),
  lineEnd: () => '\n',
  missing: '',
  text: csvCell,
  addressQuote: '',
}
