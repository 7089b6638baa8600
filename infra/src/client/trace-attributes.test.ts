/**
 * What a ServiceClient attempt records in its span: the path, never the query string (it may
 * carry tokens or personal data, and traces are not a place for them).
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FixedInstancer } from '../sd/instancer.js';
import { ServiceClient } from './service-client.js';
import { answer, closeUpstreams, startUpstream } from './test-upstreams.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});
afterEach(closeUpstreams);

describe('the client span of an attempt', () => {
  it('records url.path without the query string, and the query nowhere', async () => {
    const upstream = await startUpstream(answer(200));
    const client = new ServiceClient('traced', new FixedInstancer('traced', [upstream.instance]));
    try {
      await client.get('/users/search?token=s3cr3t-value&email=someone%40example.com');
      await client.stream({ path: '/feed?session=s3cr3t-value' }).then((a) => a.body.resume());
    } finally {
      await client.close();
    }
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.attributes['url.path']).sort()).toEqual(['/feed', '/users/search']);
    const recorded = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })));
    expect(recorded).not.toContain('s3cr3t');
    expect(recorded).not.toContain('example.com');
  });
});
