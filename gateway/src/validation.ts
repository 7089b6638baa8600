/**
 * Edge validation of a route's query string and JSON body against the route's own zod schemas (the
 * ones the service validates with), so malformed input is answered 400 by the gateway and never
 * costs an upstream call. Only the verdict is used: the original query string and body bytes are
 * what the upstream receives.
 */
import { parse } from 'node:querystring';
import { HttpError, type z } from '@switchyard/infra';
import type { GatewayRoute } from './route-table.js';

/**
 * One decoder for every request: `fatal` refuses invalid UTF-8 (RFC 8259 §8.1 requires UTF-8 for
 * JSON exchanged between systems) instead of replacing it, and a non-streaming decode keeps no
 * state between calls.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `application/json` or any `+json` type, with at most a charset parameter of UTF-8. */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/**
 * The query string (`?a=1&b=2`, or empty) against the route's query schema, parsed as express's
 * default ("simple") query parser does, with node:querystring: a repeated name gives an array.
 * Throws 400 naming each bad parameter. Parsed only for routes that have a schema.
 */
export function validateQuery(route: GatewayRoute, query: string): void {
  const schema = route.schemas.query;
  if (!schema) return;
  const result = schema.safeParse(parse(query.startsWith('?') ? query.slice(1) : query));
  if (!result.success) throw invalidInput('query', result.error);
}

/**
 * The raw body against the route's body schema: it must be uncompressed UTF-8 JSON (415
 * otherwise), parse (400 invalid_json), and match (400 invalid_request naming each bad field).
 * Routes without a body schema forward whatever they receive.
 */
export function validateBody(route: GatewayRoute, headers: { 'content-type'?: string; 'content-encoding'?: string }, body: Buffer | undefined): void {
  const schema = route.schemas.body;
  if (!schema) return;
  let value: unknown;
  if (body !== undefined) {
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new HttpError(415, 'unsupported_encoding', 'send this JSON body uncompressed (no Content-Encoding)');
    }
    if (!JSON_TYPE.test(headers['content-type'] ?? '')) {
      throw new HttpError(415, 'unsupported_media_type', 'the body must be Content-Type: application/json (UTF-8)');
    }
    value = parseJson(body);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput('body', result.error);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid UTF-8 JSON');
  }
}

/**
 * 400 invalid_request whose message names every problem by its field (`email: Invalid email
 * address; birthday: ...`), as infra's handler words a service's own zod errors; a problem with
 * the whole body or query is named after it.
 */
function invalidInput(location: 'query' | 'body', error: z.ZodError): HttpError {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || location}: ${issue.message}`);
  return new HttpError(400, 'invalid_request', problems.join('; '));
}
