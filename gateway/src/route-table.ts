import { badRequest, type RetryPolicy, type z } from '@switchyard/infra';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route. 'user': a valid access token (verified at the edge against auth's JWKS,
 * and again by the service, which trusts no network); 'public': anyone (rate limits still apply).
 */
export type RouteAuth = 'user' | 'public';

/** Time one upstream call may take through the gateway. */
export interface UpstreamTimeouts {
  /** One attempt on one instance; a timed-out idempotent attempt is retried on another instance. */
  attemptTimeoutMs: number;
  /** The whole call, retries included; past it the client gets 504 upstream_timeout. */
  deadlineMs: number;
}

/** One documented answer of a route: its description, and the schema of its JSON body (none: no body). */
export interface DocumentedResponse {
  description: string;
  schema?: z.ZodType;
}

/** What the OpenAPI document says about a route beyond its schemas (openapi.ts). */
export interface RouteDocs {
  summary: string;
  description?: string;
  /** Success answers by status (the edge's own 400/401/413/429/503 are added for every route). */
  responses?: Record<number, DocumentedResponse>;
}

/** One public route of the gateway, as written in the route table. */
export interface RouteSpec<Params extends z.ZodObject, Query extends z.ZodObject, Body extends z.ZodType> {
  method: HttpMethod;
  /** Public path, express syntax (`/api/v1/rng/:n`). */
  path: string;
  /** Consul service name of the upstream (infra appends SERVICE_NAME_SUFFIX, empty in production). */
  service: string;
  auth: RouteAuth;
  /** Validates the path parameters at the gateway, so bad input never costs an upstream call. */
  params: Params;
  /**
   * Validates the query string (parsed as express does); the original query string is forwarded.
   * Without it the query string crosses unchecked and is undocumented.
   */
  query?: Query;
  /**
   * Validates a JSON request body at the gateway; the bytes received are forwarded, never the
   * parsed value. A route with a body schema takes `application/json` only, uncompressed.
   */
  body?: Body;
  /** Largest request body accepted (raw-body syntax, e.g. '16kb'); past it 413 before any upstream call. */
  maxBodySize?: string;
  /**
   * The upstream path for validated parameters, written with the `path` tag (`path\`/users/${id}\``),
   * which encodes each parameter as one segment; the client's query string is appended as is.
   */
  upstreamPath: (params: z.infer<Params>) => UpstreamPath;
  timeouts: UpstreamTimeouts;
  /** Whether a failed attempt may be retried on another instance (default: by method, see ServiceClient). */
  idempotent?: boolean;
  /**
   * What an attempt's outcome says about the instance and whether to try another (default: infra's
   * statusRetryPolicy: 502/503/504 and transport errors count against the instance, an
   * application's 500 is relayed as is, 429 is tried elsewhere without ejecting anyone).
   */
  retryPolicy?: RetryPolicy;
  docs: RouteDocs;
}

/** A route with its schema types erased, so routes of different shapes share one table. */
export interface GatewayRoute {
  method: HttpMethod;
  path: string;
  service: string;
  auth: RouteAuth;
  timeouts: UpstreamTimeouts;
  idempotent?: boolean;
  retryPolicy?: RetryPolicy;
  maxBodySize: string;
  /** The route's schemas, for edge validation (validation.ts) and the OpenAPI document. */
  schemas: { params: z.ZodObject; query?: z.ZodObject; body?: z.ZodType };
  docs: RouteDocs;
  /** Validates the raw path parameters (ZodError or HttpError → 400) and returns the upstream path. */
  resolveUpstreamPath(rawParams: Record<string, string>): string;
}

/**
 * Body limit of a route that declares none: a POST/PUT/PATCH forwarded as it is (no schema) may
 * be an upload; a JSON body the gateway validates is a small document, and a GET or DELETE has no
 * business carrying much at all, so theirs is small.
 */
export const DEFAULT_BODY_LIMIT = { upload: '1mb', small: '16kb' } as const;
const UPLOAD_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);

declare const encodedParameters: unique symbol;

/**
 * A path whose every interpolated value was encoded by `path`. Only `path` makes one, so a route
 * whose upstreamPath returns a plain template string does not compile.
 */
export type UpstreamPath = string & { readonly [encodedParameters]: true };

/**
 * Tag for upstream paths: the literal parts as written, each value percent-encoded whole
 * (encodeURIComponent), so a parameter stays one segment of the route it was given to: `/`, `?`,
 * `#` and `%` in it are data, never structure. A value that is a dot-segment (`.`, `..`) or empty
 * is refused (400): URL parsers (undici's among them) resolve `/users/..` to `/` even encoded as
 * `%2E%2E`, and `/users/` may be a different route than `/users/:id`.
 */
export function path(literals: TemplateStringsArray, ...values: ReadonlyArray<string | number>): UpstreamPath {
  let built = literals[0]!;
  values.forEach((value, at) => {
    const text = String(value);
    if (text === '') throw badRequest('a path parameter must not be empty');
    built += encodeURIComponent(text) + literals[at + 1]!;
  });
  const pathPart = built.split(/[?#]/, 1)[0]!;
  if (pathPart.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw badRequest('a path parameter must not be "." or ".."');
  }
  return built as UpstreamPath;
}

export function defineRoute<Params extends z.ZodObject, Query extends z.ZodObject = z.ZodObject, Body extends z.ZodType = z.ZodType>(
  spec: RouteSpec<Params, Query, Body>,
): GatewayRoute {
  const { params, query, body, upstreamPath, maxBodySize, ...rest } = spec;
  return {
    ...rest,
    maxBodySize: maxBodySize ?? (body || !UPLOAD_METHODS.has(spec.method) ? DEFAULT_BODY_LIMIT.small : DEFAULT_BODY_LIMIT.upload),
    schemas: { params, query, body },
    resolveUpstreamPath: (rawParams) => upstreamPath(params.parse(rawParams)),
  };
}
