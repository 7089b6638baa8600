import type { Router } from 'express';

/** A dependency check: resolves when the dependency is usable, rejects with the reason otherwise. */
export type Probe = () => Promise<unknown>;

/** The probes whose failure only degrades the service (see ServiceParts.degradedWithout). */
const degrading = new WeakSet<Probe>();

/**
 * Marks the probes named `names` (of `probes`) as degrading only: they still run and show in
 * /health/ready's checks, but their failure leaves the instance ready. Throws on an unknown name,
 * so a typo cannot silently keep a store in the readiness decision.
 */
export function markDegrading(probes: Record<string, Probe>, names: readonly string[] = []): void {
  for (const name of names) {
    const probe = probes[name];
    if (!probe) throw new Error(`degradedWithout: no readiness probe named '${name}' (known: ${Object.keys(probes).join(', ') || 'none'})`);
    degrading.add(probe);
  }
}

export interface HealthState {
  /** Set once shutdown begins: readiness turns 503 so Consul's check agrees with the deregistration. */
  draining: boolean;
}

const PROBE_TIMEOUT_MS = 800; // below Consul's 1 s check timeout, so a slow DB reads as "not ready", not "no answer"

/**
 * Runs every probe. `ok`: none failed but those marked degrading (markDegrading); `degraded`: one
 * of those failed. Each check reads `ok`, `failing: <why>` or, for a degrading one, `degraded: <why>`.
 */
export async function runProbes(probes: Record<string, Probe>): Promise<{ ok: boolean; degraded: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        await withTimeout(probe(), PROBE_TIMEOUT_MS, `${name} probe timed out after ${PROBE_TIMEOUT_MS} ms`);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, `${degrading.has(probe) ? 'degraded' : 'failing'}: ${(error as Error).message}`] as const;
      }
    }),
  );
  return {
    ok: entries.every(([, result]) => !result.startsWith('failing')),
    degraded: entries.some(([, result]) => result.startsWith('degraded')),
    checks: Object.fromEntries(entries),
  };
}

export function mountHealthRoutes(router: Router, probes: Record<string, Probe>, state: HealthState, serviceId: () => string) {
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok', id: serviceId() });
  });
  router.get('/health/ready', async (_req, res) => {
    if (state.draining) {
      res.status(503).json({ status: 'draining', id: serviceId(), checks: {} });
      return;
    }
    const { ok, degraded, checks } = await runProbes(probes);
    res.status(ok ? 200 : 503).json({ status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable', id: serviceId(), checks });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
