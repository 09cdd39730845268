import {
  DEFAULT_LOG_FORMAT,
  DEFAULT_NHN_FIELDS,
  FIELD_CATALOGUE,
  type FieldFamily,
} from '../../../src/config/fields'
import { analysis, ec2, nhn, settings } from '../api'
import { field, h, select, showError, showOk, status, uid } from '../dom'

/**
 * Flow logs through the public APIs: NHN Cloud's flow-log API (list, create, describe,
 * pause/resume, delete; the token) and the EC2 API (AWS-style create with a ${field} format; the
 * key pair). Both see the same flow logs. Validation messages are the APIs' own.
 */
type Logger = Record<string, unknown> & {
  id: string
  name?: string | null
  admin_state_up?: boolean
  status?: string
}

export async function flowLogsPage(rerender: () => void): Promise<HTMLElement> {
  const s = await settings()
  if (!s.management) {
    return h(
      'section',
      {},
      h('h1', {}, 'Flow logs'),
      h(
        'p',
        {},
        'This console only reads files. To create and manage flow logs, open the console that flowlog run serves on its API address (flowlog run --state DIR --api 127.0.0.1:9474).',
      ),
    )
  }
  const message = status()
  let loggers: Logger[] = []
  const deliveries = new Map<string, Delivery>()
  try {
    const [list, delivered] = await Promise.all([
      nhn<{ flowlog_loggers: Logger[] }>('GET', 'flowlog-loggers'),
      analysis<{ deliveries: Delivery[] }>('delivery'),
    ])
    loggers = list.flowlog_loggers
    for (const d of delivered.deliveries) deliveries.set(d.id, d)
  } catch (error) {
    showError(message, error)
  }
  const details = h('div', { class: 'details', 'aria-live': 'polite' })
  const rows = loggers.map((l) => {
    const describe = h('button', { type: 'button' }, 'Describe')
    describe.addEventListener('click', () => {
      nhn<{ flowlog_logger: Logger }>('GET', `flowlog-loggers/${encodeURIComponent(l.id)}`).then(
        (r) => details.replaceChildren(describeList(r.flowlog_logger)),
        (error: unknown) => showError(message, error),
      )
    })
    const paused = l.admin_state_up === false
    const toggle = h('button', { type: 'button' }, paused ? 'Resume' : 'Pause')
    toggle.addEventListener('click', () => {
      nhn('PUT', `flowlog-loggers/${encodeURIComponent(l.id)}`, {
        flowlog_logger: { admin_state_up: paused },
      }).then(rerender, (error: unknown) => showError(message, error))
    })
    const remove = h('button', { type: 'button', class: 'danger' }, 'Delete')
    remove.addEventListener('click', () => {
      if (
        !confirm(`Delete flow log ${l.id}? Its open window is written, then it stops. Delivered files stay.`)
      )
        return
      nhn('DELETE', `flowlog-loggers/${encodeURIComponent(l.id)}`).then(rerender, (error: unknown) =>
        showError(message, error),
      )
    })
    return h(
      'tr',
      { dataset: { id: l.id } },
      h('td', {}, l.id),
      h('td', {}, l.name ?? '-'),
      h('td', {}, String(l.resource_type ?? '-'), ' ', String(l.resource_id ?? '')),
      h('td', {}, String(l.filter ?? '-')),
      h('td', {}, String(l.status ?? '-'), l.admin_state_up === false ? ' (paused)' : ''),
      h('td', {}, delivery(deliveries.get(l.id))),
      h('td', {}, h('div', { class: 'row tight' }, describe, toggle, remove)),
    )
  })
  return h(
    'section',
    {},
    h('h1', {}, 'Flow logs'),
    message,
    h(
      'table',
      {},
      h('caption', {}, `${loggers.length} flow log(s)`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Id', 'Name', 'Resource', 'Traffic', 'Status', 'Delivery', 'Actions'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
    details,
    createForm(rerender),
  )
}

interface Delivery {
  id: string
  status: string
  error: string | null
  lastFile: string | null
  lastFileAt: string | null
  spooled: number
}

/** Delivery as the daemon sees it: the last file and when, files waiting in the spool, the last error. */
function delivery(d: Delivery | undefined): HTMLElement | string {
  if (d === undefined) return '-'
  return h(
    'span',
    { class: d.status === 'FAILED' ? 'failed' : '' },
    `${d.status}; `,
    d.lastFile === null ? 'no file yet' : `last file ${d.lastFile.split('/').pop()} at ${d.lastFileAt}`,
    `; ${d.spooled} spooled`,
    d.error === null ? '' : `; error: ${d.error}`,
  )
}

function describeList(l: Logger): HTMLElement {
  return h(
    'dl',
    { 'aria-label': `Flow log ${l.id}` },
    Object.entries(l).flatMap(([k, v]) => [
      h('dt', {}, k),
      h('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)),
    ]),
  )
}

/** The fields of a family as checkboxes; the format is the checked fields in the order they were checked. */
function fieldPicker(
  families: readonly FieldFamily[],
  initial: readonly string[],
  render: (names: string[]) => string,
) {
  const chosen = [...initial]
  const preview = h('output', { class: 'format-preview', 'aria-live': 'polite' })
  const update = () => {
    preview.textContent = render(chosen)
  }
  const seen = new Set<string>()
  const boxes = FIELD_CATALOGUE.filter(
    (f) => families.includes(f.family) && !seen.has(f.name) && seen.add(f.name),
  ).map((f) => {
    const id = uid('fld')
    const box = h('input', { type: 'checkbox', id, value: f.name, checked: chosen.includes(f.name) })
    box.addEventListener('change', () => {
      const i = chosen.indexOf(f.name)
      if (box.checked && i < 0) chosen.push(f.name)
      if (!box.checked && i >= 0) chosen.splice(i, 1)
      update()
    })
    return h('li', {}, box, h('label', { for: id, title: f.description }, f.name))
  })
  update()
  const fieldset = h(
    'fieldset',
    { class: 'picker' },
    h('legend', {}, 'Fields (in the order you check them)'),
    h('ul', { class: 'fields' }, boxes),
    h('p', {}, 'Format: ', preview),
  )
  return { fieldset, chosen }
}

function createForm(rerender: () => void): HTMLElement {
  const message = status()
  const style = select([
    ['nhn', 'NHN Cloud style (flowlog-loggers API, token)'],
    ['aws', 'AWS style (EC2 CreateFlowLogs, key pair)'],
  ])
  const body = h('div')
  const render = () =>
    body.replaceChildren(style.value === 'aws' ? awsFields(message, rerender) : nhnFields(message, rerender))
  style.addEventListener('change', render)
  render()
  return h(
    'section',
    { 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a flow log'),
    field('API', style),
    body,
    message,
  )
}

function nhnFields(message: HTMLElement, rerender: () => void): HTMLElement {
  const name = h('input', { type: 'text', required: true })
  const resourceType = select(['VPC', 'SUBNET', 'PORT'])
  const resourceId = h('input', { type: 'text', required: true })
  const filter = select(['ALL', 'ACCEPT', 'DROP'])
  const interval = select(['1', '5', '10', '15'], '10')
  const storage = h('input', {
    type: 'text',
    required: true,
    placeholder: 's3://bucket/prefix or file:///var/lib/flowlog/logs',
  })
  const format = select(['CSV', 'PARQUET'])
  const compression = select(['RAW', 'GZIP'])
  const partition = select(['DAY', 'HOUR'])
  const picker = fieldPicker(['nhn', 'flowlog'], DEFAULT_NHN_FIELDS, (names) => names.join(','))
  const form = h(
    'form',
    { 'aria-label': 'NHN-style flow log' },
    h(
      'div',
      { class: 'row' },
      field('Name', name),
      field('Resource type', resourceType),
      field('Resource id', resourceId, 'a VPC, subnet or interface (port) id'),
    ),
    h(
      'div',
      { class: 'row' },
      field('Traffic (filter)', filter),
      field('Aggregation interval (minutes)', interval),
      field('Storage URL', storage),
    ),
    h(
      'div',
      { class: 'row' },
      field('Log format', format),
      field('Compression', compression),
      field('Partition period', partition),
    ),
    picker.fieldset,
    h('button', { type: 'submit' }, 'Create flow log'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const logger = {
      name: name.value,
      resource_type: resourceType.value,
      resource_id: resourceId.value,
      filter: filter.value,
      aggregation_interval: Number(interval.value),
      storage_type: 'OBS',
      storage_url: storage.value,
      log_format: format.value,
      compression_type: compression.value,
      partition_period: partition.value,
      customized_field: picker.chosen.join(','),
    }
    nhn<{ flowlog_logger: Logger }>('POST', 'flowlog-loggers', { flowlog_logger: logger }).then(
      (r) => {
        showOk(message, `Created ${r.flowlog_logger.id}.`)
        rerender()
      },
      (error: unknown) => showError(message, error),
    )
  })
  return form
}

function awsFields(message: HTMLElement, rerender: () => void): HTMLElement {
  const resourceType = select(['VPC', 'Subnet', 'NetworkInterface'])
  const resourceId = h('input', { type: 'text', required: true })
  const traffic = select(['ALL', 'ACCEPT', 'REJECT'])
  const interval = select(['60', '600'], '600')
  const destination = h('input', {
    type: 'text',
    required: true,
    placeholder: 'arn:aws:s3:::bucket/prefix/ or file:///var/lib/flowlog/logs',
  })
  const fileFormat = select(['plain-text', 'parquet'])
  const hive = h('input', { type: 'checkbox' })
  const perHour = h('input', { type: 'checkbox' })
  const defaults = [...DEFAULT_LOG_FORMAT.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] ?? '')
  const picker = fieldPicker(['aws', 'flowlog'], defaults, (names) => names.map((n) => `\${${n}}`).join(' '))
  const form = h(
    'form',
    { 'aria-label': 'AWS-style flow log' },
    h('div', { class: 'row' }, field('Resource type', resourceType), field('Resource id', resourceId)),
    h(
      'div',
      { class: 'row' },
      field('Traffic type', traffic),
      field('Maximum aggregation interval (s)', interval),
      field('Log destination (S3 ARN or file:///dir)', destination),
    ),
    h(
      'div',
      { class: 'row' },
      field('File format', fileFormat),
      field('Hive-compatible partitions', hive),
      field('Per-hour partition', perHour),
    ),
    picker.fieldset,
    h('button', { type: 'submit' }, 'Create flow log'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    ec2('CreateFlowLogs', {
      ResourceType: resourceType.value,
      'ResourceId.1': resourceId.value,
      TrafficType: traffic.value,
      LogDestinationType: 's3',
      LogDestination: destination.value,
      MaxAggregationInterval: interval.value,
      LogFormat: picker.chosen.map((n) => `\${${n}}`).join(' '),
      'DestinationOptions.FileFormat': fileFormat.value,
      'DestinationOptions.HiveCompatiblePartitions': String(hive.checked),
      'DestinationOptions.PerHourPartition': String(perHour.checked),
    })
      .then((xml) => {
        const failed = xml.querySelector('unsuccessful item error message')?.textContent
        if (failed) throw new Error(failed)
        const ids = [...xml.querySelectorAll('flowLogIdSet item')].map((i) => i.textContent).join(', ')
        showOk(message, `Created ${ids}.`)
        rerender()
      })
      .catch((error: unknown) => showError(message, error))
  })
  return form
}
