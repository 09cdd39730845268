import { Option } from 'commander'

/**
 * An option that may be given more than once; its values are collected in order (each split by
 * `split`, when given). `none` says in --help what giving it no value means, where Commander
 * would print an empty list.
 */
export function repeatableOption(
  flags: string,
  description: string,
  none: string,
  split: (value: string) => string[] = (value) => [value],
): Option {
  return new Option(flags, description)
    .argParser((value: string, previous: string[]) => [...previous, ...split(value)])
    .default([], none)
}
