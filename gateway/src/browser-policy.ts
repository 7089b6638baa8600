/**
 * What browsers are told: security headers on every answer (helmet), and which other origins'
 * pages may call the API (CORS, an exact allow-list). Both middlewares are built once, at startup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import helmet from 'helmet';

/**
 * helmet's defaults (a same-origin CSP without inline scripts, nosniff, frame denial, no referrer
 * across origins...) suit both JSON answers and the docs page, which loads only its own files.
 * Two defaults would break a plain-HTTP deployment: `upgrade-insecure-requests` rewrites the docs
 * page's script URLs to https://, which this listener does not speak (TLS, when there is any,
 * ends at a proxy in front, which can add it).
 */
export function securityHeaders() {
  const policy = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // With static directives (no per-request nonce) every one of helmet's ~12 middlewares sets the
  // same headers on every answer: run them once, here, and replay what they did in one step.
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void set.push([name, value]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let finished = false;
  policy({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // A helmet whose middlewares read the request or answer later would not be replayable.
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
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
