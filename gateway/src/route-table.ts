import type { z } from '@switchyard/infra';

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
  /** The upstream path for validated parameters; the client's query string is appended as is. */
  upstreamPath: (params: z.infer<Params>) => string;
  timeouts: UpstreamTimeouts;
  /** Whether a failed attempt may be retried on another instance (default: by method, see ServiceClient). */
  idempotent?: boolean;
}

/** A route with its parameter type erased, so routes of different shapes share one table. */
export interface GatewayRoute {
  method: HttpMethod;
  path: string;
  service: string;
  timeouts: UpstreamTimeouts;
  idempotent?: boolean;
  /** Validates the raw path parameters (throws ZodError → 400) and returns the upstream path. */
  resolveUpstreamPath(rawParams: Record<string, string>): string;
}

export function defineRoute<Params extends z.ZodType>(spec: RouteSpec<Params>): GatewayRoute {
  const { params, upstreamPath, ...rest } = spec;
  return { ...rest, resolveUpstreamPath: (rawParams) => upstreamPath(params.parse(rawParams)) };
}
