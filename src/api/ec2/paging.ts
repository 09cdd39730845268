import { ControlError } from '../../control/control-error.js'

/**
 * MaxResults / NextToken over a list sorted by id. The token is the last id of the page
 * (base64url), so a page boundary survives resources being created or deleted in between.
 */
export interface Page<T> {
  items: T[]
  nextToken: string | undefined
}

export function paginate<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  maxResults: number | undefined,
  nextToken: string | undefined,
): Page<T> {
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0))
  let start = 0
  if (nextToken !== undefined) {
    const after = Buffer.from(nextToken, 'base64url').toString('utf8')
    if (nextToken === '' || Buffer.from(after, 'utf8').toString('base64url') !== nextToken)
      throw new ControlError(
        'InvalidPaginationToken',
        `The pagination token ${nextToken.slice(0, 40)} is invalid`,
      )
    start = sorted.findIndex((item) => idOf(item) > after)
    if (start < 0) start = sorted.length
  }
  if (maxResults === undefined) return { items: sorted.slice(start), nextToken: undefined }
  const page = sorted.slice(start, start + maxResults)
  const last = page.at(-1)
  const more = start + maxResults < sorted.length && last !== undefined
  return { items: page, nextToken: more ? Buffer.from(idOf(last), 'utf8').toString('base64url') : undefined }
}
