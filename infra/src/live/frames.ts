/**
 * What a client may send on a live socket, and what each frame leads to. Pure, unit-tested; the
 * socket code only carries the verdict out. Oversized frames never get here: ws refuses them
 * (close 1009) before they are buffered whole.
 */

/** Close codes of the live sockets (RFC 6455 §7.4.1), and the reasons sent with them. */
export const CLOSE = {
  normal: 1000,
  /** Binary frames: the protocol is JSON text. */
  unsupportedData: 1003,
  /** A text frame that is not JSON. */
  invalidPayload: 1007,
  /** Policy: a slow consumer, a refused subscription. */
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
  /** The instance is going away; reconnect (to another one) and resume. */
  serviceRestart: 1012,
} as const;

/** Inbound frames larger than this are refused by ws with 1009. */
export const MAX_INBOUND_FRAME_BYTES = 16 * 1024;

/** A client event: a JSON object with a string `type`. */
export interface ClientEvent {
  type: string;
  [key: string]: unknown;
}

export type FrameVerdict =
  /** Answer `{type:"pong"}`: keepalive for browsers, which cannot send WebSocket pings. */
  | { action: 'pong' }
  /** Hand it to the service's onMessage. */
  | { action: 'deliver'; event: ClientEvent }
  /** Answer an error event; the socket stays open. */
  | { action: 'error'; code: 'unknown_event'; message: string }
  /** Close the socket with this code and reason. */
  | { action: 'close'; code: number; reason: string };

/**
 * The verdict on one inbound frame. `knownTypes` are the service's own event types (`ping` is
 * always known); without an onMessage the service knows none.
 */
export function classifyFrame(data: Buffer, isBinary: boolean, knownTypes: ReadonlySet<string> | 'any'): FrameVerdict {
  if (isBinary) return { action: 'close', code: CLOSE.unsupportedData, reason: 'binary_not_supported' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return { action: 'close', code: CLOSE.invalidPayload, reason: 'invalid_json' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
    return { action: 'error', code: 'unknown_event', message: 'an event is a JSON object with a string "type"' };
  }
  const event = parsed as ClientEvent;
  if (event.type === 'ping') return { action: 'pong' };
  if (knownTypes === 'any' || knownTypes.has(event.type)) return { action: 'deliver', event };
  return { action: 'error', code: 'unknown_event', message: `unknown event type '${event.type.slice(0, 64)}'` };
}

/** A close reason fits in 123 bytes (RFC 6455 §5.5: a control frame's payload is ≤ 125). */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= 123) return reason;
  // Cut on a character boundary: an invalid UTF-8 reason is itself a protocol error.
  let cut = bytes.subarray(0, 123).toString('utf8');
  while (Buffer.byteLength(cut) > 123 || cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}
