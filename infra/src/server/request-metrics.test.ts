/**
 * The server counts requests per (method, route) into plain numbers and hands them to prom-client
 * when the instruments are read. A read must report exactly what was counted, as if every request
 * had gone through prom-client itself: counts per status, and the latency histogram's buckets,
 * count and sum, in the exposition format a scrape gets.
 */
import { describe, expect, it } from 'vitest';
import { httpServerDuration, httpServerRequests, metricsRegistry } from '../metrics.js';
import { histogramSeries } from '../metrics-test-support.js';
import { recordServerRequest } from './request-metrics.js';

let serial = 0;
const routeOf = () => `/request-metrics-test/${++serial}`;

async function statuses(method: string, route: string): Promise<Record<string, number>> {
  const { values } = await httpServerRequests.get();
  return Object.fromEntries(values.filter((v) => v.labels.route === route && v.labels.method === method).map((v) => [String(v.labels.status), v.value]));
}

function latency(method: string, route: string) {
  return histogramSeries(httpServerDuration, (labels) => labels.route === route && labels.method === method);
}

describe('the server request metrics', () => {
  it('report, once read, the requests and latencies counted since, per method and route', async () => {
    const route = routeOf();
    recordServerRequest('GET', route, 200, 0.0004);
    recordServerRequest('GET', route, 200, 0.003);
    recordServerRequest('GET', route, 503, 20);
    recordServerRequest('POST', route, 201, 0.03);

    expect(await statuses('GET', route)).toEqual({ '200': 2, '503': 1 });
    expect(await statuses('POST', route)).toEqual({ '201': 1 });
    const get = await latency('GET', route);
    expect(get.count).toBe(3);
    expect(get.sum).toBeCloseTo(20.0034, 9);
    // Cumulative, as Prometheus reads them: 20 s is past the last bound, in +Inf alone.
    expect(get.buckets).toMatchObject({ '0.001': 1, '0.0025': 1, '0.005': 2, '10': 2, '+Inf': 3 });
    expect((await latency('POST', route)).buckets).toMatchObject({ '0.025': 0, '0.05': 1, '+Inf': 1 });

    // Later requests add to what was reported; reading again without new ones changes nothing.
    recordServerRequest('GET', route, 200, 0.001);
    expect(await statuses('GET', route)).toEqual({ '200': 3, '503': 1 });
    expect(await statuses('GET', route)).toEqual({ '200': 3, '503': 1 });
    const second = await latency('GET', route);
    expect(second.count).toBe(4);
    expect(second.buckets).toMatchObject({ '0.001': 2, '0.005': 3, '+Inf': 4 });
  });

  it('reach a scrape in the exposition format, added to what went through prom-client directly', async () => {
    const route = routeOf();
    httpServerRequests.inc({ method: 'GET', route, status: '404' });
    httpServerDuration.observe({ method: 'GET', route }, 0.2);
    recordServerRequest('GET', route, 404, 0.02);
    const requests = await metricsRegistry.getSingleMetricAsString('switchyard_http_server_requests_total');
    expect(requests).toContain(`switchyard_http_server_requests_total{method="GET",route="${route}",status="404"} 2`);
    const durations = await metricsRegistry.getSingleMetricAsString('switchyard_http_server_duration_seconds');
    expect(durations).toContain(`switchyard_http_server_duration_seconds_count{method="GET",route="${route}"} 2`);
    expect(durations).toContain(`switchyard_http_server_duration_seconds_bucket{le="0.025",method="GET",route="${route}"} 1`);
  });
});
