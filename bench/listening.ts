import type { ChildProcess } from 'node:child_process';

/**
 * The port a bench's child process listens on, from its output: `LISTENING <port>` (the benches'
 * own roles) or infra's JSON "listening" line (a service). From then on its output (a gateway's
 * access log) is read and dropped, as a terminal would take it. Rejects if it exits first, with
 * the end of what it printed and `why()` (e.g. its stderr).
 */
export function listeningPort(child: ChildProcess, name: string, why: () => string = () => ''): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        const own = /^LISTENING (\d+)/.exec(line);
        const infra = line.includes('"serviceId"') && line.includes('listening') ? (JSON.parse(line) as { port: number }) : undefined;
        if (own || infra) {
          child.stdout!.off('data', onData).on('data', () => {});
          return resolve(own ? Number(own[1]) : infra!.port);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening: ${buffered.slice(-2000)} ${why()}`.trimEnd())));
  });
}
