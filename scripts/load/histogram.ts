/**
 * A latency histogram in constant memory: log-spaced buckets 1 % wide from 1 µs to ~1 hour, so a
 * long run at a high rate keeps ~2 300 counters instead of millions of samples, and every
 * percentile it reports is within 1 % of the exact one. Values are milliseconds.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 µs: anything faster lands in bucket 0. */
const MIN_MS = 0.001;
const BUCKETS = Math.ceil(Math.log(3_600_000 / MIN_MS) / LOG_GROWTH) + 1;

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;
  private sum = 0;

  record(ms: number): void {
    const value = Math.max(0, ms);
    this.counts[bucketOf(value)]! += 1;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
  }

  /** Adds another histogram's counts (per-interval histograms folded into the run's). */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }

  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /**
   * The value at or below which `p` % of the recorded values lie (nearest rank), as the upper
   * edge of its bucket, clamped to the exact min and max so p0 and p100 are never invented.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperEdge(i)));
    }
    return this.max;
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

function upperEdge(bucket: number): number {
  return MIN_MS * GROWTH ** bucket;
}
