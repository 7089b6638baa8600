/**
 * The gateway-hop bench's serial timeline: drives bench/serial-timeline-probe.mjs in a proxy's
 * process (a signal starts it, the next one makes it write its medians) around a 1-connection
 * load, and reads what it wrote.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TIMELINE_PROBE = fileURLToPath(new URL('./serial-timeline-probe.mjs', import.meta.url));

/** Medians of one window, µs; null where the proxy never took that step (no undici, say). */
export interface SerialTimeline {
  n: number;
  inUs: number | null;
  upstreamUs: number | null;
  answerUs: number | null;
  /** res.end() returned → the rest of that turn done (an immediate queued then ran). */
  afterUs: number | null;
  /** Turns the client's next request started in before that immediate ran (not in afterUs). */
  overtaken: number;
}

/** Runs `load` with the probe of process `pid` recording; its medians over that window. */
export async function timedSerially(pid: number, outPrefix: string, load: () => Promise<unknown>): Promise<SerialTimeline> {
  await signalAndWait(pid, outPrefix, true);
  await load();
  const state = await signalAndWait(pid, outPrefix, false);
  return { n: state.n ?? 0, inUs: state.inUs ?? null, upstreamUs: state.upstreamUs ?? null, answerUs: state.answerUs ?? null, afterUs: state.afterUs ?? null, overtaken: state.overtaken ?? 0 };
}

/** Signals the probe and waits until its file says it took the signal (recording or not). */
async function signalAndWait(pid: number, outPrefix: string, recording: boolean): Promise<Partial<SerialTimeline> & { seq: number }> {
  const file = `${outPrefix}.${pid}`;
  const before = readState(file)?.seq ?? 0;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const state = readState(file);
    if (state && state.seq > before && state.recording === recording) return state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`process ${pid} never answered the timeline probe's signal (is bench/serial-timeline-probe.mjs loaded?)`);
}

function readState(file: string): (Partial<SerialTimeline> & { seq: number; recording: boolean }) | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<SerialTimeline> & { seq: number; recording: boolean };
  } catch {
    // Caught mid-write: the next poll reads it whole.
    return undefined;
  }
}
