import { InputError } from '../core/errors.js'
import type { FileFormat } from '../core/network.js'
import type { Formatter } from '../core/stages.js'
import { AwsTextFormatter } from './aws-text-formatter.js'
import { JsonlFormatter } from './jsonl-formatter.js'
import { NhnCsvFormatter } from './nhn-csv-formatter.js'
import { ParquetFormatter } from './parquet-formatter.js'

/** The formatter of a flow log's `fileFormat`. Formatters are stateless: one instance serves every file. */
export function formatterFor(fileFormat: FileFormat): Formatter {
  switch (fileFormat) {
    case 'text':
      return new AwsTextFormatter()
    case 'nhn-csv':
      return new NhnCsvFormatter()
    case 'jsonl':
      return new JsonlFormatter()
    case 'parquet':
      return new ParquetFormatter()
    default:
      throw new InputError(`fileFormat "${String(fileFormat)}" is not one of text, nhn-csv, jsonl, parquet`)
  }
}
