import { HttpError, z } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { defineRoute, path } from './route-table.js';
import { validateBody, validateQuery } from './validation.js';

const route = defineRoute({
  method: 'POST',
  path: '/things',
  service: 'things',
  auth: 'public',
  params: z.object({}),
  query: z.object({ limit: z.coerce.number().int().min(1).max(100).optional() }),
  body: z.strictObject({ name: z.string().min(1).max(5), nested: z.object({ n: z.number() }).optional() }),
  upstreamPath: () => path`/things`,
  timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
  docs: { summary: 'things' },
});
const JSON_HEADERS = { 'content-type': 'application/json' };
const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    const { status, code, message } = error as HttpError;
    return { status, code, message };
  }
  throw new Error('expected a refusal');
};

describe('edge validation of bodies', () => {
  it('accepts a matching JSON body, with or without a UTF-8 charset or a +json type', () => {
    validateBody(route, JSON_HEADERS, Buffer.from('{"name":"ab"}'));
    validateBody(route, { 'content-type': 'application/json; charset=UTF-8' }, Buffer.from('{"name":"ab"}'));
    validateBody(route, { 'content-type': 'application/merge-patch+json' }, Buffer.from('{"name":"ab"}'));
  });

  it('names each bad field, nested ones by their path', () => {
    expect(refusal(() => validateBody(route, JSON_HEADERS, Buffer.from('{"name":"toolong","nested":{"n":"x"}}')))).toEqual({
      status: 400,
      code: 'invalid_request',
      message: expect.stringMatching(/^name: .*; nested\.n: /),
    });
  });

  it('names an extra field and a missing one', () => {
    expect(refusal(() => validateBody(route, JSON_HEADERS, Buffer.from('{"name":"a","admin":true}'))).message).toMatch(/admin/);
    expect(refusal(() => validateBody(route, JSON_HEADERS, Buffer.from('{}'))).message).toMatch(/^name: /);
  });

  it('refuses a missing body, or one that is not an object, naming the body', () => {
    expect(refusal(() => validateBody(route, JSON_HEADERS, undefined))).toMatchObject({ status: 400, message: expect.stringMatching(/^body: /) });
    expect(refusal(() => validateBody(route, JSON_HEADERS, Buffer.from('[1]'))).message).toMatch(/^body: /);
  });

  it.each([
    ['truncated', Buffer.from('{"name":')],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['empty-ish', Buffer.from('   ')],
  ])('answers invalid_json for %s bytes', (_what, bytes) => {
    expect(refusal(() => validateBody(route, JSON_HEADERS, bytes))).toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('answers 415 for another media type, another charset, or a compressed body', () => {
    const body = Buffer.from('{"name":"ab"}');
    expect(refusal(() => validateBody(route, { 'content-type': 'text/plain' }, body))).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(refusal(() => validateBody(route, {}, body))).toMatchObject({ status: 415 });
    expect(refusal(() => validateBody(route, { 'content-type': 'application/json; charset=latin1' }, body))).toMatchObject({ status: 415 });
    expect(refusal(() => validateBody(route, { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body))).toMatchObject({
      status: 415,
      code: 'unsupported_encoding',
    });
  });

  it('leaves routes without a body schema alone', () => {
    const raw = defineRoute({
      method: 'POST',
      path: '/upload',
      service: 'things',
      auth: 'public',
      params: z.object({}),
      upstreamPath: () => path`/upload`,
      timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
      docs: { summary: 'raw bytes' },
    });
    validateBody(raw, { 'content-type': 'application/octet-stream' }, Buffer.from([0xff]));
  });
});

describe('edge validation of queries', () => {
  it('accepts a good query and an absent one', () => {
    validateQuery(route, '?limit=20');
    validateQuery(route, '');
  });

  it.each(['?limit=0', '?limit=1000000', '?limit=abc', '?limit=1&limit=2'])('names the parameter for %s', (query) => {
    expect(refusal(() => validateQuery(route, query))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/^limit: /) });
  });
});
