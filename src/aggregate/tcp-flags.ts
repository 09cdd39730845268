/**
 * The two clouds count TCP flags differently (DESIGN 2). Both are folded per packet through a
 * 256-entry table indexed by the raw flag byte, so the hot path is one load and one OR.
 */
const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

/**
 * AWS tcp-flags: FIN 1, SYN 2, RST 4, SYN-ACK 18. The ACK bit counts only together with SYN;
 * ACK alone or with FIN/PSH adds nothing beyond the FIN.
 */
export const AWS_TCP_FLAGS: Uint8Array = Uint8Array.from({ length: 256 }, (_, f) => {
  let v = 0
  if (f & FIN) v |= 1
  if (f & RST) v |= 4
  if (f & SYN) v |= f & ACK ? 18 : 2
  return v
})

/**
 * NHN tcp_flag: only packets carrying SYN, FIN or RST contribute, with FIN 1, SYN 2, RST 4 and
 * ACK 16 kept (2, 18, 17, 4, 1; 3 and 19 for short connections). ACK-only, PSH-only and PSH|ACK
 * packets add nothing.
 */
export const NHN_TCP_FLAGS: Uint8Array = Uint8Array.from({ length: 256 }, (_, f) =>
  f & (SYN | FIN | RST) ? f & (FIN | SYN | RST | ACK) : 0,
)
