export const CONSUL = process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500';

export interface HealthEntry {
  Service: { ID: string; Service: string; Address: string; Port: number; Meta: Record<string, string>; Tags: string[] };
  Checks: Array<{ Status: string; ServiceID: string }>;
}

/** Instances of `service` as Consul reports them (`passing` only by default). */
export async function healthOf(service: string, passing = true, consul = CONSUL): Promise<HealthEntry[]> {
  const response = await fetch(`${consul}/v1/health/service/${encodeURIComponent(service)}${passing ? '?passing' : ''}`);
  if (!response.ok) throw new Error(`consul answered ${response.status}`);
  return (await response.json()) as HealthEntry[];
}

/** `consul`: the agent to ask (another than the local dev agent: the chaos suite's cluster). */
export async function passingIds(service: string, consul = CONSUL): Promise<string[]> {
  return (await healthOf(service, true, consul)).map((e) => e.Service.ID).sort();
}

/** Every service id registered with the local agent, whatever its health. */
export async function agentServiceIds(): Promise<string[]> {
  const response = await fetch(`${CONSUL}/v1/agent/services`);
  return Object.keys((await response.json()) as Record<string, unknown>);
}

/**
 * Consul's maintenance mode for one service instance: while on, the instance's checks are
 * critical, so it leaves every watcher's passing list, without stopping the process (benchmarks
 * toggle it to compare instance counts side by side in one run).
 */
export async function setMaintenance(serviceId: string, enabled: boolean): Promise<void> {
  const reason = enabled ? '&reason=benchmark' : '';
  const response = await fetch(`${CONSUL}/v1/agent/service/maintenance/${encodeURIComponent(serviceId)}?enable=${enabled}${reason}`, {
    method: 'PUT',
  });
  if (!response.ok) throw new Error(`maintenance ${enabled} for ${serviceId}: Consul answered ${response.status}`);
}
