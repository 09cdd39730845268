import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KernelDropEstimate } from './kernel-drops.js'

test('a shortfall counts as dropped only once two samples show it, and the total only grows', () => {
  let counters = { packets: 1000, bytes: 100_000 }
  const est = new KernelDropEstimate('dev', () => counters)
  counters = { packets: 1100, bytes: 110_000 }
  assert.deepEqual(est.sample(100, 10_000), { packets: 0, bytes: 0 }, 'all captured')
  counters = { packets: 1300, bytes: 130_000 }
  assert.deepEqual(est.sample(250, 25_000), { packets: 0, bytes: 0 }, '50 missing once: maybe still queued')
  assert.deepEqual(est.sample(250, 25_000), { packets: 50, bytes: 5000 }, 'still missing: lost')
  assert.deepEqual(est.sample(250, 25_000), { packets: 0, bytes: 0 }, 'counted once')
  assert.equal(est.dropped, 50)
})

test('a recreated device (counters back near zero) starts a new baseline; an unreadable one counts nothing', () => {
  let counters: { packets: number; bytes: number } | null = { packets: 5000, bytes: 1 }
  const est = new KernelDropEstimate('dev', () => counters)
  counters = { packets: 10, bytes: 1000 }
  assert.deepEqual(est.sample(0, 0), { packets: 0, bytes: 0 })
  counters = null
  assert.deepEqual(est.sample(10, 1000), { packets: 0, bytes: 0 })
})
