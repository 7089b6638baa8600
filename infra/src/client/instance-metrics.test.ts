/**
 * A ServiceClient counts each instance's outcomes and latencies into plain numbers bound to the
 * instance (UpstreamInstanceMetrics) and hands them to prom-client only when the instruments are
 * read. What a read reports must be exactly what was counted, as if each call had gone through
 * prom-client itself: per-outcome counts, and the latency histogram's buckets, count and sum.
 */
import { describe, expect, it } from 'vitest';
import { UpstreamInstanceMetrics, metricsRegistry, upstreamDuration, upstreamRequests } from '../metrics.js';
import { histogramSeries } from '../metrics-test-support.js';

let serial = 0;
const labelsOf = () => ({ service: 'metrics-test', instance: `metrics-test-127.0.0.1-${++serial}` });

async function outcomes(instance: string): Promise<Record<string, number>> {
  const { values } = await upstreamRequests.get();
  return Object.fromEntries(values.filter((v) => v.labels.instance === instance).map((v) => [String(v.labels.outcome), v.value]));
}

function latency(instance: string) {
  return histogramSeries(upstreamDuration, (labels) => labels.instance === instance);
}

describe('the per-instance upstream metrics', () => {
  it('report, once read, the outcomes and latencies counted since', async () => {
    const { service, instance } = labelsOf();
    const metrics = new UpstreamInstanceMetrics(service, instance);
    for (const outcome of ['ok', 'ok', 'ok', 'timeout'] as const) metrics.count(outcome);
    for (const seconds of [0.0004, 0.003, 20]) metrics.observe(seconds);

    expect(await outcomes(instance)).toEqual({ ok: 3, timeout: 1 });
    const first = await latency(instance);
    expect(first.count).toBe(3);
    expect(first.sum).toBeCloseTo(20.0034, 9);
    // Cumulative, as Prometheus reads them: 20 s is past the last bound, in +Inf alone.
    expect(first.buckets).toMatchObject({ '0.001': 1, '0.0025': 1, '0.005': 2, '10': 2, '+Inf': 3 });

    // Later counts add to what was reported; reading again without new counts changes nothing.
    metrics.count('ok');
    metrics.observe(0.001);
    expect(await outcomes(instance)).toEqual({ ok: 4, timeout: 1 });
    expect(await outcomes(instance)).toEqual({ ok: 4, timeout: 1 });
    const second = await latency(instance);
    expect(second.count).toBe(4);
    expect(second.buckets).toMatchObject({ '0.001': 2, '0.005': 3, '+Inf': 4 });
  });

  it('add to what was observed through prom-client directly, and two clients of one instance add up', async () => {
    const labels = labelsOf();
    upstreamDuration.observe(labels, 0.2);
    const one = new UpstreamInstanceMetrics(labels.service, labels.instance);
    const other = new UpstreamInstanceMetrics(labels.service, labels.instance);
    one.observe(0.02);
    other.observe(0.002);
    one.count('server_error');
    other.count('server_error');
    const read = await latency(labels.instance);
    expect(read.count).toBe(3);
    expect(read.sum).toBeCloseTo(0.222, 9);
    expect(read.buckets).toMatchObject({ '0.0025': 1, '0.025': 2, '0.25': 3 });
    expect(await outcomes(labels.instance)).toEqual({ server_error: 2 });
    const text = await metricsRegistry.getSingleMetricAsString('switchyard_upstream_duration_seconds');
    expect(text).toContain(`switchyard_upstream_duration_seconds_count{service="metrics-test",instance="${labels.instance}"} 3`);
  });

  it('drop the series of an instance that left, and record nothing it still counts', async () => {
    const { service, instance } = labelsOf();
    const metrics = new UpstreamInstanceMetrics(service, instance);
    metrics.count('ok');
    metrics.observe(0.01);
    expect(await outcomes(instance)).toEqual({ ok: 1 });
    metrics.count('ok');
    metrics.retire();
    metrics.count('ok');
    metrics.observe(0.01);
    expect(await outcomes(instance)).toEqual({});
    expect((await latency(instance)).count).toBeUndefined();
  });

  it('keep the series while another holder of it is alive (a second client, or the instance back in the list)', async () => {
    const { service, instance } = labelsOf();
    const departed = new UpstreamInstanceMetrics(service, instance);
    const returned = new UpstreamInstanceMetrics(service, instance);
    departed.count('server_error');
    departed.retire();
    returned.count('ok');
    expect(await outcomes(instance)).toEqual({ server_error: 1, ok: 1 });
    returned.retire();
    expect(await outcomes(instance)).toEqual({});
  });
});
