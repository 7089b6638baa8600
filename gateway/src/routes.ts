import { z } from '@switchyard/infra';
import { defineRoute, path, type GatewayRoute } from './route-table.js';

/** A path segment that is a whole number in [min, max]; the error names the segment ("n: must be ..."). */
const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.string().regex(/^\d{1,9}$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
};

/**
 * Every public route: which service answers it and how. Adding a service behind the gateway is
 * one entry here; discovery, balancing, retries and errors come from the generic proxy.
 */
export const gatewayRoutes: GatewayRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/v1/rng/:n',
    service: 'rng',
    params: z.object({ n: wholeNumber(1, 1024) }),
    upstreamPath: ({ n }) => path`/${n}`,
    // rng sleeps ~100 ms per request and serves one at a time, so an instance's queue is its
    // latency: allow a queue of ~20 before giving up on an attempt and retrying elsewhere.
    timeouts: { attemptTimeoutMs: 2_500, deadlineMs: 6_000 },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/miner/stats',
    service: 'webui',
    params: z.object({}),
    upstreamPath: () => path`/api/stats`,
    // A couple of Redis reads: anything slower than this is an unhealthy instance.
    timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_500 },
  }),
];
