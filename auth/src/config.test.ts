import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address.js';
import { authConfig } from './config.js';

const key = randomBytes(32).toString('base64');

describe('auth configuration', () => {
  it('requires AUTH_KEY_ENCRYPTION_KEY: base64 of 32 bytes, one line naming it, never echoing it', () => {
    expect(loadConfig(authConfig, { AUTH_KEY_ENCRYPTION_KEY: key }).AUTH_KEY_ENCRYPTION_KEY).toHaveLength(32);
    expect(() => loadConfig(authConfig, {})).toThrow(/^invalid configuration: AUTH_KEY_ENCRYPTION_KEY: required: base64 of 32 random bytes.*\(missing\)$/);
    const short = randomBytes(16).toString('base64');
    const error = (() => {
      try {
        loadConfig(authConfig, { AUTH_KEY_ENCRYPTION_KEY: short });
      } catch (caught) {
        return (caught as Error).message;
      }
    })();
    expect(error).toMatch(/AUTH_KEY_ENCRYPTION_KEY: must be base64 of exactly 32 bytes \(decodes to 16\)/);
    expect(error).not.toContain(short);
    expect(error).not.toContain('\n');
  });

  it('refuses a malformed TRUSTED_PROXIES entry', () => {
    expect(() => loadConfig(authConfig, { AUTH_KEY_ENCRYPTION_KEY: key, TRUSTED_PROXIES: 'loopback,not-an-address' })).toThrow(/TRUSTED_PROXIES/);
  });
});

describe('clientAddress', () => {
  const request = (peer: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;
  const { TRUSTED_PROXIES } = loadConfig(authConfig, { AUTH_KEY_ENCRYPTION_KEY: key });

  it('believes X-Forwarded-For from the gateway on the internal network (loopback, private addresses)', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.7'), TRUSTED_PROXIES)).toBe('203.0.113.7');
    expect(clientAddress(request('10.1.2.3', '203.0.113.7'), TRUSTED_PROXIES)).toBe('203.0.113.7');
    // A client's own entries come first; the gateway appends the address it saw: that one counts.
    expect(clientAddress(request('10.1.2.3', '1.1.1.1, 203.0.113.7'), TRUSTED_PROXIES)).toBe('203.0.113.7');
  });

  it('ignores it from anyone else', () => {
    expect(clientAddress(request('198.51.100.9', '203.0.113.7'), TRUSTED_PROXIES)).toBe('198.51.100.9');
    const nobody = loadConfig(authConfig, { AUTH_KEY_ENCRYPTION_KEY: key, TRUSTED_PROXIES: 'none' }).TRUSTED_PROXIES;
    expect(clientAddress(request('127.0.0.1', '203.0.113.7'), nobody)).toBe('127.0.0.1');
  });
});
