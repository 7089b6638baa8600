/**
 * Which headers cross the gateway. Hop-by-hop headers describe one TCP connection (RFC 9110
 * §7.6.1), so they stop here in both directions; everything else is end-to-end and passes.
 */

import { headerValue } from '@switchyard/infra';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers the gateway sets itself rather than forwarding: the transport computes host and
 * length, and the ServiceClient injects trace context and baggage from the request's active
 * context, as a child of the gateway's own span. That context holds the caller's trace and baggage
 * only when infra's request envelope trusted the caller (a configured proxy), so headers of every trace
 * format are dropped here: what the caller sent never reaches an upstream by another road.
 */
const REPLACED_ON_REQUEST = new Set([
  'host',
  'content-length',
  'expect',
  'traceparent',
  'tracestate',
  'baggage',
  'uber-trace-id',
  // jaeger-client: forces a sampled debug trace downstream, and its ad-hoc baggage.
  'jaeger-debug-id',
  'jaeger-baggage',
  'b3',
]);
/** Header families of trace formats, by prefix: Jaeger baggage (`uberctx-<key>`) and Zipkin's B3. */
const REPLACED_ON_REQUEST_PREFIXES = ['uberctx-', 'x-b3-'];

/**
 * Headers by which proxies and auth gateways elsewhere tell an upstream who the caller is. Here
 * the caller is proven only by the bearer token, which every service verifies itself; a client
 * writing one of these must not reach a service that some day (or some library) reads it.
 */
const IDENTITY_CLAIMS = new Set([
  'x-user',
  'x-userid',
  'remote-user',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
]);
const IDENTITY_CLAIM_PREFIXES = ['x-user-', 'x-auth-', 'x-authenticated-', 'x-remote-', 'x-consumer-', 'x-jwt-', 'x-identity-'];

/** Every prefix above starts with one of these letters: other names skip the prefix checks. */
const PREFIX_INITIALS = new Set([...REPLACED_ON_REQUEST_PREFIXES, ...IDENTITY_CLAIM_PREFIXES].map((prefix) => prefix.charCodeAt(0)));

const isReplacedOnRequest = (name: string) =>
  REPLACED_ON_REQUEST.has(name) ||
  IDENTITY_CLAIMS.has(name) ||
  // On every header of every request: most names (accept, user-agent, authorization...) start
  // with no prefix's letter, and are decided without a closure and nine startsWith calls.
  (PREFIX_INITIALS.has(name.charCodeAt(0)) && (hasPrefix(name, REPLACED_ON_REQUEST_PREFIXES) || hasPrefix(name, IDENTITY_CLAIM_PREFIXES)));

function hasPrefix(name: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

/**
 * Headers that state facts about the client as some proxy saw them: its address, the host and
 * scheme it asked for. Upstreams believe them (rate limits, audit logs, redirects), so they are
 * kept only from a trusted proxy; from anyone else they are dropped and the edge states its own.
 */
const FORWARDING_FACTS = new Set(['forwarded', 'x-real-ip', 'x-client-ip', 'true-client-ip']);
const isForwardingFact = (name: string) => FORWARDING_FACTS.has(name) || name.startsWith('x-forwarded-');
/** What a request from anyone but a trusted proxy loses: the replaced headers and every forwarding fact. */
const isReplacedOrForwardingFact = (name: string) => isReplacedOnRequest(name) || isForwardingFact(name);

/** Response headers the gateway sets itself: the length of the bytes it sends, and its identity headers. */
const REPLACED_ON_RESPONSE = new Set(['content-length', 'x-served-by', 'x-request-id', 'x-gateway']);

type IncomingHeaders = Record<string, string | string[] | undefined>;

/**
 * Copies the end-to-end headers of `headers` into `into`, lower-cased, minus those `drop` names and
 * anything `Connection` names, each value as `valueOf` words it. On every request twice (request
 * and answer): one plain loop straight into the result (no pairs array, no closure), and no set
 * built for the usual `Connection: keep-alive`, which names no other header.
 */
function copyEndToEnd<V>(
  headers: IncomingHeaders,
  drop: (name: string) => boolean,
  into: Record<string, V>,
  valueOf: (name: string, value: string | string[]) => V,
): Record<string, V> {
  const named = connectionOptions(headers.connection ?? headers.Connection);
  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.has(name) || drop(name)) continue;
    into[name] = valueOf(name, value);
  }
  return into;
}

