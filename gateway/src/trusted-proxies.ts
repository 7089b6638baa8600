import type { IncomingMessage } from 'node:http';
import { listSetting } from './list-setting.js';
import proxyAddr from 'proxy-addr';

/**
 * Which socket peers are proxies of ours (TRUSTED_PROXIES). Only their forwarding headers
 * (X-Forwarded-*, Forwarded, X-Real-IP) and trace context describe the client; anyone else could
 * write whatever they like there, so the edge overwrites or drops it.
 */
export type TrustedProxies = (req: IncomingMessage) => boolean;

const KNOWN_NAMES = 'loopback, linklocal, uniquelocal';

/**
 * The TRUSTED_PROXIES setting: comma-separated IP addresses, CIDR ranges (`10.0.0.0/8`) and the
 * names proxy-addr knows (loopback, linklocal, uniquelocal). Empty, the default, trusts nobody.
 * A malformed entry is a config error naming it, so a typo never silently trusts nobody (or more).
 */
export const trustedProxiesSetting = listSetting(compiles, `an IP address, a CIDR range or one of ${KNOWN_NAMES}`);

/** Whether a request's socket peer is one of `entries` (entries as trustedProxiesSetting validated them). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return () => false;
  const trusts = proxyAddr.compile([...entries]);
  // Only the socket peer counts: it is the one address nobody can forge over TCP. (proxy-addr
  // compares an IPv4-mapped IPv6 peer, `::ffff:10.0.0.1`, with IPv4 entries as its IPv4 address.)
  return (req) => {
    const peer = req.socket.remoteAddress;
    return peer !== undefined && trusts(peer, 0);
  };
}

function compiles(entry: string): boolean {
  try {
    proxyAddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}

/**
 * The client's address for per-client limits: the socket peer, or, when the peer is a trusted
 * proxy, the nearest address in X-Forwarded-For that is not one of ours (proxy-addr walks the
 * chain from the right, so entries a client prepended itself are never reached). IPv4 peers of a
 * dual-stack listener are given as plain IPv4.
 */
export function clientAddresses(entries: readonly string[]): (req: IncomingMessage) => string {
  // Trusting nobody, the peer is the answer: no need to parse a header nobody may set.
  if (entries.length === 0) return (req) => plainAddress(req.socket.remoteAddress ?? 'unknown');
  const trusts = proxyAddr.compile([...entries]);
  return (req) => plainAddress(proxyAddr(req, trusts));
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
