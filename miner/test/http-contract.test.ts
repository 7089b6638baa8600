/**
 * The HTTP shapes of rng and hasher, on real processes: dockercoins-compatible answers, the rng's
 * one-at-a-time rule, the hasher's concurrency, and clear 4xx JSON for bad input.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { MinerCluster } from './miner-cluster.js';

/** How long the hasher takes per request here. */
const HASHER_DELAY_MS = 300;

describe('rng and hasher HTTP contract (real processes)', () => {
  const cluster = new MinerCluster();
  let rng: Running;
  let hasher: Running;
  let smallQueue: Running;

  beforeAll(async () => {
    [rng, hasher, smallQueue] = await Promise.all([
      cluster.start('rng', { RNG_DELAY_MS: '50' }),
      cluster.start('hasher', { HASHER_DELAY_MS: String(HASHER_DELAY_MS) }),
      cluster.start('rng', { RNG_DELAY_MS: '500', RNG_QUEUE_LIMIT: '2' }),
    ]);
  });
  afterAll(() => cluster.close());

  it('rng: GET /:n answers n random bytes as application/octet-stream', async () => {
    const response = await fetch(`${rng.url}/32`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-served-by')).toBe(rng.serviceId);
    const first = Buffer.from(await response.arrayBuffer());
    const second = Buffer.from(await (await fetch(`${rng.url}/32`)).arrayBuffer());
    expect(first).toHaveLength(32);
    expect(first.equals(second)).toBe(false);
    expect(Buffer.from(await (await fetch(`${rng.url}/1024`)).arrayBuffer())).toHaveLength(1024);
  });

  it.each(['0', '1025', 'abc', '-5', '2.5'])('rng: GET /%s is a 400 JSON error', async (n) => {
    const response = await fetch(`${rng.url}/${n}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/1 to 1024/) } });
  });

  it('rng: GET / names the instance', async () => {
    expect(await (await fetch(`${rng.url}/`)).text()).toBe(`RNG running on ${rng.serviceId}\n`);
  });

  it('rng: serves one request at a time', async () => {
    const started = Date.now();
    const finished: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, () => fetch(`${rng.url}/8`).then(async (r) => (await r.arrayBuffer(), finished.push(Date.now() - started)))),
    );
    // Six requests of 50 ms each, strictly one after the other: the last ends after ≥ 300 ms.
    expect(Math.max(...finished)).toBeGreaterThanOrEqual(290);
  });

  it('rng: refuses with a 503 JSON error past its queue limit, and shows its queue depth on /metrics', async () => {
    const depth = () => cluster.metric(smallQueue, 'miner_rng_queue_depth');
    expect(await depth()).toBe(0);
    // One runs, two may wait (RNG_QUEUE_LIMIT=2), the others are refused at once.
    const answers = Array.from({ length: 5 }, () =>
      fetch(`${smallQueue.url}/8`).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) })),
    );
    await cluster.waitFor('the queue depth on /metrics', async () => (await depth()) >= 2);
    const settled = await Promise.all(answers);
    const refused = settled.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(settled.filter((r) => r.status === 200).length + refused.length).toBe(5);
    expect(JSON.parse(refused[0]!.body.toString())).toMatchObject({ error: { code: 'rng_overloaded' } });
    expect(await depth()).toBe(0);
  });

  it('hasher: POST / answers the hex SHA-256 as text/plain', async () => {
    const body = Buffer.from('dockercoins');
    const response = await fetch(`${hasher.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('hasher: hashes concurrently', async () => {
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${hasher.url}/`, { method: 'POST', body: `n${i}` }).then((r) => r.text())));
    // Concurrently: about one delay (0.3 s). One at a time: ten delays (3 s). Half of that keeps
    // more than a second of margin either way.
    expect(Date.now() - started).toBeLessThan((10 * HASHER_DELAY_MS) / 2);
  });

  it('hasher: accepts 64 KiB and refuses more with a 413 JSON error', async () => {
    const post = (size: number) =>
      fetch(`${hasher.url}/`, { method: 'POST', body: Buffer.alloc(size, 7), headers: { 'content-type': 'application/octet-stream' } });
    expect((await post(64 * 1024)).status).toBe(200);
    const tooLarge = await post(64 * 1024 + 1);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('hasher: refuses a JSON body (its bytes are not kept) with a 415 JSON error', async () => {
    const response = await fetch(`${hasher.url}/`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('hasher: GET / is a banner', async () => {
    expect(await (await fetch(`${hasher.url}/`)).text()).toBe(`HASHER running on ${hasher.serviceId}\n`);
  });
});
