/** Resident memory of running services, read from /proc, before, during and after a load (bench/footprint.ts). */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { closedLoop } from './load.js';
import { fmt } from './report.js';

/** VmRSS and its anonymous part (the process's own memory, not pages of files it maps), MiB. */
export function memoryOf(pid: number): { rss: number; anonymous: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kB('VmRSS') / 1024, anonymous: kB('RssAnon') / 1024 };
}

/** How long after a load its "after" reading is taken. */
export const AFTER_LOAD_S = 10;

/** A load's outcome, with each watched service's RSS before it, at its peak (sampled every 100 ms), and AFTER_LOAD_S after. */
export interface UnderLoad {
  window: Awaited<ReturnType<typeof closedLoop>>;
  rss: Record<string, { before: number; peak: number; after: number }>;
}

export async function underLoad(services: Record<string, { child: ChildProcess }>, run: () => ReturnType<typeof closedLoop>): Promise<UnderLoad> {
  const rssOf = (name: string) => memoryOf(services[name]!.child.pid!).rss;
  const names = Object.keys(services);
  const rss = Object.fromEntries(names.map((name) => [name, { before: rssOf(name), peak: 0, after: 0 }]));
  const sample = () => names.forEach((name) => (rss[name]!.peak = Math.max(rss[name]!.peak, rssOf(name))));
  const sampler = setInterval(sample, 100);
  try {
    const window = await run();
    sample();
    await new Promise((resolve) => setTimeout(resolve, AFTER_LOAD_S * 1_000));
    for (const name of names) rss[name]!.after = rssOf(name);
    return { window, rss };
  } finally {
    clearInterval(sampler);
  }
}

/** `gateway 84 → 120 → 95, rng …`: before → peak → after, MiB. */
export function rssLine({ rss }: UnderLoad): string {
  return Object.entries(rss)
    .map(([name, r]) => `${name} ${fmt(r.before, 0)} → ${fmt(r.peak, 0)} → ${fmt(r.after, 0)}`)
    .join(', ');
}
