/** The command line of `npm run load`, checked: a bad flag is one line naming it, exit 2. */
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run load -- (--route /api/v1/rng/8 | --url http://host:port/path) [options]
  --gateway <origin>      base of --route (default http://127.0.0.1:8080, or $GATEWAY_URL)
  --connections <n>       at most n keep-alive connections (default 16)
  --rps <n>               open loop: n requests/s at fixed times, latency from each scheduled time;
                          without it, a closed loop: each connection sends as soon as it is answered
  --duration <time>       10s (default), 500ms, 2m
  --method <verb>         default GET
  --body <text|@file>     request body (content-type application/json unless --header says otherwise)
  --header 'name: value'  repeatable
  --sign-in email:password   sign in through the gateway first; requests carry the access token
  --sign-up email:password   create that account first (if it exists, just sign in)
  --timeout <time>        a request unanswered this long fails as "timeout" (default 10s)
  --json                  the summary as JSON on stdout (no progress line)
Before the clock starts, each connection is opened with one request that is not counted.`;

export interface LoadArgs {
  origin: string;
  path: string;
  gateway: string;
  connections: number;
  rps?: number;
  durationMs: number;
  timeoutMs: number;
  method: string;
  body?: string;
  headers: Record<string, string>;
  signIn?: { email: string; password: string; signUp: boolean };
  json: boolean;
}

export class UsageError extends Error {}

export function parseLoadArgs(argv: string[], env: Record<string, string | undefined> = {}, readFile: (path: string) => string = () => ''): LoadArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        route: { type: 'string' },
        gateway: { type: 'string' },
        connections: { type: 'string', short: 'c' },
        rps: { type: 'string', short: 'r' },
        duration: { type: 'string', short: 'd' },
        method: { type: 'string', short: 'm' },
        body: { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        'sign-in': { type: 'string' },
        'sign-up': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (Boolean(values.url) === Boolean(values.route)) throw new UsageError('give exactly one of --url and --route');
  const gateway = stripSlash(values.gateway ?? env.GATEWAY_URL ?? 'http://127.0.0.1:8080');
  const target = values.url ? parseUrl(values.url, '--url') : parseUrl(gateway + (values.route!.startsWith('/') ? '' : '/') + values.route, '--route');
  parseUrl(gateway, '--gateway');
  const headers: Record<string, string> = {};
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header "${line}": expected "name: value"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = values.body;
  if (body?.startsWith('@')) body = readFile(body.slice(1));
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  if (values['sign-in'] && values['sign-up']) throw new UsageError('give one of --sign-in and --sign-up');
  const credentials = values['sign-in'] ?? values['sign-up'];
  let signIn: LoadArgs['signIn'];
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    if (colon <= 0 || colon === credentials.length - 1) throw new UsageError('--sign-in/--sign-up: expected email:password');
    signIn = { email: credentials.slice(0, colon), password: credentials.slice(colon + 1), signUp: Boolean(values['sign-up']) };
  }
  return {
    origin: target.origin,
    path: target.pathname + target.search,
    gateway,
    connections: positiveInt(values.connections ?? '16', '--connections'),
    rps: values.rps === undefined ? undefined : positiveNumber(values.rps, '--rps'),
    durationMs: parseDuration(values.duration ?? '10s', '--duration'),
    timeoutMs: parseDuration(values.timeout ?? '10s', '--timeout'),
    method: (values.method ?? 'GET').toUpperCase(),
    body,
    headers,
    signIn,
    json: Boolean(values.json),
  };
}

/** `10s`, `500ms`, `2m`, or a bare number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} "${text}": expected a duration like 10s, 500ms or 2m`);
  const value = Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm'];
  if (!(value > 0)) throw new UsageError(`${flag} must be more than 0`);
  return value;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`${flag} "${text}": expected a whole number from 1 to 100000`);
  return n;
}

function positiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!(n > 0) || n > 10_000_000) throw new UsageError(`${flag} "${text}": expected a number above 0`);
  return n;
}

function parseUrl(text: string, flag: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    return url;
  } catch {
    throw new UsageError(`${flag} "${text}": expected an http(s):// URL`);
  }
}

const stripSlash = (s: string) => s.replace(/\/+$/, '');
