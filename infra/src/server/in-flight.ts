import type { ServerResponse } from 'node:http';

/** Where a tracked response keeps its place in the list (a symbol: no clash with node's own fields). */
const SLOT = Symbol('switchyard.inFlightSlot');

type Tracked = ServerResponse & { [SLOT]?: number };

/**
 * The responses a server is still preparing, kept in an array whose entries know their own index:
 * adding is a push, and a response that closes is replaced by the last entry (order does not
 * matter), so both are constant time and the array only ever holds live responses.
 *
 * Not a Set: a Set that every request enters and leaves rehashes its table every few dozen
 * requests, and V8 links each replaced table to its successor (for iterators that may still walk
 * it). Once one table of that chain sits in the old generation (a server's Set always does), every
 * successor, and the responses it held with all they reference, survives the scavenges through
 * that link until the next full collection. In the gateway that promoted ~10 % of all it allocated
 * (~4 KB per request): scavenges took 6x the time, full collections came every second or two, and
 * throughput was 20-35 % lower (BENCHMARKS.md, "Gateway hop"). An array has no such link.
 */
export class InFlightResponses {
  private readonly responses: Tracked[] = [];

  /** Tracks `res` until it closes. */
  add(res: ServerResponse): void {
    const tracked = res as Tracked;
    tracked[SLOT] = this.responses.length;
    this.responses.push(tracked);
    // 'on': a response closes once, and once() would wrap the listener in a bound function.
    res.on('close', () => this.remove(tracked));
  }

  get size(): number {
    return this.responses.length;
  }

  /** The responses not closed yet (a copy: the caller may act on them while they close). */
  current(): ServerResponse[] {
    return this.responses.slice();
  }

  private remove(res: Tracked): void {
    const slot = res[SLOT];
    if (slot === undefined || this.responses[slot] !== res) return;
    res[SLOT] = undefined;
    const last = this.responses.pop()!;
    if (last === res) return;
    this.responses[slot] = last;
    last[SLOT] = slot;
  }
}
