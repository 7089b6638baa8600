import { ConfigError, loadConfig } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { gatewayConfigShape } from './config.js';

const load = (env: Record<string, string>) => loadConfig(gatewayConfigShape, env);

describe('gateway configuration', () => {
  it('defaults to no CORS origins and generous rate limits', () => {
    const config = load({});
    expect(config.CORS_ORIGINS).toEqual([]);
    expect(config.RATE_LIMIT_PER_MINUTE).toBeGreaterThanOrEqual(1_000);
    expect(config.RATE_LIMIT_USER_PER_MINUTE).toBeGreaterThanOrEqual(1_000);
  });

  it('takes a comma-separated list of exact origins', () => {
    expect(load({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173,' }).CORS_ORIGINS).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it.each(['*', 'app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'https://*.example.com'])(
    'refuses the origin %j with one line naming it',
    (entry) => {
      const attempt = () => load({ CORS_ORIGINS: `https://ok.example.com,${entry}` });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(`CORS_ORIGINS: ${JSON.stringify(entry)} is not an origin`);
    },
  );

  it('turns a limit off with 0 and refuses negative ones', () => {
    expect(load({ RATE_LIMIT_PER_MINUTE: '0' }).RATE_LIMIT_PER_MINUTE).toBe(0);
    expect(() => load({ RATE_LIMIT_USER_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_USER_PER_MINUTE/);
  });
});
