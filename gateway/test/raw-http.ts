/**
 * One HTTP/1.1 exchange over a bare TCP socket, for what fetch cannot show: a request whose body
 * trickles in (or never comes) while the answer is awaited, interim 1xx answers, and whether the
 * server closes the connection after its answer.
 */
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Interim (1xx) statuses received before the final answer, e.g. [100] for 100 Continue. */
  interim: number[];
  status: number;
  /** Lower-cased header names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
  /** From sending the request head until the final answer had fully arrived. */
  elapsedMs: number;
  /** Body bytes the client had written when the final answer was complete. */
  bodyBytesSent: number;
  /** Whether the server has closed (or reset) the connection; the client never closes it first. */
  isClosed: () => boolean;
  /** Closes the connection from the client side (when the server kept it open). */
  destroy: () => void;
}

export interface RawRequest {
  /** The request line and header lines, without the blank line that ends them. */
  head: string[];
  /** Written at once after the head (e.g. the first megabyte of a chunked body). */
  initial?: Buffer;
  /** Then written every `everyMs` until the answer is complete (a slow upload). */
  trickle?: { chunk: Buffer; everyMs: number };
  /** Fails the exchange when no complete answer came within this long (default 10 s). */
  timeoutMs?: number;
}

export function rawExchange(port: number, request: RawRequest): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let closed = false;
    socket.once('end', () => (closed = true));
    socket.once('close', () => (closed = true));
    const interim: number[] = [];
    let received = Buffer.alloc(0);
    let bodyBytesSent = 0;
    let answered = false;
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${request.timeoutMs ?? 10_000} ms (${received.length} bytes received)`));
    }, request.timeoutMs ?? 10_000);

    const send = (bytes: Buffer) => {
      if (answered || socket.destroyed) return;
      bodyBytesSent += bytes.length;
      socket.write(bytes);
    };
    const finish = (answer: Pick<RawExchange, 'status' | 'headers' | 'body'>) => {
      answered = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      const destroy = () => socket.destroy();
      const isClosed = () => closed;
      resolve({ ...answer, interim, elapsedMs: performance.now() - started, bodyBytesSent, isClosed, destroy });
    };

    socket.once('connect', () => {
      started = performance.now();
      socket.write(`${request.head.join('\r\n')}\r\n\r\n`);
      if (request.initial) send(request.initial);
      const trickle = request.trickle;
      if (trickle) timer = setInterval(() => send(trickle.chunk), trickle.everyMs);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const end = received.indexOf('\r\n\r\n');
        if (end === -1 || answered) return;
        const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(statusLine.split(' ')[1]);
        const headers = Object.fromEntries(
          lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
        );
        if (status >= 100 && status < 200) {
          interim.push(status);
          received = received.subarray(end + 4);
          continue;
        }
        // No body follows an answer to HEAD, nor a 204 or 304, whatever Content-Length says.
        const bodyless = request.head[0]?.startsWith('HEAD ') || status === 204 || status === 304;
        const length = bodyless ? 0 : Number(headers['content-length'] ?? 0);
        if (received.length < end + 4 + length) return;
        finish({ status, headers, body: received.subarray(end + 4, end + 4 + length) });
        return;
      }
    });
    // The server may reset the connection while we still send; only an error before the answer counts.
    socket.on('error', (error) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      if (!answered) reject(error);
    });
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      if (!answered) reject(new Error(`connection closed before a complete answer (${received.length} bytes received)`));
    });
  });
}
