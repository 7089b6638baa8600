/**
 * One connection, one request at a time, and every request's own latency: what wrk's 1-connection
 * histogram cannot give. wrk corrects its histogram for coordinated omission (after a run it adds,
 * for every latency longer than the run's mean interval, the latencies the requests it did not send
 * meanwhile would have seen), so its 99th percentile at 1 connection is reached as soon as the
 * loop spent ~1 % of the run stalled: it measures the stalls of the whole loop (client, proxy,
 * backend, and this machine's scheduler), not the tail of the requests. Here nothing is added:
 * the percentiles are of the requests themselves, and the share of the run spent in requests
 * slower than 1 ms is reported beside them (the stall share wrk's p99 follows).
 *
 * Bare `node:net` and a parser of just what the bench's hop answers (a status line, headers with a
 * Content-Length, a small body), so the client's own work per request stays a few µs. An answer
 * with `connection: close` makes it reconnect for the next request, as wrk does.
 *
 * Usage: node --import tsx bench/serial-latency.ts <url> <seconds> [name: value ...]; prints JSON.
 */
import { connect } from 'node:net';

export interface SerialLatency {
  requests: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Share of the run's time spent in requests slower than 1 ms (what wrk's corrected p99 follows). */
  slowShare: number;
  /** Answers whose status was not 2xx. */
  non2xx: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export function measureSerially(url: string, seconds: number, headers: Record<string, string>): Promise<SerialLatency> {
  const target = new URL(url);
  const request = Buffer.from(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
      '\r\n',
  );
  // Room for one request every 10 µs (faster than loopback allows): the run never allocates per request.
  const latencies = new Float64Array(Math.ceil(seconds * 100_000) + 1);
  return new Promise((resolve, reject) => {
    let count = 0;
    let non2xx = 0;
    let sentAt = 0;
    const until = performance.now() + seconds * 1000;
    // An answer with `connection: close` (a proxy that opens a new upstream connection per request
    // passes its upstream's on) ends its connection: the next request goes on a new one, as wrk
    // does. Latency runs from the request's write, as wrk's does, so the connect is not in it.
    const open = () => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      let closing = false;
      const send = () => {
        sentAt = performance.now();
        socket.write(request);
      };
      socket.once('connect', send);
      socket.on('error', (error) => {
        if (!closing) reject(error);
      });
      // Settled already when the run ended; otherwise the server hung up mid-run.
      socket.once('close', () => {
        if (!closing) reject(new Error(`${url} closed the connection after ${count} answers`));
      });
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const headEnd = pending.indexOf(HEAD_END);
        if (headEnd < 0) return;
        const head = pending.toString('latin1', 0, headEnd);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) {
          socket.destroy();
          return reject(new Error(`an answer without Content-Length: ${head}`));
        }
        const total = headEnd + HEAD_END.length + Number(length[1]);
        if (pending.length < total) return;
        const now = performance.now();
        if (count < latencies.length) latencies[count++] = now - sentAt;
        if (head.charCodeAt(9) !== 0x32) non2xx += 1;
        pending = pending.subarray(total);
        const last = now >= until;
        if (!last && !/\r\nconnection:\s*close/i.test(head)) return send();
        closing = true;
        socket.destroy();
        if (last) resolve(summarise(latencies.subarray(0, count), non2xx));
        else open();
      });
    };
    open();
  });
}

function summarise(values: Float64Array, non2xx: number): SerialLatency {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000;
  let total = 0;
  let slow = 0;
  for (const value of values) {
    total += value;
    if (value > 1) slow += value;
  }
  return { requests: values.length, p50Us: at(0.5), p99Us: at(0.99), p999Us: at(0.999), maxUs: at(1), slowShare: total ? slow / total : 0, non2xx };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [url, seconds, ...headerArgs] = process.argv.slice(2);
  if (!url || !seconds) throw new Error('usage: serial-latency.ts <url> <seconds> [name: value ...]');
  const headers = Object.fromEntries(headerArgs.map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
  process.stdout.write(JSON.stringify(await measureSerially(url, Number(seconds), headers)) + '\n');
}
