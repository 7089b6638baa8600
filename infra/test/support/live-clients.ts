/**
 * Clients for the live-delivery tests: access tokens signed with a key the test publishes through
 * the JWKS fixture (as auth would), a WebSocket client (`ws`, so a test can read the 101's
 * headers, withhold pongs and stop reading) that queues what it receives, and a hand-made
 * upgrade request to read a refusal's plain HTTP answer.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import WebSocket from 'ws';

export interface TestKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
}

export async function testKey(kid = `live-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const pair = await generateKeyPair('EdDSA');
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

export const jwksOf = (...keys: TestKey[]) => JSON.stringify({ keys: keys.map((k) => k.jwk) });

export function tokenFor(key: TestKey, sub: string = randomUUID()): Promise<string> {
  return new SignJWT({ sid: randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setSubject(sub)
    .setIssuer('switchyard-auth')
    .setAudience('switchyard')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(key.privateKey);
}

export interface Closed {
  code: number;
  reason: string;
}

/** A `ws` client whose events can be awaited in order. */
export class LiveClient {
  readonly ws: WebSocket;
  readonly opened: Promise<IncomingHttpHeaders>;
  readonly closed: Promise<Closed>;
  private readonly queue: unknown[] = [];
  private readonly waiters: Array<(event: unknown) => void> = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('upgrade', (response) => resolve(response.headers));
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`${url} answered ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    // Errors after opening (a 1009 refusal, a cut) end in a close event the test reads.
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      const event: unknown = JSON.parse(data.toString());
      const waiter = this.waiters.shift();
      if (waiter) waiter(event);
      else this.queue.push(event);
    });
  }

  /** The next event, failing after `timeoutMs`. */
  next(timeoutMs = 10_000): Promise<any> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (event: unknown) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next event of `type`, skipping others. */
  async nextOfType(type: string, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if ((event as { type?: string }).type === type) return event;
    }
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Events received and not yet taken. */
  pending(): unknown[] {
    return [...this.queue];
  }
}

/** An upgrade request made by hand, to read a refusal; fails if the protocol switches after all. */
export { upgradeRequest as refusedUpgrade, type UpgradeRefusal } from '../../../test/support/upgrade-request.js';
