/**
 * Big-endian reads straight from the frame's bytes. Plain arithmetic rather than a DataView: the
 * frame may come from any of several readers' chunks (mergeReaders), and a view per buffer would
 * mean a lookup or an allocation per packet. Callers check bounds first; an out-of-range index
 * reads `undefined`, which the shifts turn into 0, so nothing here can throw.
 */
export function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!
}

export function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0
}

/** A 48-bit MAC address as an integer (exact in a double). */
export function mac48(d: Uint8Array, o: number): number {
  return u16(d, o) * 0x100000000 + u32(d, o + 2)
}
