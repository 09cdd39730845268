import { Document, isMap, isSeq, stringify } from 'yaml'
import type { Topology } from './control-plane.js'
import { checkDocument, configDocument, type DaemonSettings, flowLogDocument } from './effective-network.js'
import type { ControlState, Tags } from './resources.js'

/**
 * The whole state, joined with a topology, as a config file (`flowlog export-config`): what
 * `validate` accepts and `replay` runs. What a config cannot say is kept as comments beside the
 * resource: group names, tags, NHN logger names and descriptions, and paused flow logs (a config
 * has no pause switch: they are written commented out, to uncomment to run them).
 */
export interface ExportResult {
  yaml: string
  /** What the config loader would say about it (empty when valid). */
  problems: string[]
}

const tagText = (tags: Tags) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')

export function exportConfigYaml(
  topology: Topology,
  state: ControlState,
  settings: DaemonSettings,
  header: string,
): ExportResult {
  const raw = configDocument(topology, state, settings, 'enabled')
  const { problems } = checkDocument(raw)
  const document = new Document(raw)
  document.commentBefore = ` ${header.split('\n').join('\n ')}`

  const groups = document.get('securityGroups', true)
  if (isSeq(groups)) {
    state.securityGroups.forEach((resource, i) => {
      const notes: string[] = []
      if (resource.name !== resource.group.id) notes.push(`name: ${resource.name}`)
      if (Object.keys(resource.tags).length > 0) notes.push(`tags: ${tagText(resource.tags)}`)
      const node = groups.items[i]
      if (notes.length > 0 && isMap(node)) node.commentBefore = ` ${notes.join('; ')}`
    })
  }

  const flowLogs = document.get('flowLogs', true)
  const enabled = state.flowLogs.filter((f) => f.enabled)
  if (isSeq(flowLogs)) {
    enabled.forEach((resource, i) => {
      const notes: string[] = []
      if (resource.name !== null) notes.push(`name: ${resource.name}`)
      if (resource.description !== null) notes.push(`description: ${resource.description}`)
      if (Object.keys(resource.tags).length > 0) notes.push(`tags: ${tagText(resource.tags)}`)
      const node = flowLogs.items[i]
      if (notes.length > 0 && isMap(node)) node.commentBefore = ` ${notes.join('; ')}`
    })
  }
  const paused = state.flowLogs.filter((f) => !f.enabled)
  if (paused.length > 0) {
    const text = stringify(
      paused.map((f) => flowLogDocument(f.spec, f.logFormat)),
      { lineWidth: 0 },
    ).trimEnd()
    document.comment = [
      ` Paused flow logs (NHN admin_state_up false): a config cannot pause one, so they are left out.`,
      ' Move them under flowLogs to run them.',
      ...text.split('\n').map((line) => ` ${line}`),
    ].join('\n')
  }
  return { yaml: document.toString({ lineWidth: 0 }), problems }
}
