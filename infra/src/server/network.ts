import { hostname, networkInterfaces } from 'node:os';

/**
 * The address other instances reach us at. "auto": loopback when Consul itself is on loopback
 * (everything runs on one host, `make dev`), else this host's first non-internal IPv4 (a
 * container's address on the compose network).
 */
export function advertiseAddress(configured: string, consulHttpAddr: string): string {
  if (configured !== 'auto') return configured;
  const consulHost = new URL(consulHttpAddr).hostname;
  if (consulHost === '127.0.0.1' || consulHost === 'localhost' || consulHost === '[::1]') return '127.0.0.1';
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

/** `<name>-<host>-<port>`: unique per instance, readable in the Consul UI and in `x-served-by`. */
export function serviceIdFor(name: string, port: number, host = hostname()): string {
  return `${name}-${host.replace(/[^A-Za-z0-9.-]/g, '-')}-${port}`;
}