/** The header names a `Connection` header lists (RFC 9110 §7.6.1); none for the bare keep-alive/close tokens. */
function connectionOptions(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = joined(value).toLowerCase();
  if (text === 'keep-alive' || text === 'close') return undefined;
  return new Set(
    text
      .split(',')
      .map((token) => token.trim())
      .filter(Boolean),
  );
}

/** The end-to-end headers of `headers`, one line each (repeated ones joined with ', '). */
export function endToEndHeaders(headers: IncomingHeaders, drop: ReadonlySet<string> = new Set()): Record<string, string> {
  return copyEndToEnd(headers, (name) => drop.has(name), {}, joinedValue);
}

export interface ClientFacts {
  /** The address the request came from (the socket's peer). */
  remoteAddress: string | undefined;
  /** The request id the gateway assigned or accepted, so upstream logs correlate with ours. */
  requestId: string;
  host: string | undefined;
  /**
   * Whether the socket peer is a configured trusted proxy (TRUSTED_PROXIES): only then do the
   * forwarding headers it sent describe the client, and the gateway extends them rather than
   * replacing them. Required, so that no caller of this function can forget to decide.
   */
  fromTrustedProxy: boolean;
}

/**
 * Headers for the upstream request: the client's end-to-end headers minus trace context, plus the
 * forwarding facts (X-Forwarded-For/-Host/-Proto, X-Real-IP, Forwarded): extended when the peer is
 * a trusted proxy, otherwise stated afresh by the gateway from what it saw itself.
 */
export function upstreamRequestHeaders(incoming: IncomingHeaders, client: ClientFacts): Record<string, string> {
  const peer = client.remoteAddress === undefined ? undefined : plainAddress(client.remoteAddress);
  const headers = copyEndToEnd<string>(incoming, client.fromTrustedProxy ? isReplacedOnRequest : isReplacedOrForwardingFact, {}, joinedValue);
  if (client.fromTrustedProxy) {
    // The proxy's chain describes the client and the proxies before it; the proxy itself is the last hop.
    if (peer) {
      const chain = headers['x-forwarded-for'];
      headers['x-forwarded-for'] = chain ? `${chain}, ${peer}` : peer;
      if (headers.forwarded) headers.forwarded = `${headers.forwarded}, for=${forwardedNode(peer)}`;
    }
    if (client.host) headers['x-forwarded-host'] ??= client.host;
  } else {
    // The client is the peer: whatever it said about itself or earlier hops is not believed.
    if (peer) {
      headers['x-forwarded-for'] = peer;
      headers['x-real-ip'] = peer;
    }
    if (client.host) headers['x-forwarded-host'] = client.host;
  }
  // The gateway listens on plain HTTP; only a proxy in front (TLS termination) can say otherwise.
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-request-id'] = client.requestId;
  return headers;
}

/**
 * Headers of the upstream's answer that go back to the client as they are. Set-Cookie stays a
 * list, which `res.setHeader` sends as one header line per cookie; others are one line each.
 */
export function clientResponseHeaders(upstream: IncomingHeaders): Record<string, string | string[]> {
  return copyEndToEnd<string | string[]>(upstream, isReplacedOnResponse, {}, headerValue);
}

const isReplacedOnResponse = (name: string) => REPLACED_ON_RESPONSE.has(name);

/** copyEndToEnd's wording of a request header: one line. */
function joinedValue(_name: string, value: string | string[]): string {
  return joined(value);
}

/** A repeated header as one line, its values joined with ', ' (RFC 9110 §5.3). */
function joined(value: string | string[]): string {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** An IPv4 peer of a dual-stack listener is reported as `::ffff:a.b.c.d`; upstreams get `a.b.c.d`. */
function plainAddress(address: string): string {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(address) ? address.slice('::ffff:'.length) : address;
}

/** A node of RFC 7239's Forwarded header: IPv6 addresses are bracketed and quoted (§6). */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}
