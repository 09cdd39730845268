import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeliveryStats } from './delivery-stats.js'

describe('DeliveryStats', () => {
  test('counts spooled, retried, refused and delivered files, and latency as a histogram', () => {
    const stats = new DeliveryStats()
    stats.fileSpooled(100)
    stats.attemptStarted(false)
    stats.attemptFailed(false)
    stats.attemptStarted(true)
    stats.attemptFailed(true)
    stats.attemptStarted(true)
    stats.fileDelivered(100, 7, true)
    stats.fileDelivered(50, 0.05, false)
    const s = stats.snapshot()
    assert.deepEqual(
      [
        s.spooled,
        s.delivered,
        s.deliveredBytes,
        s.failedAttempts,
        s.retries,
        s.refusals,
        s.waiting,
        s.waitingBytes,
      ],
      [1, 2, 150, 2, 2, 1, 0, 0],
    )
    assert.equal(s.latencySeconds.count, 2)
    assert.equal(s.latencySeconds.max, 7)
    assert.ok(Math.abs(s.latencySeconds.sum - 7.05) < 1e-9)
    const at = (le: number) => s.latencySeconds.buckets.find((b) => b.le === le)?.count
    assert.deepEqual([at(0.1), at(5), at(10), at(3600)], [1, 1, 2, 2])
  })

  test('another thread sees the same numbers through the shared buffer', () => {
    const writer = new DeliveryStats()
    const reader = new DeliveryStats(writer.buffer)
    writer.fileSpooled(10)
    writer.fileAdopted(5)
    assert.equal(reader.waiting, 2)
    assert.equal(reader.snapshot().waitingBytes, 15)
  })
})
