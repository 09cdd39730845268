/**
 * Turns a pcapng 64-bit timestamp (two 32-bit halves, in units of 1/unitsPerSecond) into unix
 * seconds without allocating a BigInt.
 *
 * A nanosecond timestamp (about 1.7e18) is far beyond 2^53, so `(high * 2^32 + low) / units`
 * would lose the fraction before dividing. Instead the 64-bit value is divided by long division
 * with exact integer steps (see splitDivide; long division in 16-bit limbs up to 2^37 units), and
 * only the final `whole + remainder / units` is rounded to a double.
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
  if (unitsPerSecond <= 0x100000000) return splitDivide(high, low, unitsPerSecond)
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

/**
 * value = hh·2^48 + hl·2^32 + low = U·(hh·q48 + hl·q32) + (hh·r48 + hl·r32 + low), where q and r
 * are quotient and remainder of 2^48 and 2^32 by U. With U ≤ 2^32 every product and the sum stay
 * below 2^53, so one division of the small sum finishes the job. q and r are kept for the last U
 * (an interface's resolution rarely changes between packets).
 */
function splitDivide(high: number, low: number, unitsPerSecond: number): number {
  if (unitsPerSecond !== splitUnits) prepareSplit(unitsPerSecond)
  const hh = high >>> 16
  const hl = high & 0xffff
  const small = hh * splitR48 + hl * splitR32 + low
  let carry = Math.floor(small / unitsPerSecond)
  let remainder = small - carry * unitsPerSecond
  if (remainder < 0) {
    carry--
    remainder += unitsPerSecond
  } else if (remainder >= unitsPerSecond) {
    carry++
    remainder -= unitsPerSecond
  }
  return hh * splitQ48 + hl * splitQ32 + carry + remainder / unitsPerSecond
}

let splitUnits = 0
let splitQ48 = 0
let splitR48 = 0
let splitQ32 = 0
let splitR32 = 0

function prepareSplit(unitsPerSecond: number): void {
  splitUnits = unitsPerSecond
  splitQ48 = Math.floor(2 ** 48 / unitsPerSecond)
  splitR48 = 2 ** 48 - splitQ48 * unitsPerSecond
  if (splitR48 < 0) {
    splitQ48--
    splitR48 += unitsPerSecond
  }
  splitQ32 = Math.floor(2 ** 32 / unitsPerSecond)
  splitR32 = 2 ** 32 - splitQ32 * unitsPerSecond
  if (splitR32 < 0) {
    splitQ32--
    splitR32 += unitsPerSecond
  }
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
