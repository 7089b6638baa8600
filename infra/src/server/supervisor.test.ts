import { spawn } from 'node:child_process';
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
});
