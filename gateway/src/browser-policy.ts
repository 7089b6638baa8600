/**
 * What browsers are told: security headers on every answer, and which other origins' pages may
 * call the API (CORS, an exact allow-list). The policies are built once, at startup.
 *
 * Two policies, by what an answer is. Almost every answer is data (JSON, an event stream): it is
 * never rendered as a page, so it needs only what keeps a browser from treating it as one (no
 * sniffing, a CSP that lets it load and run nothing, no framing) and from handing it to another
 * origin's page (CORP). The docs page and its files are a document: they get helmet's full set
 * (COOP, referrer policy, a same-origin CSP for its scripts...). helmet's set on every JSON answer
 * was 12 headers and ~600 bytes per response that no browser acts on for data, and a fifth of the
 * gateway's instructions per request (BENCHMARKS.md, "Gateway hop").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import helmet from 'helmet';

type HeaderStep = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * The data policy (OWASP's REST Security Cheat Sheet, "Security Headers"): stricter than helmet's
 * document CSP for what it covers (`default-src 'none'`: an answer opened as a page loads and runs
 * nothing; no framing at all), with HSTS and CORP as helmet sends them. Names lower-case: node's
 * setHeader lower-cases every name, and a capitalised one costs a new string per request.
 */
const DATA_POLICY: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['cross-origin-resource-policy', 'same-origin'],
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
];

/** The data policy as name, value pairs, for a header block written in one `res.writeHead` (proxy.ts). */
export const DATA_POLICY_PAIRS: readonly string[] = DATA_POLICY.flat();

/** The headers of every answer that is data: the route table's, the OpenAPI document, errors. */
export function dataSecurityHeaders(): HeaderStep {
  return (_req, res, next) => {
    // Indexed, not `for (const [name, value] of ...)`: the iterator and its result objects were
    // 3 % of the bytes the gateway allocates per proxied request (a sampling heap profile).
    for (let i = 0; i < DATA_POLICY.length; i++) res.setHeader(DATA_POLICY[i]![0], DATA_POLICY[i]![1]);
    next();
  };
}

/**
 * The document policy, helmet's defaults (a same-origin CSP without inline scripts, nosniff, frame
 * denial, no referrer across origins...): they suit the docs page, which loads only its own files.
 * Two defaults would break a plain-HTTP deployment: `upgrade-insecure-requests` rewrites the docs
 * page's script URLs to https://, which this listener does not speak (TLS, when there is any,
 * ends at a proxy in front, which can add it).
 */
export function documentSecurityHeaders(): HeaderStep {
  const policy = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // With static directives (no per-request nonce) every one of helmet's ~12 middlewares sets the
  // same headers on every answer: run them once, here, and replay what they did in one step.
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    // Lower-cased once here (header names are case-insensitive; HTTP/2 sends them so): node's
    // setHeader lower-cases every name it is given, and a capitalised one then costs a new string
    // and a string-table lookup per header per request.
    setHeader: (name: string, value: string) => void set.push([name.toLowerCase(), value]),
    removeHeader: (name: string) => void removed.push(name.toLowerCase()),
  };
  let finished = false;
  policy({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // A helmet whose middlewares read the request or answer later would not be replayable.
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}

/**
 * CORS for the configured origins only; undefined when the list is empty (the default), so
 * answers carry no CORS header at all and browsers keep pages of other origins out. Bearer tokens
 * travel in a header, never a cookie, so credentials are not allowed. The identity and rate-limit
 * headers are exposed to the calling page.
 */
export function corsPolicy(origins: readonly string[]) {
  if (origins.length === 0) return undefined;
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-served-by', 'x-gateway', 'x-request-id', 'retry-after'],
    credentials: false,
    // Browsers cap this (Chromium at 2 h); 10 minutes spares a preflight per call without pinning a stale policy.
    maxAge: 600,
  });
}
