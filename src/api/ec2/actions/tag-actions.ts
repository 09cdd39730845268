import type { Action } from '../action.js'
import { dryRunSucceeded } from '../dry-run.js'
import { missingParameter } from '../query-params.js'
import { tagKeysOf, tagsOf } from '../tag-params.js'

/** CreateTags and DeleteTags on flow logs and security groups. */
export const createTags: Action = async ({ control }, params) => {
  const ids = params.strings('Resources')
  const tags = tagsOf(params.structs('Tags'))
  if (Object.keys(tags).length === 0) throw missingParameter('Tag.1.Key')
  if (params.boolean('DryRun') === true) throw dryRunSucceeded()
  await control.createTags(ids, tags)
  return {}
}

export const deleteTags: Action = async ({ control }, params) => {
  const ids = params.strings('Resources')
  let tags = tagKeysOf(params.structs('Tags'))
  if (tags.length === 0) {
    // EC2: without Tag.N, every tag of the resources goes.
    const keys = new Set<string>()
    for (const id of ids) {
      const current = id.startsWith('sg-')
        ? (await control.getSecurityGroup(id)).tags
        : (await control.getFlowLog(id)).tags
      for (const key of Object.keys(current)) keys.add(key)
    }
    tags = [...keys].map((key) => ({ key }))
  }
  if (params.boolean('DryRun') === true) throw dryRunSucceeded()
  if (tags.length > 0) await control.deleteTags(ids, tags)
  return {}
}
