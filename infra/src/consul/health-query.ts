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
  /**
   * Stale reads of the blocking-query backend only (the streaming backend's answers carry no such
   * evidence): milliseconds since the answering server last heard from the leader
   * (`X-Consul-LastContact`), and whether it knows one (`X-Consul-KnownLeader`).
   */
  lastContactMs?: number;
  knownLeader?: boolean;
}

/**
 * One step of a watcher: a blocking query for the passing instances of one service. The Watcher
 * takes this as a seam; tests drive its loop with a scripted one.
 */
export type HealthQuery = (request: HealthRequest) => Promise<HealthAnswer>;

/**
 * The HealthQuery for a real agent: `GET /v1/health/service/<name>?passing&stale&index=&wait=`.
 *
 * `stale` (the default): any Consul server answers from its own copy of the catalog, not only the
 * leader. That is Consul's own advice for discovery at scale, and it is what keeps discovery
 * alive through a leader election: with default consistency every read fails until a new leader
 * is elected (~15 s with default Raft timing, measured here), while a follower's copy lags the
 * leader by milliseconds in normal operation and by at most the election when there is none. The
 * answer says how stale it is (lastContactMs); the watcher logs when it grows.
 */
export function consulHealthQuery(consul: ConsulClient, options: { stale?: boolean } = {}): HealthQuery {
  const stale = options.stale ?? true;
  return async ({ service, index, waitMs, signal }) => {
    signal.throwIfAborted();
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [response, body] = (await consul.health.service({
        service,
        passing: true,
        stale,
        index: String(index),
        wait: `${waitMs}ms`,
        // Consul may hold the query up to wait + wait/16; anything far beyond that is a dead link.
        timeout: Math.ceil(waitMs * 1.1) + 5_000,
        ctx,
      } as never)) as unknown as [{ headers: Record<string, string | undefined> }, HealthEntry[] | undefined];
      const entries = body ?? [];
      const headers = response.headers;
      // Answers of the streaming backend (agents serve blocking health queries from a server's
      // event stream) always say KnownLeader false and LastContact 0: no evidence either way.
      const judged = headers['x-consul-query-backend'] !== 'streaming';
      const lastContact = Number(headers['x-consul-lastcontact']);
      return {
        index: headers['x-consul-index'],
        entries,
        aclNote: aclNote(headers, entries, consul.hasToken),
        ...(judged && Number.isFinite(lastContact) && headers['x-consul-lastcontact'] !== undefined && { lastContactMs: lastContact }),
        ...(judged && headers['x-consul-knownleader'] !== undefined && { knownLeader: headers['x-consul-knownleader'] === 'true' }),
      };
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
