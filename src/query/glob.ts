/** `*` matches any run of characters; everything else is literal; the whole value must match. */
export function globRegex(glob: string, caseless = false): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, caseless ? 'i' : '')
}
