/**
 * When to try again after a connection ended: exponential backoff with jitter, so the clients of
 * an instance that went away (1012 on a scale-down, or its crash) do not all knock on the gateway
 * in the same millisecond, and a client facing an outage does not hammer it.
 */
export interface ReconnectBackoff {
  /** The first retry's ceiling (default 100 ms: a scale-down's clients come back at once). */
  initialMs: number;
  /** The ceiling of any wait (default 10 s). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: ReconnectBackoff = { initialMs: 100, maxMs: 10_000 };

/**
 * The wait before attempt `attempt` (0: the first retry after a connection that had worked):
 * a random point in the upper half of min(maxMs, initialMs·2^attempt) ("equal jitter": never 0,
 * never more than the ceiling). Pure: `random` is Math.random in use, fixed in tests.
 */
export function reconnectDelay(attempt: number, backoff: ReconnectBackoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
