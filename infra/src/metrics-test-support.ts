/** Tests' reading of a latency histogram: one series' count, sum and cumulative buckets, as a scrape reports them. */
import type { Histogram } from 'prom-client';

export async function histogramSeries(histogram: Histogram<string>, matches: (labels: Record<string, unknown>) => boolean) {
  const { values } = await histogram.get();
  const mine = values.filter((v) => matches(v.labels));
  const named = (suffix: string) => mine.filter((v) => (v as { metricName?: string }).metricName?.endsWith(suffix));
  return {
    count: named('_count')[0]?.value,
    sum: named('_sum')[0]?.value,
    buckets: Object.fromEntries(named('_bucket').map((v) => [String((v.labels as Record<string, unknown>).le), v.value])),
  };
}
