/**
 * The gateway tests' private stack (see IsolatedStack): a real gateway in front of real upstream
 * processes that only it can see, and small HTTP helpers to call them.
 */
import { IsolatedStack, type Running } from '../../test/support/isolated-stack.js';
import { scrapeMetric } from '../../test/support/metrics.js';

export type { Running };

const ENTRY = {
  gateway: 'gateway/src/main.ts',
  /** The real gateway with extra test-only routes to `echo`. */
  'gateway-with-echo': 'gateway/test/fixtures/gateway-with-echo.ts',
  echo: 'gateway/test/fixtures/echo-upstream.ts',
  /** Plays auth (a JWKS the test signs for) or social: records and echoes what arrives (STAND_IN_NAME). */
  'stand-in': 'gateway/test/fixtures/stand-in-service.ts',
  auth: 'auth/src/main.ts',
  rng: 'miner/src/rng/main.ts',
  webui: 'miner/src/webui/main.ts',
} as const;

export class PrivateStack extends IsolatedStack<keyof typeof ENTRY> {
  constructor() {
    super(ENTRY);
  }

  /** Starts `count` rng instances (5 ms each unless `env` says otherwise), passing in Consul. */
  startRngs(count: number, env: Record<string, string> = {}): Promise<[Running, ...Running[]]> {
    return this.startPassing('rng', count, { RNG_DELAY_MS: '5', ...env });
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(port, path, { headers });
}

export async function send(port: number, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

export function json(answer: Answer): any {
  return JSON.parse(answer.body.toString('utf8'));
}

/** The sum of Prometheus sample `name` on a process's /metrics (see scrapeMetric). */
export function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return scrapeMetric(`http://127.0.0.1:${port}/metrics`, name, labels);
}
