import { analysis } from '../api'
import { fmt, h, table } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Audit {
  coverage: Coverage
  method: string
  rules: {
    id: string
    group: string
    text: string
    status: string
    usage: { records: number; packets: number; bytes: number } | null
    exposure: string[]
    narrower: string[]
    leastPrivilege: { peer: string; ports: string | null; protocol: string | number }[]
  }[]
}

/** audit's verdict on every rule: used or not (with hit counts), too wide, and what it could be. */
export async function auditPage(): Promise<HTMLElement> {
  const data = await analysis<Audit>('audit', scopeParams())
  return h(
    'section',
    {},
    h('h1', {}, 'Security-group audit'),
    coverageLine(data.coverage),
    h(
      'p',
      {},
      `Rules are matched to records by ${data.method === 'rule-id' ? "the records' rule-id" : 're-judging the records against the groups'}.`,
    ),
    table(
      'Rules with their hits',
      ['Group', 'Rule', 'Rule text', 'Status', 'Records', 'Packets', 'Exposure', 'Narrower'],
      data.rules.map((r) => [
        r.group,
        r.id,
        r.text,
        r.status,
        fmt(r.usage?.records ?? 0),
        fmt(r.usage?.packets ?? 0),
        r.exposure.join('; ') || '-',
        r.narrower.join('; ') || '-',
      ]),
    ),
  )
}
