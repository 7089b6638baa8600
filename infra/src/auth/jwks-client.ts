import type { JSONWebKeySet } from 'jose';
import type { ServiceClient } from '../client/service-client.js';
import type { JwksSource } from './token-verifier.js';

export const JWKS_PATH = '/.well-known/jwks.json';

/** Auth's published keys, from whichever passing auth instance the client picks. */
export function jwksThroughDiscovery(auth: ServiceClient): JwksSource {
  return async () => {
    const response = await auth.get(JWKS_PATH, { deadlineMs: 2_500, maxResponseBytes: 256 * 1024 });
    if (response.status !== 200) throw new Error(`${auth.service} answered ${response.status} to GET ${JWKS_PATH}`);
    return JSON.parse(response.body.toString('utf8')) as JSONWebKeySet;
  };
}
