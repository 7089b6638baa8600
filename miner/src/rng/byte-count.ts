import { badRequest } from '@switchyard/infra';

export const MAX_BYTES = 1024;

/**
 * The `n` of `GET /:n`: a plain decimal integer from 1 to 1024. Anything else ("0", "-1",
 * "1e3", "0x10", "12abc", "") is the caller's mistake, answered 400 with the rule.
 */
export function parseByteCount(raw: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BYTES) {
    throw badRequest(`byte count must be an integer from 1 to ${MAX_BYTES}`, { given: raw.slice(0, 20) });
  }
  return n;
}
