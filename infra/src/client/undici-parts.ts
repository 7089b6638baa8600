/**
 * The parts of undici the platform uses (the agent, the dispatcher base class, the errors and the
 * request API), each loaded from its own module rather than from undici's index. The index loads
 * all of undici (fetch, WebSocket, EventSource, the cache stores, the mocks) and, through its web
 * modules, Node's own bundled copy of undici besides: ~4 MiB of RSS in every service, for code no
 * service runs (BENCHMARKS.md, "Footprint").
 *
 * undici declares no `exports` map, so these files are reachable by path; undici-parts.test.ts
 * checks that each is the very object the index exports, so an upgrade that moves one fails the
 * unit tests rather than a service's start.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/**
 * The request APIs undici's index mixes into every dispatcher: without the index they are not
 * there, so the types leave them out (a call would compile, then fail in the image). `request`
 * below stands in for the one the platform uses.
 */
type IndexApis = 'request' | 'stream' | 'pipeline' | 'upgrade' | 'connect';

export type Agent = Omit<Undici.Agent, IndexApis>;
export const Agent = require('undici/lib/dispatcher/agent.js') as new (options?: Undici.Agent.Options) => Agent;

/**
 * The base class of every dispatcher (a value: client/transport.ts's extends it). Typed as undici's
 * whole class, the mixed-in APIs included, because a class cannot extend an Omit of one; only that
 * subclass uses it, through `request` below.
 */
export const DispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;

export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;

/** What the request API needs of a dispatcher. */
type Dispatches = Pick<Undici.Dispatcher, 'dispatch'>;

const apiRequest = require('undici/lib/api/api-request.js') as (
  this: Dispatches,
  options: Undici.Dispatcher.RequestOptions,
) => Promise<Undici.Dispatcher.ResponseData>;

/**
 * `dispatcher.request(options)`: the request API the index installs on Dispatcher.prototype,
 * called on `dispatcher` without that install (which needs the index).
 */
export function request(dispatcher: Dispatches, options: Undici.Dispatcher.RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, options);
}

/** undici's header parser (the index exports it as `util.parseHeaders`): raw name/value buffers → lower-cased names. */
export const parseHeaders = (require('undici/lib/core/util.js') as { parseHeaders: typeof Undici.util.parseHeaders }).parseHeaders as (
  headers: Buffer[],
) => Record<string, string | string[]>;
