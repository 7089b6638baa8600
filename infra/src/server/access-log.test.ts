import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, isoTime } from '../logger.js';
import { AccessLog, type AccessFields } from './access-log.js';

/** Two loggers built alike, one line each: what AccessLog wrote, and what pino's own info() writes. */
function bothWays(make: (write: (line: string) => void) => Logger, fields: AccessFields, level: 'info' | 'debug' = 'info') {
  const ours: string[] = [];
  const theirs: string[] = [];
  // The same instant for both lines: their timestamps must agree to the millisecond.
  vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 27, 13, 0, 53, 819));
  new AccessLog(make((line) => ours.push(line))).write(level, fields);
  make((line) => theirs.push(line))[level](fields, 'request');
  return { ours, theirs };
}

const fields: AccessFields = { method: 'GET', path: '/api/v1/rng/32', status: 200, ms: 3, requestId: 'b1c2d3e4-0000-4000-8000-000000000000' };

/** infra's logger (its bindings, redaction, timestamp) with a child as the envelope makes one, writing to `write`. */
function infraLogger(write: (line: string) => void, level = 'info'): Logger {
  const base = createLogger({ service: 'gateway', level });
  const parent = pino({ ...loggerOptions(base), level }, { write });
  return parent.child({ serviceId: 'gateway-127.0.0.1-8080' }).child({}, { redact: { paths: [] } });
}

/** createLogger's options, read back from one it made (its destination is stdout; the tests write elsewhere). */
function loggerOptions(logger: Logger) {
  return { name: 'gateway', base: { service: 'gateway', pid: process.pid }, timestamp: isoTime, level: logger.level };
}

afterEach(() => vi.restoreAllMocks());

describe('AccessLog', () => {
  it('writes the very bytes pino writes for the same fields', () => {
    const { ours, theirs } = bothWays((write) => infraLogger(write), fields);
    expect(ours).toHaveLength(1);
    expect(ours).toEqual(theirs);
    expect(JSON.parse(ours[0]!)).toMatchObject({ level: 30, time: '2026-11-27T13:00:53.819Z', serviceId: 'gateway-127.0.0.1-8080', ...fields, msg: 'request' });
  });

  it.each([
    ['a quote and a backslash', '/a"b\\c'],
    ['control characters', '/a\u0000b\nc\u001f'],
    ['text beyond ASCII', '/caf\u00e9/\u65e5\u672c'],
  ])('escapes a path with %s as JSON.stringify would', (_what, path) => {
    const { ours, theirs } = bothWays((write) => infraLogger(write), { ...fields, path });
    expect(ours).toEqual(theirs);
    expect(JSON.parse(ours[0]!).path).toBe(JSON.parse(JSON.stringify(path)));
  });

  it('escapes a lone surrogate (pino writes it raw, and it becomes U+FFFD on the way out)', () => {
    const { ours } = bothWays((write) => infraLogger(write), { ...fields, path: '/x\ud800y' });
    expect(ours[0]).toContain('"path":"/x\\ud800y"');
    expect(JSON.parse(ours[0]!).path).toBe('/x\ud800y');
  });

  it('writes debug lines at debug level only when the logger takes them', () => {
    expect(bothWays((write) => infraLogger(write, 'info'), fields, 'debug').ours).toEqual([]);
    const { ours, theirs } = bothWays((write) => infraLogger(write, 'debug'), fields, 'debug');
    expect(ours).toHaveLength(1);
    expect(ours).toEqual(theirs);
  });

  it('leaves the line to pino when pino must transform it (a log formatter, a mixin)', () => {
    const formatted = bothWays((write) => pino({ formatters: { log: (o) => ({ ...o, shaped: true }) } }, { write }), fields);
    expect(formatted.ours).toEqual(formatted.theirs);
    expect(JSON.parse(formatted.ours[0]!).shaped).toBe(true);
    const mixed = bothWays((write) => pino({ mixin: () => ({ mixed: 1 }) }, { write }), fields);
    expect(mixed.ours).toEqual(mixed.theirs);
    expect(JSON.parse(mixed.ours[0]!).mixed).toBe(1);
  });

  it('keeps a custom message key', () => {
    const { ours, theirs } = bothWays((write) => pino({ messageKey: 'message' }, { write }), fields);
    expect(ours).toEqual(theirs);
    expect(JSON.parse(ours[0]!).message).toBe('request');
  });
});

describe('isoTime', () => {
  it.each([
    Date.UTC(2026, 10, 27, 13, 0, 53, 0),
    Date.UTC(2026, 10, 27, 13, 0, 53, 7),
    Date.UTC(2026, 10, 27, 13, 0, 53, 999),
    Date.UTC(2026, 10, 27, 13, 0, 54, 1),
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1, 0, 0, 0, 0),
  ])('formats %d as toISOString does, across seconds and years', (now) => {
    vi.spyOn(Date, 'now').mockReturnValue(now);
    expect(isoTime()).toBe(`,"time":"${new Date(now).toISOString()}"`);
    expect(isoTime()).toBe(pino.stdTimeFunctions.isoTime());
  });
});
