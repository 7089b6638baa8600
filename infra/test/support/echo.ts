/**
 * Helpers shared by the infra integration tests: start the echo fixture as a real process, and
 * build in-process watchers and clients against the real Consul agent.
 */
import { hostname } from 'node:os';
import { createConsulClient, ServiceClient, Watcher, type ServiceClientOptions, type WatcherOptions } from '@switchyard/infra';
import { startProcess, type ServiceProcess } from '../../../test/support/processes.js';
import { CONSUL } from '../../../test/support/consul.js';

export const ECHO_ENTRY = 'infra/test/fixtures/echo-service.ts';

export interface EchoInstance {
  process: ServiceProcess;
  serviceId: string;
  port: number;
  url: string;
}

/** Starts one echo instance registered as `name` and waits until it listens. */
export async function startEcho(name: string, env: Record<string, string> = {}): Promise<EchoInstance> {
  const child = startProcess(ECHO_ENTRY, { SERVICE_NAME: name, ...env });
  const { serviceId, port } = await child.listening();
  return { process: child, serviceId, port, url: `http://127.0.0.1:${port}` };
}

/** The Consul id runService derives: `<name>-<host>-<port>`. */
export function expectedServiceId(name: string, port: number): string {
  return `${name}-${hostname().replace(/[^A-Za-z0-9.-]/g, '-')}-${port}`;
}

/** POSTs a JSON knob to an instance directly (not through discovery). */
export async function setKnob(instance: EchoInstance, knob: 'failing' | 'ready', value: boolean): Promise<void> {
  const response = await fetch(`${instance.url}/admin/${knob}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ [knob]: value }),
  });
  if (!response.ok) throw new Error(`POST /admin/${knob} answered ${response.status}`);
}

const consul = createConsulClient(CONSUL);

/** Everything built by `watch`/`clientFor`, so afterEach can stop it. */
const opened: Array<{ close(): Promise<void> }> = [];

export function watch(service: string, options: Partial<Omit<WatcherOptions, 'consul' | 'service'>> = {}): Watcher {
  const watcher = new Watcher({ consul, service, ...options }).start();
  opened.push({ close: () => watcher.stop() });
  return watcher;
}

export function clientFor(watcher: Watcher, options: ServiceClientOptions = {}): ServiceClient {
  const client = new ServiceClient(watcher.service, watcher, options);
  opened.push({ close: () => client.close() });
  return client;
}

export async function closeInProcess(): Promise<void> {
  const all = opened.splice(0);
  await Promise.allSettled(all.reverse().map((o) => o.close()));
}

export function ids(list: readonly { id: string }[]): string[] {
  return list.map((i) => i.id).sort();
}
