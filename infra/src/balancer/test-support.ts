import type { Instance } from '../sd/instance.js';

/** Instances with the given ids, for the balancer unit tests. */
export function instances(...ids: string[]): Instance[] {
  return ids.map((id, i) => ({ id, service: 'svc', address: '127.0.0.1', port: 10_000 + i, tags: [], meta: {} }));
}
