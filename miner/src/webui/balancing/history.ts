import type { ServicePanel } from './panels.js';

/** One point of the page's charts: requests/s per instance of each service at `at` (ms). */
export interface RatePoint {
  at: number;
  rates: Record<string, Record<string, number>>;
}

/** The last `length` points (one a poll: ~5 min at 1 s), so a page that opens has a chart at once. */
export class RateHistory {
  private readonly points: RatePoint[] = [];

  constructor(private readonly length = 300) {}

  add(at: number, panels: readonly ServicePanel[]): void {
    const rates: RatePoint['rates'] = {};
    for (const panel of panels) {
      rates[panel.service] = Object.fromEntries(panel.instances.map((i) => [i.id, round(i.requestsPerSecond)]));
    }
    this.points.push({ at, rates });
    if (this.points.length > this.length) this.points.shift();
  }

  list(): RatePoint[] {
    return [...this.points];
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
