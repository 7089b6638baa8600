import { z } from '@switchyard/infra';
import { defineRoute, path } from '../route-table.js';
import { noParams } from './common.js';

/** A path segment that is a whole number in [min, max]; the error names the segment ("n: must be ..."). */
const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.string().regex(/^\d{1,9}$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
};

/** The miner demo (rng, webui): public, read-only. */
export const minerRoutes = [
  defineRoute({
    method: 'GET',
    path: '/api/v1/rng/:n',
    service: 'rng',
    auth: 'public',
    params: z.object({ n: wholeNumber(1, 1024) }),
    upstreamPath: ({ n }) => path`/${n}`,
    // rng sleeps ~100 ms per request and serves one at a time, so an instance's queue is its
    // latency: allow a queue of ~20 before giving up on an attempt and retrying elsewhere.
    timeouts: { attemptTimeoutMs: 2_500, deadlineMs: 6_000 },
    docs: {
      summary: 'n random bytes from one rng instance',
      responses: { 200: { description: 'n random bytes (application/octet-stream)' } },
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/miner/stats',
    service: 'webui',
    auth: 'public',
    params: noParams,
    upstreamPath: () => path`/api/stats`,
    // A couple of Redis reads: anything slower than this is an unhealthy instance.
    timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_500 },
    docs: {
      summary: 'Mining figures: coins, hashes and the instances at work',
      responses: { 200: { description: 'the figures webui charts' } },
    },
  }),
];
