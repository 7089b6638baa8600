import type { Router } from 'express';

/** A dependency check: resolves when the dependency is usable, rejects with the reason otherwise. */
export type Probe = () => Promise<unknown>;

export interface HealthState {
  /** Set once shutdown begins: readiness turns 503 so Consul's check agrees with the deregistration. */
  draining: boolean;
}

const PROBE_TIMEOUT_MS = 800; // below Consul's 1 s check timeout, so a slow DB reads as "not ready", not "no answer"

export async function runProbes(probes: Record<string, Probe>): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        await withTimeout(probe(), PROBE_TIMEOUT_MS, `${name} probe timed out after ${PROBE_TIMEOUT_MS} ms`);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, `failing: ${(error as Error).message}`] as const;
      }
    }),
  );
  return { ok: entries.every(([, result]) => result === 'ok'), checks: Object.fromEntries(entries) };
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
    const { ok, checks } = await runProbes(probes);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', id: serviceId(), checks });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
