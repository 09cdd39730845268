import { analysis } from '../api'
import { field, fmt, h, select, showError, status, table } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Group {
  id: string
  vpc: string | null
  description: string | null
  inbound: RuleShape[]
  outbound: RuleShape[]
}
interface RuleShape {
  id: string
  protocol: string | number
  ports: string | null
  icmpType: number
  icmpCode: number
  peer: string
  description: string | null
}
interface WhatIf {
  coverage: Coverage
  records: number
  agreeing: number
  compared: number
  acceptToReject: number
  rejectToAccept: number
  changes: {
    interfaceId: string
    direction: string
    protocol: string
    srcaddr: string
    srcport: number | null
    dstaddr: string
    dstport: number | null
    records: number
    recorded: string | null
    current: { action: string }
    proposed: { action: string }
    responsible: string
  }[]
}

/** A group as the config writes it (source/destination instead of peer), for the editor. */
function configShape(g: Group): unknown {
  const rule = (r: RuleShape, side: 'source' | 'destination') => ({
    id: r.id,
    protocol: r.protocol,
    ...(r.ports === null ? {} : { ports: r.ports }),
    ...(r.icmpType < 0 ? {} : { icmpType: r.icmpType }),
    ...(r.icmpCode < 0 ? {} : { icmpCode: r.icmpCode }),
    [side]: r.peer,
    ...(r.description === null ? {} : { description: r.description }),
  })
  return {
    id: g.id,
    vpc: g.vpc,
    ...(g.description === null ? {} : { description: g.description }),
    inbound: g.inbound.map((r) => rule(r, 'source')),
    outbound: g.outbound.map((r) => rule(r, 'destination')),
  }
}

/** Edit a group and see, before saving it anywhere, which recorded flows it would treat differently. */
export async function whatIfPage(): Promise<HTMLElement> {
  const summary = await analysis<{ securityGroups: Group[] | null }>('summary')
  const groups = summary.securityGroups
  if (groups === null || groups.length === 0) {
    return h(
      'section',
      {},
      h('h1', {}, 'What-if'),
      h(
        'p',
        {},
        'What-if needs the network: start the console with --config, or open the one flowlog run serves.',
      ),
    )
  }
  const pick = select(groups.map((g) => g.id))
  const editor = h('textarea', { rows: 18, cols: 90, spellcheck: 'false' })
  const show = () => {
    const g = groups.find((x) => x.id === pick.value) ?? groups[0]!
    editor.value = JSON.stringify([configShape(g)], null, 2)
  }
  show()
  pick.addEventListener('change', show)
  const message = status()
  const result = h('div', { class: 'what-if-result' })
  const form = h(
    'form',
    { 'aria-label': 'Proposed security group' },
    field('Security group', pick),
    field('Proposed group (JSON or YAML, as in a config file)', editor),
    h('button', { type: 'submit' }, 'Run what-if'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    message.textContent = 'Replaying the recorded flows…'
    analysis<WhatIf>('what-if', scopeParams(), editor.value).then(
      (w) => {
        message.textContent = ''
        result.replaceChildren(
          coverageLine(w.coverage),
          h(
            'p',
            { class: 'verdict' },
            `${fmt(w.acceptToReject)} accepted records would be rejected, ${fmt(w.rejectToAccept)} rejected records would be accepted (replay agrees with ${fmt(w.agreeing)} of ${fmt(w.compared)} recorded actions).`,
          ),
          table(
            'Flows whose verdict changes',
            [
              'Interface',
              'Direction',
              'Protocol',
              'Source',
              'Destination',
              'Records',
              'Now',
              'Proposed',
              'Why',
            ],
            w.changes.map((c) => [
              c.interfaceId,
              c.direction,
              c.protocol,
              `${c.srcaddr}:${c.srcport ?? '-'}`,
              `${c.dstaddr}:${c.dstport ?? '-'}`,
              c.records,
              c.current.action,
              c.proposed.action,
              c.responsible,
            ]),
          ),
        )
      },
      (error: unknown) => showError(message, error),
    )
  })
  return h(
    'section',
    {},
    h('h1', {}, 'What-if'),
    h('p', {}, 'Nothing is saved: the proposed group only replays the recorded flows.'),
    form,
    message,
    result,
  )
}
