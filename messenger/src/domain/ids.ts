/**
 * Chat and message ids are BIGINT auto-increment values carried as decimal strings (JSON numbers
 * lose precision past 2^53). Without leading zeros, a shorter string is a smaller number, and
 * equal lengths compare as text: no BigInt needed to order them. Message ids grow with time.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key of the dialog between two users: both ids in order, so either side finds the same row. */
export function dialogKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
