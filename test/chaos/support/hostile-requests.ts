/**
 * Hostile HTTP/1.1 requests, written as raw bytes (a client library would refuse to send most of
 * them): random methods and paths, broken percent-encoding, invalid, deep and huge JSON, huge
 * headers, conflicting Content-Length / Transfer-Encoding, forged, `alg: none` and garbage
 * tokens, spoofed identity and forwarding headers. Deterministic: a seeded generator, so a
 * failure names a case that can be replayed.
 */
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';

/** mulberry32: small, fast, seedable; quality is irrelevant here, repeatability is not. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Tokens no service may accept. */
export function hostileTokens(): string[] {
  const payload = b64url(JSON.stringify({ sub: '1', exp: 4_102_444_800, iat: 1, typ: 'access' }));
  const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
  const hsHeader = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const forgedHs = `${hsHeader}.${payload}.${createHmac('sha256', 'guess').update(`${hsHeader}.${payload}`).digest('base64url')}`;
  const rsHeader = b64url(JSON.stringify({ alg: 'RS256', kid: 'made-up', typ: 'JWT' }));
  return [none, forgedHs, `${rsHeader}.${payload}.${b64url('not a signature')}`, 'a.b.c', '....', 'x'.repeat(9_000), '%00', 'ey'];
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FOO', 'get', 'PROPFIND'];

export interface HostileRequest {
  /** What the case is, for reports. */
  kind: string;
  bytes: Buffer;
}

function request(method: string, path: string, headers: string[], body: Buffer | string = ''): Buffer {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

/**
 * One hostile request for a server whose API lives under `prefixes` (e.g. `/api/v1/social` at the
 * gateway, `/` at a service's own port).
 */
export function hostileRequest(random: () => number, prefixes: string[]): HostileRequest {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const prefix = pick(prefixes);
  const tokens = hostileTokens();
  const json = ['content-type: application/json'];
  const paths = [
    `${prefix}/%zz`,
    `${prefix}/users/%E0%A4%A`,
    `${prefix}/chats/99999999999999999999999999/messages`,
    `${prefix}/chats/-1/messages?limit=NaN&cursor=%ff%fe`,
    `${prefix}/feed?limit=1e9&cursor=${'A'.repeat(2_000)}`,
    `${prefix}/../../../../etc/passwd`,
    `${prefix}/${'a/'.repeat(1_500)}`,
    `${prefix}/posts/1;DROP TABLE posts`,
    `${prefix}/friends/requests/%00/accept`,
    `${prefix}/8?${'x=1&'.repeat(500)}`,
    '*',
    '/%',
    '//',
  ];
  switch (Math.floor(random() * 9)) {
    case 0:
      return { kind: 'random method and path', bytes: request(pick(METHODS), pick(paths), []) };
    case 1: {
      const body = pick(['{"a":', '[]', 'null', '"text"', '{"text": 1e999999}', '{"__proto__": {"admin": true}}', '\u0000\u0001', '{"email": {"$gt": ""}}']);
      return { kind: 'invalid JSON', bytes: request(pick(['POST', 'PUT', 'PATCH']), pick(paths), [...json, `Content-Length: ${Buffer.byteLength(body)}`, `Authorization: Bearer ${pick(tokens)}`], body) };
    }
    case 2: {
      const depth = 50_000;
      const body = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      return { kind: 'deeply nested JSON', bytes: request('POST', pick(paths), [...json, `Content-Length: ${body.length}`], body) };
    }
    case 3: {
      // Rarer than the others: 10 000 of them would be 30 GB through loopback.
      if (random() > 0.1) return { kind: 'random method and path', bytes: request(pick(METHODS), pick(paths), []) };
      const body = `{"text":"${'x'.repeat(3 * 1024 * 1024)}"}`;
      return { kind: 'huge JSON (3 MiB)', bytes: request('POST', pick(paths), [...json, `Content-Length: ${body.length}`], body) };
    }
    case 4:
      return { kind: 'huge header (64 KiB)', bytes: request('GET', pick(paths), [`X-Junk: ${'j'.repeat(64 * 1024)}`]) };
    case 5:
      return {
        kind: 'Content-Length with Transfer-Encoding',
        bytes: request('POST', pick(paths), [...json, 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
      };
    case 6:
      return { kind: 'two Content-Lengths', bytes: request('POST', pick(paths), [...json, 'Content-Length: 2', 'Content-Length: 3'], '{}x') };
    case 7:
      return {
        kind: 'forged token and identity headers',
        bytes: request(pick(['GET', 'POST', 'DELETE']), pick(paths), [
          `Authorization: ${pick(['Bearer ', 'Basic ', 'bearer ', ''])}${pick(tokens)}`,
          `X-User-Id: ${pick(['1', 'admin', '-1'])}`,
          `X-Forwarded-For: ${pick(['127.0.0.1', '10.0.0.1, 1.2.3.4', 'garbage'])}`,
          `traceparent: ${pick(['00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01', 'junk', '00-0-0-00'])}`,
        ]),
      };
    default:
      return { kind: 'bad chunked body', bytes: request('POST', pick(paths), [...json, 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n') };
  }
}

export interface RawAnswer {
  /** HTTP status, 0 when the server closed without a status line, -1 when nothing came in time. */
  status: number;
}

/** Sends raw bytes on a fresh connection; the status of the answer (see RawAnswer). */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let head = '';
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status });
    };
    const timer = setTimeout(() => done(-1), timeoutMs);
    socket.on('connect', () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (match) done(Number(match[1]));
      else if (head.length > 64) done(0);
    });
    // The server may reset a connection whose request it refused before reading all of it.
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
  });
}
