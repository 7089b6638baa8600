/**
 * npm run load -- --route /api/v1/rng/8 --rps 200 --duration 30s
 *
 * Loads one URL (usually a gateway route), shows a live line of req/s and errors on a terminal,
 * then a table: requests, req/s, latency percentiles, errors by status and by reason, and the
 * share of answers per x-served-by instance (the balancing, made visible). --json for machines.
 */
import { readFileSync } from 'node:fs';
import { parseLoadArgs, USAGE, UsageError, type LoadArgs } from './args.js';
import { runLoad } from './driver.js';
import { accessToken } from './sign-in.js';
import { formatTable, summarize, Tally } from './summary.js';

let args: LoadArgs;
try {
  args = parseLoadArgs(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  if (error.message) console.error(`load: ${error.message}`);
  console.error(USAGE);
  process.exit(error.message ? 2 : 0);
}

if (args.signIn) {
  try {
    // The token goes into the request headers only: never printed.
    args.headers.authorization = `Bearer ${await accessToken(args.gateway, args.signIn)}`;
  } catch (error) {
    console.error(`load: ${(error as Error).message}`);
    process.exit(1);
  }
}

const tally = new Tally();
const target = `${args.origin}${args.path}`;
const live = !args.json && process.stderr.isTTY;
if (!args.json) {
  const shape = args.rps ? `${args.rps} req/s offered (open loop)` : `closed loop`;
  console.error(`load: ${args.method} ${target}, ${shape}, ${args.connections} connections, ${args.durationMs / 1000} s`);
}
const progress = live ? startProgress(tally, args.durationMs) : undefined;
const run = await runLoad({ ...args, maxInFlight: Math.max(10_000, args.connections * 100) }, tally);
progress?.stop();

const summary = summarize(tally, { target, method: args.method, rps: args.rps ?? null, connections: args.connections, elapsedMs: run.elapsedMs, notSent: run.notSent });
if (args.json) console.log(JSON.stringify(summary, null, 2));
else console.log(formatTable(summary));
process.exit(0);

/** Once a second: elapsed, a bar, req/s over the last second, errors so far (one rewritten line). */
function startProgress(tally: Tally, durationMs: number) {
  const start = performance.now();
  let last = { at: start, requests: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    const rate = ((tally.requests - last.requests) * 1000) / (now - last.at);
    last = { at: now, requests: tally.requests };
    const done = Math.min(1, (now - start) / durationMs);
    const bar = '█'.repeat(Math.round(done * 24)).padEnd(24, '░');
    process.stderr.write(`\r${bar} ${((now - start) / 1000).toFixed(0).padStart(4)} s  ${rate.toFixed(0).padStart(7)} req/s  ${tally.errors} errors   `);
  }, 1_000);
  return {
    stop() {
      clearInterval(timer);
      process.stderr.write('\r\x1b[2K');
    },
  };
}
