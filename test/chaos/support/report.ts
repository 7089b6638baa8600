/**
 * Each chaos scenario writes what it measured as one JSON file under `.chaos/results/`;
 * scripts/chaos-report.ts (run by `make chaos`) turns the files into RELIABILITY.md. Written
 * before the scenario's assertions run, so a scenario that misses its target still reports the
 * figure it measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '../../../scripts/chaos-report.js';
import { REPO_ROOT } from '../../support/processes.js';

export const RESULTS_DIR = join(REPO_ROOT, '.chaos', 'results');

/** What a scenario writes: the report's Result, less what recordResult stamps itself. */
export type ScenarioResult = Omit<Result, 'measuredAt' | 'node'>;

export function recordResult(result: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${String(result.number).padStart(2, '0')}.json`);
  writeFileSync(file, `${JSON.stringify({ ...result, measuredAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
}
