import { badRequest, type RetryPolicy, type z } from '@switchyard/infra';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Time one upstream call may take through the gateway. */
export interface UpstreamTimeouts {
  /** One attempt on one instance; a timed-out idempotent attempt is retried on another instance. */
  attemptTimeoutMs: number;
  /** The whole call, retries included; past it the client gets 504 upstream_timeout. */
  deadlineMs: number;
}

/** One public route of the gateway, as written in the route table. */
export interface RouteSpec<Params extends z.ZodType> {
  method: HttpMethod;
  /** Public path, express syntax (`/api/v1/rng/:n`). */
  path: string;
  /** Consul service name of the upstream (infra appends SERVICE_NAME_SUFFIX, empty in production). */
  service: string;
  /** Validates the path parameters at the gateway, so bad input never costs an upstream call. */
  params: Params;
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
}

/** A route with its parameter type erased, so routes of different shapes share one table. */
export interface GatewayRoute {
  method: HttpMethod;
  path: string;
  service: string;
  timeouts: UpstreamTimeouts;
  idempotent?: boolean;
  retryPolicy?: RetryPolicy;
  /** Validates the raw path parameters (ZodError or HttpError → 400) and returns the upstream path. */
  resolveUpstreamPath(rawParams: Record<string, string>): string;
}

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

export function defineRoute<Params extends z.ZodType>(spec: RouteSpec<Params>): GatewayRoute {
  const { params, upstreamPath, ...rest } = spec;
  return { ...rest, resolveUpstreamPath: (rawParams) => upstreamPath(params.parse(rawParams)) };
}
