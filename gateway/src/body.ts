import { finished } from 'node:stream/promises';
import type { Request } from '@switchyard/infra';
import getRawBody from 'raw-body';

/**
 * The request body exactly as the client sent it, for forwarding: no JSON parsing (a re-encoded
 * body would differ, e.g. a big integer id would lose digits), no charset decoding, and no
 * decompression (Content-Encoding crosses the gateway with the compressed bytes; the upstream
 * decodes). undefined when the request has no body.
 *
 * Over `limit` → 413 payload_too_large; a body shorter than its Content-Length or a client that
 * hangs up mid-upload → 400. Both are thrown as body-parser-style errors, which infra's error
 * handler turns into JSON. (express.raw cannot do this: with `inflate: false` it refuses any
 * compressed body with 415.)
 */
export async function rawRequestBody(req: Request, limit: string): Promise<Buffer | undefined> {
  if (!hasBody(req)) return undefined;
  try {
    const body = await getRawBody(req, { length: req.headers['content-length'], limit });
    return body.length > 0 ? body : undefined;
  } catch (error) {
    // Read off the rest of the upload before answering, so the client gets our 413 instead of a
    // connection reset while it is still sending.
    req.resume();
    await finished(req).catch(() => {});
    throw error;
  }
}

/** Whether the request carries a body at all (RFC 9112 §6.3: a length or a transfer coding). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}
