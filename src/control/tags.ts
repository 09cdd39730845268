import { problem } from '../config/problems.js'
import type { Tags } from './resources.js'

/** AWS's tag rules: keys 1-127 characters not starting with `aws:`, values up to 255, 50 per resource. */
export const MAX_TAGS = 50

export function tagProblems(tags: Tags): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > 127)
      problems.push(problem(['tags'], key, 'is not a tag key of 1-127 characters'))
    else if (key.toLowerCase().startsWith('aws:'))
      problems.push(problem(['tags'], key, 'starts with "aws:", which AWS reserves'))
    if (typeof value !== 'string' || value.length > 255)
      problems.push(problem(['tags', key], value, 'is not a tag value of at most 255 characters'))
  }
  return problems
}
