/**
 * The chaos suite's Consul cluster: three servers and two client agents on loopback
 * (scripts/cluster.sh), beside the dev agent the other tests use.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT } from '../../support/processes.js';
import { ChaosStack } from './chaos-stack.js';

const run = promisify(execFile);

export type ClusterNode = 'server-1' | 'server-2' | 'server-3' | 'client-1' | 'client-2';

/** The HTTP address of a node, e.g. http://127.0.0.21:8500 for client-1. */
export function agentAddress(node: ClusterNode): string {
  const [role, n] = node.split('-') as ['server' | 'client', string];
  return `http://127.0.0.${role === 'server' ? 1 : 2}${n}:8500`;
}

async function cluster(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', ['scripts/cluster.sh', ...args], { cwd: REPO_ROOT, timeout: 120_000 });
  return stdout.trim();
}

/** Starts the nodes (all five by default) and waits for a leader and five live members. */
export const startCluster = (...nodes: ClusterNode[]) => cluster('start', ...nodes);
export const stopCluster = () => cluster('stop');
export const killNode = (node: ClusterNode) => cluster('kill', node);

/**
 * The leader as `server-N`, asked of the running servers themselves (undefined while they know
 * none). `except`: a server just killed, which the others still name for a while.
 */
export async function leader(except?: ClusterNode): Promise<ClusterNode | undefined> {
  for (const node of ['server-1', 'server-2', 'server-3'] as const) {
    if (node === except) continue;
    try {
      const response = await fetch(`${agentAddress(node)}/v1/status/leader`, { signal: AbortSignal.timeout(1_000) });
      const address = ((await response.json()) as string).split(':')[0];
      const found = /^127\.0\.0\.1([1-3])$/.exec(address ?? '');
      if (found && `server-${found[1]}` !== except) return `server-${found[1]}` as ClusterNode;
    } catch {
      // That server is down or has no opinion: ask the next.
    }
  }
  return undefined;
}

/**
 * For a cluster scenario's describe block: a fresh cluster (whatever an earlier run left), then
 * two of every service, instance 0 through client-1 (with the gateway) and instance 1 through
 * client-2; all of it gone again afterwards.
 */
export function clusterStack(): { chaos: ChaosStack; agents: [string, string] } {
  const agents: [string, string] = [agentAddress('client-1'), agentAddress('client-2')];
  const chaos = new ChaosStack({ counts: { auth: 2, social: 2, messenger: 2, rng: 2 }, agents, liveSockets: 2 });
  beforeAll(async () => {
    await stopCluster();
    await startCluster();
    await chaos.start();
  }, 240_000);
  afterAll(async () => {
    await chaos.teardown();
    await stopCluster();
  }, 120_000);
  return { chaos, agents };
}
