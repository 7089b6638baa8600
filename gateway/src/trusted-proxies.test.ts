import type { IncomingMessage } from 'node:http';
import { ConfigError, loadConfig } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { clientAddresses, trustedProxies, trustedProxiesSetting } from './trusted-proxies.js';

const from = (remoteAddress: string | undefined) => ({ socket: { remoteAddress } }) as IncomingMessage;
const gatewayConfig = (env: Record<string, string>) => loadConfig({ TRUSTED_PROXIES: trustedProxiesSetting }, env);

describe('TRUSTED_PROXIES', () => {
  it('is empty by default: nobody is trusted, loopback included', () => {
    const { TRUSTED_PROXIES } = gatewayConfig({});
    expect(TRUSTED_PROXIES).toEqual([]);
    expect(gatewayConfig({ TRUSTED_PROXIES: '' }).TRUSTED_PROXIES).toEqual([]);
    const trusted = trustedProxies(TRUSTED_PROXIES);
    for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', undefined]) expect(trusted(from(peer))).toBe(false);
  });

  it('takes comma-separated addresses, CIDR ranges and proxy-addr names', () => {
    const { TRUSTED_PROXIES } = gatewayConfig({ TRUSTED_PROXIES: ' 10.1.2.3 , 192.168.0.0/16,fd00::/8, loopback,' });
    expect(TRUSTED_PROXIES).toEqual(['10.1.2.3', '192.168.0.0/16', 'fd00::/8', 'loopback']);
    const trusted = trustedProxies(TRUSTED_PROXIES);
    expect(trusted(from('10.1.2.3'))).toBe(true);
    expect(trusted(from('10.1.2.4'))).toBe(false);
    expect(trusted(from('192.168.40.7'))).toBe(true);
    expect(trusted(from('fd12::1'))).toBe(true);
    expect(trusted(from('::1'))).toBe(true);
    expect(trusted(from('127.0.0.1'))).toBe(true);
    expect(trusted(from('8.8.8.8'))).toBe(false);
    expect(trusted(from(undefined))).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 peer (a dual-stack listener) against an IPv4 entry', () => {
    const trusted = trustedProxies(gatewayConfig({ TRUSTED_PROXIES: '127.0.0.1' }).TRUSTED_PROXIES);
    expect(trusted(from('::ffff:127.0.0.1'))).toBe(true);
    expect(trusted(from('::ffff:127.0.0.2'))).toBe(false);
    expect(trusted(from('::1'))).toBe(false);
  });

  it.each(['proxy.internal', '10.0.0.0/33', '1.2.3', '256.1.1.1', '10.0.0.1/'])('refuses %j with one line naming it', (entry) => {
    const load = () => gatewayConfig({ TRUSTED_PROXIES: `10.0.0.1,${entry}` });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address, a CIDR range or one of loopback`);
    expect(load).toThrow(/^invalid configuration: [^\n]*$/);
  });
});

describe('the client address a request counts against (rate limits)', () => {
  const request = (remoteAddress: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress }, connection: { remoteAddress }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;

  it('is the socket peer when nobody is trusted, whatever X-Forwarded-For claims', () => {
    const addressOf = clientAddresses([]);
    expect(addressOf(request('203.0.113.9', '10.0.0.1'))).toBe('203.0.113.9');
    expect(addressOf(request('::ffff:203.0.113.9'))).toBe('203.0.113.9');
  });

  it('is the nearest untrusted address of the chain behind a trusted proxy, never what the client prepended', () => {
    const addressOf = clientAddresses(['10.0.0.0/8']);
    expect(addressOf(request('10.0.0.2', '203.0.113.9'))).toBe('203.0.113.9');
    // The client wrote "1.2.3.4" itself; our proxy appended the address it saw.
    expect(addressOf(request('10.0.0.2', '1.2.3.4, 203.0.113.9'))).toBe('203.0.113.9');
    expect(addressOf(request('10.0.0.2', '1.2.3.4, 203.0.113.9, 10.0.0.3'))).toBe('203.0.113.9');
    // An untrusted peer's header is ignored.
    expect(addressOf(request('198.51.100.1', '203.0.113.9'))).toBe('198.51.100.1');
  });
});
