import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The address other instances reach us at. "auto":
 * - loopback when Consul itself is on loopback (everything runs on one host, `make dev`);
 * - else the local address of our route to the Consul agent: the interface the agent (and so,
 *   normally, the other instances) reach us through. Interface order is no guide on a host with
 *   docker0, a VPN or several networks: the first non-internal IPv4 may be unreachable to peers;
 * - if no route can be found (agent name does not resolve yet), the first non-internal IPv4.
 */
export async function advertiseAddress(
  configured: string,
  consulHttpAddr: string,
  options: { timeoutMs?: number; interfaces?: Interfaces } = {},
): Promise<string> {
  if (configured !== 'auto') return configured;
  const consul = new URL(consulHttpAddr);
  if (LOOPBACK_HOSTS.has(consul.hostname)) return '127.0.0.1';
  const port = Number(consul.port || (consul.protocol === 'https:' ? 443 : 80));
  const routed = await localAddressToward(consul.hostname, port, options.timeoutMs ?? 2_000).catch(() => undefined);
  return routed ?? firstExternalIPv4(options.interfaces ?? networkInterfaces()) ?? '127.0.0.1';
}

/**
 * The local address the kernel picks to reach `host:port`. Connecting a UDP socket only selects
 * the route: no packet is sent, so nothing needs to listen there.
 */
export async function localAddressToward(host: string, port: number, timeoutMs = 2_000): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no route to ${host} found within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([routeSource(bare, port), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function routeSource(host: string, port: number): Promise<string> {
  const target = await lookup(host);
  const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, target.address, () => resolve());
    });
    return socket.address().address;
  } finally {
    try {
      socket.close();
    } catch {
      // Already closed after a failed connect.
    }
  }
}

/** The previous rule, kept as the fallback: the first non-internal IPv4 in interface order. */
export function firstExternalIPv4(interfaces: Interfaces): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}

/** `<name>-<host>-<port>`: unique per instance, readable in the Consul UI and in `x-served-by`. */
export function serviceIdFor(name: string, port: number, host = hostname()): string {
  return `${name}-${host.replace(/[^A-Za-z0-9.-]/g, '-')}-${port}`;
}
