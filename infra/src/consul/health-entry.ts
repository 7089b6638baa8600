import type { Instance } from '../sd/instance.js';

/** One entry of Consul's `/v1/health/service/<name>` answer, as far as discovery reads it. */
export interface HealthEntry {
  Node?: { Node?: string; Address?: string };
  Service: { ID: string; Service: string; Address?: string; Port: number; Tags?: string[] | null; Meta?: Record<string, string> | null };
}

export function toInstance(entry: HealthEntry): Instance {
  const service = entry.Service;
  return {
    id: service.ID,
    service: service.Service,
    // An empty service address means "the node's address" in Consul's model.
    address: service.Address || entry.Node?.Address || '127.0.0.1',
    port: service.Port,
    tags: service.Tags ?? [],
    meta: service.Meta ?? {},
  };
}
