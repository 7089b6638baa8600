/**
 * Each chaos scenario writes what it measured as one JSON file under `.chaos/results/`;
 * scripts/chaos-report.ts (run by `make chaos`) turns the files into RELIABILITY.md. Written
 * before the scenario's assertions run, so a scenario that misses its target still reports the
 * figure it measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/processes.js';

export const RESULTS_DIR = join(REPO_ROOT, '.chaos', 'results');

export interface ScenarioResult {
  /** Its number in the list, for the table's order. */
  number: number;
  scenario: string;
  target: string;
  /** Requests that failed under the load while the fault lasted and after it. */
  failed?: number;
  requests?: number;
  lost?: number;
  duplicated?: number;
  /** Fault → last failure, or fault → the recovery the scenario names (see `notes`). */
  recoveryMs?: number;
  /** Whatever else the scenario measured, as `name: value` pairs for the table. */
  measured?: Record<string, string | number>;
  met: boolean;
  notes?: string;
}

export function recordResult(result: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${String(result.number).padStart(2, '0')}.json`);
  writeFileSync(file, `${JSON.stringify({ ...result, measuredAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
}
