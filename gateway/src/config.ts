import { z } from '@switchyard/infra';
import { listSetting } from './list-setting.js';
import { trustedProxiesSetting } from './trusted-proxies.js';

/** A per-minute allowance; 0 turns that limit off (benchmarks measuring the hop, a trusted caller). */
const perMinute = (fallback: number) => z.coerce.number().int().min(0).max(1_000_000).default(fallback);

/**
 * CORS_ORIGINS: the browser origins allowed to call the API (`https://app.example.com,
 * http://localhost:5173`), exact matches only. Empty, the default: no CORS headers at all, so
 * only same-origin pages (the docs) and non-browser clients use the API. An entry that is not a
 * bare origin (a path, a trailing slash, a wildcard) is a config error naming it.
 */
export const corsOriginsSetting = listSetting(isBareOrigin, 'an origin like https://app.example.com');

/** The gateway's own variables, beside the platform's (PORT, CONSUL_HTTP_ADDR, REDIS_URL...). */
export const gatewayConfigShape = {
  TRUSTED_PROXIES: trustedProxiesSetting,
  CORS_ORIGINS: corsOriginsSetting,
  /**
   * Requests per minute from one client address (the socket peer, or the client a trusted proxy
   * names in X-Forwarded-For), counted across every gateway instance in Redis. Generous: a page
   * of the app makes several calls, and people share addresses behind NAT.
   */
  RATE_LIMIT_PER_MINUTE: perMinute(6_000),
  /** Requests per minute from one signed-in user, whatever address they come from. */
  RATE_LIMIT_USER_PER_MINUTE: perMinute(3_000),
  /**
   * A relayed WebSocket where no byte moved either way for this long is cut on both hops. The
   * services ping every 15 s (WS_HEARTBEAT_MS), so the default is four missed heartbeats.
   */
  GATEWAY_TUNNEL_IDLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /**
   * A relayed answer whose client makes no progress for this long (its socket full, the upstream
   * paused behind it, not one write to it completing) is cut and the upstream connection freed:
   * otherwise a client that stops reading holds one of an instance's pooled connections for as
   * long as it likes. 0: no limit.
   */
  GATEWAY_RELAY_STALL_MS: z.coerce
    .number()
    .int()
    .max(3_600_000)
    .refine((ms) => ms === 0 || ms >= 100, 'must be 0 (no limit) or at least 100')
    .default(60_000),
};

function isBareOrigin(entry: string): boolean {
  // WHATWG URL takes `*` as a host character; an allow-list of exact origins must not.
  if (entry.includes('*')) return false;
  try {
    return new URL(entry).origin === entry;
  } catch {
    return false;
  }
}
