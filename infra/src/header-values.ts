/**
 * How a repeated HTTP header becomes one value, the one rule every hop applies (the client's
 * transport, the gateway's relay). Most repeated headers may be joined into one line with ', '
 * (RFC 9110 §5.3). Set-Cookie may not: a cookie's Expires date has a comma, so joined lines
 * could never be split again (RFC 6265 §3); it stays a list, which Node's `res.setHeader` sends
 * as one line per cookie.
 */
const LIST_ONLY_HEADERS = new Set(['set-cookie']);

/** `value` of header `name` (lower-case) as it should be kept: a list for Set-Cookie, else one line. */
export function headerValue(name: string, value: string | string[]): string | string[] {
  if (LIST_ONLY_HEADERS.has(name)) return Array.isArray(value) ? [...value] : [value];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Lower-cased response headers; repeated ones joined (see headerValue), Set-Cookie a list. */
export type ResponseHeaders = Record<string, string | string[]>;

/**
 * undici's response headers as ResponseHeaders. undici lower-cases the names already, so the
 * usual answer (no repeated header, no Set-Cookie) is kept as it is; the others are flattened.
 */
export function answerHeaders(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  for (const name in headers) {
    if (typeof headers[name] !== 'string' || name === 'set-cookie') return flattenHeaders(headers);
  }
  return headers as ResponseHeaders;
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  const flat: ResponseHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    flat[name] = headerValue(name, value);
  }
  return flat;
}
