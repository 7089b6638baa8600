/** Where one hash's random bytes came from: an rng instance id, or the local fallback. */
export type BytesSource = { kind: 'rng'; instanceId: string } | { kind: 'fallback' };

export interface MinedHash {
  source: BytesSource;
  /** Present when the hash is a coin: hash hex → bytes hex, as dockercoins' wallet stores it. */
  coin?: { hash: string; bytes: string };
}

/** Counts accumulated since the last successful write, written to Redis as one unit. */
export interface CountBatch {
  /** Per worker run, strictly increasing: lets the store ignore a batch it already applied. */
  seq: number;
  hashes: number;
  fallback: number;
  byRng: Record<string, number>;
  coins: Record<string, string>;
}

export type BatchWriter = (batch: CountBatch) => Promise<void>;

export interface Totals {
  hashes: number;
  coins: number;
  fallback: number;
  byRng: Record<string, number>;
}

function emptyTotals(): Totals {
  return { hashes: 0, coins: 0, fallback: 0, byRng: {} };
}

function add(totals: Totals, hash: MinedHash): void {
  totals.hashes += 1;
  if (hash.coin) totals.coins += 1;
  if (hash.source.kind === 'fallback') totals.fallback += 1;
  else totals.byRng[hash.source.instanceId] = (totals.byRng[hash.source.instanceId] ?? 0) + 1;
}

/**
 * The worker's counters, batched: dockercoins INCRBYs `hashes` about once a second rather than
 * per hash. Never loses a count:
 * - a batch is taken out of the pending counts only to be written; if the write fails, the same
 *   batch (same seq) is retried on the next flush, while new hashes keep accumulating apart;
 * - the store applies a seq at most once, so a write that succeeded but whose reply was lost is
 *   not counted twice on retry;
 * - after close(), record() refuses new hashes, so what was produced is exactly what is flushed.
 */
export class MiningCounters {
  private pending: CountBatch;
  private unwritten: CountBatch | undefined;
  private nextSeq = 1;
  private closed = false;
  private flushing: Promise<boolean> | undefined;
  private lastWriteFailed = false;
  /** Everything recorded since start, written or not. */
  readonly produced: Totals = emptyTotals();
  /** Everything confirmed written to the store. */
  readonly flushed: Totals = emptyTotals();

  constructor(private readonly write: BatchWriter) {
    this.pending = this.newBatch();
  }

  /** Counts one mined hash; false (and not counted) once the counters are closed. */
  record(hash: MinedHash): boolean {
    if (this.closed) return false;
    add(this.produced, hash);
    const batch = this.pending;
    batch.hashes += 1;
    if (hash.source.kind === 'fallback') batch.fallback += 1;
    else batch.byRng[hash.source.instanceId] = (batch.byRng[hash.source.instanceId] ?? 0) + 1;
    if (hash.coin) batch.coins[hash.coin.hash] = hash.coin.bytes;
    return true;
  }

  /** Hashes recorded but not yet confirmed written. */
  get unflushedHashes(): number {
    return this.produced.hashes - this.flushed.hashes;
  }

  /**
   * Whether the store refused the last write (until one succeeds). A flush may also answer false
   * with every write accepted, when mining recorded more while it wrote: that is no failure.
   */
  get writeFailing(): boolean {
    return this.lastWriteFailed;
  }

  /** Stops counting new hashes (before the final flush on shutdown). */
  close(): void {
    this.closed = true;
  }

  /**
   * Writes what is pending; true when nothing is left unwritten afterwards. Concurrent calls
   * share one write, so a batch is never sent twice at once.
   */
  flush(): Promise<boolean> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<boolean> {
    // A batch that failed before goes first, unchanged, so its seq stays meaningful; then what
    // is pending now. Two writes at most: hashes arriving meanwhile wait for the next flush.
    for (let round = 0; round < 2; round++) {
      if (!this.unwritten) {
        if (this.pending.hashes === 0) return true;
        this.unwritten = this.pending;
        this.pending = this.newBatch();
      }
      const batch = this.unwritten;
      try {
        await this.write(batch);
      } catch {
        this.lastWriteFailed = true;
        return false;
      }
      this.lastWriteFailed = false;
      this.unwritten = undefined;
      this.flushed.hashes += batch.hashes;
      this.flushed.fallback += batch.fallback;
      this.flushed.coins += Object.keys(batch.coins).length;
      for (const [id, count] of Object.entries(batch.byRng)) this.flushed.byRng[id] = (this.flushed.byRng[id] ?? 0) + count;
    }
    return this.pending.hashes === 0;
  }

  private newBatch(): CountBatch {
    return { seq: this.nextSeq++, hashes: 0, fallback: 0, byRng: {}, coins: {} };
  }
}
