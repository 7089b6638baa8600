import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiPath } from '../openapi.js';
import { validateBody, validateQuery } from '../validation.js';
import { gatewayRoutes } from './index.js';

const ISSUE_ROUTES = [
  'POST /api/v1/messenger/chats',
  'GET /api/v1/messenger/chats',
  'POST /api/v1/messenger/chats/:id/messages',
  'GET /api/v1/messenger/chats/:id/messages',
  'POST /api/v1/messenger/chats/:id/read',
  'GET /api/v1/messenger/ws',
];

const route = (entry: string) => {
  const [method, path] = entry.split(' ');
  const found = gatewayRoutes.find((r) => r.method === method && r.path === path);
  if (!found) throw new Error(`no route ${entry}`);
  return found;
};

const refusal = (check: () => void) => {
  try {
    check();
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('messenger routes of the gateway', () => {
  it('hold every route of the issue, each for signed-in users, documented in the OpenAPI document', () => {
    const document = openApiDocument(gatewayRoutes, { title: 't', version: '1' }) as unknown as {
      paths: Record<string, Record<string, { security?: unknown; summary?: string }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const entry of ISSUE_ROUTES) {
      const r = route(entry);
      expect(r.service, entry).toBe('messenger');
      expect(r.auth, entry).toBe('user');
      const operation = document.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
      expect(operation?.summary, entry).toBeTruthy();
      expect(operation?.security, entry).toEqual([{ bearerAuth: [] }]);
    }
    expect(gatewayRoutes.filter((r) => r.service === 'messenger')).toHaveLength(ISSUE_ROUTES.length);
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Chat', 'Message']));
  });

  it('map to messenger paths, one encoded segment per id', () => {
    expect(route('POST /api/v1/messenger/chats/:id/messages').resolveUpstreamPath({ id: '42' })).toBe('/chats/42/messages');
    expect(route('POST /api/v1/messenger/chats/:id/read').resolveUpstreamPath({ id: '9223372036854775807' })).toBe('/chats/9223372036854775807/read');
    expect(route('GET /api/v1/messenger/ws').resolveUpstreamPath({})).toBe('/ws');
    for (const id of ['0', '-1', 'abc', '..', '1%2F2', '9223372036854775808']) {
      expect(refusal(() => route('GET /api/v1/messenger/chats/:id/messages').resolveUpstreamPath({ id })), id).not.toBe('accepted');
    }
  });

  it("refuse bad bodies and queries at the edge with messenger's own schemas", () => {
    const send = route('POST /api/v1/messenger/chats/:id/messages');
    const json = { 'content-type': 'application/json' };
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    expect(refusal(() => validateBody(send, json, body({ text: 'hi', clientMessageId: 'k-1' })))).toBe('accepted');
    expect(refusal(() => validateBody(send, json, body({ text: 'x'.repeat(4001), clientMessageId: 'k-1' })))).toMatch(/text: must be at most 4000/);
    // 4000 emoji escaped as \uXXXX pairs (48 kB) still fit.
    expect(send.maxBodySize).toBe('64kb');
    expect(refusal(() => validateBody(send, json, body({ text: 'hi' })))).toMatch(/clientMessageId/);
    expect(refusal(() => validateBody(route('POST /api/v1/messenger/chats'), json, body({ peerId: 'me' })))).toMatch(/peerId/);
    expect(refusal(() => validateQuery(route('GET /api/v1/messenger/chats'), '?limit=101'))).toMatch(/limit/);
    expect(refusal(() => validateQuery(route('GET /api/v1/messenger/ws'), '?since=abc'))).toMatch(/since/);
  });

  it('let every write be retried on another instance (one dialog per pair, the clientMessageId, a forward-only marker)', () => {
    for (const entry of ISSUE_ROUTES.filter((e) => e.startsWith('POST'))) expect(route(entry).idempotent, entry).toBe(true);
  });
});
