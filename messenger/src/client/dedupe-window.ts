/**
 * The message ids a client saw most recently, to drop the same message arriving twice: a resume
 * replays a little of what the client had (the overlap before `since`), and a message can be
 * replayed and then heard live on the same reconnect. Bounded: past `capacity` ids the oldest
 * seen is forgotten (a duplicate is always close to its first copy: within the overlap window).
 */
export class DedupeWindow {
  private readonly ids = new Set<string>();

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** true the first time `id` is offered (and remembers it); false for a repeat within the window. */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order: its first entry is the oldest.
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}

/**
 * The larger of two message ids (decimal strings without leading zeros, possibly past 2^53): a
 * longer string is a larger number, equal lengths compare as text. undefined is smaller than any.
 */
export function laterId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.length !== b.length) return a.length > b.length ? a : b;
  return a >= b ? a : b;
}
