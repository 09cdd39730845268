import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_BACKOFF, retryDelay } from './backoff.js'

describe('retryDelay', () => {
  const policy = { baseMs: 1000, maxMs: 30_000 }

  test('doubles from the base up to the cap, with half of each step random', () => {
    const low = (n: number) => retryDelay(n, policy, () => 0)
    const high = (n: number) => retryDelay(n, policy, () => 1)
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(high), [1000, 2000, 4000, 8000, 16000, 30000, 30000])
    assert.deepEqual([1, 2, 3, 6].map(low), [500, 1000, 2000, 15000])
  })

  test('never zero, never past the cap, whatever the attempt', () => {
    for (const attempt of [0, 1, 10, 100, 10_000]) {
      const d = retryDelay(attempt, DEFAULT_BACKOFF)
      assert.ok(d >= DEFAULT_BACKOFF.baseMs / 2 && d <= DEFAULT_BACKOFF.maxMs, `${attempt}: ${d}`)
    }
  })
})
