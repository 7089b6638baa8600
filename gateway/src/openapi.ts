/**
 * The OpenAPI 3.1 document of the public API, generated from the route table (the same routes,
 * schemas and auth flags the edge enforces), so it cannot drift from what the gateway does. Built
 * once at startup; GET /api/openapi.json serves the bytes (docs.ts).
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from '@switchyard/infra';
import type { GatewayRoute } from './route-table.js';

/** Every error answer's shape, from the edge or a service. */
const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }).catchall(z.unknown()) })
  .meta({ id: 'Error', description: 'Every error answer: a machine-readable code and a message for people' });

const BEARER = 'bearerAuth';

/** The document's `info` object: a title and the API's version. */
export type DocumentInfo = { title: string; version: string; description?: string };

/** A schema given an id with `.meta({ id })` is shown once under components/schemas and referred to by name. */
export function openApiDocument(routes: readonly GatewayRoute[], info: DocumentInfo) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The accessToken of POST /api/v1/auth/sign-in (or token/refresh)',
  });
  for (const route of routes) registry.registerPath(operationOf(route));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}

/** The OpenAPI path of an express path: `/users/:id` → `/users/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function operationOf(route: GatewayRoute): RouteConfig {
  const { schemas, docs } = route;
  const hasParams = Object.keys(schemas.params.shape).length > 0;
  return {
    method: route.method.toLowerCase() as RouteConfig['method'],
    path: openApiPath(route.path),
    operationId: operationId(route),
    summary: docs.summary,
    ...(docs.description && { description: docs.description }),
    tags: [route.service],
    ...(route.auth === 'user' && { security: [{ [BEARER]: [] }] }),
    request: {
      ...(hasParams && { params: schemas.params }),
      ...(schemas.query && { query: schemas.query }),
      ...(schemas.body && { body: { required: true, content: { 'application/json': { schema: schemas.body } } } }),
    },
    responses: { ...successResponses(route), ...edgeResponses(route) },
  };
}

function successResponses(route: GatewayRoute): Record<string, ResponseConfig> {
  const documented = route.docs.responses ?? { 200: { description: 'OK' } };
  return Object.fromEntries(
    Object.entries(documented).map(([status, { description, schema }]) => [
      status,
      { description, ...(schema && { content: { 'application/json': { schema } } }) },
    ]),
  );
}

/** The answers the edge itself may give on this route, before or instead of the service's. */
function edgeResponses(route: GatewayRoute): Record<string, ResponseConfig> {
  const error = (description: string): ResponseConfig => ({ description, content: { 'application/json': { schema: errorBody } } });
  const { schemas } = route;
  const validates = Object.keys(schemas.params.shape).length > 0 || schemas.query !== undefined || schemas.body !== undefined;
  return {
    ...(validates && { 400: error('invalid input, named field by field (checked at the gateway and by the service)') }),
    ...(route.auth === 'user' && { 401: error('missing, expired or invalid access token') }),
    ...(schemas.body && { 413: error(`request body over ${route.maxBodySize}`), 415: error('body not uncompressed application/json') }),
    429: error('rate limit reached; Retry-After says when to try again'),
    503: error('no healthy instance of the service'),
    504: error('the service did not answer in time'),
  };
}

/** `POST /api/v1/auth/token/refresh` → `postAuthTokenRefresh`: stable, unique per method and path. */
function operationId(route: GatewayRoute): string {
  const words = route.path
    .replace(/^\/api\/v\d+\//, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [route.method.toLowerCase(), ...words.map((word) => word[0]!.toUpperCase() + word.slice(1))].join('');
}
