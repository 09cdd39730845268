/**
 * Turns a pcapng 64-bit timestamp (two 32-bit halves, in units of 1/unitsPerSecond) into unix
 * seconds without allocating a BigInt.
 *
 * A nanosecond timestamp (about 1.7e18) is far beyond 2^53, so `(high * 2^32 + low) / units`
 * would lose the fraction before dividing. Instead the 64-bit value is divided by long division
 * in 16-bit limbs (exact while units < 2^37), and only the final `whole + remainder / units` is
 * rounded to a double.
 */
export function timestampToSeconds(high: number, low: number, unitsPerSecond: number): number {
  if (high < 0x200000) {
    // Below 2^53 the value itself is exact (every microsecond timestamp until year 2255).
    const value = high * 0x100000000 + low
    let whole = Math.floor(value / unitsPerSecond)
    let remainder = value - whole * unitsPerSecond
    if (remainder < 0) {
      whole--
      remainder += unitsPerSecond
    }
    return whole + remainder / unitsPerSecond
  }
  if (unitsPerSecond >= 2 ** 37) return (high * 0x100000000 + low) / unitsPerSecond
  let whole = 0
  let remainder = 0
  whole = divideLimb(whole, remainder, high >>> 16, unitsPerSecond)
  remainder = limbRemainder
  whole = divideLimb(whole, remainder, high & 0xffff, unitsPerSecond)
  remainder = limbRemainder
  whole = divideLimb(whole, remainder, low >>> 16, unitsPerSecond)
  remainder = limbRemainder
  whole = divideLimb(whole, remainder, low & 0xffff, unitsPerSecond)
  remainder = limbRemainder
  return whole + remainder / unitsPerSecond
}

/** Second result of divideLimb, kept in a module variable so the hot path returns no object. */
let limbRemainder = 0

/** One step of long division: appends `limb` to the running remainder and returns the new quotient. */
function divideLimb(whole: number, remainder: number, limb: number, divisor: number): number {
  const current = remainder * 0x10000 + limb
  let digit = Math.floor(current / divisor)
  let rest = current - digit * divisor
  // The double quotient can round across an integer; fix the digit by at most one.
  if (rest < 0) {
    digit--
    rest += divisor
  } else if (rest >= divisor) {
    digit++
    rest -= divisor
  }
  limbRemainder = rest
  return whole * 0x10000 + digit
}
