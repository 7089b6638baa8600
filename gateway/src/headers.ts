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

/**
 * Headers that may be repeated but never joined into one line: a cookie's Expires date has a
 * comma, so joined Set-Cookie lines could not be split again (RFC 6265 §3). They stay lists.
 */
const LIST_ONLY = new Set(['set-cookie']);

/** The end-to-end headers of `headers`, lower-cased, minus `drop` and anything `Connection` names. */
function selectEndToEnd(headers: IncomingHeaders, drop: ReadonlySet<string>): Array<[string, string | string[]]> {
  const named = new Set(
    String(headers.connection ?? headers.Connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: Array<[string, string | string[]]> = [];
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    kept.push([name, value]);
  }
  return kept;
}

/** The end-to-end headers of `headers`, one line each (repeated ones joined with ', '). */
export function endToEndHeaders(headers: IncomingHeaders, drop: ReadonlySet<string> = new Set()): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of selectEndToEnd(headers, drop)) kept[name] = Array.isArray(value) ? value.join(', ') : value;
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

/**
 * Headers of the upstream's answer that go back to the client as they are. Set-Cookie stays a
 * list, which `res.setHeader` sends as one header line per cookie; others are one line each.
 */
export function clientResponseHeaders(upstream: IncomingHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of selectEndToEnd(upstream, REPLACED_ON_RESPONSE)) {
    if (LIST_ONLY.has(name)) kept[name] = Array.isArray(value) ? value : [value];
    else kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
