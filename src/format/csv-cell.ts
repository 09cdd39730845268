const NEEDS_QUOTES = /[",\r\n]/

/**
 * RFC 4180: quote a cell holding a comma, quote or line break, doubling its quotes. On its own so
 * that `flowlog query -o csv` loads it without the NHN CSV formatter and everything that needs.
 */
export function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
