/**
 * dockercoins' rule: a hash is a coin when its hex form starts with the prefix. With the default
 * "0", one hash in 16 is a coin; each extra hex digit makes coins 16× rarer.
 */
export function isCoin(hashHex: string, prefix: string): boolean {
  return hashHex.toLowerCase().startsWith(prefix.toLowerCase());
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
