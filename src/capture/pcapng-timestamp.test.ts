import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { timestampToSeconds } from './pcapng-timestamp.js'

/** The exact answer, through BigInt, rounded once at the end as the reader promises. */
function reference(ts: bigint, units: bigint): number {
  return Number(ts / units) + Number(ts % units) / Number(units)
}

const split = (ts: bigint): [number, number] => [Number(ts >> 32n), Number(ts & 0xffffffffn)]

describe('timestampToSeconds', () => {
  const cases: { name: string; ts: bigint; units: bigint }[] = [
    { name: 'zero', ts: 0n, units: 1_000_000n },
    { name: 'microseconds now', ts: 1_700_000_000_123_456n, units: 1_000_000n },
    { name: 'nanoseconds now', ts: 1_700_000_000_999_999_999n, units: 1_000_000_000n },
    { name: 'largest 64-bit nanoseconds', ts: 0xffff_ffff_ffff_ffffn, units: 1_000_000_000n },
    { name: '2^-30 units', ts: (1_700_000_000n << 30n) + 12345n, units: 1n << 30n },
    { name: 'whole seconds', ts: 1_700_000_000n, units: 1n },
  ]
  for (const c of cases) {
    test(`is exact before the final rounding for ${c.name}`, () => {
      const [high, low] = split(c.ts)
      assert.equal(timestampToSeconds(high, low, Number(c.units)), reference(c.ts, c.units))
    })
  }

  test('agrees with BigInt division for any 64-bit timestamp and resolution up to 10^10', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          // Nanoseconds from 2001 to 2033, where real captures live; then any 64-bit value.
          fc.bigInt({ min: 10n ** 18n, max: 2n * 10n ** 18n }),
          fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
        ),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (ts, exponent, binary) => {
          const units = binary ? 1n << BigInt(exponent * 3) : 10n ** BigInt(exponent)
          const [high, low] = split(ts)
          const actual = timestampToSeconds(high, low, Number(units))
          const expected = reference(ts, units)
          // Beyond 2^53 whole seconds no double is exact; then only the relative error is promised.
          if (ts / units < 2n ** 53n) assert.equal(actual, expected)
          else assert.ok(Math.abs(actual - expected) / expected < 1e-15, `${actual} vs ${expected}`)
        },
      ),
    )
  })
})
