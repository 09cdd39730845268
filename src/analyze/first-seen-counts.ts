import { replayOrderOf } from './rejudge.js'

/** A record's place in replay order (rejudge.ts): by time, rank, then read order. */
interface OrderKey {
  time: number
  rank: number
  seq: number
}

/**
 * Counts by key, listed in the replay order of each key's first record, whatever order the records
 * come in: a replay that goes a conversation group at a time (replay-order.ts) meets records out
 * of time order, and an output that lists keys "in order first seen" must not depend on that.
 *
 *   const counts = new FirstSeenCounts()
 *   counts.add('rule-a', placed)
 *   counts.entries()   // [['rule-a', 1]]
 */
export class FirstSeenCounts {
  readonly #counts = new Map<string, { count: number; first: OrderKey }>()

  get size(): number {
    return this.#counts.size
  }

  add(key: string, at: OrderKey): void {
    this.addCount(key, 1, at)
  }

  /** Adds `count` records of `key`, the first of them at `at`. */
  addCount(key: string, count: number, at: OrderKey): void {
    const entry = this.#counts.get(key)
    if (entry === undefined) {
      this.#counts.set(key, { count, first: { time: at.time, rank: at.rank, seq: at.seq } })
      return
    }
    entry.count += count
    if (replayOrderOf(at, entry.first) < 0) {
      entry.first.time = at.time
      entry.first.rank = at.rank
      entry.first.seq = at.seq
    }
  }

  /** [key, count] in the order of each key's first record. */
  entries(): [string, number][] {
    return [...this.#counts]
      .sort((a, b) => replayOrderOf(a[1].first, b[1].first))
      .map(([key, { count }]) => [key, count])
  }
}
