/**
 * MariaDB outage (runs last, after every other file: it stops the shared MariaDB for a while).
 * A service using ctx.mysql() answers 503 `dependency_unavailable` JSON within 2 s while the
 * database is down, and 200 again once it is back, without being restarted. MariaDB is stopped
 * the way scripts/infra.sh stops what it runs (SIGTERM to mariadbd, wait for the exit) and
 * started again with `scripts/infra.sh start mariadb`; afterAll restarts it whatever happened.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { componentUp, startComponent, stopComponent } from '../../test/support/infra-control.js';
import { launch } from '../../test/support/isolated-stack.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';

const MYSQL_URL = 'mysql://root@127.0.0.1:3306/mysql';

const mariadbUp = () => componentUp('mariadb');
const startMariadb = () => startComponent('mariadb');
const stopMariadb = () => stopComponent('mariadb');

async function timedGet(url: string): Promise<{ status: number; body: unknown; ms: number }> {
  const started = Date.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await response.json();
  return { status: response.status, body, ms: Date.now() - started };
}

afterEach(async () => {
  await stopAllProcesses();
});
afterAll(async () => {
  if (!(await mariadbUp())) await startMariadb();
}, 180_000);

describe('mariadb outage (stops and restarts the shared MariaDB)', () => {
  it('answers 503 dependency_unavailable within 2 s while MariaDB is down, and 200 again once it is back', async () => {
    if (!(await mariadbUp())) await startMariadb();
    const service = await launch('infra/test/fixtures/mysql-service.ts', { SERVICE_NAME: uniqueName('mysql-outage'), MYSQL_URL });
    const db = `${service.url}/db`;
    const before = await timedGet(db);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ one: 1 });

    await stopMariadb();
    // One at a time, then a burst larger than the pool (10 connections): none waits in a queue.
    const sequential = [];
    for (let i = 0; i < 3; i++) sequential.push(await timedGet(db));
    const burst = await Promise.all(Array.from({ length: 30 }, () => timedGet(db)));
    for (const answer of [...sequential, ...burst]) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: { code: 'dependency_unavailable', message: 'mysql unavailable' } });
      expect(answer.ms).toBeLessThan(2_000);
    }

    await startMariadb();
    const recovered = await waitFor(
      'the service to answer from MariaDB again',
      async () => {
        service.process.assertRunning();
        const answer = await timedGet(db);
        return answer.status === 200 && answer;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(recovered.body).toMatchObject({ one: 1 });
    // The same process throughout: recovery needed no restart.
    expect(service.process.child.exitCode).toBeNull();
  }, 180_000);
});
