import { EventEmitter } from 'node:events';
import type { ConsulClient } from './client.js';
import type { HealthEntry } from './health-entry.js';

export interface HealthRequest {
  service: string;
  /** The blocking index to wait on; 0 asks for a plain read. */
  index: number;
  /** Longest Consul may hold the query before answering anyway. */
  waitMs: number;
  /** Aborting cancels the request (the promise then rejects). */
  signal: AbortSignal;
}

export interface HealthAnswer {
  /** The raw `X-Consul-Index` header (blocking-index.ts judges it). */
  index: string | undefined;
  entries: HealthEntry[];
  /** Set when the answer may be missing instances our ACL token may not read, with the reason. */
  aclNote?: string;
}

/**
 * One step of a watcher: a blocking query for the passing instances of one service. The Watcher
 * takes this as a seam; tests drive its loop with a scripted one.
 */
export type HealthQuery = (request: HealthRequest) => Promise<HealthAnswer>;

/** The HealthQuery for a real agent: `GET /v1/health/service/<name>?passing&index=&wait=`. */
export function consulHealthQuery(consul: ConsulClient): HealthQuery {
  return async ({ service, index, waitMs, signal }) => {
    signal.throwIfAborted();
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [response, body] = (await consul.health.service({
        service,
        passing: true,
        index: String(index),
        wait: `${waitMs}ms`,
        // Consul may hold the query up to wait + wait/16; anything far beyond that is a dead link.
        timeout: Math.ceil(waitMs * 1.1) + 5_000,
        ctx,
      } as never)) as unknown as [{ headers: Record<string, string | undefined> }, HealthEntry[] | undefined];
      const entries = body ?? [];
      return { index: response.headers['x-consul-index'], entries, aclNote: aclNote(response.headers, entries, consul.hasToken) };
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}

/**
 * Consul filters what a token may not read instead of refusing the query, so a token without
 * `service:read` sees an empty list, silently. Newer agents say so in a header; older ones only
 * tell that ACLs deny by default, which with no token at all is just as telling.
 */
function aclNote(headers: Record<string, string | undefined>, entries: HealthEntry[], hasToken: boolean): string | undefined {
  if (headers['x-consul-results-filtered-by-acls'] === 'true') {
    return 'consul hid instances our ACL token may not read (it lacks service:read on them or node:read on their nodes)';
  }
  if (!hasToken && entries.length === 0 && headers['x-consul-default-acl-policy'] === 'deny') {
    return 'consul enforces ACLs (default deny) and CONSUL_HTTP_TOKEN is unset: the anonymous token may not see any instance';
  }
  return undefined;
}
