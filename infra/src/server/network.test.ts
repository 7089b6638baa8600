import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { advertiseAddress, firstExternalIPv4, localAddressToward } from './network.js';

function ipv4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` };
}

/** This host's non-internal IPv4 addresses (empty on a host with loopback only). */
const external = Object.values(networkInterfaces())
  .flat()
  .filter((a): a is NetworkInterfaceInfo => a !== undefined && a.family === 'IPv4' && !a.internal)
  .map((a) => a.address);

describe('advertiseAddress', () => {
  it('returns a configured address as is', async () => {
    expect(await advertiseAddress('10.1.2.3', 'http://consul:8500')).toBe('10.1.2.3');
  });

  it('uses loopback when Consul is on loopback', async () => {
    expect(await advertiseAddress('auto', 'http://127.0.0.1:8500')).toBe('127.0.0.1');
    expect(await advertiseAddress('auto', 'http://localhost:8500')).toBe('127.0.0.1');
  });

  // 127.0.0.2 is not one of the loopback names above: the old rule answered the first external
  // IPv4 (unreachable from an agent that lives on loopback); the route says 127.0.0.1.
  it('takes the local address of the route to the agent, not the first interface', async () => {
    expect(await advertiseAddress('auto', 'http://127.0.0.2:8500')).toBe('127.0.0.1');
  });

  it.runIf(external.length > 0)('picks the interface whose address reaches the agent', async () => {
    for (const address of external) {
      expect(await advertiseAddress('auto', `http://${address}:8500`)).toBe(address);
    }
  });

  it('falls back to the first non-internal IPv4 when the agent cannot be resolved', async () => {
    const interfaces = { lo: [ipv4('127.0.0.1', true)], docker0: [ipv4('172.17.0.1')], eth0: [ipv4('10.0.0.5')] };
    expect(await advertiseAddress('auto', 'http://consul.invalid:8500', { interfaces })).toBe('172.17.0.1');
    expect(await advertiseAddress('auto', 'http://consul.invalid:8500', { interfaces: { lo: [ipv4('127.0.0.1', true)] } })).toBe(
      '127.0.0.1',
    );
  });
});

describe('localAddressToward', () => {
  it('needs nothing listening: no packet is sent', async () => {
    expect(await localAddressToward('127.0.0.1', 9)).toBe('127.0.0.1');
  });

  it('fails on a name that does not resolve', async () => {
    await expect(localAddressToward('consul.invalid', 8500)).rejects.toThrow();
  });
});

describe('firstExternalIPv4', () => {
  it('skips internal and IPv6 addresses', () => {
    const v6: NetworkInterfaceInfo = { address: 'fe80::1', netmask: 'ffff::', family: 'IPv6', mac: '', internal: false, cidr: null, scopeid: 1 };
    expect(firstExternalIPv4({ lo: [ipv4('127.0.0.1', true)], eth0: [v6, ipv4('10.0.0.5')] })).toBe('10.0.0.5');
    expect(firstExternalIPv4({})).toBeUndefined();
  });
});
