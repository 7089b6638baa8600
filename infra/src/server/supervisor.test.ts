import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processExists, supervisorPid, watchSupervisor } from './supervisor.js';

describe('supervisorPid', () => {
  it('is undefined when unset or empty', () => {
    expect(supervisorPid(undefined)).toBeUndefined();
    expect(supervisorPid(' ')).toBeUndefined();
  });

  it('accepts a process id', () => {
    expect(supervisorPid('4242')).toBe(4242);
  });

  it.each(['1', '0', '-5', 'abc', '12.5'])('refuses %j with a clear message', (value) => {
    expect(() => supervisorPid(value)).toThrow(/SUPERVISOR_PID must be the process id/);
  });
});

describe('watchSupervisor', () => {
  it('calls back once after the watched process has ended, not before', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid!;
    expect(processExists(pid)).toBe(true);
    let calls = 0;
    let gone!: () => void;
    const heard = new Promise<void>((resolve) => (gone = resolve));
    const stop = watchSupervisor(pid, () => {
      calls += 1;
      gone();
    }, 20);
    try {
      // Alive for several polls: no call.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(calls).toBe(0);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await heard;
      expect(processExists(pid)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(calls).toBe(1);
    } finally {
      stop();
    }
  });

  it('calls back when this process is re-parented (its parent died), the supervisor still alive', () => {
    const module = fileURLToPath(new URL('./supervisor.ts', import.meta.url));
    // The watcher runs in a grandchild whose parent shell exits at once; the supervisor (this
    // test's process) stays alive. Its stdout is our pipe, still open after the shell is gone.
    const ready = join(mkdtempSync(join(tmpdir(), 'supervisor-test-')), 'watching');
    const child = `import(${JSON.stringify(module)}).then(({ watchSupervisor }) => {
      const parent = process.ppid;
      watchSupervisor(${process.pid}, (reason) => { console.log(parent + ' ' + reason); process.exit(0); }, 20);
      require('node:fs').writeFileSync(${JSON.stringify(ready)}, '');
      setTimeout(() => { console.log('not called'); process.exit(1); }, 10000);
    })`;
    // The shell exits once the grandchild watches (not before: it would start re-parented).
    const script = `"$0" --import tsx -e "$1" & until [ -e "$2" ]; do sleep 0.02; done; exit 0`;
    const result = spawnSync('bash', ['-c', script, process.execPath, child, ready], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const [parent, ...reason] = result.stdout.trim().split(' ');
    expect(reason.join(' ')).toBe(`its parent (pid ${parent}) is gone`);
  });
});
