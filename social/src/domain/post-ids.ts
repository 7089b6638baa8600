/**
 * Post ids are BIGINT auto-increment values carried as decimal strings (JSON numbers lose
 * precision past 2^53). Without leading zeros, a shorter string is a smaller number, and equal
 * lengths compare as text: no BigInt needed to order them.
 */
export function comparePostIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether post `a` is older than post `b` (ids grow with time). */
export const isOlder = (a: string, b: string): boolean => comparePostIds(a, b) < 0;
