/**
 * What travels on a live channel: `{event, trace?}` as JSON, `trace` being the publisher's trace
 * context (traceparent, tracestate, and whatever else the propagators write) so the receiver's
 * delivery span joins the publisher's trace. Pure functions, unit-tested.
 */

/** A live event: any JSON object; the apps' events carry a `type`. */
export type LiveEvent = Record<string, unknown>;

export interface Envelope {
  event: LiveEvent;
  trace?: Record<string, string>;
}

/** Channel of `topic`: `live:<namespace>:<topic>`, or `live:<topic>` without a namespace. */
export function channelFor(namespace: string, topic: string): string {
  return namespace ? `live:${namespace}:${topic}` : `live:${topic}`;
}

/** The part of a topic before its first `:` (`user:42` → `user`): span names and metric labels never hold ids. */
export function topicKind(topic: string): string {
  const at = topic.indexOf(':');
  const kind = at === -1 ? topic : topic.slice(0, at);
  return /^[A-Za-z0-9_-]{1,32}$/.test(kind) ? kind : 'other';
}

export function encodeEnvelope(event: object, trace: Record<string, string>): string {
  return JSON.stringify(Object.keys(trace).length > 0 ? { event, trace } : { event });
}

/** The envelope of a channel message, or undefined when it is not one (never throws). */
export function decodeEnvelope(message: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.event)) return undefined;
  const trace = isObject(parsed.trace) ? stringEntries(parsed.trace) : undefined;
  return trace ? { event: parsed.event, trace } : { event: parsed.event };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only string values reach the propagators: a carrier is headers. */
function stringEntries(value: Record<string, unknown>): Record<string, string> | undefined {
  const entries = Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
