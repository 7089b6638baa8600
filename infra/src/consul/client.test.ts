import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { consulConnection, createConsulClient } from './client.js';

/** The base URL the underlying papi client sends every call to. */
function baseUrlOf(client: object): string {
  const { protocol, hostname, port, path } = (client as { _opts: { baseUrl: Record<string, string> } })._opts.baseUrl;
  return `${protocol}//${hostname}:${port}${path}`;
}

describe('createConsulClient', () => {
  it('talks plain HTTP to a plain address, and takes a bare host:port', () => {
    expect(createConsulClient({ addr: 'http://127.0.0.1:8500' }).address).toBe('http://127.0.0.1:8500');
    expect(createConsulClient({ addr: 'consul:8500' }).address).toBe('http://consul:8500');
    expect(baseUrlOf(createConsulClient({ addr: 'consul:8500' }))).toMatch(/^http:\/\/consul:8500\/v1/);
  });

  it('uses HTTPS for an https:// address, and for any address when CONSUL_HTTP_SSL is true (as Consul does)', () => {
    expect(createConsulClient({ addr: 'https://consul.internal:8501' }).address).toBe('https://consul.internal:8501');
    const fromConfig = createConsulClient(consulConnection(loadConfig({}, { CONSUL_HTTP_ADDR: 'consul:8501', CONSUL_HTTP_SSL: 'true' })));
    expect(fromConfig.address).toBe('https://consul:8501');
    expect(baseUrlOf(fromConfig)).toMatch(/^https:\/\/consul:8501\/v1/);
    // Never back to http when TLS was asked for, even if the address says http://.
    expect(createConsulClient({ addr: 'http://127.0.0.1:8501', ssl: true }).address).toBe('https://127.0.0.1:8501');
  });

  it('knows whether a token is configured (to explain ACL refusals)', () => {
    expect(createConsulClient({ addr: 'http://127.0.0.1:8500' }).hasToken).toBe(false);
    expect(createConsulClient(consulConnection(loadConfig({}, { CONSUL_HTTP_TOKEN: 'abc' }))).hasToken).toBe(true);
  });

  it('reports an unreadable CONSUL_CACERT as one configuration line', () => {
    const create = () => createConsulClient({ addr: 'https://127.0.0.1:8501', caFile: '/nonexistent/ca.pem' });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/^invalid configuration: CONSUL_CACERT: cannot read \/nonexistent\/ca\.pem \(ENOENT\)$/);
  });
});
