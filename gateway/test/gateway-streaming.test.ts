/**
 * What the gateway relays, and how: answers stream through as they arrive (server-sent events one
 * by one, a big body held back by a slow client rather than buffered, and cut once that client
 * took nothing for GATEWAY_RELAY_STALL_MS), a body the upstream cuts
 * short is cut for the client too (and one that died before its first byte becomes the gateway's
 * 502), an application 500 is relayed as is without a retry, and the
 * query string reaches the upstream untouched. Real gateway, real echo instances, real Consul.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { PrivateStack, get, json, metric, send, type Running } from './upstreams.js';

const STALL_MS = 4_000;
/** The browser origin the gateway allows (CORS_ORIGINS). */
const APP = 'https://app.example.test';

describe('gateway relay of answers (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let echoes: Running[];

  /** The echo instance that served an answer, by its x-served-by. */
  const echoById = (id: string | null) => {
    const found = echoes.find((e) => e.serviceId === id);
    if (!found) throw new Error(`no echo instance ${id}`);
    return found;
  };

  beforeAll(async () => {
    // A stall limit long enough for the held-back test below, short enough to watch it cut a relay.
    [gateway, echoes] = await Promise.all([stack.start('gateway-with-echo', { GATEWAY_RELAY_STALL_MS: String(STALL_MS), CORS_ORIGINS: APP }), stack.startPassing('echo', 2)]);
    await waitFor('the gateway to see both echo instances', async () => {
      return (await metric(gateway.adminPort!, 'switchyard_watcher_healthy_instances', { service: `echo${stack.suffix}` })) === 2;
    });
  });
  afterAll(() => stack.stopAll());
  const retries = () => metric(gateway.adminPort!, 'switchyard_upstream_retries_total', { service: `echo${stack.suffix}`, result: 'retried' });

  it('passes server-sent events one by one: the first arrives before the second is even written', async () => {
    const token = `t${Date.now()}`;
    const response = await fetch(`${gateway.url}/test/events?token=${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let received = '';
    // The upstream writes the second event only once released below: a gateway that waited for
    // the whole body would never deliver the first one, and this read would time out.
    const first = await Promise.race([
      (async () => {
        while (!received.includes('\n\n')) {
          const { value, done } = await reader.read();
          if (done) break;
          received += Buffer.from(value).toString('utf8');
        }
        return received;
      })(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the first event did not arrive on its own')), 15_000)),
    ]);
    expect(first).toBe('data: first\n\n');
    const releases = await Promise.all(echoes.map((e) => send(e.port, `/events/release?token=${token}`, { method: 'POST' })));
    expect(releases.map((r) => r.status).sort()).toEqual([200, 404]);
    for (let next = await reader.read(); !next.done; next = await reader.read()) received += Buffer.from(next.value).toString('utf8');
    expect(received).toBe('data: first\n\ndata: second\n\n');
  });

  it('holds a big answer back while its client does not read, instead of buffering it, and stops it when the client leaves', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpGet(`${gateway.url}/test/firehose?mb=512`, resolve).once('error', reject);
    });
    expect(response.statusCode).toBe(200);
    // No 'data' listener: the client reads nothing, so only socket buffers fill up.
    const echo = echoById(String(response.headers['x-served-by']));
    const state = async () => json(await get(echo.port, '/firehose/state')) as { written: number; heldBackForMs: number; finished: boolean; closed: boolean };
    const held = await waitFor('the upstream to be held back by back-pressure', async () => {
      const now = await state();
      if (now.finished) throw new Error(`the upstream wrote all ${now.written} bytes: the gateway buffered them`);
      // Past the stall limit the relay would be cut, and the upstream stop for that reason instead.
      if (now.closed) throw new Error('the relay was cut before the test saw it held back');
      return now.heldBackForMs >= 1_000 && now;
    }, { timeoutMs: 30_000 });
    // Socket buffers on two hops hold a few megabytes; 512 would have crossed without back-pressure.
    expect(held.written).toBeLessThan(64 * 1024 * 1024);
    response.destroy();
    await waitFor('the upstream transfer to stop once the client left', async () => (await state()).closed);
  });

  it('cuts a relay whose client takes nothing for GATEWAY_RELAY_STALL_MS, freeing the upstream connection', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpGet(`${gateway.url}/test/firehose?mb=512`, resolve).once('error', reject);
    });
    // Never read until the gateway gave up: only the stall limit can end this.
    const startedAt = Date.now();
    const echo = echoById(String(response.headers['x-served-by']));
    const state = async () => json(await get(echo.port, '/firehose/state')) as { finished: boolean; closed: boolean };
    await waitFor('the gateway to give up on the client and stop the upstream', async () => (await state()).closed, { timeoutMs: STALL_MS + 10_000 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(STALL_MS - 500);
    expect((await state()).finished).toBe(false);
    // Reading now drains what the socket buffers held, then finds the connection cut, not ended.
    const ended = new Promise<boolean>((resolve) => response.once('error', () => undefined).once('close', () => resolve(response.complete)));
    response.resume();
    expect(await ended).toBe(false);
  });

  it('keeps relaying to a slow client that reads a little at a time, well past GATEWAY_RELAY_STALL_MS', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpGet(`${gateway.url}/test/firehose?mb=512`, resolve).once('error', reject);
    });
    const echo = echoById(String(response.headers['x-served-by']));
    const state = async () => json(await get(echo.port, '/firehose/state')) as { closed: boolean };
    // One read (at most 64 KiB) every 20 ms, a few MB/s at most: far slower than the upstream
    // writes, so the gateway's socket to this client stays full and each of its writes waits for
    // the client. (Progress is seen when a write completes: the kernel takes a full socket's data
    // back in steps of up to half its send buffer, megabytes on loopback, so a much slower reader
    // here would be cut: relay.ts.)
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      response.pause();
      setTimeout(() => response.resume(), 20);
    });
    // 512 MiB at this pace takes minutes: the relay is still under way when the test ends it.
    await waitFor('the first bytes', () => received > 0);
    const receivedThen = received;
    const since = Date.now();
    await waitFor('two stall periods to pass', () => Date.now() - since >= 2 * STALL_MS + 1_000, { timeoutMs: 3 * STALL_MS + 10_000 });
    // Still relaying: the client went on taking the answer, slowly.
    expect((await state()).closed).toBe(false);
    expect(received).toBeGreaterThan(receivedThen);
    expect(response.destroyed).toBe(false);
    response.destroy();
    await waitFor('the upstream transfer to stop once the client left', async () => (await state()).closed);
  });

  it('cuts the client connection when the upstream dies mid-body, instead of ending the answer cleanly', async () => {
    const outcome = await new Promise<{ status: number; body: string; complete: boolean }>((resolve, reject) => {
      httpGet(`${gateway.url}/test/truncated`, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.once('error', () => undefined);
        res.once('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
      }).once('error', reject);
    });
    expect(outcome).toEqual({ status: 200, body: 'partial', complete: false });
  });

  it("answers 502 naming the service when the upstream dies after its headers, before any byte of its body, with the gateway's headers, not the upstream's", async () => {
    const answer = await get(gateway.port, '/test/headers-only', { origin: APP });
    expect(answer.status).toBe(502);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json(answer).error).toMatchObject({ code: 'upstream_answer_lost', service: `echo${stack.suffix}` });
    // GET is idempotent: nothing to say about what the upstream may have done.
    expect(json(answer).error.message).not.toContain('may have taken effect');
    // None of the upstream's own headers describes this answer, and the gateway gave it.
    for (const name of ['x-upstream-only', 'set-cookie', 'content-encoding']) expect(answer.headers.get(name), name).toBeNull();
    expect(answer.headers.get('x-served-by')).toBe(gateway.serviceId);
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    // What the gateway had set before the upstream's answer replaced it is back: CORS and the security headers.
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
    expect(answer.headers.get('vary')).toMatch(/origin/i);
    expect(answer.headers.get('vary')).not.toMatch(/accept-encoding/i);
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('says a write may have taken effect when its upstream died after its headers (201) but before its body', async () => {
    const answer = await send(gateway.port, '/test/headers-only', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(answer.status).toBe(502);
    expect(json(answer).error).toMatchObject({ code: 'upstream_answer_lost', service: `echo${stack.suffix}` });
    expect(json(answer).error.message).toContain('may have taken effect');
  });

  it("relays an upstream's application 500 as is: status, body, the instance that gave it, and no retry", async () => {
    const before = await Promise.all(echoes.map(async (e) => json(await get(e.port, '/fail/count')).calls as number));
    const retriesBefore = await retries();
    for (let i = 0; i < 6; i++) {
      const answer = await get(gateway.port, '/test/fail');
      expect(answer.status).toBe(500);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      const body = json(answer);
      expect(body.error).toEqual({ code: 'bug', message: 'this request always fails' });
      expect(answer.headers.get('x-served-by')).toBe(body.servedBy);
    }
    const after = await Promise.all(echoes.map(async (e) => json(await get(e.port, '/fail/count')).calls as number));
    // One upstream call per client call: a retry would have sent the same request to the other instance.
    expect(after[0]! - before[0]! + after[1]! - before[1]!).toBe(6);
    expect(await retries()).toBe(retriesBefore);
    // Neither instance is ejected for it: both still serve.
    for (const echo of echoes) {
      expect(await metric(gateway.adminPort!, 'switchyard_upstream_breaker_state', { instance: echo.serviceId })).toBe(0);
    }
  });

  it("honours a route's own retry policy: there a 500 is the instance's trouble, tried on the other one", async () => {
    const before = await Promise.all(echoes.map(async (e) => json(await get(e.port, '/fail/count')).calls as number));
    const retriesBefore = await retries();
    const answer = await get(gateway.port, '/test/fail-retried');
    expect(answer.status).toBe(500);
    const after = await Promise.all(echoes.map(async (e) => json(await get(e.port, '/fail/count')).calls as number));
    // Both instances were asked once: the first answer's 500 sent the call on to the other.
    expect(after.map((count, i) => count - before[i]!)).toEqual([1, 1]);
    expect(await retries()).toBe(retriesBefore + 1);
  });

  it('forwards the query string byte for byte: order, repeats and encoding kept', async () => {
    const query = '?b=2&a=1&a=0&q=caf%C3%A9%20au%20lait&empty=&flag';
    const answer = await get(gateway.port, `/test/query${query}`);
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ url: `/query${query}` });
  });
});
