import { analysis, ec2 } from '../api'
import { fmt, h, showError, showOk, status, table, utc } from '../dom'
import { ipPermissions, type Rule, ruleLine } from '../ec2-rules'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface BlockChange {
  groupId: string
  direction: 'inbound' | 'outbound'
  revoke: Rule & { id: string }
  authorize: Rule[]
  text: string
}

interface Finding {
  id: string
  detection: string
  severity: string
  source: string
  summary: string
  evidence: {
    first: number
    last: number
    records: number
    packets: number
    bytes: number
    counts: Record<string, number>
    ports?: string[]
    hosts?: string[]
    samples: Record<string, string | number | null>[]
  }
  suggestions: { kind: string; text: string }[]
  block: BlockChange[]
}

/** detect's findings with their evidence; a block is applied through the EC2 API after the user confirms. */
export async function findingsPage(): Promise<HTMLElement> {
  const data = await analysis<{ coverage: Coverage; records: number; findings: Finding[] }>(
    'findings',
    scopeParams(),
  )
  return h(
    'section',
    {},
    h('h1', {}, 'Findings'),
    coverageLine(data.coverage),
    data.findings.length === 0 ? h('p', {}, 'No findings in this range.') : null,
    data.findings.map(findingCard),
  )
}

function findingCard(f: Finding): HTMLElement {
  const e = f.evidence
  const headingId = `finding-${f.id.replace(/[^a-zA-Z0-9]/g, '-')}`
  return h(
    'article',
    { class: `finding ${f.severity}`, 'aria-labelledby': headingId },
    h('h2', { id: headingId }, `[${f.severity}] ${f.detection}: ${f.summary}`),
    h(
      'details',
      {},
      h(
        'summary',
        {},
        `Evidence: ${fmt(e.records)} records, ${fmt(e.packets)} packets, ${fmt(e.bytes)} bytes, ${utc(e.first)} to ${utc(e.last)}`,
      ),
      h(
        'p',
        {},
        Object.entries(e.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ),
      e.ports ? h('p', {}, `Ports: ${e.ports.join(', ')}`) : null,
      e.hosts ? h('p', {}, `Hosts: ${e.hosts.join(', ')}`) : null,
      table(
        'Sample records',
        ['start', 'interface', 'source', 'destination', 'protocol', 'packets', 'bytes', 'action'],
        e.samples.map((s) => [
          utc(s.start as number | null),
          s.interfaceId,
          `${s.srcaddr}:${s.srcport}`,
          `${s.dstaddr}:${s.dstport}`,
          s.protocol,
          s.packets,
          s.bytes,
          s.action,
        ]),
      ),
    ),
    h('h3', {}, 'Suggested blocks'),
    h(
      'ul',
      {},
      f.suggestions.map((s) => h('li', {}, h('code', {}, `[${s.kind}] ${s.text}`))),
    ),
    f.block.length === 0
      ? h('p', {}, 'No security-group change applies: no rule let this source in.')
      : f.block.map((b) => blockBox(b)),
  )
}

function blockBox(change: BlockChange): HTMLElement {
  const message = status()
  const button = h(
    'button',
    { type: 'button', class: 'danger' },
    `Apply block: ${change.groupId} ${change.revoke.id}`,
  )
  button.addEventListener('click', () => confirmBlock(change, message, button))
  return h(
    'div',
    { class: 'block' },
    h('p', {}, change.text),
    h(
      'details',
      {},
      h('summary', {}, 'The exact rule change'),
      h('p', {}, `Revoke ${change.revoke.id}: ${ruleLine(change.revoke, change.direction)}`),
      h('p', {}, `Authorize ${change.authorize.length} rules:`),
      h(
        'ul',
        { class: 'compact' },
        change.authorize.map((r) => h('li', {}, ruleLine(r, change.direction))),
      ),
    ),
    button,
    message,
  )
}

/** A modal dialog says exactly what will change; nothing is sent before "Apply". */
function confirmBlock(change: BlockChange, message: HTMLElement, button: HTMLButtonElement): void {
  const titleId = 'confirm-title'
  const apply = h('button', { type: 'button', class: 'danger' }, 'Apply')
  const cancel = h('button', { type: 'button' }, 'Cancel')
  const dialog = h(
    'dialog',
    { 'aria-labelledby': titleId },
    h('h2', { id: titleId }, 'Change the security group?'),
    h(
      'p',
      {},
      `In ${change.groupId}, authorize ${change.authorize.length} ${change.direction} rules for ${change.revoke.peer} but the blocked address, then revoke ${change.revoke.id} (${ruleLine(change.revoke, change.direction)}).`,
    ),
    h('p', {}, 'New connections are judged by the new rules at once; tracked connections keep their state.'),
    h('div', { class: 'row' }, cancel, apply),
  )
  document.body.append(dialog)
  const close = () => {
    dialog.close()
    dialog.remove()
    button.focus()
  }
  cancel.addEventListener('click', close)
  dialog.addEventListener('cancel', close)
  apply.addEventListener('click', () => {
    apply.disabled = true
    applyBlock(change).then(
      () => {
        close()
        button.disabled = true
        showOk(message, `Applied: ${change.revoke.id} replaced in ${change.groupId}.`)
      },
      (error: unknown) => {
        close()
        showError(message, error)
      },
    )
  })
  dialog.showModal()
  cancel.focus()
}

/** Authorize first, then revoke: the traffic the old rule should keep allowing is never cut. */
async function applyBlock(change: BlockChange): Promise<void> {
  const side = change.direction === 'inbound' ? 'Ingress' : 'Egress'
  // One IpPermissions entry per rule keeps each rule's own description.
  await ec2(`AuthorizeSecurityGroup${side}`, { GroupId: change.groupId, ...ipPermissions(change.authorize) })
  await ec2(`RevokeSecurityGroup${side}`, {
    GroupId: change.groupId,
    'SecurityGroupRuleId.1': change.revoke.id,
  })
}
