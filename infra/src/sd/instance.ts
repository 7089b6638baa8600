/** One passing instance of a service, as the watcher learned it from Consul. */
export interface Instance {
  /** Consul service id, unique across the cluster: `<name>-<host>-<port>`. */
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
}

export function instanceOrigin(instance: Pick<Instance, 'address' | 'port'>): string {
  const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
  return `http://${host}:${instance.port}`;
}
