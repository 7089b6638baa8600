import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills in the defaults from an empty environment', () => {
    // toMatchObject: other base variables may be added without breaking this test.
    expect(loadConfig({}, {})).toMatchObject({
      PORT: 0,
      ADVERTISE_ADDR: 'auto',
      CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: 300,
      SHUTDOWN_DRAIN_MS: 10_000,
      SERVICE_VERSION: '0.1.0',
    });
  });

  it('coerces numbers, accepts a bare host:port for Consul, and types extra variables', () => {
    const config = loadConfig(
      { RNG_DELAY_MS: z.coerce.number().int().min(0).default(100) },
      { PORT: '8081', CONSUL_HTTP_ADDR: 'consul:8500', RNG_DELAY_MS: '5' },
    );
    expect(config.PORT).toBe(8081);
    expect(config.CONSUL_HTTP_ADDR).toBe('http://consul:8500');
    expect(config.RNG_DELAY_MS).toBe(5);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({}, { PORT: '', LOG_LEVEL: '' }).PORT).toBe(0);
  });

  it('reports a bad PORT on one line that names PORT and the given value', () => {
    const error = configError(() => loadConfig({}, { PORT: 'abc' }));
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^invalid configuration: PORT: /);
    expect(error.message).toContain('"abc"');
  });

  it('names every offending variable in the same line', () => {
    const error = configError(() => loadConfig({}, { PORT: '70000', LOG_LEVEL: 'loud' }));
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('PORT:');
    expect(error.message).toContain('LOG_LEVEL:');
  });

  it('says "missing" for a required variable that is absent', () => {
    const error = configError(() => loadConfig({ JWT_ISSUER: z.string() }, {}));
    expect(error.message).toContain('JWT_ISSUER:');
    expect(error.message).toContain('(missing)');
  });

  it('never echoes the value of a connection URL or a secret', () => {
    const secretish = {
      MYSQL_URL: z.string().url(),
      JWT_SECRET: z.string().min(32),
      API_TOKEN: z.string().min(32),
    };
    const error = configError(() =>
      loadConfig(secretish, {
        MYSQL_URL: 'not a url hunter2',
        JWT_SECRET: 'hunter2',
        API_TOKEN: 'hunter2',
      }),
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('MYSQL_URL:');
    expect(error.message).toContain('JWT_SECRET:');
    expect(error.message).toContain('API_TOKEN:');
    expect(error.message).toContain('<redacted>');
  });

  it("reads Consul's own ACL and TLS variables", () => {
    expect(loadConfig({}, {})).toMatchObject({ CONSUL_HTTP_SSL: false, CONSUL_HTTP_SSL_VERIFY: true });
    expect(loadConfig({}, {}).CONSUL_HTTP_TOKEN).toBeUndefined();
    const config = loadConfig(
      {},
      { CONSUL_HTTP_TOKEN: ' 6a1f0e2c-token\n', CONSUL_CACERT: '/etc/consul/ca.pem', CONSUL_HTTP_SSL: 'true', CONSUL_HTTP_SSL_VERIFY: 'false' },
    );
    // A token read from a file keeps its newline; Node would refuse it in a header.
    expect(config.CONSUL_HTTP_TOKEN).toBe('6a1f0e2c-token');
    expect(config.CONSUL_CACERT).toBe('/etc/consul/ca.pem');
    expect(config.CONSUL_HTTP_SSL).toBe(true);
    expect(config.CONSUL_HTTP_SSL_VERIFY).toBe(false);
  });

  it('never echoes a bad CONSUL_HTTP_TOKEN', () => {
    const error = configError(() => loadConfig({}, { CONSUL_HTTP_TOKEN: 'hunter2 with spaces' }));
    expect(error.message).toMatch(/^invalid configuration: CONSUL_HTTP_TOKEN: /);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('<redacted>');
  });

  it('keeps a multi-line value on one line', () => {
    const error = configError(() => loadConfig({}, { LOG_LEVEL: 'a\nb' }));
    expect(error.message).not.toContain('\n');
  });
});
