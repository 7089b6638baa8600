/**
 * Reading traces back from the real Jaeger (its query API on :16686), for the tests that prove
 * what the services export over OTLP (:4318).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes.js';

export const JAEGER = 'http://127.0.0.1:16686';
export const OTLP = 'http://127.0.0.1:4318';
const JAEGER_BIN = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'switchyard', 'bin', 'jaeger');

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

async function jaegerUp(): Promise<boolean> {
  try {
    return (await fetch(`${JAEGER}/api/services`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Whether Jaeger answers, starting it (scripts/infra.sh) when its binary is built but it is not
 * running. False only while Jaeger is still being built on a fresh machine.
 */
export async function ensureJaeger(): Promise<boolean> {
  if (!(await jaegerUp()) && existsSync(JAEGER_BIN)) {
    await promisify(execFile)('bash', ['scripts/infra.sh', 'start', 'jaeger'], { cwd: REPO_ROOT });
  }
  return jaegerUp();
}

export async function tracesOf(service: string): Promise<JaegerTrace[]> {
  const response = await fetch(`${JAEGER}/api/traces?service=${encodeURIComponent(service)}&limit=50&lookback=1h`);
  if (!response.ok) return [];
  return ((await response.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

export async function traceById(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${JAEGER}/api/traces/${traceId}`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { data: JaegerTrace[] | null }).data?.[0];
}

export const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
export const serviceOf = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]?.serviceName;
