/**
 * Sign-in throughput, and what bounds it: the password hash. First argon2id alone with auth's
 * parameters, one hash at a time (one core), then sign-in through the gateway to one auth
 * instance at a few concurrencies. Run: npm run bench -- sign-in
 */
import { availableParallelism } from 'node:os';
import { Pool } from 'undici';
import { ARGON2_PARAMETERS, PasswordHasher } from '../auth/src/domain/passwords.js';
import { AppStack, type AppUser } from '../test/support/app-stack.js';
import { closedLoop, type LoadWindow } from './load.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HASHES = Number(process.env.BENCH_HASHES ?? 30);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 5_000);
const CONCURRENCIES = [1, 2, 4, 8];

/** Verifications per second, one after another: what one core does. */
async function verifiesPerSecond(hasher: PasswordHasher, stored: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < HASHES; i++) await hasher.verifyOrWaste(stored, 'correct horse battery staple');
  return HASHES / ((performance.now() - started) / 1000);
}

const hasher = new PasswordHasher();
const stored = await hasher.hash('correct horse battery staple');
await verifiesPerSecond(hasher, stored); // warm-up
const perCore: number[] = [];
for (let round = 0; round < ROUNDS; round++) perCore.push(await verifiesPerSecond(hasher, stored));
console.log(`argon2id verify, one at a time: ${perCore.map((v) => fmt(v)).join(', ')} per s`);

// Login throttling counts failures only; every sign-in here succeeds. Rate limits off: this
// measures the hash, not the limiter.
const app = new AppStack({ RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_USER_PER_MINUTE: '0' });
const results = new Map<number, LoadWindow[]>();
try {
  await app.start({ auth: 1 });
  const users: AppUser[] = [];
  for (let i = 0; i < 8; i++) users.push(await app.user(`Signer${i}`));
  const pool = new Pool(app.gateway.url, { connections: Math.max(...CONCURRENCIES) });
  let turn = 0;
  const signIn = async (): Promise<boolean> => {
    const user = users[turn++ % users.length]!;
    const answer = await pool.request({
      method: 'POST',
      path: '/api/v1/auth/sign-in',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    await answer.body.arrayBuffer();
    return answer.statusCode === 200;
  };
  await closedLoop(signIn, 4, 1_000); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of CONCURRENCIES) {
      const window = await closedLoop(signIn, concurrency, WINDOW_MS);
      results.set(concurrency, [...(results.get(concurrency) ?? []), window]);
      console.log(`round ${round + 1}, concurrency ${concurrency}: ${fmt(window.perSecond)} sign-ins/s, p50 ${fmt(window.p50Ms)} ms, p99 ${fmt(window.p99Ms)} ms, ${window.failures} failed`);
    }
  }
  await pool.close();
} finally {
  await app.teardown();
}

const rows = CONCURRENCIES.map((concurrency) => {
  const windows = results.get(concurrency)!;
  const rates = windows.map((w) => w.perSecond);
  const failures = windows.reduce((sum, w) => sum + w.failures, 0);
  return `| ${concurrency} | ${fmt(Math.min(...rates))} | ${fmt(median(rates))} | ${fmt(median(windows.map((w) => w.p50Ms)), 0)} | ${fmt(median(windows.map((w) => w.p99Ms)), 0)} | ${failures} |`;
});
const best = Math.max(...CONCURRENCIES.map((c) => median(results.get(c)!.map((w) => w.perSecond))));
const { memoryCost, timeCost, parallelism } = ARGON2_PARAMETERS;
writeSection(
  'sign-in',
  `## Sign-in: the password hash is the cost

Parameters: argon2id, m = ${memoryCost} KiB (${fmt(memoryCost / 1024)} MiB), t = ${timeCost}, p = ${parallelism} (OWASP's first
recommended configuration), computed on libuv's thread pool (@node-rs/argon2), so a hash never blocks
the event loop.

- **${fmt(median(perCore))} verifications/s per core** (min ${fmt(Math.min(...perCore))}; ${ROUNDS} runs of ${HASHES}, one at a time), i.e.
  about ${fmt(1000 / median(perCore), 0)} ms of one core per sign-in.
- Sign-in through the gateway to **one auth instance** (closed loop, ${ROUNDS} rounds of ${WINDOW_MS / 1000} s per concurrency):

| concurrency | min sign-ins/s | median sign-ins/s | median p50 ms | median p99 ms | failed |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

The best median, ${fmt(best)} sign-ins/s, against ${fmt(median(perCore))} hashes/s per core × ${availableParallelism()} cores
= ${fmt(median(perCore) * availableParallelism())}: the hash uses what the machine has (the gateway, MariaDB and the load generator
share the same cores), and more concurrency only adds queueing (p99 grows). Capacity planning: one
core signs in about ${fmt(median(perCore), 0)} users/s; add auth instances on other cores for more.

${machineLine()} Command: \`npm run bench -- sign-in\`.`,
);
process.exit(0);
