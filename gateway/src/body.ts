import type { IncomingMessage as Request, ServerResponse as Response } from 'node:http';
import getRawBody from 'raw-body';

/**
 * After a refused chunked body, how much more of it the gateway reads before answering anyway.
 * Reading the rest lets a client that is still sending see our 413 instead of a connection reset;
 * bounding it keeps a huge or endless upload from holding the answer (and the socket) hostage.
 */
export const DRAIN_BUDGET = { bytes: 1024 * 1024, ms: 1_000 };

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
 *
 * A Content-Length above the limit is refused before a byte of the body is read; a chunked body
 * that grows past it is drained within DRAIN_BUDGET. Whenever part of the body stays unread, the
 * answer carries `Connection: close`: the socket cannot serve another request before that body
 * ends, so it closes right after the answer instead.
 */
export async function rawRequestBody(req: Request, res: Response, limit: string): Promise<Buffer | undefined> {
  if (!hasBody(req)) return undefined;
  try {
    const body = await getRawBody(req, { length: req.headers['content-length'], limit });
    return body.length > 0 ? body : undefined;
  } catch (error) {
    if (!(await settleUnreadBody(req, error))) res.setHeader('connection', 'close');
    throw error;
  }
}

/** Whether the request carries a body at all (RFC 9112 §6.3: a length or a transfer coding). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

/**
 * After a failed read: reads off what is left of the body within DRAIN_BUDGET, so the client gets
 * the error answer rather than a reset while it is still sending. True when nothing is left unread.
 */
async function settleUnreadBody(req: Request, error: unknown): Promise<boolean> {
  if (req.complete) return true;
  // Its declared length already says no: waiting for (say) 50 MB to arrive only to refuse it
  // would make the client upload it all for nothing.
  if (isDeclaredTooLarge(error)) return false;
  if (req.destroyed) return false; // the client hung up: nothing to drain, nobody to answer
  return drainWithin(req, DRAIN_BUDGET);
}

/** raw-body's 413 for a Content-Length above the limit: raised before reading, with the length. */
function isDeclaredTooLarge(error: unknown): boolean {
  const { type, length } = (error ?? {}) as { type?: string; length?: unknown };
  return type === 'entity.too.large' && typeof length === 'number';
}

/** Discards the rest of `req` until it ends (true), or it fails or the budget runs out (false). */
function drainWithin(req: Request, budget: { bytes: number; ms: number }): Promise<boolean> {
  return new Promise((resolve) => {
    let drained = 0;
    const timer = setTimeout(() => settle(false), budget.ms);
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > budget.bytes) settle(false);
    };
    const onEnd = () => settle(true);
    const onFail = () => settle(false);
    function settle(ended: boolean) {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      if (!ended) req.pause();
      resolve(ended);
    }
    req.on('data', onData).on('end', onEnd).on('error', onFail).on('close', onFail);
    req.resume();
  });
}
