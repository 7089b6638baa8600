/**
 * A closed-loop burst: `total` GETs of one path as one user, `concurrency` at a time, as fast as
 * they are answered. For probing a limit (how many are admitted before 429), not for measuring
 * latency (that is MixedLoad's open loop).
 */
import { Agent, fetch } from 'undici';

export interface BurstResult {
  total: number;
  /** Answers by HTTP status (0: no answer). */
  statuses: Record<number, number>;
  elapsedMs: number;
}

export async function burst(gateway: string, path: string, token: string, total: number, concurrency: number): Promise<BurstResult> {
  const agent = new Agent({ connections: concurrency });
  const statuses: Record<number, number> = {};
  const started = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      let status = 0;
      try {
        const response = await fetch(`${gateway}${path}`, {
          headers: { authorization: `Bearer ${token}` },
          dispatcher: agent,
          signal: AbortSignal.timeout(5_000),
        });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close();
  }
  return { total, statuses, elapsedMs: Date.now() - started };
}
