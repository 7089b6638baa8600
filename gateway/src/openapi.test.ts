import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiPath } from './openapi.js';
import { gatewayRoutes } from './routes/index.js';

type Operation = {
  operationId: string;
  summary: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: { type?: string; properties?: object } }> };
  responses: Record<string, unknown>;
};

describe('the OpenAPI document generated from the route table', () => {
  const document = openApiDocument(gatewayRoutes, { title: 'switchyard API', version: '9.9.9' }) as unknown as {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  };
  const operation = (method: string, path: string) => document.paths[openApiPath(path)]?.[method.toLowerCase()];

  it('is OpenAPI 3.1 with the given version', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('9.9.9');
  });

  it('holds every route of the table, and nothing else', () => {
    for (const route of gatewayRoutes) expect(operation(route.method, route.path), `${route.method} ${route.path}`).toBeDefined();
    const documented = Object.values(document.paths).reduce((sum, methods) => sum + Object.keys(methods).length, 0);
    expect(documented).toBe(gatewayRoutes.length);
  });

  it('covers the public API of the issue', () => {
    const expected = [
      'POST /api/v1/auth/sign-up',
      'POST /api/v1/auth/sign-in',
      'POST /api/v1/auth/token/refresh',
      'POST /api/v1/auth/sign-out',
      'GET /api/v1/auth/me',
      'GET /api/v1/social/users/:id',
      'GET /api/v1/social/users',
      'POST /api/v1/social/friends/requests',
      'POST /api/v1/social/friends/requests/:userId/accept',
      'POST /api/v1/social/friends/requests/:userId/decline',
      'GET /api/v1/social/friends',
      'GET /api/v1/social/friends/requests',
      'DELETE /api/v1/social/friends/:userId',
      'POST /api/v1/social/posts',
      'DELETE /api/v1/social/posts/:id',
      'GET /api/v1/social/feed',
      'GET /api/v1/social/ws',
      'POST /api/v1/messenger/chats',
      'GET /api/v1/messenger/chats',
      'POST /api/v1/messenger/chats/:id/messages',
      'GET /api/v1/messenger/chats/:id/messages',
      'POST /api/v1/messenger/chats/:id/read',
      'GET /api/v1/messenger/ws',
    ];
    for (const entry of expected) {
      const [method, path] = entry.split(' ') as [string, string];
      expect(operation(method, path), entry).toBeDefined();
    }
  });

  it('marks exactly the user routes as needing the bearer token, and documents their 401', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const route of gatewayRoutes) {
      const op = operation(route.method, route.path)!;
      if (route.auth === 'user') {
        expect(op.security, route.path).toEqual([{ bearerAuth: [] }]);
        expect(op.responses).toHaveProperty('401');
      } else {
        expect(op.security, route.path).toBeUndefined();
        expect(op.responses).not.toHaveProperty('401');
      }
      expect(op.responses).toHaveProperty('429');
    }
  });

  it('documents path parameters, queries and JSON bodies from the schemas the edge validates with', () => {
    const signUp = operation('POST', '/api/v1/auth/sign-up')!;
    const body = signUp.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['email', 'password', 'firstName', 'lastName', 'birthday']));
    expect(body.required).toEqual(expect.arrayContaining(['email', 'password', 'firstName', 'lastName', 'birthday']));

    const profile = operation('GET', '/api/v1/social/users/:id')!;
    expect(profile.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path', required: true }));

    const search = operation('GET', '/api/v1/social/users')!;
    const names = search.parameters!.filter((p) => p.in === 'query').map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['first', 'last', 'cursor', 'limit']));
  });

  it('names the shared answer shapes once and refers to them', () => {
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['PublicProfile', 'OwnProfile', 'TokenPair', 'Post', 'Friend', 'IncomingFriendRequest', 'Friendship', 'Error']));
    const signIn = operation('POST', '/api/v1/auth/sign-in')!.responses['200'] as { content: Record<string, { schema: unknown }> };
    expect(signIn.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/TokenPair' });
  });

  it('gives every operation a summary and a unique operationId', () => {
    const ids = gatewayRoutes.map((route) => operation(route.method, route.path)!.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of gatewayRoutes) expect(operation(route.method, route.path)!.summary).toBeTruthy();
  });
});
