/**
 * Waiting for one of this process's own pooled connections is local saturation, not a slow
 * instance: it is bounded on its own (poolTimeoutMs → 503 pool_exhausted) and never counted by
 * the instance's breaker. Real HTTP servers on 127.0.0.1, listed by a FixedInstancer.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { FixedInstancer } from '../sd/instancer.js';
import { PoolExhausted } from './errors.js';
import { ServiceClient, type ServiceClientOptions } from './service-client.js';
import { closeUpstreams, startUpstream, type TestUpstream } from './test-upstreams.js';

const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await closeUpstreams();
});

function clientOf(upstream: TestUpstream, options: ServiceClientOptions): ServiceClient {
  const client = new ServiceClient('pool-test', new FixedInstancer('pool-test', [upstream.instance]), options);
  clients.push(client);
  return client;
}

describe('the wait for a pooled connection', () => {
  it('is not part of the attempt: a small pool and a slow but healthy instance open no breaker', async () => {
    const upstream = await startUpstream((_req, res) => setTimeout(() => res.end('ok'), 100));
    // Two connections, 40 calls at once: the last ones queue for ~19 turns (about 2 s), far past
    // the 1 s an attempt may take once it is on a connection (ten times what it needs).
    const client = clientOf(upstream, { connectionsPerInstance: 2, attemptTimeoutMs: 1_000, poolTimeoutMs: 60_000, deadlineMs: 120_000 });
    const answers = await Promise.all(Array.from({ length: 40 }, () => client.get('/slow')));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(upstream.calls).toBe(40);
    expect(upstream.maxInFlight).toBe(2);
    expect(client.breakerState(upstream.instance.id)).toBe('closed');
  });

  it('is bounded by poolTimeoutMs: 503 pool_exhausted, nothing sent, the instance not held responsible', async () => {
    const held: ServerResponse[] = [];
    const upstream = await startUpstream((_req, res) => held.push(res));
    const client = clientOf(upstream, { connectionsPerInstance: 1, poolTimeoutMs: 200, attemptTimeoutMs: 30_000, deadlineMs: 60_000 });
    const first = client.get('/held');
    await waitFor('the first call to occupy the only connection', () => held.length === 1);
    for (let i = 0; i < 6; i++) {
      const error = await client.get('/queued').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoolExhausted);
      expect(error).toMatchObject({ status: 503, code: 'pool_exhausted' });
    }
    expect(upstream.calls).toBe(1);
    expect(client.breakerState(upstream.instance.id)).toBe('closed');
    held[0]!.end('done');
    expect((await first).status).toBe(200);
  });
});
