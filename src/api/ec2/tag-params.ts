import type { Tags } from '../../control/resources.js'
import { invalidValue, missingParameter, type Params } from './query-params.js'
import type { OutputStruct } from './xml-response.js'

/** EC2's tag rules: keys 1-127 characters, not `aws:`; values at most 255. */
function checkTag(keyName: string, key: string, valueName: string, value: string): void {
  if (key.length === 0 || key.length > 127) throw invalidValue(keyName, key, 'Tag keys are 1-127 characters.')
  if (key.toLowerCase().startsWith('aws:'))
    throw invalidValue(keyName, key, 'Tag keys may not start with aws:.')
  if (value.length > 255)
    throw invalidValue(valueName, `${value.slice(0, 20)}...`, 'Tag values are at most 255 characters.')
}

/** `Tag.N.Key` / `Tag.N.Value` (CreateTags, and each TagSpecification's tags). */
export function tagsOf(list: readonly Params[]): Tags {
  const tags: Tags = {}
  for (const tag of list) {
    const key = tag.requiredString('Key')
    const value = tag.string('Value') ?? ''
    checkTag(tag.nameOf('Key'), key, tag.nameOf('Value'), value)
    tags[key] = value
  }
  return tags
}

/** DeleteTags: a tag without a value is deleted whatever its value. */
export function tagKeysOf(list: readonly Params[]): Array<{ key: string; value?: string }> {
  return list.map((tag) => {
    const key = tag.requiredString('Key')
    const value = tag.string('Value')
    return value === undefined ? { key } : { key, value }
  })
}

/**
 * The tags of `TagSpecification.N` for the one resource type the action creates; a specification
 * for another type is InvalidParameterValue (EC2 says the same).
 */
export function tagSpecificationTags(params: Params, resourceType: string): Tags {
  const tags: Tags = {}
  for (const spec of params.structs('TagSpecifications')) {
    const type = spec.string('ResourceType')
    if (type === undefined) throw missingParameter(spec.nameOf('ResourceType'))
    if (type !== resourceType)
      throw invalidValue(
        spec.nameOf('ResourceType'),
        type,
        `This action tags resources of type ${resourceType}.`,
      )
    Object.assign(tags, tagsOf(spec.structs('Tags')))
  }
  return tags
}

/** Tags as EC2 lists them (`tagSet` of `item`s with `key` and `value`). */
export function tagList(tags: Tags): OutputStruct[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
}
