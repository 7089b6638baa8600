/**
 * Sends the load over one undici keep-alive Pool (at most `connections` sockets) and feeds every
 * outcome to a Tally. Open loop (`rps` set): request i is due at i / rps s and its latency runs
 * from that due time, so queueing in the pool, the network or the server all count. Closed loop
 * (no `rps`): `connections` callers each send their next request when the last one answered,
 * which measures the most the target sustains, at the price of hiding queueing from latency.
 */
import { Pool } from 'undici';
import { dueAtMs, sleepUntilDueMs, totalRequests } from './schedule.js';
import { failureReason, Tally } from './summary.js';

export interface LoadPlan {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  /** Requests per second offered (open loop); undefined for a closed loop. */
  rps?: number;
  durationMs: number;
  /** A request without its full answer after this long fails as `timeout`. */
  timeoutMs: number;
  /**
   * Open loop: requests waiting beyond this are not sent but counted (`notSent`), so a target
   * that stops answering cannot make the generator hold millions of pending requests.
   */
  maxInFlight: number;
}

export interface LoadRun {
  elapsedMs: number;
  notSent: number;
}

export async function runLoad(plan: LoadPlan, tally: Tally): Promise<LoadRun> {
  const pool = new Pool(plan.origin, {
    connections: plan.connections,
    headersTimeout: plan.timeoutMs,
    bodyTimeout: plan.timeoutMs,
    connect: { timeout: plan.timeoutMs },
    keepAliveTimeout: 30_000,
  });
  try {
    await warmUp(pool, plan);
    return plan.rps ? await openLoop(pool, plan, plan.rps, tally) : await closedLoop(pool, plan, tally);
  } finally {
    await pool.close().catch(() => pool.destroy());
  }
}

/**
 * Opens the connections (one request each, not counted) before the clock starts: otherwise the
 * first requests of an open loop pay the TCP handshakes and this process's own JIT warm-up, and
 * the run's p99 reports the load generator rather than the target. Failures are left to the run.
 */
async function warmUp(pool: Pool, plan: LoadPlan): Promise<void> {
  const scratch = new Tally();
  await Promise.all(Array.from({ length: plan.connections }, () => send(pool, plan, scratch, performance.now())));
}

/** One request; resolves (never rejects) once its outcome is in the tally. */
async function send(pool: Pool, plan: LoadPlan, tally: Tally, startedAt: number): Promise<void> {
  try {
    const answer = await pool.request({ path: plan.path, method: plan.method as 'GET', headers: plan.headers, body: plan.body });
    const servedBy = answer.headers['x-served-by'];
    // The whole body is part of the answer: latency ends when the last byte arrived.
    await answer.body.dump({ limit: Number.POSITIVE_INFINITY });
    tally.add({ kind: 'answer', status: answer.statusCode, servedBy: Array.isArray(servedBy) ? servedBy[0] : servedBy, latencyMs: performance.now() - startedAt });
  } catch (error) {
    tally.add({ kind: 'failure', reason: failureReason(error), latencyMs: performance.now() - startedAt });
  }
}

async function openLoop(pool: Pool, plan: LoadPlan, rps: number, tally: Tally): Promise<LoadRun> {
  const total = totalRequests(rps, plan.durationMs);
  const pending = new Set<Promise<void>>();
  let notSent = 0;
  const start = performance.now();
  let next = 0;
  while (next < total) {
    const elapsed = performance.now() - start;
    // Every request already due leaves now, each timed from its own due time.
    for (; next < total && dueAtMs(next, rps) <= elapsed; next++) {
      if (pending.size >= plan.maxInFlight) {
        notSent += 1;
        continue;
      }
      const call = send(pool, plan, tally, start + dueAtMs(next, rps));
      pending.add(call);
      void call.then(() => pending.delete(call));
    }
    if (next < total) await sleep(sleepUntilDueMs(next, rps, performance.now() - start));
  }
  await Promise.all(pending);
  return { elapsedMs: Math.max(performance.now() - start, plan.durationMs), notSent };
}

async function closedLoop(pool: Pool, plan: LoadPlan, tally: Tally): Promise<LoadRun> {
  const start = performance.now();
  const deadline = start + plan.durationMs;
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      while (performance.now() < deadline) await send(pool, plan, tally, performance.now());
    }),
  );
  return { elapsedMs: performance.now() - start, notSent: 0 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
