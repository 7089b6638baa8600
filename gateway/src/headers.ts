/**
 * Which headers cross the gateway. Hop-by-hop headers describe one TCP connection (RFC 9110
 * §7.6.1), so they stop here in both directions; everything else is end-to-end and passes.
 */

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
 * length, and the ServiceClient injects trace context as a child of the gateway's own span.
 */
const REPLACED_ON_REQUEST = new Set(['host', 'content-length', 'expect', 'traceparent', 'tracestate', 'uber-trace-id']);

/** Response headers the gateway sets itself: the length of the bytes it sends, and its identity headers. */
const REPLACED_ON_RESPONSE = new Set(['content-length', 'x-served-by', 'x-request-id', 'x-gateway']);

type IncomingHeaders = Record<string, string | string[] | undefined>;

/** The end-to-end headers of `headers`, lower-cased, minus `drop` and anything `Connection` names. */
export function endToEndHeaders(headers: IncomingHeaders, drop: ReadonlySet<string> = new Set()): Record<string, string> {
  const named = new Set(
    String(headers.connection ?? headers.Connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

export interface ClientFacts {
  /** The address the request came from (the socket's peer). */
  remoteAddress: string | undefined;
  /** The request id the gateway assigned or accepted, so upstream logs correlate with ours. */
  requestId: string;
  host: string | undefined;
}

/** Headers for the upstream request: the client's end-to-end headers plus the X-Forwarded-* facts. */
export function upstreamRequestHeaders(incoming: IncomingHeaders, client: ClientFacts): Record<string, string> {
  const headers = endToEndHeaders(incoming, REPLACED_ON_REQUEST);
  if (client.remoteAddress) {
    const chain = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = chain ? `${chain}, ${client.remoteAddress}` : client.remoteAddress;
  }
  if (client.host && !headers['x-forwarded-host']) headers['x-forwarded-host'] = client.host;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-request-id'] = client.requestId;
  return headers;
}

/** Headers of the upstream's answer that go back to the client as they are. */
export function clientResponseHeaders(upstream: Record<string, string>): Record<string, string> {
  return endToEndHeaders(upstream, REPLACED_ON_RESPONSE);
}
