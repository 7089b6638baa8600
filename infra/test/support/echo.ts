/**
 * Helpers shared by the infra integration tests: start the echo fixture as a real process, and
 * build in-process watchers and clients against the real Consul agent.
 */
import { hostname } from 'node:os';
import { ServiceClient, type ServiceClientOptions } from '@switchyard/infra';
import { createConsulClient, Watcher, type WatcherOptions } from '@switchyard/infra/discovery';
import { CONSUL } from '../../../test/support/consul.js';
import { launch, type Running } from '../../../test/support/isolated-stack.js';
import { uniqueName, waitFor } from '../../../test/support/wait.js';

export const ECHO_ENTRY = 'infra/test/fixtures/echo-service.ts';

/** An echo process (see infra/test/fixtures/echo-service.ts). */
export type EchoInstance = Running;

/** Starts one echo instance registered as `name` and waits until it listens. */
export function startEcho(name: string, env: Record<string, string> = {}): Promise<EchoInstance> {
  return launch(ECHO_ENTRY, { SERVICE_NAME: name, ...env });
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

/** How many calls of /whoami an instance has received, whatever it answered. */
export async function whoamiCallsReceived(instance: EchoInstance): Promise<number> {
  const response = await fetch(`${instance.url}/admin/received`);
  if (!response.ok) throw new Error(`GET /admin/received answered ${response.status}`);
  return ((await response.json()) as { whoami: number }).whoami;
}

const consul = createConsulClient({ addr: CONSUL });

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

/**
 * Starts `count` echo instances under one new name (`prefix` made unique) and an in-process
 * watcher of that name, and waits until the watcher lists exactly them: failing at once, with its
 * output, if one of them exits meanwhile.
 */
export async function watchedEchoes(prefix: string, count: number) {
  const name = uniqueName(prefix);
  const instances = await Promise.all(Array.from({ length: count }, () => startEcho(name)));
  const watcher = watch(name);
  const all = ids(instances.map((i) => ({ id: i.serviceId }))).join();
  await waitFor(`the watcher to see the ${count} instance(s) of ${name}`, () => {
    for (const instance of instances) instance.process.assertRunning();
    return ids(watcher.instances()).join() === all;
  });
  return { name, instances, watcher };
}
