/**
 * A small open-addressing map from a 4-word key (an address, or a MAC in words 2-3) to an
 * interface index. Built once from the config; lookups allocate nothing.
 */
export class AddressIndex {
  private readonly keys: Uint32Array
  private readonly values: Int32Array
  private readonly used: Uint8Array
  private readonly mask: number

  constructor(expected: number) {
    let slots = 16
    while (slots < expected * 4) slots *= 2
    this.keys = new Uint32Array(slots * 4)
    this.values = new Int32Array(slots)
    this.used = new Uint8Array(slots)
    this.mask = slots - 1
  }

  /** Adds a key; the first value for a key wins (an address listed twice keeps its first interface). */
  set(words: ArrayLike<number>, offset: number, value: number): void {
    let slot = this.slotOf(words, offset)
    while (this.used[slot] === 1) {
      if (this.matches(slot, words, offset)) return
      slot = (slot + 1) & this.mask
    }
    this.used[slot] = 1
    for (let i = 0; i < 4; i++) this.keys[slot * 4 + i] = words[offset + i] ?? 0
    this.values[slot] = value
  }

  /** The value for the key, or -1. */
  get(words: ArrayLike<number>, offset: number): number {
    let slot = this.slotOf(words, offset)
    while (this.used[slot] === 1) {
      if (this.matches(slot, words, offset)) return this.values[slot]!
      slot = (slot + 1) & this.mask
    }
    return -1
  }

  private slotOf(words: ArrayLike<number>, offset: number): number {
    let h = 0x9e3779b9
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ (words[offset + i] ?? 0), 0x85ebca6b)
      h ^= h >>> 13
    }
    return h & this.mask
  }

  private matches(slot: number, words: ArrayLike<number>, offset: number): boolean {
    const k = this.keys
    const b = slot * 4
    return (
      k[b + 3] === words[offset + 3] &&
      k[b + 2] === words[offset + 2] &&
      k[b] === words[offset] &&
      k[b + 1] === words[offset + 1]
    )
  }
}
